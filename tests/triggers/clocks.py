"""A clock for triggers whose sleeps take no real time: each sleep moves wall and monotonic time on."""

from __future__ import annotations

import asyncio

from airflow_provider_canvas_progress.triggers.clock import WaitClock


class SteppingClock:
    """Records every sleep and advances time by it, yielding to the loop once."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

    def as_wait_clock(self) -> WaitClock:
        return WaitClock(time=self.time, monotonic=self.monotonic, sleep=self.sleep)
