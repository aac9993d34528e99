"""Wait for a Canvas job with a deadline; past it, cancel the job with a message; then route.

The pattern::

    start_job ──> wait ──(wait failed or timed out)──> cancel ──> route ──> report   (completed)
                   └───────────(wait ended in time)────────────────┘   ├──> alert    (failed)
                                                                         └──> cleanup  (cancelled)

* ``start_job`` uses the generic :class:`CanvasStartJobOperator`, which calls any endpoint that
  starts a Canvas job and finds the Progress in the answer. Here: ``PUT /api/v1/conversations``
  (mark conversations as read), one of the two job types whose starter may cancel them (the other
  is the course batch update). Most Canvas jobs have no starter and cannot be cancelled through
  the API at all.
* ``wait`` (:class:`CanvasProgressSensor`, deferrable) fails when the job does not end within
  ``CANVAS_EXAMPLE_CANCEL_AFTER_SECONDS``. ``fail_on=[]``: a job that ends in time, however it
  ends, is routed rather than failing the wait.
* ``cancel`` (:class:`CancelProgressOperator`) runs only when the wait failed
  (``trigger_rule="one_failed"``). It reads the Progress first and cancels only a job that is
  still pending: Canvas's cancel would otherwise mark an already *completed* job ``failed``. Its
  message starts with ``Cancelled by Airflow``, which is how the sensor and the branch tell a
  cancel from a real failure (Canvas records both as ``failed``).
* ``route`` (:class:`CanvasProgressBranchOperator`) reads the Progress itself (``progress_id``)
  after either path (``trigger_rule="all_done"``): the job may have ended in time, or been
  cancelled, or even have ended between the timeout and the cancel.
* A cancel does not stop a *running* course or conversation batch: Canvas's batch runner
  (``lib/progress_runner.rb``) finishes its work and then saves the Progress as ``completed`` (or
  ``failed``) over the cancel. So ``route`` may read ``completed`` after a cancel (``report`` then
  says the job finished despite it), and a job ``cleanup`` saw cancelled may read ``completed``
  later: ``cleanup`` re-reads it and says which it found. Never restart a cancelled batch without
  reading its Progress again first.

For the short form, ``CanvasProgressSensor(..., cancel_on_timeout=True)`` cancels on timeout by
itself; the explicit task here makes the cancel visible in the graph and lets you add approval,
retries or notifications around it.

Run it: ``airflow dags test canvas_wait_or_cancel`` with a ``canvas_default`` connection, or
``--conf '{"conversation_ids": [12, 13], "event": "mark_as_unread"}'``.

.. warning:: The defaults really change data: they mark conversations 1, 2 and 3 of the token's
   user as read. Point ``canvas_default`` at a test or beta instance, or override the parameters.

Environment variables, read when the file is parsed (poll intervals and timeouts are not
templated):

* ``CANVAS_EXAMPLE_POLL_SECONDS``: seconds between reads of the Progress (default 30);
* ``CANVAS_EXAMPLE_CANCEL_AFTER_SECONDS``: how long to wait before cancelling (default 3600).
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Param, TriggerRule, task

from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.operators.jobs import CanvasStartJobOperator
from airflow_provider_canvas_progress.operators.progress import CancelProgressOperator, CanvasProgressBranchOperator
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
CANCEL_AFTER_SECONDS = _seconds("CANVAS_EXAMPLE_CANCEL_AFTER_SECONDS", 60 * 60.0)


def _final(started: dict[str, Any]) -> dict[str, Any]:
    """The job's Progress as it stands now, read through the hook."""
    return CanvasHook(CANVAS_CONN_ID).get_progress(started).to_dict()


#: Jobs whose runner saves its own ending over a cancel written while they ran.
_OVERWRITING_TAGS = ("course_batch_update", "conversation_batch_update")


with DAG(
    dag_id="canvas_wait_or_cancel",
    description="Start a Canvas job, cancel it if it outlives its deadline, route on the outcome.",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    # Lists in params must reach the request as lists, not as their text.
    render_template_as_native_obj=True,
    params={
        "conversation_ids": Param(
            [1, 2, 3],
            type="array",
            items={"type": "integer"},
            minItems=1,
            maxItems=500,
            description="Conversations of the token's user; Canvas takes at most 500 per job.",
        ),
        "event": Param(
            "mark_as_read",
            enum=["mark_as_read", "mark_as_unread", "star", "unstar", "archive", "destroy"],
            description="What to do with them.",
        ),
    },
    tags=["canvas", "example"],
    doc_md=__doc__,
) as dag:
    start_job = CanvasStartJobOperator(
        task_id="start_job",
        canvas_conn_id=CANVAS_CONN_ID,
        method="PUT",
        endpoint="/api/v1/conversations",
        data={"event": "{{ params.event }}", "conversation_ids[]": "{{ params.conversation_ids }}"},
    )

    wait = CanvasProgressSensor(
        task_id="wait",
        canvas_conn_id=CANVAS_CONN_ID,
        progress_id=start_job.output,
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=CANCEL_AFTER_SECONDS,
        fail_on=[],
    )

    cancel = CancelProgressOperator(
        task_id="cancel",
        canvas_conn_id=CANVAS_CONN_ID,
        progress_id=start_job.output,
        message=(
            "Cancelled by Airflow (dag {{ dag.dag_id }}, run {{ run_id }}): "
            f"not finished within {CANCEL_AFTER_SECONDS:g} s"
        ),
        trigger_rule=TriggerRule.ONE_FAILED,
    )

    route = CanvasProgressBranchOperator(
        task_id="route",
        canvas_conn_id=CANVAS_CONN_ID,
        progress_id=start_job.output,
        on_completed="report",
        on_failed="alert",
        on_cancelled="cleanup",
        trigger_rule=TriggerRule.ALL_DONE,
    )

    @task
    def report(started: dict[str, Any], ti: Any = None) -> dict[str, Any]:
        """The job completed: in time, or after a cancel that its batch runner overwrote."""
        progress = _final(started)
        cancelled = ti.xcom_pull(task_ids="cancel", key="progress") if ti is not None else None
        if cancelled:
            print(
                f"Canvas job {progress.get('id')} completed despite the cancel (Canvas's batch finished "
                f"and overwrote it): {progress.get('message')}"
            )
        else:
            print(f"Canvas job {progress.get('id')} completed: {progress.get('message')}")
        return progress

    @task
    def alert(started: dict[str, Any]) -> dict[str, Any]:
        """The job failed in Canvas (not a cancel): tell someone."""
        progress = _final(started)
        print(f"ALERT: Canvas job {progress.get('id')} ({progress.get('tag')}) failed: {progress.get('message')}")
        return progress

    @task
    def cleanup(started: dict[str, Any]) -> dict[str, Any]:
        """The job was cancelled: Canvas's cancel is advisory, so part or all of the work may be done."""
        progress = _final(started)
        if progress.get("workflow_state") == "completed":
            # The batch was running when cancelled: it finished and saved itself over the cancel.
            print(
                f"Canvas job {progress.get('id')} finished despite the cancel: {progress.get('message')}. "
                "Its work is done; do not start it again."
            )
        elif progress.get("tag") in _OVERWRITING_TAGS:
            print(
                f"Canvas job {progress.get('id')} was cancelled ({progress.get('message')}), but a running "
                "batch is not stopped by a cancel: it may still finish and read 'completed' later. "
                "Read its Progress again before starting it again."
            )
        else:
            print(
                f"Canvas job {progress.get('id')} was cancelled ({progress.get('message')}); it may have "
                "done part of its work before the cancel. Check before starting it again."
            )
        return progress

    start_job >> wait >> cancel >> route
    wait >> route
    route >> [report(start_job.output), alert(start_job.output), cleanup(start_job.output)]
