"""Benchmark 4, hook throughput: sequential reads of one Progress, ours vs canvasapi.

One caller, one Progress, one call after another for a fixed time, against the simulator over
plain HTTP with no throttle and no latency, so the figure is the client's own cost per call
(request building, transport, answer checking, parsing). Clients:

* ``CanvasHook.get_progress`` (sync, ``requests``, as sensors in poke/reschedule mode use it);
* canvasapi's ``Progress.query()`` (``requests`` too), the client users know;
* ``CanvasHook.aget_progress`` (async, one aiohttp session, as the trigger uses it), for reference.

Rounds alternate between clients so that a change in the machine's load hits all of them alike;
each client's figure is its median round.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.profiles import Profile
from benchmarks.simulator_process import SimulatorConfig, SimulatorProcess, create_jobs

CLIENTS = ("hook_sync", "canvasapi", "hook_async")
LABELS = {
    "hook_sync": "CanvasHook.get_progress (sync)",
    "canvasapi": "canvasapi Progress.query()",
    "hook_async": "CanvasHook.aget_progress (async, one session)",
}


@dataclass
class ClientResult:
    """Rounds of one client: calls per second and CPU per call, each round."""

    client: str
    calls_per_second: list[float] = field(default_factory=list)
    cpu_ms_per_call: list[float] = field(default_factory=list)

    @property
    def median_calls_per_second(self) -> float:
        return statistics.median(self.calls_per_second)

    @property
    def median_cpu_ms_per_call(self) -> float:
        return statistics.median(self.cpu_ms_per_call)

    def to_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "calls_per_second": self.median_calls_per_second,
            "cpu_ms_per_call": self.median_cpu_ms_per_call,
            "rounds": list(zip(self.calls_per_second, self.cpu_ms_per_call, strict=True)),
        }


def _timed_loop(call: Callable[[], Any], seconds: float) -> tuple[float, float]:
    calls, cpu, began = 0, time.process_time(), time.monotonic()
    deadline = began + seconds
    while time.monotonic() < deadline:
        call()
        calls += 1
    elapsed, cpu = time.monotonic() - began, time.process_time() - cpu
    return calls / elapsed, 1000 * cpu / calls


async def _timed_async_loop(hook: Any, progress_id: str, seconds: float) -> tuple[float, float]:
    calls, cpu, began = 0, time.process_time(), time.monotonic()
    deadline = began + seconds
    while time.monotonic() < deadline:
        await hook.aget_progress(progress_id)
        calls += 1
    elapsed, cpu = time.monotonic() - began, time.process_time() - cpu
    return calls / elapsed, 1000 * cpu / calls


def _round(client: str, progress_id: str, sim: SimulatorProcess, seconds: float) -> tuple[float, float]:
    from airflow_provider_canvas_progress.hooks.canvas import CanvasHook

    if client == "hook_sync":
        hook = CanvasHook()
        hook.get_progress(progress_id)  # connection read and session set-up, outside the timing
        return _timed_loop(lambda: hook.get_progress(progress_id), seconds)
    if client == "canvasapi":
        from canvasapi import Canvas

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # canvasapi warns about http:// (the simulator is loopback)
            progress = Canvas(sim.base_url, sim.token).get_progress(progress_id)
        return _timed_loop(progress.query, seconds)

    async def run_async() -> tuple[float, float]:
        async with CanvasHook() as hook:
            await hook.aget_progress(progress_id)
            return await _timed_async_loop(hook, progress_id, seconds)

    return asyncio.run(run_async())


def run(profile: Profile, say: Callable[[str], None]) -> list[ClientResult]:
    """``hook_rounds`` alternating rounds of ``hook_seconds`` per client."""
    import os

    results = {client: ClientResult(client) for client in CLIENTS}
    with SimulatorProcess(SimulatorConfig(throttle=False)) as sim:
        os.environ.update(sim.env())
        (job,) = asyncio.run(create_jobs(sim.control_url, [time.monotonic() + 3600.0]))
        for round_number in range(profile.hook_rounds):
            for client in CLIENTS:
                rate, cpu = _round(client, job.progress_id, sim, profile.hook_seconds)
                results[client].calls_per_second.append(rate)
                results[client].cpu_ms_per_call.append(cpu)
                say(f"hook throughput: round {round_number + 1} {client}: {rate:.0f} calls/s, {cpu:.3f} ms CPU/call")
    return list(results.values())
