"""The sensor every job kind shares: poke, reschedule or defer on one job, written once.

:class:`CanvasJobSensorBase` holds the sensor's decisions (poke once before deferring, ``soft_fail``
turning a failure into a skip, stopping the job when a poke/reschedule wait times out, resuming from
the trigger); a kind's sensor says only which job it reads (:meth:`~CanvasJobSensorBase._ref_args`)
and mixes in its kind's :class:`~airflow_provider_canvas_progress.job_waiting.JobWait`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar

from airflow_provider_canvas_progress.compat import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    Context,
    PokeReturnValue,
    default_deferrable,
)
from airflow_provider_canvas_progress.core.arguments import failure_budget, flag, listed, templated
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.job_waiting import JobWait
from airflow_provider_canvas_progress.stalling import check_stalled_after
from airflow_provider_canvas_progress.waiting import check_sensor_arguments, failing_fast, validate_timing

__all__ = ["CanvasJobSensorBase"]


class CanvasJobSensorBase(JobWait, BaseSensorOperator):  # type: ignore[misc]
    """Wait on one Canvas job of a kind, in ``poke`` or ``reschedule`` mode or, deferrable, in the triggerer.

    Not used on its own: a kind's sensor mixes in its kind's wait before this class, sets
    :attr:`ref_type`, and calls :meth:`_check_arguments` at the end of its ``__init__``.

    :param canvas_conn_id: the Airflow ``canvas`` connection.
    :param deferrable: wait in the triggerer. Default: ``[operators] default_deferrable``.
    :param fail_on: outcomes that fail the task (no retry).
    :param abort_on_kill: abort the job when the task is killed (only while it is pending).
    :param abort_on_timeout: abort the job when the wait times out.
    :param max_consecutive_failures: transient read failures in a row tolerated while deferred.
    :param stalled_after: end the wait with the outcome ``stalled`` when the job stays pending with no
        change for this long (timedelta or seconds; at least 60 s and the poke interval). None: no watch.
    :param cancel_on_stall: abort the job before ending the wait on a stall.
    """

    #: The kind's reference type; ``ref_type.of(*self._ref_args())`` validates and builds it.
    ref_type: ClassVar[Any]

    def __init__(
        self,
        *,
        canvas_conn_id: str = CanvasHook.default_conn_name,
        deferrable: bool | None = None,
        fail_on: Sequence[str] = (),
        abort_on_kill: bool = False,
        abort_on_timeout: bool = False,
        max_consecutive_failures: int = 5,
        stalled_after: timedelta | float | None = None,
        cancel_on_stall: bool = False,
        **kwargs: Any,
    ) -> None:
        check_sensor_arguments(kwargs)
        super().__init__(**kwargs)
        task = self.task_id
        self.canvas_conn_id = canvas_conn_id
        self.deferrable = flag(
            default_deferrable() if deferrable is None else deferrable, what="deferrable", task_id=task
        )
        self.fail_on = listed(fail_on, what="fail_on", task_id=task)
        self.cancel_on_kill = flag(abort_on_kill, what="abort_on_kill", task_id=task)
        self.cancel_on_timeout = flag(abort_on_timeout, what="abort_on_timeout", task_id=task)
        self.max_consecutive_failures = failure_budget(max_consecutive_failures, task_id=task)
        self.cancel_messages: list[str] = []
        self.stalled_after = check_stalled_after(stalled_after, poll_interval=float(self.poke_interval), task_id=task)
        self.cancel_on_stall = flag(cancel_on_stall, what="cancel_on_stall", task_id=task)

    def _ref_args(self) -> tuple[Any, ...]:
        """The (templated) arguments naming the job, in ``ref_type.of``'s order."""
        raise NotImplementedError

    def _check_options(self) -> None:
        """Refuse a kind's own options that cannot work (at DAG parse time)."""

    def _check_arguments(self) -> None:
        """Refuse what cannot work at DAG parse time: ``fail_on``, the kind's options, the timing, the job's
        reference (unless templated, then it is checked once rendered)."""
        self._policy()
        self._check_options()
        validate_timing(float(self.poke_interval), self._timeout())
        if not any(templated(v) for v in self._ref_args()):
            self.ref_type.of(*self._ref_args())

    def _timeout(self) -> float | None:
        return float(self.timeout) if self.timeout is not None else None

    def _ref(self) -> Any:
        if self._job_ref is None:
            with failing_fast():
                self._job_ref = self.ref_type.of(*self._ref_args())
        return self._job_ref

    def poke(self, context: Context) -> PokeReturnValue:
        """One read: done with the result (or the stalled job's), or not yet."""
        job = self._read(self._ref())
        if job.is_pending:
            self._push_pending(context, job)
            stalled = self._while_pending(context, self._ref(), job)
            return PokeReturnValue(is_done=stalled is not None, xcom_value=stalled)
        return PokeReturnValue(is_done=True, xcom_value=self._job_result(job, context))

    def execute(self, context: Context) -> Any:
        """Poke (or reschedule) as usual; when deferrable, poke once and defer if still pending."""
        if not self.deferrable:
            try:
                return super().execute(context)
            except (AirflowSensorTimeout, AirflowSkipException):
                if self._job_last is not None and self._job_last.is_pending:
                    self._cancel(context, "the wait timed out", enabled=self.cancel_on_timeout)
                raise
        first = self._soft_failing(self.poke, context)
        if first.is_done:
            return first.xcom_value
        self._defer_wait(
            context,
            ref=self._ref(),
            poll_interval=float(self.poke_interval),
            timeout=self._timeout(),
            last_change=self._stall_record(context),
        )

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        """Resume after the trigger fired: validate its event and read the outcome."""
        return self._soft_failing(self._resume, context, event)

    def _soft_failing(self, step: Any, *args: Any) -> Any:
        """Run ``step``; with ``soft_fail``, a timeout or a no-retry failure skips the task instead."""
        try:
            return step(*args)
        except (AirflowSensorTimeout, AirflowFailException) as error:
            if self.soft_fail:
                raise AirflowSkipException(f"Skipped (soft_fail): {error}") from error
            raise
