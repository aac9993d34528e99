"""Poll intervals and their limits, decided once for the sensor, the operators and the trigger.

A poll interval of 0 (or an exponential back-off capped at ``max_wait=0``) would poll Canvas
thousands of times a second on one token, so every interval has a floor; a typo such as
``poke_interval=1e300`` would never poll again, so it has a ceiling too. Users' values outside
``(0, MAX_POLL_INTERVAL]`` are refused at parse time; the trigger, whose kwargs may come from a row
written by any version, clamps instead.
"""

from __future__ import annotations

import math

from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.exceptions import CanvasConfigurationError

#: The shortest interval between two polls of one job, in seconds.
MIN_POLL_INTERVAL = 1.0
#: The longest: a day. A wait that should poll less often than daily is not a wait.
MAX_POLL_INTERVAL = 86_400.0


def check_interval(value: object, *, what: str) -> float:
    """A user's interval in seconds, refused with a message naming ``what`` when out of range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CanvasConfigurationError(f"{what} must be a number of seconds, got {shown(value)}.")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0 or seconds > MAX_POLL_INTERVAL:
        raise CanvasConfigurationError(
            f"{what} must be > 0 and at most {MAX_POLL_INTERVAL:.0f} seconds, got {shown(value)}."
        )
    return seconds


def clamp_interval(seconds: float) -> float:
    """An interval brought into ``[MIN_POLL_INTERVAL, MAX_POLL_INTERVAL]`` (NaN: the floor)."""
    if math.isnan(seconds):
        return MIN_POLL_INTERVAL
    return min(max(seconds, MIN_POLL_INTERVAL), MAX_POLL_INTERVAL)


def next_interval(poll_interval: float, polls: int, *, exponential_backoff: bool, max_wait: float | None) -> float:
    """Seconds before the next poll: fixed, or doubling up to ``max_wait`` (a long job polled less
    often costs its token less); never below the floor, so ``max_wait=0`` cannot hot-loop."""
    interval = poll_interval
    if exponential_backoff:
        interval = poll_interval * float(2 ** min(polls, 32))
        if max_wait is not None:
            interval = min(interval, max_wait)
    return clamp_interval(interval)
