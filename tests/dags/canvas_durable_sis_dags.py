"""Test DAGs for durable SIS imports: upload, wait, retry once, with a diffing data set identifier."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_canvas_progress.operators.sis import CanvasSisImportOperator

DAGS: dict[str, DAG] = {}

for mode in ("poke", "deferrable"):
    dag_id = f"durable_sis_{mode}"
    with DAG(
        dag_id,
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        catchup=False,
        params={"sis_data": ""},
    ) as dag:
        CanvasSisImportOperator(
            task_id="import_sis",
            account_id=1,
            sis_data="{{ params.sis_data }}",
            diffing_data_set_identifier="nightly-users",
            deferrable=mode == "deferrable",
            poll_interval=1,
            timeout=120,
            retries=1,
            retry_delay=timedelta(seconds=0),
            max_consecutive_failures=1,
        )
    DAGS[dag_id] = dag
