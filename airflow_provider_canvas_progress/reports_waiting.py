"""What every task that waits on an account report does with it, shared by the sensor and the operator.

The wait itself (trigger, deadline, failed polls, abort on kill) is the generic one of
:mod:`~airflow_provider_canvas_progress.waiting`; this module reads a report's ending: the result a
DAG keeps (never a download link), the failure for an outcome in ``fail_on`` (an ``error`` report's
reason is its ``extra_text``), and the file, streamed to ``output_path`` with its SHA-256.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from airflow_provider_canvas_progress.compat import Context
from airflow_provider_canvas_progress.core.kinds.account_report import KIND as REPORT_KIND
from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.core.report_refs import ReportRef
from airflow_provider_canvas_progress.core.reports import AccountReport, ReportOutcome, ReportStatus, report_outcome
from airflow_provider_canvas_progress.exceptions import (
    CanvasConfigurationError,
    CanvasError,
    CanvasJobCancelled,
    CanvasJobFailed,
    CanvasWaitTimeout,
)
from airflow_provider_canvas_progress.job_waiting import STALLED, JobWait
from airflow_provider_canvas_progress.report_files import extract_zip, save_stream, target_for
from airflow_provider_canvas_progress.waiting import failing_fast

__all__ = ["DEFAULT_REPORT_FAIL_ON", "REPORT_ID_XCOM_KEY", "REPORT_XCOM_KEY", "ReportOutput", "ReportWait"]

#: XCom key of the report id, pushed as soon as the report is started (abort tasks read it).
REPORT_ID_XCOM_KEY = "report_id"
#: XCom key of the last report seen (the result, or the pending report while waiting).
REPORT_XCOM_KEY = "account_report"
#: ``stalled`` only ever happens with ``stalled_after`` set; then it fails the task by default.
DEFAULT_REPORT_FAIL_ON = ("error", "aborted", STALLED)


@dataclass(frozen=True)
class ReportOutput:
    """Where a finished report's file goes, and the limits of getting it there.

    :param path: a local path or an object storage URL (``s3://bucket/dir/``); a folder (ending in
        ``/``, or an existing directory) keeps Canvas's file name. ``None``: no download.
    :param conn_id: the storage connection for ``path`` (e.g. ``aws_default``).
    :param extract: also unpack a zip (a report of several parts) into ``<name>/`` next to it.
    :param max_bytes: the largest file (and unpacked zip) accepted.
    :param timeout: seconds the download may take.
    """

    path: str | None = None
    conn_id: str | None = None
    extract: bool = False
    max_bytes: int = 2 * 1024**3
    timeout: float = 3600.0

    def check(self) -> None:
        """Refuse values that cannot work (at DAG parse time)."""
        if isinstance(self.max_bytes, bool) or not isinstance(self.max_bytes, int) or self.max_bytes < 1:
            raise CanvasConfigurationError(f"max_bytes must be a positive whole number, got {shown(self.max_bytes)}.")
        if not 0 < self.timeout <= 86400:
            raise CanvasConfigurationError(
                f"download_timeout must be from 0 to 86400 seconds, got {shown(self.timeout)}."
            )
        if self.path is not None and (not isinstance(self.path, str) or not self.path.strip()):
            raise CanvasConfigurationError("output_path must be a local path or an object storage URL, or None.")


@dataclass(frozen=True)
class ReportPolicy:
    """How a task reads a report's ending: ``fail_on`` outcomes fail it, others succeed with the result."""

    fail_on: frozenset[ReportOutcome]

    @classmethod
    def of(cls, fail_on: Iterable[str] | str) -> ReportPolicy:
        """Validate the user's ``fail_on``."""
        return cls(ReportOutcome.parse_many(fail_on))

    def check(self, report: AccountReport) -> ReportOutcome:
        """The outcome, or the failure to raise when it is in ``fail_on`` (a deleted report always fails)."""
        if report.status is ReportStatus.DELETED:
            raise CanvasJobFailed(
                f"{report.describe()}: someone deleted it, so it has no file to read. Not retried; start it again.",
                progress_id=report.id,
            )
        outcome = report_outcome(report)
        assert outcome is not None, "only an ended report has an outcome"
        if outcome not in self.fail_on:
            return outcome
        if outcome is ReportOutcome.ERROR:
            raise CanvasJobFailed(
                f"Account report {report.id} ({report.report}) ended in error: {report.error_message} Not retried "
                "(the same report cannot change); start the report again once the cause is fixed.",
                progress_id=report.id,
                canvas_message=report.extra_text,
            )
        raise CanvasJobCancelled(
            f"Account report {report.id} ({report.report}) was aborted in Canvas. Not retried: start it again if "
            "the file is still needed.",
            progress_id=report.id,
            canvas_message=report.extra_text,
        )

    @staticmethod
    def timeout(ref: ReportRef, waited: float, last: AccountReport | None) -> CanvasWaitTimeout:
        """The timeout failure, naming the last state seen."""
        seen = last.describe() if last is not None else f"report {ref.id} was never read successfully"
        return CanvasWaitTimeout(
            f"Timed out after {waited:.0f} s waiting on {ref}: {seen}. The report may still be running in Canvas; "
            "raise the timeout, or abort it (abort_on_timeout=True).",
            progress_id=ref.id,
        )


class ReportWait(JobWait):
    """The sensor's and the operator's shared wait on a report: poke, defer, resume, abort, download.

    Mixed into an operator with ``fail_on``, the output options (``output_path``, ``output_conn_id``,
    ``extract``, ``max_bytes``, ``download_timeout``), ``abort_on_kill``/``abort_on_timeout`` (as
    ``cancel_on_kill``/``cancel_on_timeout``), ``stalled_after``/``cancel_on_stall`` and
    ``max_consecutive_failures``. A stalled report is never downloaded: it has no file yet.
    """

    fail_on: list[str]
    output_path: str | None
    output_conn_id: str | None
    extract: bool
    max_bytes: int
    download_timeout: float
    job_kind = REPORT_KIND
    job_xcom_key = REPORT_XCOM_KEY

    def _policy(self) -> Any:
        return ReportPolicy.of(self.fail_on)

    def _report_output(self) -> ReportOutput:
        """The output options as rendered (``output_path`` is templated; rendered empty, it means no download)."""
        path = self.output_path if isinstance(self.output_path, str) and self.output_path.strip() else None
        return ReportOutput(path, self.output_conn_id, self.extract, self.max_bytes, self.download_timeout)

    def _fetch(self, ref: ReportRef) -> AccountReport:
        return self.hook.get_report(ref.account_id, ref.report, ref.id)

    def _pending_result(self, job: AccountReport) -> dict[str, Any]:
        return {**job.result(), "outcome": None, "file": None}

    def _job_result(self, report: AccountReport, context: Context | None) -> dict[str, Any]:
        """The task's return value for an ended report (file saved when asked), or the failure to raise."""
        result = self._pending_result(report)
        if context is not None:
            context["ti"].xcom_push(key=REPORT_XCOM_KEY, value=result)
        outcome = ReportPolicy.of(self.fail_on).check(report)
        result["outcome"] = outcome.value
        self.log.info("%s: %s", outcome.value, report.describe())
        path = self._report_output().path
        if path is not None and report.attachment is not None and self._job_ref is not None:
            result["file"] = self._save(self._job_ref, path)
        elif path is not None:
            self.log.info("Report %s has no file to save (%s).", report.id, report.status.value)
        if context is not None:
            context["ti"].xcom_push(key=REPORT_XCOM_KEY, value=result)
        return result

    def _save(self, ref: ReportRef, path: str) -> dict[str, Any]:
        """Stream the report's file (through a fresh signed link) to ``path``; unzip it if asked."""
        limits = self._report_output()
        with failing_fast():
            found, chunks = self.hook.stream_report_file(
                ref.account_id, ref.report, ref.id, max_bytes=limits.max_bytes, timeout=limits.timeout
            )
            attachment = found.attachment
            assert attachment is not None  # stream_report_file raises otherwise
            target = target_for(path, attachment.filename, conn_id=limits.conn_id)
            saved = save_stream(chunks, target, max_bytes=limits.max_bytes)
            parts: tuple[str, ...] = ()
            if limits.extract and attachment.is_zip:
                folder = target.parent / target.name.rsplit(".", 1)[0]
                parts = extract_zip(target, folder, max_bytes=limits.max_bytes)
        self.log.info("Saved %s (%d bytes, sha256 %s)", saved.path, saved.size, saved.sha256)
        return {**saved.to_dict(), "parts": list(parts)}

    def _cancel(self, context: Context | None, reason: str, *, enabled: bool) -> None:
        """Abort the report on kill, timeout or stall when asked, if it is running (never raises)."""
        ref = self._job_ref
        if not enabled or ref is None:
            return
        try:
            current = self.hook.get_report(ref.account_id, ref.report, ref.id)
            if current.status is not ReportStatus.RUNNING:
                self.log.info("Not aborting (%s): %s; Canvas aborts only a running report.", reason, current.describe())
                return
            stopped = self.hook.abort_report(ref.account_id, ref.report, ref.id)
            self.log.info("Aborted (%s): %s", reason, stopped.describe())
        except CanvasError as error:
            self.log.warning("Could not abort %s: %s", ref, error)
