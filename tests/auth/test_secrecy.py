"""Developer-key secrets stay secret: no failure puts them in logs or errors, and all are masked.

Checked for every secret a connection holds or obtains: the client secret, the refresh token, the
LTI private key (whole, on one line, and line by line), every access token Canvas issued, and
every signed client assertion (replayable at the token endpoint for five minutes).
"""

from __future__ import annotations

import asyncio
import pickle
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from airflow_provider_canvas_progress.core.errors import CanvasError
from airflow_provider_canvas_progress.hooks import canvas as canvas_hook_module
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.testing import CanvasSimulator, Fault, LtiTool, ManualClock, OAuthClient
from airflow_provider_canvas_progress.testing.developer_keys import generate_rsa_key

from .conftest import LTI_COURSE, Connect, MakeSim, assignment_progress, hook_clock

TOKEN_PATH = r"^/login/oauth2/token$"


@pytest.fixture
def unmasked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep Airflow's secrets masker from hiding a leak: the provider's own text must hold no secret."""
    monkeypatch.setattr(canvas_hook_module, "mask_secret", lambda *_args, **_kwargs: None)


@dataclass
class Scene:
    """One simulator (on a manual clock), one OAuth client and one LTI tool, and the secrets to look for."""

    sim: CanvasSimulator
    clock: ManualClock
    make_sim: MakeSim
    connect: Connect
    oauth: OAuthClient
    lti: LtiTool
    extra_secrets: list[str] = field(default_factory=list)

    def oauth_hook(self, **extras: Any) -> CanvasHook:
        return self.connect(self.sim, self.oauth, **extras)

    def lti_hook(self, **extras: Any) -> CanvasHook:
        return self.connect(self.sim, self.lti, **extras)

    def lti_read(self, hook: CanvasHook) -> Any:
        return hook.get_progress(assignment_progress(self.sim), lti_course_id=LTI_COURSE)

    def secrets(self) -> list[str]:
        assert self.lti.private_key is not None
        key_lines = [line for line in self.lti.private_key.splitlines() if "-----" not in line]
        issued = [t for c in (self.oauth.client_id, self.lti.client_id) for t in self.sim.issued_tokens(c)]
        assertions = []
        for sent in self.sim.requests:
            if sent.path == "/login/oauth2/token":
                form = dict(urllib.parse.parse_qsl(sent.body.decode()))
                assertions += [form[name] for name in ("client_assertion",) if name in form]
        return [
            self.oauth.client_secret,
            self.oauth.refresh_token,
            *key_lines,
            "".join(key_lines),
            *issued,
            *assertions,
            *self.extra_secrets,
        ]


Call = Callable[[], Any]


def _async(
    make: Callable[[Scene], Callable[[CanvasHook], Any]], lti: bool = False, **extras: Any
) -> Callable[[Scene], Call]:
    def scenario(s: Scene) -> Call:
        use = make(s)

        async def run() -> Any:
            async with s.lti_hook(**extras) if lti else s.oauth_hook(**extras) as hook:
                return await use(hook)

        return lambda: asyncio.run(run())

    return scenario


def _expired_twice(s: Scene) -> Call:
    client = s.sim.add_oauth_client(token_lifetime=0, client_secret=s.oauth.client_secret)
    s.extra_secrets += [client.refresh_token]
    return lambda: s.connect(s.sim, client).request("GET", "users/self")


def _revoked_mid_run(s: Scene) -> Call:
    hook = s.oauth_hook()
    hook.request("GET", "users/self")
    s.sim.revoke_refresh_token(s.oauth.refresh_token)
    return lambda: hook.request("GET", "users/self")


def _expired_then_refused(s: Scene) -> Call:
    hook = s.oauth_hook()
    hook.request("GET", "users/self")
    s.clock.advance(3601)
    s.sim.inject(Fault.status(401, {"error": "invalid_client", "error_description": "invalid client"}), path=TOKEN_PATH)
    return lambda: hook.request("GET", "users/self")


def _lti_expired_then_refused(s: Scene) -> Call:
    hook = s.lti_hook()
    s.lti_read(hook)
    s.clock.advance(3601)
    s.sim.inject(Fault.status(400, {"error": "invalid_request", "error_description": "JWS signature invalid."}))
    return lambda: s.lti_read(hook)


def _unreachable(s: Scene) -> Call:
    down = s.make_sim()
    down.stop()
    return lambda: s.oauth_hook(token_url=down.token_url).request("GET", "users/self")


def _token_fault(fault: Fault, lti: bool = False, **extras: Any) -> Callable[[Scene], Call]:
    def scenario(s: Scene) -> Call:
        s.sim.inject(fault, times=10, path=TOKEN_PATH)
        if lti:
            return lambda: s.lti_read(s.lti_hook(**extras))
        return lambda: s.oauth_hook(**extras).request("GET", "users/self")

    return scenario


def _other_key(s: Scene) -> Call:
    other, _ = generate_rsa_key()
    s.extra_secrets += [line for line in other.splitlines() if "-----" not in line]
    return lambda: s.lti_read(s.lti_hook(private_key=other))


def _malformed_key(s: Scene) -> Call:
    assert s.lti.private_key is not None
    broken = s.lti.private_key.replace(s.lti.private_key.splitlines()[5], "A" * 64)
    return lambda: s.lti_read(s.lti_hook(private_key=broken))


def _encrypted_key(s: Scene) -> Call:
    from cryptography.hazmat.primitives import serialization

    assert s.lti.private_key is not None
    key = serialization.load_pem_private_key(s.lti.private_key.encode(), password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
    ).decode()
    s.extra_secrets += [line for line in encrypted.splitlines() if "-----" not in line]
    return lambda: s.lti_read(s.lti_hook(private_key=encrypted))


LEAK_SCENARIOS: dict[str, Callable[[Scene], Call]] = {
    "oauth-wrong-secret": lambda s: lambda: s.oauth_hook(client_secret="wrong-but-secret").request("GET", "users/self"),
    "oauth-unknown-client": lambda s: lambda: s.oauth_hook(client_id="31337").request("GET", "users/self"),
    "oauth-unknown-refresh-token": lambda s: lambda: s.oauth_hook(refresh_token="1~nope-nope").request("GET", "x"),
    "oauth-other-keys-refresh-token": lambda s: (
        lambda: s.oauth_hook(refresh_token=s.sim.issue_refresh_token(s.sim.add_oauth_client().client_id)).request(
            "GET", "users/self"
        )
    ),
    "oauth-revoked-mid-run": _revoked_mid_run,
    "oauth-expired-twice": _expired_twice,
    "oauth-expired-then-refused": _expired_then_refused,
    "oauth-token-500": _token_fault(Fault.status(500)),
    "oauth-token-html-503": _token_fault(Fault.html(503)),
    "oauth-token-dropped": _token_fault(Fault.drop()),
    "oauth-token-reset": _token_fault(Fault.reset()),
    "oauth-token-timeout": _token_fault(Fault.delay(0.5), timeout=0.1),
    "oauth-token-redirect": _token_fault(Fault.redirect("https://sso.example.edu/login?x=1")),
    "oauth-token-not-json": _token_fault(Fault.body(200, "<html>hello</html>", "text/html")),
    "oauth-token-url-404": lambda s: lambda: s.oauth_hook(token_url=f"{s.sim.base_url}/nope").request("GET", "x"),
    "oauth-unreachable": _unreachable,
    "oauth-test-connection": lambda s: lambda: s.oauth_hook(client_secret="wrong-but-secret").test_connection(),
    "oauth-insecure-token-url": lambda s: (
        lambda: s.oauth_hook(token_url="http://user:hunter22@canvas.example.edu/login/oauth2/token").request(
            "GET", "users/self"
        )
    ),
    "oauth-async-wrong-secret": _async(lambda s: lambda h: h.arequest("GET", "users/self"), client_secret="wrong-xx"),
    "oauth-async-token-500": lambda s: (
        s.sim.inject(Fault.status(500), times=10, path=TOKEN_PATH),
        _async(lambda s: lambda h: h.arequest("GET", "users/self"))(s),
    )[1],
    "lti-other-key": _other_key,
    "lti-unknown-client": lambda s: lambda: s.lti_read(s.lti_hook(client_id="31337")),
    "lti-scope-refused": lambda s: (
        lambda: s.lti_read(
            s.connect(
                s.sim,
                None,
                auth_type="lti_advantage",
                client_id=s.sim.add_lti_tool(public_jwk=dict(s.lti.public_jwk), scopes=["x"]).client_id,
                private_key=s.lti.private_key,
            )
        )
    ),
    "lti-malformed-key": _malformed_key,
    "lti-encrypted-key": _encrypted_key,
    "lti-api-v1-refused": lambda s: lambda: s.lti_hook().request("GET", "users/self"),
    "lti-expired-then-refused": _lti_expired_then_refused,
    "lti-token-html-503": _token_fault(Fault.html(503), lti=True),
    "lti-test-connection-other-key": lambda s: lambda: s.lti_hook(private_key=generate_rsa_key()[0]).test_connection(),
    "lti-async-unknown-client": _async(
        lambda s: lambda h: h.aget_progress(assignment_progress(s.sim), lti_course_id=LTI_COURSE),
        lti=True,
        client_id="31337",
    ),
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


@pytest.fixture
def scene(manual_sim: CanvasSimulator, clock: ManualClock, make_sim: MakeSim, connect: Connect) -> Scene:
    return Scene(
        manual_sim,
        clock,
        make_sim,
        connect,
        manual_sim.add_oauth_client(),
        manual_sim.add_lti_tool(courses=[LTI_COURSE]),
    )


@pytest.mark.usefixtures("unmasked")
@pytest.mark.parametrize("scenario", LEAK_SCENARIOS.values(), ids=LEAK_SCENARIOS.keys())
def test_no_auth_failure_puts_a_secret_in_logs_or_errors(
    scene: Scene, emitted: Callable[[], str], scenario: Callable[[Scene], Call]
) -> None:
    call = scenario(scene)

    try:
        returned = call()
    except CanvasError as error:
        texts = _exception_texts(error)
    else:
        ok, message = returned  # only test_connection reports failure instead of raising
        assert ok is False
        texts = [message]
    texts.append(emitted())

    secrets = [secret for secret in scene.secrets() if len(secret) >= 8]
    leaks = [secret[:12] + "..." for secret in secrets if any(secret in text for text in texts)]
    assert leaks == []


@pytest.mark.usefixtures("unmasked")
def test_successful_renewals_log_who_but_no_token(
    manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect, emitted: Callable[[], str]
) -> None:
    client = manual_sim.add_oauth_client()
    hook = connect(manual_sim, client)
    hook.request("GET", "users/self")
    clock.advance(3601)
    hook.request("GET", "users/self")

    logged = emitted()
    assert "Obtained a Canvas access token" in logged
    assert "getting a new one" in logged
    for secret in [client.client_secret, client.refresh_token, *manual_sim.issued_tokens(client.client_id)]:
        assert secret not in logged


@pytest.mark.parametrize("mode", ["oauth2_refresh", "lti_advantage"])
def test_every_secret_and_every_issued_token_is_registered_with_the_masker(
    manual_sim: CanvasSimulator, connect: Connect, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    # Canvas's clock stands still, so no token expires there however slow the machine: the second
    # token comes from the hook's own renewal schedule, never from a refusal.
    sim = manual_sim
    registered: list[str] = []
    monkeypatch.setattr(canvas_hook_module, "mask_secret", registered.append)
    credentials: OAuthClient | LtiTool
    if mode == "oauth2_refresh":
        credentials = sim.add_oauth_client(token_lifetime=0.2)
        hook = connect(sim, credentials)
        renewal_clock = hook_clock(hook)
        call = lambda: hook.request("GET", "users/self")  # noqa: E731
        expected = [credentials.client_secret, credentials.refresh_token]
    else:
        credentials = sim.add_lti_tool(courses=[LTI_COURSE], token_lifetime=0.2)
        hook = connect(sim, credentials)
        renewal_clock = hook_clock(hook)
        pid = assignment_progress(sim)
        call = lambda: hook.get_progress(pid, lti_course_id=LTI_COURSE)  # noqa: E731
        assert credentials.private_key is not None
        body = "".join(line for line in credentials.private_key.splitlines() if "-----" not in line)
        expected = [credentials.private_key, body]

    call()
    renewal_clock.advance(0.25)  # past the hook's renewal point for a 0.2 s token: the second call renews
    call()

    issued = sim.issued_tokens(credentials.client_id)
    assert len(issued) == 2
    assert set(expected) | set(issued) <= set(registered)


def test_token_sources_and_hooks_show_no_secret(
    sim: CanvasSimulator, connect: Connect, oauth_client: OAuthClient
) -> None:
    from airflow_provider_canvas_progress.hooks import tokens

    hook = connect(sim, oauth_client)
    hook.request("GET", "users/self")
    shown = repr(hook) + repr(vars(hook)) + repr(tokens._sources) + repr(hook.settings)

    for secret in [oauth_client.client_secret, oauth_client.refresh_token, *sim.issued_tokens(oauth_client.client_id)]:
        assert secret not in shown
