"""A deferred wait outlives its access tokens: CanvasProgressTrigger in an event loop, renewing as it goes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from airflow_provider_canvas_progress.core.events import WaitEvent, WaitStatus
from airflow_provider_canvas_progress.testing import (
    CanvasSimulator,
    Fault,
    JobScript,
    LtiTool,
    ManualClock,
    OAuthClient,
)
from airflow_provider_canvas_progress.triggers.progress import CanvasProgressTrigger

from .conftest import LTI_COURSE, Connect, assignment_progress

#: The job runs for ~6 s and tokens live 2.5 s: the wait sees several generations of tokens. The
#: hook renews half a second before expiry, room enough for a poll on a loaded machine to arrive
#: before Canvas's clock says the old token is dead.
LONG_JOB = JobScript(queued_for=0.2, running_for=6.0)
SHORT_LIFETIME = 2.5


async def first_event(trigger: CanvasProgressTrigger, timeout: float = 60.0) -> dict[str, Any]:
    """Run a trigger until its first event, as the triggerer does, and return the payload."""

    async def run() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return await asyncio.wait_for(run(), timeout)


def waiting(progress_id: str, **kwargs: Any) -> CanvasProgressTrigger:
    return CanvasProgressTrigger(progress_id=progress_id, poll_interval=0.1, **kwargs)


def statuses(sim: CanvasSimulator, path_prefix: str) -> list[int | None]:
    return [r.status for r in sim.requests if r.path.startswith(path_prefix)]


def assert_no_secret_in(payload: dict[str, Any], secrets: list[str]) -> None:
    text = json.dumps(payload)
    assert [secret for secret in secrets if secret and secret in text] == []


async def test_oauth2_wait_longer_than_token_lifetime_renews_before_expiry_and_ends(
    sim: CanvasSimulator, connect: Connect
) -> None:
    client = sim.add_oauth_client(token_lifetime=SHORT_LIFETIME)
    connect(sim, client)
    pid = sim.create_progress(script=LONG_JOB)

    payload = await first_event(waiting(pid))

    event = WaitEvent.from_payload(payload)
    assert event.status is WaitStatus.ENDED
    assert event.progress is not None
    assert event.progress.workflow_state.value == "completed"
    issued = sim.issued_tokens(client.client_id)
    assert len(issued) >= 3  # renewed during the wait...
    assert 401 not in statuses(sim, "/api/")  # ...always before Canvas refused one
    assert_no_secret_in(payload, [client.client_secret, client.refresh_token, *issued])


async def test_lti_wait_longer_than_token_lifetime_renews_and_ends(sim: CanvasSimulator, connect: Connect) -> None:
    tool = sim.add_lti_tool(courses=[LTI_COURSE], token_lifetime=SHORT_LIFETIME)
    connect(sim, tool)
    pid = assignment_progress(sim, LONG_JOB)

    payload = await first_event(waiting(pid, lti_course_id=str(LTI_COURSE)))

    event = WaitEvent.from_payload(payload)
    assert event.status is WaitStatus.ENDED
    assert event.progress is not None
    assert event.progress.url.endswith(f"/api/lti/courses/{LTI_COURSE}/progress/{pid}")
    issued = sim.issued_tokens(tool.client_id)
    assert len(issued) >= 3
    assert 401 not in statuses(sim, "/api/")
    assert tool.private_key is not None
    body = "".join(line for line in tool.private_key.splitlines() if "-----" not in line)
    assert_no_secret_in(payload, [*tool.private_key.splitlines()[1:-1], body, *issued])


@pytest.mark.parametrize("mode", ["oauth2_refresh", "lti_advantage"])
async def test_tokens_expiring_unnoticed_are_renewed_on_canvas_refusal_during_the_wait(
    manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect, mode: str
) -> None:
    # Canvas's clock runs 300 s per 50 ms here (a token lives about 0.6 s of real time, time for a
    # renewed read to arrive under load), so tokens die without this process knowing:
    # each expiry shows up as a 401, answered by one renewal and the same poll again.
    credentials: OAuthClient | LtiTool
    if mode == "oauth2_refresh":
        credentials = manual_sim.add_oauth_client()
        pid = manual_sim.create_progress(script=JobScript(queued_for=0, running_for=4 * 3600))
        trigger = waiting(pid)
    else:
        credentials = manual_sim.add_lti_tool(courses=[LTI_COURSE])
        pid = assignment_progress(manual_sim, JobScript(queued_for=0, running_for=4 * 3600))
        trigger = waiting(pid, lti_course_id=str(LTI_COURSE))
    connect(manual_sim, credentials)

    async def canvas_time_flies() -> None:
        while True:
            await asyncio.sleep(0.05)
            clock.advance(300)

    ticking = asyncio.create_task(canvas_time_flies())
    try:
        event = WaitEvent.from_payload(await first_event(trigger))
    finally:
        ticking.cancel()

    assert event.status is WaitStatus.ENDED
    api = [r for r in manual_sim.requests if r.path.startswith("/api/")]
    refused = [i for i, r in enumerate(manual_sim.requests) if r.path.startswith("/api/") and r.status == 401]
    assert refused, "the simulator's clock should have expired at least one token"
    for index in refused:  # each refusal: a new token, then the same read again, accepted
        after = manual_sim.requests[index + 1 : index + 3]
        assert [(r.path, r.status) for r in after] == [("/login/oauth2/token", 200), (api[0].path, 200)]
    assert len(manual_sim.issued_tokens(credentials.client_id)) == len(refused) + 1


async def test_token_endpoint_outage_mid_wait_is_tolerated(sim: CanvasSimulator, connect: Connect) -> None:
    client = sim.add_oauth_client(token_lifetime=SHORT_LIFETIME)
    connect(sim, client, max_attempts=2)
    pid = sim.create_progress(script=LONG_JOB)
    # Two polls' worth of failed renewals: transient, within max_consecutive_failures.
    sim.inject(Fault.html(503), times=4, path=r"^/login/oauth2/token$")

    event = WaitEvent.from_payload(await first_event(waiting(pid, max_consecutive_failures=5)))

    assert event.status is WaitStatus.ENDED
    assert statuses(sim, "/login/oauth2/token")[:4] == [503, 503, 503, 503]


async def test_refused_credentials_end_the_wait_with_a_clear_error_event(
    sim: CanvasSimulator, connect: Connect
) -> None:
    client = sim.add_oauth_client()
    connect(sim, client, client_secret="rotated-away")
    pid = sim.create_progress(script=LONG_JOB)

    payload = await first_event(waiting(pid))

    event = WaitEvent.from_payload(payload)
    assert event.status is WaitStatus.ERROR
    assert event.error_type == "CanvasCredentialsError"
    assert event.retryable is False
    assert "client_secret" in event.message
    assert_no_secret_in(payload, [client.client_secret, client.refresh_token, "rotated-away"])
