"""The token stays secret: never in logs or errors, never sent anywhere but the connection's host."""

from __future__ import annotations

import asyncio
import pickle
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_canvas_progress.core.errors import (
    CanvasConfigurationError,
    CanvasError,
    CanvasResponseError,
    ForeignHostError,
)
from airflow_provider_canvas_progress.hooks import canvas as canvas_hook_module
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.testing import LTI_PROGRESS_SCOPE, CanvasSimulator, Fault, JobScript

from .conftest import Connect, MakeSim


@pytest.fixture
def attacker(make_sim: MakeSim) -> CanvasSimulator:
    """A second simulator on another port, standing for a host that must never see the token."""
    return make_sim()


@pytest.fixture
def canary() -> str:
    """A token unique to this test, shaped like Canvas's, so that any copy of it can be found."""
    return f"7~CANARY{uuid.uuid4().hex}{uuid.uuid4().hex}"


@pytest.fixture
def unmasked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep Airflow's secrets masker from hiding a leak: the hook's own text must hold no token."""
    monkeypatch.setattr(canvas_hook_module, "mask_secret", lambda *_args, **_kwargs: None)


# -- leak scenarios: each sets up a failure and returns the call that fails ----------------------


@dataclass
class Scene:
    sim: CanvasSimulator
    attacker: CanvasSimulator
    make_sim: Callable[..., CanvasSimulator]
    connect: Connect
    token: str

    def progress(self, **options: Any) -> str:
        return self.sim.create_progress(script=JobScript.instant(), **options)

    def hook(self, sim: CanvasSimulator | None = None, **extras: Any) -> CanvasHook:
        return self.connect(sim or self.sim, token=self.token, **extras)

    def valid(self, **token_options: Any) -> Scene:
        self.sim.add_token(self.token, **token_options)
        return self


Call = Callable[[], Any]


def _invalid_token(s: Scene) -> Call:
    return lambda: s.hook().get_progress(s.progress())


def _expired_token(s: Scene) -> Call:
    return lambda: s.valid(state="expired").hook().get_progress(s.progress())


def _revoked_token(s: Scene) -> Call:
    return lambda: s.valid(state="revoked").hook().get_progress(s.progress())


def _insufficient_scopes(s: Scene) -> Call:
    return lambda: s.valid(scopes=["url:GET|/api/v1/users/:id"]).hook().get_progress(s.progress())


def _forbidden(s: Scene) -> Call:
    return lambda: s.valid(user_id=2, contexts=()).hook().get_progress(s.progress())


def _forbidden_older_canvas(s: Scene) -> Call:
    older = s.make_sim(permission_status=401)
    older.add_token(s.token, user_id=2, contexts=())
    progress_id = older.create_progress()
    return lambda: s.hook(older).get_progress(progress_id)


def _cancel_refused(s: Scene) -> Call:
    return lambda: s.valid().hook().cancel_progress(s.progress(user_id=None), message="stop")


def _not_found(s: Scene) -> Call:
    return lambda: s.valid().hook().get_progress(987654)


def _validation(s: Scene) -> Call:
    return lambda: s.valid().hook().start_job("PUT", "accounts/1/courses", data={"course_ids": [1]})


def _lti_expired(s: Scene) -> Call:
    s.sim.add_token(s.token, kind="lti", state="expired", scopes=[LTI_PROGRESS_SCOPE])
    return lambda: s.hook().get_progress(1, lti_course_id=1)


def _faulted(fault: Fault, **extras: Any) -> Callable[[Scene], Call]:
    def scenario(s: Scene) -> Call:
        s.sim.inject(fault, times=10)
        return lambda: s.valid().hook(**extras).get_progress(s.progress())

    return scenario


def _unknown_state(s: Scene) -> Call:
    progress_id = s.progress()
    s.sim.set_progress(progress_id, workflow_state="paused")
    return lambda: s.valid().hook().get_progress(progress_id)


def _malformed_progress(s: Scene) -> Call:
    s.sim.inject(Fault.body(200, '{"id": 1, "workflow_state": "running", "completion": "x"}', "application/json"))
    return lambda: s.valid().hook().get_progress(1)


def _unreachable(s: Scene) -> Call:
    down = s.make_sim()
    down.stop()
    return lambda: s.connect(host=f"http://127.0.0.1:{down.port}", token=s.token).get_progress(1)


def _redirect(s: Scene) -> Call:
    s.sim.inject(Fault.redirect(f"{s.attacker.base_url}/login"))
    return lambda: s.valid().hook().get_progress(s.progress())


def _foreign_progress_url(s: Scene) -> Call:
    return lambda: s.valid().hook().get_progress(f"{s.attacker.base_url}/api/v1/progress/1")


def _foreign_endpoint(s: Scene) -> Call:
    return lambda: s.valid().hook().request("GET", f"{s.attacker.base_url}/api/v1/users/self")


def _insecure_http(s: Scene) -> Call:
    return lambda: s.connect(host="http://canvas.example.edu", token=s.token).get_progress(1)


def _test_connection(s: Scene) -> Call:
    return lambda: s.hook().test_connection()


def _async(make_call: Callable[[Scene], Callable[[CanvasHook], Any]], **extras: Any) -> Callable[[Scene], Call]:
    def scenario(s: Scene) -> Call:
        use = make_call(s)

        async def run() -> Any:
            async with s.valid().hook(**extras) as hook:
                return await use(hook)

        return lambda: asyncio.run(run())

    return scenario


LEAK_SCENARIOS = {
    "401-invalid-token": _invalid_token,
    "401-expired-token": _expired_token,
    "401-revoked-token": _revoked_token,
    "401-insufficient-scopes": _insufficient_scopes,
    "403-permission": _forbidden,
    "401-permission-older-canvas": _forbidden_older_canvas,
    "403-cancel-refused": _cancel_refused,
    "404-not-found": _not_found,
    "400-validation": _validation,
    "401-lti-expired": _lti_expired,
    "500-retries-spent": _faulted(Fault.status(500)),
    "503-html-retries-spent": _faulted(Fault.html(503)),
    "throttled": _faulted(Fault.body(429, "429 Too Many Requests (Rate Limit Exceeded)"), max_attempts=1),
    "malformed-json-retries-spent": _faulted(Fault.malformed_json()),
    "truncated-json-retries-spent": _faulted(Fault.truncated_json()),
    "dropped-retries-spent": _faulted(Fault.drop()),
    "reset-retries-spent": _faulted(Fault.reset()),
    "timeout-retries-spent": _faulted(Fault.delay(0.5), timeout=0.1),
    "malformed-progress": _malformed_progress,
    "unknown-state": _unknown_state,
    "connection-refused": _unreachable,
    "redirect": _redirect,
    "foreign-progress-url": _foreign_progress_url,
    "foreign-endpoint": _foreign_endpoint,
    "insecure-http": _insecure_http,
    "test-connection": _test_connection,
    "async-404": _async(lambda s: lambda hook: hook.aget_progress(987654)),
    "async-cancel-refused": _async(lambda s: lambda hook: hook.acancel_progress(s.progress(user_id=None))),
    "async-500-retries-spent": _async(
        lambda s: (s.sim.inject(Fault.status(500), times=10), lambda hook: hook.aget_progress(1))[1]
    ),
    "async-timeout-retries-spent": _async(
        lambda s: (s.sim.inject(Fault.delay(0.5), times=10), lambda hook: hook.aget_progress(1))[1], timeout=0.1
    ),
    "async-redirect": _async(
        lambda s: (s.sim.inject(Fault.redirect(s.attacker.base_url)), lambda hook: hook.aget_progress(1))[1]
    ),
    "async-foreign-endpoint": _async(lambda s: lambda hook: hook.arequest("GET", f"{s.attacker.base_url}/x")),
}


def _exception_texts(error: BaseException) -> list[str]:
    """Every text an error, and each error it was raised from, could show: str, repr, args, fields, pickle."""
    texts: list[str] = []
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args), repr(vars(current))]
        pending += [current.__cause__, current.__context__]
    texts.append(pickle.dumps(error).decode("latin-1"))
    return texts


@pytest.mark.usefixtures("unmasked")
@pytest.mark.parametrize("scenario", LEAK_SCENARIOS.values(), ids=LEAK_SCENARIOS.keys())
def test_no_failure_puts_the_token_in_logs_or_errors(
    sim: CanvasSimulator,
    attacker: CanvasSimulator,
    make_sim: MakeSim,
    connect: Connect,
    canary: str,
    emitted: Callable[[], str],
    scenario: Callable[[Scene], Call],
) -> None:
    call = scenario(Scene(sim, attacker, make_sim, connect, canary))

    try:
        returned = call()
    except CanvasError as error:
        texts = _exception_texts(error)
    else:
        ok, message = returned  # only test_connection reports failure instead of raising
        assert ok is False
        texts = [message]
    texts.append(emitted())

    secret = canary.split("~", 1)[1]
    leaks = [text for text in texts if secret in text]
    assert leaks == []


def _chain(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is not None and all(current is not seen for seen in chain):
            chain.append(current)
            pending += [current.__cause__, current.__context__]
    return chain


def test_transport_error_keeps_no_request_that_carried_the_token(
    make_sim: MakeSim, connect: Connect, canary: str
) -> None:
    down = make_sim()
    down.stop()

    with pytest.raises(CanvasError) as raised:
        connect(host=down.base_url, token=canary, max_attempts=1).get_progress(1)

    headers = [dict(error.request.headers) for error in _chain(raised.value) if getattr(error, "request", None)]
    assert not [h for h in headers if canary in str(h)]


def test_token_is_registered_with_airflows_secrets_masker(
    hook: CanvasHook, sim: CanvasSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered: list[str] = []
    monkeypatch.setattr(canvas_hook_module, "mask_secret", registered.append)

    hook.get_progress(sim.create_progress())

    assert registered == [sim.token]


def test_token_travels_only_in_the_authorization_header(sim: CanvasSimulator, hook: CanvasHook) -> None:
    progress_id = sim.create_progress(user_id=1, script=JobScript.never_ending())

    hook.get_progress(progress_id)
    hook.cancel_progress(progress_id, message="stop")
    hook.start_job("PUT", "accounts/1/courses", data={"event": "offer", "course_ids": [1]})

    assert len(sim.requests) == 3
    for sent in sim.requests:
        assert sent.header("Authorization") == f"Bearer {sim.token}"
        assert sim.token not in sent.path + sent.query
        assert sim.token.encode() not in sent.body


def test_repr_of_hook_and_settings_hold_no_token(hook: CanvasHook, sim: CanvasSimulator) -> None:
    settings = hook.settings

    shown = [repr(hook), str(hook), repr(settings), str(settings), repr(vars(hook))]

    assert not [text for text in shown if sim.token in text]
    assert settings.token == sim.token


# -- the token is never sent to another host ------------------------------------------------------


def test_progress_url_on_another_port_is_refused_without_any_request(
    sim: CanvasSimulator, attacker: CanvasSimulator, hook: CanvasHook
) -> None:
    with pytest.raises(ForeignHostError, match=f"127.0.0.1:{attacker.port}"):
        hook.get_progress(f"{attacker.base_url}/api/v1/progress/1")

    assert (sim.requests, attacker.requests) == ([], [])


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/api/v1/progress/1",
        "http://localhost:{port}/api/v1/progress/1",
        "https://127.0.0.1:{port}/api/v1/progress/1",
        "http://{host}:{port}@evil.example/api/v1/progress/1",
    ],
    ids=["other-host", "other-name-for-loopback", "other-scheme", "userinfo-trick"],
)
def test_progress_url_off_the_connections_origin_is_refused(sim: CanvasSimulator, hook: CanvasHook, url: str) -> None:
    with pytest.raises(ForeignHostError):
        hook.get_progress(url.format(host=sim.host, port=sim.port))

    assert sim.requests == []


def test_redirect_to_another_host_is_not_followed(
    sim: CanvasSimulator, attacker: CanvasSimulator, hook: CanvasHook
) -> None:
    sim.inject(Fault.redirect(f"{attacker.base_url}/api/v1/progress/1?session=PATHSECRET"))

    with pytest.raises(CanvasResponseError, match="redirect") as raised:
        hook.get_progress(sim.create_progress())

    assert attacker.requests == []
    assert len(sim.requests) == 1
    assert attacker.base_url in str(raised.value)
    assert "PATHSECRET" not in str(raised.value)


async def test_async_redirect_to_another_host_is_not_followed(
    sim: CanvasSimulator, attacker: CanvasSimulator, connect: Connect
) -> None:
    sim.inject(Fault.redirect(f"{attacker.base_url}/api/v1/progress/1", status=307))
    progress_id = sim.create_progress()

    async with connect(sim) as hook:
        with pytest.raises(CanvasResponseError, match="redirect"):
            await hook.aget_progress(progress_id)

    assert attacker.requests == []


@pytest.mark.parametrize("method", ["request", "start_job"])
def test_endpoint_given_as_a_foreign_absolute_url_is_refused(
    sim: CanvasSimulator, attacker: CanvasSimulator, hook: CanvasHook, method: str
) -> None:
    with pytest.raises(ForeignHostError):
        getattr(hook, method)("PUT", f"{attacker.base_url}/api/v1/accounts/1/courses", data={"event": "offer"})

    assert (sim.requests, attacker.requests) == ([], [])


async def test_async_endpoint_given_as_a_foreign_absolute_url_is_refused(
    attacker: CanvasSimulator, connect: Connect, sim: CanvasSimulator
) -> None:
    with pytest.raises(ForeignHostError):
        await connect(sim).arequest("GET", f"{attacker.base_url}/api/v1/users/self")

    assert attacker.requests == []


def test_protocol_relative_endpoint_stays_on_the_connections_host(
    sim: CanvasSimulator, attacker: CanvasSimulator, hook: CanvasHook
) -> None:
    with pytest.raises(CanvasError):
        hook.request("GET", f"//127.0.0.1:{attacker.port}/api/v1/users/self")

    assert attacker.requests == []
    assert len(sim.requests) == 1


def test_progress_url_on_another_host_in_a_job_answer_is_refused(
    sim: CanvasSimulator, attacker: CanvasSimulator, hook: CanvasHook
) -> None:
    answer = f'{{"id": 5, "workflow_state": "running", "progress_url": "{attacker.base_url}/api/v1/progress/1"}}'
    sim.inject(Fault.body(200, answer, "application/json; charset=utf-8"))

    with pytest.raises(ForeignHostError):
        hook.start_job("POST", "courses/1/content_migrations", data={"migration_type": "course_copy_importer"})

    assert attacker.requests == []


@pytest.fixture
def proxy_environment(monkeypatch: pytest.MonkeyPatch, attacker: CanvasSimulator) -> None:
    """Every proxy variable points at the attacker; a client honouring them would send it the token."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, attacker.base_url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("proxy_environment")
def test_environment_proxies_are_ignored(sim: CanvasSimulator, attacker: CanvasSimulator, hook: CanvasHook) -> None:
    hook.get_progress(sim.create_progress())

    assert attacker.requests == []
    assert len(sim.requests) == 1


@pytest.mark.usefixtures("proxy_environment")
async def test_async_environment_proxies_are_ignored(
    sim: CanvasSimulator, attacker: CanvasSimulator, connect: Connect
) -> None:
    async with connect(sim) as hook:
        await hook.aget_progress(sim.create_progress())

    assert attacker.requests == []
    assert len(sim.requests) == 1


def test_netrc_credentials_do_not_replace_the_token(
    sim: CanvasSimulator, hook: CanvasHook, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {sim.host} login someone password other\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))

    hook.get_progress(sim.create_progress())

    assert sim.requests[0].header("Authorization") == f"Bearer {sim.token}"


def test_plain_http_to_a_non_loopback_host_is_refused_by_connection_validation(connect: Connect) -> None:
    hook = connect(host="http://canvas.example.edu", token="7~token")

    with pytest.raises(CanvasConfigurationError, match="allow_insecure_http"):
        hook.get_progress(1)


async def test_async_plain_http_to_a_non_loopback_host_is_refused(connect: Connect) -> None:
    hook = connect(host="http://canvas.example.edu", token="7~token")

    with pytest.raises(CanvasConfigurationError, match="allow_insecure_http"):
        await hook.aget_progress(1)
