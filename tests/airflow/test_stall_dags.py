"""The stall watch in real Airflow (``dag.test()``): a job that stops changing ends the wait as
``stalled`` in poke, reschedule and deferrable mode, on both Airflow versions.

The DAGs are in ``tests/dags/canvas_stall_dags.py``, with ``stalled_after`` = 3 s; the floor DAGs are
held to (60 s) is lowered for these tests only.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_canvas_progress.core import stall
from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript
from tests.airflow.runner import DagResult, run_with_params

MODES = ["poke", "reschedule", "deferrable"]
BATCH_PATH = "/api/v1/accounts/1/courses"


@pytest.fixture(autouse=True)
def short_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stall, "MIN_STALLED_AFTER", 1.0)


def run(dag_id: str, **conf: Any) -> DagResult:
    return run_with_params("canvas_stall_dags", dag_id, **conf)


def stuck_job(canvas: CanvasSimulator) -> str:
    """A Progress that climbs to 40 % and then never changes again."""
    return canvas.create_progress(script=JobScript.stalled(at=40, running_for=0.3))


@pytest.mark.parametrize("mode", MODES)
def test_a_job_that_stops_changing_fails_the_wait_as_stalled(canvas: CanvasSimulator, mode: str) -> None:
    pid = stuck_job(canvas)

    result = run(f"stall_sensor_{mode}", progress_id=pid)

    assert result.states["watch"] == "failed"
    seen = result.xcom("watch", "progress")
    assert seen["outcome"] == "stalled"
    assert seen["completion"] == 40
    # Not cancelled: without cancel_on_stall the job is left as it is.
    assert canvas.progress_json(pid)["workflow_state"] == "running"


@pytest.mark.parametrize("mode", MODES)
def test_cancel_on_stall_cancels_the_job_before_the_wait_ends(canvas: CanvasSimulator, mode: str) -> None:
    pid = stuck_job(canvas)

    result = run(f"stall_sensor_{mode}_cancel", progress_id=pid)

    assert result.states["watch"] == "failed"
    ended = canvas.progress_json(pid)
    assert ended["workflow_state"] == "failed"
    assert ended["message"].startswith("Cancelled by Airflow (dag stall_sensor_")
    assert ended["message"].endswith(": the job stalled")


def test_a_job_that_keeps_moving_is_not_stalled(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript(queued_for=0.2, running_for=4.0))

    result = run("stall_sensor_poke", progress_id=pid)

    assert result.states["watch"] == "success"
    assert result.xcom("watch")["outcome"] == "completed"


def test_without_stalled_in_fail_on_the_stall_is_an_outcome_to_route_on(canvas: CanvasSimulator) -> None:
    pid = stuck_job(canvas)

    result = run("stall_sensor_routes", progress_id=pid)

    assert result.states["watch"] == "success"
    assert result.xcom("watch")["outcome"] == "stalled"


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_a_started_job_that_stalls_is_cancelled_and_fails_the_task(canvas: CanvasSimulator, mode: str) -> None:
    canvas.script_next_job(JobScript.stalled(at=40, running_for=0.3))

    result = run(f"stall_batch_{mode}")

    assert result.states["batch"] == "failed"
    assert result.xcom("batch", "progress")["outcome"] == "stalled"
    started = result.xcom("batch", "canvas_job")["ref"].removeprefix("progress:")
    assert canvas.progress_json(started)["message"].endswith(": the job stalled")
    assert sum(1 for r in canvas.requests if r.path == BATCH_PATH and r.method == "PUT") == 1
