"""Naming an account report: which account, which report, which id; and which reports an account offers.

Everything that goes into a report's URL path is validated here first: the account as an id,
``sis_account_id:…`` or ``self`` (sub-accounts are allowed), the report's name as the plugin
registers it (``provisioning_csv``), its id as an id. Pure code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from airflow_provider_canvas_progress.core.kinds.sis_import import account_segment
from airflow_provider_canvas_progress.core.paths import segment
from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.core.reports import AccountReport, parse_report
from airflow_provider_canvas_progress.exceptions import (
    CanvasConfigurationError,
    CanvasResponseError,
    InvalidProgressIdError,
)

__all__ = [
    "REPORT_NAME",
    "AvailableReport",
    "ReportRef",
    "check_report_name",
    "parse_available_reports",
    "reports_path",
    "unknown_report_error",
]

#: Report names as Canvas's plugin registers them (``provisioning_csv``): also what may go in a path.
REPORT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


def check_report_name(name: object, *, what: str = "report") -> str:
    """A report name fit for a URL path (``provisioning_csv``), or a clear error.

    :raises CanvasConfigurationError: anything but a lower-case name of letters, digits and ``_``.
    """
    if isinstance(name, str) and REPORT_NAME.fullmatch(name.strip()):
        return name.strip()
    raise CanvasConfigurationError(
        f"{what} {shown(name)} is not a report name; Canvas's report names look like 'provisioning_csv' or "
        "'grade_export_csv' (lower-case letters, digits and underscores). CanvasHook.list_reports() "
        "lists the ones your account offers."
    )


@dataclass(frozen=True)
class ReportRef:
    """Which report to read: its account, its name and its id, each already safe for a URL path.

    Its string form, ``account_report:<account>/<report>/<id>``, is how a trigger carries it.
    """

    KIND: ClassVar[str] = "account_report"

    account_id: str
    report: str
    id: str

    @classmethod
    def of(cls, account_id: object, report: object, report_id: object) -> ReportRef:
        """Validate the three parts (templated DAG values arrive as text).

        :param account_id: an id, ``sis_account_id:…`` or ``self``; sub-accounts are allowed.
        :raises CanvasConfigurationError: a part that is not an id or a report name.
        """
        return cls(account_segment(account_id), check_report_name(report), segment(report_id, "report_id"))

    @classmethod
    def parse(cls, text: str) -> ReportRef:
        """Read :meth:`__str__` back.

        :raises InvalidProgressIdError: not that form.
        """
        prefix, _, rest = str(text).strip().partition(":")
        account, _, tail = rest.partition("/")
        report, _, report_id = tail.partition("/")
        if prefix != cls.KIND or not (account and report and report_id):
            raise InvalidProgressIdError(
                f"{shown(text)} is not an account report reference (account_report:<account>/<report>/<id>)."
            )
        try:
            return cls.of(account, report, report_id)
        except CanvasConfigurationError as error:
            raise InvalidProgressIdError(f"{shown(text)} is not a valid account report reference: {error}") from None

    def __str__(self) -> str:
        return f"{self.KIND}:{self.account_id}/{self.report}/{self.id}"

    @property
    def api_path(self) -> str:
        """``/api/v1/accounts/:account_id/reports/:report/:id``."""
        return f"{reports_path(self.account_id, self.report)}/{self.id}"


def reports_path(account_id: str, report: str | None = None) -> str:
    """``/api/v1/accounts/:id/reports[/:report]`` from parts already validated."""
    base = f"/api/v1/accounts/{account_id}/reports"
    return base if report is None else f"{base}/{report}"


@dataclass(frozen=True)
class AvailableReport:
    """A report the account offers (``GET /api/v1/accounts/:id/reports``), with its parameters.

    :param parameters: ``{name: (required, description)}``.
    :param last_run: the newest run of it on this account, if any.
    """

    report: str
    title: str
    parameters: Mapping[str, tuple[bool, str]] = field(default_factory=dict)
    last_run: AccountReport | None = None


def parse_available_reports(payload: object, *, source: str = "Canvas") -> list[AvailableReport]:
    """Read the list of offered reports (``AccountReportsController#available_reports``).

    :raises CanvasResponseError: the payload is not that list.
    """
    if not isinstance(payload, list):
        raise CanvasResponseError(f"{source} answered {type(payload).__name__} where a list of reports was expected.")
    offered: list[AvailableReport] = []
    for entry in payload:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("report"), str):
            raise CanvasResponseError(f"{source} answered a report entry without a 'report' name: {shown(entry, 200)}")
        raw = entry.get("parameters")
        parameters: dict[str, tuple[bool, str]] = {}
        if isinstance(raw, Mapping):
            for name, spec in raw.items():
                spec = spec if isinstance(spec, Mapping) else {}
                parameters[str(name)] = (spec.get("required") is True, str(spec.get("description") or ""))
        last = entry.get("last_run")
        title = entry.get("title")
        offered.append(
            AvailableReport(
                report=entry["report"],
                title=title if isinstance(title, str) else entry["report"],
                parameters=parameters,
                last_run=parse_report(last, source=source) if isinstance(last, Mapping) else None,
            )
        )
    return offered


def unknown_report_error(report: str, offered: Iterable[AvailableReport], account: str) -> CanvasConfigurationError:
    """The error for a report name the account does not offer, naming the ones it does."""
    names = sorted(r.report for r in offered)
    return CanvasConfigurationError(
        f"Account {account} does not offer the report {shown(report)} (Canvas answered 404). It offers: "
        f"{', '.join(names) if names else 'no reports at all (is the account_reports plugin on?)'}."
    )
