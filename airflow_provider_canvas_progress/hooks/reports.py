"""The account report calls of :class:`~airflow_provider_canvas_progress.hooks.canvas.CanvasHook` (mixed in).

List what an account offers, start, read, abort and delete a report
(``app/controllers/account_reports_controller.rb``), and stream its file. Every call goes through
the hook's one call path; every id and name reaches a path only through
:class:`~airflow_provider_canvas_progress.core.report_refs.ReportRef` (validated segments). The file is
fetched through its signed ``attachment.url`` with no token
(:mod:`~airflow_provider_canvas_progress.hooks.downloads`), never through ``file_url``, a web page
path where Canvas reads no token and answers with its login page.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from airflow_provider_canvas_progress.core.kinds.sis_import import account_segment
from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.core.report_parameters import build_report_parameters
from airflow_provider_canvas_progress.core.report_refs import (
    AvailableReport,
    ReportRef,
    check_report_name,
    parse_available_reports,
    reports_path,
    unknown_report_error,
)
from airflow_provider_canvas_progress.core.reports import AccountReport, parse_report
from airflow_provider_canvas_progress.exceptions import (
    CanvasConfigurationError,
    CanvasNotFoundError,
    CanvasResponseError,
    CanvasResponseTooLargeError,
)
from airflow_provider_canvas_progress.hooks.downloads import stream_without_token

__all__ = ["DEFAULT_REPORT_FILE_BYTES", "AccountReportCalls"]

#: Largest report file downloaded by default: 2 GiB.
DEFAULT_REPORT_FILE_BYTES = 2 * 1024**3


class AccountReportCalls:
    """Account report calls; mixed into :class:`~airflow_provider_canvas_progress.hooks.canvas.CanvasHook`.

    The connection's user needs ``read_reports`` on the account (sub-accounts are allowed).
    """

    # -- provided by CanvasHook -----------------------------------------------------------------
    settings: Any
    request: Any
    arequest: Any

    def list_reports(self, account_id: object) -> list[AvailableReport]:
        """The reports the account offers, with their parameters and last run (``GET .../reports``).

        :raises CanvasNotFoundError: no such account.
        """
        path = reports_path(account_segment(account_id))
        return parse_available_reports(self.request("GET", path), source=f"GET {path}")

    def start_report(
        self,
        account_id: object,
        report: object,
        parameters: Mapping[str, Any] | None = None,
        *,
        skip_message: bool = True,
    ) -> AccountReport:
        """Start a report (``POST .../reports/:report``) and return it as Canvas created it.

        Not retried once it may have reached Canvas (a second POST would start a second report).

        :param parameters: the report's parameters, checked by
            :func:`~airflow_provider_canvas_progress.core.report_parameters.build_report_parameters`.
        :param skip_message: keep Canvas from messaging the connection's user when it ends.
        :raises CanvasConfigurationError: bad parameters, or a report name the account does not
            offer (the message lists the ones it does); nothing is started then.
        :raises CanvasValidationError: Canvas refused a term (400 ``invalid enrollment_term_id``).
        """
        account = account_segment(account_id)
        name = check_report_name(report)
        body = {"parameters": build_report_parameters(name, parameters, skip_message=skip_message)}
        path = reports_path(account, name)
        try:
            answer = self.request("POST", path, json=body)
        except CanvasNotFoundError:
            # The same 404 means "no such account" and "no such report": the list tells them apart.
            offered = self.list_reports(account)
            if name not in {r.report for r in offered}:
                raise unknown_report_error(name, offered, account) from None
            raise
        return parse_report(answer, source=f"POST {path}")

    def get_report(self, account_id: object, report: object, report_id: object) -> AccountReport:
        """Read a report (``GET .../reports/:report/:id``).

        :raises CanvasNotFoundError: no such report of that name, or it was deleted.
        """
        ref = ReportRef.of(account_id, report, report_id)
        return parse_report(self.request("GET", ref.api_path), source=f"GET {ref.api_path}")

    async def aget_report(self, account_id: object, report: object, report_id: object) -> AccountReport:
        """Async twin of :meth:`get_report`."""
        ref = ReportRef.of(account_id, report, report_id)
        return parse_report(await self.arequest("GET", ref.api_path), source=f"GET {ref.api_path}")

    def abort_report(self, account_id: object, report: object, report_id: object) -> AccountReport:
        """Abort a running report (``PUT .../:id/abort``).

        Canvas finds only ``running`` reports: a created, compiling or finished one answers 404. A
        single-job report keeps writing after this and then ends ``aborted`` with its file.

        :raises CanvasNotFoundError: the report is not running (or does not exist).
        """
        ref = ReportRef.of(account_id, report, report_id)
        path = f"{ref.api_path}/abort"
        return parse_report(self.request("PUT", path), source=f"PUT {path}")

    def delete_report(self, account_id: object, report: object, report_id: object) -> AccountReport:
        """Delete a report (``DELETE .../:id``): Canvas keeps it as ``deleted`` and hides it.

        :raises CanvasNotFoundError: no such report, or already deleted.
        """
        ref = ReportRef.of(account_id, report, report_id)
        return parse_report(self.request("DELETE", ref.api_path), source=f"DELETE {ref.api_path}")

    def stream_report_file(
        self,
        account_id: object,
        report: object,
        report_id: object,
        *,
        max_bytes: int = DEFAULT_REPORT_FILE_BYTES,
        timeout: float = 3600.0,
    ) -> tuple[AccountReport, Iterator[bytes]]:
        """The report (read now, for a fresh signed link) and its file's bytes, as they arrive.

        :param max_bytes: a larger file raises :class:`CanvasResponseTooLargeError` (checked against
            the size Canvas states before a byte is read, and again as bytes arrive).
        :param timeout: seconds for the whole download (1 to 86400).
        :raises CanvasResponseError: the report has no file (yet, or ever).
        """
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise CanvasConfigurationError(f"max_bytes must be a positive whole number, got {shown(max_bytes)}.")
        if not 0 < timeout <= 86400:
            raise CanvasConfigurationError(f"timeout must be from 0 to 86400 seconds, got {shown(timeout)}.")
        found = self.get_report(account_id, report, report_id)
        attachment = found.attachment
        if attachment is None or attachment.url is None:
            raise CanvasResponseError(f"{found.describe()}: it has no file to download.")
        what = f"the file of account report {found.id} ({attachment.filename})"
        if attachment.size is not None and attachment.size > max_bytes:
            raise CanvasResponseTooLargeError(
                f"{what} is {attachment.size} bytes, larger than max_bytes={max_bytes}; raise max_bytes."
            )
        return found, stream_without_token(attachment.url, self.settings, max_bytes, timeout, what=what)
