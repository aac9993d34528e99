"""Specification of the account report model: states, the strict parser, outcomes, parameters."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_canvas_progress.core.errors import (
    CanvasConfigurationError,
    CanvasProgressFailedError,
    CanvasResponseError,
    CanvasUnknownStateError,
)
from airflow_provider_canvas_progress.core.report_parameters import build_report_parameters
from airflow_provider_canvas_progress.core.report_refs import ReportRef, check_report_name
from airflow_provider_canvas_progress.core.reports import ReportOutcome, ReportStatus, parse_report, report_outcome

SIGNED = "https://school.example/files/9001/download?download_frd=1&verifier=0123456789abcdef"


def report(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": 12,
        "progress": 100,
        "parameters": {"users": "true", "locale": "en", "extra_text": "Term: All Terms; Reports: users"},
        "current_line": 120,
        "status": "complete",
        "report": "provisioning_csv",
        "created_at": "2026-11-30T15:00:00Z",
        "started_at": "2026-11-30T15:00:01Z",
        "ended_at": "2026-11-30T15:00:05Z",
        "file_url": "https://school.example/accounts/1/files/9001/download",
        "attachment": {
            "id": 9001,
            "filename": "provisioning_csv_30_Nov_2026_12.csv",
            "display_name": "provisioning_csv_30_Nov_2026_12.csv",
            "content-type": "text/csv",
            "size": 2048,
            "url": SIGNED,
        },
    }
    body.update(changes)
    return body


# -- states ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["created", "running", "compiling"])
def test_created_running_and_compiling_are_pending(value: str) -> None:
    assert ReportStatus.parse(value).is_pending


@pytest.mark.parametrize("value", ["complete", "error", "aborted", "deleted"])
def test_complete_error_aborted_and_deleted_are_terminal(value: str) -> None:
    assert ReportStatus.parse(value).is_terminal


@pytest.mark.parametrize("value", ["completed", "COMPLETE", "", None, 3, "success"])
def test_an_unknown_status_fails_closed_naming_it(value: object) -> None:
    with pytest.raises(CanvasUnknownStateError, match="not treated as success"):
        ReportStatus.parse(value, report_id="12")


# -- parser ----------------------------------------------------------------------------------------


def test_a_complete_report_is_read_with_its_attachment() -> None:
    parsed = parse_report(report())

    assert parsed.id == "12"
    assert parsed.report == "provisioning_csv"
    assert parsed.status is ReportStatus.COMPLETE
    assert parsed.progress == 100
    assert parsed.attachment is not None
    assert (parsed.attachment.id, parsed.attachment.size) == ("9001", 2048)
    assert parsed.attachment.content_type == "text/csv"
    assert parsed.ended_at is not None
    assert parsed.ended_at.second == 5


def test_string_ids_are_read_as_ids() -> None:
    parsed = parse_report(report(id="10000000000012", attachment={**report()["attachment"], "id": "9001"}))

    assert parsed.id == "10000000000012"
    assert parsed.attachment is not None
    assert parsed.attachment.id == "9001"


def test_a_created_report_has_no_file_and_no_start() -> None:
    parsed = parse_report(
        report(status="created", progress=0, current_line=None, started_at=None, ended_at=None, file_url=None)
        | {"attachment": None, "parameters": {}}
    )

    assert parsed.is_pending
    assert parsed.attachment is None
    assert parsed.started_at is None


def test_the_signed_links_never_appear_in_the_repr() -> None:
    parsed = parse_report(report())

    assert "verifier" not in repr(parsed)
    assert "files/9001" not in repr(parsed)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("id", None),
        ("id", "abc"),
        ("id", True),
        ("report", None),
        ("progress", "100"),
        ("progress", -1),
        ("parameters", ["users"]),
        ("created_at", "yesterday"),
        ("attachment", {"filename": "x.csv"}),
        ("file_url", 7),
    ],
)
def test_a_malformed_report_is_refused_naming_the_field(key: str, value: object) -> None:
    with pytest.raises(CanvasResponseError, match=key if key != "id" else "'id'"):
        parse_report(report(**{key: value}), source="GET /api/v1/accounts/1/reports/provisioning_csv/12")


def test_a_non_object_is_refused() -> None:
    with pytest.raises(CanvasResponseError, match="list"):
        parse_report([report()])


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.none(), st.integers(), st.text(max_size=8)), max_size=6))
def test_the_parser_raises_only_its_own_errors(extra: dict[str, Any]) -> None:
    with contextlib.suppress(CanvasResponseError, CanvasUnknownStateError):
        parse_report({**report(), **extra})


# -- outcomes --------------------------------------------------------------------------------------


def test_an_error_report_says_progress_100_and_its_reason_is_extra_text() -> None:
    reason = "Failed, please report the following error code to your system administrator: ErrorReport:42;"
    parsed = parse_report(report(status="error", attachment=None, file_url=None, parameters={"extra_text": reason}))

    assert parsed.progress == 100
    assert report_outcome(parsed) is ReportOutcome.ERROR
    assert parsed.error_message == reason
    assert "ErrorReport:42" in parsed.describe()


def test_an_error_report_without_extra_text_says_canvas_gave_no_reason() -> None:
    parsed = parse_report(report(status="error", progress=75, attachment=None, parameters={"locale": "en"}))

    assert "no reason" in parsed.error_message


def test_pending_reports_have_no_outcome_yet() -> None:
    assert report_outcome(parse_report(report(status="compiling", progress=99))) is None


@pytest.mark.parametrize("status", ["complete", "aborted"])
def test_complete_and_aborted_are_outcomes(status: str) -> None:
    assert report_outcome(parse_report(report(status=status))) is ReportOutcome(status)


def test_a_deleted_report_fails_closed() -> None:
    with pytest.raises(CanvasProgressFailedError, match="deleted"):
        report_outcome(parse_report(report(status="deleted")))


def test_fail_on_accepts_only_report_outcomes() -> None:
    assert ReportOutcome.parse_many(["error", " Aborted "]) == {ReportOutcome.ERROR, ReportOutcome.ABORTED}
    with pytest.raises(CanvasConfigurationError, match="deleted"):
        ReportOutcome.parse_many(["deleted"])


# -- the XCom result -------------------------------------------------------------------------------


def test_the_result_names_the_file_and_never_a_link() -> None:
    result = parse_report(report()).result()

    assert result["report_id"] == "12"
    assert result["status"] == "complete"
    assert (result["attachment_id"], result["filename"], result["size"], result["content_type"]) == (
        "9001",
        "provisioning_csv_30_Nov_2026_12.csv",
        2048,
        "text/csv",
    )
    text = json.dumps(result)
    assert "verifier" not in text
    assert "/download" not in text


# -- parameters ------------------------------------------------------------------------------------


def test_skip_message_is_on_by_default() -> None:
    assert build_report_parameters("grade_export_csv") == {"skip_message": True}


@pytest.mark.parametrize("off", [{"skip_message": False}, {"parameters": {"skip_message": "false"}}])
def test_turning_the_message_on_leaves_the_key_out(off: dict[str, Any]) -> None:
    # Canvas checks only that parameters["skip_message"] is truthy in Ruby, where "false" is.
    parameters = off.get("parameters")
    skip = off.get("skip_message", True)
    assert "skip_message" not in build_report_parameters("grade_export_csv", parameters, skip_message=skip)


@pytest.mark.parametrize(
    "term",
    [5, "5", "1~5", "sis_term_id:T2026FA", "sis_integration_id:abc", "active_terms", "5, 6,sis_term_id:X"],
)
def test_term_ids_in_every_form_canvas_accepts(term: object) -> None:
    built = build_report_parameters("grade_export_csv", {"enrollment_term_id": term})

    assert built["enrollment_term_id"] in (term, str(term).strip())


@pytest.mark.parametrize("term", ["", "  ", None])
def test_an_empty_term_is_dropped_as_canvas_ignores_it(term: object) -> None:
    assert "enrollment_term_id" not in build_report_parameters("grade_export_csv", {"enrollment_term_id": term})


@pytest.mark.parametrize("term", ["fall", "5,fall", "sis_term_id:", 0, -3, True, "5;6", ["5"]])
def test_a_term_canvas_would_refuse_is_refused_before_sending(term: object) -> None:
    with pytest.raises(CanvasConfigurationError, match="enrollment_term_id"):
        build_report_parameters("grade_export_csv", {"enrollment_term_id": term})


@pytest.mark.parametrize("report_name", ["provisioning_csv", "sis_export_csv"])
def test_exporters_need_an_object_flag(report_name: str) -> None:
    with pytest.raises(CanvasConfigurationError, match="object flag"):
        build_report_parameters(report_name, {"users": "false", "include_deleted": True})
    assert build_report_parameters(report_name, {"users": True})["users"] is True


def test_nested_values_and_bracketed_keys_are_refused() -> None:
    with pytest.raises(CanvasConfigurationError, match="nested"):
        build_report_parameters("grade_export_csv", {"nested": {"a": 1}})
    with pytest.raises(CanvasConfigurationError, match="key"):
        build_report_parameters("grade_export_csv", {"users]": True})


@pytest.mark.parametrize("name", ["provisioning_csv", "grade_export_csv", " last_user_access_csv "])
def test_report_names_are_path_safe_words(name: str) -> None:
    assert check_report_name(name) == name.strip()


@pytest.mark.parametrize("name", ["", "../progress", "Provisioning", "a/b", "x%2F", None, 5, "a" * 101])
def test_anything_else_is_not_a_report_name(name: object) -> None:
    with pytest.raises(CanvasConfigurationError, match="not a report name"):
        check_report_name(name)


def test_a_report_reference_round_trips_through_its_string_form() -> None:
    ref = ReportRef.of(1, "grade_export_csv", "12")

    assert str(ref) == "account_report:1/grade_export_csv/12"
    assert ReportRef.parse(str(ref)) == ref
    assert ref.api_path == "/api/v1/accounts/1/reports/grade_export_csv/12"


@pytest.mark.parametrize(
    "text", ["progress:12", "account_report:1/grade_export_csv", "account_report:1/../x/12", "account_report:1/a/b"]
)
def test_anything_else_is_not_a_report_reference(text: str) -> None:
    with pytest.raises(CanvasConfigurationError):
        ReportRef.parse(text)


def test_the_json_form_reads_back_the_same_report_without_links() -> None:
    parsed = parse_report(report())

    again = parse_report(json.loads(json.dumps(parsed.to_json())))

    assert again == parsed
    assert again.attachment is not None
    assert again.attachment.url is None
    assert "verifier" not in json.dumps(parsed.to_json())
    assert "/download" not in json.dumps(parsed.to_json())
