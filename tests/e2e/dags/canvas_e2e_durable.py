"""End-to-end DAG: a course batch update whose worker is killed while it waits.

Every try writes its process id to ``$CANVAS_E2E_PIDS/try<N>`` when it starts, so the test can
SIGKILL the process that runs the wait -- a worker lost mid-wait, not an exception raised in it.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_canvas_progress.operators.start_job import CanvasCourseBatchUpdateOperator


def record_pid(context: Any) -> None:
    folder = Path(os.environ.get("CANVAS_E2E_PIDS", "/tmp"))
    (folder / f"try{context['ti'].try_number}").write_text(str(os.getpid()))


with DAG(
    "canvas_e2e_durable",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
) as dag:
    CanvasCourseBatchUpdateOperator(
        task_id="batch",
        account_id=1,
        course_ids=[1, 2],
        event="offer",
        wait_for_completion=True,
        poll_interval=1,
        timeout=600,
        retries=1,
        retry_delay=timedelta(seconds=1),
        on_execute_callback=record_pid,
    )
