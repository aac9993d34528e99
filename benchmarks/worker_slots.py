"""Benchmark 3, worker slots: the same waits in poke, reschedule and deferrable mode.

No scheduler runs; the real ``CanvasProgressSensor`` does, against the simulator, and each mode's
worker-slot occupancy is accounted as Airflow would hold it:

* **poke**: one try runs from its first poke to the poke that sees the job end, sleeping
  between pokes *in the slot*. Held: the whole wait.
* **reschedule**: every poke is a try of its own that gives the slot back when the poke says
  "not yet". Each poke here builds a fresh sensor (so a fresh hook, connection read and HTTP
  session, as a new try would). Held: the sum of the pokes' durations. A real try also starts a
  task process on a worker (typically 1-5 s each); that is *not* included, so this is a lower
  bound for reschedule.
* **deferrable**: ``execute()`` polls once and raises ``TaskDeferred``; the trigger waits in the
  triggerer (here: the same event loop, as the triggerer runs it); a fresh sensor then runs
  ``execute_complete()`` with the event, as the resumed try does. Held: the ``execute()`` up to
  ``TaskDeferred`` plus the ``execute_complete()``; nothing while the trigger waits.

Everything runs in one event loop. Worker-side calls are synchronous and run in the loop's thread
(briefly holding up the triggers, which only makes detection a little later), so their measured
durations are not inflated by a second thread competing for the GIL.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.profiles import Profile
from benchmarks.simulator_process import SimulatorConfig, SimulatorProcess, create_jobs

MODES = ("poke", "reschedule", "deferrable")


class FakeTI:
    """Just enough of a task instance: the sensor pushes XComs and names itself in messages."""

    dag_id, task_id, run_id, map_index, try_number = "bench", "wait", "manual__bench", -1, 1

    def xcom_push(self, key: str, value: Any) -> None:
        pass


@dataclass
class SlotUse:
    """One wait's worker-slot intervals and how it ended."""

    intervals: list[tuple[float, float]] = field(default_factory=list)
    worker_calls: int = 0
    busy: float = 0.0
    ended: bool = False

    @property
    def held(self) -> float:
        return sum(end - start for start, end in self.intervals)


@dataclass
class ModeResult:
    """Slot figures for one mode over all waits."""

    mode: str
    waits: int
    uses: list[SlotUse]
    wall_seconds: float

    @property
    def slot_seconds(self) -> float:
        return sum(use.held for use in self.uses)

    @property
    def busy_seconds(self) -> float:
        """Slot time spent actually running a poke, a deferral or a resume."""
        return sum(use.busy for use in self.uses)

    @property
    def idle_slot_seconds(self) -> float:
        """Slot time held while merely waiting (sleeping between pokes)."""
        return max(0.0, self.slot_seconds - self.busy_seconds)

    @property
    def worker_calls(self) -> int:
        return sum(use.worker_calls for use in self.uses)

    @property
    def completed(self) -> int:
        return sum(1 for use in self.uses if use.ended)

    @property
    def mean_slots(self) -> float:
        """Slots held on average over the run: what this many waits cost a worker pool."""
        return self.slot_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "waits": self.waits,
            "completed": self.completed,
            "slot_seconds": self.slot_seconds,
            "idle_slot_seconds": self.idle_slot_seconds,
            "busy_slot_seconds": self.busy_seconds,
            "worker_calls": self.worker_calls,
            "mean_slots": self.mean_slots,
            "wall_seconds": self.wall_seconds,
        }


def _sensor(progress_id: str, poll_interval: float, mode: str) -> Any:
    from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor

    return CanvasProgressSensor(
        task_id="wait",
        progress_id=progress_id,
        poke_interval=poll_interval,
        timeout=3600,
        mode="reschedule" if mode == "reschedule" else "poke",
        deferrable=mode == "deferrable",
    )


def _as_task_runner(sensor: Any) -> dict[str, Any]:
    """The keyword the Task Runner passes to ``execute`` (Airflow 3), so Airflow's guard against
    calling ``execute`` directly does not log a warning inside the measured call."""
    try:
        from airflow.sdk.bases.operator import ExecutorSafeguard
    except ImportError:  # Airflow 2 has no such guard
        return {}
    return {f"{type(sensor).__name__}__sentinel": ExecutorSafeguard.sentinel_value}


def _timed(use: SlotUse, call: Callable[[], Any]) -> Any:
    started = time.monotonic()
    try:
        return call()
    finally:
        ended = time.monotonic()
        use.intervals.append((started, ended))
        use.busy += ended - started
        use.worker_calls += 1


async def _poke(progress_id: str, interval: float, use: SlotUse) -> None:
    sensor, context = _sensor(progress_id, interval, "poke"), {"ti": FakeTI()}
    first = time.monotonic()
    while True:
        started = time.monotonic()
        done = sensor.poke(context).is_done
        use.busy += time.monotonic() - started
        use.worker_calls += 1
        if done:
            # One try holds the slot from the first poke to the last, sleeps included.
            use.intervals.append((first, time.monotonic()))
            use.ended = True
            return
        await asyncio.sleep(interval)


async def _reschedule(progress_id: str, interval: float, use: SlotUse) -> None:
    while True:
        sensor = _sensor(progress_id, interval, "reschedule")  # a new try: new sensor, hook, session
        if _timed(use, lambda sensor=sensor: sensor.poke({"ti": FakeTI()}).is_done):
            use.ended = True
            return
        await asyncio.sleep(interval)


async def _deferrable(progress_id: str, interval: float, use: SlotUse) -> None:
    try:
        from airflow.sdk.exceptions import TaskDeferred
    except ImportError:  # Airflow 2
        from airflow.exceptions import TaskDeferred

    sensor = _sensor(progress_id, interval, "deferrable")
    try:
        _timed(use, lambda: sensor.execute({"ti": FakeTI()}, **_as_task_runner(sensor)))
        use.ended = True  # ended before deferring
        return
    except TaskDeferred as deferred:
        trigger = deferred.trigger
    payload: dict[str, Any] | None = None
    async for event in trigger.run():  # the triggerer's part: no worker slot
        payload = payload or dict(event.payload)
    resumed = _sensor(progress_id, interval, "deferrable")
    result = _timed(use, lambda: resumed.execute_complete({"ti": FakeTI()}, event=payload))
    use.ended = result.get("outcome") == "completed"


async def _run_mode(mode: str, control_url: str, profile: Profile) -> ModeResult:
    n, interval = profile.slot_waits, profile.slot_poll_interval
    run_wait = {"poke": _poke, "reschedule": _reschedule, "deferrable": _deferrable}[mode]
    # Warm-up on a finished job: imports and first-use caches are not part of any wait.
    (warm,) = await create_jobs(control_url, [time.monotonic() - 1.0])
    await run_wait(warm.progress_id, interval, SlotUse())
    start = time.monotonic() + 1.0
    ends = [start + profile.slot_lead + profile.slot_spread * (i + 0.5) / n for i in range(n)]
    random.Random(11).shuffle(ends)
    jobs = await create_jobs(control_url, ends)
    uses = [SlotUse() for _ in range(n)]

    async def one(index: int) -> None:
        await asyncio.sleep(max(0.0, start + interval * index / n - time.monotonic()))
        await run_wait(jobs[index].progress_id, interval, uses[index])

    began = time.monotonic()
    limit = profile.slot_lead + profile.slot_spread + 4 * interval + 60
    await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), limit)
    return ModeResult(mode, n, uses, time.monotonic() - began)


def run(profile: Profile, say: Callable[[str], None]) -> list[ModeResult]:
    """The three modes, one after the other, each on fresh jobs ending at the same offsets."""
    results = []
    with SimulatorProcess(SimulatorConfig(throttle=False)) as sim:
        os.environ.update(sim.env())
        for mode in MODES:
            say(f"worker slots: {profile.slot_waits} waits in {mode} mode")
            result = asyncio.run(_run_mode(mode, sim.control_url, profile))
            say(
                f"  {result.completed}/{result.waits} ended, {result.slot_seconds:.1f} slot-s "
                f"({result.idle_slot_seconds:.1f} idle), {result.mean_slots:.2f} slots on average"
            )
            results.append(result)
    return results
