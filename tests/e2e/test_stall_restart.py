"""A real Airflow (scheduler, triggerer, ...) watches for stalled Canvas jobs through a triggerer crash.

The DAG's two sensors defer on jobs the simulator keeps pending without any change: an SIS import and
an account report. The triggerer is SIGKILLed mid-wait and started again. The stall watch's record
travels in the trigger's kwargs, so each wait must end ``stalled`` on its original schedule --
``stalled_after`` after the worker's first read, before deferring -- neither reset by the restart
(which would end it ``stalled_after`` after the new triggerer's first poll) nor lost.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_canvas_progress.core.stall import MIN_STALLED_AFTER
from airflow_provider_canvas_progress.testing import CanvasSimulator, SisScript
from airflow_provider_canvas_progress.testing.reports_control import reports_of
from airflow_provider_canvas_progress.testing.reports_store import ReportScript
from tests.e2e.cluster import AirflowCluster, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

DAG_ID = "canvas_e2e_stall"
DAGS = Path(__file__).parent / "dags"
FINISHED = {"success", "failed", "skipped", "upstream_failed"}
#: The floor DAGs are held to: the triggerer (another process) clamps to it whatever a test lowers.
STALLED_AFTER = MIN_STALLED_AFTER
USERS = "user_id,login_id,first_name,last_name,status\nu1,u1@x.edu,Ada,L,active\n"


@pytest.fixture
def simulator() -> Iterator[CanvasSimulator]:
    with CanvasSimulator() as sim:
        yield sim


@pytest.fixture
def cluster(simulator: CanvasSimulator) -> Iterator[AirflowCluster]:
    home = Path(tempfile.mkdtemp(prefix="canvas-e2e-stall-"))
    conn = {"conn_type": "canvas", "host": simulator.base_url, "password": simulator.token}
    env = {"AIRFLOW_CONN_CANVAS_DEFAULT": json.dumps(conn), "CANVAS_E2E_STALLED_AFTER": str(STALLED_AFTER)}
    cluster = AirflowCluster(home, DAGS, env)
    cluster.airflow("db", "migrate")
    for name in cluster.components():
        cluster.start(name)
    try:
        yield cluster
    finally:
        cluster.stop_all()
        print(f"Airflow home of this run (logs): {home}")


def reads(sim: CanvasSimulator, path: str) -> list[float]:
    return [r.time for r in sim.requests if r.method == "GET" and r.path == path]


def still_import(sim: CanvasSimulator) -> int:
    """An import that takes the account's strand, reaches its last step at once and never changes again."""
    job = sim.sis.create_import({"users.csv": USERS}, script=SisScript(pickup=0.0, importing_for=0.1, outcome="never"))
    wait_for(lambda: sim.sis.import_json(job)["progress"] >= 66, 10, "the import to reach its last step", 0.05)
    return job


def still_report(sim: CanvasSimulator) -> int:
    """A report that runs to 50 % at once and never changes again."""
    reports_of(sim).script_next(ReportScript.never_ending(created_for=0.0, running_for=0.1, running_steps=2))
    return reports_of(sim).start(1, "last_user_access_csv")


def test_a_stall_is_seen_on_its_original_schedule_across_a_triggerer_crash(
    simulator: CanvasSimulator, cluster: AirflowCluster
) -> None:
    import_id, report_id = still_import(simulator), still_report(simulator)
    import_path = f"/api/v1/accounts/1/sis_imports/{import_id}"
    report_path = f"/api/v1/accounts/1/reports/last_user_access_csv/{report_id}"

    wait_for(lambda: cluster.query("SELECT 1 FROM dag WHERE dag_id = ?", DAG_ID), 180, "the DAG to be parsed")
    cluster.trigger(DAG_ID, {"import_id": str(import_id), "report_id": str(report_id)})
    wait_for(lambda: set(cluster.task_states(DAG_ID).values()) == {"deferred"}, 180, "both sensors to defer")
    wait_for(lambda: len(reads(simulator, import_path)) >= 3, 60, "the triggerer to poll")

    cluster.kill("triggerer")
    polls_before = len(reads(simulator, import_path))
    time.sleep(4)
    restarted_at = time.monotonic()
    cluster.start("triggerer")
    wait_for(lambda: len(reads(simulator, import_path)) > polls_before + 2, 90, "a new triggerer to resume polling")

    states = wait_for(
        lambda: set((s := cluster.task_states(DAG_ID)).values()) <= FINISHED and s,
        STALLED_AFTER + 180,
        "both sensors to finish",
    )
    # The import's stall fails its task (stalled is in fail_on by default); the report's is an outcome.
    assert states == {"watch_import": "failed", "watch_report": "success"}

    # The import's reads show the watch's own schedule, free of scheduling overhead: the first is the
    # worker's read before deferring (where the watch began), the last the restarted trigger's poll
    # that saw the stall. A watch reset by the restart would have run to about restarted_at + 60 s.
    import_reads = reads(simulator, import_path)
    assert import_reads[-1] > restarted_at + 5, "the restarted triggerer never polled the import"
    watched = import_reads[-1] - import_reads[0]
    assert STALLED_AFTER <= watched <= STALLED_AFTER + 3, f"stalled after {watched:.1f} s, not {STALLED_AFTER:.0f}"
    assert simulator.sis.import_json(import_id)["workflow_state"] == "importing"  # no abort was asked for

    # The report's trigger saw its stall on the same schedule; the resumed task then read it once more
    # and aborted it (cancel_on_stall).
    aborts = [r.time for r in simulator.requests if r.method == "PUT" and r.path == f"{report_path}/abort"]
    assert len(aborts) == 1
    *polled, _read_before_abort = [t for t in reads(simulator, report_path) if t < aborts[0]]
    watched = polled[-1] - polled[0]
    assert STALLED_AFTER <= watched <= STALLED_AFTER + 3, f"stalled after {watched:.1f} s, not {STALLED_AFTER:.0f}"
    assert reports_of(simulator).report_json(report_id)["status"] == "aborted"

    leaked = [str(p) for p in cluster.logs() if simulator.token in p.read_text(errors="replace")]
    assert leaked == [], f"the token appears in {leaked}"
