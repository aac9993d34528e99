"""Specification of the Progress model: its states and the strict parser of Canvas's Progress JSON."""

from __future__ import annotations

import contextlib
import math
from typing import Any

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_canvas_progress.core.errors import CanvasResponseError, CanvasUnknownStateError
from airflow_provider_canvas_progress.core.progress import Progress, WorkflowState, parse_progress, shown

PENDING = ["queued", "running", "waiting_for_external_tool"]
TERMINAL = ["completed", "failed", "canceled"]


# -- WorkflowState ---------------------------------------------------------------------------------


def test_workflow_state_knows_the_six_states_of_canvas_model() -> None:
    assert {state.value for state in WorkflowState} == set(PENDING + TERMINAL)


@pytest.mark.parametrize("value", PENDING)
def test_pending_states_are_pending_and_not_terminal(value: str) -> None:
    state = WorkflowState.parse(value)

    assert state.is_pending
    assert not state.is_terminal


@pytest.mark.parametrize("value", TERMINAL)
def test_terminal_states_are_terminal_and_not_pending(value: str) -> None:
    state = WorkflowState.parse(value)

    assert state.is_terminal
    assert not state.is_pending


@pytest.mark.parametrize("value", ["succeeded", "COMPLETED", "cancelled", "", None, 1, ["completed"]])
def test_unknown_state_fails_closed_naming_the_state(value: object) -> None:
    with pytest.raises(CanvasUnknownStateError) as caught:
        WorkflowState.parse(value, progress_id="123")

    assert repr(value) in str(caught.value)
    assert "Progress 123" in str(caught.value)
    assert "not treated as success" in str(caught.value)
    assert caught.value.progress_id == "123"


def test_unknown_state_in_a_payload_fails_closed(progress_payload: dict[str, Any]) -> None:
    progress_payload["workflow_state"] = "archived"

    with pytest.raises(CanvasUnknownStateError, match="'archived'"):
        parse_progress(progress_payload)


def test_unknown_state_error_is_a_response_error() -> None:
    # Callers that catch "Canvas answered nonsense" also catch an unknown state.
    assert issubclass(CanvasUnknownStateError, CanvasResponseError)


# -- parse_progress: the happy shapes ----------------------------------------------------------------


def test_parses_every_documented_field(progress_payload: dict[str, Any]) -> None:
    progress = parse_progress(progress_payload)

    assert progress == Progress(
        id="123",
        workflow_state=WorkflowState.RUNNING,
        completion=55.0,
        message=None,
        tag="course_batch_update",
        context_type="Account",
        context_id="1",
        user_id="5",
        url="https://school.instructure.com/api/v1/progress/123",
        created_at=pendulum.datetime(2013, 1, 15, 15, 0, 0),
        updated_at=pendulum.datetime(2013, 1, 15, 15, 4, 0),
    )


@pytest.mark.parametrize("state", PENDING + TERMINAL)
def test_progress_pending_and_terminal_follow_its_state(progress_payload: dict[str, Any], state: str) -> None:
    progress_payload["workflow_state"] = state

    progress = parse_progress(progress_payload)

    assert progress.workflow_state is WorkflowState(state)
    assert progress.is_pending is (state in PENDING)
    assert progress.is_terminal is (state in TERMINAL)


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        (0, 0.0),
        (55, 55.0),
        (55.0, 55.0),
        (33.333333333333336, 33.333333333333336),
        (100, 100.0),
        (100.0, 100.0),
        (None, None),
    ],
)
def test_completion_accepts_int_float_and_null(
    progress_payload: dict[str, Any], completion: object, expected: float | None
) -> None:
    progress_payload["completion"] = completion

    assert parse_progress(progress_payload).completion == expected


def test_completion_is_a_float_even_when_canvas_sends_an_int(progress_payload: dict[str, Any]) -> None:
    progress_payload["completion"] = 40

    assert type(parse_progress(progress_payload).completion) is float


def test_missing_completion_reads_as_null(progress_payload: dict[str, Any]) -> None:
    del progress_payload["completion"]

    assert parse_progress(progress_payload).completion is None


@pytest.mark.parametrize(
    "completion",
    [-0.1, -1, 100.01, 101, math.nan, math.inf, -math.inf, 10**400, True, False, "55", [55], {"value": 55}],
    ids=repr,
)
def test_completion_outside_0_to_100_or_not_a_number_is_rejected(
    progress_payload: dict[str, Any], completion: object
) -> None:
    progress_payload["completion"] = completion

    with pytest.raises(CanvasResponseError, match="'completion'") as caught:
        parse_progress(progress_payload)

    assert "a number from 0 to 100 or null" in str(caught.value)


def test_absent_results_key_means_no_results(progress_payload: dict[str, Any]) -> None:
    progress = parse_progress(progress_payload)

    assert not progress.has_results
    assert progress.results is None


@pytest.mark.parametrize("results", [None, {"id": 9}, [1, 2], "done", 0])
def test_present_results_key_means_results_even_when_null(progress_payload: dict[str, Any], results: object) -> None:
    progress_payload["workflow_state"] = "completed"
    progress_payload["results"] = results

    progress = parse_progress(progress_payload)

    assert progress.has_results
    assert progress.results == results


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (123, "123"),
        ("123", "123"),
        (10000000000123, "10000000000123"),
        ("10000000000123", "10000000000123"),
        (2**70, str(2**70)),
    ],
)
def test_ids_are_read_as_decimal_strings_whatever_their_size(
    progress_payload: dict[str, Any], raw: object, expected: str
) -> None:
    progress_payload["id"] = raw

    assert parse_progress(progress_payload).id == expected


def test_string_ids_form_is_read_like_the_integer_form(progress_payload: dict[str, Any]) -> None:
    as_strings = {
        **progress_payload,
        "id": "10000000000123",
        "context_id": "10000000000001",
        "user_id": "10000000000005",
    }
    as_integers = {**progress_payload, "id": 10000000000123, "context_id": 10000000000001, "user_id": 10000000000005}

    assert parse_progress(as_strings) == parse_progress(as_integers)


def test_null_user_id_is_allowed(progress_payload: dict[str, Any]) -> None:
    # Most jobs are created by Canvas itself with user_id null.
    progress_payload["user_id"] = None

    assert parse_progress(progress_payload).user_id is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2013-01-15T15:00:00Z", pendulum.datetime(2013, 1, 15, 15, 0, 0)),
        ("2013-01-15T08:00:00-07:00", pendulum.datetime(2013, 1, 15, 15, 0, 0)),
        ("2013-01-15T15:00:00.123456+00:00", pendulum.datetime(2013, 1, 15, 15, 0, 0, 123456)),
    ],
)
def test_timestamps_are_read_with_z_and_with_offsets(
    progress_payload: dict[str, Any], text: str, expected: pendulum.DateTime
) -> None:
    progress_payload["created_at"] = text

    assert parse_progress(progress_payload).created_at == expected


@given(
    moment=st.datetimes(min_value=pendulum.naive(1970, 1, 1), max_value=pendulum.naive(2100, 1, 1)),
    minutes=st.integers(min_value=-12 * 60, max_value=14 * 60),
    zulu=st.booleans(),
    fraction=st.booleans(),
)
def test_the_fast_timestamp_path_reads_exactly_what_pendulum_reads(
    moment: Any, minutes: int, zulu: bool, fraction: bool
) -> None:
    # Canvas's own timestamp form skips pendulum.parse (a hot path); the result must not differ in
    # value, offset, zone type or text.
    zone = pendulum.UTC if zulu else pendulum.FixedTimezone(minutes * 60)
    text = pendulum.instance(moment, tz=zone).isoformat(timespec="microseconds" if fraction else "seconds")
    if zulu:
        text = text.replace("+00:00", "Z")
    payload = {"id": 1, "workflow_state": "running", "created_at": text}

    fast = parse_progress(payload).created_at
    slow = pendulum.parse(text, exact=True)

    assert fast is not None
    assert (fast, fast.utcoffset(), type(fast.tzinfo), fast.isoformat()) == (
        slow,
        slow.utcoffset(),
        type(slow.tzinfo),
        slow.isoformat(),  # type: ignore[union-attr]
    )


@pytest.mark.parametrize("text", ["2013-13-15T15:00:00Z", "2013-02-30T15:00:00Z", "2013-01-15T25:00:00+00:00"])
def test_a_timestamp_in_canvas_form_with_an_impossible_date_is_refused(
    progress_payload: dict[str, Any], text: str
) -> None:
    progress_payload["created_at"] = text

    with pytest.raises(CanvasResponseError, match="created_at"):
        parse_progress(progress_payload)


def test_offset_of_older_canvas_is_kept(progress_payload: dict[str, Any]) -> None:
    progress_payload["updated_at"] = "2013-01-15T08:00:00-07:00"

    updated_at = parse_progress(progress_payload).updated_at

    assert updated_at is not None
    assert updated_at.utcoffset() == pendulum.duration(hours=-7)


def test_null_timestamps_are_allowed(progress_payload: dict[str, Any]) -> None:
    progress_payload["created_at"] = None
    del progress_payload["updated_at"]

    progress = parse_progress(progress_payload)

    assert progress.created_at is None
    assert progress.updated_at is None


def test_unknown_keys_are_kept_aside_and_do_not_affect_equality(progress_payload: dict[str, Any]) -> None:
    progress = parse_progress({**progress_payload, "new_field": 1})

    assert progress.extra == {"new_field": 1}
    assert progress == parse_progress(progress_payload)


# -- parse_progress: malformed payloads name the field -----------------------------------------------


@pytest.mark.parametrize("payload", [None, [], ["id", 1], "progress", 123])
def test_a_payload_that_is_not_an_object_is_rejected_naming_its_type(payload: object) -> None:
    with pytest.raises(CanvasResponseError, match=type(payload).__name__):
        parse_progress(payload, source="GET /api/v1/progress/123")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", None),
        ("id", 0.5),
        ("id", -1),
        ("id", True),
        ("id", "abc"),
        ("id", "1~123"),
        ("id", {"id": 1}),
        ("context_id", "x"),
        ("user_id", 1.5),
        ("message", 7),
        ("tag", ["course_batch_update"]),
        ("context_type", {}),
        ("url", 42),
        ("created_at", "yesterday"),
        ("created_at", 1358262000),
        ("updated_at", "2013-13-45T00:00:00Z"),
        ("updated_at", "2013-01-15"),
        ("updated_at", "15:00"),
        ("updated_at", "P1D"),
    ],
    ids=repr,
)
def test_malformed_field_is_rejected_naming_the_field(
    progress_payload: dict[str, Any], field: str, value: object
) -> None:
    progress_payload[field] = value

    with pytest.raises(CanvasResponseError) as caught:
        parse_progress(progress_payload, source="GET /api/v1/progress/123")

    assert f"'{field}'" in str(caught.value)
    assert "GET /api/v1/progress/123" in str(caught.value)


@pytest.mark.parametrize("field", ["id", "workflow_state"])
def test_missing_required_field_is_rejected_naming_the_field(progress_payload: dict[str, Any], field: str) -> None:
    del progress_payload[field]

    with pytest.raises(CanvasResponseError, match=f"'{field}'"):
        parse_progress(progress_payload)


def test_field_error_carries_the_progress_id(progress_payload: dict[str, Any]) -> None:
    progress_payload["message"] = 7

    with pytest.raises(CanvasResponseError) as caught:
        parse_progress(progress_payload)

    assert caught.value.progress_id == "123"


# -- to_dict ---------------------------------------------------------------------------------------------


def test_to_dict_omits_results_when_canvas_did(progress_payload: dict[str, Any]) -> None:
    assert "results" not in parse_progress(progress_payload).to_dict()


def test_to_dict_keeps_null_results_when_canvas_sent_them(progress_payload: dict[str, Any]) -> None:
    progress_payload["results"] = None

    data = parse_progress(progress_payload).to_dict()

    assert "results" in data
    assert data["results"] is None


def test_to_dict_writes_ids_as_strings_and_timestamps_as_iso_8601(progress_payload: dict[str, Any]) -> None:
    data = parse_progress(progress_payload).to_dict()

    assert data["id"] == "123"
    assert data["context_id"] == "1"
    assert data["created_at"] == "2013-01-15T15:00:00+00:00"
    assert data["workflow_state"] == "running"


def test_to_dict_then_parse_gives_the_same_progress(progress_payload: dict[str, Any]) -> None:
    progress = parse_progress(progress_payload)

    assert parse_progress(progress.to_dict()) == progress


_ids = st.one_of(st.integers(min_value=1, max_value=2**63 - 1), st.integers(min_value=1).map(str))
_texts = st.one_of(st.none(), st.text(max_size=40))
_timestamps = st.one_of(
    st.none(),
    st.builds(
        lambda moment, minutes: pendulum.instance(moment).in_timezone(pendulum.FixedTimezone(minutes * 60)).isoformat(),
        st.datetimes(
            min_value=pendulum.naive(1970, 1, 1),
            max_value=pendulum.naive(2100, 1, 1),
            timezones=st.just(pendulum.UTC),
        ),
        st.integers(min_value=-12 * 60, max_value=14 * 60),
    ),
)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def progress_payloads(draw: st.DrawFn) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": draw(_ids),
        "workflow_state": draw(st.sampled_from(PENDING + TERMINAL)),
        "completion": draw(st.none() | st.integers(0, 100) | st.floats(0, 100)),
        "message": draw(_texts),
        "tag": draw(_texts),
        "context_type": draw(_texts),
        "context_id": draw(st.none() | _ids),
        "user_id": draw(st.none() | _ids),
        "url": draw(_texts),
        "created_at": draw(_timestamps),
        "updated_at": draw(_timestamps),
    }
    if draw(st.booleans()):
        payload["results"] = draw(_json_values)
    return payload


@given(progress_payloads())
def test_property_to_dict_round_trips_through_parse_progress(payload: dict[str, Any]) -> None:
    progress = parse_progress(payload)

    again = parse_progress(progress.to_dict())

    assert again == progress
    assert again.has_results == ("results" in payload)
    assert again.to_dict() == progress.to_dict()


@given(
    st.dictionaries(
        st.sampled_from(["id", "workflow_state", "completion", "message", "created_at", "results", "tag"]),
        _json_values,
    )
)
def test_property_parser_only_ever_raises_response_errors(payload: dict[str, Any]) -> None:
    with contextlib.suppress(CanvasResponseError):
        parse_progress(payload)


# -- describe ----------------------------------------------------------------------------------------------


def test_describe_gives_id_tag_state_completion_and_canvas_message(progress_payload: dict[str, Any]) -> None:
    progress_payload.update(workflow_state="failed", completion=33.333333333333336, message="2 courses processed")

    assert parse_progress(progress_payload).describe() == (
        "Progress 123 (course_batch_update) is failed at 33.3%; Canvas says: '2 courses processed'"
    )


def test_describe_leaves_out_what_canvas_did_not_say() -> None:
    progress = Progress(id="9", workflow_state=WorkflowState.QUEUED)

    assert progress.describe() == "Progress 9 is queued"


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("x" * 500, "'" + "x" * 99 + "…"),
        (10**5000, "a number of about 5001 digits"),
        ([10**5000], "a list holding a number too long to show"),
        ({"state": 10**5000}, "a dict holding a number too long to show"),
    ],
    ids=["long text", "huge number", "huge number in a list", "huge number in a dict"],
)
def test_a_quoted_value_is_bounded_and_never_fails_to_show(value: Any, quoted: str) -> None:
    # Python refuses str() of an int past 4,300 digits; a message must still be built.
    assert shown(value) == quoted
