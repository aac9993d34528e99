"""Benchmark 1, triggerer scale: N concurrent waits in one event loop, three styles side by side.

For every size and transport, each style runs in a fresh worker process against a fresh
simulator process (see :mod:`benchmarks.wait_worker` for what is measured and when). The
simulator's throttle is off: all waits share one token, and the point here is the client's cost,
not Canvas's bucket (benchmark 2). Our trigger keeps its default per-token cap of 4 requests in
flight, so its throughput is bounded by 4 / request time; the sizes keep demand below that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from benchmarks.profiles import Profile
from benchmarks.simulator_process import SimulatorConfig, SimulatorProcess, isolated_airflow_env
from benchmarks.wait_run import WaitRun
from benchmarks.wait_worker import launch
from benchmarks.waiters import SIS_STYLES, STYLES


def scale_spec(style: str, n: int, poll_interval: float) -> dict[str, object]:
    """Starts spread over one interval, jobs ending from 2 to 3 intervals after the first start."""
    return {
        "style": style,
        "n": n,
        "poll_interval": poll_interval,
        "start_spread": poll_interval,
        "lead": 2 * poll_interval,
        "spread": poll_interval,
        "grace": 2 * poll_interval + 30.0,
    }


def run_one(style: str, n: int, poll_interval: float, transport: str) -> WaitRun:
    """One worker run against its own simulator process."""
    spec = scale_spec(style, n, poll_interval)
    with SimulatorProcess(SimulatorConfig(throttle=False, latency=0.0, tls=transport == "tls")) as sim:
        env = {**isolated_airflow_env(), **sim.env()}
        server_before = sim.cpu_seconds()
        raw = launch(spec, env, timeout=600 + 6 * poll_interval)
        server_cpu = sim.cpu_seconds() - server_before
    return WaitRun(style, n, poll_interval, transport, raw, server_cpu)


def run(profile: Profile, say: Callable[[str], None], styles: tuple[str, ...] = STYLES) -> list[WaitRun]:
    """Every size, transport and style of the profile."""
    runs: list[WaitRun] = []
    for transport in profile.transports:
        for size in profile.scale:
            for style in styles:
                say(f"scale: {transport} N={size.n} {style} (poll every {size.poll_interval:g} s)")
                result = run_one(style, size.n, size.poll_interval, transport)
                say(
                    f"  {result.completed}/{result.n} events, {result.steady_cpu_ms_per_poll:.3f} ms CPU/poll "
                    f"(steady), {result.rss_kb_per_wait:.1f} KB/wait, {result.wall_seconds:.0f} s"
                )
                runs.append(result)
    return runs


def run_sis(profile: Profile, say: Callable[[str], None]) -> list[WaitRun]:
    """The SIS-import wait beside the Progress wait and the floor, over HTTPS, in interleaved rounds.

    Each round runs the three styles one after the other; a run's round is ``raw["round"]``. Two
    runs of the same trigger in different rounds show how much the machine's load moves a figure.
    """
    runs: list[WaitRun] = []
    for round_number in range(1, profile.sis_rounds + 1):
        for result in run(replace(profile, scale=profile.sis_scale, transports=("tls",)), say, SIS_STYLES):
            result.raw["round"] = round_number
            runs.append(result)
    return runs
