"""auth_type=oauth2_refresh against the simulator: a token is obtained, cached, renewed, and refusals explained."""

from __future__ import annotations

import asyncio
import threading

import pytest
import requests

from airflow_provider_canvas_progress.core.auth import CanvasCredentialsError, CanvasTokenUnavailableError
from airflow_provider_canvas_progress.core.errors import CanvasAuthError, CanvasTokenExpiredError
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.testing import CanvasSimulator, Fault, JobScript, ManualClock, OAuthClient

from .conftest import Connect, MakeSim, calls, hook_clock, token_requests

TOKEN = ("POST", "/login/oauth2/token", 200)
SELF = ("GET", "/api/v1/users/self", 200)


def test_first_call_obtains_a_token_then_calls_canvas_with_it(
    sim: CanvasSimulator, connect: Connect, oauth_client: OAuthClient
) -> None:
    user = connect(sim, oauth_client).request("GET", "/api/v1/users/self")

    assert user["name"] == "Ada Lovelace"
    assert calls(sim) == [TOKEN, SELF]
    issued = sim.issued_tokens(oauth_client.client_id)
    assert sim.requests[1].header("Authorization") == f"Bearer {issued[0]}"


def test_token_request_carries_the_refresh_grant_as_form_fields(
    sim: CanvasSimulator, connect: Connect, oauth_client: OAuthClient
) -> None:
    connect(sim, oauth_client).test_connection()

    sent = sim.requests[0]
    assert sent.header("Content-Type") == "application/x-www-form-urlencoded"
    assert sent.header("Authorization") is None
    form = dict(pair.split("=", 1) for pair in sent.body.decode().split("&"))
    assert form["grant_type"] == "refresh_token"
    assert form["client_id"] == oauth_client.client_id


def test_test_connection_says_who_through_which_developer_key(
    sim: CanvasSimulator, connect: Connect, oauth_client: OAuthClient
) -> None:
    ok, message = connect(sim, oauth_client).test_connection()

    assert ok is True
    assert message == (
        f"Connected to {sim.base_url} as Ada Lovelace (user id 2) through developer key "
        f"{oauth_client.client_id} (tokens renewed automatically)."
    )


def test_the_token_is_reused_by_every_hook_of_the_process_sync_and_async(
    sim: CanvasSimulator, connect: Connect
) -> None:
    oauth_client = sim.add_oauth_client()  # user 1 reads the account's Progress
    pid = sim.create_progress(script=JobScript.instant())
    connect(sim, oauth_client).get_progress(pid)
    connect(sim, oauth_client).get_progress(pid)

    async def read() -> None:
        async with connect(sim, oauth_client) as hook:
            await hook.aget_progress(pid)

    asyncio.run(read())

    assert token_requests(sim) == 1
    assert len(sim.requests) == 4


def test_a_token_is_renewed_shortly_before_it_expires(manual_sim: CanvasSimulator, connect: Connect) -> None:
    # Canvas's clock stands still, so the token cannot expire there: a renewal can only come from
    # the hook's own schedule, which runs on a clock of its own that the test moves.
    client = manual_sim.add_oauth_client(user_id=2, token_lifetime=1.0)
    hook = connect(manual_sim, client)
    hook_time = hook_clock(hook)

    hook.request("GET", "users/self")
    hook_time.advance(0.79)  # just before the renewal point (a fifth of the lifetime before expiry)
    hook.request("GET", "users/self")
    hook_time.advance(0.02)  # just past it
    hook.request("GET", "users/self")

    assert calls(manual_sim) == [TOKEN, SELF, SELF, TOKEN, SELF]  # never refused on the way


def test_a_long_lived_token_is_renewed_a_minute_before_it_expires(
    manual_sim: CanvasSimulator, connect: Connect
) -> None:
    client = manual_sim.add_oauth_client(user_id=2, token_lifetime=3600.0)
    hook = connect(manual_sim, client)
    hook_time = hook_clock(hook)

    hook.request("GET", "users/self")
    hook_time.advance(3539)
    hook.request("GET", "users/self")
    hook_time.advance(2)
    hook.request("GET", "users/self")

    assert calls(manual_sim) == [TOKEN, SELF, SELF, TOKEN, SELF]


def test_expired_token_is_renewed_once_and_the_call_succeeds(
    manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect
) -> None:
    client = manual_sim.add_oauth_client(user_id=2)
    hook = connect(manual_sim, client)
    hook.request("GET", "users/self")
    clock.advance(3601)  # Canvas's clock says expired; this process has not noticed

    assert hook.request("GET", "users/self")["id"] == 2
    assert calls(manual_sim) == [TOKEN, SELF, ("GET", "/api/v1/users/self", 401), TOKEN, SELF]


async def test_async_expired_token_is_renewed_once_and_the_call_succeeds(
    manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect
) -> None:
    client = manual_sim.add_oauth_client()
    pid = manual_sim.create_progress(script=JobScript.never_ending())
    async with connect(manual_sim, client) as hook:
        await hook.aget_progress(pid)
        clock.advance(7200)
        progress = await hook.aget_progress(pid)

    assert progress.id == pid
    assert [status for _, _, status in calls(manual_sim)] == [200, 200, 401, 200, 200]


def test_renewal_happens_once_per_call_not_in_a_loop(sim: CanvasSimulator, connect: Connect) -> None:
    client = sim.add_oauth_client(user_id=2, token_lifetime=0)  # every token is born expired

    with pytest.raises(CanvasTokenExpiredError) as raised:
        connect(sim, client).request("GET", "users/self")

    message = str(raised.value)
    assert "even with an access token obtained just now for Canvas connection 'canvas_default'" in message
    assert "Expired access token." in message
    assert client.client_id in message
    assert "Password" not in message  # the pasted-token advice does not apply

    statuses = [(path, status) for _, path, status in calls(sim)]
    assert statuses == [
        ("/login/oauth2/token", 200),
        ("/api/v1/users/self", 401),
        ("/login/oauth2/token", 200),
        ("/api/v1/users/self", 401),
    ]


def test_a_refresh_by_another_process_is_survived(
    sim: CanvasSimulator, connect: Connect, oauth_client: OAuthClient
) -> None:
    hook = connect(sim, oauth_client)
    hook.request("GET", "users/self")
    # Another worker refreshes with the same refresh token: Canvas regenerates the user's token,
    # so ours becomes unknown ("Invalid access token."), not expired.
    form = {**oauth_client.connection_extra(), "grant_type": "refresh_token"}
    assert requests.post(sim.token_url, data=form, timeout=10).status_code == 200

    assert hook.request("GET", "users/self")["id"] == 2
    assert [status for _, _, status in calls(sim)] == [200, 200, 200, 401, 200, 200]


def test_a_job_starting_call_refused_for_an_expired_token_starts_one_job(
    manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect
) -> None:
    client = manual_sim.add_oauth_client()  # user 1: may start course batch jobs
    hook = connect(manual_sim, client)
    hook.request("GET", "users/self")
    clock.advance(3601)

    progress = hook.start_job("PUT", "accounts/1/courses", data={"event": "offer", "course_ids": [1]})

    puts = [status for method, _, status in calls(manual_sim) if method == "PUT"]
    assert puts == [401, 200]  # refused before it ran, resent once
    assert progress.tag == "course_batch_update"


def test_token_endpoint_outage_is_retried_even_for_a_job_starting_call(sim: CanvasSimulator, connect: Connect) -> None:
    client = sim.add_oauth_client()
    sim.inject(Fault.html(503), times=2, path=r"^/login/oauth2/token$")

    progress = connect(sim, client).start_job("PUT", "accounts/1/courses", data={"event": "offer", "course_ids": [1]})

    assert [s for _, p, s in calls(sim) if p == "/login/oauth2/token"] == [503, 503, 200]
    assert [s for m, _, s in calls(sim) if m == "PUT"] == [200]
    assert progress.tag == "course_batch_update"


def test_unreachable_token_endpoint_fails_naming_it_after_the_retries(
    sim: CanvasSimulator, make_sim: MakeSim, connect: Connect, oauth_client: OAuthClient
) -> None:
    down = make_sim()
    down.stop()

    with pytest.raises(CanvasTokenUnavailableError) as raised:
        connect(sim, oauth_client, token_url=down.token_url).request("GET", "users/self")

    assert down.token_url in str(raised.value)
    assert "not sent" in str(raised.value)
    assert sim.requests == []


@pytest.mark.parametrize(
    ("break_it", "field"),
    [
        (lambda sim, c: {"client_secret": "wrong"}, "client_secret"),
        (lambda sim, c: {"client_id": "999"}, "client_id"),
        (lambda sim, c: {"refresh_token": "1~unknown"}, "refresh_token"),
        (lambda sim, c: {"refresh_token": sim.issue_refresh_token(sim.add_oauth_client().client_id)}, "refresh_token"),
    ],
    ids=["wrong-secret", "unknown-client", "unknown-refresh-token", "another-keys-refresh-token"],
)
def test_bad_credentials_are_refused_naming_the_field_without_calling_the_api(
    sim: CanvasSimulator, connect: Connect, oauth_client: OAuthClient, break_it: object, field: str
) -> None:
    hook = connect(sim, oauth_client, **break_it(sim, oauth_client))  # type: ignore[operator]

    with pytest.raises(CanvasCredentialsError) as raised:
        hook.request("GET", "users/self")

    assert field in str(raised.value)
    assert "'canvas_default'" in str(raised.value)
    assert [p for _, p, _ in calls(sim)] == ["/login/oauth2/token"]  # not retried, API never called
    ok, message = hook.test_connection()
    assert ok is False
    assert field in message


def test_revoked_authorization_mid_run_fails_clearly_after_one_renewal(
    sim: CanvasSimulator, connect: Connect, oauth_client: OAuthClient
) -> None:
    hook = connect(sim, oauth_client)
    hook.request("GET", "users/self")
    sim.revoke_refresh_token(oauth_client.refresh_token)

    with pytest.raises(CanvasCredentialsError, match="refresh_token"):
        hook.request("GET", "users/self")

    assert [s for _, _, s in calls(sim)] == [200, 200, 401, 400]


def test_credentials_refusal_is_an_auth_error_that_is_not_retried(
    sim: CanvasSimulator, connect: Connect, oauth_client: OAuthClient
) -> None:
    with pytest.raises(CanvasAuthError) as raised:
        connect(sim, oauth_client, client_secret="wrong").request("GET", "users/self")

    assert raised.value.retryable is False


async def test_concurrent_async_calls_share_one_token_request(sim: CanvasSimulator, connect: Connect) -> None:
    oauth_client = sim.add_oauth_client()
    pid = sim.create_progress(script=JobScript.never_ending())
    async with connect(sim, oauth_client, max_in_flight=50) as hook:
        await asyncio.gather(*(hook.aget_progress(pid) for _ in range(30)))

    assert token_requests(sim) == 1


async def test_concurrent_triggers_refused_together_renew_once(
    manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect
) -> None:
    client = manual_sim.add_oauth_client()
    pid = manual_sim.create_progress(script=JobScript.never_ending())
    hooks = [connect(manual_sim, client, max_in_flight=50) for _ in range(10)]
    for hook in hooks:
        await hook.__aenter__()
    try:
        await hooks[0].aget_progress(pid)
        clock.advance(3601)
        await asyncio.gather(*(hook.aget_progress(pid) for hook in hooks))
    finally:
        for hook in hooks:
            await hook.aclose()

    # Each refused poll renews only if the token is still the one refused: one new token in all.
    assert token_requests(manual_sim) == 2


def test_concurrent_threads_share_one_token_request(
    sim: CanvasSimulator, connect: Connect, oauth_client: OAuthClient
) -> None:
    hooks = [connect(sim, oauth_client) for _ in range(8)]
    barrier = threading.Barrier(len(hooks))
    failures: list[BaseException] = []

    def call(hook: CanvasHook) -> None:
        barrier.wait()
        try:
            hook.request("GET", "users/self")
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=call, args=(hook,)) for hook in hooks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert failures == []
    assert token_requests(sim) == 1


def test_tokens_without_expiry_are_renewed_only_when_refused(sim: CanvasSimulator, connect: Connect) -> None:
    client = sim.add_oauth_client(user_id=2, token_lifetime=None)
    hook = connect(sim, client)

    for _ in range(3):
        hook.request("GET", "users/self")

    assert token_requests(sim) == 1
    assert (
        "expires_in"
        not in requests.post(
            sim.token_url, data={**client.connection_extra(), "grant_type": "refresh_token"}, timeout=10
        ).json()
    )


def test_a_rotated_secret_gets_a_new_token_not_the_cached_one(sim: CanvasSimulator, connect: Connect) -> None:
    first = sim.add_oauth_client(user_id=2)
    connect(sim, first).request("GET", "users/self")
    second_token = sim.issue_refresh_token(first.client_id, user_id=1)

    user = connect(sim, first, refresh_token=second_token).request("GET", "users/self")

    assert user["id"] == 1
    assert token_requests(sim) == 2
