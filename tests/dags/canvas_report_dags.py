"""Test DAGs for account reports: the sensor per wait mode, the operator per mode, mapping, a branch, an abort.

Driven by ``params`` (the report, its id, its parameters, where to save it), because Airflow 3's
``dag.test()`` re-parses the dags folder. ``DAGS`` maps dag_id to DAG for the tests.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, task

from airflow_provider_canvas_progress.operators.reports import (
    CanvasAccountReportAbortOperator,
    CanvasAccountReportBranchOperator,
    CanvasAccountReportOperator,
)
from airflow_provider_canvas_progress.sensors.reports import CanvasAccountReportSensor

MODES: dict[str, dict[str, Any]] = {
    "poke": {"mode": "poke", "deferrable": False},
    "reschedule": {"mode": "reschedule", "deferrable": False},
    "deferrable": {"deferrable": True},
}
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {"timeout": 60},
    "no_fail": {"timeout": 60, "fail_on": []},
    "timeout": {"timeout": 2, "abort_on_timeout": True},
}
START = pendulum.datetime(2024, 1, 1, tz="UTC")
PARAMS = {
    "account_id": "1",
    "report": "last_user_access_csv",
    "report_id": "1",
    "parameters": {},
    "output": "",
}
#: Three reports at once, as a nightly DAG maps them.
MAPPED = [
    {"report": "provisioning_csv", "parameters": {"users": True, "courses": True, "enrollments": True}},
    {"report": "grade_export_csv", "parameters": {}},
    {"report": "last_user_access_csv", "parameters": {"course_id": 2}},
]

DAGS: dict[str, DAG] = {}


def _dag(dag_id: str) -> DAG:
    return DAG(dag_id, schedule=None, start_date=START, catchup=False, params=PARAMS, tags=["canvas-tests"])


for mode, mode_kwargs in MODES.items():
    for variant, variant_kwargs in VARIANTS.items():
        with _dag(f"report_sensor_{mode}_{variant}") as dag:
            CanvasAccountReportSensor(
                task_id="wait",
                account_id="{{ params.account_id }}",
                report="{{ params.report }}",
                report_id="{{ params.report_id }}",
                output_path="{{ params.output }}",
                poke_interval=0.3 if mode != "reschedule" else 1,
                retries=2,  # outcomes in fail_on must not be retried
                **mode_kwargs,
                **variant_kwargs,
            )
        DAGS[dag.dag_id] = dag
    if mode == "reschedule":
        continue  # the operator has no reschedule mode
    for variant, extra in (("default", {}), ("no_fail", {"fail_on": []}), ("tiny", {"max_bytes": 50})):
        with _dag(f"report_operator_{mode}_{variant}") as dag:
            CanvasAccountReportOperator(
                task_id="run",
                account_id="{{ params.account_id }}",
                report="{{ params.report }}",
                parameters="{{ params.parameters }}",
                output_path="{{ params.output }}",
                extract=True,
                poll_interval=0.3,
                timeout=60,
                retries=2,
                deferrable=mode == "deferrable",
                **extra,
            )
        DAGS[dag.dag_id] = dag

with _dag("report_branch") as dag:
    run = CanvasAccountReportOperator(
        task_id="run",
        report="{{ params.report }}",
        parameters="{{ params.parameters }}",
        poll_interval=0.3,
        timeout=60,
        fail_on=[],
    )
    route = CanvasAccountReportBranchOperator(
        task_id="route",
        account_report=run.output,
        on_complete="load",
        on_error="alert",
        on_aborted="rerun",
    )
    for name in ("load", "alert", "rerun"):

        @task(task_id=name)
        def landed() -> str:
            return "here"

        route >> landed()
    run >> route
DAGS[dag.dag_id] = dag

with _dag("report_abort") as dag:
    CanvasAccountReportAbortOperator(
        task_id="abort",
        account_id="{{ params.account_id }}",
        report="{{ params.report }}",
        report_id="{{ params.report_id }}",
    )
DAGS[dag.dag_id] = dag

with _dag("report_mapped") as dag:
    runs = CanvasAccountReportOperator.partial(
        task_id="run", output_path="{{ params.output }}", poll_interval=0.3, timeout=60, deferrable=True
    ).expand_kwargs(MAPPED)

    @task
    def summarize(results: list[dict[str, Any]]) -> dict[str, str]:
        return {r["report"]: r["file"]["sha256"] for r in results}

    summarize(runs.output)
DAGS[dag.dag_id] = dag
