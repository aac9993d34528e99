"""Benchmark 5, short waits all-in: many brief waits on one token, everything they cost charged to their polls.

Issue 10's figure. Most deferred waits are short (a Progress that ends after a few polls), so what a
wait costs to set up and tear down -- building the trigger, reading the connection, checking its
settings, borrowing a session, its log lines and its event -- weighs as much as its polls. Here
``n`` waits (1,000 at full size) on one token, over plain HTTP, each see their job end after about
three polls (starts spread over one poll interval, jobs ending 2-3 intervals after the first
start), and the worker's whole CPU from the first start to the last event is divided by the
requests made: *CPU per poll, all-in*. The three styles of benchmark 1 (:mod:`benchmarks.waiters`)
run in one invocation, one after the other, so they are measured under the same machine load.

Connections come from the benchmark's own Airflow connection source
(:mod:`benchmarks.connection_source`), which counts reads: the measured waits use a connection
that the warm-up did not read, so reading it is part of their cost, and the report gives
*connection reads per wait* for each style.
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks import connection_source
from benchmarks.profiles import Profile
from benchmarks.scale import scale_spec
from benchmarks.simulator_process import SimulatorConfig, SimulatorProcess, isolated_airflow_env
from benchmarks.wait_run import WaitRun
from benchmarks.wait_worker import launch
from benchmarks.waiters import STYLES

#: The connection the measured waits read, and the one the warm-up reads (so the first stays unread).
CONN_ID, WARMUP_CONN_ID = "canvas_short", "canvas_warmup"


def run_one(style: str, n: int, poll_interval: float) -> WaitRun:
    """One worker run of ``n`` short waits against its own simulator process (plain HTTP)."""
    spec = {**scale_spec(style, n, poll_interval), "conn_id": CONN_ID, "warmup_conn_id": WARMUP_CONN_ID}
    with SimulatorProcess(SimulatorConfig(throttle=False, latency=0.0, tls=False)) as sim:
        served = {CONN_ID: sim.connection(), WARMUP_CONN_ID: sim.connection()}
        env = {**isolated_airflow_env(), **sim.env(), **connection_source.environment(served)}
        env.pop("AIRFLOW_CONN_CANVAS_DEFAULT", None)  # every read goes through the counting source
        server_before = sim.cpu_seconds()
        raw = launch(spec, env, timeout=600 + 6 * poll_interval)
        server_cpu = sim.cpu_seconds() - server_before
    return WaitRun(style, n, poll_interval, "http", raw, server_cpu)


def run(profile: Profile, say: Callable[[str], None]) -> list[WaitRun]:
    """The three styles, one after the other, at the profile's short-wait size."""
    runs = []
    size = profile.short_waits
    for style in STYLES:
        say(f"short waits: {style}, {size.n:,} waits on one token, poll every {size.poll_interval:g} s (plain HTTP)")
        result = run_one(style, size.n, size.poll_interval)
        say(
            f"  {result.completed}/{result.n} events, {result.cpu_ms_per_poll:.3f} ms CPU/poll all-in, "
            f"{result.requests_per_job:.2f} polls/wait, {result.connection_reads_per_wait:.3f} connection reads/wait"
        )
        runs.append(result)
    return runs
