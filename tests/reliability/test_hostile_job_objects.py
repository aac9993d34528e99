"""Hostile SIS import and account report objects: typed errors with bounded text, never a crash.

The SIS import and report parsers read whatever Canvas (or something pretending to be Canvas)
answers. A 10 MB state, a 5,000-digit id or a NaN progress must end in a typed
:class:`CanvasResponseError` whose message stays short, as the Progress parser's already do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_canvas_progress.core.reports import parse_report
from airflow_provider_canvas_progress.core.sis import parse_sis_import
from airflow_provider_canvas_progress.exceptions import CanvasResponseError

HUGE = "x" * 10_000_000
MESSAGE_LIMIT = 2_000


def sis_import(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": 17,
        "created_at": "2026-11-30T02:00:00Z",
        "updated_at": "2026-11-30T02:00:00Z",
        "progress": 40,
        "workflow_state": "importing",
        "data": {"import_type": "instructure_csv"},
    }
    return {**body, **overrides}


def report(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": 5,
        "report": "provisioning_csv",
        "status": "running",
        "progress": 40,
        "parameters": {},
        "created_at": "2026-11-30T02:00:00Z",
    }
    return {**body, **overrides}


#: Each kind's parser, a well-formed object of it, and where its reads come from.
KINDS: dict[str, tuple[Callable[..., Any], Callable[..., dict[str, Any]], str]] = {
    "SIS import": (parse_sis_import, sis_import, "GET /api/v1/accounts/1/sis_imports/17"),
    "account report": (parse_report, report, "GET /api/v1/accounts/1/reports/provisioning_csv/5"),
}
#: (kind, hostile fields, the field the error must name, id)
HOSTILE = [
    ("SIS import", {"workflow_state": HUGE}, "workflow_state", "10MB-state"),
    ("SIS import", {"id": HUGE}, "'id'", "10MB-id"),
    ("SIS import", {"id": 10**5000}, "'id'", "5000-digit-int-id"),
    ("SIS import", {"id": "9" * 5000}, "'id'", "5000-digit-text-id"),
    ("SIS import", {"progress": float("nan")}, "'progress'", "nan-progress"),
    ("SIS import", {"progress": float("inf")}, "'progress'", "inf-progress"),
    ("SIS import", {"progress": HUGE}, "'progress'", "10MB-progress"),
    ("account report", {"status": HUGE}, "status", "10MB-status"),
    ("account report", {"id": HUGE}, "'id'", "10MB-id"),
    ("account report", {"id": 10**5000}, "'id'", "5000-digit-int-id"),
    ("account report", {"id": "9" * 5000}, "'id'", "5000-digit-text-id"),
    ("account report", {"progress": float("nan")}, "'progress'", "nan-progress"),
    ("account report", {"current_line": float("nan")}, "'current_line'", "nan-line"),
    ("account report", {"report": {"nested": HUGE}}, "'report'", "10MB-name"),
    ("account report", {"parameters": HUGE}, "'parameters'", "10MB-parameters"),
]


@pytest.mark.parametrize(
    ("kind", "overrides", "field"),
    [(kind, overrides, field) for kind, overrides, field, _ in HOSTILE],
    ids=[f"{kind}-{name}" for kind, _, _, name in HOSTILE],
)
def test_a_hostile_job_object_is_a_typed_error_with_bounded_text(
    kind: str, overrides: dict[str, Any], field: str
) -> None:
    parse, well_formed, source = KINDS[kind]
    with pytest.raises(CanvasResponseError) as raised:
        parse(well_formed(**overrides), source=source)
    assert field in str(raised.value)
    assert len(str(raised.value)) < MESSAGE_LIMIT


def test_a_10mb_error_text_in_a_failed_report_is_quoted_short() -> None:
    failed = parse_report(report(status="error", progress=100, parameters={"extra_text": HUGE}))
    assert len(failed.describe()) < MESSAGE_LIMIT


def test_a_10mb_first_error_of_a_failed_import_is_quoted_short() -> None:
    failed = parse_sis_import(
        sis_import(workflow_state="failed_with_messages", progress=100, processing_errors=[["users.csv", HUGE]])
    )
    assert len(failed.describe()) < MESSAGE_LIMIT
