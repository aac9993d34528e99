"""Each CanvasError class, raised from a real simulator answer, carrying Canvas's own text."""

from __future__ import annotations

import json

import pytest

from airflow_provider_canvas_progress.core.errors import (
    CanvasAuthError,
    CanvasNotFoundError,
    CanvasPermissionError,
    CanvasResponseError,
    CanvasServerError,
    CanvasTokenExpiredError,
    CanvasUnknownStateError,
    CanvasUnreadableResponseError,
    CanvasValidationError,
)
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.testing import LTI_PROGRESS_SCOPE, CanvasSimulator, Fault, JobScript

from .conftest import FAST_RETRIES, Connect, MakeSim


@pytest.fixture
def progress_id(sim: CanvasSimulator) -> str:
    """A finished Progress in account 1."""
    return sim.create_progress(script=JobScript.instant())


def test_invalid_token_is_an_auth_error(sim: CanvasSimulator, connect: Connect, progress_id: str) -> None:
    with pytest.raises(CanvasAuthError) as raised:
        connect(sim, token="1~not-a-token-canvas-knows").get_progress(progress_id)

    assert type(raised.value) is CanvasAuthError
    assert (raised.value.status, raised.value.canvas_message) == (401, "Invalid access token.")


def test_expired_token_is_a_token_expired_error(sim: CanvasSimulator, connect: Connect, progress_id: str) -> None:
    with pytest.raises(CanvasTokenExpiredError) as raised:
        connect(sim, token=sim.add_token(state="expired")).get_progress(progress_id)

    assert raised.value.canvas_message == "Expired access token."


def test_revoked_token_is_an_auth_error_quoting_canvas(
    sim: CanvasSimulator, connect: Connect, progress_id: str
) -> None:
    with pytest.raises(CanvasAuthError) as raised:
        connect(sim, token=sim.add_token(state="revoked")).get_progress(progress_id)

    assert type(raised.value) is CanvasAuthError
    assert "Revoked access token." in str(raised.value)


def test_token_lacking_the_routes_scope_is_an_auth_error_not_a_permission_error(
    sim: CanvasSimulator, connect: Connect, progress_id: str
) -> None:
    scoped = sim.add_token(scopes=["url:GET|/api/v1/users/:id"])

    with pytest.raises(CanvasAuthError) as raised:
        connect(sim, token=scoped).get_progress(progress_id)

    assert raised.value.canvas_message == "Insufficient scopes on access token."
    assert "scope" in str(raised.value)


def test_expired_lti_token_is_a_token_expired_error(sim: CanvasSimulator, connect: Connect) -> None:
    # LTI endpoints answer {"errors": {"type", "message"}}: an object, not Canvas's usual list.
    expired_lti = sim.add_token(kind="lti", state="expired", scopes=[LTI_PROGRESS_SCOPE])

    with pytest.raises(CanvasTokenExpiredError) as raised:
        connect(sim, token=expired_lti).get_progress(1, lti_course_id=1)

    assert raised.value.canvas_message == "Access token expired"


def test_reading_a_progress_outside_the_tokens_contexts_is_a_permission_error(
    sim: CanvasSimulator, connect: Connect, progress_id: str
) -> None:
    teacher = sim.add_token(user_id=2, contexts=[("Course", 5)])

    with pytest.raises(CanvasPermissionError) as raised:
        connect(sim, token=teacher).get_progress(progress_id)

    assert (raised.value.status, raised.value.canvas_message) == (403, "user not authorized to perform that action")


def test_older_canvas_401_permission_answer_is_a_permission_error_not_an_auth_error(
    make_sim: MakeSim, connect: Connect
) -> None:
    sim = make_sim(permission_status=401)
    progress_id = sim.create_progress(script=JobScript.instant())

    with pytest.raises(CanvasPermissionError) as raised:
        connect(sim, token=sim.add_token(user_id=2)).get_progress(progress_id)

    assert raised.value.status == 401
    assert not isinstance(raised.value, CanvasAuthError)


def test_unknown_progress_is_not_found(hook: CanvasHook) -> None:
    with pytest.raises(CanvasNotFoundError) as raised:
        hook.get_progress(999_999)

    assert raised.value.canvas_message == "The specified resource does not exist."


def test_errors_name_the_call_that_failed(hook: CanvasHook) -> None:
    with pytest.raises(CanvasNotFoundError) as raised:
        hook.get_progress(999_999)

    error = raised.value
    assert (error.method, error.path, error.status) == ("GET", "/api/v1/progress/999999", 404)
    assert "GET /api/v1/progress/999999" in str(error)


def test_validation_error_of_a_job_starting_call_carries_canvas_message(hook: CanvasHook) -> None:
    with pytest.raises(CanvasValidationError) as raised:
        hook.start_job("PUT", "accounts/1/courses", data={"course_ids": [1, 2]})

    assert (raised.value.status, raised.value.canvas_message) == (400, "need to specify event")


def test_batch_over_canvas_size_limit_is_a_validation_error(hook: CanvasHook) -> None:
    with pytest.raises(CanvasValidationError):
        hook.start_job("PUT", "accounts/1/courses", data={"event": "offer", "course_ids": list(range(1, 502))})


def test_lti_progress_of_an_unlinked_assignment_is_a_validation_error(sim: CanvasSimulator, connect: Connect) -> None:
    sim.add_assignment(70, course_id=7)
    progress_id = sim.create_progress(context_type="Assignment", context_id=70, user_id=None)
    lti = connect(sim, token=sim.add_token(kind="lti", scopes=[LTI_PROGRESS_SCOPE]))

    with pytest.raises(CanvasValidationError) as raised:
        lti.get_progress(progress_id, lti_course_id=8)

    assert raised.value.status == 422


def test_server_error_after_retries_are_spent_is_a_server_error(
    sim: CanvasSimulator, hook: CanvasHook, progress_id: str
) -> None:
    sim.inject(Fault.status(500), times=10)

    with pytest.raises(CanvasServerError) as raised:
        hook.get_progress(progress_id)

    assert raised.value.canvas_message == "An error occurred."
    assert len(sim.requests) == FAST_RETRIES["max_attempts"]


def test_maintenance_page_after_retries_are_spent_is_a_server_error(
    sim: CanvasSimulator, hook: CanvasHook, progress_id: str
) -> None:
    sim.inject(Fault.html(503), times=10)

    with pytest.raises(CanvasServerError, match="HTML page") as raised:
        hook.get_progress(progress_id)

    assert raised.value.canvas_message == "503 Service Unavailable"


def test_malformed_json_after_retries_are_spent_is_an_unreadable_response_error(
    sim: CanvasSimulator, hook: CanvasHook, progress_id: str
) -> None:
    sim.inject(Fault.malformed_json(), times=10)

    with pytest.raises(CanvasUnreadableResponseError):
        hook.get_progress(progress_id)

    assert len(sim.requests) == FAST_RETRIES["max_attempts"]


def test_malformed_progress_payload_is_a_response_error_naming_the_field(
    sim: CanvasSimulator, hook: CanvasHook, progress_id: str
) -> None:
    payload = {**sim.progress_json(progress_id), "completion": "half"}
    sim.inject(Fault.body(200, json.dumps(payload), "application/json; charset=utf-8"))

    with pytest.raises(CanvasResponseError, match="'completion'") as raised:
        hook.get_progress(progress_id)

    assert not isinstance(raised.value, CanvasUnreadableResponseError)
    assert len(sim.requests) == 1


def test_unknown_workflow_state_fails_closed_naming_the_state(
    sim: CanvasSimulator, hook: CanvasHook, progress_id: str
) -> None:
    sim.set_progress(progress_id, workflow_state="paused")

    with pytest.raises(CanvasUnknownStateError, match="'paused'") as raised:
        hook.get_progress(progress_id)

    assert raised.value.progress_id == progress_id


def test_progress_answered_for_another_id_is_a_response_error(
    sim: CanvasSimulator, hook: CanvasHook, progress_id: str
) -> None:
    other = sim.create_progress(script=JobScript.instant())
    sim.inject(Fault.body(200, json.dumps(sim.progress_json(other)), "application/json; charset=utf-8"))

    with pytest.raises(CanvasResponseError, match=f"answered Progress {other}, not {progress_id}"):
        hook.get_progress(progress_id)
