"""The Canvas account report: its states, a strict parser, how it ended, and its parameters.

A report is its own Canvas job with its own status object (``lib/api/v1/account_report.rb``):
``created``, ``running`` and, for reports written by parallel runners, ``compiling`` are pending;
``complete``, ``error`` and ``aborted`` are endings; ``deleted`` is a report someone removed, which
this provider never reads as success. The quirks that make reports easy to misread live here:

* an ``error`` report still says ``progress: 100``; its reason is only in ``parameters.extra_text``
  (``AccountReports.finalize_report``);
* a finished report's ``file_url`` is a web page path that needs a browser session, and its
  ``attachment.url`` is a signed, user-bound link: neither belongs in XCom, so :meth:`AccountReport.result`
  keeps the attachment's id, name, size and type only;
* Canvas sends no message when ``parameters[skip_message]`` is *present and truthy in Ruby*: the
  string ``"false"`` is truthy there, so turning the message back on means leaving the key out.

Pure code: no I/O, no Airflow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from typing import Any

import pendulum

from airflow_provider_canvas_progress.core.errors import (
    CanvasConfigurationError,
    CanvasProgressFailedError,
    CanvasResponseError,
    CanvasUnknownStateError,
)
from airflow_provider_canvas_progress.core.progress import _canvas_timestamp

__all__ = [
    "OBJECT_FLAGS",
    "REPORT_NAME",
    "AccountReport",
    "ReportAttachment",
    "ReportOutcome",
    "ReportStatus",
    "build_report_parameters",
    "check_report_name",
    "parse_report",
    "report_outcome",
]

#: Report names as Canvas's plugin registers them (``provisioning_csv``): also what may go in a path.
REPORT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")

#: The object flags of ``provisioning_csv`` and ``sis_export_csv``
#: (``gems/plugins/account_reports/lib/account_reports/engine.rb``).
OBJECT_FLAGS = (
    "users",
    "accounts",
    "terms",
    "courses",
    "sections",
    "enrollments",
    "groups",
    "group_categories",
    "group_membership",
    "xlist",
    "user_observers",
    "admins",
)
_EXPORTERS = ("provisioning_csv", "sis_export_csv")
_TERM_KEYS = ("enrollment_term_id", "enrollment_term")
#: ``api_find`` forms for terms (``lib/api.rb`` SIS_MAPPINGS ``enrollment_terms``), plus global ids.
_TERM_ITEM = re.compile(r"^(?:\d{1,20}|\d{1,10}~\d{1,15}|(?:sis_term_id|sis_integration_id):\S.{0,254})$")
_RUBY_TRUE = ("true", "1", "on", "yes", "t", "y")


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
        if isinstance(value, str):
            try:
                return cls(value)
            except ValueError:
                pass
        where = f"Account report {report_id}" if report_id else "An account report"
        raise CanvasUnknownStateError(
            f"{where} reports status {value!r}, which this provider does not know "
            f"(known: {', '.join(s.value for s in cls)}). It is not treated as success. Check the report "
            "in Canvas (Admin > Settings > Reports), and upgrade airflow-provider-canvas-progress if "
            "Canvas has added a state."
        )


class ReportOutcome(str, Enum):
    """How a report ended, as a DAG sees it (``deleted`` is not an outcome: it fails closed)."""

    COMPLETE = "complete"
    ERROR = "error"
    ABORTED = "aborted"

    @classmethod
    def parse_many(cls, values: Iterable[str] | str, *, what: str = "fail_on") -> frozenset[ReportOutcome]:
        """Validate a user's list of outcomes (e.g. ``fail_on``)."""
        items = [values] if isinstance(values, str) else list(values)
        allowed = [o.value for o in cls]
        bad = [v for v in items if not isinstance(v, str) or v.strip().lower() not in allowed]
        if bad:
            raise CanvasConfigurationError(
                f"{what} contains {bad!r}; allowed values are {allowed} (e.g. ['error', 'aborted'], "
                "or [] to never fail the task on the report's outcome)."
            )
        return frozenset(cls(v.strip().lower()) for v in items)


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
    url: str | None = field(default=None, repr=False)

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
    file_url: str | None = field(default=None, repr=False)

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
            text += f"; Canvas says: {self.error_message!r}"
        elif self.status is ReportStatus.ABORTED and self.extra_text:
            text += f"; Canvas says: {self.extra_text!r}"
        return text

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
        raise CanvasResponseError(f"{source} answered a Report whose 'id' is {payload.get('id')!r}; expected an id.")

    def bad(key: str, expected: str) -> CanvasResponseError:
        return CanvasResponseError(
            f"{source} answered Report {report_id} whose {key!r} is {payload.get(key)!r}; expected {expected}."
        )

    status = ReportStatus.parse(payload.get("status"), report_id=report_id)
    name = payload.get("report")
    if not isinstance(name, str) or not name:
        raise bad("report", "the report's name")
    numbers: dict[str, int | None] = {}
    for key in ("progress", "current_line"):
        value = payload.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
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
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) > 0:
        return value
    return None


def check_report_name(name: object, *, what: str = "report") -> str:
    """A report name fit for a URL path (``provisioning_csv``), or a clear error.

    :raises CanvasConfigurationError: anything but a lower-case name of letters, digits and ``_``.
    """
    if isinstance(name, str) and REPORT_NAME.fullmatch(name.strip()):
        return name.strip()
    raise CanvasConfigurationError(
        f"{what} {name!r} is not a report name; Canvas's report names look like 'provisioning_csv' or "
        "'grade_export_csv' (lower-case letters, digits and underscores). CanvasHook.list_reports() "
        "lists the ones your account offers."
    )


def _value_to_boolean(value: object) -> bool:
    """Whether Canvas's ``value_to_boolean`` reads the value as true (how reports read their flags)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in _RUBY_TRUE


def _timestamp(value: object, bad: Callable[[], CanvasResponseError]) -> pendulum.DateTime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad()
    fast = _canvas_timestamp(value)
    if fast is not None:
        return fast
    try:
        parsed = pendulum.parse(value, exact=True)
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        raise bad() from None
    if not isinstance(parsed, pendulum.DateTime):
        raise bad()
    return parsed


def _check_term(value: object, key: str) -> object:
    """``AccountReportsController#valid_enrollment_term_id?``'s forms, checked before Canvas looks them up."""
    if isinstance(value, bool) or value is None:
        raise CanvasConfigurationError(f"parameters[{key!r}] is {value!r}; give a term id, or leave it out.")
    if isinstance(value, int):
        if value <= 0:
            raise CanvasConfigurationError(f"parameters[{key!r}] is {value!r}; term ids are positive.")
        return value
    if not isinstance(value, str):
        raise CanvasConfigurationError(f"parameters[{key!r}] is a {type(value).__name__}; give a term id as text.")
    text = value.strip()
    if text == "active_terms":
        return text
    items = [item.strip() for item in text.split(",")]
    bad = [item for item in items if not _TERM_ITEM.fullmatch(item)]
    if bad or len(text) > 4000:
        raise CanvasConfigurationError(
            f"parameters[{key!r}] {value!r} is not a term reference (bad: {bad!r}). Canvas accepts a term id "
            "(123 or 1~123), 'sis_term_id:<sis id>', 'sis_integration_id:<id>', a comma-separated list of "
            "those, or 'active_terms'."
        )
    return text


def build_report_parameters(
    report: str, parameters: Mapping[str, Any] | None = None, *, skip_message: bool = True
) -> dict[str, Any]:
    """Check a report's ``parameters`` where Canvas checks them, and apply ``skip_message``.

    * ``enrollment_term_id`` (or ``enrollment_term``): a term id, ``sis_term_id:...``, a comma list
      or ``active_terms``; an empty value is dropped, as Canvas ignores it.
    * ``provisioning_csv`` and ``sis_export_csv`` need at least one object flag (``users``,
      ``courses``...): without one Canvas ends the report ``error`` with no file.
    * values are text, numbers, booleans or lists of those (Canvas stores them as given).

    :param report: the report's name (checked with :func:`check_report_name`).
    :param skip_message: on by default, so a nightly DAG does not mail the token's user every night.
        Off removes the key: Canvas reads any value of it, even ``"false"``, as "skip".
    :returns: the parameters to send as ``parameters[...]``.
    :raises CanvasConfigurationError: naming the parameter and the accepted forms.
    """
    name = check_report_name(report)
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, Mapping):
        raise CanvasConfigurationError(f"parameters must be a dict, got {type(parameters).__name__}.")
    result: dict[str, Any] = {}
    for key, value in parameters.items():
        if not isinstance(key, str) or not key.strip() or any(c in key for c in "[]&=#?"):
            raise CanvasConfigurationError(f"parameters has the key {key!r}; keys are names such as 'users'.")
        scalars = value if isinstance(value, list) else [value]
        if any(v is not None and not isinstance(v, (str, int, float, bool)) for v in scalars):
            raise CanvasConfigurationError(
                f"parameters[{key!r}] is a {type(value).__name__}; Canvas takes text, numbers, booleans "
                "or lists of those."
            )
        if key in _TERM_KEYS:
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            value = _check_term(value, key)
        result[key] = value
    if name in _EXPORTERS and not any(_value_to_boolean(result.get(flag)) for flag in OBJECT_FLAGS):
        raise CanvasConfigurationError(
            f"{name} needs at least one object flag set to true among {', '.join(OBJECT_FLAGS)} "
            f"(e.g. parameters={{'users': True, 'enrollments': True}}); without one Canvas ends the report "
            "in error with no file."
        )
    result.pop("skip_message", None)
    if _value_to_boolean(parameters.get("skip_message", skip_message)):
        result["skip_message"] = True
    return result
