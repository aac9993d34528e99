"""Test DAGs: one CanvasProgressSensor per wait mode and variant, driven by ``params``.

Airflow 3's ``dag.test()`` re-parses the dags folder, so the scenarios live in one file of DAGs
rather than being built inside each test. ``DAGS`` maps dag_id to DAG for the tests.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor

MODES: dict[str, dict[str, Any]] = {
    "poke": {"mode": "poke", "deferrable": False},
    "reschedule": {"mode": "reschedule", "deferrable": False},
    "deferrable": {"deferrable": True},
}
# start_from_trigger is not here: dag.test() runs execute() first on both Airflow versions, so it is
# covered by tests/airflow/test_sensor_units.py (the trigger built from StartTriggerArgs).
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {"timeout": 60},
    "soft": {"timeout": 3, "soft_fail": True},
    "no_fail": {"timeout": 60, "fail_on": []},
    "timeout": {"timeout": 3, "cancel_on_timeout": True},
}

DAGS: dict[str, DAG] = {}
for mode, mode_kwargs in MODES.items():
    for variant, variant_kwargs in VARIANTS.items():
        dag_id = f"sensor_{mode}_{variant}"
        with DAG(
            dag_id,
            schedule=None,
            start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
            catchup=False,
            params={"progress_id": "1"},
            tags=["canvas-tests"],
        ) as dag:
            CanvasProgressSensor(
                task_id="wait",
                progress_id="{{ params.progress_id }}",
                poke_interval=0.3 if mode != "reschedule" else 1,
                retries=2,  # failures must not be retried: proves AirflowFailException semantics
                **mode_kwargs,
                **variant_kwargs,
            )
        DAGS[dag_id] = dag
