"""What every task that waits on a Progress does with the answer, shared by the sensor and the
job-starting operators: turn an outcome into success, a no-retry failure or a skip, and build the
trigger for a deferred wait.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from airflow_provider_canvas_progress.compat import (
    AirflowException,
    AirflowFailException,
    Context,
)
from airflow_provider_canvas_progress.core.arguments import duration, flag, optional_duration
from airflow_provider_canvas_progress.core.events import WaitEvent, WaitStatus
from airflow_provider_canvas_progress.core.kinds import JobKind
from airflow_provider_canvas_progress.core.kinds.progress import KIND as PROGRESS
from airflow_provider_canvas_progress.core.outcome import (
    CANCEL_MESSAGE_PREFIX,
    CancelMatcher,
    Outcome,
    cancel_message,
)
from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.core.timing import check_interval
from airflow_provider_canvas_progress.exceptions import (
    CanvasConfigurationError,
    CanvasError,
    CanvasJobAttemptFailed,
    CanvasJobCancelled,
    CanvasJobFailed,
    CanvasJobStalled,
    CanvasWaitTimeout,
)
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.triggers.job import CanvasJobTrigger

#: XCom key under which the last Progress seen is kept (links and alert tasks read it).
PROGRESS_XCOM_KEY = "progress"
#: Extra time given to Airflow's own deferral timeout, which only backs up the trigger's deadline.
DEFERRAL_GRACE = timedelta(minutes=5)
#: The longest wait a timeout may ask for: a year. Longer is a typo (``1e300`` cannot even be a deadline).
MAX_WAIT_TIMEOUT = 366 * 86_400.0
#: ``stalled`` only ever happens with ``stalled_after`` set; then it fails the task by default.
DEFAULT_FAIL_ON = ("failed", "cancelled", "stalled")


__all__ = [
    "DEFAULT_FAIL_ON",
    "PROGRESS_XCOM_KEY",
    "CanvasJobAttemptFailed",
    "CanvasJobCancelled",
    "CanvasJobFailed",
    "CanvasWaitTimeout",
    "DeferredWait",
    "WaitPolicy",
    "build_trigger",
    "failing_fast",
    "task_failure",
    "validate_timing",
]


@dataclass(frozen=True)
class WaitPolicy:
    """How a task reads a job's ending, for any kind of job.

    :param matcher: which ``failed`` messages mean "cancelled".
    :param fail_on: outcomes that fail the task; others end it successfully so a branch can route.
    :param retry_failed_jobs: the task started the job itself, so an Airflow retry starts a fresh one.
    :param kind: the kind of job (:mod:`~airflow_provider_canvas_progress.core.kinds`); a Progress by default.
    """

    matcher: CancelMatcher
    fail_on: frozenset[Outcome]
    #: True when the task started the job itself, so an Airflow retry starts a fresh one.
    retry_failed_jobs: bool = False
    kind: JobKind[Any, Any] = PROGRESS

    @classmethod
    def of(
        cls,
        cancel_messages: Iterable[str] | str | None,
        fail_on: Iterable[str] | str,
        *,
        retry_failed_jobs: bool = False,
        kind: JobKind[Any, Any] = PROGRESS,
    ) -> WaitPolicy:
        """Validate the user's ``cancel_messages`` and ``fail_on`` (None: the default cancel prefix)."""
        return cls(CancelMatcher.of(cancel_messages), Outcome.parse_many(fail_on), retry_failed_jobs, kind)

    def result(self, progress: Any, context: Context | None = None) -> dict[str, Any]:
        """The task's return value for an ended job (a Progress for the Progress kind), or the failure.

        :raises CanvasJobFailed: or :class:`CanvasJobCancelled`, when the outcome is in ``fail_on``.
        """
        kind = self.kind
        outcome = kind.outcome(progress, self.matcher)
        result = {**kind.to_dict(progress), "outcome": outcome.value}
        described, job_id, message = kind.describe(progress), kind.job_id(progress), getattr(progress, "message", None)
        if context is not None:
            context["ti"].xcom_push(key=PROGRESS_XCOM_KEY, value=result)
        if outcome in self.fail_on:
            if outcome is Outcome.CANCELLED:
                raise CanvasJobCancelled(
                    f"Canvas job cancelled: {described}. Cancelled jobs are not retried; start "
                    "a new job if the work is still needed.",
                    progress_id=job_id,
                    canvas_message=message,
                )
            if self.retry_failed_jobs:
                raise CanvasJobAttemptFailed(
                    f"Canvas job failed: {described}. If the task has retries left, the next try starts a fresh job.",
                    progress_id=job_id,
                    canvas_message=message,
                )
            raise CanvasJobFailed(
                f"Canvas job failed: {described}. Not retried (the same {kind.label} cannot "
                "change); fix the cause in Canvas and start a new job.",
                progress_id=job_id,
                canvas_message=message,
            )
        return result

    def timeout(self, progress_id: str, waited: float, last: Any) -> CanvasWaitTimeout:
        noun = self.kind.noun
        seen = (
            self.kind.describe(last)
            if last is not None
            else f"{noun.split()[-1]} {progress_id} was never read successfully"
        )
        return CanvasWaitTimeout(
            f"Timed out after {waited:.0f} s waiting on {noun} {progress_id}: {seen}. The job may "
            "still be running in Canvas; raise the timeout, or cancel it (cancel_on_timeout=True).",
            progress_id=progress_id,
        )

    def ended_well(self, job: Any) -> bool:
        """Whether an ended job's outcome is one the task does not fail on (a retry may keep it)."""
        return self.kind.outcome(job, self.matcher) not in self.fail_on

    def stalled(self, job: Any, message: str, context: Context | None = None) -> dict[str, Any]:
        """The task's return value for a job that stalled (outcome ``stalled``), or the failure.

        :raises CanvasJobStalled: when ``stalled`` is in ``fail_on`` (the default); Airflow retries it.
        """
        result = {**self.kind.to_dict(job), "outcome": Outcome.STALLED.value}
        if context is not None:
            context["ti"].xcom_push(key=PROGRESS_XCOM_KEY, value=result)
        if Outcome.STALLED in self.fail_on:
            raise CanvasJobStalled(message, progress_id=self.kind.job_id(job))
        return result

    def from_event(self, payload: object, context: Context | None = None) -> dict[str, Any]:
        """Read a trigger event (validated) into the task's result or failure."""
        event = WaitEvent.from_payload(payload)
        if event.kind is not self.kind:
            return replace(self, kind=event.kind).from_event(payload, context)
        if event.status is WaitStatus.ENDED:
            assert event.progress is not None
            return self.result(event.progress, context)
        if event.status is WaitStatus.TIMEOUT:
            if event.progress is not None and context is not None:
                last = {**self.kind.to_dict(event.progress), "outcome": Outcome.PENDING.value}
                context["ti"].xcom_push(key=PROGRESS_XCOM_KEY, value=last)
            raise self.timeout(event.progress_id, event.elapsed, event.progress)
        if event.status is WaitStatus.STALLED and event.progress is not None:
            return self.stalled(event.progress, event.message, context)
        raise task_failure(f"Waiting on {event.kind.noun} {event.progress_id} failed: {event.message}", event.retryable)


def task_failure(text: str, retryable: bool) -> AirflowException:
    """The one mapping of a Canvas failure onto Airflow's retry: a transient one (an outage that
    outlasted the retry budget, see :mod:`~airflow_provider_canvas_progress.core.budget`) goes to
    Airflow's task retries; anything else would fail the same way again, so no retry."""
    return AirflowException(text) if retryable else AirflowFailException(text)


@contextmanager
def failing_fast() -> Iterator[None]:
    """Turn Canvas errors into task failures by the error's own ``retryable`` flag.

    A transient error that outlasted the hook's retries (an outage) goes through unchanged, to
    Airflow's task retries. Anything else (an unknown id, a refused token, an unknown state, a bad
    rendered argument) would fail the same way on every retry, so the task fails at once, with the
    Canvas error as ``__cause__`` for callbacks.
    """
    try:
        yield
    except CanvasError as error:
        if error.retryable:
            raise
        raise task_failure(f"{error} Not retried: trying again would fail the same way.", False) from error


def validate_timing(poll_interval: float, timeout: float | None) -> None:
    """Refuse timings that cannot work, naming the parameter (at DAG parse time)."""
    check_interval(poll_interval, what="poll_interval/poke_interval")
    if timeout is not None and not 0 < timeout <= MAX_WAIT_TIMEOUT:  # NaN fails too
        raise CanvasConfigurationError(
            f"timeout must be > 0 seconds and at most {MAX_WAIT_TIMEOUT:.0f} (a year), or None for no deadline; "
            f"got {shown(timeout)}."
        )


def check_sensor_arguments(kwargs: Mapping[str, Any]) -> None:
    """A sensor's ``poke_interval``, ``timeout``, ``max_wait`` and ``exponential_backoff``, checked before
    Airflow's sensor reads them.

    Airflow refuses most bad values itself, but as a bare ``ValueError``, or an ``OverflowError``
    for ``inf`` and ``1e300``, and takes ``exponential_backoff="no"`` as yes; here they are the
    provider's typed error naming the task. The ranges are checked after, on what Airflow stored
    (:func:`validate_timing`).
    """
    task = kwargs.get("task_id")
    task_id = task if isinstance(task, str) else None
    if "poke_interval" in kwargs:
        seconds = duration(kwargs["poke_interval"], what="poke_interval", task_id=task_id)
        check_interval(seconds, what=f"{task_id}: poll_interval/poke_interval" if task_id else "poke_interval")
    for name in ("timeout", "max_wait"):
        limit = optional_duration(kwargs.get(name), what=name, task_id=task_id)
        if limit is not None and limit < 0:
            raise CanvasConfigurationError(f"{task_id}: {name} must not be negative, got {limit:g} seconds.")
    if "exponential_backoff" in kwargs:
        flag(kwargs["exponential_backoff"], what="exponential_backoff", task_id=task_id)


def build_trigger(
    ref: object,
    *,
    canvas_conn_id: str,
    poll_interval: float,
    timeout: float | None,
    now: float | None = None,
    read_just_now: bool = False,
    max_consecutive_failures: int = 5,
    cancel_on_kill: bool = False,
    kill_message: str | None = None,
    exponential_backoff: bool = False,
    max_wait: float | None = None,
    stalled_after: float | None = None,
    last_change: dict[str, Any] | None = None,
) -> CanvasJobTrigger:
    """The one place a wait's trigger is built (deferred waits, ``start_from_trigger``, job operators).

    :param ref: the job's reference as parsed by the task (``str()`` gives its string form, e.g.
        ``progress:123``); a template string with ``start_from_trigger``, rendered by Airflow.
    :param now: Unix time of the deferral; None when the trigger starts with no task (start_from_trigger),
        and then it sets its own start time and there is no absolute deadline (Airflow's trigger
        timeout applies).
    :param read_just_now: the task read the job right before deferring, so the trigger's first
        read waits one interval instead of repeating it.
    :param stalled_after: seconds without change that make the job stalled (None: no watch).
    :param last_change: the stall watch's record so far (:class:`~.core.stall.LastChange` as a dict),
        so time the job already sat still on the worker counts in the triggerer too.
    """
    return CanvasJobTrigger(
        ref=str(ref),
        canvas_conn_id=canvas_conn_id,
        poll_interval=poll_interval,
        # Absolute, so that a triggerer restart, which rebuilds the trigger, keeps the deadline.
        deadline=now + timeout if now is not None and timeout is not None else None,
        started_at=now,
        first_poll_at=now + poll_interval if now is not None and read_just_now else None,
        max_consecutive_failures=max_consecutive_failures,
        cancel_on_kill=cancel_on_kill,
        kill_message=kill_message,
        exponential_backoff=exponential_backoff,
        max_wait=max_wait,
        stalled_after=stalled_after,
        last_change=last_change,
    )


class DeferredWait:
    """What the sensor and the job operators share around a deferred wait: deferring with an absolute
    deadline, reading the trigger's event on resume, and cancelling the job on timeout or kill.

    Mixed into an operator that has ``hook``, ``canvas_conn_id``, ``cancel_messages``,
    ``max_consecutive_failures``, ``cancel_on_kill``, ``cancel_on_timeout`` and ``_policy()``; it says
    which Progress a cancel targets through :meth:`_cancel_target`.
    """

    canvas_conn_id: str
    cancel_messages: list[str]
    max_consecutive_failures: int
    cancel_on_kill: bool
    cancel_on_timeout: bool
    #: Stop the job before ending a wait on a stall (``stalled_after``).
    cancel_on_stall: bool = False
    #: The stall watch's duration in seconds, None for no watch.
    stalled_after: float | None = None
    log: Any

    @property
    def hook(self) -> CanvasHook:
        """A hook per task instance (cached), so the connection is read once per try."""
        hook: CanvasHook | None = getattr(self, "_hook", None)
        if hook is None:
            hook = CanvasHook(self.canvas_conn_id)
            self._hook = hook
        return hook

    def _policy(self) -> WaitPolicy:
        raise NotImplementedError

    def _cancel_target(self) -> Any:
        """The Progress to cancel on timeout or kill, or None when there is none yet."""
        raise NotImplementedError

    def _defer_wait(
        self,
        context: Context,
        *,
        ref: object,
        poll_interval: float,
        timeout: float | None,
        exponential_backoff: bool = False,
        max_wait: float | None = None,
        kwargs: dict[str, Any] | None = None,
        last_change: dict[str, Any] | None = None,
    ) -> None:
        """Defer on ``ref`` (read by this task moments ago, so the trigger starts with a sleep)."""
        trigger = build_trigger(
            ref,
            canvas_conn_id=self.canvas_conn_id,
            poll_interval=poll_interval,
            timeout=timeout,
            now=time.time(),
            read_just_now=True,
            max_consecutive_failures=self.max_consecutive_failures,
            cancel_on_kill=self.cancel_on_kill,
            kill_message=kill_message_for(context, "the task was killed"),
            exponential_backoff=exponential_backoff,
            max_wait=max_wait,
            stalled_after=self.stalled_after,
            last_change=last_change,
        )
        # Airflow's deferral timeout only backs up the trigger's own wall-clock deadline.
        backstop = timedelta(seconds=timeout) + DEFERRAL_GRACE if timeout is not None else None
        self.defer(trigger=trigger, method_name="execute_complete", kwargs=kwargs, timeout=backstop)  # type: ignore[attr-defined]

    def _redacted_event(self, event: Any) -> Any:
        """The trigger's event with the connection's secrets redacted, read before anything else on resume.

        Reading the connection registers its secrets with the masker of this worker, which is not the one
        that deferred; the event is redacted too, in case a triggerer (an older release, a proxy's echo it
        did not catch) wrote one with a secret in it.
        """
        try:
            return self.hook.settings.redactor.value(event)
        except Exception as error:  # no connection to read now: nothing to mask; the event is still validated
            self.log.warning("Could not read Canvas connection %r on resume: %s", self.canvas_conn_id, error)
            return event

    def _resume(self, context: Context, event: Any) -> Any:
        """Read the trigger's event (redacted, validated) into the result, cancelling on timeout or stall if asked."""
        event = self._redacted_event(event)
        if isinstance(event, dict) and event.get("status") == WaitStatus.STALLED.value:
            self._cancel(context, "the job stalled", enabled=self.cancel_on_stall)
        try:
            return self._policy().from_event(event, context)
        except CanvasWaitTimeout:
            self._cancel(context, "the wait timed out", enabled=self.cancel_on_timeout)
            raise

    def on_kill(self) -> None:
        """Cancel the Canvas job when the task is killed, if ``cancel_on_kill`` (never raises)."""
        self._cancel(None, "the task was killed", enabled=self.cancel_on_kill)

    def _cancel(self, context: Context | None, reason: str, *, enabled: bool) -> None:
        if not enabled:
            return
        try:
            target = self._cancel_target()
        except Exception as error:  # e.g. a reference that never parsed: nothing was started
            self.log.warning("Could not cancel the Canvas job: %s", error)
            return
        if target is not None:
            cancel_if_pending(self.hook, target, kill_message_for(context, reason), self.log, kind=self._policy().kind)


def cancel_if_pending(
    hook: CanvasHook, progress_id: Any, message: str, log: Any, *, kind: JobKind[Any, Any] = PROGRESS
) -> None:
    """Best-effort stop on kill or timeout: only a pending job, never raising.

    The task's own outcome (killed, timed out) is what the user must see; a failure to stop is
    logged beside it rather than replacing it.

    :param progress_id: the job's reference as its kind reads it (for a Progress, any form the hook reads).
    """
    try:
        job = kind.read(hook, progress_id)
        if not kind.is_pending(job):
            log.info("Not cancelling: %s", kind.describe(job))
            return
        log.info("Cancelled: %s", kind.describe(kind.stop(hook, progress_id, message)))
    except Exception as error:
        log.warning("Could not cancel %s %s: %s", kind.noun, progress_id, error)


def kill_message_for(context: Context | None, reason: str) -> str:
    """A cancel message naming the DAG, task and run, recognisable as a cancel by default.

    ``on_kill`` has no context, so without one the message says only why.
    """
    if context is None:
        return f"{CANCEL_MESSAGE_PREFIX}: {reason}"
    ti = context["ti"]
    return cancel_message(ti.dag_id, ti.task_id, ti.run_id, reason)
