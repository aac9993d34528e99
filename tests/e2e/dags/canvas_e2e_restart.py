"""End-to-end DAG: two deferred waits that must survive a triggerer restart.

``wait_completes`` waits on a job that ends after the restart; ``wait_times_out`` waits on a job
that never ends, with a short timeout that a restart must not extend.
"""

from __future__ import annotations

import os

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor

TIMEOUT = float(os.environ.get("CANVAS_E2E_TIMEOUT", "45"))

with DAG(
    "canvas_e2e_restart",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
    params={"done_id": "1", "stuck_id": "2"},
) as dag:
    CanvasProgressSensor(
        task_id="wait_completes",
        progress_id="{{ params.done_id }}",
        deferrable=True,
        poke_interval=1,
        timeout=600,
        retries=0,
    )
    CanvasProgressSensor(
        task_id="wait_times_out",
        progress_id="{{ params.stuck_id }}",
        deferrable=True,
        poke_interval=1,
        timeout=TIMEOUT,
        retries=0,
    )
