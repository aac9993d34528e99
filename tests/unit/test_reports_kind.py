"""The account report kind: its reference, its outcomes in the wait's terms, its trip through an event."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_canvas_progress.core.events import WaitEvent, WaitStatus
from airflow_provider_canvas_progress.core.kinds import kind_named, parse_job_ref
from airflow_provider_canvas_progress.core.outcome import CancelMatcher, Outcome
from airflow_provider_canvas_progress.core.report_refs import ReportRef
from airflow_provider_canvas_progress.core.reports import parse_report
from airflow_provider_canvas_progress.exceptions import CanvasProgressFailedError, InvalidProgressIdError

KIND = kind_named("account_report")


def report(status: str = "complete", **changes: Any) -> Any:
    body = {
        "id": 12,
        "report": "grade_export_csv",
        "status": status,
        "progress": 100,
        "parameters": {"extra_text": "Term: All Terms;"},
        "attachment": {"id": 70001, "filename": "g.csv", "size": 10, "content-type": "text/csv", "url": "https://x/v"},
        "file_url": "https://school.example/accounts/1/files/70001/download",
    }
    return parse_report({**body, **changes})


def test_a_report_reference_names_its_kind() -> None:
    kind, ref = parse_job_ref("account_report:1/grade_export_csv/12")

    assert kind is KIND
    assert ref == ReportRef("1", "grade_export_csv", "12")
    assert KIND.api_path(ref) == "/api/v1/accounts/1/reports/grade_export_csv/12"


def test_an_account_may_be_named_by_sis_id_or_self() -> None:
    assert str(ReportRef.of("sis_account_id:A/B", "x_csv", 3)) == "account_report:sis_account_id:A%2FB/x_csv/3"
    assert ReportRef.of("self", "x_csv", 3).account_id == "self"


@pytest.mark.parametrize("text", ["account_report:1/x_csv", "account_report:1/../12", "account_report:a b/x/1"])
def test_a_malformed_reference_is_refused(text: str) -> None:
    with pytest.raises(InvalidProgressIdError):
        KIND.parse_ref(text)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("created", Outcome.PENDING),
        ("running", Outcome.PENDING),
        ("compiling", Outcome.PENDING),
        ("complete", Outcome.COMPLETED),
        ("error", Outcome.FAILED),
        ("aborted", Outcome.CANCELLED),
    ],
)
def test_each_status_reads_as_the_wait_outcome(status: str, outcome: Outcome) -> None:
    assert KIND.outcome(report(status), CancelMatcher()) is outcome


def test_a_deleted_report_fails_closed() -> None:
    with pytest.raises(CanvasProgressFailedError, match="deleted"):
        KIND.outcome(report("deleted"), CancelMatcher())


def test_the_poll_line_changes_with_status_and_progress_only() -> None:
    assert KIND.fingerprint(report("running", progress=40)) != KIND.fingerprint(report("running", progress=60))
    assert KIND.fingerprint(report("running", current_line=1)) == KIND.fingerprint(report("running", current_line=2))


def test_a_finished_report_crosses_a_trigger_event_without_its_links() -> None:
    event = WaitEvent(WaitStatus.ENDED, "12", report(), ref="account_report:1/grade_export_csv/12")

    payload = json.loads(json.dumps(event.to_payload()))
    back = WaitEvent.from_payload(payload)

    assert back.progress == report()
    assert back.kind is KIND
    assert "https://" not in json.dumps(payload)
