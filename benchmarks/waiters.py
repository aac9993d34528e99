"""Three ways to wait on a Canvas Progress from an event loop, measured side by side.

* ``ours``: :class:`~airflow_provider_canvas_progress.triggers.progress.CanvasProgressTrigger`,
  as shipped (the aiohttp session, in-flight cap and pacer shared by every trigger on the token,
  retries, a typed event, an INFO line per change of state or completion).
* ``session_per_poll``: :class:`SessionPerPollTrigger`, the pattern common in other providers'
  triggers (e.g. ``HttpAsyncHook``-style code): a fresh ``aiohttp.ClientSession`` per poll, so a
  new TCP (in production: TLS) connection per poll. It is generous to that pattern: it reads the
  connection once, and it tolerates errors and throttled answers instead of failing the wait.
* ``keepalive_floor``: no trigger at all, one shared keep-alive session and a bare
  GET / ``json.loads`` / state check loop per wait. Nothing real can be cheaper; it is the floor.

Each style is an ``async`` function ``wait(progress_id, poll_interval) -> Outcome``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

TERMINAL = frozenset({"completed", "failed", "canceled"})


@dataclass
class Outcome:
    """How one wait ended, seen by the runner.

    :param at: ``time.monotonic()`` when the runner received the event.
    :param status: ``ended`` (with ``workflow_state``), ``error`` or ``timeout``.
    """

    at: float
    status: str
    workflow_state: str | None = None
    message: str = ""


#: Answers the baseline got that were not 200, by status (0: no answer at all), for the report.
BASELINE_ANSWERS: Counter[int] = Counter()

Wait = Callable[[str, float], Awaitable[Outcome]]


def _outcome_of(payload: dict[str, Any]) -> Outcome:
    progress = payload.get("progress") or {}
    return Outcome(
        time.monotonic(), str(payload.get("status")), progress.get("workflow_state"), payload.get("message", "")
    )


async def _first_event(trigger: Any) -> Outcome:
    # As Airflow's TriggerRunner does: iterate the trigger's generator to its end, keep the event.
    outcome: Outcome | None = None
    async for event in trigger.run():
        if outcome is None:
            outcome = _outcome_of(dict(event.payload))
    return outcome if outcome is not None else Outcome(time.monotonic(), "error", message="no event")


def ours(conn_id: str = "canvas_default") -> Wait:
    """Waits run by the shipped ``CanvasProgressTrigger``."""
    from airflow_provider_canvas_progress.triggers.progress import CanvasProgressTrigger

    async def wait(progress_id: str, poll_interval: float) -> Outcome:
        trigger = CanvasProgressTrigger(
            progress_id=progress_id, canvas_conn_id=conn_id, poll_interval=poll_interval, max_consecutive_failures=50
        )
        return await _first_event(trigger)

    return wait


def ours_sis(conn_id: str = "canvas_default") -> Wait:
    """Waits run by the generic ``CanvasJobTrigger`` on a ``sis_import:<account>/<id>`` reference.

    The job id the runner passes is the whole reference (see ``create_sis_imports``).
    """
    from airflow_provider_canvas_progress.triggers.job import CanvasJobTrigger

    async def wait(ref: str, poll_interval: float) -> Outcome:
        trigger = CanvasJobTrigger(
            ref=ref, canvas_conn_id=conn_id, poll_interval=poll_interval, max_consecutive_failures=50
        )
        return await _first_event(trigger)

    return wait


def _session_per_poll_trigger_class() -> type:
    from airflow.triggers.base import BaseTrigger, TriggerEvent

    class SessionPerPollTrigger(BaseTrigger):  # type: ignore[misc]
        """The common pattern: read the connection, then open an aiohttp session for every poll."""

        def __init__(self, progress_id: str, conn_id: str, poll_interval: float) -> None:
            super().__init__()
            self.progress_id = progress_id
            self.conn_id = conn_id
            self.poll_interval = poll_interval

        def serialize(self) -> tuple[str, dict[str, Any]]:
            return (
                f"{type(self).__module__}.{type(self).__qualname__}",
                {"progress_id": self.progress_id, "conn_id": self.conn_id, "poll_interval": self.poll_interval},
            )

        async def run(self) -> AsyncIterator[TriggerEvent]:
            try:
                from airflow.sdk import BaseHook

                conn = await BaseHook.aget_connection(self.conn_id)
            except ImportError:  # Airflow 2: a blocking read, as such triggers commonly do
                from airflow.hooks.base import BaseHook

                conn = BaseHook.get_connection(self.conn_id)
            url = f"{conn.host}/api/v1/progress/{self.progress_id}"
            headers = {"Authorization": f"Bearer {conn.password}"}
            while True:
                try:
                    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as answer:
                        if answer.status == 200:
                            progress = await answer.json()
                            if progress["workflow_state"] in TERMINAL:
                                yield TriggerEvent({"status": "ended", "progress": progress})
                                return
                        else:
                            BASELINE_ANSWERS[answer.status] += 1
                except aiohttp.ClientError:
                    BASELINE_ANSWERS[0] += 1
                await asyncio.sleep(self.poll_interval)

    return SessionPerPollTrigger


def session_per_poll(conn_id: str = "canvas_default") -> Wait:
    """Waits run by :class:`SessionPerPollTrigger` (a BaseTrigger subclass defined here)."""
    trigger_class = _session_per_poll_trigger_class()

    async def wait(progress_id: str, poll_interval: float) -> Outcome:
        return await _first_event(trigger_class(progress_id, conn_id, poll_interval))

    return wait


class KeepaliveFloor:
    """The floor: one shared keep-alive session, GET + ``json.loads`` + state check, nothing else."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.session: aiohttp.ClientSession | None = None

    async def wait(self, progress_id: str, poll_interval: float) -> Outcome:
        if self.session is None:
            self.session = aiohttp.ClientSession(trust_env=False)
        url = f"{self.base_url}/api/v1/progress/{progress_id}"
        while True:
            async with self.session.get(url, headers=self.headers) as answer:
                body = await answer.read()
            state = json.loads(body).get("workflow_state") if answer.status == 200 else None
            if state in TERMINAL:
                return Outcome(time.monotonic(), "ended", state)
            await asyncio.sleep(poll_interval)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


STYLES = ("ours", "session_per_poll", "keepalive_floor")
#: The SIS-import wait, measured beside the Progress wait and the floor (``--only sis``).
SIS_STYLES = ("ours", "ours_sis", "keepalive_floor")
LABELS = {
    "ours": "CanvasProgressTrigger (ours)",
    "ours_sis": "CanvasJobTrigger on a SIS import (ours, generic)",
    "session_per_poll": "session per poll (baseline)",
    "keepalive_floor": "raw keep-alive GET loop (floor)",
}
