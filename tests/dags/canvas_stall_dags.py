"""Test DAGs for the stall watch: a sensor and a job operator in every mode, driven by ``params``.

``stalled_after`` is 3 s here, below the 60 s floor DAGs are held to: the tests that run these DAGs
lower :data:`~airflow_provider_canvas_progress.core.stall.MIN_STALLED_AFTER` first (the floor is
read when a task is built and when its trigger is rebuilt, both in the test's process).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_canvas_progress.operators.start_job import CanvasCourseBatchUpdateOperator
from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor

STALLED_AFTER = 3.0
START = pendulum.datetime(2025, 1, 1, tz="UTC")
DAGS: dict[str, DAG] = {}


def _dag(dag_id: str, **params: Any) -> DAG:
    dag = DAG(dag_id, schedule=None, start_date=START, catchup=False, params=params)
    DAGS[dag_id] = dag
    return dag


for mode in ("poke", "reschedule", "deferrable"):
    for cancel in (False, True):
        suffix = "_cancel" if cancel else ""
        with _dag(f"stall_sensor_{mode}{suffix}", progress_id="0"):
            CanvasProgressSensor(
                task_id="watch",
                progress_id="{{ params.progress_id }}",
                mode="reschedule" if mode == "reschedule" else "poke",
                deferrable=mode == "deferrable",
                poke_interval=1,
                timeout=120,
                stalled_after=STALLED_AFTER,
                cancel_on_stall=cancel,
            )

with _dag("stall_sensor_routes", progress_id="0"):
    CanvasProgressSensor(
        task_id="watch",
        progress_id="{{ params.progress_id }}",
        poke_interval=1,
        timeout=120,
        stalled_after=timedelta(seconds=STALLED_AFTER),
        fail_on=["failed", "cancelled"],
    )

for mode in ("poke", "deferrable"):
    with _dag(f"stall_batch_{mode}"):
        CanvasCourseBatchUpdateOperator(
            task_id="batch",
            account_id=1,
            course_ids=[1, 2],
            event="offer",
            wait_for_completion=True,
            deferrable=mode == "deferrable",
            poll_interval=1,
            timeout=120,
            stalled_after=STALLED_AFTER,
            cancel_on_stall=True,
        )
