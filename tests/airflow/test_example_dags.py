"""The example DAGs (``example_dags/``) in real Airflow: they load, and each outcome runs as documented.

Every run goes through ``dag.test()`` against the simulator. Poll intervals and timeouts are read
from environment variables when a DAG file is parsed, so each test sets them first and imports
the file afresh (see the ``example`` fixture).
"""

from __future__ import annotations

import importlib.util
import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript, ManualClock
from tests.airflow.runner import DagResult, run_dag
from tests.conftest import DAGS, ROOT

EXAMPLES = ROOT / "example_dags"
NIGHTLY = "canvas_nightly_course_batch"
WAIT_OR_CANCEL = "canvas_wait_or_cancel"
MIGRATION = "canvas_content_migration_progress"
SIS = "canvas_nightly_sis_import"

EXPECTED_TASKS = {
    NIGHTLY: {"start_batch", "wait", "route", "report", "alert", "cleanup"},
    WAIT_OR_CANCEL: {"start_job", "wait", "cancel", "route", "report", "alert", "cleanup"},
    MIGRATION: {"start_migration", "wait", "report"},
    "canvas_nightly_reports": {"run_report", "summary"},
    SIS: {
        "check_folder",
        "import_sis",
        "route",
        "report",
        "report_with_warnings",
        "alert_failed",
        "alert_threshold",
        "alert_aborted",
    },
}
ENV_VARS = ("CANVAS_EXAMPLE_POLL_SECONDS", "CANVAS_EXAMPLE_TIMEOUT_SECONDS", "CANVAS_EXAMPLE_CANCEL_AFTER_SECONDS")
#: Fast polling and generous deadlines: only the timeout test shortens a deadline.
FAST_ENV = {
    "CANVAS_EXAMPLE_POLL_SECONDS": "0.2",
    "CANVAS_EXAMPLE_TIMEOUT_SECONDS": "60",
    "CANVAS_EXAMPLE_CANCEL_AFTER_SECONDS": "60",
}
#: A cancel written by someone else's CancelProgressOperator: the sensor reads it as "cancelled".
FOREIGN_CANCEL = "Cancelled by Airflow (dag nightly_ops, task cancel, run manual__2024-01-01)"

_fresh = itertools.count()


def _import_fresh(dag_id: str) -> Any:
    """Execute the DAG file again (under a new module name) so it reads the environment now."""
    path = DAGS / f"{dag_id}.py"
    spec = importlib.util.spec_from_file_location(f"{dag_id}_fresh_{next(_fresh)}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.dag
    assert dag.dag_id == dag_id
    return dag


@pytest.fixture
def example(canvas: CanvasSimulator, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``example(dag_id, **env)``: the example DAG parsed with fast timings (plus ``env``), wired to ``canvas``."""

    def load(dag_id: str, **env: str) -> Any:
        for name, value in {**FAST_ENV, **env}.items():
            monkeypatch.setenv(name, value)
        return _import_fresh(dag_id)

    return load


def only(result: DagResult, *task_ids: str) -> dict[str, str]:
    """The states of the given tasks (the tests name each task they expect)."""
    return {task_id: str(result.states.get(task_id)) for task_id in task_ids}


# -- loading ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dagbag() -> Iterator[Any]:
    """The example folder as Airflow's own parser sees it, without any of the tests' env vars."""
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3

        kwargs: dict[str, Any] = {}
    except ImportError:  # Airflow 2
        from airflow.models.dagbag import DagBag

        kwargs = {"include_examples": False}
    with pytest.MonkeyPatch.context() as patch:
        for name in ENV_VARS:
            patch.delenv(name, raising=False)
        yield DagBag(dag_folder=str(EXAMPLES), **kwargs)


def test_example_dags_load_without_import_errors(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == set(EXPECTED_TASKS)


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_TASKS))
def test_each_example_has_the_documented_tasks(dagbag: Any, dag_id: str) -> None:
    dag = dagbag.get_dag(dag_id)
    assert set(dag.task_ids) == EXPECTED_TASKS[dag_id]
    assert "warning" in (dag.doc_md or "")  # the defaults change real data; the docs say so


def test_example_timings_are_production_sane_without_env_vars(dagbag: Any) -> None:
    nightly = dagbag.get_dag(NIGHTLY).get_task("wait")
    assert (nightly.poke_interval, nightly.timeout, nightly.deferrable) == (30.0, 6 * 3600.0, True)
    assert dagbag.get_dag(WAIT_OR_CANCEL).get_task("wait").timeout == 3600.0
    assert dagbag.get_dag(MIGRATION).get_task("wait").timeout == 6 * 3600.0


# -- canvas_nightly_course_batch ----------------------------------------------------------------


def test_nightly_completed_job_runs_report(canvas: CanvasSimulator, example: Callable[..., Any]) -> None:
    result = run_dag(example(NIGHTLY))
    assert result.states == {
        "start_batch": "success",
        "wait": "success",
        "route": "success",
        "report": "success",
        "alert": "skipped",
        "cleanup": "skipped",
    }
    assert result.state == "success"
    progress = result.xcom("wait")
    assert (progress["outcome"], progress["message"]) == ("completed", "3 courses processed")
    assert "3 courses processed" in result.xcom("report")


def test_nightly_failed_job_runs_alert(canvas: CanvasSimulator, example: Callable[..., Any]) -> None:
    result = run_dag(example(NIGHTLY), course_ids=[9001, 9002])
    assert only(result, "wait", "route", "report", "alert", "cleanup") == {
        "wait": "success",
        "route": "success",
        "report": "skipped",
        "alert": "success",
        "cleanup": "skipped",
    }
    assert result.xcom("wait")["outcome"] == "failed"
    assert "message: 0 courses processed" in result.xcom("alert")
    assert "message: The course was not found: 9001, 9002" in result.xcom("alert")


def test_nightly_cancelled_job_runs_cleanup(canvas: CanvasSimulator, example: Callable[..., Any]) -> None:
    canvas.script_next_job(
        JobScript(queued_for=0.1, running_for=0.4, outcome="failed", message=FOREIGN_CANCEL), tag="course_batch_update"
    )
    result = run_dag(example(NIGHTLY))
    assert only(result, "wait", "route", "report", "alert", "cleanup") == {
        "wait": "success",
        "route": "success",
        "report": "skipped",
        "alert": "skipped",
        "cleanup": "success",
    }
    assert result.xcom("wait")["outcome"] == "cancelled"


def test_nightly_conf_overrides_the_courses_and_event(canvas: CanvasSimulator, example: Callable[..., Any]) -> None:
    result = run_dag(example(NIGHTLY), course_ids=[5, 6], event="conclude")
    assert result.states["report"] == "success"
    assert [canvas.course(i).workflow_state for i in (5, 6, 1)] == ["completed", "completed", "available"]  # type: ignore[union-attr]


# -- canvas_wait_or_cancel ----------------------------------------------------------------------


def test_wait_or_cancel_job_done_in_time_is_not_cancelled(canvas: CanvasSimulator, example: Callable[..., Any]) -> None:
    result = run_dag(example(WAIT_OR_CANCEL))
    assert result.states == {
        "start_job": "success",
        "wait": "success",
        "cancel": "skipped",
        "route": "success",
        "report": "success",
        "alert": "skipped",
        "cleanup": "skipped",
    }
    assert result.state == "success"
    pid = result.xcom("start_job")["id"]
    assert canvas.progress_json(pid)["workflow_state"] == "completed"
    assert not [r for r in canvas.requests if r.path.endswith("/cancel")]


def test_wait_or_cancel_cancels_a_job_past_its_deadline(canvas: CanvasSimulator, example: Callable[..., Any]) -> None:
    canvas.script_next_job(JobScript.never_ending(running_for=0.5), tag="conversation_batch_update")
    result = run_dag(example(WAIT_OR_CANCEL, CANVAS_EXAMPLE_CANCEL_AFTER_SECONDS="1"))
    assert result.states == {
        "start_job": "success",
        "wait": "failed",
        "cancel": "success",
        "route": "success",
        "report": "skipped",
        "alert": "skipped",
        "cleanup": "success",
    }
    assert result.state == "success"  # the timeout was handled: every leaf succeeded or was skipped
    after = canvas.progress_json(result.xcom("start_job")["id"])
    assert after["workflow_state"] == "failed"  # how Canvas records a cancel
    assert after["message"].startswith("Cancelled by Airflow (dag canvas_wait_or_cancel, run ")
    assert after["message"].endswith("not finished within 1 s")
    assert result.xcom("cleanup")["message"] == after["message"]


def test_wait_or_cancel_batch_finishing_after_the_cancel_is_reported_completed(
    example: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # lib/progress_runner.rb: a running batch is not stopped by a cancel and saves its ending over it.
    clock = ManualClock()
    with CanvasSimulator(clock=clock) as sim:
        monkeypatch.setenv("AIRFLOW_CONN_CANVAS_DEFAULT", sim.airflow_conn_json())
        sim.script_next_job(JobScript(queued_for=0, running_for=5), tag="conversation_batch_update")
        stop = threading.Event()

        def finish_the_batch_once_cancelled() -> None:
            while not stop.wait(0.01):
                if any(r.path.endswith("/cancel") and r.status == 200 for r in sim.requests):
                    clock.advance(10)
                    return

        watcher = threading.Thread(target=finish_the_batch_once_cancelled, daemon=True)
        watcher.start()
        try:
            result = run_dag(example(WAIT_OR_CANCEL, CANVAS_EXAMPLE_CANCEL_AFTER_SECONDS="1"))
        finally:
            stop.set()
            watcher.join(5)
    assert result.states == {
        "start_job": "success",
        "wait": "failed",
        "cancel": "success",
        "route": "success",
        "report": "success",
        "alert": "skipped",
        "cleanup": "skipped",
    }
    assert result.xcom("cancel", "progress")["workflow_state"] == "failed"
    assert (result.xcom("report")["workflow_state"], result.xcom("report")["message"]) == (
        "completed",
        "3 conversations processed",
    )


def test_wait_or_cancel_failed_job_runs_alert(canvas: CanvasSimulator, example: Callable[..., Any]) -> None:
    result = run_dag(example(WAIT_OR_CANCEL), conversation_ids=[9001])
    assert only(result, "wait", "cancel", "route", "report", "alert", "cleanup") == {
        "wait": "success",
        "cancel": "skipped",
        "route": "success",
        "report": "skipped",
        "alert": "success",
        "cleanup": "skipped",
    }
    assert result.xcom("alert")["message"].startswith("0 conversations processed")


# -- canvas_content_migration_progress ----------------------------------------------------------


def test_content_migration_waits_on_its_progress_url(canvas: CanvasSimulator, example: Callable[..., Any]) -> None:
    result = run_dag(example(MIGRATION))
    assert result.states == {"start_migration": "success", "wait": "success", "report": "success"}
    migration = result.xcom("start_migration")
    progress = result.xcom("wait")
    assert migration["progress_url"] == progress["url"]
    assert (progress["tag"], progress["outcome"]) == ("content_migration", "completed")
    started = [r for r in canvas.requests if r.method == "POST" and "content_migrations" in r.path]
    assert [r.path for r in started] == ["/api/v1/courses/1/content_migrations"]
    assert "completed" in result.xcom("report")


def test_content_migration_that_fails_fails_the_wait(canvas: CanvasSimulator, example: Callable[..., Any]) -> None:
    canvas.script_next_job(JobScript.failing("Unexpected error, ID: 77", queued_for=0.1, running_for=0.3))
    result = run_dag(example(MIGRATION))
    assert result.states == {"start_migration": "success", "wait": "failed", "report": "upstream_failed"}
    assert result.state == "failed"
    assert result.xcom("wait", "progress")["message"] == "Unexpected error, ID: 77"


def test_env_var_that_is_not_a_number_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVAS_EXAMPLE_POLL_SECONDS", "30s")
    with pytest.raises(ValueError, match="CANVAS_EXAMPLE_POLL_SECONDS='30s'"):
        _import_fresh(NIGHTLY)


# -- found while writing the examples -----------------------------------------------------------


class _RecordingTI:
    """Just enough of a task instance for ``execute``: the operator pushes its Progress to XCom."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def test_start_job_operator_posts_a_rendered_json_template_as_the_array_it_spells(canvas: CanvasSimulator) -> None:
    from airflow_provider_canvas_progress.operators.jobs import CanvasStartJobOperator

    operator = CanvasStartJobOperator(
        task_id="bulk_update",
        method="PUT",
        endpoint="/api/v1/courses/1/assignments/bulk_update",
        json='[{"id": 1, "all_dates": []}]',  # what "{{ params.assignments }}" renders to
    )
    result = operator.execute({"ti": _RecordingTI()})
    assert result["tag"] == "assignment_bulk_update"
