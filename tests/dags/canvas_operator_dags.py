"""Test DAGs for the operators: cancel, branch, and the job-starting operators, driven by ``params``.

Airflow 3's ``dag.test()`` re-parses the dags folder, so every scenario is a DAG in this one file
rather than being built inside a test. ``DAGS`` maps dag_id to DAG for the tests.

Every task records its failures and retries in :data:`TASK_EVENTS` (``dag.test()`` runs tasks in
the test's own process on both Airflow versions), so tests can read the error a user would see
and tell "failed at once" from "failed, retried, failed again".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_canvas_progress.operators.progress import CancelProgressOperator, CanvasProgressBranchOperator
from airflow_provider_canvas_progress.operators.start_job import (
    CanvasBulkGradeUpdateOperator,
    CanvasCourseBatchUpdateOperator,
    CanvasStartJobOperator,
)
from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor

try:
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:  # Airflow 2 without the standard provider
    from airflow.operators.empty import EmptyOperator  # type: ignore[no-redef]


@dataclass(frozen=True)
class TaskEvent:
    """A task failure or retry as its callback saw it."""

    dag_id: str
    task_id: str
    kind: str  # "failed" or "retry"
    error: str  # the exception's class name
    text: str
    cause: str | None  # the class name of the exception's __cause__, if any


#: Failures and retries of the tasks below, oldest first; tests clear it before each run.
TASK_EVENTS: list[TaskEvent] = []


def _recorder(kind: str) -> Any:
    def record(context: Any) -> None:
        error = context.get("exception")
        cause = getattr(error, "__cause__", None)
        ti = context["ti"]
        TASK_EVENTS.append(
            TaskEvent(
                ti.dag_id,
                ti.task_id,
                kind,
                type(error).__name__,
                str(error),
                type(cause).__name__ if cause is not None else None,
            )
        )

    return record


#: Retries that run at once in dag.test(): a test sees whether a failure was retried or not.
DEFAULT_ARGS: dict[str, Any] = {
    "retries": 2,
    "retry_delay": timedelta(seconds=0),
    "on_failure_callback": _recorder("failed"),
    "on_retry_callback": _recorder("retry"),
}
POLL = 0.2
DAGS: dict[str, DAG] = {}


def _dag(dag_id: str, params: dict[str, Any], *, retries: int = 2, **kwargs: Any) -> DAG:
    dag = DAG(
        dag_id,
        schedule=None,
        start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
        catchup=False,
        params=params,
        default_args={**DEFAULT_ARGS, "retries": retries},
        tags=["canvas-tests"],
        **kwargs,
    )
    DAGS[dag_id] = dag
    return dag


def _outcome_tasks(*extra: str) -> list[EmptyOperator]:
    return [EmptyOperator(task_id=task_id) for task_id in ("report", "alert", "cleanup", *extra)]


# -- CancelProgressOperator --------------------------------------------------------------------

for if_finished in ("ignore", "skip", "fail"):
    with _dag(f"cancel_if_finished_{if_finished}", {"progress_id": "1"}):
        CancelProgressOperator(task_id="cancel", progress_id="{{ params.progress_id }}", if_finished=if_finished)

with _dag("cancel_custom_message", {"progress_id": "1", "who": "the on-call admin"}):
    CancelProgressOperator(
        task_id="cancel",
        progress_id="{{ params.progress_id }}",
        message="Stopped by {{ params.who }} in {{ dag.dag_id }}",
    )

with _dag("cancel_then_wait", {"progress_id": "1"}):
    cancel = CancelProgressOperator(task_id="cancel", progress_id="{{ params.progress_id }}")
    wait = CanvasProgressSensor(
        task_id="wait", progress_id="{{ params.progress_id }}", poke_interval=POLL, timeout=30, fail_on=[]
    )
    cancel >> wait


class CancelThenLoseTheWorker(CancelProgressOperator):
    """Cancels, then dies on its first try, as a task whose worker is lost right after the cancel."""

    def execute(self, context: Any) -> dict[str, Any]:
        result = super().execute(context)
        if context["ti"].try_number == 1:
            raise RuntimeError("worker lost after the cancel reached Canvas")
        return result


with _dag("cancel_retried_after_cancelling", {"progress_id": "1"}):
    CancelThenLoseTheWorker(task_id="cancel", progress_id="{{ params.progress_id }}")


# -- CanvasProgressBranchOperator --------------------------------------------------------------

BRANCHES = {"on_completed": "report", "on_failed": "alert", "on_cancelled": "cleanup"}

with _dag("branch_on_sensor_output", {"progress_id": "1"}):
    wait = CanvasProgressSensor(
        task_id="wait", progress_id="{{ params.progress_id }}", poke_interval=POLL, timeout=30, fail_on=[]
    )
    branch = CanvasProgressBranchOperator(task_id="branch", progress=wait.output, **BRANCHES)
    wait >> branch >> _outcome_tasks()

with _dag("branch_on_rendered_progress", {"progress_id": "1"}):
    wait = CanvasProgressSensor(
        task_id="wait", progress_id="{{ params.progress_id }}", poke_interval=POLL, timeout=30, fail_on=[]
    )
    # Rendered without native objects, this is the *text* of the dict (Python repr).
    branch = CanvasProgressBranchOperator(task_id="branch", progress="{{ ti.xcom_pull(task_ids='wait') }}", **BRANCHES)
    wait >> branch >> _outcome_tasks()

with _dag("branch_on_progress_id", {"progress_id": "1"}):
    (
        CanvasProgressBranchOperator(task_id="branch", progress_id="{{ params.progress_id }}", **BRANCHES)
        >> _outcome_tasks()
    )

with _dag("branch_on_progress_id_with_pending", {"progress_id": "1"}):
    CanvasProgressBranchOperator(
        task_id="branch", progress_id="{{ params.progress_id }}", on_pending="still_running", **BRANCHES
    ) >> _outcome_tasks("still_running")


# -- CanvasStartJobOperator and its conveniences -----------------------------------------------

COURSE_BATCH = {"method": "PUT", "endpoint": "/api/v1/accounts/1/courses"}
COURSE_BATCH_DATA = {"event": "offer", "course_ids[]": [1, 2]}

# Native rendering: params.data reaches the operator as the dict it is.
with _dag(
    "start_job",
    {**COURSE_BATCH, "data": COURSE_BATCH_DATA},
    render_template_as_native_obj=True,
):
    CanvasStartJobOperator(
        task_id="start", method="{{ params.method }}", endpoint="{{ params.endpoint }}", data="{{ params.data }}"
    )

# Plain rendering: params.data reaches the operator as the text of the dict.
with _dag("start_job_data_rendered_as_text", {"data": COURSE_BATCH_DATA}):
    CanvasStartJobOperator(task_id="start", **COURSE_BATCH, data="{{ params.data }}")

WAIT_MODES: dict[str, dict[str, Any]] = {"poke": {"deferrable": False}, "deferrable": {"deferrable": True}}
for mode, mode_kwargs in WAIT_MODES.items():
    with _dag(f"start_and_wait_{mode}", {}, retries=1):
        CanvasStartJobOperator(
            task_id="start",
            **COURSE_BATCH,
            data=COURSE_BATCH_DATA,
            wait_for_completion=True,
            poll_interval=POLL,
            timeout=30,
            **mode_kwargs,
        )
    with _dag(f"start_and_wait_{mode}_timeout", {}, retries=1):
        CanvasStartJobOperator(
            task_id="start",
            **COURSE_BATCH,
            data=COURSE_BATCH_DATA,
            wait_for_completion=True,
            poll_interval=POLL,
            timeout=1.5,
            cancel_on_timeout=True,
            **mode_kwargs,
        )

with _dag("course_batch", {"account_id": "1", "course_ids": [1, 2], "event": "conclude"}):
    CanvasCourseBatchUpdateOperator(
        task_id="batch",
        account_id="{{ params.account_id }}",
        course_ids="{{ params.course_ids }}",
        event="{{ params.event }}",
    )

with _dag(
    "bulk_grades",
    {
        "course_id": "1",
        "assignment_id": "",
        "section_id": "",
        "grade_data": {"101": {"posted_grade": "A"}},
    },
):
    CanvasBulkGradeUpdateOperator(
        task_id="grades",
        course_id="{{ params.course_id }}",
        assignment_id="{{ params.assignment_id }}",
        section_id="{{ params.section_id }}",
        grade_data="{{ params.grade_data }}",
    )
