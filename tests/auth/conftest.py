"""Fixtures for the auth-mode tests: a simulator with developer keys, and connections that use them.

Every hook here talks to an embedded :class:`CanvasSimulator` over real sockets, and finds its
connection the way Airflow does, through ``AIRFLOW_CONN_<ID>``. Process-wide caches (token sources,
throttle gates) are emptied around each test, as a fresh worker or triggerer would start.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# Airflow reads AIRFLOW_HOME when first imported; keep it away from the developer's own.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="canvas-auth-tests-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from airflow_provider_canvas_progress.hooks import canvas as canvas_hook_module
from airflow_provider_canvas_progress.hooks import tokens as tokens_module
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript, LtiTool, ManualClock, OAuthClient

#: Retry extras that keep a four-attempt call in the milliseconds.
FAST_RETRIES: dict[str, Any] = {"retry_wait_initial": 0.01, "retry_wait_max": 0.05, "max_attempts": 4}
#: The course the LTI tool of these tests is installed in, and an assignment of it.
LTI_COURSE, LTI_ASSIGNMENT = 7, 70

Connect = Callable[..., CanvasHook]
MakeSim = Callable[..., CanvasSimulator]


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> Iterator[None]:
    """Forget cached access tokens and throttle gates, as a new worker process would."""
    canvas_hook_module._gates.clear()
    tokens_module._sources.clear()
    yield
    canvas_hook_module._gates.clear()
    tokens_module._sources.clear()


def _masker() -> Any:
    """Airflow's process-wide secrets masker (its module moved twice: 2.x, 3.0, 3.1+)."""
    try:
        from airflow.sdk._shared.secrets_masker.secrets_masker import _secrets_masker
    except ImportError:
        try:  # Airflow 3.0
            from airflow.sdk.execution_time.secrets_masker import _secrets_masker
        except ImportError:  # Airflow 2
            from airflow.utils.log.secrets_masker import _secrets_masker
    return _secrets_masker()


@pytest.fixture(autouse=True)
def _fresh_secrets_masker() -> Iterator[None]:
    """Start each test with the masker's patterns as they were, as a new worker process would.

    Each test here makes new keys and tokens; without this the masker's one big regex, recompiled
    for every new secret, grows over the whole session and every test gets slower.
    """
    masker = _masker()
    patterns, replacer = set(masker.patterns), masker.replacer
    yield
    masker.patterns, masker.replacer = patterns, replacer


@pytest.fixture
def make_sim(canvas_simulator_factory: MakeSim) -> MakeSim:
    """Start a simulator with options (``clock=ManualClock()``...); stopped after the test."""
    return canvas_simulator_factory


@pytest.fixture
def sim(make_sim: MakeSim) -> CanvasSimulator:
    """A simulator on the real clock, with user 2 "Ada Lovelace"."""
    started = make_sim()
    started.add_user(2, name="Ada Lovelace")
    return started


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand: the simulator's tokens expire only when it does."""
    return ManualClock()


def hook_clock(hook: CanvasHook) -> ManualClock:
    """Put ``hook``'s token source on a clock of its own, moved by hand (its renewals follow it).

    The source is the one every hook of the connection shares in this process (emptied before each
    test), so set it before the first call.
    """
    clock = ManualClock(start=1_000.0)
    tokens_module.token_source_for(hook.settings).clock = clock.now
    return clock


@pytest.fixture
def manual_sim(make_sim: MakeSim, clock: ManualClock) -> CanvasSimulator:
    """A simulator on ``clock``: its tokens expire when the test advances it, unknown to the hook."""
    started = make_sim(clock=clock)
    started.add_user(2, name="Ada Lovelace")
    return started


@pytest.fixture
def connect(monkeypatch: pytest.MonkeyPatch) -> Connect:
    """Point an Airflow connection at a simulator with a developer key and return a hook on it.

    ``connect(sim, credentials, conn_id=..., host=..., **extras)``: the extras are
    :data:`FAST_RETRIES`, then the credentials' own, then ``extras`` (``None`` removes one).
    """

    def connect(
        sim: CanvasSimulator | None,
        credentials: OAuthClient | LtiTool | None = None,
        *,
        conn_id: str = "canvas_default",
        host: str | None = None,
        password: str | None = None,
        **extras: Any,
    ) -> CanvasHook:
        extra = {**FAST_RETRIES, **(credentials.connection_extra() if credentials is not None else {}), **extras}
        connection = {
            "conn_type": "canvas",
            "host": host if host is not None else sim.base_url,  # type: ignore[union-attr]
            "extra": {key: value for key, value in extra.items() if value is not None},
        }
        if password is not None:
            connection["password"] = password
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))
        return CanvasHook(conn_id)

    return connect


@pytest.fixture
def oauth_client(sim: CanvasSimulator) -> OAuthClient:
    """A developer key with Ada's refresh token; tokens live an hour."""
    return sim.add_oauth_client(user_id=2)


@pytest.fixture
def lti_tool(sim: CanvasSimulator) -> LtiTool:
    """An LTI tool installed in course 7, with a key pair the simulator generated."""
    return sim.add_lti_tool(courses=[LTI_COURSE])


def assignment_progress(sim: CanvasSimulator, script: JobScript | None = None) -> str:
    """A Progress of assignment 70 in course 7: what the LTI progress endpoint serves."""
    sim.add_assignment(LTI_ASSIGNMENT, course_id=LTI_COURSE)
    return sim.create_progress(
        tag="lti_job",
        context_type="Assignment",
        context_id=LTI_ASSIGNMENT,
        user_id=None,
        script=script if script is not None else JobScript.instant(),
    )


def calls(sim: CanvasSimulator) -> list[tuple[str, str, int | None]]:
    """``(method, path, status)`` of every request the simulator received, in order."""
    return [(r.method, r.path, r.status) for r in sim.requests]


def token_requests(sim: CanvasSimulator) -> int:
    """How many requests reached the token endpoint."""
    return sum(1 for r in sim.requests if r.path == "/login/oauth2/token")


@pytest.fixture
def emitted(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """Everything logged or printed so far, whichever way this Airflow routes it.

    Airflow 2 logs through the standard library (caught by caplog); Airflow 3 renders hook logs
    with structlog straight to the process's stdout (caught by capfd, a superset of capsys).
    """
    caplog.set_level("DEBUG")
    seen: list[str] = []

    def text() -> str:
        out, err = capfd.readouterr()
        seen.extend([out, err])
        return "\n".join([caplog.text, *seen])

    return text
