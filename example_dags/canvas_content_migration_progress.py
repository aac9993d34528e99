"""Wait on a ``progress_url`` that another Canvas answer hands you: a content migration (course copy).

Many Canvas objects run as background jobs without *being* a Progress: content migrations and
content exports answer with their own JSON and point to the job in a ``progress_url`` field. The
pattern::

    start_migration ──> wait ──> report

* ``start_migration`` calls ``POST /api/v1/courses/:course_id/content_migrations`` through
  :meth:`CanvasHook.request` (any Canvas call, with the provider's retries, throttling and token
  handling) and returns the migration JSON. Any task that returns such JSON will do.
* ``wait`` (:class:`CanvasProgressSensor`, deferrable) takes the ``progress_url`` straight from
  that XCom: ``progress_id`` accepts a Progress URL on the connection's host (a URL on any other
  host is refused, so the token never leaves for it). With the default ``fail_on``, a failed or
  cancelled migration fails the task, so ``report`` only runs for a completed one.

Run it: ``airflow dags test canvas_content_migration_progress`` with a ``canvas_default``
connection, or ``--conf '{"course_id": 42, "source_course_id": 41}'``.

.. warning:: The defaults really change a course: they copy the content of course 2 into course 1.
   Point ``canvas_default`` at a test or beta instance, or override the parameters.

Environment variables, read when the file is parsed (poll intervals and timeouts are not
templated):

* ``CANVAS_EXAMPLE_POLL_SECONDS``: seconds between reads of the Progress (default 30);
* ``CANVAS_EXAMPLE_TIMEOUT_SECONDS``: longest wait for the migration (default 21600, six hours).
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Param, task

from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
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


with DAG(
    dag_id="canvas_content_migration_progress",
    description="Copy one Canvas course into another and wait on the migration's progress_url.",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "course_id": Param(1, type="integer", minimum=1, description="The course to copy into."),
        "source_course_id": Param(2, type="integer", minimum=1, description="The course to copy from."),
    },
    tags=["canvas", "example"],
    doc_md=__doc__,
) as dag:
    # One XCom, not one per key: the dict return annotation would otherwise split it, and Airflow 3.0
    # refuses to store a key whose value is None (the migration's ``finished_at``), failing the task.
    @task(multiple_outputs=False)
    def start_migration(params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Start a course copy; Canvas answers with the migration, which carries ``progress_url``."""
        assert params is not None  # Airflow passes the DAG's params to a task that asks for them
        migration: dict[str, Any] = CanvasHook(CANVAS_CONN_ID).request(
            "POST",
            f"/api/v1/courses/{params['course_id']}/content_migrations",
            data={
                "migration_type": "course_copy_importer",
                "settings": {"source_course_id": params["source_course_id"]},
            },
        )
        print(f"Started content migration {migration.get('id')}; its job: {migration.get('progress_url')}")
        return migration

    migration = start_migration()

    wait = CanvasProgressSensor(
        task_id="wait",
        canvas_conn_id=CANVAS_CONN_ID,
        progress_id="{{ ti.xcom_pull(task_ids='start_migration')['progress_url'] }}",
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=TIMEOUT_SECONDS,
    )

    @task
    def report(progress: dict[str, Any], migration: dict[str, Any], params: dict[str, Any] | None = None) -> str:
        """The copy completed: say so (replace with notifying the course's teachers, …)."""
        assert params is not None
        text = (
            f"Content migration {migration.get('id')} (course {params['source_course_id']} into course "
            f"{params['course_id']}) completed: Progress {progress.get('id')} is {progress.get('workflow_state')} "
            f"at {progress.get('completion')}%, message {progress.get('message')!r}"
        )
        print(text)
        return text

    # The template above reads start_migration's XCom, so the dependency is declared explicitly.
    migration >> wait
    report(wait.output, migration)
