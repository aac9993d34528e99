"""A ProgressRef's string form round-trips, and it names the job's kind."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_canvas_progress.core.ids import SHARD_FACTOR, ProgressRef, parse_progress_ref
from airflow_provider_canvas_progress.core.kinds import parse_job_ref
from airflow_provider_canvas_progress.core.kinds.progress import KIND as PROGRESS
from airflow_provider_canvas_progress.exceptions import InvalidProgressIdError

ids = st.integers(min_value=1, max_value=SHARD_FACTOR * 1000)


@given(ids, st.none() | ids)
def test_parse_of_str_gives_the_same_reference(progress: int, course: int | None) -> None:
    ref = ProgressRef(str(progress), lti_course_id=None if course is None else str(course))
    assert ProgressRef.parse(str(ref)) == ref


@pytest.mark.parametrize(
    ("given", "text"),
    [
        ("123", "progress:123"),
        ("10000000000123", "progress:10000000000123"),
        ("1~123", "progress:10000000000123"),
    ],
)
def test_local_global_and_shard_forms_have_one_string_form(given: str, text: str) -> None:
    ref = parse_progress_ref(given)
    assert str(ref) == text
    assert ProgressRef.parse(text) == ref


def test_an_lti_reference_keeps_its_course() -> None:
    ref = ProgressRef("5", lti_course_id="7")
    assert str(ref) == "progress:lti/7/5"
    assert ProgressRef.parse("progress:lti/7/5").api_path == "/api/lti/courses/7/progress/5"


def test_the_prefix_names_the_kind() -> None:
    kind, ref = parse_job_ref("progress:42")
    assert kind is PROGRESS
    assert ref == ProgressRef("42")


def test_a_parsed_reference_is_taken_as_is_by_the_user_form_parser() -> None:
    ref = ProgressRef("9", lti_course_id="3")
    assert parse_progress_ref(ref) is ref


@pytest.mark.parametrize("text", ["progress:", "progress:abc", "progress:lti/7", "progress:1/../2", "progress:-1"])
def test_anything_else_is_refused_with_a_typed_error(text: str) -> None:
    with pytest.raises(InvalidProgressIdError):
        ProgressRef.parse(text)


def test_an_unknown_kind_is_refused_naming_the_known_ones() -> None:
    # sis_import became a kind; a kind no provider version has stands in for "written by a newer one".
    with pytest.raises(InvalidProgressIdError, match=r"Unknown Canvas job kind 'gradebook_export'.*'progress'"):
        parse_job_ref("gradebook_export:1/456")
