"""Specification of durable retries: which job a try of a job-starting task works on."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_canvas_progress.core.durable import (
    Action,
    EarlierImportQuery,
    ImportSeen,
    ReadBack,
    StartedRecord,
    decide,
    find_earlier_import,
    imports_listed,
    ref_to_read,
    without_store,
)
from airflow_provider_canvas_progress.core.stall import Observation

STORED = StartedRecord("sis_import:1/123", 1)


def _read_back(state: str, completion: float | None, *, pending: bool, ended_well: bool = False) -> ReadBack:
    return ReadBack("SIS import", "123", Observation(state, completion), pending=pending, ended_well=ended_well)


# --- the decision -----------------------------------------------------------------------------


def test_retry_re_attaches_to_a_pending_job_and_says_so() -> None:
    decision = decide(STORED, _read_back("importing", 40, pending=True), durable=True, try_number=2)

    assert decision.action is Action.REATTACH
    assert decision.record == STORED
    assert decision.line == "try 2 re-attached to SIS import 123 started by try 1 (importing, 40 %)."


def test_retry_returns_the_result_of_a_job_that_ended_well_and_starts_nothing() -> None:
    decision = decide(
        STORED, _read_back("imported_with_messages", 100, pending=False, ended_well=True), durable=True, try_number=3
    )

    assert decision.action is Action.RETURN
    assert decision.record == STORED
    assert "try 3 found SIS import 123 started by try 1 already ended (imported_with_messages, 100 %)" in decision.line


def test_retry_starts_a_new_job_when_the_stored_one_ended_badly() -> None:
    decision = decide(STORED, _read_back("failed_with_messages", 12, pending=False), durable=True, try_number=2)

    assert decision.action is Action.START
    assert decision.record is None
    assert decision.line == "SIS import 123 started by try 1 ended failed_with_messages, 12 %: try 2 starts a new job."


def test_retry_starts_a_new_job_when_the_stored_one_is_gone_from_canvas() -> None:
    decision = decide(STORED, None, durable=True, try_number=2)

    assert decision.action is Action.START
    assert "sis_import:1/123 started by try 1 is no longer found on Canvas" in decision.line


def test_first_try_starts_a_new_job() -> None:
    decision = decide(None, None, durable=True, try_number=1)

    assert decision.action is Action.START
    assert decision.line.startswith("try 1 starts a new job")


def test_durable_false_starts_a_new_job_and_leaves_the_earlier_one_alone() -> None:
    decision = decide(STORED, _read_back("importing", 40, pending=True), durable=False, try_number=2)

    assert decision.action is Action.START
    assert (
        decision.line == "durable=False: try 2 starts a new job (the job of try 1, sis_import:1/123, is left as it is)."
    )


def test_the_stored_job_is_read_back_only_when_durable_and_stored() -> None:
    assert ref_to_read(STORED, durable=True) == "sis_import:1/123"
    assert ref_to_read(STORED, durable=False) is None
    assert ref_to_read(None, durable=True) is None


def test_without_a_store_durable_true_is_logged_as_having_no_effect() -> None:
    decision = without_store(durable=True, why="Airflow 2.11 has no task state store")

    assert decision.action is Action.START
    assert decision.line == (
        "durable=True has no effect here (Airflow 2.11 has no task state store): this try starts a new job."
    )
    assert without_store(durable=False, why="x").action is Action.START


read_backs = st.builds(
    ReadBack,
    st.just("Canvas Progress"),
    st.integers(1, 10**12).map(str),
    st.builds(
        Observation, st.sampled_from(["queued", "running", "completed", "failed"]), st.none() | st.floats(0, 100)
    ),
    st.booleans(),
    st.booleans(),
)


@given(st.none() | st.builds(StartedRecord, st.just("progress:9"), st.integers(1, 50)), st.none() | read_backs)
def test_only_a_durable_task_with_a_stored_job_ever_avoids_starting_one(
    stored: StartedRecord | None, read_back: ReadBack | None
) -> None:
    for durable in (True, False):
        decision = decide(stored, read_back, durable=durable, try_number=2)
        if decision.action is not Action.START:
            assert durable
            assert stored is not None
            assert read_back is not None
            assert decision.record == stored
            assert decision.action is (Action.REATTACH if read_back.pending else Action.RETURN)
        else:
            assert decision.record is None


# --- the record in the task state store ---------------------------------------------------------


@given(st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s), st.integers(0, 10_000))
def test_started_record_round_trips_through_json(ref: str, try_number: int) -> None:
    record = StartedRecord(ref, try_number)

    assert StartedRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "sis_import:1/123",
        {"ref": "progress:1", "try": 1},
        {"v": 2, "ref": "progress:1", "try": 1},
        {"v": 1, "ref": "", "try": 1},
        {"v": 1, "ref": "progress:1", "try": True},
        {"v": 1, "ref": "progress:1", "try": -1},
        {"v": 1, "ref": 5, "try": 1},
    ],
)
def test_a_stored_value_of_another_shape_reads_as_nothing_stored(payload: object) -> None:
    assert StartedRecord.from_dict(payload) is None


# --- finding a SIS import again without a store -------------------------------------------------

RUN_START = 1_764_468_000.0  # 2025-11-30T02:00:00Z
NOW = RUN_START + 3600


def _seen(job_id: str, minutes: float, identifier: str | None = "nightly", user: str | None = "7") -> ImportSeen:
    return ImportSeen(job_id, RUN_START + minutes * 60, "importing", identifier, user)


def _query(identifier: str | None = "nightly", user: str | None = "7") -> EarlierImportQuery:
    return EarlierImportQuery(RUN_START, NOW, identifier, user)


def test_the_one_import_of_this_run_with_its_identifier_and_user_is_found() -> None:
    found = find_earlier_import([_seen("200", 5), _seen("150", -60 * 24)], _query())

    assert found.found == _seen("200", 5)
    assert "found SIS import 200 (importing) with diffing_data_set_identifier 'nightly' and by user 7" in found.line


def test_imports_from_before_the_run_started_are_not_this_runs() -> None:
    assert find_earlier_import([_seen("150", -1)], _query()).found is None


def test_an_import_with_another_identifier_or_user_is_not_this_tasks() -> None:
    entries = [_seen("201", 5, identifier="other"), _seen("202", 6, user="8")]

    assert find_earlier_import(entries, _query()).found is None


def test_two_matching_imports_make_the_search_uncertain_and_the_try_uploads() -> None:
    found = find_earlier_import([_seen("200", 5), _seen("201", 9)], _query())

    assert found.found is None
    assert "2 SIS imports" in found.line
    assert "cannot tell which one" in found.line


def test_the_search_is_off_without_an_identifier_or_a_known_user() -> None:
    found = find_earlier_import([_seen("200", 5, identifier=None, user=None)], _query(identifier=None, user=None))

    assert found.found is None
    assert "nothing ties an import to this task" in found.line


def test_creation_window_and_user_alone_find_the_one_import_by_that_user() -> None:
    found = find_earlier_import([_seen("200", 5, identifier=None), _seen("201", 6, user="8")], _query(identifier=None))

    assert found.found is not None
    assert found.found.id == "200"


def test_the_index_answer_is_read_into_entries_and_unreadable_ones_are_left_out() -> None:
    payload = {
        "sis_imports": [
            {
                "id": 200,
                "created_at": "2025-11-30T02:05:00Z",
                "workflow_state": "importing",
                "diffing_data_set_identifier": "nightly",
                "user": {"id": 7, "name": "SIS bot"},
            },
            {"id": 201, "created_at": "not a time", "workflow_state": "created"},
            {"id": True, "created_at": "2025-11-30T02:05:00Z"},
            {"id": 202, "created_at": "2025-11-30T02:06:00"},
            "junk",
        ]
    }

    assert imports_listed(payload) == [_seen("200", 5)]
    assert imports_listed({"errors": []}) == []
