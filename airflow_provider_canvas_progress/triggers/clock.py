"""The clocks a trigger reads and sleeps on, injectable so that trigger tests need no real sleeps."""

from __future__ import annotations

import asyncio
import time as _time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class WaitClock:
    """Wall time (deadlines are absolute Unix times, kept across triggerer restarts), monotonic time
    and an async sleep."""

    time: Callable[[], float] = _time.time
    monotonic: Callable[[], float] = _time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


SYSTEM_CLOCK = WaitClock()
