"""Fixtures for the reliability suites: a hostile server on loopback and connections pointing at it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_canvas_progress.hooks import canvas as canvas_hook_module
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from tests.hook.conftest import emitted  # noqa: F401  (a fixture: everything logged or printed so far)
from tests.reliability.hostile import HostileServer

#: One try, short back-offs: a hostile case should fail (or not) in seconds.
QUICK: dict[str, Any] = {"max_attempts": 1, "retry_wait_initial": 0.01, "retry_wait_max": 0.05, "timeout": 2}

Connect = Callable[..., CanvasHook]


@pytest.fixture(autouse=True)
def _fresh_token_gates() -> Iterator[None]:
    """No pause or session carries over from another test's token."""
    gates = getattr(canvas_hook_module, "_gates", None)
    if gates is not None:
        gates.clear()
    yield
    if gates is not None:
        gates.clear()


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as running:
        yield running


@pytest.fixture
def token() -> str:
    """A token unique to the test, shaped like Canvas's, so that any echo of it can be found."""
    return f"7~HOSTILE{uuid.uuid4().hex}{uuid.uuid4().hex[:12]}"


@pytest.fixture
def connect(monkeypatch: pytest.MonkeyPatch, server: HostileServer, token: str) -> Connect:
    """``connect(**extras)``: a hook on ``canvas_default`` pointing at the hostile server.

    ``host=``, ``password=`` and ``conn_id=`` override the defaults; other keywords are extras,
    on top of :data:`QUICK`.
    """

    def connect(
        *, host: str | None = None, password: str | None = None, conn_id: str = "canvas_default", **extras: Any
    ) -> CanvasHook:
        set_connection(
            monkeypatch,
            conn_id,
            host=host or server.base_url,
            password=token if password is None else password,
            extras={**QUICK, **extras},
        )
        return CanvasHook(conn_id)

    return connect


def set_connection(
    monkeypatch: pytest.MonkeyPatch, conn_id: str, *, host: str, password: str | None, extras: dict[str, Any]
) -> None:
    fields = {"conn_type": "canvas", "host": host, "password": password, "extra": extras}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))
