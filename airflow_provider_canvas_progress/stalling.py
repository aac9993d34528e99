"""The stall watch (:mod:`~airflow_provider_canvas_progress.core.stall`) as a task drives it between
its own reads: the sensor's pokes, the job operators' synchronous waits, and the read a task makes
just before deferring (whose record then travels to the trigger, which drives the watch itself).

Poke mode keeps the record in memory, as the same operator object pokes again. A reschedule-mode poke
is a fresh process each time, so there the record is kept in the task state store (Airflow >= 3.3);
without one, the watch starts over at each poke, and only a kind whose ``updated_at`` marks every
change (a Progress) can still see a stall, dated from Canvas's ``updated_at``. The store outlives a
try, so the record names the try that wrote it: a retry starts its own watch, and gives a still job
another ``stalled_after`` rather than calling it stalled at its first poke.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_canvas_progress.compat import Context, task_state_store
from airflow_provider_canvas_progress.core.kinds import JobClient, JobKind
from airflow_provider_canvas_progress.core.stall import (
    LastChange,
    StallCheck,
    Verdict,
    explained,
    observe,
    parse_stalled_after,
)
from airflow_provider_canvas_progress.exceptions import CanvasError

#: Task state store key of the watch's record in reschedule mode (never renamed: in-flight waits read it).
STALL_STORE_KEY = "canvas_stall"


def check_stalled_after(value: Any, *, poll_interval: float, task_id: str) -> float | None:
    """``stalled_after`` in seconds, checked at parse time and naming the task."""
    return parse_stalled_after(value, poll_interval=poll_interval, what=f"{task_id}: stalled_after")


def task_stall_watch(stalled_after: float | None, context: Context, *, reschedule: bool, log: Any) -> TaskStallWatch:
    """The stall watch of the running try: its record in the task state store in reschedule mode
    (where there is one), in memory otherwise."""
    keep = reschedule and stalled_after is not None
    store = task_state_store(context) if keep else None
    try_number = int(getattr(context["ti"], "try_number", 1) or 1)
    return TaskStallWatch(stalled_after, store=store, try_number=try_number, log=log)


class TaskStallWatch:
    """One task's stall watch over a job it reads itself.

    :param stalled_after: seconds (already checked), or None for no watch (then :meth:`check` is a no-op).
    :param store: a task state store to keep the record in across processes (reschedule mode).
    :param try_number: the try watching; a record another try wrote is not this try's (None: any record is).
    :param clock: wall time, injectable.
    """

    def __init__(
        self,
        stalled_after: float | None,
        *,
        store: Any | None = None,
        try_number: int | None = None,
        clock: Callable[[], float] = time.time,
        log: Any = None,
    ) -> None:
        self.stalled_after = stalled_after
        self.store = store
        self.try_number = try_number
        self.clock = clock
        self.log = log
        self.last: LastChange | None = None
        if store is not None and stalled_after is not None:
            kept = store.get(STALL_STORE_KEY)
            written_by = kept.get("try") if isinstance(kept, Mapping) else None
            # A record without a try was written before records named theirs: read it as this try's.
            if try_number is None or written_by in (None, try_number):
                self.last = LastChange.from_dict(kept)

    def record(self) -> dict[str, Any] | None:
        """The record as a dict, for a trigger's ``last_change`` kwarg."""
        return self.last.to_dict() if self.last is not None else None

    def check(self, kind: JobKind[Any, Any], client: JobClient, ref: Any, job: Any) -> StallCheck | None:
        """Feed one pending read to the watch; the check when the job is stalled, else None."""
        if self.stalled_after is None:
            return None
        now = self.clock()
        check = observe(self.last, kind.observation(job), now, stalled_after=self.stalled_after, rules=kind.stall_rules)
        if check.verdict is Verdict.EXPLAIN:
            try:
                check = explained(check, now, kind.explain_wait(client, ref, job))
            except CanvasError as error:
                # A failed extra read proves nothing either way: ask again at the next read.
                self._say("Could not tell why %s %s is still: %s", kind.noun, kind.job_id(job), error)
                return None
            if check.verdict is Verdict.STILL and check.last.explanation:
                self._say("%s %s is waiting, not stuck: %s", kind.noun, kind.job_id(job), check.last.explanation)
        if check.last != self.last and self.store is not None:
            kept = check.last.to_dict()
            self.store.set(STALL_STORE_KEY, kept if self.try_number is None else {**kept, "try": self.try_number})
        self.last = check.last
        return check if check.verdict is Verdict.STALLED else None

    def _say(self, *args: Any) -> None:
        if self.log is not None:
            self.log.info(*args)
