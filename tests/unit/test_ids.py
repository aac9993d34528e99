"""Specification of Progress references: every form a user may give, and every form refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_canvas_progress.core.errors import ForeignHostError, InvalidProgressIdError
from airflow_provider_canvas_progress.core.ids import ProgressRef, parse_id_text, parse_progress_ref
from airflow_provider_canvas_progress.core.progress import Progress, WorkflowState
from airflow_provider_canvas_progress.core.settings import CanvasSettings

ACCEPTED_FORMS = "Expected a Progress id (123), a global id (10000000000123 or 1~123)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (123, "123"),
        ("123", "123"),
        ("  123\n", "123"),
        (10000000000123, "10000000000123"),
        ("10000000000123", "10000000000123"),
        ("1~123", "10000000000123"),
        (" 1~123 ", "10000000000123"),
        ("12~7", "120000000000007"),
        ("0~5", "5"),
    ],
)
def test_ids_and_global_ids_are_read_as_decimal_strings(value: object, expected: str) -> None:
    assert parse_progress_ref(value) == ProgressRef(expected)


def test_shard_shorthand_equals_the_global_id() -> None:
    assert parse_progress_ref("1~123") == parse_progress_ref(10000000000123)


def test_progress_dict_from_xcom_is_read_by_its_id() -> None:
    assert parse_progress_ref({"id": "123", "workflow_state": "running"}) == ProgressRef("123")


def test_progress_instance_is_read_by_its_id() -> None:
    progress = Progress(id="10000000000123", workflow_state=WorkflowState.RUNNING)

    assert parse_progress_ref(progress) == ProgressRef("10000000000123")


def test_api_url_on_the_connections_host_is_read(settings: CanvasSettings) -> None:
    ref = parse_progress_ref("https://school.instructure.com/api/v1/progress/123", settings)

    assert ref == ProgressRef("123")
    assert ref.api_path == "/api/v1/progress/123"


@pytest.mark.parametrize(
    "url",
    [
        "https://school.instructure.com/api/v1/progress/123/",
        "https://SCHOOL.instructure.com/api/v1/progress/123",
        "https://school.instructure.com:443/api/v1/progress/123",
        "https://school.instructure.com/api/v1/progress/123?include=results",
    ],
)
def test_equivalent_spellings_of_the_same_origin_are_accepted(settings: CanvasSettings, url: str) -> None:
    assert parse_progress_ref(url, settings) == ProgressRef("123")


def test_lti_url_sets_the_lti_course(settings: CanvasSettings) -> None:
    ref = parse_progress_ref("https://school.instructure.com/api/lti/courses/7/progress/123", settings)

    assert ref == ProgressRef("123", lti_course_id="7")
    assert ref.api_path == "/api/lti/courses/7/progress/123"


def test_lti_url_accepts_shard_shorthand_for_both_ids(settings: CanvasSettings) -> None:
    ref = parse_progress_ref("/api/lti/courses/1~7/progress/1~123", settings)

    assert ref == ProgressRef("10000000000123", lti_course_id="10000000000007")


@pytest.mark.parametrize("settings_given", [True, False])
def test_path_only_url_needs_no_host_check(settings: CanvasSettings, settings_given: bool) -> None:
    ref = parse_progress_ref("/api/v1/progress/123", settings if settings_given else None)

    assert ref == ProgressRef("123")


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/api/v1/progress/123",
        "http://school.instructure.com/api/v1/progress/123",
        "https://school.instructure.com:8443/api/v1/progress/123",
        "https://school.instructure.com.evil.example.com/api/v1/progress/123",
        "https://school.instructure.com@evil.example.com/api/v1/progress/123",
        "//evil.example.com/api/v1/progress/123",
        "ftp://school.instructure.com/api/v1/progress/123",
    ],
)
def test_url_on_another_host_scheme_or_port_is_refused(settings: CanvasSettings, url: str) -> None:
    with pytest.raises(ForeignHostError) as caught:
        parse_progress_ref(url, settings)

    assert "https://school.instructure.com" in str(caught.value)
    assert "'canvas_default'" in str(caught.value)


def test_foreign_url_in_a_progress_dict_is_refused(settings: CanvasSettings) -> None:
    with pytest.raises(ForeignHostError):
        parse_progress_ref({"id": "https://evil.example.com/api/v1/progress/1"}, settings)


@pytest.mark.parametrize(
    "url", ["https://school.instructure.com/api/v1/progress/123", "//school.instructure.com/api/v1/progress/123"]
)
def test_absolute_url_without_settings_is_refused(url: str) -> None:
    with pytest.raises(InvalidProgressIdError, match="no connection to check its host against"):
        parse_progress_ref(url)


def test_lti_course_id_is_none_for_api_references() -> None:
    assert ProgressRef("5").lti_course_id is None


MALFORMED = [
    "",
    "   ",
    0,
    "0",
    -1,
    "-1",
    True,
    False,
    None,
    1.0,
    12.5,
    "abc",
    "12a",
    "1 2",
    "+12",
    "1_000",
    "0x1f",
    "1e3",
    "١٢٣",  # Arabic-Indic digits: isdigit() is true, but they are not a Canvas id
    "1~",
    "~123",
    "1~0",
    "1~~2",
    "1~10000000000000",
    "9" * 5000,
    b"123",
    [123],
    {"progress": 123},
    "/api/v1/courses/123",
    "/api/v1/progress/",
    "/api/v1/progress/abc",
    "/api/v1/progress/123/cancel",
    "https://school.instructure.com/api/v1/courses/1",
    "https://school.instructure.com/",
    "https://[school.instructure.com/api/v1/progress/123",
]


@pytest.mark.parametrize("value", MALFORMED, ids=lambda value: repr(value)[:30])
def test_malformed_reference_is_refused_naming_the_parameter_and_the_accepted_forms(
    settings: CanvasSettings, value: object
) -> None:
    with pytest.raises(InvalidProgressIdError) as caught:
        parse_progress_ref(value, settings, what="progress_id")

    assert "progress_id" in str(caught.value)
    assert ACCEPTED_FORMS in str(caught.value)


def test_message_names_the_parameter_it_was_given_as(settings: CanvasSettings) -> None:
    with pytest.raises(InvalidProgressIdError, match=r"^wait_for "):
        parse_progress_ref("abc", settings, what="wait_for")


def test_dict_id_error_names_the_dict_key() -> None:
    with pytest.raises(InvalidProgressIdError, match=r"progress_id\['id'\]"):
        parse_progress_ref({"id": "abc"})


def test_dict_without_id_lists_its_keys() -> None:
    with pytest.raises(InvalidProgressIdError, match=r"\['progress', 'url'\]"):
        parse_progress_ref({"url": "x", "progress": 1})


def test_invalid_id_is_a_configuration_error_and_a_value_error() -> None:
    # Nothing was sent to Canvas: it is the input that is wrong.
    with pytest.raises(ValueError, match="Expected"):
        parse_progress_ref("abc")


@pytest.mark.parametrize(("text", "expected"), [("7", "7"), ("007", "7"), ("2~3", "20000000000003")])
def test_parse_id_text_normalises_to_the_global_decimal_form(text: str, expected: str) -> None:
    assert parse_id_text(text) == expected


@given(st.integers(min_value=1))
def test_property_any_positive_int_round_trips(number: int) -> None:
    assert parse_progress_ref(number) == ProgressRef(str(number))
    assert parse_progress_ref(str(number)) == ProgressRef(str(number))
    assert parse_progress_ref({"id": number}) == ProgressRef(str(number))


@given(st.integers(min_value=1), st.sampled_from(["/api/v1/progress/{}", "/api/v1/progress/{}/"]))
def test_property_any_positive_id_round_trips_through_its_url(number: int, template: str) -> None:
    assert parse_progress_ref(template.format(number)) == ProgressRef(str(number))


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=10**13 - 1))
def test_property_shard_shorthand_is_shard_times_ten_to_the_13_plus_local(shard: int, local: int) -> None:
    assert parse_progress_ref(f"{shard}~{local}") == ProgressRef(str(shard * 10**13 + local))


@given(st.integers(max_value=0))
def test_property_zero_and_negative_ints_are_refused(number: int) -> None:
    with pytest.raises(InvalidProgressIdError):
        parse_progress_ref(number)


@given(st.text(max_size=30))
def test_property_any_text_is_either_an_id_or_refused_with_invalid_progress_id(text: str) -> None:
    try:
        ref = parse_progress_ref(text)
    except InvalidProgressIdError:
        return
    assert ref.id.isdigit()
    assert int(ref.id) > 0
