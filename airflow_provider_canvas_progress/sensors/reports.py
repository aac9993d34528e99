"""CanvasAccountReportSensor: wait on an account report started elsewhere, and save its file."""

from __future__ import annotations

from collections.abc import Sequence
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
from airflow_provider_canvas_progress.core.report_refs import ReportRef
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.report_files import DEFAULT_MAX_BYTES
from airflow_provider_canvas_progress.reports_waiting import (
    DEFAULT_REPORT_FAIL_ON,
    REPORT_XCOM_KEY,
    ReportPolicy,
    ReportWait,
)
from airflow_provider_canvas_progress.waiting import failing_fast, validate_timing

__all__ = ["CanvasAccountReportSensor"]


class CanvasAccountReportSensor(ReportWait, BaseSensorOperator):  # type: ignore[misc]
    """Wait until an account report ends (``complete``, ``error`` or ``aborted``), e.g. one started in the UI.

    Works in ``poke`` and ``reschedule`` mode and, with ``deferrable=True``, in the triggerer. The
    return value and the ``output_path`` options are those of
    :class:`~airflow_provider_canvas_progress.operators.reports.CanvasAccountReportOperator`. A
    deleted report fails the task: its file is gone.

    :param account_id: the account (an id, ``sis_account_id:…`` or ``self``). Templated.
    :param report: the report's name, e.g. ``grade_export_csv``. Templated.
    :param report_id: the report's id. Templated.
    :param output_path: where to save the file once it ends (a path, a folder ending in ``/``, ``s3://…``). Templated.
    :param output_conn_id: the storage connection ``output_path`` is written with.
    :param extract: unpack a zip report beside it.
    :param max_bytes: the largest file accepted (default 2 GiB).
    :param download_timeout: seconds the download may take.
    :param canvas_conn_id: the Airflow ``canvas`` connection.
    :param deferrable: wait in the triggerer. Default: ``[operators] default_deferrable``.
    :param fail_on: outcomes that fail the task (no retry); default ``("error", "aborted")``.
    :param abort_on_kill: abort the report when the task is killed (only while it is running).
    :param abort_on_timeout: abort the report when the wait times out.
    :param max_consecutive_failures: transient read failures in a row tolerated while deferred.
    """

    template_fields: Sequence[str] = ("account_id", "report", "report_id", "output_path")
    ui_color = "#e5eef9"

    def __init__(
        self,
        *,
        account_id: Any,
        report: Any,
        report_id: Any,
        output_path: str | None = None,
        output_conn_id: str | None = None,
        extract: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
        download_timeout: float = 3600.0,
        canvas_conn_id: str = CanvasHook.default_conn_name,
        deferrable: bool | None = None,
        fail_on: Sequence[str] = DEFAULT_REPORT_FAIL_ON,
        abort_on_kill: bool = False,
        abort_on_timeout: bool = False,
        max_consecutive_failures: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.account_id, self.report, self.report_id = account_id, report, report_id
        self.output_path, self.output_conn_id, self.extract = output_path, output_conn_id, extract
        self.max_bytes, self.download_timeout = max_bytes, float(download_timeout)
        self.canvas_conn_id = canvas_conn_id
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.fail_on = [fail_on] if isinstance(fail_on, str) else list(fail_on)
        self.cancel_on_kill, self.cancel_on_timeout = abort_on_kill, abort_on_timeout
        self.max_consecutive_failures = max_consecutive_failures
        self.cancel_messages: list[str] = []
        ReportPolicy.of(self.fail_on)
        self._report_output().check()
        validate_timing(float(self.poke_interval), float(self.timeout) if self.timeout is not None else None)
        if not any("{{" in str(v) for v in (account_id, report, report_id)):
            ReportRef.of(account_id, report, report_id)

    def _ref(self) -> ReportRef:
        if self._report_ref is None:
            with failing_fast():
                self._report_ref = ReportRef.of(self.account_id, self.report, self.report_id)
        return self._report_ref

    def poke(self, context: Context) -> PokeReturnValue:
        """One read: done with the result (file saved when asked), or not yet."""
        report = self._report_read(self._ref())
        if report.is_pending:
            if not getattr(self, "_pushed", False):
                context["ti"].xcom_push(key=REPORT_XCOM_KEY, value={**report.result(), "outcome": None, "file": None})
                self._pushed = True
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=self._report_result(report, context))

    def execute(self, context: Context) -> Any:
        """Poke (or reschedule) as usual; when deferrable, poke once and defer if still pending."""
        if not self.deferrable:
            try:
                return super().execute(context)
            except (AirflowSensorTimeout, AirflowSkipException):
                if self._report_last is not None and self._report_last.is_pending:
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
        )

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        """Resume after the trigger fired: validate its event, read the outcome, save the file."""
        try:
            return self._resume(context, event)
        except (AirflowSensorTimeout, AirflowFailException) as error:
            if self.soft_fail:
                raise AirflowSkipException(f"Skipped (soft_fail): {error}") from error
            raise
