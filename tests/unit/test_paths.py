"""Path segments: only the id forms Canvas accepts, refused otherwise before anything is sent."""

from __future__ import annotations

import pytest

from airflow_provider_canvas_progress.core.paths import segment
from airflow_provider_canvas_progress.exceptions import CanvasConfigurationError, InvalidPathSegmentError


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, "1"), ("123", "123"), (" 42 ", "42"), ("10000000000123", "10000000000123"), ("1~123", "1~123")],
)
def test_decimal_global_and_shard_ids_are_accepted(value: object, expected: str) -> None:
    assert segment(value, "account_id") == expected


def test_sis_ids_are_accepted_where_canvas_allows_them_and_percent_encoded() -> None:
    assert segment("sis_course_id:MATH 101/A?", "course_id", sis="course") == "sis_course_id:MATH%20101%2FA%3F"
    assert segment("sis_account_id:district", "account_id", sis="account") == "sis_account_id:district"


@pytest.mark.parametrize(
    "value",
    [
        "1/../../users/self",
        "1?as_user_id=5",
        "1#x",
        "..",
        "",
        "0",
        "-1",
        "1.5",
        "self",
        "\uff11\uff12\uff13",  # full-width digits
        "1" * 300,
        True,
        None,
        1.0,
        ["1"],
    ],
)
def test_anything_else_is_refused_naming_the_parameter(value: object) -> None:
    with pytest.raises(InvalidPathSegmentError, match="account_id"):
        segment(value, "account_id", sis="account")


def test_a_sis_prefix_of_another_object_is_refused() -> None:
    with pytest.raises(InvalidPathSegmentError, match="sis_account_id"):
        segment("sis_course_id:ABC", "account_id", sis="account")


def test_sis_ids_are_refused_where_no_kind_is_named() -> None:
    with pytest.raises(InvalidPathSegmentError):
        segment("sis_course_id:ABC", "course_id")


def test_the_error_is_a_configuration_error() -> None:
    assert issubclass(InvalidPathSegmentError, CanvasConfigurationError)
