"""CanvasAccountReportSensor: wait on an account report started elsewhere, and save its file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow_provider_canvas_progress.core.arguments import duration, flag
from airflow_provider_canvas_progress.core.report_refs import ReportRef
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.report_files import DEFAULT_MAX_BYTES
from airflow_provider_canvas_progress.reports_waiting import DEFAULT_REPORT_FAIL_ON, ReportWait
from airflow_provider_canvas_progress.sensors.job import CanvasJobSensorBase

__all__ = ["CanvasAccountReportSensor"]


class CanvasAccountReportSensor(ReportWait, CanvasJobSensorBase):
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
    :param fail_on: outcomes that fail the task; default ``("error", "aborted", "stalled")``. ``error``
        and ``aborted`` are not retried (the same report cannot change); ``stalled`` is
        (``CanvasJobStalled``).
    :param abort_on_kill: abort the report when the task is killed (only while it is running).
    :param abort_on_timeout: abort the report when the wait times out.
    :param max_consecutive_failures: transient read failures in a row tolerated while deferred.
    :param stalled_after: end the wait with the outcome ``stalled`` when the report stays pending with
        no change of status, progress or rows written (``current_line``) for this long (timedelta or
        seconds; at least 60 s and the poke interval). None (the default): no stall watch. See
        "Retries and stuck jobs".
    :param cancel_on_stall: abort the report before ending the wait on a stall (Canvas aborts only a
        running report).
    """

    template_fields: Sequence[str] = ("account_id", "report", "report_id", "output_path")
    ui_color = "#e5eef9"
    ref_type = ReportRef

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
        stalled_after: timedelta | float | None = None,
        cancel_on_stall: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            canvas_conn_id=canvas_conn_id,
            deferrable=deferrable,
            fail_on=fail_on,
            abort_on_kill=abort_on_kill,
            abort_on_timeout=abort_on_timeout,
            max_consecutive_failures=max_consecutive_failures,
            stalled_after=stalled_after,
            cancel_on_stall=cancel_on_stall,
            **kwargs,
        )
        self.account_id, self.report, self.report_id = account_id, report, report_id
        self.output_path, self.output_conn_id = output_path, output_conn_id
        self.extract = flag(extract, what="extract", task_id=self.task_id)
        self.max_bytes = max_bytes
        self.download_timeout = duration(download_timeout, what="download_timeout", task_id=self.task_id)
        self._check_arguments()

    def _ref_args(self) -> tuple[Any, ...]:
        return (self.account_id, self.report, self.report_id)

    def _check_options(self) -> None:
        self._report_output().check()
