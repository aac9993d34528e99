"""Courtesy towards Canvas's leaky bucket: pausing when X-Rate-Limit-Remaining is low, and the
per-token cap on async requests in flight."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.hooks.gates import gate_for
from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript

from .conftest import Connect, MakeSim

# A request cost of 500 leaves X-Rate-Limit-Remaining at 100 after one request (600 - 500). With the
# low-water mark at 105 the hook owes the bucket (105 - 100) / 10 units per second = 0.5 s, and the
# next request still fits in the bucket (500 - 5 + 50 < 600), so no answer is throttled.
REQUEST_COST = 500.0
LOW_WATER = 105.0
EXPECTED_PAUSE = 0.5


@pytest.fixture
def costly_sim(make_sim: MakeSim) -> CanvasSimulator:
    """A simulator where each request costs 500 of the token's 600 units."""
    return make_sim(request_cost=REQUEST_COST)


@pytest.fixture
def costly_progress(costly_sim: CanvasSimulator) -> str:
    return costly_sim.create_progress(script=JobScript.instant())


def _gaps(sim: CanvasSimulator) -> list[float]:
    times = [r.time for r in sim.requests]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_low_rate_limit_remaining_pauses_the_next_request(
    costly_sim: CanvasSimulator, costly_progress: str, connect: Connect
) -> None:
    hook = connect(costly_sim, rate_limit_low_water=LOW_WATER)

    hook.get_progress(costly_progress)
    hook.get_progress(costly_progress)

    (gap,) = _gaps(costly_sim)
    assert costly_sim.requests[0].status == 200
    assert EXPECTED_PAUSE - 0.05 <= gap <= EXPECTED_PAUSE + 3.0
    assert costly_sim.stats.throttled == 0


def test_healthy_rate_limit_remaining_sends_without_pause(sim: CanvasSimulator, hook: CanvasHook) -> None:
    progress_id = sim.create_progress(script=JobScript.instant())

    for _ in range(3):
        hook.get_progress(progress_id)

    # Judged from the pacer's schedule rather than the gaps between requests, which a loaded
    # machine can stretch: no answer ever gave the pacer a reason to hold the next request back.
    assert gate_for(hook.settings).pacer._not_before == 0.0
    assert all(gap < EXPECTED_PAUSE + 1.0 for gap in _gaps(sim))


async def test_async_low_rate_limit_remaining_pauses_the_next_request(
    costly_sim: CanvasSimulator, costly_progress: str, connect: Connect
) -> None:
    async with connect(costly_sim, rate_limit_low_water=LOW_WATER) as hook:
        await hook.aget_progress(costly_progress)
        await hook.aget_progress(costly_progress)

    (gap,) = _gaps(costly_sim)
    assert EXPECTED_PAUSE - 0.05 <= gap <= EXPECTED_PAUSE + 3.0


def test_pause_is_shared_by_connections_on_the_same_token(
    costly_sim: CanvasSimulator, costly_progress: str, connect: Connect
) -> None:
    first = connect(costly_sim, conn_id="canvas_first", rate_limit_low_water=LOW_WATER)
    second = connect(costly_sim, conn_id="canvas_second", rate_limit_low_water=LOW_WATER)

    first.get_progress(costly_progress)
    second.get_progress(costly_progress)

    (gap,) = _gaps(costly_sim)
    assert gap >= EXPECTED_PAUSE - 0.05


def test_pause_is_shared_by_connections_on_the_same_token_with_different_in_flight_caps(
    costly_sim: CanvasSimulator, costly_progress: str, connect: Connect
) -> None:
    first = connect(costly_sim, conn_id="canvas_first", rate_limit_low_water=LOW_WATER, max_in_flight=2)
    second = connect(costly_sim, conn_id="canvas_second", rate_limit_low_water=LOW_WATER, max_in_flight=8)

    first.get_progress(costly_progress)
    second.get_progress(costly_progress)

    (gap,) = _gaps(costly_sim)
    assert gap >= EXPECTED_PAUSE - 0.05


@pytest.fixture
def slow_sim(make_sim: MakeSim) -> CanvasSimulator:
    """Every request stays in flight 0.3 s, holding Canvas's 50-unit up-front charge meanwhile.

    Long enough that, even on a loaded machine, the requests of a burst overlap and fill the cap.
    """
    return make_sim(latency=0.3)


async def test_concurrent_async_requests_stay_within_max_in_flight_and_are_not_throttled(
    slow_sim: CanvasSimulator, connect: Connect
) -> None:
    # Twenty at once would cost 20 * 50 = 1000 units, well over the 600 bucket, without the cap.
    progress_id = slow_sim.create_progress(script=JobScript.instant())

    async with connect(slow_sim, max_in_flight=3) as hook:
        progresses = await asyncio.gather(*(hook.aget_progress(progress_id) for _ in range(20)))

    assert len(progresses) == 20
    assert slow_sim.stats.max_in_flight[slow_sim.token] == 3
    assert slow_sim.stats.throttled == 0
    assert [r.status for r in slow_sim.requests] == [200] * 20


async def test_max_in_flight_is_shared_by_hooks_on_the_same_token(slow_sim: CanvasSimulator, connect: Connect) -> None:
    progress_id = slow_sim.create_progress(script=JobScript.instant())
    first = connect(slow_sim, conn_id="canvas_first", max_in_flight=2)
    second = connect(slow_sim, conn_id="canvas_second", max_in_flight=2)

    async with first, second:
        await asyncio.gather(
            *(hook.aget_progress(progress_id) for hook in (first, second) for _ in range(6)),
        )

    assert slow_sim.stats.max_in_flight[slow_sim.token] == 2
    assert slow_sim.stats.throttled == 0
