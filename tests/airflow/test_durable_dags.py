"""Durable retries in real Airflow (``dag.test()``): a retry re-attaches to the job its earlier try
started instead of starting a second one (Airflow >= 3.3), and on Airflow 2.11 every try starts its own,
as documented.

Try 1 dies mid-wait the way it does in production when Canvas is out for longer than the hook's
retries: the simulator answers 503 to every read of the job until the try has failed. The DAGs are in
``tests/dags/canvas_durable_dags.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_3_PLUS

from airflow_provider_canvas_progress.testing import CanvasSimulator, Fault, JobScript
from tests.airflow.runner import DagResult, load_dag, run_dag, task_log_text

BATCH_PATH = "/api/v1/accounts/1/courses"
PROGRESS_PATH = r"^/api/v1/progress/\d+$"
REPORT_PATH = "/api/v1/accounts/1/reports/last_user_access_csv"
MODES = ["poke", "deferrable"]
#: Long enough to outlive try 1 and the start of try 2, short enough for a quick test.
SLOW_JOB = JobScript(queued_for=0.2, running_for=6.0)

needs_store = pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="the task state store arrived in Airflow 3.3")
without_store = pytest.mark.skipif(AIRFLOW_V_3_3_PLUS, reason="the fallback of Airflow < 3.3")


def run(dag_id: str) -> DagResult:
    return run_dag(load_dag("canvas_durable_dags", dag_id))


def jobs_started(canvas: CanvasSimulator) -> int:
    return sum(1 for r in canvas.requests if r.method == "PUT" and r.path == BATCH_PATH)


def outage_during_first_wait(canvas: CanvasSimulator) -> None:
    """Every read of the job fails (503) until try 1 gives up: 3 attempts of one read."""
    canvas.inject(Fault.status(503), times=3, path=PROGRESS_PATH, method="GET")


def attached(result: DagResult) -> Any:
    return result.xcom("batch", "canvas_job")


@needs_store
@pytest.mark.parametrize("mode", MODES)
def test_retry_re_attaches_to_the_running_job_and_starts_no_second_one(canvas: CanvasSimulator, mode: str) -> None:
    canvas.script_next_job(SLOW_JOB)
    outage_during_first_wait(canvas)

    result = run(f"durable_batch_{mode}")

    assert result.states["batch"] == "success"
    assert jobs_started(canvas) == 1
    assert attached(result)["started_by_try"] == 1
    assert attached(result)["attached_by_try"] == 2
    assert result.xcom("batch")["outcome"] == "completed"
    assert result.xcom("batch")["id"] == attached(result)["ref"].removeprefix("progress:")


@needs_store
@pytest.mark.parametrize("mode", MODES)
def test_retry_after_the_job_failed_starts_a_fresh_one(canvas: CanvasSimulator, mode: str) -> None:
    canvas.script_next_job(JobScript.failing(queued_for=0.1, running_for=0.5))
    canvas.script_next_job(JobScript(queued_for=0.1, running_for=0.5))

    result = run(f"durable_batch_{mode}")

    assert result.states["batch"] == "success"
    assert jobs_started(canvas) == 2
    assert attached(result)["started_by_try"] == 2


@pytest.mark.parametrize("mode", MODES)
def test_durable_false_starts_a_fresh_job_on_every_try(canvas: CanvasSimulator, mode: str) -> None:
    canvas.script_next_job(SLOW_JOB)
    canvas.script_next_job(JobScript(queued_for=0.1, running_for=0.5))
    outage_during_first_wait(canvas)

    result = run(f"durable_batch_{mode}_off")

    assert result.states["batch"] == "success"
    assert jobs_started(canvas) == 2
    assert attached(result)["started_by_try"] == 2


@without_store
@pytest.mark.parametrize("mode", MODES)
def test_below_airflow_3_3_durable_has_no_effect_and_the_retry_starts_its_own_job(
    canvas: CanvasSimulator, mode: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    canvas.script_next_job(SLOW_JOB)
    canvas.script_next_job(JobScript(queued_for=0.1, running_for=0.5))
    outage_during_first_wait(canvas)

    with caplog.at_level("INFO"):
        result = run(f"durable_batch_{mode}")

    assert result.states["batch"] == "success"
    assert jobs_started(canvas) == 2
    assert attached(result)["started_by_try"] == 2
    assert "durable=True has no effect here (this Airflow has no task state store" in task_log_text(caplog, capfd)


@needs_store
def test_a_report_retry_waits_on_the_report_it_already_started(canvas: CanvasSimulator) -> None:
    from airflow_provider_canvas_progress.testing.reports_control import reports_of
    from airflow_provider_canvas_progress.testing.reports_store import ReportScript

    reports_of(canvas).script_next(ReportScript(created_for=0.1, running_for=6.0, compiling_for=0.1))
    canvas.inject(Fault.status(503), times=3, path=rf"^{REPORT_PATH}/\d+$", method="GET")

    result = run_dag(load_dag("canvas_durable_dags", "durable_report_poke"))

    assert result.states["run"] == "success"
    assert sum(1 for r in canvas.requests if r.method == "POST" and r.path == REPORT_PATH) == 1
    assert result.xcom("run", "canvas_job")["started_by_try"] == 1
    assert result.xcom("run", "canvas_job")["attached_by_try"] == 2
