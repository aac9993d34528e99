"""Telling a stuck Canvas job from a slow one: the stall watch.

Canvas jobs do get stuck: a Progress ``running`` for an hour with nothing changing, a SIS import
sitting in ``initializing``. Without a watch, a wait notices only when its whole timeout runs out.
With ``stalled_after``, a pending job whose state, completion and ``updated_at`` have not changed
for that long ends the wait with the outcome ``stalled``.

The watch is pure: a driver (the sensor's poke, the trigger's loop) feeds it each read of the job
as an :class:`Observation` with the wall time of the read, and keeps the :class:`LastChange` it gets
back. That record is JSON-safe, so it travels in the trigger's kwargs and survives a triggerer
restart: a job that was stuck before the restart is still measured from the same moment after it.

What is *not* a stall is the kind's to say, as data (:class:`StallRules`), never as a special case
here:

* a job may wait for something outside it, e.g. a SIS import in ``created`` queued behind another
  import of its account (imports run one at a time per root account). For the states a kind lists
  in :attr:`StallRules.explainable_states`, the watch does not declare a stall by itself: it asks
  (:attr:`Verdict.EXPLAIN`) and the driver asks the kind, which may need one extra read (for SIS,
  ``GET /api/v1/accounts/:id/sis_imports/importing``). An explained wait restarts the clock.
* any difference in state, completion or ``updated_at`` is a change, whichever way it goes, so a SIS
  import whose progress restarts from 0 in ``cleanup_batch`` is moving, not stuck.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import Enum
from typing import Any

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.core.outcome import _humanise as humanise
from airflow_provider_canvas_progress.core.progress import shown

#: The shortest ``stalled_after`` a DAG may ask for: a Canvas job legitimately sits still for tens
#: of seconds between chunks, and a shorter watch would cancel healthy jobs.
MIN_STALLED_AFTER = 60.0
#: The longest: a week. Longer is no watch at all; leave ``stalled_after`` unset instead.
MAX_STALLED_AFTER = 7 * 86_400.0

#: Version of :meth:`LastChange.to_dict`'s form; a record of another version is read as no record.
_RECORD_VERSION = 1


def parse_stalled_after(
    value: timedelta | float | None,
    *,
    poll_interval: float,
    floor: float | None = None,
    what: str = "stalled_after",
) -> float | None:
    """A user's ``stalled_after`` in seconds, or None (no watch), refused at parse time when absurd.

    It must be at least the poll interval (a watch shorter than the gap between two reads would call
    every job stalled) and at least ``floor`` (default :data:`MIN_STALLED_AFTER`, read at call time so
    that tests driving an injected clock may lower it); DAGs keep the default.

    :param value: a :class:`~datetime.timedelta`, a number of seconds, or None.
    :raises CanvasConfigurationError: not a duration, or outside the allowed range.
    """
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise CanvasConfigurationError(
            f"{what} must be a timedelta or a number of seconds (or None for no stall watch), got {shown(value)}."
        )
    floor = MIN_STALLED_AFTER if floor is None else floor
    lowest = max(floor, poll_interval)
    if not math.isfinite(seconds) or seconds < lowest or seconds > MAX_STALLED_AFTER:
        raise CanvasConfigurationError(
            f"{what} must be between {lowest:g} s (the larger of {floor:g} s and the poll interval) and "
            f"{MAX_STALLED_AFTER:g} s (a week), got {seconds:g} s. A shorter watch would call a healthy job "
            "stuck between two reads; for no watch at all, leave it unset."
        )
    return seconds


def clamp_stalled_after(seconds: float, *, poll_interval: float, floor: float | None = None) -> float:
    """``seconds`` brought into the allowed range, for values read back from a stored trigger row
    (written by any version), which must not crash the triggerer. NaN reads as the floor."""
    lowest = max(MIN_STALLED_AFTER if floor is None else floor, poll_interval)
    if math.isnan(seconds):
        return lowest
    return min(max(seconds, lowest), max(lowest, MAX_STALLED_AFTER))


@dataclass(frozen=True)
class Observation:
    """What the watch compares between two reads of one job.

    :param state: the job's state as Canvas names it (``running``, ``importing``...).
    :param completion: its completion or progress in percent, if it reports one.
    :param updated_at: Canvas's ``updated_at`` as epoch seconds, if present.
    """

    state: str
    completion: float | None = None
    updated_at: float | None = None

    def describe(self) -> str:
        """``importing, 40 %`` -- the state and completion, as log lines show them."""
        if self.completion is None:
            return self.state
        return f"{self.state}, {self.completion:g} %"

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "completion": self.completion, "updated_at": self.updated_at}

    @classmethod
    def from_dict(cls, payload: object) -> Observation | None:
        """Read :meth:`to_dict`'s output back; None when it is not that shape."""
        if not isinstance(payload, Mapping):
            return None
        state = payload.get("state")
        try:
            completion = _finite_or_none(payload.get("completion"))
            updated_at = _finite_or_none(payload.get("updated_at"))
        except ValueError:
            return None
        return cls(state, completion, updated_at) if isinstance(state, str) else None


@dataclass(frozen=True)
class StallRules:
    """What a kind of job tells the watch, as data.

    :param explainable_states: states in which a still job may be waiting for something outside it
        that the kind can check with one more read (a SIS import in ``created``, queued behind
        another import of its account). The watch asks before calling such a job stalled.
    :param updated_at_marks_every_change: True when Canvas bumps the job's ``updated_at`` on every
        change of state and completion (a Progress saves through ``update_attribute``). Then a
        watch that has no memory of earlier reads (a reschedule-mode poke with nowhere to keep it)
        may date the last change from ``updated_at``; otherwise it dates it from its own first read.
    """

    explainable_states: frozenset[str] = frozenset()
    updated_at_marks_every_change: bool = False


#: The rules of a kind that says nothing: every still job is judged by its observations alone.
NO_ALLOWANCES = StallRules()


@dataclass(frozen=True)
class LastChange:
    """The last change the watch saw: the observation then, and the wall time it was first seen.

    :param observation: the job as it was at its last change.
    :param changed_at: wall-clock epoch seconds of that change (the first read that showed it, or
        Canvas's ``updated_at`` where the kind's rules allow).
    :param explanation: why the job was last found still but not stuck, if it was (for logs).
    """

    observation: Observation
    changed_at: float
    explanation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON primitives, for trigger kwargs and the task state store."""
        return {
            "v": _RECORD_VERSION,
            "observation": self.observation.to_dict(),
            "changed_at": self.changed_at,
            "explanation": self.explanation,
        }

    @classmethod
    def from_dict(cls, payload: object) -> LastChange | None:
        """Read :meth:`to_dict`'s output back.

        Lenient on purpose: a record from another version or a damaged row reads as None, which
        only means the watch starts over from the next read -- never a crash, never a false stall.
        """
        if not isinstance(payload, Mapping) or payload.get("v") != _RECORD_VERSION:
            return None
        observation = Observation.from_dict(payload.get("observation"))
        explanation = payload.get("explanation")
        try:
            changed_at = _finite_or_none(payload.get("changed_at"))
        except ValueError:
            return None
        if observation is None or changed_at is None:
            return None
        return cls(observation, changed_at, explanation if isinstance(explanation, str) else None)


class Verdict(str, Enum):
    """What one read tells the watch."""

    #: The job changed since the last read (or this is the first read).
    MOVING = "moving"
    #: Unchanged, but not for ``stalled_after`` yet (or its wait was explained).
    STILL = "still"
    #: Unchanged for ``stalled_after`` in a state the kind may explain: ask it (:func:`explained`).
    EXPLAIN = "explain"
    #: Unchanged for ``stalled_after``, and nothing explains it.
    STALLED = "stalled"


@dataclass(frozen=True)
class StallCheck:
    """The watch's answer to one read: the verdict and the record to keep for the next read."""

    verdict: Verdict
    last: LastChange
    #: Seconds since the last change, as of this read.
    still_for: float


def observe(
    last: LastChange | None,
    seen: Observation,
    now: float,
    *,
    stalled_after: float,
    rules: StallRules = NO_ALLOWANCES,
) -> StallCheck:
    """Judge one read of a pending job.

    :param last: the record kept from the previous read (None on the first, or when it was lost).
    :param seen: this read.
    :param now: wall-clock epoch seconds of this read (injected: tests advance it, nothing sleeps).
    :param stalled_after: seconds of stillness that make a stall (see :func:`parse_stalled_after`).
    :param rules: the kind's allowances.
    """
    if last is None or last.observation != seen:
        record = LastChange(seen, _first_seen(seen, now, rules) if last is None else now)
        still_for = max(0.0, now - record.changed_at)
        if last is None and still_for >= stalled_after:
            # Dated from Canvas's updated_at: the job was already still when the watch began.
            return _judge(record, seen, still_for, stalled_after, rules)
        return StallCheck(Verdict.MOVING, record, still_for)
    # A clock stepped back (NTP, another host after a triggerer restart) must not make time negative.
    still_for = max(0.0, now - last.changed_at)
    return _judge(last, seen, still_for, stalled_after, rules)


def explained(check: StallCheck, now: float, explanation: str | None) -> StallCheck:
    """Fold the kind's answer to :attr:`Verdict.EXPLAIN` into the watch.

    An explanation (e.g. "queued behind SIS import 122, importing") restarts the clock: the job gets
    another ``stalled_after`` before the kind is asked again, so the extra read costs one call per
    ``stalled_after``, not one per poll. No explanation (None) makes it a stall.
    """
    if check.verdict is not Verdict.EXPLAIN:
        return check
    if explanation is None:
        return replace(check, verdict=Verdict.STALLED)
    return StallCheck(Verdict.STILL, LastChange(check.last.observation, now, explanation), 0.0)


def stall_message(noun: str, job_id: str, check: StallCheck) -> str:
    """The message a stalled wait ends with: what was still, since when, and what to do."""
    seen = check.last.observation
    return (
        f"{noun} {job_id} has not changed for {humanise(check.still_for)} (still {seen.describe()}): "
        "treated as stalled. Check the job in Canvas; with cancel_on_stall=True the wait stops it first, "
        "and a longer stalled_after gives slow jobs more room."
    )


def _judge(
    record: LastChange, seen: Observation, still_for: float, stalled_after: float, rules: StallRules
) -> StallCheck:
    if still_for < stalled_after:
        return StallCheck(Verdict.STILL, record, still_for)
    if seen.state in rules.explainable_states:
        return StallCheck(Verdict.EXPLAIN, record, still_for)
    return StallCheck(Verdict.STALLED, record, still_for)


def _first_seen(seen: Observation, now: float, rules: StallRules) -> float:
    # Only for kinds whose updated_at moves with every change, and never from the future: a Canvas
    # clock ahead of ours must not make a moving job look older than it is.
    if rules.updated_at_marks_every_change and seen.updated_at is not None and seen.updated_at <= now:
        return seen.updated_at
    return now


def _finite_or_none(value: object) -> float | None:
    """A finite number as a float, or None for None.

    :raises ValueError: anything else (a string, a bool, NaN), so a damaged record is refused whole.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(value)
    return float(value)
