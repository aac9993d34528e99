"""The wait every task on a job of a named kind (an SIS import, an account report) shares, written once.

:class:`~airflow_provider_canvas_progress.waiting.DeferredWait` defers, builds the trigger and stops
the job on kill; :class:`JobWait` adds what the sensor and the starting operator of a kind both do
around it: one logged read, the polling loop, the pending result pushed while waiting, the stall
watch (``stalled_after``) and what a stall does to the task, and reading the trigger's event back
on resume. A kind's module says only what its ending means (the result, the failure, the timeout
message); what is not a stall for it is its kind's data
(:attr:`~airflow_provider_canvas_progress.core.kinds.JobKind.stall_rules`).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any, ClassVar

from airflow_provider_canvas_progress.compat import Context, default_deferrable
from airflow_provider_canvas_progress.core.arguments import duration, failure_budget, flag, listed
from airflow_provider_canvas_progress.core.events import WaitEvent, WaitStatus
from airflow_provider_canvas_progress.core.kinds import JobKind
from airflow_provider_canvas_progress.core.stall import stall_message
from airflow_provider_canvas_progress.exceptions import CanvasJobStalled
from airflow_provider_canvas_progress.stalling import TaskStallWatch, check_stalled_after, task_stall_watch
from airflow_provider_canvas_progress.waiting import DeferredWait, failing_fast, task_failure

__all__ = ["STALLED", "JobWait"]

#: The outcome a wait ends with when the job stopped changing for ``stalled_after``; every kind's
#: ``fail_on`` knows it, and has it by default.
STALLED = "stalled"


class JobWait(DeferredWait):
    """The sensor's and the operator's shared wait on one job of :attr:`job_kind`.

    Mixed into an operator with ``fail_on``, ``cancel_on_kill``/``cancel_on_timeout``,
    ``stalled_after``/``cancel_on_stall`` and ``max_consecutive_failures``. A kind implements
    :meth:`_fetch`, :meth:`_job_result`, :meth:`_pending_result` and ``_policy()`` (whose
    ``fail_on`` holds the kind's outcomes, ``stalled`` among them, and whose ``timeout`` names the
    last state seen).
    """

    #: The kind waited on: its fingerprint says when a read is worth a log line.
    job_kind: ClassVar[JobKind[Any, Any]]
    #: XCom key of the last job seen (the result, or the pending job while waiting).
    job_xcom_key: ClassVar[str]
    fail_on: list[str]
    _job_ref: Any = None
    _job_last: Any = None

    def _take_starting_arguments(
        self,
        *,
        durable: object,
        wait_for_completion: object,
        deferrable: object,
        poll_interval: object,
        timeout: object,
        fail_on: object,
        abort_on_kill: object,
        abort_on_timeout: object,
        max_consecutive_failures: object,
        stalled_after: timedelta | float | None,
        cancel_on_stall: object,
    ) -> None:
        """The arguments every operator that starts a job of a kind takes, read as :mod:`.core.arguments` says.

        A kind's ``abort_on_*`` are the generic wait's ``cancel_on_*``; an abort has no message, so
        ``cancel_messages`` is empty.
        """
        task: str = getattr(self, "task_id", "")
        self.durable = flag(durable, what="durable", task_id=task)
        self.wait_for_completion = flag(wait_for_completion, what="wait_for_completion", task_id=task)
        deferrable = default_deferrable() if deferrable is None else deferrable
        self.deferrable = flag(deferrable, what="deferrable", task_id=task)
        self.poll_interval = duration(poll_interval, what="poll_interval", task_id=task)
        self.wait_timeout = duration(timeout, what="timeout", task_id=task)
        self.fail_on = listed(fail_on, what="fail_on", task_id=task)
        self.cancel_on_kill = flag(abort_on_kill, what="abort_on_kill", task_id=task)
        self.cancel_on_timeout = flag(abort_on_timeout, what="abort_on_timeout", task_id=task)
        self.max_consecutive_failures = failure_budget(max_consecutive_failures, task_id=task)
        self.cancel_messages: list[str] = []
        self.stalled_after = check_stalled_after(stalled_after, poll_interval=self.poll_interval, task_id=task)
        self.cancel_on_stall = flag(cancel_on_stall, what="cancel_on_stall", task_id=task)

    def _fetch(self, ref: Any) -> Any:
        """One read of the job from Canvas."""
        raise NotImplementedError

    def _job_result(self, job: Any, context: Context | None) -> dict[str, Any]:
        """The task's return value for an ended job, or the failure to raise."""
        raise NotImplementedError

    def _pending_result(self, job: Any) -> dict[str, Any]:
        """What a DAG sees of a job still pending (pushed while waiting, returned without waiting)."""
        raise NotImplementedError

    def _stall_watch(self, context: Context) -> TaskStallWatch:
        """The stall watch of this try (:func:`~airflow_provider_canvas_progress.stalling.task_stall_watch`)."""
        watch: TaskStallWatch | None = getattr(self, "_job_stall_watch", None)
        if watch is None:
            reschedule = bool(getattr(self, "reschedule", False))
            watch = task_stall_watch(self.stalled_after, context, reschedule=reschedule, log=self.log)
            self._job_stall_watch = watch
        return watch

    def _stall_record(self, context: Context) -> dict[str, Any] | None:
        """The stall watch's record, for the trigger (so time already still on the worker counts there)."""
        return self._stall_watch(context).record()

    def _while_pending(self, context: Context, ref: Any, job: Any) -> dict[str, Any] | None:
        """Feed a pending read to the stall watch: the result that ends the wait when the job stalled
        (the job stopped first if ``cancel_on_stall``), else None and the wait goes on.

        :raises CanvasJobStalled: it stalled, and ``stalled`` is in ``fail_on``.
        """
        check = self._stall_watch(context).check(self.job_kind, self.hook, ref, job)
        if check is None:
            return None
        self._cancel(context, "the job stalled", enabled=self.cancel_on_stall)
        return self._job_stalled(context, job, stall_message(self.job_kind.noun, self.job_kind.job_id(job), check))

    def _job_stalled(self, context: Context, job: Any, message: str) -> dict[str, Any]:
        """End the wait on a stalled job: its pending result with outcome ``stalled`` (pushed to XCom),
        or, with ``stalled`` in ``fail_on`` (the default), the failure Airflow retries."""
        result = {**self._pending_result(job), "outcome": STALLED}
        context["ti"].xcom_push(key=self.job_xcom_key, value=result)
        if any(outcome.value == STALLED for outcome in self._policy().fail_on):
            raise CanvasJobStalled(message, progress_id=self.job_kind.job_id(job))
        self.log.info("%s: %s", STALLED, message)
        return result

    def _wait_on(self, context: Context, ref: Any, job: Any, *, interval: float, timeout: float) -> Any:
        """The operator's wait on a job it just started (or re-attached to), pending when read: the
        first read starts the stall watch, then the task defers (its record travels with the trigger)
        or polls."""
        stalled = self._while_pending(context, ref, job)
        if stalled is not None:
            return stalled
        if getattr(self, "deferrable", False):
            self._defer_wait(
                context, ref=ref, poll_interval=interval, timeout=timeout, last_change=self._stall_record(context)
            )
            return None
        return self._poll(ref, context, interval=interval, timeout=timeout)

    def _read(self, ref: Any) -> Any:
        """Read the job (failing fast on what a retry cannot fix), logging only a change."""
        with failing_fast():
            job = self._fetch(ref)
        last = self._job_last
        if last is None or self.job_kind.fingerprint(job) != self.job_kind.fingerprint(last):
            self.log.info("%s", job.describe())
        self._job_last = job
        return job

    def _push_pending(self, context: Context, job: Any) -> None:
        """Push the pending job once per try, so a downstream task sees it while the wait goes on."""
        if not getattr(self, "_pushed", False):
            context["ti"].xcom_push(key=self.job_xcom_key, value=self._pending_result(job))
            self._pushed = True

    def _poll(self, ref: Any, context: Context, *, interval: float, timeout: float) -> Any:
        """Wait on the worker (sleeping ``interval`` between reads) until the job ends or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            if time.monotonic() >= deadline:
                self._cancel(context, "the wait timed out", enabled=self.cancel_on_timeout)
                raise self._policy().timeout(ref, timeout, self._job_last)
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
            job = self._read(ref)
            if not job.is_pending:
                return self._job_result(job, context)
            stalled = self._while_pending(context, ref, job)
            if stalled is not None:
                return stalled

    def _resume(self, context: Context, event: Any) -> Any:
        """Read the trigger's event (validated) into the result, stopping the job on timeout or stall if asked.

        A ``stalled`` event ends the wait as a stall seen on the worker would (:meth:`_job_stalled`).
        """
        parsed = WaitEvent.from_payload(self._redacted_event(event))
        ref = self._job_ref = self.job_kind.parse_ref(parsed.ref) if parsed.ref else self._job_ref
        assert ref is not None
        if parsed.status is WaitStatus.ENDED:
            return self._job_result(parsed.progress, context)
        if parsed.status is WaitStatus.TIMEOUT:
            self._cancel(context, "the wait timed out", enabled=self.cancel_on_timeout)
            raise self._policy().timeout(ref, parsed.elapsed, parsed.progress)
        if parsed.status is WaitStatus.STALLED and parsed.progress is not None:
            self._cancel(context, "the job stalled", enabled=self.cancel_on_stall)
            return self._job_stalled(context, parsed.progress, parsed.message)
        raise task_failure(f"Waiting on {ref} failed: {parsed.message}", parsed.retryable)

    def _cancel_target(self) -> Any:
        return self._job_ref
