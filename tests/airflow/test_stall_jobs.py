"""The stall watch on SIS imports and account reports in real Airflow (``dag.test()``): an import or a
report that stops changing ends the wait as ``stalled`` in poke, reschedule and deferrable mode, the
same way as a Progress does; an import queued behind another of its account is not stalled.

The DAGs are in ``tests/dags/canvas_stall_job_dags.py``, with ``stalled_after`` = 3 s; the floor DAGs
are held to (60 s) is lowered for these tests only.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_3_PLUS

from airflow_provider_canvas_progress.core import stall
from airflow_provider_canvas_progress.testing import CanvasSimulator, SisScript, build_zip
from airflow_provider_canvas_progress.testing.reports_control import reports_of
from airflow_provider_canvas_progress.testing.reports_store import ReportScript
from tests.airflow.runner import DagResult, run_with_params

MODES = ["poke", "reschedule", "deferrable"]
KINDS = ["sis", "report"]
#: Where each kind's task keeps the last job seen.
XCOM_KEY = {"sis": "sis_import", "report": "account_report"}
USERS = "user_id,login_id,first_name,last_name,status\nu1,u1@x.edu,Ada,L,active\n"
#: Imports run forever at their last step; reports keep running at 50 %.
NEVER_ENDING_IMPORT = SisScript(pickup=0.0, importing_for=0.1, outcome="never")
NEVER_ENDING_REPORT = ReportScript.never_ending(created_for=0.1, running_for=0.2, running_steps=2)
IMPORTING = "/api/v1/accounts/1/sis_imports/importing"


@pytest.fixture(autouse=True)
def short_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stall, "MIN_STALLED_AFTER", 1.0)


def run(dag_id: str, **conf: Any) -> DagResult:
    return run_with_params("canvas_stall_job_dags", dag_id, **conf)


def stuck(canvas: CanvasSimulator, kind: str) -> int:
    """A job of ``kind`` that reaches its last step at once and never changes again."""
    if kind == "report":
        reports_of(canvas).script_next(NEVER_ENDING_REPORT)
        return reports_of(canvas).start(1, "last_user_access_csv")
    job = canvas.sis.create_import({"users.csv": USERS}, script=NEVER_ENDING_IMPORT)
    deadline = time.monotonic() + 10
    while canvas.sis.import_json(job)["progress"] < 66 and time.monotonic() < deadline:
        time.sleep(0.05)
    return job


def state_of(canvas: CanvasSimulator, kind: str, job: int | str) -> str:
    if kind == "report":
        return str(reports_of(canvas).report_json(int(job))["status"])
    return str(canvas.sis.import_json(int(job))["workflow_state"])


def can_see_a_stall(mode: str) -> bool:
    """A reschedule-mode poke keeps the watch's record only in the task state store (Airflow >= 3.3);
    without one, an import or a report (no ``updated_at`` to date a change from) never looks still."""
    return mode != "reschedule" or AIRFLOW_V_3_3_PLUS


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_a_job_that_stops_changing_fails_the_wait_as_stalled(canvas: CanvasSimulator, kind: str, mode: str) -> None:
    job = stuck(canvas, kind)

    result = run(f"stall_{kind}_sensor_{mode}", job_id=str(job))

    assert result.states["watch"] == "failed"
    seen = result.xcom("watch", XCOM_KEY[kind])
    if can_see_a_stall(mode):
        assert seen["outcome"] == "stalled"
    else:
        assert seen["outcome"] in ("pending", None)  # the wait timed out instead
    # Not stopped: without cancel_on_stall the job is left as it is.
    assert state_of(canvas, kind, job) in ("importing", "running")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_cancel_on_stall_aborts_the_job_before_the_wait_ends(canvas: CanvasSimulator, kind: str, mode: str) -> None:
    if not can_see_a_stall(mode):
        pytest.skip("no stall to act on in reschedule mode below Airflow 3.3 (see the test above)")
    job = stuck(canvas, kind)

    result = run(f"stall_{kind}_sensor_{mode}_cancel", job_id=str(job))

    assert result.states["watch"] == "failed"
    assert result.xcom("watch", XCOM_KEY[kind])["outcome"] == "stalled"
    assert state_of(canvas, kind, job) == "aborted"


@pytest.mark.parametrize("kind", KINDS)
def test_without_stalled_in_fail_on_the_stall_is_an_outcome_and_routes_as_pending(
    canvas: CanvasSimulator, kind: str
) -> None:
    job = stuck(canvas, kind)

    result = run(f"stall_{kind}_routes", job_id=str(job))

    assert result.states["watch"] == "success"
    assert result.xcom("watch")["outcome"] == "stalled"
    # The job has not ended: the branch follows on_pending.
    assert result.states["look"] == "success"
    assert result.states["load"] == result.states["alert"] == "skipped"


def test_an_import_queued_behind_another_of_its_account_is_not_stalled(canvas: CanvasSimulator) -> None:
    stuck(canvas, "sis")
    queued = canvas.sis.create_import({"users.csv": USERS})

    result = run("stall_sis_sensor_queued", job_id=str(queued))

    # It waited its whole timeout (four stalled_after), asking each stalled_after why it was still.
    assert result.states["watch"] == "failed"
    seen = result.xcom("watch", "sis_import")
    assert (seen["outcome"], seen["workflow_state"]) == ("pending", "created")
    assert sum(1 for r in canvas.requests if r.path == IMPORTING) >= 2


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_a_started_job_that_stalls_is_aborted_and_fails_the_task(canvas: CanvasSimulator, kind: str, mode: str) -> None:
    if kind == "report":
        reports_of(canvas).store.default_script = NEVER_ENDING_REPORT
        conf: dict[str, Any] = {}
    else:
        canvas.sis.default_script = NEVER_ENDING_IMPORT
        conf = {"sis_data": base64.b64encode(build_zip({"users.csv": USERS})).decode()}

    result = run(f"stall_{kind}_operator_{mode}", **conf)

    assert result.states["start"] == "failed"
    seen = result.xcom("start", XCOM_KEY[kind])
    assert seen["outcome"] == "stalled"
    started = result.xcom("start", "sis_import_id" if kind == "sis" else "report_id")
    assert state_of(canvas, kind, started) == "aborted"
