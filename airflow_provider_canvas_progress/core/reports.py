"""The Canvas account report: its states, a strict parser, and how it ended.

A report is its own Canvas job with its own status object (``lib/api/v1/account_report.rb``):
``created``, ``running`` and, for reports written by parallel runners, ``compiling`` are pending;
``complete``, ``error`` and ``aborted`` are endings; ``deleted`` is a report someone removed, which
this provider never reads as success. The quirks that make reports easy to misread live here:

* an ``error`` report still says ``progress: 100``; its reason is only in ``parameters.extra_text``
  (``AccountReports.finalize_report``);
* a finished report's ``file_url`` is a web page path that needs a browser session, and its
  ``attachment.url`` is a signed, user-bound link: neither belongs in XCom, so :meth:`AccountReport.result`
  keeps the attachment's id, name, size and type only.

Pure code: no I/O, no Airflow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from typing import Any

import pendulum

from airflow_provider_canvas_progress.core.arguments import outcomes
from airflow_provider_canvas_progress.core.progress import parse_state, parse_timestamp, shown
from airflow_provider_canvas_progress.exceptions import (
    CanvasProgressFailedError,
    CanvasResponseError,
)

__all__ = [
    "AccountReport",
    "ReportAttachment",
    "ReportOutcome",
    "ReportStatus",
    "parse_report",
    "report_outcome",
]


class ReportStatus(str, Enum):
    """A report's ``status`` (its ``workflow_state``), knowing which states are still pending."""

    CREATED = "created"
    RUNNING = "running"
    COMPILING = "compiling"
    COMPLETE = "complete"
    ERROR = "error"
    ABORTED = "aborted"
    DELETED = "deleted"

    @property
    def is_pending(self) -> bool:
        """True while the report may still change state."""
        return self in (ReportStatus.CREATED, ReportStatus.RUNNING, ReportStatus.COMPILING)

    @property
    def is_terminal(self) -> bool:
        """True once the report has ended or was deleted."""
        return not self.is_pending

    @classmethod
    def parse(cls, value: object, *, report_id: str | None = None) -> ReportStatus:
        """Read a status, raising :class:`CanvasUnknownStateError` for anything unknown (fail closed)."""
        return parse_state(
            cls,
            value,
            subject=f"Account report {report_id}" if report_id else "An account report",
            field="status",
            check="Check the report in Canvas (Admin > Settings > Reports)",
        )


class ReportOutcome(str, Enum):
    """How a report ended, as a DAG sees it (``deleted`` is not an outcome: it fails closed)."""

    COMPLETE = "complete"
    ERROR = "error"
    ABORTED = "aborted"
    #: Not an ending of the report but of the wait: still pending, unchanged for ``stalled_after``
    #: (see :mod:`~airflow_provider_canvas_progress.core.stall`). No status maps to it.
    STALLED = "stalled"

    @classmethod
    def parse_many(cls, values: Iterable[str] | str, *, what: str = "fail_on") -> frozenset[ReportOutcome]:
        """Validate a user's list of outcomes (e.g. ``fail_on``)."""
        return outcomes(values, cls, what=what, example="['error', 'aborted']", ending="the report's outcome")


@dataclass(frozen=True)
class ReportAttachment:
    """The file a finished report attached (``attachment`` in the Report JSON).

    ``url`` is Canvas's signed download link (``/files/:id/download?verifier=...``): it needs no
    token, which is exactly why it stays out of reprs, logs and XCom.
    """

    id: str
    filename: str
    size: int | None = None
    content_type: str | None = None
    url: str | None = field(default=None, repr=False, compare=False)

    @property
    def is_zip(self) -> bool:
        """Whether the file is a zip (a report of several parts, each a ``<part>.csv``)."""
        return self.content_type == "application/zip" or self.filename.lower().endswith(".zip")


@dataclass(frozen=True)
class AccountReport:
    """One account report, as read from ``GET /api/v1/accounts/:id/reports/:report/:id``."""

    id: str
    report: str
    status: ReportStatus
    progress: int | None = None
    current_line: int | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    created_at: pendulum.DateTime | None = None
    started_at: pendulum.DateTime | None = None
    ended_at: pendulum.DateTime | None = None
    attachment: ReportAttachment | None = None
    file_url: str | None = field(default=None, repr=False, compare=False)

    @property
    def is_pending(self) -> bool:
        """True while Canvas may still change this report."""
        return self.status.is_pending

    @property
    def extra_text(self) -> str | None:
        """``parameters.extra_text``: the settings summary of a finished report, or why it failed."""
        value = self.parameters.get("extra_text")
        return value.strip() or None if isinstance(value, str) else None

    @property
    def error_message(self) -> str:
        """Why an ``error`` report failed: Canvas writes the reason only to ``extra_text``."""
        return self.extra_text or "Canvas gave no reason (parameters.extra_text is empty)"

    def describe(self) -> str:
        """One line for logs and errors: id, name, status, progress and, when it failed, why."""
        text = f"Account report {self.id} ({self.report}) is {self.status.value}"
        if self.progress is not None:
            text += f" at {self.progress}%"
        if self.status is ReportStatus.ERROR:
            text += f"; Canvas says: {shown(self.error_message, 500)}"
        elif self.status is ReportStatus.ABORTED and self.extra_text:
            text += f"; Canvas says: {shown(self.extra_text, 500)}"
        return text

    def to_json(self) -> dict[str, Any]:
        """The report in Canvas's shape, read back by :func:`parse_report`, without its download links.

        For trigger events, which are stored in Airflow's database: the links need no token (or a
        session) and the verifier expires, so the task reads the report again for a fresh one.
        """
        attachment = self.attachment
        return {
            "id": self.id,
            "report": self.report,
            "status": self.status.value,
            "progress": self.progress,
            "current_line": self.current_line,
            "parameters": dict(self.parameters),
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "attachment": None
            if attachment is None
            else {
                "id": attachment.id,
                "filename": attachment.filename,
                "size": attachment.size,
                "content-type": attachment.content_type,
            },
        }

    def result(self) -> dict[str, Any]:
        """A JSON-serialisable summary for XCom: never a download link (both need no token or expire)."""
        attachment = self.attachment
        return {
            "report_id": self.id,
            "report": self.report,
            "status": self.status.value,
            "progress": self.progress,
            "message": self.extra_text,
            "attachment_id": attachment.id if attachment else None,
            "filename": attachment.filename if attachment else None,
            "size": attachment.size if attachment else None,
            "content_type": attachment.content_type if attachment else None,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
        }


def report_outcome(report: AccountReport) -> ReportOutcome | None:
    """How the report ended, or ``None`` while it is pending.

    :raises CanvasProgressFailedError: the report was deleted: whoever deleted it took its file
        away, so there is nothing a DAG could read as success or as an ordinary failure.
    """
    if report.is_pending:
        return None
    if report.status is ReportStatus.DELETED:
        raise CanvasProgressFailedError(
            f"{report.describe()}: someone deleted it, so it has no file to read. Start it again."
        )
    return ReportOutcome(report.status.value)


def parse_report(payload: object, *, source: str = "Canvas") -> AccountReport:
    """Validate a Report JSON object and build an :class:`AccountReport`.

    :param source: where it came from, for messages (``"GET /api/v1/accounts/1/reports/x/5"``).
    :raises CanvasResponseError: the payload is not a Report; the message names the field.
    :raises CanvasUnknownStateError: the status is not one Canvas is known to use.
    """
    if not isinstance(payload, Mapping):
        raise CanvasResponseError(f"{source} answered {type(payload).__name__} where a Report object was expected.")
    report_id = _id(payload.get("id"))
    if report_id is None:
        raise CanvasResponseError(
            f"{source} answered a Report whose 'id' is {shown(payload.get('id'))}; expected an id."
        )

    def bad(key: str, expected: str) -> CanvasResponseError:
        return CanvasResponseError(
            f"{source} answered Report {report_id} whose {key!r} is {shown(payload.get(key))}; expected {expected}."
        )

    status = ReportStatus.parse(payload.get("status"), report_id=report_id)
    name = payload.get("report")
    if not isinstance(name, str) or not name:
        raise bad("report", "the report's name")
    numbers: dict[str, int | None] = {}
    for key in ("progress", "current_line"):
        value = payload.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0
        ):
            raise bad(key, "a non-negative number or null")
        numbers[key] = None if value is None else int(min(value, 10**12))
    parameters = payload.get("parameters")
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, Mapping):
        raise bad("parameters", "an object or null")
    times = {
        key: _timestamp(payload.get(key), partial(bad, key, "an ISO 8601 timestamp or null"))
        for key in ("created_at", "started_at", "ended_at")
    }
    file_url = payload.get("file_url")
    if file_url is not None and not isinstance(file_url, str):
        raise bad("file_url", "a URL or null")
    return AccountReport(
        id=report_id,
        report=name,
        status=status,
        progress=None if numbers["progress"] is None else min(numbers["progress"], 100),
        current_line=numbers["current_line"],
        parameters=dict(parameters),
        created_at=times["created_at"],
        started_at=times["started_at"],
        ended_at=times["ended_at"],
        attachment=_attachment(payload.get("attachment"), bad),
        file_url=file_url,
    )


def _attachment(value: object, bad: Callable[[str, str], CanvasResponseError]) -> ReportAttachment | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise bad("attachment", "a File object or null")
    attachment_id = _id(value.get("id"))
    filename = value.get("filename") or value.get("display_name")
    if attachment_id is None or not isinstance(filename, str) or not filename:
        raise bad("attachment", "a File object with an id and a filename")
    size = value.get("size")
    content_type = value.get("content-type")
    url = value.get("url")
    return ReportAttachment(
        id=attachment_id,
        filename=filename,
        size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        content_type=content_type if isinstance(content_type, str) else None,
        url=url if isinstance(url, str) and url else None,
    )


def _id(value: object) -> str | None:
    # Bounded like every Canvas id (64 digits at most), so a hostile 5,000-digit id is "not an id",
    # not a ValueError from Python's 4,300-digit limit.
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 < value < 10**_MAX_ID_DIGITS:
        return str(value)
    if isinstance(value, str) and len(value) <= _MAX_ID_DIGITS and value.isascii() and value.isdigit():
        return value if value.strip("0") else None
    return None


_MAX_ID_DIGITS = 64


def _timestamp(value: object, bad: Callable[[], CanvasResponseError]) -> pendulum.DateTime | None:
    # The one timestamp reader the Progress and SIS parsers use; only the error is the report's own.
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        raise bad() from None
