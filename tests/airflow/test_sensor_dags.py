"""CanvasProgressSensor in real Airflow: every outcome in every wait mode, through ``dag.test()``.

The DAGs are in ``tests/dags/canvas_sensor_dags.py`` (``sensor_<mode>_<variant>``); each test
creates a scripted job in the simulator and runs the DAG on it.
"""

from __future__ import annotations

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, Fault, JobScript
from tests.airflow.runner import DagResult, load_dag, run_dag

MODES = ["poke", "reschedule", "deferrable"]
QUICK = {"queued_for": 0.1, "running_for": 0.5}
CANCEL_MESSAGE = "Cancelled by Airflow (dag nightly, task cancel, run manual__1)"


def run(mode: str, variant: str, progress_id: str) -> DagResult:
    return run_dag(load_dag("canvas_sensor_dags", f"sensor_{mode}_{variant}"), progress_id=progress_id)


def job(canvas: CanvasSimulator, **script: object) -> str:
    return canvas.create_progress(script=JobScript(**{**QUICK, **script}))  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", MODES)
def test_completed_job_succeeds_and_returns_the_progress(canvas: CanvasSimulator, mode: str) -> None:
    pid = job(canvas, outcome="completed")
    result = run(mode, "default", pid)
    assert result.states == {"wait": "success"}
    value = result.xcom("wait")
    assert (value["id"], value["workflow_state"], value["outcome"]) == (pid, "completed", "completed")
    assert value["completion"] == 100.0


@pytest.mark.parametrize("mode", MODES)
def test_failed_job_fails_the_task_without_retry(canvas: CanvasSimulator, mode: str) -> None:
    pid = job(canvas, outcome="failed", message="Unexpected error, ID: 42")
    result = run(mode, "default", pid)
    assert result.states == {"wait": "failed"}  # not up_for_retry, although the task has retries=2
    assert result.xcom("wait", "progress")["outcome"] == "failed"
    assert result.xcom("wait") is None


@pytest.mark.parametrize("mode", MODES)
def test_failed_job_ends_the_task_successfully_when_failed_is_not_in_fail_on(
    canvas: CanvasSimulator, mode: str
) -> None:
    pid = job(canvas, outcome="failed", message="0 courses processed")
    result = run(mode, "no_fail", pid)
    assert result.states == {"wait": "success"}
    assert result.xcom("wait")["outcome"] == "failed"
    assert result.xcom("wait")["message"] == "0 courses processed"


@pytest.mark.parametrize("mode", MODES)
def test_failed_job_with_a_cancel_message_is_cancelled(canvas: CanvasSimulator, mode: str) -> None:
    pid = job(canvas, outcome="failed", message=CANCEL_MESSAGE)
    result = run(mode, "no_fail", pid)
    assert result.xcom("wait")["outcome"] == "cancelled"


@pytest.mark.parametrize("mode", MODES)
def test_cancelled_job_fails_the_task_by_default(canvas: CanvasSimulator, mode: str) -> None:
    pid = job(canvas, outcome="failed", message=CANCEL_MESSAGE)
    result = run(mode, "default", pid)
    assert result.states == {"wait": "failed"}
    assert result.xcom("wait", "progress")["outcome"] == "cancelled"


@pytest.mark.parametrize("mode", MODES)
def test_canvas_canceled_state_is_cancelled(canvas: CanvasSimulator, mode: str) -> None:
    pid = canvas.create_progress(script=JobScript(queued_for=0.0, running_for=0.0, outcome="canceled"))
    result = run(mode, "no_fail", pid)
    assert result.xcom("wait")["outcome"] == "cancelled"
    assert result.xcom("wait")["workflow_state"] == "canceled"


@pytest.mark.parametrize("mode", MODES)
def test_unknown_state_fails_closed(canvas: CanvasSimulator, mode: str) -> None:
    pid = canvas.create_progress(script=JobScript.steps([(0.0, "paused", 50.0, None)]))
    result = run(mode, "no_fail", pid)  # even with nothing in fail_on, an unknown state is no success
    assert result.states == {"wait": "failed"}


@pytest.mark.parametrize("mode", MODES)
def test_timeout_fails_the_task_and_cancels_the_job_when_asked(canvas: CanvasSimulator, mode: str) -> None:
    pid = canvas.create_progress(script=JobScript.never_ending(running_for=0.2))
    result = run(mode, "timeout", pid)
    assert result.states == {"wait": "failed"}
    after = canvas.progress_json(pid)
    assert after["workflow_state"] == "failed"
    assert after["message"].startswith("Cancelled by Airflow (dag sensor_")
    assert "the wait timed out" in after["message"]


@pytest.mark.parametrize("mode", MODES)
def test_soft_fail_turns_a_timeout_into_a_skip_and_leaves_the_job_alone(canvas: CanvasSimulator, mode: str) -> None:
    pid = canvas.create_progress(script=JobScript.never_ending(running_for=0.2))
    result = run(mode, "soft", pid)
    assert result.states == {"wait": "skipped"}
    assert canvas.progress_json(pid)["workflow_state"] == "running"


@pytest.mark.parametrize("mode", MODES)
def test_soft_fail_turns_a_failed_job_into_a_skip(canvas: CanvasSimulator, mode: str) -> None:
    pid = job(canvas, outcome="failed", message="Unexpected error, ID: 7")
    result = run(mode, "soft", pid)
    assert result.states == {"wait": "skipped"}


@pytest.mark.parametrize("mode", MODES)
def test_soft_fail_skips_a_job_that_had_failed_before_the_first_poke(canvas: CanvasSimulator, mode: str) -> None:
    # Deferrable reads once on the worker before deferring; a failure seen there must skip too.
    pid = canvas.create_progress(script=JobScript.instant("failed"))
    result = run(mode, "soft", pid)
    assert result.states == {"wait": "skipped"}


@pytest.mark.parametrize("mode", MODES)
def test_transient_canvas_errors_do_not_fail_the_wait(canvas: CanvasSimulator, mode: str) -> None:
    pid = job(canvas, outcome="completed")
    canvas.inject(Fault.html(503), times=2, path=r"^/api/v1/progress/")
    result = run(mode, "default", pid)
    assert result.states == {"wait": "success"}


@pytest.mark.parametrize("mode", MODES)
def test_unknown_progress_fails_the_task(canvas: CanvasSimulator, mode: str) -> None:
    result = run(mode, "default", "987654")
    assert result.states == {"wait": "failed"}


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_progress_url_is_accepted_as_progress_id(canvas: CanvasSimulator, mode: str) -> None:
    pid = job(canvas, outcome="completed")
    result = run(mode, "default", f"{canvas.base_url}/api/v1/progress/{pid}")
    assert result.xcom("wait")["outcome"] == "completed"


def test_job_already_finished_completes_without_deferring(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.instant("completed"))
    result = run("deferrable", "default", pid)
    assert result.states == {"wait": "success"}
    assert [r.path for r in canvas.requests if r.path.startswith("/api/v1/progress")] == [f"/api/v1/progress/{pid}"]
