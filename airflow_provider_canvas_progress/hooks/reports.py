"""Account report calls: list what an account offers, start, read, abort and delete a report.

The connection, auth, retries and throttling are :class:`~.canvas.CanvasHook`'s; this hook adds the
calls of ``app/controllers/account_reports_controller.rb`` and reads their answers with the pure
model of :mod:`airflow_provider_canvas_progress.core.reports`. Every id and name that goes into a
path is validated first (:class:`~airflow_provider_canvas_progress.core.reports.ReportRef`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_canvas_progress.core.errors import CanvasNotFoundError
from airflow_provider_canvas_progress.core.ids import parse_id_text
from airflow_provider_canvas_progress.core.report_parameters import build_report_parameters
from airflow_provider_canvas_progress.core.reports import (
    AccountReport,
    AvailableReport,
    ReportRef,
    check_report_name,
    parse_available_reports,
    parse_report,
    reports_path,
    unknown_report_error,
)
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook

__all__ = ["CanvasAccountReportsHook"]


class CanvasAccountReportsHook(CanvasHook):
    """A :class:`~.canvas.CanvasHook` that also speaks Canvas's account report API.

    The connection's user needs ``read_reports`` on the account (sub-accounts are allowed).

    .. code-block:: python

        hook = CanvasAccountReportsHook("canvas_default")
        report = hook.start_report(1, "provisioning_csv", {"users": True, "courses": True})
        report = hook.get_report(1, "provisioning_csv", report.id)
    """

    def list_reports(self, account_id: object) -> list[AvailableReport]:
        """The reports the account offers, with their parameters and last run (``GET .../reports``).

        :raises CanvasNotFoundError: no such account.
        """
        path = reports_path(parse_id_text(str(account_id), what="account_id"))
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

        :param parameters: the report's parameters (checked by
            :func:`~airflow_provider_canvas_progress.core.report_parameters.build_report_parameters`).
        :param skip_message: keep Canvas from messaging the connection's user when it ends.
        :raises CanvasConfigurationError: bad parameters, or a report name the account does not
            offer (the message lists the ones it does); nothing is started then.
        :raises CanvasValidationError: Canvas refused a term (400 ``invalid enrollment_term_id``).
        """
        account = parse_id_text(str(account_id), what="account_id")
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

        Canvas finds only ``running`` reports: a created, compiling or finished one answers 404.
        A single-job report keeps writing after this and then ends ``aborted`` with its file.

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
