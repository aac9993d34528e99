"""The plain task arguments a DAG author gives (durations, flags, counts), read once with one rule each.

The scheduler parses a DAG file every few minutes; a wrong argument should fail there with a
:class:`CanvasConfigurationError` that names the task, the argument and what it takes -- not as a
bare ``ValueError`` from ``float()``, an ``OverflowError`` from Airflow's sensor, or (worse) be
accepted and misread at 3 a.m.: ``durable="no"`` is truthy, ``timeout=True`` is one second, and
``max_consecutive_failures="5"`` would only fail inside the triggerer.

Ranges that belong to one concept stay with it (poll intervals in :mod:`.timing`, the stall watch
in :mod:`.stall`, the wait's timeout in ``waiting.validate_timing``); this module only decides what
*kind* of value each argument is, and the one range that has no other home: how many failed polls
in a row a wait rides out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta
from enum import Enum
from typing import Any, TypeVar

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.core.progress import shown

__all__ = [
    "MAX_CONSECUTIVE_FAILURES",
    "clamp_failure_budget",
    "duration",
    "failure_budget",
    "flag",
    "listed",
    "optional_duration",
    "outcomes",
    "templated",
]

E = TypeVar("E", bound=Enum)

#: The most failed polls in a row a wait may be told to ride out. Each is already retried by the
#: hook (six tries by default), so a thousand is days of outage at a one-minute interval: any more
#: means "never fail", which a timeout says better.
MAX_CONSECUTIVE_FAILURES = 1_000


def _where(task_id: str | None, what: str) -> str:
    return f"{task_id}: {what}" if task_id else what


def duration(value: object, *, what: str, task_id: str | None = None) -> float:
    """A duration in seconds from a :class:`~datetime.timedelta` or a finite real number (not a bool).

    Strings are refused rather than parsed: ``"6h"`` and ``"360"`` mean different things to
    different readers, and Airflow itself takes timedeltas and numbers.
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:  # an int too large for a float
            seconds = math.inf
    else:
        raise CanvasConfigurationError(
            f"{_where(task_id, what)} must be a timedelta or a number of seconds, got {shown(value)} "
            f"({type(value).__name__}). Write e.g. timedelta(hours=6) or 21600."
        )
    if not math.isfinite(seconds):
        raise CanvasConfigurationError(f"{_where(task_id, what)} must be a finite duration, got {shown(value)}.")
    return seconds


def optional_duration(value: object, *, what: str, task_id: str | None = None) -> float | None:
    """:func:`duration`, with None passed through (no limit)."""
    return None if value is None else duration(value, what=what, task_id=task_id)


def listed(value: object, *, what: str, task_id: str | None = None) -> list[Any]:
    """A list argument (``fail_on``, ``cancel_messages``): one string stands for a list of it.

    Only the shape is decided here; what the entries may be is the concept's own check
    (``Outcome.parse_many``, ``CancelMatcher.of``).
    """
    if isinstance(value, str):
        return [value]
    if isinstance(value, (bytes, bytearray, dict)) or not isinstance(value, Iterable):
        raise CanvasConfigurationError(
            f"{_where(task_id, what)} must be a list of strings (or one string), got {shown(value)} "
            f"({type(value).__name__}); use [] for none."
        )
    return list(value)


def outcomes(values: object, allowed: Iterable[E], *, what: str = "fail_on", example: str, ending: str) -> frozenset[E]:
    """A user's list of a kind's outcomes (``fail_on``), case and spaces forgiven, anything else refused.

    :param allowed: the outcomes that may be named (a kind's endings; never ``pending``).
    :param example: a list to show in the message, e.g. ``"['failed', 'aborted']"``.
    :param ending: what the outcomes are of, e.g. ``"how the import ended"``.
    """
    by_name = {str(outcome.value): outcome for outcome in allowed}
    items = listed(values, what=what)
    unknown = [v for v in items if not isinstance(v, str) or v.strip().lower() not in by_name]
    if unknown:
        raise CanvasConfigurationError(
            f"{what} contains {shown(unknown, 200)}; allowed values are {list(by_name)} (give a list, e.g. "
            f"{example}, or [] to never fail the task on {ending})."
        )
    return frozenset(by_name[v.strip().lower()] for v in items)


def templated(value: object) -> bool:
    """True for a value Airflow renders before the task runs (a Jinja string): checked once rendered."""
    return isinstance(value, str) and "{{" in value


def flag(value: object, *, what: str, task_id: str | None = None) -> bool:
    """A yes/no argument: a bool (or the integers 0 and 1), never a truthy string such as ``"no"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise CanvasConfigurationError(f"{_where(task_id, what)} must be True or False, got {shown(value)}.")


def failure_budget(value: object, *, task_id: str | None = None) -> int:
    """``max_consecutive_failures``: a whole number of failed polls from 1 to :data:`MAX_CONSECUTIVE_FAILURES`."""
    what = _where(task_id, "max_consecutive_failures")
    if isinstance(value, bool) or not isinstance(value, int):
        raise CanvasConfigurationError(
            f"{what} must be a whole number of failed polls in a row, got {shown(value)} ({type(value).__name__})."
        )
    if not 1 <= value <= MAX_CONSECUTIVE_FAILURES:
        raise CanvasConfigurationError(
            f"{what} must be from 1 to {MAX_CONSECUTIVE_FAILURES}, got {shown(value)}: each failed poll is already "
            "retried by the hook; to wait longer through an outage, raise the timeout instead."
        )
    return value


def clamp_failure_budget(number: float) -> int:
    """``max_consecutive_failures`` read back from a trigger's row (any version wrote it): clamped, not refused."""
    return int(min(max(number, 1), MAX_CONSECUTIVE_FAILURES)) if math.isfinite(number) else 1
