"""Hostile SIS import and account report objects: typed errors with bounded text, never a crash.

The SIS import and report parsers read whatever Canvas (or something pretending to be Canvas)
answers. A 10 MB state, a 5,000-digit id or a NaN progress must end in a typed
:class:`CanvasResponseError` whose message stays short, as the Progress parser's already do.
"""

from __future__ import annotations

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


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"workflow_state": HUGE}, "workflow_state"),
        ({"id": HUGE}, "'id'"),
        ({"id": 10**5000}, "'id'"),
        ({"id": "9" * 5000}, "'id'"),
        ({"progress": float("nan")}, "'progress'"),
        ({"progress": float("inf")}, "'progress'"),
        ({"progress": HUGE}, "'progress'"),
    ],
    ids=[
        "10MB-state",
        "10MB-id",
        "5000-digit-int-id",
        "5000-digit-text-id",
        "nan-progress",
        "inf-progress",
        "10MB-progress",
    ],
)
def test_a_hostile_sis_import_is_a_typed_error_with_bounded_text(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(CanvasResponseError) as raised:
        parse_sis_import(sis_import(**overrides), source="GET /api/v1/accounts/1/sis_imports/17")
    assert field in str(raised.value)
    assert len(str(raised.value)) < MESSAGE_LIMIT


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"status": HUGE}, "status"),
        ({"id": HUGE}, "'id'"),
        ({"id": 10**5000}, "'id'"),
        ({"id": "9" * 5000}, "'id'"),
        ({"progress": float("nan")}, "'progress'"),
        ({"current_line": float("nan")}, "'current_line'"),
        ({"report": {"nested": HUGE}}, "'report'"),
        ({"parameters": HUGE}, "'parameters'"),
    ],
    ids=[
        "10MB-status",
        "10MB-id",
        "5000-digit-int-id",
        "5000-digit-text-id",
        "nan-progress",
        "nan-line",
        "10MB-name",
        "10MB-parameters",
    ],
)
def test_a_hostile_account_report_is_a_typed_error_with_bounded_text(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(CanvasResponseError) as raised:
        parse_report(report(**overrides), source="GET /api/v1/accounts/1/reports/provisioning_csv/5")
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
