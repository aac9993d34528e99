"""Specification of the SIS import job kind: its reference, its event form, its generic outcome."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_canvas_progress.core.events import WaitEvent, WaitStatus
from airflow_provider_canvas_progress.core.kinds import parse_job_ref
from airflow_provider_canvas_progress.core.kinds.sis_import import KIND, SisImportRef
from airflow_provider_canvas_progress.core.outcome import CancelMatcher, Outcome
from airflow_provider_canvas_progress.core.sis import SisImportState, parse_sis_import
from airflow_provider_canvas_progress.exceptions import InvalidPathSegmentError, InvalidProgressIdError

ids = st.integers(min_value=1, max_value=10**18)
accounts = st.one_of(
    ids.map(str),
    st.just("self"),
    st.text(min_size=1, max_size=20).filter(lambda t: t.strip()).map(lambda t: f"sis_account_id:{t}"),
)


@given(accounts, ids)
def test_a_reference_round_trips_through_its_string_form(account: str, import_id: int) -> None:
    ref = SisImportRef.of(account, import_id)
    kind, parsed = parse_job_ref(str(ref))
    assert kind is KIND
    assert parsed == ref
    assert parsed.api_path == f"/api/v1/accounts/{ref.account}/sis_imports/{import_id}"


@pytest.mark.parametrize("account", ["1/../users", "1?as_user_id=5", "", "abc", "sis_course_id:X", 0])
def test_an_account_that_is_not_an_account_id_is_refused(account: Any) -> None:
    with pytest.raises(InvalidPathSegmentError):
        SisImportRef.of(account, 5)


@pytest.mark.parametrize("text", ["sis_import:5", "sis_import:1/x", "progress:1/5", "sis_import:1/../5"])
def test_malformed_references_are_refused(text: str) -> None:
    with pytest.raises(InvalidProgressIdError):
        SisImportRef.parse(text)


def _import(state: str, warnings: int = 0, errors: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": 9,
        "workflow_state": state,
        "progress": 100,
        "created_at": "2026-11-30T02:00:00Z",
        "data": {"counts": {"users": 3}, "statistics": {"total_state_changes": 3}},
        "errors_attachment": {"id": 77, "url": "https://school.test/files/77/download?verifier=SECRET"},
    }
    inline = [["u.csv", f"w{i}"] for i in range(min(warnings, 24))]
    if warnings > 24:
        inline.append([f"and {warnings - 24} more warnings that were not included", "Download the error file."])
    if inline:
        body["processing_warnings"] = inline
    if errors:
        body["processing_errors"] = [["u.csv", f"e{i}"] for i in range(errors)]
    return body


@given(st.sampled_from([s.value for s in SisImportState]), st.integers(0, 60), st.integers(0, 3))
def test_the_event_form_round_trips_without_the_signed_link(state: str, warnings: int, errors: int) -> None:
    job = parse_sis_import(_import(state, warnings, errors))
    payload = KIND.to_dict(job)
    assert "SECRET" not in str(payload)
    again = KIND.from_dict(payload, source="test")
    assert again == job


def test_a_trigger_event_carries_an_sis_import() -> None:
    job = parse_sis_import(_import("imported_with_messages", warnings=30))
    ref = SisImportRef.of(1, 9)
    event = WaitEvent(WaitStatus.ENDED, "9", job, ref=str(ref))
    read = WaitEvent.from_payload(event.to_payload())
    assert read.progress == job
    assert read.kind is KIND


@pytest.mark.parametrize(
    ("state", "outcome"),
    [
        ("imported", Outcome.COMPLETED),
        ("imported_with_messages", Outcome.COMPLETED),
        ("failed_with_messages", Outcome.FAILED),
        ("aborted", Outcome.CANCELLED),
        ("importing", Outcome.PENDING),
    ],
)
def test_generic_outcomes_for_kind_agnostic_readers(state: str, outcome: Outcome) -> None:
    assert KIND.outcome(parse_sis_import(_import(state)), CancelMatcher()) is outcome


def test_a_queued_import_says_why_it_waits() -> None:
    job = parse_sis_import({**_import("created"), "started_at": None, "progress": 0})
    assert "one import at a time per root account" in KIND.poll_line(job)
