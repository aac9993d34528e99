"""The Canvas SIS import (``SisBatch``): its states, how it ended, and what a DAG keeps of it.

An SIS import does not report through a Progress but through its own object
(``app/models/sis_batch.rb``, ``lib/api/v1/sis_import.rb``). Its states are not the Progress ones:
``created`` -> ``importing`` -> ``cleanup_batch`` -> ``imported`` / ``imported_with_messages`` /
``failed`` / ``failed_with_messages`` / ``aborted``, plus ``initializing`` (a create Canvas refused
mid-way leaves one behind, and it never runs) and ``restoring`` -> ``restored`` /
``partially_restored`` after ``restore_states``. Anything else fails closed.

A ``change_threshold`` abort and a user's abort end in the same ``aborted`` state; only the warning
"N courses would be deleted and exceeds the set threshold of t%" tells them apart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pendulum

from airflow_provider_canvas_progress.core.errors import CanvasResponseError
from airflow_provider_canvas_progress.core.progress import parse_timestamp, shown
from airflow_provider_canvas_progress.core.sis_states import OUTCOMES, SisImportState, SisOutcome

__all__ = [
    "FIRST_MESSAGES",
    "SisImport",
    "SisImportState",
    "SisOutcome",
    "ThresholdAbort",
    "parse_sis_import",
]

#: How many errors and warnings the result keeps (Canvas inlines 24 of each, then "and N more").
FIRST_MESSAGES = 24

_THRESHOLD = re.compile(
    r"(?P<deletes>\d+) (?P<object>courses|sections|enrollments) would be deleted and exceeds the set threshold of "
    r"(?P<threshold>\d+)%"
)
_MORE_HINT = "Download the error file to see all errors."
_MORE = re.compile(r"^and (?P<count>\d+) more (?:errors|warnings) that were not included$")


@dataclass(frozen=True)
class ThresholdAbort:
    """A ``change_threshold`` abort: which objects, how many deletes, and the threshold (percent)."""

    object: str
    deletes: int
    threshold: int

    def describe(self) -> str:
        """One line: "3 courses would have been deleted, over the change_threshold of 10%"."""
        return f"{self.deletes} {self.object} would have been deleted, over the change_threshold of {self.threshold}%"


@dataclass(frozen=True)
class SisImport:
    """One SIS import as read from ``GET /api/v1/accounts/:account_id/sis_imports/:id``.

    ``errors`` and ``warnings`` are ``(file, message)`` pairs as Canvas inlines them (at most 24,
    the "and N more" pair removed and counted in ``errors_total``/``warnings_total``).
    ``errors_attachment_id`` names the errors file; its signed URL is deliberately not kept: it is
    bound to the user who read it and expires in an hour.
    """

    id: str
    workflow_state: SisImportState
    progress: int | None = None
    created_at: pendulum.DateTime | None = None
    started_at: pendulum.DateTime | None = None
    ended_at: pendulum.DateTime | None = None
    updated_at: pendulum.DateTime | None = None
    batch_mode: bool = False
    batch_mode_term_id: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    statistics: Mapping[str, Any] = field(default_factory=dict)
    errors: tuple[tuple[str, str], ...] = ()
    warnings: tuple[tuple[str, str], ...] = ()
    errors_total: int = 0
    warnings_total: int = 0
    errors_attachment_id: str | None = None
    crash_message: str | None = None

    @property
    def is_pending(self) -> bool:
        """True while Canvas may still move the import."""
        return self.workflow_state.is_pending

    @property
    def outcome(self) -> SisOutcome:
        """How it ended, or ``PENDING``."""
        return OUTCOMES.get(self.workflow_state, SisOutcome.PENDING)

    @property
    def threshold_abort(self) -> ThresholdAbort | None:
        """For an ``aborted`` import: the ``change_threshold`` that stopped it, or ``None`` (a user abort)."""
        if self.workflow_state is not SisImportState.ABORTED:
            return None
        for _, message in (*self.warnings, *self.errors):
            found = _THRESHOLD.search(message)
            if found is not None:
                return ThresholdAbort(found["object"], int(found["deletes"]), int(found["threshold"]))
        return None

    @property
    def abort_cause_hidden(self) -> bool:
        """An ``aborted`` import whose threshold warning may sit past the 24 inlined: read every error to tell."""
        return (
            self.workflow_state is SisImportState.ABORTED
            and self.threshold_abort is None
            and (self.warnings_total > len(self.warnings) or self.errors_total > len(self.errors))
        )

    def with_messages(self, entries: Iterable[Mapping[str, Any]]) -> SisImport:
        """This import with every error and warning as the errors list gives them (``file``, ``message``).

        The list does not say which are failures, so they are kept as warnings when the import did
        not fail; totals are unchanged.
        """
        pairs = tuple((str(e.get("file") or ""), str(e.get("message") or "")) for e in entries)
        if self.outcome is SisOutcome.FAILED:
            return replace(self, errors=pairs)
        return replace(self, warnings=pairs)

    def is_abandoned(self, now: pendulum.DateTime, *, after: float = 600.0) -> bool:
        """An ``initializing`` import older than ``after`` seconds: a refused create left it, and it never runs."""
        if self.workflow_state is not SisImportState.INITIALIZING or self.created_at is None:
            return False
        return (now - self.created_at).total_seconds() > after

    def describe(self) -> str:
        """One line for logs: id, state, progress, and what ended it."""
        text = f"SIS import {self.id} is {self.workflow_state.value}"
        if self.progress is not None:
            text += f" at {self.progress}%"
        threshold = self.threshold_abort
        if threshold is not None:
            text += f"; aborted by change_threshold: {threshold.describe()}"
        elif self.workflow_state is SisImportState.ABORTED:
            text += "; aborted by a user"
        if self.errors_total:
            text += f"; {self.errors_total} error(s), first: {shown(self.errors[0][1], 500)}" if self.errors else ""
        if self.warnings_total:
            text += f"; {self.warnings_total} warning(s)"
        if self.crash_message:
            text += f"; Canvas says: {shown(self.crash_message, 500)}"
        return text

    def to_payload(self) -> dict[str, Any]:
        """Canvas's JSON shape (what :func:`parse_sis_import` reads back), for trigger events.

        The errors file keeps only its id; the "and N more" pairs are written back from the totals.
        """
        data: dict[str, Any] = {"counts": dict(self.counts), "statistics": dict(self.statistics)}
        if self.crash_message is not None:
            data["error_message"] = self.crash_message
        body: dict[str, Any] = {
            "id": self.id,
            "workflow_state": self.workflow_state.value,
            "progress": self.progress,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "updated_at": _iso(self.updated_at),
            "batch_mode": True if self.batch_mode else None,
            "batch_mode_term_id": self.batch_mode_term_id,
            "data": data,
        }
        for key, pairs, total, noun in (
            ("processing_errors", self.errors, self.errors_total, "errors"),
            ("processing_warnings", self.warnings, self.warnings_total, "warnings"),
        ):
            if not pairs and not total:
                continue
            items = [list(pair) for pair in pairs]
            if total > len(pairs):
                items.append([f"and {total - len(pairs)} more {noun} that were not included", _MORE_HINT])
            body[key] = items
        if self.errors_attachment_id is not None:
            body["errors_attachment"] = {"id": self.errors_attachment_id}
        return body

    def to_result(self) -> dict[str, Any]:
        """What the sensor returns and pushes to XCom: JSON-serialisable, no signed URL, no token."""
        threshold = self.threshold_abort
        return {
            "id": self.id,
            "workflow_state": self.workflow_state.value,
            "outcome": self.outcome.value,
            "progress": self.progress,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "batch_mode": self.batch_mode,
            "batch_mode_term_id": self.batch_mode_term_id,
            "counts": dict(self.counts),
            "statistics": dict(self.statistics),
            "errors": [list(pair) for pair in self.errors[:FIRST_MESSAGES]],
            "warnings": [list(pair) for pair in self.warnings[:FIRST_MESSAGES]],
            "errors_total": self.errors_total,
            "warnings_total": self.warnings_total,
            "errors_attachment_id": self.errors_attachment_id,
            "threshold_abort": None
            if threshold is None
            else {"object": threshold.object, "deletes": threshold.deletes, "threshold": threshold.threshold},
            "crash_message": self.crash_message,
        }


def _iso(value: pendulum.DateTime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _messages(payload: Mapping[str, Any], key: str, bad: Any) -> tuple[tuple[tuple[str, str], ...], int]:
    raw = payload.get(key)
    if raw is None:
        return (), 0
    if not isinstance(raw, list):
        raise bad(key, "a list of [file, message] pairs")
    pairs: list[tuple[str, str]] = []
    extra = 0
    for item in raw:
        if not isinstance(item, list) or len(item) != 2:
            raise bad(key, "a list of [file, message] pairs")
        file, message = ("" if v is None else str(v) for v in item)
        more = _MORE.match(file)
        if more is not None:
            extra = int(more["count"])  # the pair that replaces everything past the 24th
            continue
        pairs.append((file, message))
    return tuple(pairs), len(pairs) + extra


def _time(payload: Mapping[str, Any], key: str, bad: Any) -> pendulum.DateTime | None:
    value = payload.get(key)
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError as expected:
        raise bad(key, str(expected)) from None


def _id_text(value: object) -> str | None:
    # Canvas ids are 64-bit (global ids included); the bound keeps str() and int() clear of Python's
    # 4,300-digit limit, so a hostile id is a typed "not an id", not a ValueError.
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and 0 <= value < 10**_MAX_ID_DIGITS:
        return str(value)
    if isinstance(value, str) and len(value) <= _MAX_ID_DIGITS and value.isascii() and value.isdigit():
        return value
    return None


_MAX_ID_DIGITS = 64


def parse_sis_import(payload: object, *, source: str = "Canvas") -> SisImport:
    """Validate a SisImport JSON object.

    :param source: where it came from, for messages (``"GET /api/v1/accounts/1/sis_imports/5"``).
    :raises CanvasResponseError: the payload is not a SisImport; the message names the field.
    :raises CanvasUnknownStateError: the state is not one Canvas is known to use.
    """
    if not isinstance(payload, Mapping):
        raise CanvasResponseError(f"{source} answered {type(payload).__name__} where a SIS import was expected.")
    import_id = _id_text(payload.get("id"))
    if import_id is None:
        raise CanvasResponseError(f"{source} answered a SIS import whose 'id' is {shown(payload.get('id'))}.")

    def bad(key: str, expected: str) -> CanvasResponseError:
        return CanvasResponseError(
            f"{source} answered SIS import {import_id} whose {key!r} is {shown(payload.get(key))}; expected {expected}."
        )

    if "workflow_state" not in payload:
        raise bad("workflow_state", "a state such as 'importing'")
    state = SisImportState.parse(payload["workflow_state"], import_id=import_id)
    progress = payload.get("progress")
    if progress is not None and (
        isinstance(progress, bool) or not isinstance(progress, (int, float)) or not math.isfinite(progress)
    ):
        raise bad("progress", "a number from 0 to 100 or null")
    data = payload.get("data")
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise bad("data", "an object")
    counts = data.get("counts") or {}
    statistics = data.get("statistics") or payload.get("statistics") or {}
    if not isinstance(counts, Mapping) or not isinstance(statistics, Mapping):
        raise bad("data", "an object whose counts and statistics are objects")
    errors, errors_total = _messages(payload, "processing_errors", bad)
    warnings, warnings_total = _messages(payload, "processing_warnings", bad)
    attachment = payload.get("errors_attachment")
    attachment_id = _id_text(attachment.get("id")) if isinstance(attachment, Mapping) else None
    term = payload.get("batch_mode_term_id")
    crash = data.get("error_message")
    return SisImport(
        id=import_id,
        workflow_state=state,
        progress=None if progress is None else max(0, min(100, int(progress))),
        created_at=_time(payload, "created_at", bad),
        started_at=_time(payload, "started_at", bad),
        ended_at=_time(payload, "ended_at", bad),
        updated_at=_time(payload, "updated_at", bad),
        batch_mode=payload.get("batch_mode") is True,
        batch_mode_term_id=_id_text(term),
        counts={str(k): int(v) for k, v in counts.items() if isinstance(v, int) and not isinstance(v, bool)},
        statistics=dict(statistics),
        errors=errors,
        warnings=warnings,
        errors_total=errors_total,
        warnings_total=warnings_total,
        errors_attachment_id=attachment_id,
        crash_message=crash if isinstance(crash, str) else None,
    )
