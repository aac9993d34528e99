"""Nightly course batch update: start a Canvas job, wait for it without a worker, route on how it ended.

The pattern::

    start_batch ──> wait ──> route ──> report    (the job completed)
                                  ├──> alert     (the job failed, e.g. "0 courses processed")
                                  └──> cleanup   (the job was cancelled)

* ``start_batch`` (:class:`CanvasCourseBatchUpdateOperator`) calls
  ``PUT /api/v1/accounts/:account_id/courses`` and pushes the job's Progress to XCom.
* ``wait`` (:class:`CanvasProgressSensor`, deferrable) waits in the triggerer, holding no worker
  slot. ``fail_on=[]`` makes it end successfully however the job ended, with the final Progress
  plus its ``outcome`` (``completed``, ``failed`` or ``cancelled``) as its return value, so the
  DAG can route instead of just failing.
* ``route`` (:class:`CanvasProgressBranchOperator`) follows one branch and skips the others.

Canvas marks a batch update ``failed`` when no course could be processed (unknown ids, courses of
another account…), with the reasons in the message. A cancelled job (``POST
/api/v1/progress/:id/cancel``) also reads ``failed`` in Canvas; the message tells it apart, and
the sensor reads it as ``cancelled``.

Run it: ``airflow dags test canvas_nightly_course_batch`` with a ``canvas_default`` connection,
or with other courses::

    airflow dags test canvas_nightly_course_batch --conf '{"account_id": 1, "course_ids": [7, 8], "event": "conclude"}'

.. warning:: The defaults really change courses: they *offer* (publish) courses 1, 2 and 3 of
   account 1. Point ``canvas_default`` at a test or beta instance, or override the parameters.

Environment variables, read when the file is parsed (poll intervals and timeouts are not
templated), so tests and ``make demo`` can make the wait fast:

* ``CANVAS_EXAMPLE_POLL_SECONDS``: seconds between reads of the Progress (default 30);
* ``CANVAS_EXAMPLE_TIMEOUT_SECONDS``: longest wait for the job (default 21600, six hours).
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Param, task

from airflow_provider_canvas_progress.operators.jobs import CanvasCourseBatchUpdateOperator
from airflow_provider_canvas_progress.operators.progress import CanvasProgressBranchOperator
from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor

CANVAS_CONN_ID = "canvas_default"


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number of seconds.") from None


POLL_SECONDS = _seconds("CANVAS_EXAMPLE_POLL_SECONDS", 30.0)
TIMEOUT_SECONDS = _seconds("CANVAS_EXAMPLE_TIMEOUT_SECONDS", 6 * 60 * 60.0)


def _summary(progress: dict[str, Any]) -> str:
    """One line per fact a person on call wants: which job, how it ended, what Canvas said."""
    lines = [
        f"Canvas Progress {progress.get('id')} ({progress.get('tag')}): {progress.get('outcome')}, "
        f"workflow_state={progress.get('workflow_state')}, completion={progress.get('completion')}",
        f"url: {progress.get('url')}",
    ]
    # Batch updates put "N courses processed" on the first line and one line per error after it.
    lines += [f"message: {line}" for line in (progress.get("message") or "(none)").splitlines()]
    if progress.get("results") is not None:
        lines.append(f"results: {progress['results']}")
    return "\n".join(lines)


with DAG(
    dag_id="canvas_nightly_course_batch",
    description="Offer/conclude a batch of Canvas courses, wait for the job, route on its outcome.",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={
        "account_id": Param(1, type="integer", minimum=1, description="The account holding the courses."),
        "course_ids": Param(
            [1, 2, 3],
            type="array",
            items={"type": ["integer", "string"]},
            minItems=1,
            maxItems=500,
            description="Course ids (or sis_course_id:ABC references); Canvas takes at most 500 per job.",
        ),
        "event": Param("offer", enum=["offer", "conclude", "delete", "undelete"], description="What to do."),
    },
    tags=["canvas", "example"],
    doc_md=__doc__,
) as dag:
    start_batch = CanvasCourseBatchUpdateOperator(
        task_id="start_batch",
        canvas_conn_id=CANVAS_CONN_ID,
        account_id="{{ params.account_id }}",
        course_ids="{{ params.course_ids }}",
        event="{{ params.event }}",
    )

    wait = CanvasProgressSensor(
        task_id="wait",
        canvas_conn_id=CANVAS_CONN_ID,
        progress_id=start_batch.output,
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=TIMEOUT_SECONDS,
        fail_on=[],  # every ending is a success here: route decides what happens next
    )

    route = CanvasProgressBranchOperator(
        task_id="route",
        progress=wait.output,
        on_completed="report",
        on_failed="alert",
        on_cancelled="cleanup",
    )

    @task
    def report(progress: dict[str, Any]) -> str:
        """The job completed: log what Canvas did (replace with your own bookkeeping)."""
        text = _summary(progress)
        print(f"Course batch update done.\n{text}")
        return text

    @task
    def alert(progress: dict[str, Any]) -> str:
        """The job failed: tell someone (replace the print with Slack, e-mail, a ticket…)."""
        text = _summary(progress)
        print(
            "ALERT: the nightly course batch update failed. Canvas processed no course; the reasons are "
            f"in the message below. Fix the course ids or the account and run the DAG again.\n{text}"
        )
        return text

    @task
    def cleanup(progress: dict[str, Any]) -> str:
        """The job was cancelled: say what state the courses may be in."""
        text = _summary(progress)
        print(
            "The course batch update was cancelled. Canvas's cancel is advisory: courses processed "
            f"before it may already be changed. Check them before starting the batch again.\n{text}"
        )
        return text

    route >> [report(wait.output), alert(wait.output), cleanup(wait.output)]
