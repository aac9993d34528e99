"""Watchers that run inside the measured event loop: loop lag and resident memory.

The lag ticker is what a triggerer operator cares about: a coroutine that asks to sleep for
``interval`` and records how late it woke. Any trigger that blocks the loop (or a loop that is
simply too busy) shows up as oversleep for *every* trigger in the process.
"""

from __future__ import annotations

import asyncio
import contextlib

import psutil


class LoopWatch:
    """Samples event-loop oversleep and the process's RSS until stopped.

    :param interval: the ticker's requested sleep, in seconds.
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self.rss_samples: list[tuple[float, int]] = []
        self._process = psutil.Process()
        self._task: asyncio.Task[None] | None = None

    def rss(self) -> int:
        """The process's resident set size now, in bytes."""
        return int(self._process.memory_info().rss)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        ticks = 0
        while True:
            before = loop.time()
            await asyncio.sleep(self.interval)
            after = loop.time()
            self.lags.append(max(0.0, after - before - self.interval))
            ticks += 1
            if ticks % 4 == 0:  # RSS every ~0.2 s: cheap, and fine-grained enough for a peak
                self.rss_samples.append((after, self.rss()))

    @property
    def peak_rss(self) -> int:
        return max((rss for _, rss in self.rss_samples), default=0)
