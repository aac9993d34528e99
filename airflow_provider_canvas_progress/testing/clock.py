"""Clocks the simulator reads: real monotonic time, or a manual clock that tests move by hand.

Scripted jobs and the throttle bucket both read the simulator clock, so a test that uses
:class:`ManualClock` decides exactly when a job advances and when the bucket drains, with no sleeps.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "MonotonicClock", "WallTime"]


@runtime_checkable
class Clock(Protocol):
    """Anything with a monotonic ``now()`` in seconds."""

    def now(self) -> float:
        """Return the current time in seconds; only differences are meaningful."""
        ...


class MonotonicClock:
    """The real clock (:func:`time.monotonic`): jobs advance and buckets drain on their own."""

    def now(self) -> float:
        """Return :func:`time.monotonic`."""
        return time.monotonic()

    def __repr__(self) -> str:
        return "MonotonicClock()"


class ManualClock:
    """A clock that only moves when a test calls :meth:`advance`.

    It is shared between the test thread and the server thread, hence the lock.

    :param start: the initial reading, in seconds.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        """Return the current reading."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward and return the new reading.

        :param seconds: how far to move; negative values are refused because Canvas time never runs back.
        :raises ValueError: if ``seconds`` is negative.
        """
        if seconds < 0:
            raise ValueError(f"a clock cannot go back (advance({seconds!r}))")
        with self._lock:
            self._now += float(seconds)
            return self._now

    def __repr__(self) -> str:
        return f"ManualClock(now={self.now()!r})"


class WallTime:
    """Maps simulator clock readings onto wall-clock timestamps in Canvas's format.

    A Progress's ``created_at``/``updated_at`` come from the simulator clock, so under a
    :class:`ManualClock` they move exactly as far as the test advanced it.

    :param clock: the simulator clock.
    :param epoch: the wall time of the clock's current reading (default: now, UTC).
    """

    def __init__(self, clock: Clock, epoch: datetime | None = None) -> None:
        self._clock_epoch = clock.now()
        wall = epoch if epoch is not None else datetime.now(timezone.utc)
        if wall.tzinfo is None:
            wall = wall.replace(tzinfo=timezone.utc)
        self._wall_epoch = wall.astimezone(timezone.utc)

    def at(self, reading: float) -> datetime:
        """Return the UTC datetime of a clock reading."""
        return self._wall_epoch + timedelta(seconds=reading - self._clock_epoch)

    def iso(self, reading: float) -> str:
        """Return ``2013-01-15T15:00:00Z``-style text, as hosted Canvas renders timestamps."""
        return self.at(reading).strftime("%Y-%m-%dT%H:%M:%SZ")
