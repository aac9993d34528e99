"""Test DAGs for durable retries: a course batch update that waits, with retries, in each mode.

Each try logs through the operator; the tests read what the simulator received (how many jobs were
started) and the ``canvas_job`` XCom (the reference the last try worked on).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_canvas_progress.operators.reports import CanvasAccountReportOperator
from airflow_provider_canvas_progress.operators.start_job import CanvasCourseBatchUpdateOperator

START = pendulum.datetime(2025, 1, 1, tz="UTC")
DAGS: dict[str, DAG] = {}

for mode in ("poke", "deferrable"):
    for durable in (True, False):
        dag_id = f"durable_batch_{mode}" if durable else f"durable_batch_{mode}_off"
        with DAG(dag_id, schedule=None, start_date=START, catchup=False) as dag:
            CanvasCourseBatchUpdateOperator(
                task_id="batch",
                account_id=1,
                course_ids=[1, 2],
                event="offer",
                wait_for_completion=True,
                deferrable=mode == "deferrable",
                poll_interval=1,
                timeout=120,
                durable=durable,
                retries=2,
                retry_delay=timedelta(seconds=0),
                # Tight, so that a Canvas outage mid-wait fails the try in seconds.
                max_consecutive_failures=1,
            )
        DAGS[dag_id] = dag

with DAG("durable_report_poke", schedule=None, start_date=START, catchup=False) as dag:
    CanvasAccountReportOperator(
        task_id="run",
        account_id=1,
        report="last_user_access_csv",
        poll_interval=1,
        timeout=120,
        retries=1,
        retry_delay=timedelta(seconds=0),
        max_consecutive_failures=1,
    )
DAGS["durable_report_poke"] = dag
