"""A connection is read once per process per connection id for a short while, and again after a 401.

In Airflow 3's triggerer each read is a round trip to the API server: a triggerer restart with a
thousand waits on one connection must not make a thousand reads.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_canvas_progress.core.errors import CanvasAuthError
from airflow_provider_canvas_progress.hooks import canvas as canvas_hook_module
from airflow_provider_canvas_progress.hooks import connections
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.testing import CanvasSimulator
from tests.hook.conftest import Connect


@pytest.fixture
def async_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The connection ids the hooks really read through ``compat.aget_connection``."""
    seen: list[str] = []
    real = canvas_hook_module.aget_connection

    async def counting(conn_id: str) -> Any:
        seen.append(conn_id)
        return await real(conn_id)

    monkeypatch.setattr(canvas_hook_module, "aget_connection", counting)
    return seen


@pytest.fixture
def sync_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The connection ids the hooks really read through ``BaseHook.get_connection``."""
    seen: list[str] = []
    real = CanvasHook.get_connection

    def counting(conn_id: str) -> Any:
        seen.append(conn_id)
        return real(conn_id)

    monkeypatch.setattr(CanvasHook, "get_connection", staticmethod(counting))
    return seen


def test_a_hundred_triggers_on_one_connection_read_it_once(
    sim: CanvasSimulator, connect: Connect, async_reads: list[str]
) -> None:
    connect(sim, conn_id="canvas_many")
    progress_id = sim.create_progress()

    async def poll(hook: CanvasHook) -> str:
        async with hook:
            return (await hook.aget_progress(progress_id)).workflow_state.value

    async def many() -> list[str]:
        return await asyncio.gather(*(poll(CanvasHook("canvas_many")) for _ in range(100)))

    states = asyncio.run(many())

    assert len(states) == 100
    assert async_reads == ["canvas_many"]


def test_a_hundred_sync_hooks_on_one_connection_read_it_once(
    sim: CanvasSimulator, connect: Connect, sync_reads: list[str]
) -> None:
    connect(sim, conn_id="canvas_many")

    for _ in range(100):
        CanvasHook("canvas_many").settings  # noqa: B018 - reading the connection is the point

    assert sync_reads == ["canvas_many"]


def test_a_refused_token_makes_the_next_hook_read_the_connection_again(
    sim: CanvasSimulator, connect: Connect, sync_reads: list[str]
) -> None:
    connect(sim, token="7~not-a-token", conn_id="canvas_rotated")
    progress_id = sim.create_progress()

    with pytest.raises(CanvasAuthError):
        CanvasHook("canvas_rotated").get_progress(progress_id)
    CanvasHook("canvas_rotated").settings  # noqa: B018

    assert sync_reads == ["canvas_rotated", "canvas_rotated"]


def test_a_read_is_reused_for_a_minute_at_most(sim: CanvasSimulator, connect: Connect) -> None:
    connect(sim, conn_id="canvas_aged")
    now = [1000.0]
    loads: list[str] = []

    def get(conn_id: str) -> Any:
        loads.append(conn_id)
        return CanvasHook.get_connection(conn_id)

    hook = CanvasHook("canvas_aged")
    connections.read("canvas_aged", get, hook.log, clock=lambda: now[0])
    now[0] += connections.MAX_AGE - 1
    connections.read("canvas_aged", get, hook.log, clock=lambda: now[0])
    now[0] += 2
    connections.read("canvas_aged", get, hook.log, clock=lambda: now[0])

    assert loads == ["canvas_aged", "canvas_aged"]


def test_a_changed_connection_variable_is_read_again_at_once(
    sim: CanvasSimulator, connect: Connect, make_sim: Any
) -> None:
    other = make_sim()
    connect(sim, conn_id="canvas_moved")
    first = CanvasHook("canvas_moved").base_url
    connect(other, conn_id="canvas_moved")

    assert CanvasHook("canvas_moved").base_url == other.base_url != first
