"""SIS imports in real Airflow: every outcome in every wait mode, the operator, the branch, the abort.

The DAGs are in ``tests/dags/canvas_sis_dags.py``; each test scripts the simulator's next import
(or uploads real CSVs) and runs a DAG on it with ``dag.test()``.
"""

from __future__ import annotations

import base64

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, SisScript, build_zip
from tests.airflow.runner import DagResult, load_dag, run_dag

MODES = ["poke", "reschedule", "deferrable"]
QUICK = {"pickup": 0.1, "importing_for": 0.4, "cleanup_for": 0.2}
USERS = "user_id,login_id,first_name,last_name,status\nu1,u1@x.edu,Ada,L,active\nu2,u2@x.edu,Bo,M,active\n"
BAD_ROWS = USERS + "u3,,No,Login,active\n"


def zipped(users: str = USERS) -> bytes:
    return build_zip({"users.csv": users})


def start_import(canvas: CanvasSimulator, outcome: str = "default", users: str = USERS, **script: object) -> int:
    return canvas.sis.create_import(
        {"users.csv": users},
        script=SisScript(**{**QUICK, "outcome": outcome, **script}),  # type: ignore[arg-type]
    )


def run_sensor(mode: str, variant: str, import_id: int) -> DagResult:
    return run_dag(load_dag("canvas_sis_dags", f"sis_sensor_{mode}_{variant}"), sis_import_id=str(import_id))


@pytest.fixture(autouse=True)
def quick_imports(canvas: CanvasSimulator) -> None:
    canvas.sis.default_script = SisScript(**QUICK)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", MODES)
def test_imported_succeeds_with_counts(canvas: CanvasSimulator, mode: str) -> None:
    result = run_sensor(mode, "default", start_import(canvas))
    assert result.states == {"wait": "success"}
    value = result.xcom("wait")
    assert (value["outcome"], value["counts"]["users"], value["statistics"]["Pseudonym"]["created"]) == (
        "imported",
        2,
        2,
    )
    assert "url" not in str(value)


@pytest.mark.parametrize("mode", MODES)
def test_imported_with_messages_succeeds_and_returns_its_warnings(canvas: CanvasSimulator, mode: str) -> None:
    result = run_sensor(mode, "default", start_import(canvas, users=BAD_ROWS))
    assert result.states == {"wait": "success"}
    value = result.xcom("wait")
    assert value["outcome"] == "imported_with_messages"
    assert value["warnings"] == [["users.csv", "No login_id given for user u3"]]
    assert value["errors_attachment_id"] is not None


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("outcome", ["failed", "failed_with_messages"])
def test_both_failed_states_fail_without_retry(canvas: CanvasSimulator, mode: str, outcome: str) -> None:
    result = run_sensor(mode, "default", start_import(canvas, outcome))
    assert result.states == {"wait": "failed"}  # not up_for_retry, although the task has retries=2
    assert result.xcom("wait", "sis_import")["outcome"] == "failed"


@pytest.mark.parametrize("mode", MODES)
def test_threshold_abort_fails_by_default_and_says_which_threshold(canvas: CanvasSimulator, mode: str) -> None:
    result = run_sensor(mode, "default", start_import(canvas, "aborted"))
    assert result.states == {"wait": "failed"}
    threshold = result.xcom("wait", "sis_import")["threshold_abort"]
    assert threshold == {"object": "enrollments", "deletes": 12, "threshold": 10}


@pytest.mark.parametrize("mode", MODES)
def test_every_outcome_succeeds_with_fail_on_empty(canvas: CanvasSimulator, mode: str) -> None:
    result = run_sensor(mode, "no_fail", start_import(canvas, "failed_with_messages"))
    assert result.states == {"wait": "success"}
    assert result.xcom("wait")["outcome"] == "failed"


@pytest.mark.parametrize("mode", MODES)
def test_a_threshold_warning_past_the_inlined_24_is_found(canvas: CanvasSimulator, mode: str) -> None:
    many = USERS + "".join(f"x{i},,F,L,active\n" for i in range(30))
    result = run_sensor(mode, "no_fail", start_import(canvas, "aborted", users=many))
    value = result.xcom("wait")
    assert value["outcome"] == "aborted"
    assert value["threshold_abort"]["object"] == "enrollments"


@pytest.mark.parametrize("mode", MODES)
def test_an_import_queued_behind_another_is_waited_for(canvas: CanvasSimulator, mode: str) -> None:
    start_import(canvas, importing_for=1.5)
    second = start_import(canvas)
    result = run_sensor(mode, "default", second)
    assert result.states == {"wait": "success"}
    assert result.xcom("wait")["outcome"] == "imported"


@pytest.mark.parametrize("mode", MODES)
def test_timeout_aborts_the_import_when_asked(canvas: CanvasSimulator, mode: str) -> None:
    import_id = start_import(canvas, "never")
    result = run_sensor(mode, "timeout", import_id)
    assert result.states == {"wait": "failed"}
    assert canvas.sis.import_json(import_id)["workflow_state"] == "aborted"


@pytest.mark.parametrize("mode", MODES)
def test_soft_fail_skips_on_a_failed_import(canvas: CanvasSimulator, mode: str) -> None:
    result = run_sensor(mode, "soft", start_import(canvas, "failed"))
    assert result.states == {"wait": "skipped"}


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_operator_uploads_pushes_the_id_first_and_returns_the_result(canvas: CanvasSimulator, mode: str) -> None:
    data = base64.b64encode(zipped(BAD_ROWS)).decode()
    result = run_dag(load_dag("canvas_sis_dags", f"sis_operator_{mode}"), sis_data=data)
    assert result.states == {"import_sis": "success"}
    import_id = result.xcom("import_sis", "sis_import_id")
    value = result.xcom("import_sis")
    assert (value["id"], value["outcome"], value["counts"]["users"]) == (str(import_id), "imported_with_messages", 2)
    upload = next(r for r in canvas.requests if r.method == "POST" and r.path.endswith("/sis_imports"))
    assert upload.header("Content-Type").startswith("multipart/form-data")


def test_operator_failure_is_not_retried_but_the_id_was_pushed(canvas: CanvasSimulator) -> None:
    canvas.sis.script_next_import(SisScript(**QUICK, outcome="failed_with_messages"))  # type: ignore[arg-type]
    data = base64.b64encode(zipped()).decode()
    result = run_dag(load_dag("canvas_sis_dags", "sis_operator_failing"), sis_data=data)
    assert result.states == {"import_sis": "failed"}
    assert result.xcom("import_sis", "sis_import_id") is not None
    assert len([r for r in canvas.requests if r.method == "POST"]) == 1


@pytest.mark.parametrize(
    ("script", "users", "chosen"),
    [
        ({}, USERS, "report"),
        ({}, BAD_ROWS, "report_with_warnings"),
        ({"outcome": "failed_with_messages"}, USERS, "alert_failed"),
        ({"outcome": "aborted"}, USERS, "alert_threshold"),
    ],
)
def test_branch_follows_the_outcome(canvas: CanvasSimulator, script: dict, users: str, chosen: str) -> None:
    canvas.sis.script_next_import(SisScript(**{**QUICK, **script}))  # type: ignore[arg-type]
    result = run_dag(load_dag("canvas_sis_dags", "sis_branch"), sis_data=base64.b64encode(zipped(users)).decode())
    assert result.states[chosen] == "success"
    others = {"report", "report_with_warnings", "alert_failed", "alert_aborted", "alert_threshold"} - {chosen}
    assert all(result.states[t] == "skipped" for t in others)


def test_abort_of_a_finished_import_is_reported_not_failed(canvas: CanvasSimulator) -> None:
    import_id = start_import(canvas, pickup=0, importing_for=0)
    result = run_dag(load_dag("canvas_sis_dags", "sis_abort"), sis_import_id=str(import_id))
    assert result.states == {"abort": "success"}
    assert result.xcom("abort")["workflow_state"] == "imported"


def test_abort_of_a_pending_import_aborts_it(canvas: CanvasSimulator) -> None:
    import_id = start_import(canvas, "never")
    result = run_dag(load_dag("canvas_sis_dags", "sis_abort"), sis_import_id=str(import_id))
    assert result.xcom("abort")["workflow_state"] == "aborted"


@pytest.mark.parametrize("mode", MODES)
def test_a_user_abort_is_aborted_without_a_threshold(canvas: CanvasSimulator, mode: str) -> None:
    import requests

    import_id = start_import(canvas, "never")
    url = f"{canvas.base_url}/api/v1/accounts/1/sis_imports/{import_id}/abort"
    assert requests.put(url, headers={"Authorization": f"Bearer {canvas.token}"}, timeout=10).status_code == 200
    value = run_sensor(mode, "no_fail", import_id).xcom("wait")
    assert (value["outcome"], value["threshold_abort"]) == ("aborted", None)


def test_restore_is_waited_on_by_the_progress_sensor(canvas: CanvasSimulator) -> None:
    from airflow_provider_canvas_progress.hooks.canvas import CanvasHook

    import_id = start_import(canvas, pickup=0, importing_for=0)
    progress = CanvasHook("canvas_default").restore_sis_import_states(1, import_id)
    result = run_dag(load_dag("canvas_sensor_dags", "sensor_deferrable_default"), progress_id=progress.id)
    assert result.xcom("wait")["outcome"] == "completed"
    assert canvas.sis.import_json(import_id)["workflow_state"] == "restored"
