"""The stall watch in the job trigger, on an injected clock: when a deferred wait ends as stalled,
and why a triggerer restart neither resets nor shortens it.

The trigger polls the simulator over a real socket; only time is stepped (no sleeps).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from airflow_provider_canvas_progress.core.events import WaitStatus
from airflow_provider_canvas_progress.core.ids import ProgressRef
from airflow_provider_canvas_progress.core.kinds.progress import KIND
from airflow_provider_canvas_progress.core.progress import parse_progress
from airflow_provider_canvas_progress.core.stall import LastChange, Observation
from airflow_provider_canvas_progress.testing import CanvasSimulator
from airflow_provider_canvas_progress.triggers.job import CanvasJobTrigger
from airflow_provider_canvas_progress.waiting import build_trigger
from tests.triggers.clocks import SteppingClock
from tests.triggers.conftest import first_event

STALLED_AFTER = 600.0
POLL = 60.0


def frozen_job(sim: CanvasSimulator) -> str:
    pid = sim.create_progress()
    sim.set_progress(pid, workflow_state="running", completion=40.0)
    return pid


def on_clock(trigger: CanvasJobTrigger, clock: SteppingClock) -> CanvasJobTrigger:
    trigger.clock = clock.as_wait_clock()
    trigger.started_at = clock.now
    return trigger


def row_of(pid: str, clock: SteppingClock, **kwargs: Any) -> dict[str, Any]:
    """The row stored when a task defers at ``clock.now``."""
    built = build_trigger(
        ProgressRef(pid), canvas_conn_id="canvas_default", poll_interval=POLL, timeout=None, now=clock.now, **kwargs
    )
    return built.serialize()[1]


def deferred(pid: str, clock: SteppingClock, **kwargs: Any) -> CanvasJobTrigger:
    """The trigger a triggerer rebuilds from that row."""
    return on_clock(CanvasJobTrigger(**row_of(pid, clock, **kwargs)), clock)


def observed(sim: CanvasSimulator, pid: str) -> Observation:
    """The job as the stall watch sees it now."""
    return KIND.observation(parse_progress(sim.progress_json(pid)))


class PausingClock(SteppingClock):
    """A stepping clock whose sleeps block (until cancelled) once they would pass ``pause_at``."""

    def __init__(self, pause_at: float | None) -> None:
        super().__init__()
        self.pause_at = pause_at
        self.paused = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        if self.pause_at is not None and self.now + seconds > self.pause_at:
            self.paused.set()
            await asyncio.Event().wait()
        await super().sleep(seconds)


async def test_a_job_unchanged_for_stalled_after_ends_the_wait_as_stalled(canvas: CanvasSimulator) -> None:
    pid = frozen_job(canvas)
    clock = SteppingClock()

    payload = await first_event(deferred(pid, clock, stalled_after=STALLED_AFTER))

    assert payload["status"] == WaitStatus.STALLED.value
    assert payload["progress"]["completion"] == 40.0
    assert payload["message"].startswith(f"Canvas Progress {pid} has not changed for 10 min (still running, 40 %)")
    assert sum(clock.sleeps) == STALLED_AFTER


async def test_time_the_job_sat_still_on_the_worker_counts_in_the_triggerer(canvas: CanvasSimulator) -> None:
    pid = frozen_job(canvas)
    clock = SteppingClock()
    worker_record = LastChange(observed(canvas, pid), clock.now - 400).to_dict()

    payload = await first_event(deferred(pid, clock, stalled_after=STALLED_AFTER, last_change=worker_record))

    assert payload["status"] == WaitStatus.STALLED.value
    assert sum(clock.sleeps) == 240.0  # 600 s after the change the worker saw, not after deferring


async def test_a_triggerer_restart_neither_resets_nor_shortens_the_watch(canvas: CanvasSimulator) -> None:
    pid = frozen_job(canvas)
    clock = PausingClock(pause_at=SteppingClock().now + 300)
    deferred_at = clock.now
    row = row_of(
        pid, clock, stalled_after=STALLED_AFTER, last_change=LastChange(observed(canvas, pid), clock.now).to_dict()
    )
    first = asyncio.ensure_future(first_event(on_clock(CanvasJobTrigger(**row), clock)))
    await asyncio.wait_for(clock.paused.wait(), 30)
    first.cancel()  # the triggerer dies five minutes into the wait
    with contextlib.suppress(asyncio.CancelledError):
        await first
    clock.pause_at = None
    clock.now += 30  # and a new one picks the row up half a minute later

    payload = await first_event(on_clock(CanvasJobTrigger(**row), clock))

    assert payload["status"] == WaitStatus.STALLED.value
    # Measured from the change seen before the restart: the first read at or after 600 s.
    assert clock.now - deferred_at == 630.0


async def test_a_row_without_a_stall_watch_carries_no_stall_kwargs() -> None:
    _, row = build_trigger(ProgressRef("1"), canvas_conn_id="c", poll_interval=POLL, timeout=None).serialize()

    assert "stalled_after" not in row
    assert "last_change" not in row


async def test_stalled_after_from_a_row_is_clamped_not_trusted() -> None:
    trigger = CanvasJobTrigger(ref="progress:1", poll_interval=POLL, stalled_after=0.001)

    assert trigger.stalled_after == POLL


async def test_an_unreadable_last_change_in_a_row_restarts_the_watch(canvas: CanvasSimulator) -> None:
    pid = frozen_job(canvas)
    clock = SteppingClock()

    payload = await first_event(deferred(pid, clock, stalled_after=STALLED_AFTER, last_change={"v": 99}))

    assert payload["status"] == WaitStatus.STALLED.value
    assert sum(clock.sleeps) >= STALLED_AFTER
