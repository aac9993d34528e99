"""Pure parts: Rails-style parameters and canvas-string-ids, without a socket."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_canvas_progress.testing.params import parse_params, parse_rails_pairs
from airflow_provider_canvas_progress.testing.render import local_id_of, stringify_ids


def test_array_keys_collect_values() -> None:
    assert parse_rails_pairs([("course_ids[]", "1"), ("course_ids[]", "2")]) == {"course_ids": ["1", "2"]}


def test_nested_keys_build_hashes() -> None:
    pairs = [("grade_data[5][posted_grade]", "A"), ("grade_data[6][posted_grade]", "B")]
    assert parse_rails_pairs(pairs) == {"grade_data": {"5": {"posted_grade": "A"}, "6": {"posted_grade": "B"}}}


def test_array_of_hashes_starts_a_new_hash_when_a_key_repeats() -> None:
    pairs = [("d[][id]", "1"), ("d[][v]", "x"), ("d[][id]", "2"), ("d[][v]", "y")]
    assert parse_rails_pairs(pairs) == {"d": [{"id": "1", "v": "x"}, {"id": "2", "v": "y"}]}


def test_json_body_wins_over_the_query_string() -> None:
    assert parse_params("event=a", b'{"event": "b"}', "application/json") == {"event": "b"}


def test_json_array_body_is_wrapped_like_rails_does() -> None:
    assert parse_params("", b"[1, 2]", "application/json") == {"_json": [1, 2]}


def test_form_body_is_parsed() -> None:
    assert parse_params("", b"message=stop+now", "application/x-www-form-urlencoded") == {"message": "stop now"}


def test_string_ids_skip_booleans_and_non_id_keys() -> None:
    assert stringify_ids({"id": True, "count": 3, "valid": 1}) == {"id": True, "count": 3, "valid": 1}


def test_string_ids_need_an_id_word_boundary() -> None:
    assert stringify_ids({"paid": 1, "user_id": 2, "ids": [3], "grid_ids": [4], "hid": 5}) == {
        "paid": 1,
        "user_id": "2",
        "ids": ["3"],
        "grid_ids": ["4"],
        "hid": 5,
    }


@given(st.integers(min_value=0, max_value=10**18))
def test_string_ids_keep_every_digit_of_big_ids(value: int) -> None:
    assert stringify_ids({"id": value}) == {"id": str(value)}


def test_local_id_of_reads_local_and_global_ids() -> None:
    assert (local_id_of("12"), local_id_of("10000000000012"), local_id_of("20000000000012"), local_id_of("x")) == (
        12,
        12,
        None,
        None,
    )
