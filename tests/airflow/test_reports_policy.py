"""How a task reads a report's ending: fail_on, the error's reason, and a deleted report failing closed."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_canvas_progress.compat import AirflowFailException
from airflow_provider_canvas_progress.core.reports import ReportOutcome, parse_report
from airflow_provider_canvas_progress.exceptions import CanvasConfigurationError, CanvasJobCancelled, CanvasJobFailed
from airflow_provider_canvas_progress.reports_waiting import ReportOutput, ReportPolicy

REASON = "Failed, please report the following error code to your system administrator: ErrorReport:9;"


def report(status: str, **changes: Any) -> Any:
    return parse_report({"id": 5, "report": "grade_export_csv", "status": status, "progress": 100, **changes})


def test_an_error_in_fail_on_fails_without_retry_naming_canvas_reason() -> None:
    with pytest.raises(CanvasJobFailed, match="ErrorReport:9") as raised:
        ReportPolicy.of(["error"]).check(report("error", parameters={"extra_text": REASON}))

    assert isinstance(raised.value, AirflowFailException)


def test_an_abort_in_fail_on_is_a_cancel() -> None:
    with pytest.raises(CanvasJobCancelled):
        ReportPolicy.of(["aborted"]).check(report("aborted"))


@pytest.mark.parametrize("status", ["complete", "error", "aborted"])
def test_outside_fail_on_every_ending_is_an_outcome(status: str) -> None:
    assert ReportPolicy.of([]).check(report(status)) is ReportOutcome(status)


def test_a_deleted_report_fails_whatever_fail_on_says() -> None:
    with pytest.raises(CanvasJobFailed, match="deleted"):
        ReportPolicy.of([]).check(report("deleted"))


def test_fail_on_may_be_one_outcome_as_text() -> None:
    assert ReportPolicy.of("complete ").fail_on == {ReportOutcome.COMPLETE}


@pytest.mark.parametrize("fail_on", [["failed"], ["deleted"], ["cancelled"]])
def test_fail_on_takes_report_outcomes_only(fail_on: list[str]) -> None:
    with pytest.raises(CanvasConfigurationError, match="allowed values"):
        ReportPolicy.of(fail_on)


@pytest.mark.parametrize(
    ("changes", "match"),
    [({"max_bytes": 0}, "max_bytes"), ({"max_bytes": True}, "max_bytes"), ({"timeout": 0.0}, "download_timeout")],
)
def test_output_limits_that_cannot_work_are_refused(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(CanvasConfigurationError, match=match):
        ReportOutput(path="/tmp/x/", **changes).check()
