"""Benchmark 2, throttle: many waits on one token against Canvas's real leaky bucket.

All waits start at the same moment, as after a triggerer restart or when a mapped task's
instances defer together, and poll at the same interval. The simulator runs Canvas's bucket
(600 units, 10 units/s drain, 50 units charged up front per request in flight) and keeps each
request in flight for some latency, so concurrent requests really hold their 50 units together.

Ours shares a per-token cap of 4 requests in flight and a pacer across all triggers in the
process. The session-per-poll baseline has neither; it treats a throttled answer as "try again
next poll" (kinder than failing the task, which is what a plain ``raise_for_status`` would do).
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.profiles import Profile
from benchmarks.simulator_process import SimulatorConfig, SimulatorProcess, isolated_airflow_env
from benchmarks.wait_run import WaitRun
from benchmarks.wait_worker import launch

STYLES = ("ours", "session_per_poll")


def config(profile: Profile) -> SimulatorConfig:
    return SimulatorConfig(throttle=True, latency=profile.throttle_latency)


def run(profile: Profile, say: Callable[[str], None]) -> list[WaitRun]:
    """One run per style, each against a fresh simulator with a full (empty) bucket."""
    runs = []
    for style in STYLES:
        spec = {
            "style": style,
            "n": profile.throttle_waits,
            "poll_interval": profile.throttle_poll_interval,
            "start_spread": 0.0,
            "lead": profile.throttle_lead,
            "spread": profile.throttle_spread,
            "grace": profile.throttle_grace,
        }
        say(f"throttle: {profile.throttle_waits} waits on one token, {style}")
        with SimulatorProcess(config(profile)) as sim:
            env = {**isolated_airflow_env(), **sim.env()}
            server_before = sim.cpu_seconds()
            raw = launch(spec, env, timeout=900)
            server_cpu = sim.cpu_seconds() - server_before
        result = WaitRun(style, profile.throttle_waits, profile.throttle_poll_interval, "http", raw, server_cpu)
        say(f"  {result.completed}/{result.n} ended, {result.throttled} throttled answers, {result.requests} requests")
        runs.append(result)
    return runs
