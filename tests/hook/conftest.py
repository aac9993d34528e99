"""Fixtures for the CanvasHook integration tests: a real simulator on loopback and a connection to it.

Every test talks to an embedded :class:`CanvasSimulator` over real sockets; nothing in requests or
aiohttp is mocked. The hook finds its connection the way Airflow does, through an
``AIRFLOW_CONN_<ID>`` environment variable, with retry waits shrunk so that a test of four attempts
takes milliseconds.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# Airflow reads AIRFLOW_HOME when first imported; keep it away from the developer's own.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="canvas-hook-tests-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from airflow_provider_canvas_progress.hooks import canvas as canvas_hook_module
from airflow_provider_canvas_progress.hooks import connections
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.testing import CanvasSimulator, ManualClock
from tests.hook.hostile_server import HostileServer

#: Retry extras that keep a four-attempt call in the milliseconds.
FAST_RETRIES: dict[str, Any] = {"retry_wait_initial": 0.01, "retry_wait_max": 0.05, "max_attempts": 4}

Connect = Callable[..., CanvasHook]
MakeSim = Callable[..., CanvasSimulator]


@pytest.fixture(autouse=True)
def _fresh_token_gates() -> Iterator[None]:
    """Forget every per-token pacer and in-flight cap, so no pause carries over from another test."""
    canvas_hook_module._gates.clear()
    yield
    canvas_hook_module._gates.clear()


@pytest.fixture
def sim(canvas_simulator: CanvasSimulator) -> CanvasSimulator:
    """A simulator with Canvas's defaults on the real clock."""
    return canvas_simulator


@pytest.fixture
def make_sim(canvas_simulator_factory: MakeSim) -> MakeSim:
    """Start a simulator with options (``global_ids=True``, ``permission_status=401``...)."""
    return canvas_simulator_factory


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand: scripted jobs advance only when it does."""
    return ManualClock()


@pytest.fixture
def manual_sim(make_sim: MakeSim, clock: ManualClock) -> CanvasSimulator:
    """A simulator whose jobs move only when ``clock.advance`` is called."""
    return make_sim(clock=clock)


@pytest.fixture
def connect(monkeypatch: pytest.MonkeyPatch) -> Connect:
    """Point an Airflow connection at a simulator (or any host) and return a hook on it.

    ``connect(sim, token=..., conn_id=..., host=..., **extras)``: the token defaults to the
    simulator's admin token, the host to its base URL, and the extras to :data:`FAST_RETRIES`
    overridden by ``extras``.
    """

    def connect(
        sim: CanvasSimulator | None = None,
        *,
        token: str | None = None,
        conn_id: str = "canvas_default",
        host: str | None = None,
        hook_kwargs: dict[str, Any] | None = None,
        **extras: Any,
    ) -> CanvasHook:
        connection = {
            "conn_type": "canvas",
            "host": host if host is not None else sim.base_url,  # type: ignore[union-attr]
            "password": token if token is not None else sim.token,  # type: ignore[union-attr]
            "extra": {**FAST_RETRIES, **extras},
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))
        return CanvasHook(conn_id, **(hook_kwargs or {}))

    return connect


@pytest.fixture
def hook(sim: CanvasSimulator, connect: Connect) -> CanvasHook:
    """A hook on ``sim`` with the admin token and fast retries."""
    return connect(sim)


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


@pytest.fixture(autouse=True)
def _fresh_connection_reads() -> Iterator[None]:
    """Forget connections read by earlier tests (the per-process cache keeps them a minute)."""
    connections.clear()
    yield
    connections.clear()


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """A raw HTTP server on 127.0.0.1 whose ``script`` a test sets (:mod:`tests.hook.hostile_server`)."""
    with HostileServer() as server:
        yield server
