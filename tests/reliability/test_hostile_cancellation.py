"""Cancellation: a trigger the triggerer drops stops at once, wherever it is -- in a poll, in the
sleep between polls, in a back-off or a rate-limit pause -- and never polls again. On Python < 3.12
``asyncio.wait_for`` swallows a cancellation that arrives just as the awaited call completes; with
many waits sharing a loop that happens, so the race is provoked with a crowd of them."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_canvas_progress.core.events import WaitStatus
from airflow_provider_canvas_progress.triggers.progress import CanvasProgressTrigger
from tests.reliability.conftest import Connect
from tests.reliability.hostile import (
    HostileServer,
    delayed,
    json_answer,
    progress_json,
    raw,
    silence,
    with_headers,
)

PROGRESS = r"^/api/v1/progress/"
#: How soon a cancelled trigger must have stopped.
PROMPT = 1.5


async def first_event(trigger: CanvasProgressTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the condition"
        await asyncio.sleep(0.01)


def wait_trigger(**kwargs: Any) -> CanvasProgressTrigger:
    return CanvasProgressTrigger(progress_id="5", **{"poll_interval": 1.0, "deadline": time.time() + 120, **kwargs})


async def cancelled_promptly(task: asyncio.Task[Any]) -> bool:
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=PROMPT)
    return task in done and task.cancelled()


def stops_when_cancelled(server: HostileServer, ready: Callable[[], bool], trigger: CanvasProgressTrigger) -> None:
    """Start the trigger, cancel it once ``ready()``, and check it stopped and polls no more."""

    async def scenario() -> None:
        task = asyncio.create_task(first_event(trigger))
        await until(ready)
        assert await cancelled_promptly(task)
        seen = len(server.requests)
        await asyncio.sleep(1.5)
        assert len(server.requests) == seen

    asyncio.run(scenario())


def test_a_trigger_cancelled_during_a_poll_that_hangs_stops_at_once(server: HostileServer, connect: Connect) -> None:
    server.on(PROGRESS, silence())
    connect(timeout=30)

    stops_when_cancelled(server, lambda: len(server.requests) >= 1, wait_trigger())


def test_a_trigger_cancelled_while_sleeping_between_polls_stops_at_once(
    server: HostileServer, connect: Connect
) -> None:
    server.on(PROGRESS, json_answer(progress_json(5, "running")))
    connect()

    stops_when_cancelled(server, lambda: len(server.requests) >= 1, wait_trigger(poll_interval=30.0))


def test_a_trigger_cancelled_during_a_retry_back_off_stops_at_once(server: HostileServer, connect: Connect) -> None:
    server.on(PROGRESS, raw(503, '{"errors": [{"message": "busy"}]}'))
    connect(max_attempts=3, retry_wait_initial=20, retry_wait_max=20)

    stops_when_cancelled(server, lambda: len(server.requests) >= 1, wait_trigger())


def test_a_trigger_cancelled_during_a_rate_limit_pause_stops_at_once(server: HostileServer, connect: Connect) -> None:
    server.on(PROGRESS, with_headers([("X-Rate-Limit-Remaining", "0")], progress_json(5, "running")))
    connect(rate_limit_low_water=300)  # 30 s owed after the first answer

    def pausing() -> bool:  # the first poll is done and the second one waits for the bucket
        return len(server.requests) >= 1 and time.monotonic() - server.requests[0].at > 1.5

    stops_when_cancelled(server, pausing, wait_trigger(poll_interval=1.0))


def test_a_trigger_cancelled_without_a_deadline_during_a_poll_stops_at_once(
    server: HostileServer, connect: Connect
) -> None:
    server.on(PROGRESS, silence())
    connect(timeout=30)

    stops_when_cancelled(server, lambda: len(server.requests) >= 1, wait_trigger(deadline=None))


@pytest.mark.parametrize("offset", [0.09, 0.1, 0.11])
def test_no_cancellation_is_swallowed_when_it_lands_as_a_crowd_of_polls_completes(
    server: HostileServer, connect: Connect, offset: float
) -> None:
    crowd = 60
    server.on(PROGRESS, delayed(0.1, json_answer(progress_json(5, "running"))))
    connect(max_in_flight=crowd, timeout=30)

    async def scenario() -> list[bool]:
        tasks = [asyncio.create_task(first_event(wait_trigger(poll_interval=5.0))) for _ in range(crowd)]
        await until(lambda: len(server.requests) >= crowd)
        await asyncio.sleep(offset)  # cancel while the answers land
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=PROMPT)
        return [task.done() and task.cancelled() for task in tasks]

    stopped = asyncio.run(scenario())

    assert stopped.count(False) == 0, f"{stopped.count(False)} of {crowd} cancellations were swallowed"


def test_a_deadline_passing_during_a_hung_poll_ends_the_wait_at_the_deadline(
    server: HostileServer, connect: Connect
) -> None:
    server.on(PROGRESS, silence())
    connect(timeout=60)
    started = time.monotonic()

    payload = asyncio.run(first_event(wait_trigger(deadline=time.time() + 2.0)))

    assert payload["status"] == WaitStatus.TIMEOUT.value
    assert time.monotonic() - started < 2.0 + 3.0


def test_a_cancelled_trigger_leaves_no_unclosed_session_behind(
    server: HostileServer, connect: Connect, emitted: Callable[[], str]
) -> None:
    server.on(PROGRESS, silence())
    connect(timeout=30)

    stops_when_cancelled(server, lambda: len(server.requests) >= 1, wait_trigger())
    gc.collect()

    assert "Unclosed client session" not in emitted()
