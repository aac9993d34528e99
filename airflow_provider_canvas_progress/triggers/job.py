"""CanvasJobTrigger: poll a Canvas job of any kind from the triggerer until it ends.

A deferred task holds no worker slot; this trigger does the waiting, in the triggerer's event
loop, alongside hundreds of others. It therefore never blocks (connections are read with
``aget_connection``), and borrows one aiohttp session, an in-flight cap and a rate pacer shared by
every Canvas trigger on the same token in the process (see
:class:`~airflow_provider_canvas_progress.hooks.canvas.CanvasHook`).

What is waited on travels as one kwarg, ``ref``: the job's reference in string form, whose prefix
names its kind (``progress:123``; see :mod:`~airflow_provider_canvas_progress.core.kinds`). Every
kind shares this class: the deadline, the tolerance of failed polls, the first sleep and the
cancel on kill are written once.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from airflow_provider_canvas_progress.compat import BaseTrigger, TriggerEvent
from airflow_provider_canvas_progress.core.arguments import clamp_failure_budget
from airflow_provider_canvas_progress.core.events import WaitEvent, WaitStatus
from airflow_provider_canvas_progress.core.ids import ProgressRef, parse_progress_ref
from airflow_provider_canvas_progress.core.kinds import KIND_MODULES, JobKind, parse_job_ref
from airflow_provider_canvas_progress.core.outcome import CANCEL_MESSAGE_PREFIX
from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.core.stall import (
    LastChange,
    StallCheck,
    Verdict,
    clamp_stalled_after,
    explained,
    observe,
    stall_message,
)
from airflow_provider_canvas_progress.core.timing import clamp_interval, next_interval
from airflow_provider_canvas_progress.exceptions import CanvasConfigurationError, CanvasError, InvalidProgressIdError
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.triggers.clock import SYSTEM_CLOCK, WaitClock

#: How long ``on_kill`` may spend stopping the Canvas job before giving up.
KILL_CANCEL_TIMEOUT = 30.0

T = TypeVar("T")


def _number(value: object, what: str) -> float:
    """A finite number from the trigger's kwargs, which come back from a database row that any
    provider version (or a hand edit) may have written: anything else is refused, naming the kwarg."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not math.isfinite(number) or number > 1e12:
        raise CanvasConfigurationError(
            f"The Canvas trigger's {what} is {shown(value)}, not a finite number of seconds."
        )
    return number


async def within(awaitable: Awaitable[T], seconds: float | None) -> tuple[bool, T | None]:
    """Await with a time limit, as ``(finished, result)``; cancellation-safe on Python 3.10-3.13.

    ``asyncio.wait_for`` before 3.12 could swallow a cancellation that arrived as its inner task
    finished, so a trigger the triggerer dropped went on polling. Here the inner task runs beside
    us: a cancellation of the caller always propagates (the inner task is cancelled with it), and
    the inner task's own result or error is only read once it is done.
    """
    if seconds is None:
        return True, await awaitable
    task = asyncio.ensure_future(awaitable)
    try:
        await asyncio.wait({task}, timeout=max(0.0, seconds))
    finally:
        if not task.done():
            task.cancel()
    if task.done() and not task.cancelled():
        return True, task.result()
    # Timed out: let the cancelled read wind down (closing its connection) before moving on.
    await asyncio.wait({task})
    return False, None


class CanvasJobTrigger(BaseTrigger):  # type: ignore[misc]
    """Fire one event when a Canvas job ends, its deadline passes, or reading it fails for good.

    :param ref: the job's reference in string form, e.g. ``progress:123`` or
        ``progress:lti/7/123`` (``str()`` of the reference the task parsed). Templated.
    :param canvas_conn_id: the Airflow ``canvas`` connection.
    :param poll_interval: seconds between polls (at least 1 s; see
        :mod:`~airflow_provider_canvas_progress.core.timing`).
    :param deadline: absolute Unix time after which the wait times out, or None for no deadline.
        Absolute on purpose: when the triggerer restarts, the trigger is rebuilt from these kwargs,
        and a relative timeout would start again from zero.
    :param started_at: Unix time the wait began (for the timeout message).
    :param first_poll_at: Unix time of the first poll: the task read the job just before deferring,
        so polling again at once would only repeat that read. Absolute, like ``deadline``.
    :param max_consecutive_failures: transient read failures in a row (each already retried by
        the hook) tolerated before giving up; see :mod:`~airflow_provider_canvas_progress.core.budget`.
    :param cancel_on_kill: stop the Canvas job when a user kills the task (Airflow >= 3.3 calls
        ``on_kill`` on triggers).
    :param kill_message: the message written on that stop.
    :param exponential_backoff: double the interval after each pending poll (as sensors do).
    :param max_wait: cap on the interval when backing off, in seconds (at least 1 s).
    :param stalled_after: seconds a pending job may stay unchanged before the wait ends as
        ``stalled`` (None: no watch); clamped into the range :mod:`~.core.stall` allows.
    :param last_change: the stall watch's record when the trigger was built (a
        :class:`~airflow_provider_canvas_progress.core.stall.LastChange` dict): a job already still on
        the worker, or before a triggerer restart, is measured from its real last change.
    """

    template_fields = ("ref",)
    #: Wall time, monotonic time and sleep; tests replace it to run without real sleeps.
    clock: WaitClock = SYSTEM_CLOCK

    def __init__(
        self,
        *,
        ref: str,
        canvas_conn_id: str = CanvasHook.default_conn_name,
        poll_interval: float = 60.0,
        deadline: float | None = None,
        started_at: float | None = None,
        first_poll_at: float | None = None,
        max_consecutive_failures: int = 5,
        cancel_on_kill: bool = False,
        kill_message: str | None = None,
        exponential_backoff: bool = False,
        max_wait: float | None = None,
        stalled_after: float | None = None,
        last_change: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        # Kept as text and parsed in run(): with start_from_trigger, Airflow renders it after __init__.
        self.ref = str(ref)
        self.canvas_conn_id = canvas_conn_id
        self.poll_interval = _number(poll_interval, "poll_interval")
        self.deadline = None if deadline is None else _number(deadline, "deadline")
        self.started_at = _number(started_at, "started_at") if started_at is not None else self.clock.time()
        self.first_poll_at = None if first_poll_at is None else _number(first_poll_at, "first_poll_at")
        self.max_consecutive_failures = clamp_failure_budget(
            _number(max_consecutive_failures, "max_consecutive_failures")
        )
        self.cancel_on_kill = bool(cancel_on_kill)
        self.kill_message = kill_message
        self.exponential_backoff = bool(exponential_backoff)
        self.max_wait = None if max_wait is None else clamp_interval(_number(max_wait, "max_wait"))
        self.stalled_after = None
        if stalled_after is not None:
            seconds = _number(stalled_after, "stalled_after")
            self.stalled_after = clamp_stalled_after(seconds, poll_interval=clamp_interval(self.poll_interval))
        # Lenient: a record this version cannot read only restarts the watch at the next read.
        self.last_change = LastChange.from_dict(last_change)
        #: The reference's canonical string form once read (events carry it; None until then,
        #: which an event reader takes as a Progress).
        self._resolved: str | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Primitives only: the kwargs are stored in the database and rebuilt in any triggerer."""
        kwargs: dict[str, Any] = {
            "ref": self.ref,
            "canvas_conn_id": self.canvas_conn_id,
            "poll_interval": self.poll_interval,
            "deadline": self.deadline,
            "started_at": self.started_at,
            "first_poll_at": self.first_poll_at,
            "max_consecutive_failures": self.max_consecutive_failures,
            "cancel_on_kill": self.cancel_on_kill,
            "kill_message": self.kill_message,
            "exponential_backoff": self.exponential_backoff,
            "max_wait": self.max_wait,
        }
        if self.stalled_after is not None:
            # Only with a stall watch: the rows of waits without one stay as they were.
            kwargs["stalled_after"] = self.stalled_after
            kwargs["last_change"] = self.last_change.to_dict() if self.last_change is not None else None
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    @property
    def progress_id(self) -> str:
        """The job's id as the reference gives it (named for Progress, the first kind; kept for
        code that read the attribute before references became one kwarg)."""
        prefix = f"{ProgressRef.KIND}:"
        body = self.ref[len(prefix) :] if self.ref.startswith(prefix) else self.ref
        return body.rsplit("/", 1)[-1] if body.startswith("lti/") else body

    @property
    def lti_course_id(self) -> str | None:
        """The LTI course of a Progress reference read through LTI, else None."""
        prefix = f"{ProgressRef.KIND}:lti/"
        return self.ref[len(prefix) :].split("/", 1)[0] if self.ref.startswith(prefix) else None

    # -- events --------------------------------------------------------------------------------

    def _elapsed(self) -> float:
        return max(0.0, self.clock.time() - self.started_at)

    def _event(self, status: WaitStatus, job_id: str, job: object, message: str = "") -> TriggerEvent:
        event = WaitEvent(status, job_id, job, message, elapsed=self._elapsed(), ref=self._resolved)
        return TriggerEvent(event.to_payload())  # type: ignore[no-untyped-call]

    def _error_event(self, error: CanvasError, job_id: str, last: object) -> TriggerEvent:
        event = WaitEvent(
            WaitStatus.ERROR,
            job_id,
            last,
            str(error),
            type(error).__name__,
            elapsed=self._elapsed(),
            retryable=error.retryable,
            ref=self._resolved,
        )
        return TriggerEvent(event.to_payload())  # type: ignore[no-untyped-call]

    def _time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock.time()

    async def _sleep(self, seconds: float) -> None:
        left = self._time_left()
        await self.clock.sleep(seconds if left is None else max(0.0, min(seconds, left)))

    async def _resolve(self, hook: CanvasHook) -> tuple[JobKind[Any, Any], Any]:
        """The kind and reference, from the string form; a Progress given in any user form (a
        rendered template, a row written before references had a string form) is read as the task
        would, URLs checked against the connection."""
        try:
            return parse_job_ref(self.ref, what="ref")
        except InvalidProgressIdError:
            prefix, sep, body = self.ref.partition(":")
            if sep and prefix in KIND_MODULES:
                if prefix != ProgressRef.KIND:
                    raise
                text = body
            elif sep and "://" not in self.ref:
                raise  # an unknown kind, not a URL
            else:
                text = self.ref
            kind = parse_job_ref(str(ProgressRef("1")))[0]
            return kind, parse_progress_ref(text, await hook.asettings(), what="ref")

    # -- the wait --------------------------------------------------------------------------------

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the job ends; yield exactly one event."""
        last: object = None
        job_id = self.ref
        failures = polls = 0
        interval = clamp_interval(self.poll_interval)
        try:
            async with CanvasHook(self.canvas_conn_id) as hook:
                kind, ref = await self._resolve(hook)
                self._resolved = str(ref)
                job_id = getattr(ref, "id", job_id)
                if self.first_poll_at is not None and self.first_poll_at > self.clock.time():
                    await self._sleep(min(self.first_poll_at - self.clock.time(), interval))
                while True:
                    left = self._time_left()
                    if left is not None and left <= 0:
                        yield self._event(WaitStatus.TIMEOUT, job_id, last, "deadline passed")
                        return
                    try:
                        # A poll whose retries outlast the deadline must not extend the wait.
                        finished, job = await within(kind.aread(hook, ref), left)
                    except CanvasError as error:
                        failures += 1
                        if not error.retryable or failures >= self.max_consecutive_failures:
                            yield self._error_event(error, job_id, last)
                            return
                        self.log.warning(
                            "Reading %s %s failed (%d in a row, giving up at %d): %s",
                            kind.noun,
                            job_id,
                            failures,
                            self.max_consecutive_failures,
                            error,
                        )
                    else:
                        if not finished:
                            yield self._event(WaitStatus.TIMEOUT, job_id, last, "deadline passed during a poll")
                            return
                        failures = 0
                        if last is None or kind.fingerprint(last) != kind.fingerprint(job):
                            # A line per change, not per poll: hundreds of waits share one log.
                            self.log.info("%s", kind.poll_line(job))
                        last = job
                        if not kind.is_pending(job):
                            yield self._event(WaitStatus.ENDED, job_id, job)
                            return
                        stall = await self._watch(kind, hook, ref, job)
                        if stall is not None:
                            yield self._event(WaitStatus.STALLED, job_id, job, stall_message(kind.noun, job_id, stall))
                            return
                    await self._sleep(
                        next_interval(
                            self.poll_interval,
                            polls,
                            exponential_backoff=self.exponential_backoff,
                            max_wait=self.max_wait,
                        )
                    )
                    polls += 1
        except CanvasError as error:
            # Raised while opening the hook or reading the reference: report, do not crash.
            yield self._error_event(error, job_id, last)

    async def _watch(self, kind: JobKind[Any, Any], hook: CanvasHook, ref: Any, job: Any) -> StallCheck | None:
        """Feed a pending read to the stall watch; the check when the job is stalled, else None."""
        if self.stalled_after is None:
            return None
        now = self.clock.time()
        check = observe(
            self.last_change, kind.observation(job), now, stalled_after=self.stalled_after, rules=kind.stall_rules
        )
        if check.verdict is Verdict.EXPLAIN:
            try:
                check = explained(check, now, await kind.aexplain_wait(hook, ref, job))
            except CanvasError as error:
                # A failed extra read proves nothing either way: ask again at the next poll.
                self.log.warning("Could not tell why %s %s is still: %s", kind.noun, kind.job_id(job), error)
                return None
            if check.last.explanation and check.verdict is Verdict.STILL:
                self.log.info("%s %s is waiting, not stuck: %s", kind.noun, kind.job_id(job), check.last.explanation)
        self.last_change = check.last
        return check if check.verdict is Verdict.STALLED else None

    async def on_kill(self) -> None:
        """Stop the Canvas job when a user kills the deferred task, if asked to (Airflow >= 3.3).

        Only a pending job is stopped: Canvas's cancel would mark a finished job ``failed``.
        Errors are logged, never raised.
        """
        if not self.cancel_on_kill:
            return
        try:
            finished, _ = await within(self._stop_if_pending(), KILL_CANCEL_TIMEOUT)
            if not finished:
                self.log.warning("Could not stop Canvas job %s on kill within %.0f s", self.ref, KILL_CANCEL_TIMEOUT)
        except Exception as error:
            self.log.warning("Could not stop Canvas job %s on kill: %s", self.ref, error)

    async def _stop_if_pending(self) -> None:
        async with CanvasHook(self.canvas_conn_id) as hook:
            kind, ref = await self._resolve(hook)
            job = await kind.aread(hook, ref)
            if kind.is_pending(job):
                # Never without a message: Canvas would erase the job's, and the stop could no
                # longer be told from a failure.
                message = self.kill_message or f"{CANCEL_MESSAGE_PREFIX}: the task was killed"
                stopped = await kind.astop(hook, ref, message)
                self.log.info("Cancelled on kill: %s", kind.describe(stopped))
            else:
                self.log.info("Not cancelling on kill: %s", kind.describe(job))
