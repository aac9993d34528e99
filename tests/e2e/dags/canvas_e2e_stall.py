"""End-to-end DAG: two deferred waits with a stall watch that must survive a triggerer restart.

``watch_import`` waits on an SIS import that never moves again, ``stalled`` in its ``fail_on`` (the
default): the task fails with ``CanvasJobStalled``. ``watch_report`` waits on a report that never
moves again, ``stalled`` left out of ``fail_on`` and ``cancel_on_stall`` set: the report is aborted
and the task succeeds with the outcome ``stalled``. ``stalled_after`` is the 60 s floor: the
triggerer, which never reads this file, holds the watch to it.
"""

from __future__ import annotations

import os

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_canvas_progress.sensors.reports import CanvasAccountReportSensor
from airflow_provider_canvas_progress.sensors.sis import CanvasSisImportSensor

STALLED_AFTER = float(os.environ.get("CANVAS_E2E_STALLED_AFTER", "60"))

with DAG(
    "canvas_e2e_stall",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
    params={"import_id": "1", "report_id": "1"},
) as dag:
    CanvasSisImportSensor(
        task_id="watch_import",
        account_id=1,
        sis_import_id="{{ params.import_id }}",
        deferrable=True,
        poke_interval=1,
        timeout=600,
        stalled_after=STALLED_AFTER,
        retries=0,
    )
    CanvasAccountReportSensor(
        task_id="watch_report",
        account_id=1,
        report="last_user_access_csv",
        report_id="{{ params.report_id }}",
        deferrable=True,
        poke_interval=1,
        timeout=600,
        stalled_after=STALLED_AFTER,
        fail_on=["error", "aborted"],
        cancel_on_stall=True,
        retries=0,
    )
