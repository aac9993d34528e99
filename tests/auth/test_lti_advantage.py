"""auth_type=lti_advantage against the simulator: a signed assertion buys a token for the LTI progress endpoint."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

from airflow_provider_canvas_progress.core.auth import (
    JWT_BEARER,
    LTI_PROGRESS_SCOPE,
    CanvasCredentialsError,
    load_signing_key,
)
from airflow_provider_canvas_progress.core.errors import (
    CanvasAuthError,
    CanvasConfigurationError,
    CanvasNotFoundError,
    CanvasPermissionError,
    CanvasValidationError,
)
from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript, LtiTool, ManualClock
from airflow_provider_canvas_progress.testing.developer_keys import generate_rsa_key

from .conftest import LTI_COURSE, Connect, assignment_progress, calls, token_requests

LTI_READ = "/api/lti/courses/7/progress/"


def test_progress_is_read_through_the_lti_endpoint_with_the_lti_token(
    sim: CanvasSimulator, connect: Connect, lti_tool: LtiTool
) -> None:
    pid = assignment_progress(sim)

    progress = connect(sim, lti_tool).get_progress(pid, lti_course_id=LTI_COURSE)

    assert progress.url == f"{sim.base_url}{LTI_READ}{pid}"
    assert calls(sim) == [("POST", "/login/oauth2/token", 200), ("GET", f"{LTI_READ}{pid}", 200)]
    assert sim.requests[1].header("Authorization") == f"Bearer {sim.issued_tokens(lti_tool.client_id)[0]}"


async def test_async_read_through_the_lti_endpoint(sim: CanvasSimulator, connect: Connect, lti_tool: LtiTool) -> None:
    pid = assignment_progress(sim)

    async with connect(sim, lti_tool) as hook:
        progress = await hook.aget_progress(f"{sim.base_url}{LTI_READ}{pid}")

    assert progress.is_terminal
    assert token_requests(sim) == 1


def test_token_request_is_a_client_assertion_canvas_can_verify(
    sim: CanvasSimulator, connect: Connect, lti_tool: LtiTool
) -> None:
    connect(sim, lti_tool).test_connection()

    form = dict(pair.split("=", 1) for pair in sim.requests[0].body.decode().split("&"))
    assert form["grant_type"] == "client_credentials"
    assert form["client_assertion_type"] == JWT_BEARER.replace(":", "%3A")
    assertion = form["client_assertion"]
    claims = jwt.decode(
        assertion,
        RSAAlgorithm.from_jwk(json.dumps(dict(lti_tool.public_jwk))),  # type: ignore[arg-type]
        algorithms=["RS256"],
        audience=sim.token_url,
    )
    assert claims["iss"] == claims["sub"] == lti_tool.client_id


def test_test_connection_names_the_tool_and_its_scope(
    sim: CanvasSimulator, connect: Connect, lti_tool: LtiTool
) -> None:
    ok, message = connect(sim, lti_tool).test_connection()

    assert ok is True
    assert message == (
        f"Connected to {sim.base_url} as LTI tool {lti_tool.client_id} (token valid for 3600 s, scope "
        f"{LTI_PROGRESS_SCOPE}); it may read LTI progress."
    )
    assert [p for _, p, _ in calls(sim)] == ["/login/oauth2/token"]  # LTI tokens cannot call /api/v1


@pytest.mark.parametrize(
    "call",
    [
        lambda hook, pid: hook.get_progress(pid),
        lambda hook, pid: hook.request("GET", "users/self"),
        lambda hook, pid: hook.cancel_progress(pid),
        lambda hook, pid: hook.start_job("PUT", "accounts/1/courses", data={"event": "offer", "course_ids": [1]}),
    ],
    ids=["api-v1-progress", "users-self", "cancel", "start-job"],
)
def test_calls_outside_api_lti_are_refused_before_any_request(
    sim: CanvasSimulator, connect: Connect, lti_tool: LtiTool, call: Any
) -> None:
    with pytest.raises(CanvasConfigurationError, match="/api/lti/"):
        call(connect(sim, lti_tool), assignment_progress(sim))

    assert sim.requests == []


def test_expired_lti_token_is_renewed_once(manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect) -> None:
    tool = manual_sim.add_lti_tool(courses=[LTI_COURSE])
    pid = assignment_progress(manual_sim, JobScript.never_ending())
    hook = connect(manual_sim, tool)
    hook.get_progress(pid, lti_course_id=LTI_COURSE)
    clock.advance(3601)

    hook.get_progress(pid, lti_course_id=LTI_COURSE)

    assert [s for _, _, s in calls(manual_sim)] == [200, 200, 401, 200, 200]
    assert manual_sim.requests[2].header("Authorization") != manual_sim.requests[4].header("Authorization")


@pytest.mark.parametrize(
    ("setup", "error", "status"),
    [
        (lambda sim: ("99999", "1"), CanvasNotFoundError, 404),
        (lambda sim: (str(LTI_COURSE), sim.create_progress()), CanvasPermissionError, 403),
        (lambda sim: ("8", _assignment_progress_in(sim, 8)), CanvasAuthError, 401),
    ],
    ids=["unknown-course", "not-an-assignment", "tool-not-in-course"],
)
def test_lti_error_objects_map_to_the_typed_errors(
    sim: CanvasSimulator, connect: Connect, lti_tool: LtiTool, setup: Any, error: type[Exception], status: int
) -> None:
    course, pid = setup(sim)

    with pytest.raises(error) as raised:
        connect(sim, lti_tool).get_progress(pid, lti_course_id=course)

    assert raised.value.status == status  # type: ignore[attr-defined]
    assert raised.value.canvas_message  # type: ignore[attr-defined]
    # Not a token problem: no renewal, one API call.
    assert token_requests(sim) == 1
    assert len(sim.requests) == 2


def test_progress_of_an_assignment_not_linked_to_the_tool_is_a_validation_error(
    sim: CanvasSimulator, connect: Connect
) -> None:
    tool = sim.add_lti_tool(courses=[LTI_COURSE, 8])
    pid = assignment_progress(sim)

    with pytest.raises(CanvasValidationError, match="isn't linked to this Tool"):
        connect(sim, tool).get_progress(pid, lti_course_id=8)


def _assignment_progress_in(sim: CanvasSimulator, course: int) -> str:
    sim.add_assignment(80, course_id=course)
    return sim.create_progress(context_type="Assignment", context_id=80, user_id=None)


def test_a_key_that_does_not_match_the_registered_jwk_is_refused_naming_private_key(
    sim: CanvasSimulator, connect: Connect, lti_tool: LtiTool
) -> None:
    other_key, _ = generate_rsa_key()
    hook = connect(sim, lti_tool, private_key=other_key)

    with pytest.raises(CanvasCredentialsError) as raised:
        hook.get_progress(assignment_progress(sim), lti_course_id=LTI_COURSE)

    message = str(raised.value)
    assert "JWS signature invalid." in message
    assert "private_key" in message
    assert "public JWK" in message
    assert [p for _, p, _ in calls(sim)] == ["/login/oauth2/token"]
    assert hook.test_connection()[0] is False


def test_an_unknown_client_id_is_refused_naming_client_id(
    sim: CanvasSimulator, connect: Connect, lti_tool: LtiTool
) -> None:
    with pytest.raises(CanvasCredentialsError, match="client_id") as raised:
        connect(sim, lti_tool, client_id="424242").get_progress(1, lti_course_id=LTI_COURSE)

    assert raised.value.status == 401


def test_a_key_without_the_progress_scope_is_refused_naming_the_scope(sim: CanvasSimulator, connect: Connect) -> None:
    tool = sim.add_lti_tool(scopes=["https://purl.imsglobal.org/spec/lti-ags/scope/score"])

    ok, message = connect(sim, tool).test_connection()

    assert ok is False
    assert LTI_PROGRESS_SCOPE in message
    assert "Can view Progress records" in message


def test_a_private_jwk_with_kid_works(sim: CanvasSimulator, connect: Connect) -> None:
    pem, public_jwk = generate_rsa_key("tool-key-1")
    tool = sim.add_lti_tool(public_jwk=public_jwk, courses=[LTI_COURSE])
    private_jwk = RSAAlgorithm.to_jwk(load_signing_key(pem).key, as_dict=True)
    private_jwk["kid"] = "tool-key-1"
    pid = assignment_progress(sim)

    hook = connect(sim, None, auth_type="lti_advantage", client_id=tool.client_id, private_key=json.dumps(private_jwk))

    assert hook.get_progress(pid, lti_course_id=LTI_COURSE).id == pid
    assertion = dict(pair.split("=", 1) for pair in sim.requests[0].body.decode().split("&"))["client_assertion"]
    assert jwt.get_unverified_header(assertion)["kid"] == "tool-key-1"


def test_a_pem_pasted_on_one_line_works(sim: CanvasSimulator, connect: Connect, lti_tool: LtiTool) -> None:
    assert lti_tool.private_key is not None
    hook = connect(sim, lti_tool, private_key=lti_tool.private_key.replace("\n", " "))

    assert hook.test_connection()[0] is True


def test_a_malformed_key_is_refused_before_any_request(
    sim: CanvasSimulator, connect: Connect, lti_tool: LtiTool
) -> None:
    broken = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"
    ok, message = connect(sim, lti_tool, private_key=broken).test_connection()

    assert ok is False
    assert "private_key" in message
    assert sim.requests == []


def test_token_url_extra_is_where_the_assertion_goes_and_its_audience(
    sim: CanvasSimulator, connect: Connect, lti_tool: LtiTool
) -> None:
    token_url = sim.token_url.replace("127.0.0.1", "localhost")

    assert connect(sim, lti_tool, token_url=token_url).test_connection()[0] is True

    assertion = dict(pair.split("=", 1) for pair in sim.requests[0].body.decode().split("&"))["client_assertion"]
    assert jwt.decode(assertion, options={"verify_signature": False})["aud"] == token_url


async def test_many_async_reads_share_one_lti_token(sim: CanvasSimulator, connect: Connect, lti_tool: LtiTool) -> None:
    pid = assignment_progress(sim)

    async with connect(sim, lti_tool, max_in_flight=50) as hook:
        await asyncio.gather(*(hook.aget_progress(pid, lti_course_id=LTI_COURSE) for _ in range(25)))

    assert token_requests(sim) == 1


class _TaskInstance:
    """Just enough of a task instance for the sensor's first poke and its cancel message."""

    dag_id, task_id, run_id = "nightly", "wait", "manual__1"

    def xcom_push(self, key: str, value: Any) -> None:
        pass


def test_a_deferred_sensor_keeps_reading_an_lti_progress_url_through_the_lti_endpoint(
    sim: CanvasSimulator, connect: Connect, lti_tool: LtiTool
) -> None:
    from airflow.providers.common.compat.sdk import TaskDeferred

    from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor

    pid = assignment_progress(sim, JobScript.never_ending())
    connect(sim, lti_tool)
    task = CanvasProgressSensor(
        task_id="wait", progress_id=f"{sim.base_url}{LTI_READ}{pid}", deferrable=True, poke_interval=0.05
    )
    with pytest.raises(TaskDeferred) as deferred:
        task.execute({"ti": _TaskInstance()})  # type: ignore[arg-type]
    trigger = deferred.value.trigger
    assert (trigger.progress_id, trigger.lti_course_id) == (pid, str(LTI_COURSE))

    sim.set_progress(pid, workflow_state="completed", completion=100)

    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    assert asyncio.run(first_event())["progress"]["workflow_state"] == "completed"
    reads = [path for method, path, _ in calls(sim) if method == "GET"]
    assert set(reads) == {f"{LTI_READ}{pid}"}  # never /api/v1, where the LTI token is refused
