"""Triggers run in a real event loop, as the triggerer runs them, against the simulator."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript
from airflow_provider_canvas_progress.triggers.progress import CanvasProgressTrigger

FAST_EXTRAS = {"retry_wait_initial": 0.01, "retry_wait_max": 0.05, "max_attempts": 3}


@pytest.fixture
def canvas(monkeypatch: pytest.MonkeyPatch) -> Iterator[CanvasSimulator]:
    from airflow_provider_canvas_progress.hooks import canvas as hook_module

    hook_module._gates.clear()
    with CanvasSimulator(default_job_script=JobScript(queued_for=0.1, running_for=0.5)) as sim:
        set_connection(monkeypatch, sim)
        yield sim


def set_connection(monkeypatch: pytest.MonkeyPatch, sim: CanvasSimulator, **extras: Any) -> None:
    conn = {"conn_type": "canvas", "host": sim.base_url, "password": sim.token, "extra": {**FAST_EXTRAS, **extras}}
    monkeypatch.setenv("AIRFLOW_CONN_CANVAS_DEFAULT", json.dumps(conn))


async def first_event(trigger: CanvasProgressTrigger, timeout: float = 30.0) -> dict[str, Any]:
    """Run a trigger until its first event, as the triggerer does, and return the payload."""

    async def run() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return await asyncio.wait_for(run(), timeout)
