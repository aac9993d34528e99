"""A real Airflow whose worker is SIGKILLed while a job-starting task waits on its Canvas job.

On Airflow >= 3.3 the retry finds the job in the task state store and re-attaches to it: the
simulator receives exactly one job-starting call. Below 3.3 there is no store, so the retry starts a
second job beside the first, as the docs say ("Retries and stuck jobs").
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_3_PLUS

from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript
from tests.e2e.cluster import AirflowCluster, running_cluster, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

DAG_ID = "canvas_e2e_durable"
BATCH_PATH = "/api/v1/accounts/1/courses"


@pytest.fixture
def pids() -> Path:
    return Path(tempfile.mkdtemp(prefix="canvas-e2e-pids-"))


@pytest.fixture
def cluster(simulator: CanvasSimulator, pids: Path) -> Iterator[AirflowCluster]:
    with running_cluster(simulator.base_url, simulator.token, {"CANVAS_E2E_PIDS": str(pids)}) as cluster:
        yield cluster


def jobs_started(sim: CanvasSimulator) -> int:
    return sum(1 for r in sim.requests if r.method == "PUT" and r.path == BATCH_PATH)


def reads_of_first_job(sim: CanvasSimulator) -> list[str]:
    return [r.path for r in sim.requests if r.method == "GET" and r.path.startswith("/api/v1/progress/")]


def test_a_worker_killed_mid_wait_is_followed_by_a_retry_that_re_attaches(
    simulator: CanvasSimulator, cluster: AirflowCluster, pids: Path
) -> None:
    simulator.script_next_job(JobScript.never_ending(running_for=1.0))
    simulator.script_next_job(JobScript(queued_for=0.1, running_for=1.0))  # only a second job would run it
    wait_for(lambda: cluster.query("SELECT 1 FROM dag WHERE dag_id = ?", DAG_ID), 180, "the DAG to be parsed")
    cluster.trigger(DAG_ID, {})
    wait_for(lambda: (pids / "try1").exists() and len(reads_of_first_job(simulator)) >= 2, 180, "try 1 to wait")
    first_job = reads_of_first_job(simulator)[0].rsplit("/", 1)[-1]

    os.kill(int((pids / "try1").read_text()), signal.SIGKILL)
    wait_for(lambda: (pids / "try2").exists(), 180, "Airflow to retry the killed try")
    if AIRFLOW_V_3_3_PLUS:
        reads = len(reads_of_first_job(simulator))
        wait_for(lambda: len(reads_of_first_job(simulator)) > reads + 1, 60, "try 2 to wait on the first job")
        simulator.set_progress(first_job, workflow_state="completed", completion=100.0)

    assert cluster.finished(DAG_ID, 180) == {"batch": "success"}
    if AIRFLOW_V_3_3_PLUS:
        assert jobs_started(simulator) == 1
        later_reads = reads_of_first_job(simulator)
        assert all(path.endswith(f"/{first_job}") for path in later_reads)
    else:
        # No task state store: the retry starts a second job, and the first is left running.
        assert jobs_started(simulator) == 2
        assert simulator.progress_json(first_job)["workflow_state"] == "running"
