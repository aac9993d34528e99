"""Test DAGs for SIS imports: the sensor per wait mode and variant, the operator per mode, a branch.

Driven by ``params`` (the account, the import id, the upload as base64 text), because Airflow 3's
``dag.test()`` re-parses the dags folder. ``DAGS`` maps dag_id to DAG for the tests.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_canvas_progress.operators.sis import (
    CanvasSisImportAbortOperator,
    CanvasSisImportBranchOperator,
    CanvasSisImportOperator,
)
from airflow_provider_canvas_progress.sensors.sis import CanvasSisImportSensor

MODES: dict[str, dict[str, Any]] = {
    "poke": {"mode": "poke", "deferrable": False},
    "reschedule": {"mode": "reschedule", "deferrable": False},
    "deferrable": {"deferrable": True},
}
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {"timeout": 60},
    "no_fail": {"timeout": 60, "fail_on": []},
    "soft": {"timeout": 3, "soft_fail": True},
    "timeout": {"timeout": 3, "abort_on_timeout": True},
}
START = pendulum.datetime(2024, 1, 1, tz="UTC")
PARAMS = {"account_id": "1", "sis_import_id": "1", "sis_data": "", "threshold": 10}

DAGS: dict[str, DAG] = {}


def _dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=None, start_date=START, catchup=False, params=PARAMS, tags=["canvas-tests"])


def _import(**kwargs: Any) -> CanvasSisImportOperator:
    """The operator on ``params.sis_data``, polling fast."""
    options = {"deferrable": False, "fail_on": [], **kwargs}
    return CanvasSisImportOperator(
        task_id="import_sis",
        account_id="{{ params.account_id }}",
        sis_data="{{ params.sis_data }}",
        poll_interval=0.3,
        timeout=60,
        **options,
    )


for mode, mode_kwargs in MODES.items():
    for variant, variant_kwargs in VARIANTS.items():
        with _dag(f"sis_sensor_{mode}_{variant}") as dag:
            CanvasSisImportSensor(
                task_id="wait",
                account_id="{{ params.account_id }}",
                sis_import_id="{{ params.sis_import_id }}",
                poke_interval=0.3 if mode != "reschedule" else 1,
                retries=2,  # outcomes in fail_on must not be retried
                **mode_kwargs,
                **variant_kwargs,
            )
        DAGS[dag.dag_id] = dag

    with _dag(f"sis_operator_{mode}") as dag:
        _import(deferrable=mode == "deferrable")
        if mode != "reschedule":  # the operator has no reschedule mode; that DAG checks the branch
            DAGS[dag.dag_id] = dag

with _dag("sis_operator_failing") as dag:
    _import(retries=2, deferrable=True, fail_on=("failed", "aborted"))
DAGS[dag.dag_id] = dag

with _dag("sis_branch") as dag:
    start = _import()
    branch = CanvasSisImportBranchOperator(
        task_id="branch",
        sis_import=start.output,
        on_imported="report",
        on_imported_with_messages="report_with_warnings",
        on_failed="alert_failed",
        on_aborted="alert_aborted",
        on_threshold_aborted="alert_threshold",
    )
    ends = [
        CanvasSisImportAbortOperator(task_id=task_id, account_id="{{ params.account_id }}", all_pending=True)
        for task_id in ("report", "report_with_warnings", "alert_failed", "alert_aborted", "alert_threshold")
    ]
    start >> branch >> ends
DAGS[dag.dag_id] = dag

with _dag("sis_abort") as dag:
    CanvasSisImportAbortOperator(
        task_id="abort", account_id="{{ params.account_id }}", sis_import_id="{{ params.sis_import_id }}"
    )
DAGS[dag.dag_id] = dag
