"""CanvasSisImportSensor: block a DAG until a Canvas SIS import ends, and say how it ended."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow_provider_canvas_progress.compat import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    Context,
    PokeReturnValue,
    default_deferrable,
)
from airflow_provider_canvas_progress.core.kinds.sis_import import SisImportRef
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.sis_waiting import (
    DEFAULT_SIS_FAIL_ON,
    SIS_IMPORT_XCOM_KEY,
    SisImportWait,
    SisWaitPolicy,
)
from airflow_provider_canvas_progress.stalling import check_stalled_after
from airflow_provider_canvas_progress.waiting import failing_fast, validate_timing

__all__ = ["CanvasSisImportSensor"]


class CanvasSisImportSensor(SisImportWait, BaseSensorOperator):  # type: ignore[misc]
    """Wait until an SIS import ends: ``imported``, ``imported_with_messages``, ``failed`` or ``aborted``.

    Works in ``poke`` and ``reschedule`` mode and, with ``deferrable=True``, in the triggerer. The
    return value is the import as a DAG needs it (``outcome``, ``counts``, ``statistics``, the first
    ``errors`` and ``warnings`` with their totals, ``errors_attachment_id``, ``threshold_abort``),
    never the errors file's signed link. ``imported_with_messages`` succeeds, its warnings logged.
    An import waiting behind another of the same account stays ``created``: the wait goes on.

    :param account_id: the root account (an id, ``sis_account_id:…`` or ``self``). Templated.
    :param sis_import_id: the import's id (templated), e.g.
        ``{{ ti.xcom_pull(task_ids='upload', key='sis_import_id') }}``.
    :param canvas_conn_id: the Airflow ``canvas`` connection.
    :param deferrable: wait in the triggerer. Default: ``[operators] default_deferrable``.
    :param fail_on: outcomes that fail the task (no retry); default ``("failed", "aborted")``; ``[]``
        to branch on every ending.
    :param abort_on_kill: abort the import when the task is killed (only while it is pending).
    :param abort_on_timeout: abort the import when the wait times out.
    :param max_consecutive_failures: transient read failures in a row tolerated while deferred.
    :param stalled_after: fail the task (``CanvasJobStalled``, retried by Airflow) when the import
        stays pending with no change of state, progress or ``updated_at`` for this long (timedelta or
        seconds; at least 60 s and the poll interval); an import in ``created`` queued behind another
        of the account is not stalled. None (the default): no stall watch.
    :param cancel_on_stall: abort the import before failing on a stall.
    """

    template_fields: Sequence[str] = ("account_id", "sis_import_id")
    ui_color = "#e8f4e5"

    def __init__(
        self,
        *,
        account_id: Any,
        sis_import_id: Any,
        canvas_conn_id: str = CanvasHook.default_conn_name,
        deferrable: bool | None = None,
        fail_on: Sequence[str] = DEFAULT_SIS_FAIL_ON,
        abort_on_kill: bool = False,
        abort_on_timeout: bool = False,
        max_consecutive_failures: int = 5,
        stalled_after: timedelta | float | None = None,
        cancel_on_stall: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.account_id = account_id
        self.sis_import_id = sis_import_id
        self.stalled_after = check_stalled_after(
            stalled_after, poll_interval=float(self.poke_interval), task_id=self.task_id
        )
        self.cancel_on_stall = cancel_on_stall
        self.canvas_conn_id = canvas_conn_id
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.fail_on = [fail_on] if isinstance(fail_on, str) else list(fail_on)
        self.cancel_on_kill = abort_on_kill
        self.cancel_on_timeout = abort_on_timeout
        self.max_consecutive_failures = max_consecutive_failures
        self.cancel_messages: list[str] = []
        SisWaitPolicy.of(self.fail_on)
        validate_timing(float(self.poke_interval), float(self.timeout) if self.timeout is not None else None)
        if not any("{{" in str(v) for v in (account_id, sis_import_id)):
            SisImportRef.of(account_id, sis_import_id)

    def _ref(self) -> SisImportRef:
        if self._sis_ref is None:
            with failing_fast():
                self._sis_ref = SisImportRef.of(self.account_id, self.sis_import_id)
        return self._sis_ref

    def poke(self, context: Context) -> PokeReturnValue:
        """One read: done with the result, or not yet."""
        sis_import = self._sis_read(self._ref())
        if sis_import.is_pending:
            if not getattr(self, "_pushed", False):
                context["ti"].xcom_push(key=SIS_IMPORT_XCOM_KEY, value=sis_import.to_result())
                self._pushed = True
            self._sis_check_stall(context, self._ref(), sis_import)
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=self._sis_result(sis_import, context))

    def execute(self, context: Context) -> Any:
        """Poke (or reschedule) as usual; when deferrable, poke once and defer if still pending."""
        if not self.deferrable:
            try:
                return super().execute(context)
            except (AirflowSensorTimeout, AirflowSkipException):
                if self._sis_last is not None and self._sis_last.is_pending:
                    self._cancel(context, "the wait timed out", enabled=self.cancel_on_timeout)
                raise
        try:
            first = self.poke(context)
        except (AirflowSensorTimeout, AirflowFailException) as error:
            if self.soft_fail:
                raise AirflowSkipException(f"Skipped (soft_fail): {error}") from error
            raise
        if first.is_done:
            return first.xcom_value
        self._defer_wait(
            context,
            ref=self._ref(),
            poll_interval=float(self.poke_interval),
            timeout=float(self.timeout) if self.timeout is not None else None,
            last_change=self._sis_watch(context).record(),
        )

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        """Resume after the trigger fired: validate its event and read the outcome."""
        try:
            return self._resume(context, event)
        except (AirflowSensorTimeout, AirflowFailException) as error:
            if self.soft_fail:
                raise AirflowSkipException(f"Skipped (soft_fail): {error}") from error
            raise
