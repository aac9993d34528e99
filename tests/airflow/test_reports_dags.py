"""Account reports in real Airflow: every ending in every wait mode, the file saved, mapping, branch, abort.

The DAGs are in ``tests/dags/canvas_report_dags.py``; each test scripts the simulator's next report
(or reads a real one) and runs a DAG on it with ``dag.test()``.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator
from airflow_provider_canvas_progress.testing.reports_control import reports_of
from airflow_provider_canvas_progress.testing.reports_store import ReportScript
from tests.airflow.runner import DagResult, load_dag, run_dag

SENSOR_MODES = ["poke", "reschedule", "deferrable"]
OPERATOR_MODES = ["poke", "deferrable"]
QUICK: dict[str, Any] = {"created_for": 0.1, "running_for": 0.4, "compiling_for": 0.1, "running_steps": 2}
REASON = "Failed, please report the following error code to your system administrator: ErrorReport:42;"


@pytest.fixture(autouse=True)
def quick_reports(canvas: CanvasSimulator) -> None:
    reports_of(canvas).store.default_script = ReportScript(**QUICK)


def start(canvas: CanvasSimulator, name: str = "last_user_access_csv", **script: Any) -> int:
    if script:
        reports_of(canvas).script_next(ReportScript(**{**QUICK, **script}))
    return reports_of(canvas).start(1, name)


def run_sensor(mode: str, variant: str, report_id: int, **conf: Any) -> DagResult:
    return run_dag(load_dag("canvas_report_dags", f"report_sensor_{mode}_{variant}"), report_id=str(report_id), **conf)


def run_operator(mode: str, variant: str = "default", **conf: Any) -> DagResult:
    return run_dag(load_dag("canvas_report_dags", f"report_operator_{mode}_{variant}"), **conf)


@pytest.mark.parametrize("mode", SENSOR_MODES)
def test_a_complete_report_succeeds_and_its_file_is_saved(canvas: CanvasSimulator, mode: str, tmp_path: Path) -> None:
    result = run_sensor(mode, "default", start(canvas), output=f"{tmp_path}/")

    assert result.states == {"wait": "success"}
    value = result.xcom("wait")
    saved = Path(value["file"]["path"])
    assert value["outcome"] == "complete"
    assert saved.parent == tmp_path
    assert saved.name == value["filename"]
    assert value["file"]["sha256"] == hashlib.sha256(saved.read_bytes()).hexdigest()
    assert value["file"]["bytes"] == value["size"] == saved.stat().st_size
    assert "verifier" not in str(value)
    assert "download" not in str(value)


@pytest.mark.parametrize("mode", SENSOR_MODES)
def test_an_error_report_fails_without_retry_with_its_extra_text(canvas: CanvasSimulator, mode: str) -> None:
    result = run_sensor(mode, "default", start(canvas, outcome="error", extra_text=REASON))

    assert result.states == {"wait": "failed"}  # not up_for_retry, although the task has retries=2
    assert result.xcom("wait", "account_report")["message"] == REASON


@pytest.mark.parametrize("mode", SENSOR_MODES)
def test_error_and_aborted_succeed_with_their_outcome_when_not_in_fail_on(canvas: CanvasSimulator, mode: str) -> None:
    errored = run_sensor(mode, "no_fail", start(canvas, outcome="error", extra_text=REASON))
    report_id = start(canvas, outcome=None)
    reports_of(canvas).set_report(report_id, status="aborted", progress=40)
    aborted = run_sensor(mode, "no_fail", report_id)

    assert (errored.states, aborted.states) == ({"wait": "success"}, {"wait": "success"})
    assert (errored.xcom("wait")["outcome"], errored.xcom("wait")["message"]) == ("error", REASON)
    assert aborted.xcom("wait")["outcome"] == "aborted"


@pytest.mark.parametrize("mode", SENSOR_MODES)
def test_an_aborted_report_fails_by_default(canvas: CanvasSimulator, mode: str) -> None:
    report_id = start(canvas, outcome=None)
    reports_of(canvas).set_report(report_id, status="aborted", progress=40)

    assert run_sensor(mode, "default", report_id).states == {"wait": "failed"}


@pytest.mark.parametrize("mode", SENSOR_MODES)
def test_a_deleted_report_fails(canvas: CanvasSimulator, mode: str) -> None:
    report_id = start(canvas)
    reports_of(canvas).delete(report_id)

    assert run_sensor(mode, "default", report_id).states == {"wait": "failed"}


@pytest.mark.parametrize("mode", SENSOR_MODES)
def test_a_timeout_aborts_a_running_report(canvas: CanvasSimulator, mode: str) -> None:
    report_id = start(canvas, outcome=None)

    result = run_sensor(mode, "timeout", report_id)

    assert result.states["wait"] in ("failed", "up_for_retry")
    assert reports_of(canvas).report_json(report_id)["status"] == "aborted"


@pytest.mark.parametrize("mode", OPERATOR_MODES)
def test_the_operator_runs_a_report_and_saves_the_zip_and_its_parts(
    canvas: CanvasSimulator, mode: str, tmp_path: Path
) -> None:
    result = run_operator(
        mode,
        report="provisioning_csv",
        parameters={"users": True, "courses": True},
        output=f"file://{tmp_path}/nightly/",
    )

    assert result.states == {"run": "success"}
    value = result.xcom("run")
    archive = tmp_path / "nightly" / value["filename"]
    assert value["content_type"] == "application/zip"
    assert zipfile.ZipFile(archive).namelist() == ["users.csv", "courses.csv"]
    assert sorted(Path(p).name for p in value["file"]["parts"]) == ["courses.csv", "users.csv"]
    assert value["file"]["path"].startswith("file://")
    assert str(result.xcom("run", "report_id")) == value["report_id"]


@pytest.mark.parametrize("mode", OPERATOR_MODES)
def test_a_name_the_account_does_not_offer_fails_at_once_without_retry(canvas: CanvasSimulator, mode: str) -> None:
    result = run_operator(mode, report="provisioning")

    assert result.states == {"run": "failed"}  # not up_for_retry: the task has retries=2
    assert len([r for r in canvas.requests if r.method == "POST"]) == 1


@pytest.mark.parametrize("mode", OPERATOR_MODES)
def test_a_file_over_max_bytes_fails_and_keeps_nothing(canvas: CanvasSimulator, mode: str, tmp_path: Path) -> None:
    result = run_operator(mode, "tiny", output=f"{tmp_path}/")

    assert result.states == {"run": "failed"}
    assert list(tmp_path.iterdir()) == []


def test_three_reports_run_mapped_and_the_summary_reads_each_checksum(canvas: CanvasSimulator, tmp_path: Path) -> None:
    result = run_dag(load_dag("canvas_report_dags", "report_mapped"), output=f"{tmp_path}/")

    assert result.state == "success"
    summary = result.xcom("summarize")
    assert sorted(summary) == ["grade_export_csv", "last_user_access_csv", "provisioning_csv"]
    assert len(list(tmp_path.iterdir())) == 3


@pytest.mark.parametrize(
    ("script", "taken"),
    [({}, "load"), ({"outcome": "error", "extra_text": REASON}, "alert")],
)
def test_the_branch_follows_how_the_report_ended(canvas: CanvasSimulator, script: dict[str, Any], taken: str) -> None:
    if script:
        reports_of(canvas).script_next(ReportScript(**{**QUICK, **script}))

    result = run_dag(load_dag("canvas_report_dags", "report_branch"))

    assert result.states["run"] == "success"
    assert result.states[taken] == "success"
    assert {result.states[t] for t in ("load", "alert", "rerun") if t != taken} == {"skipped"}


def test_abort_stops_a_running_report(canvas: CanvasSimulator) -> None:
    report_id = start(canvas, outcome=None, created_for=0.0)

    result = run_dag(load_dag("canvas_report_dags", "report_abort"), report_id=str(report_id))

    assert result.states == {"abort": "success"}
    assert result.xcom("abort")["status"] == "aborted"


def test_abort_of_a_finished_report_is_already_finished_not_an_error(canvas: CanvasSimulator) -> None:
    report_id = start(canvas, created_for=0.0, running_for=0.0)

    result = run_dag(load_dag("canvas_report_dags", "report_abort"), report_id=str(report_id))

    assert result.states == {"abort": "success"}
    assert result.xcom("abort")["status"] == "complete"


def test_abort_of_a_report_not_yet_running_says_so_and_leaves_it(canvas: CanvasSimulator) -> None:
    report_id = start(canvas, created_for=600.0)

    result = run_dag(load_dag("canvas_report_dags", "report_abort"), report_id=str(report_id))

    assert result.states == {"abort": "success"}
    assert result.xcom("abort")["status"] == "created"
    assert reports_of(canvas).report_json(report_id)["status"] == "created"
