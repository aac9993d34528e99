"""Durable SIS imports in real Airflow (``dag.test()``): try 1 dies mid-wait (Canvas answers 503 to
every read of the import until the try gives up), and the retry waits on the import try 1 uploaded
instead of uploading the night's file again -- through the task state store on Airflow >= 3.3, and on
older Airflow by finding the one import of this DAG run with the task's diffing data set identifier.
"""

from __future__ import annotations

import base64

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, Fault, SisScript, build_zip
from tests.airflow.runner import DagResult, load_dag, run_dag

USERS = "user_id,login_id,first_name,last_name,status\nu1,u1@x.edu,Ada,L,active\n"
CREATE = "/api/v1/accounts/1/sis_imports"


def run(mode: str) -> DagResult:
    data = base64.b64encode(build_zip({"users.csv": USERS})).decode()
    return run_dag(load_dag("canvas_durable_sis_dags", f"durable_sis_{mode}"), sis_data=data)


def uploads(canvas: CanvasSimulator) -> int:
    return sum(1 for r in canvas.requests if r.method == "POST" and r.path == CREATE)


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_retry_waits_on_the_import_it_already_uploaded(canvas: CanvasSimulator, mode: str) -> None:
    canvas.sis.script_next_import(SisScript(pickup=0.1, importing_for=6.0))
    canvas.inject(Fault.status(503), times=3, path=r"^/api/v1/accounts/1/sis_imports/\d+$", method="GET")

    result = run(mode)

    assert result.states["import_sis"] == "success"
    assert uploads(canvas) == 1
    assert result.xcom("import_sis")["outcome"] == "imported"
    assert result.xcom("import_sis", "canvas_job")["attached_by_try"] == 2
