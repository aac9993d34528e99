"""A real Airflow (scheduler, triggerer, ...) waits on Canvas through a triggerer crash.

The DAG's two sensors defer; the triggerer is SIGKILLed mid-wait and started again. The job that
ends after the restart must still be seen, and the wait with a timeout must time out on its
original schedule: the trigger's deadline is absolute, so a restart neither resets nor extends it.
Every log file of the run is then scanned for the API token.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript
from tests.e2e.cluster import AirflowCluster, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

DAG_ID = "canvas_e2e_restart"
TIMEOUT = 45.0
DAGS = Path(__file__).parent / "dags"
FINISHED = {"success", "failed", "skipped", "upstream_failed"}


@pytest.fixture
def simulator() -> Iterator[CanvasSimulator]:
    with CanvasSimulator() as sim:
        yield sim


@pytest.fixture
def cluster(simulator: CanvasSimulator) -> Iterator[AirflowCluster]:
    home = Path(tempfile.mkdtemp(prefix="canvas-e2e-"))
    conn = {"conn_type": "canvas", "host": simulator.base_url, "password": simulator.token}
    cluster = AirflowCluster(
        home, DAGS, {"AIRFLOW_CONN_CANVAS_DEFAULT": json.dumps(conn), "CANVAS_E2E_TIMEOUT": str(TIMEOUT)}
    )
    cluster.airflow("db", "migrate")
    for name in cluster.components():
        cluster.start(name)
    try:
        yield cluster
    finally:
        cluster.stop_all()
        print(f"Airflow home of this run (logs): {home}")


def progress_polls(sim: CanvasSimulator, pid: str) -> int:
    return sum(1 for r in sim.requests if r.path == f"/api/v1/progress/{pid}")


def test_waits_survive_a_triggerer_crash_and_keep_their_timeout(
    simulator: CanvasSimulator, cluster: AirflowCluster
) -> None:
    # Ends when the test says so, after the restart: a job on a timer could end while the triggerer
    # is down on a slow machine, leaving too few polls to prove the new triggerer resumed.
    done = simulator.create_progress(script=JobScript.never_ending(running_for=1.0))
    stuck = simulator.create_progress(script=JobScript.never_ending(running_for=5.0))

    wait_for(lambda: cluster.query("SELECT 1 FROM dag WHERE dag_id = ?", DAG_ID), 180, "the DAG to be parsed")
    cluster.trigger(DAG_ID, {"done_id": done, "stuck_id": stuck})
    wait_for(lambda: set(cluster.task_states(DAG_ID).values()) == {"deferred"}, 180, "both sensors to defer")
    deferred_at = time.monotonic()
    wait_for(lambda: progress_polls(simulator, stuck) >= 3, 60, "the triggerer to poll")

    cluster.kill("triggerer")
    polls_before = progress_polls(simulator, done)
    time.sleep(4)
    restarted_at = time.monotonic()
    cluster.start("triggerer")
    wait_for(lambda: progress_polls(simulator, done) > polls_before + 2, 90, "a new triggerer to resume polling")
    simulator.set_progress(done, workflow_state="completed", completion=100.0)

    states = wait_for(
        lambda: set((s := cluster.task_states(DAG_ID)).values()) <= FINISHED and s,
        TIMEOUT + 180,
        "both sensors to finish",
    )
    assert states == {"wait_completes": "success", "wait_times_out": "failed"}
    # The stuck job's polls show the trigger's own deadline, free of scheduling overhead: the first
    # is the worker's poke just before deferring, the last the trigger's final one. Deferred at t0,
    # crashed at ~t0+3 s and back at ~t0+7 s, a reset timeout would poll until ~t0+52 s.
    stuck_polls = [r.time for r in simulator.requests if r.path == f"/api/v1/progress/{stuck}"]
    assert stuck_polls[-1] > restarted_at, "the restarted triggerer never polled the stuck job"
    waited = stuck_polls[-1] - stuck_polls[0]
    assert TIMEOUT - 3 <= waited <= TIMEOUT + 1, f"polled for {waited:.1f} s with a {TIMEOUT:.0f} s timeout"
    assert time.monotonic() - deferred_at < TIMEOUT + 60  # and the task itself did not hang around
    assert simulator.progress_json(stuck)["workflow_state"] == "running"  # no cancel was asked for

    leaked = [str(p) for p in cluster.logs() if simulator.token in p.read_text(errors="replace")]
    assert leaked == [], f"the token appears in {leaked}"
