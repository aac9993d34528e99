"""Numbers and limits: every number read from Canvas or from a user lies in a physical range.

An ``X-Rate-Limit-Remaining`` of -1,000,000 must not pause a token for 28 hours (Canvas's real
readings lie in about -200..600); an extra of ``retry_wait_max=1e300`` must not be accepted as is;
a poll interval of 0 (or a back-off capped at ``max_wait=0``) must not poll Canvas thousands of
times a second."""

from __future__ import annotations

import asyncio
import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_provider_canvas_progress.compat import BaseTrigger
from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError, CanvasError
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor
from airflow_provider_canvas_progress.triggers.progress import CanvasProgressTrigger
from tests.reliability.conftest import Connect
from tests.reliability.hostile import (
    PATHS,
    FakeTI,
    HostileServer,
    failure_of,
    json_answer,
    progress_json,
    read_progress,
    waiting_job,
    with_headers,
)

PROGRESS = r"^/api/v1/progress/"
#: The longest pause any real reading asks for: (low water 200 - (-200)) / 10 units a second.
LONGEST_REAL_PAUSE = 40.0
#: A wait polled at most once a second makes at most this many reads in WINDOW seconds.
WINDOW = 3.0
MAX_READS = 6


# -- X-Rate-Limit-Remaining ---------------------------------------------------------------------------


def announced_pause(path: str, hook: CanvasHook, emitted: Callable[[], str]) -> tuple[float, object]:
    """Start a call on ``path`` in a thread and return (the pause it announces, or 0, and what it
    raised or returned if it ended within a few seconds)."""
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(read_progress(path, hook))
        except BaseException as error:  # the point is to see what escapes
            outcome.append(error)

    threading.Thread(target=call, daemon=True).start()
    deadline = time.monotonic() + 5.0
    pauses: list[float] = []
    while time.monotonic() < deadline and not outcome:
        pauses = [float(p) for p in re.findall(r"pausing (\S+) s", emitted())]
        if pauses:
            break
        time.sleep(0.05)
    return (max(pauses) if pauses else 0.0), (outcome[0] if outcome else None)


ABSURD_REMAINING = ["-1000000", "-1e308", "-inf", "-1e999", "-99999999999999999999999999999"]


@pytest.mark.parametrize("remaining", ABSURD_REMAINING)
@pytest.mark.parametrize("path", PATHS)
def test_an_absurd_rate_limit_reading_pauses_the_next_call_no_longer_than_canvass_worst_real_one(
    server: HostileServer, connect: Connect, emitted: Callable[[], str], path: str, remaining: str
) -> None:
    server.on(PROGRESS, json_answer(progress_json(5)))
    server.on(PROGRESS, with_headers([("X-Rate-Limit-Remaining", remaining)], progress_json(5)), times=1)
    hook = connect()
    read_progress(path, hook)

    pause, outcome = announced_pause(path, hook, emitted)

    assert math.isfinite(pause)
    assert pause <= LONGEST_REAL_PAUSE
    assert outcome is None or not isinstance(outcome, BaseException) or isinstance(outcome, CanvasError)


@pytest.mark.parametrize("remaining", ["1e308", "nan", "inf", "12abc", "", "5" * 5000])
def test_a_meaningless_or_huge_rate_limit_reading_causes_no_pause(
    server: HostileServer, connect: Connect, emitted: Callable[[], str], remaining: str
) -> None:
    server.on(PROGRESS, json_answer(progress_json(5)))
    server.on(PROGRESS, with_headers([("X-Rate-Limit-Remaining", remaining)], progress_json(5)), times=1)
    hook = connect()
    read_progress("sync", hook)

    started = time.monotonic()
    read_progress("sync", hook)

    assert time.monotonic() - started < 3.0


# -- extras and hook arguments --------------------------------------------------------------------------

ABSURD_EXTRAS: list[tuple[str, Any, float]] = [
    ("retry_wait_max", 1e300, 3600),
    ("retry_wait_initial", 1e300, 3600),
    ("timeout", 1e300, 3600),
    ("timeout", "inf", 3600),
    ("max_attempts", 1e9, 100),
    ("max_in_flight", 1e9, 1000),
    ("rate_limit_low_water", 1e300, 600),
    ("max_response_bytes", 1e300, 1 << 30),
    ("max_response_bytes", 1, 1 << 30),
]


@pytest.mark.parametrize(("extra", "value", "ceiling"), ABSURD_EXTRAS, ids=[f"{e}={v}" for e, v, _ in ABSURD_EXTRAS])
def test_an_absurd_extra_is_refused_naming_it_or_clamped_with_a_warning(
    connect: Connect, emitted: Callable[[], str], extra: str, value: Any, ceiling: float
) -> None:
    hook = connect(**{extra: value})
    error, _ = failure_of(lambda: hook.settings)
    if error is not None:
        assert isinstance(error, CanvasConfigurationError)
        assert extra in str(error)
        return
    read = getattr(hook.settings, extra, None)
    if extra == "max_response_bytes" and value == 1:
        assert read is None or read >= 1024
        return
    assert read is not None
    assert read <= ceiling
    assert extra in emitted()


ODD_HOOK_ARGUMENTS: list[dict[str, Any]] = [
    {"timeout": 1e300},
    {"timeout": math.inf},
    {"max_attempts": 10**9},
    {"timeout": -1.0},
    {"timeout": math.nan},
    {"max_attempts": -3},
]


@pytest.mark.parametrize("kwargs", ODD_HOOK_ARGUMENTS, ids=str)
def test_an_absurd_negative_or_nan_hook_argument_is_refused_or_brought_into_range_never_used_as_is(
    connect: Connect, kwargs: dict[str, Any]
) -> None:
    connect()
    hook = CanvasHook("canvas_default", **kwargs)
    error, _ = failure_of(lambda: hook.settings)
    if error is not None:
        assert isinstance(error, CanvasConfigurationError)
        return
    assert 0 < hook.settings.timeout <= 3600
    assert 1 <= hook.settings.max_attempts <= 100


# -- poll intervals: no hot loops ------------------------------------------------------------------------


def reads_within(server: HostileServer, trigger: BaseTrigger) -> int:
    """Run the trigger against a job that never ends for WINDOW seconds; how many reads it made."""

    async def run() -> None:
        async for _ in trigger.run():
            return

    asyncio.run(run())
    return len(server.requests_to(PROGRESS))


@pytest.fixture
def running(server: HostileServer, connect: Connect) -> HostileServer:
    server.on(PROGRESS, json_answer(progress_json(5, "running")))
    server.on(r"^/api/v1/accounts/1/courses", json_answer(progress_json(5, "queued")))
    connect()
    return server


@pytest.mark.parametrize(
    "kwargs",
    [
        {"poll_interval": 0},
        {"poll_interval": 1e-9},
        {"poll_interval": -5},
        {"poll_interval": 0.001, "exponential_backoff": True, "max_wait": 0},
        {"poll_interval": 0.001, "exponential_backoff": True, "max_wait": -1},
    ],
    ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()),
)
def test_a_trigger_never_polls_more_than_about_once_a_second(running: HostileServer, kwargs: dict[str, Any]) -> None:
    trigger = CanvasProgressTrigger(progress_id="5", deadline=time.time() + WINDOW, **kwargs)

    assert reads_within(running, trigger) <= MAX_READS


def test_a_trigger_with_a_nan_interval_ends_with_an_event_instead_of_crashing_or_spinning(
    running: HostileServer,
) -> None:
    try:
        trigger = CanvasProgressTrigger(progress_id="5", deadline=time.time() + WINDOW, poll_interval=math.nan)
    except (CanvasConfigurationError, ValueError):
        return
    assert reads_within(running, trigger) <= MAX_READS


def deferred_trigger(task: Any) -> BaseTrigger:
    try:
        task.execute({"ti": FakeTI()})
    except TaskDeferred as deferred:
        trigger = deferred.trigger
        assert isinstance(trigger, BaseTrigger)
        return trigger
    raise AssertionError("the task did not defer")


def sensor(**kwargs: Any) -> Any:
    """A deferrable sensor, or the typed refusal its arguments get at parse time (returned)."""
    try:
        return CanvasProgressSensor(task_id="wait", progress_id=5, deferrable=True, timeout=WINDOW, **kwargs)
    except (CanvasConfigurationError, ValueError) as refused:
        return refused


DEFERRING: dict[str, Callable[[], Any]] = {
    "sensor poke_interval=0.001": lambda: sensor(poke_interval=0.001),
    "sensor exponential_backoff max_wait=0": lambda: sensor(poke_interval=0.001, exponential_backoff=True, max_wait=0),
    "job operator poll_interval=0.001": lambda: waiting_job(deferrable=True, poll_interval=0.001, timeout=WINDOW),
}


@pytest.mark.parametrize("build", DEFERRING.values(), ids=DEFERRING.keys())
def test_a_task_waiting_in_the_triggerer_with_a_tiny_interval_polls_at_most_about_once_a_second(
    running: HostileServer, build: Callable[[], Any]
) -> None:
    task = build()
    if isinstance(task, Exception):
        return  # refusing it at parse time is as good
    trigger = deferred_trigger(task)
    running.requests.clear()

    assert reads_within(running, trigger) <= MAX_READS


def test_a_job_operator_waiting_on_the_worker_with_a_tiny_interval_polls_at_most_about_once_a_second(
    running: HostileServer,
) -> None:
    task = waiting_job(deferrable=False, poll_interval=0.001, timeout=WINDOW)
    if isinstance(task, Exception):
        return

    with pytest.raises(Exception, match="Timed out"):
        task.execute({"ti": FakeTI()})

    assert len(running.requests_to(PROGRESS)) <= MAX_READS


@pytest.mark.parametrize("poke_interval", [1e300, math.inf])
def test_a_sensor_interval_that_would_never_poll_again_is_refused_at_parse_time(poke_interval: float) -> None:
    with pytest.raises((CanvasConfigurationError, ValueError)):
        CanvasProgressSensor(task_id="wait", progress_id=5, poke_interval=poke_interval)
