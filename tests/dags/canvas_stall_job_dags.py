"""Test DAGs for the stall watch on SIS imports and account reports: the sensors in every mode, the
operators in theirs, and a route on ``stalled`` through each kind's branch operator.

``stalled_after`` is 3 s here, below the 60 s floor DAGs are held to: the tests that run these DAGs
lower :data:`~airflow_provider_canvas_progress.core.stall.MIN_STALLED_AFTER` first (the floor is
read when a task is built and when its trigger is rebuilt, both in the test's process).
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, task

from airflow_provider_canvas_progress.operators.reports import (
    CanvasAccountReportBranchOperator,
    CanvasAccountReportOperator,
)
from airflow_provider_canvas_progress.operators.sis import CanvasSisImportBranchOperator, CanvasSisImportOperator
from airflow_provider_canvas_progress.sensors.reports import CanvasAccountReportSensor
from airflow_provider_canvas_progress.sensors.sis import CanvasSisImportSensor

STALLED_AFTER = 3.0
#: A sensor's timeout: four stalled_after, so a stall comes well before it and a timeout does not take long.
TIMEOUT = 12.0
START = pendulum.datetime(2025, 1, 1, tz="UTC")
PARAMS = {"account_id": "1", "job_id": "0", "report": "last_user_access_csv", "sis_data": ""}
MODES: dict[str, dict[str, Any]] = {
    "poke": {"mode": "poke", "deferrable": False},
    "reschedule": {"mode": "reschedule", "deferrable": False},
    "deferrable": {"deferrable": True},
}
#: Without ``stalled`` in ``fail_on`` the wait succeeds with it, and the branch follows ``on_pending``.
ROUTING = {"sis": ["failed", "aborted"], "report": ["error", "aborted"]}
DAGS: dict[str, DAG] = {}


def _dag(dag_id: str) -> DAG:
    dag = DAG(dag_id, schedule=None, start_date=START, catchup=False, params=PARAMS, tags=["canvas-tests"])
    DAGS[dag_id] = dag
    return dag


def _landing(*names: str) -> list[Any]:
    @task
    def landed() -> str:
        return "here"

    return [landed.override(task_id=name)() for name in names]


def _sis_sensor(**kwargs: Any) -> CanvasSisImportSensor:
    return CanvasSisImportSensor(
        task_id="watch",
        account_id="{{ params.account_id }}",
        sis_import_id="{{ params.job_id }}",
        timeout=TIMEOUT,
        stalled_after=STALLED_AFTER,
        **kwargs,
    )


def _report_sensor(**kwargs: Any) -> CanvasAccountReportSensor:
    return CanvasAccountReportSensor(
        task_id="watch",
        account_id="{{ params.account_id }}",
        report="{{ params.report }}",
        report_id="{{ params.job_id }}",
        timeout=TIMEOUT,
        stalled_after=STALLED_AFTER,
        **kwargs,
    )


SENSORS = {"sis": _sis_sensor, "report": _report_sensor}

for kind, sensor in SENSORS.items():
    for mode, mode_kwargs in MODES.items():
        for cancel in (False, True):
            with _dag(f"stall_{kind}_sensor_{mode}{'_cancel' if cancel else ''}"):
                sensor(poke_interval=1, cancel_on_stall=cancel, **mode_kwargs)

with _dag("stall_sis_sensor_queued"):
    # Longer than stalled_after three times over: the kind is asked why, and the queue explains it.
    _sis_sensor(poke_interval=1, mode="poke")

with _dag("stall_sis_routes"):
    sis_watch = _sis_sensor(poke_interval=1, fail_on=ROUTING["sis"])
    sis_route = CanvasSisImportBranchOperator(
        task_id="route", sis_import=sis_watch.output, on_imported="load", on_failed="alert", on_pending="look"
    )
    sis_watch >> sis_route >> _landing("load", "alert", "look")

with _dag("stall_report_routes"):
    report_watch = _report_sensor(poke_interval=1, fail_on=ROUTING["report"])
    report_route = CanvasAccountReportBranchOperator(
        task_id="route", account_report=report_watch.output, on_complete="load", on_error="alert", on_pending="look"
    )
    report_watch >> report_route >> _landing("load", "alert", "look")

for mode in ("poke", "deferrable"):
    # The operators abort what they started on a stall: a retry would start afresh.
    waiting: dict[str, Any] = {
        "task_id": "start",
        "account_id": "{{ params.account_id }}",
        "deferrable": mode == "deferrable",
        "poll_interval": 1,
        "timeout": 60,
        "stalled_after": STALLED_AFTER,
        "cancel_on_stall": True,
    }
    with _dag(f"stall_sis_operator_{mode}"):
        CanvasSisImportOperator(sis_data="{{ params.sis_data }}", **waiting)
    with _dag(f"stall_report_operator_{mode}"):
        CanvasAccountReportOperator(report="{{ params.report }}", **waiting)
