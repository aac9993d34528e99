"""A real Airflow (scheduler, triggerer, ...) waits on Canvas through a triggerer crash.

Two DAGs run at once, their four sensors deferred, when the triggerer is SIGKILLed mid-wait and
started again (one cluster, one crash: the waits overlap, so the run costs the longest of them):

* ``canvas_e2e_restart``: a Progress that ends after the restart must still be seen, and a wait with a
  timeout must time out on its original schedule: the trigger's deadline is absolute, so a restart
  neither resets nor extends it.
* ``canvas_e2e_stall``: an SIS import and an account report that never change again. The stall watch's
  record travels in the trigger's kwargs, so each wait must end ``stalled`` on its original schedule --
  ``stalled_after`` after the worker's first read, before deferring -- neither reset by the restart
  (which would end it ``stalled_after`` after the new triggerer's first poll) nor lost.

Every log file of the run is then scanned for the API token.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from airflow_provider_canvas_progress.core.stall import MIN_STALLED_AFTER
from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript, SisScript
from airflow_provider_canvas_progress.testing.reports_control import reports_of
from airflow_provider_canvas_progress.testing.reports_store import ReportScript
from tests.e2e.cluster import AirflowCluster, running_cluster, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

RESTART_DAG = "canvas_e2e_restart"
STALL_DAG = "canvas_e2e_stall"
TIMEOUT = 45.0
#: The floor DAGs are held to: the triggerer (another process) clamps to it whatever a test lowers.
STALLED_AFTER = MIN_STALLED_AFTER
USERS = "user_id,login_id,first_name,last_name,status\nu1,u1@x.edu,Ada,L,active\n"


@pytest.fixture
def cluster(simulator: CanvasSimulator) -> Iterator[AirflowCluster]:
    env = {"CANVAS_E2E_TIMEOUT": str(TIMEOUT), "CANVAS_E2E_STALLED_AFTER": str(STALLED_AFTER)}
    with running_cluster(simulator.base_url, simulator.token, env) as cluster:
        yield cluster


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


def test_waits_survive_a_triggerer_crash_and_keep_their_timeouts_and_stall_watches(
    simulator: CanvasSimulator, cluster: AirflowCluster
) -> None:
    # Ends when the test says so, after the restart: a job on a timer could end while the triggerer
    # is down on a slow machine, leaving too few polls to prove the new triggerer resumed.
    done = simulator.create_progress(script=JobScript.never_ending(running_for=1.0))
    stuck = simulator.create_progress(script=JobScript.never_ending(running_for=5.0))
    import_id, report_id = still_import(simulator), still_report(simulator)
    done_path, stuck_path = f"/api/v1/progress/{done}", f"/api/v1/progress/{stuck}"
    import_path = f"/api/v1/accounts/1/sis_imports/{import_id}"
    report_path = f"/api/v1/accounts/1/reports/last_user_access_csv/{report_id}"

    for dag_id in (RESTART_DAG, STALL_DAG):
        wait_for(lambda d=dag_id: cluster.query("SELECT 1 FROM dag WHERE dag_id = ?", d), 180, f"{dag_id} to be parsed")
    cluster.trigger(RESTART_DAG, {"done_id": done, "stuck_id": stuck})
    cluster.trigger(STALL_DAG, {"import_id": str(import_id), "report_id": str(report_id)})
    for dag_id in (RESTART_DAG, STALL_DAG):
        wait_for(lambda d=dag_id: set(cluster.task_states(d).values()) == {"deferred"}, 180, f"{dag_id} to defer")
    deferred_at = time.monotonic()
    wait_for(lambda: min(len(reads(simulator, p)) for p in (stuck_path, import_path)) >= 3, 60, "the triggerer to poll")

    cluster.kill("triggerer")
    polls_before = {p: len(reads(simulator, p)) for p in (done_path, import_path)}
    time.sleep(4)
    restarted_at = time.monotonic()
    cluster.start("triggerer")
    wait_for(
        lambda: all(len(reads(simulator, p)) > n + 2 for p, n in polls_before.items()),
        90,
        "a new triggerer to resume polling",
    )
    simulator.set_progress(done, workflow_state="completed", completion=100.0)

    # The Progress waits: the ended job is seen, the stuck one times out on its first deadline.
    assert cluster.finished(RESTART_DAG, TIMEOUT + 180) == {"wait_completes": "success", "wait_times_out": "failed"}
    # The stuck job's polls show the trigger's own deadline, free of scheduling overhead: the first
    # is the worker's poke just before deferring, the last the trigger's final one. Deferred at t0,
    # crashed at ~t0+3 s and back at ~t0+7 s, a reset timeout would poll until ~t0+52 s.
    stuck_polls = reads(simulator, stuck_path)
    assert stuck_polls[-1] > restarted_at, "the restarted triggerer never polled the stuck job"
    waited = stuck_polls[-1] - stuck_polls[0]
    assert TIMEOUT - 3 <= waited <= TIMEOUT + 1, f"polled for {waited:.1f} s with a {TIMEOUT:.0f} s timeout"
    assert time.monotonic() - deferred_at < TIMEOUT + 60  # and the task itself did not hang around
    assert simulator.progress_json(stuck)["workflow_state"] == "running"  # no cancel was asked for

    # The stall watches: the import's stall fails its task (stalled is in fail_on by default); the
    # report's is an outcome.
    assert cluster.finished(STALL_DAG, STALLED_AFTER + 180) == {"watch_import": "failed", "watch_report": "success"}
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
