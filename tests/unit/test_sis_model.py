"""Specification of the SIS import model: states, outcomes, threshold aborts and the result a DAG keeps."""

from __future__ import annotations

import json
from typing import Any

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_canvas_progress.core.errors import (
    CanvasConfigurationError,
    CanvasResponseError,
    CanvasUnknownStateError,
)
from airflow_provider_canvas_progress.core.sis import SisImportState, SisOutcome, parse_sis_import

PENDING = ["initializing", "created", "importing", "cleanup_batch", "restoring"]
ENDINGS = {
    "imported": "imported",
    "imported_with_messages": "imported_with_messages",
    "failed": "failed",
    "failed_with_messages": "failed",
    "aborted": "aborted",
    "restored": "restored",
    "partially_restored": "restored",
}


def payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": 17,
        "created_at": "2026-11-30T02:00:00Z",
        "started_at": "2026-11-30T02:00:05Z",
        "ended_at": "2026-11-30T02:03:00Z",
        "updated_at": "2026-11-30T02:03:00Z",
        "progress": 100,
        "workflow_state": "imported",
        "data": {
            "import_type": "instructure_csv",
            "counts": {"users": 120, "enrollments": 900, "error_count": 0, "warning_count": 0},
            "statistics": {"total_state_changes": 1020, "Enrollment": {"created": 900}},
        },
        "batch_mode": None,
        "batch_mode_term_id": None,
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize("state", PENDING)
def test_pending_states_have_no_outcome_yet(state: str) -> None:
    sis_import = parse_sis_import(payload(workflow_state=state))
    assert sis_import.is_pending
    assert sis_import.outcome is SisOutcome.PENDING


@pytest.mark.parametrize(("state", "outcome"), ENDINGS.items())
def test_terminal_states_map_to_their_outcome(state: str, outcome: str) -> None:
    sis_import = parse_sis_import(payload(workflow_state=state))
    assert not sis_import.is_pending
    assert sis_import.outcome.value == outcome


def test_every_state_of_canvas_is_known() -> None:
    assert {s.value for s in SisImportState} == set(PENDING) | set(ENDINGS)


@given(st.text(min_size=1).filter(lambda s: s not in {x.value for x in SisImportState}))
def test_an_unknown_state_fails_closed(state: str) -> None:
    with pytest.raises(CanvasUnknownStateError, match="not treated as success"):
        parse_sis_import(payload(workflow_state=state))


@given(st.one_of(st.none(), st.integers(), st.lists(st.text()), st.booleans()))
def test_a_non_string_state_fails_closed(state: Any) -> None:
    with pytest.raises(CanvasUnknownStateError):
        parse_sis_import(payload(workflow_state=state))


def test_counts_and_statistics_are_read_from_data() -> None:
    sis_import = parse_sis_import(payload())
    assert sis_import.counts["enrollments"] == 900
    assert sis_import.statistics["Enrollment"] == {"created": 900}


def test_threshold_abort_names_the_object_the_deletes_and_the_threshold() -> None:
    warning = ["", "31 enrollments would be deleted and exceeds the set threshold of 10%"]
    sis_import = parse_sis_import(payload(workflow_state="aborted", processing_warnings=[warning]))
    threshold = sis_import.threshold_abort
    assert threshold is not None
    assert (threshold.object, threshold.deletes, threshold.threshold) == ("enrollments", 31, 10)
    assert "change_threshold" in sis_import.describe()


def test_an_abort_without_the_threshold_warning_is_a_user_abort() -> None:
    sis_import = parse_sis_import(payload(workflow_state="aborted", ended_at=None))
    assert sis_import.threshold_abort is None
    assert "aborted by a user" in sis_import.describe()


def test_the_threshold_warning_on_an_import_that_was_not_aborted_is_no_abort() -> None:
    warning = ["", "3 courses would be deleted and exceeds the set threshold of 10%"]
    assert parse_sis_import(payload(processing_warnings=[warning])).threshold_abort is None


def test_the_and_n_more_pair_is_counted_not_kept() -> None:
    inline = [["users.csv", f"No login_id given for user u{i}"] for i in range(24)]
    inline.append(["and 76 more warnings that were not included", "Download the error file to see all errors."])
    sis_import = parse_sis_import(payload(workflow_state="imported_with_messages", processing_warnings=inline))
    assert len(sis_import.warnings) == 24
    assert sis_import.warnings_total == 100


def test_result_keeps_the_attachment_id_but_never_its_signed_url() -> None:
    attachment = {"id": 9001, "url": "https://school.test/files/9001/download?verifier=SECRET-JWT"}
    body = payload(workflow_state="failed_with_messages", errors_attachment=attachment)
    body["processing_errors"] = [["sis.zip", "Invalid UTF-8"]]
    result = parse_sis_import(body).to_result()
    assert result["errors_attachment_id"] == "9001"
    assert result["errors"] == [["sis.zip", "Invalid UTF-8"]]
    assert result["outcome"] == "failed"
    assert "SECRET-JWT" not in json.dumps(result)


def test_a_crash_keeps_canvas_error_message() -> None:
    body = payload(workflow_state="failed", data={"error_message": "undefined method", "stack_trace": "..."})
    sis_import = parse_sis_import(body)
    assert sis_import.crash_message == "undefined method"
    assert "stack_trace" not in json.dumps(sis_import.to_result())


def test_string_ids_are_read() -> None:
    assert parse_sis_import(payload(id="10000000000017", batch_mode_term_id="4")).id == "10000000000017"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id": None}, "'id'"),
        ({"id": "abc"}, "'id'"),
        ({"progress": "50"}, "'progress'"),
        ({"created_at": "yesterday"}, "'created_at'"),
        ({"processing_errors": "boom"}, "'processing_errors'"),
        ({"data": []}, "'data'"),
    ],
)
def test_a_malformed_import_names_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(CanvasResponseError, match=field):
        parse_sis_import(payload(**overrides))


def test_a_non_object_is_refused() -> None:
    with pytest.raises(CanvasResponseError, match="where a SIS import was expected"):
        parse_sis_import([1, 2])


def test_an_initializing_import_is_abandoned_after_ten_minutes() -> None:
    sis_import = parse_sis_import(payload(workflow_state="initializing"))
    created = pendulum.datetime(2026, 11, 30, 2, 0, 0)
    assert not sis_import.is_abandoned(created.add(minutes=9))
    assert sis_import.is_abandoned(created.add(minutes=11))


def test_fail_on_accepts_the_endings_and_refuses_the_rest() -> None:
    assert SisOutcome.parse_many(["failed", "ABORTED "]) == {SisOutcome.FAILED, SisOutcome.ABORTED}
    assert SisOutcome.parse_many([]) == frozenset()
    with pytest.raises(CanvasConfigurationError, match="pending"):
        SisOutcome.parse_many(["pending"])


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_progress_is_clamped_to_a_percentage(value: int) -> None:
    assert 0 <= (parse_sis_import(payload(progress=value)).progress or 0) <= 100


@given(st.sampled_from(list(ENDINGS) + PENDING), st.integers(0, 60))
def test_canvas_shape_round_trips_without_the_signed_url(state: str, warnings: int) -> None:
    inline = [["users.csv", f"row {i}"] for i in range(min(warnings, 24))]
    if warnings > 24:
        inline.append([f"and {warnings - 24} more warnings that were not included", "Download the error file."])
    body = payload(workflow_state=state, processing_warnings=inline or None)
    body["errors_attachment"] = {"id": 5, "url": "https://school.test/files/5/download?verifier=SECRET"}
    sis_import = parse_sis_import(body)
    again = parse_sis_import(sis_import.to_payload())
    assert again == sis_import
    assert "SECRET" not in json.dumps(sis_import.to_payload())


def test_an_abort_whose_warnings_were_cut_needs_every_message_to_tell_its_cause() -> None:
    inline = [["users.csv", f"row {i}"] for i in range(24)]
    inline.append(["and 1 more warnings that were not included", "Download the error file to see all errors."])
    sis_import = parse_sis_import(payload(workflow_state="aborted", processing_warnings=inline))
    assert sis_import.abort_cause_hidden
    every = [{"file": f, "message": m} for f, m in sis_import.warnings]
    every.append({"file": "", "message": "40 enrollments would be deleted and exceeds the set threshold of 5%"})
    told = sis_import.with_messages(every)
    assert not told.abort_cause_hidden
    assert told.threshold_abort is not None
    assert (told.threshold_abort.deletes, told.threshold_abort.threshold) == (40, 5)
