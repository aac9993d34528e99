"""Canvas's leaky-bucket throttle: headers on every answer, refusals under concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, ManualClock
from airflow_provider_canvas_progress.testing.throttle import BucketSettings, RequestThrottle

from .simclient import Api


async def burst(sim: CanvasSimulator, count: int, token: str | None = None) -> list[tuple[int, str, dict[str, str]]]:
    """``count`` concurrent GETs on one token."""
    pid = sim.create_progress()
    headers = {"Authorization": f"Bearer {token or sim.token}"}
    async with aiohttp.ClientSession() as session:

        async def one() -> tuple[int, str, dict[str, str]]:
            async with session.get(f"{sim.base_url}/api/v1/progress/{pid}", headers=headers) as response:
                return response.status, await response.text(), dict(response.headers)

        return await asyncio.gather(*(one() for _ in range(count)))


BURST_HOLD = 1.5


@pytest.fixture
def slow_sim(canvas_simulator_factory: Callable[..., CanvasSimulator]) -> CanvasSimulator:
    # A ManualClock keeps the bucket from draining, so the count depends only on concurrency: every
    # request of a burst must arrive while the first is still held (1.5 s, ample on a loaded machine).
    return canvas_simulator_factory(clock=ManualClock(), latency=BURST_HOLD)


# -- headers ----------------------------------------------------------------------------------


def test_answer_carries_request_cost_and_rate_limit_remaining(api: Api) -> None:
    headers = api.get("/api/v1/users/self").headers
    assert float(headers["X-Request-Cost"]) == pytest.approx(0.01)
    assert float(headers["X-Rate-Limit-Remaining"]) == pytest.approx(599.99)


def test_remaining_falls_by_the_real_cost_of_each_request(api: Api) -> None:
    values = [float(api.get("/api/v1/users/self").headers["X-Rate-Limit-Remaining"]) for _ in range(3)]
    assert values == pytest.approx([599.99, 599.98, 599.97])


def test_error_answers_carry_the_headers_too(api: Api) -> None:
    response = api.get("/api/v1/progress/999")
    assert response.status_code == 404
    assert "X-Rate-Limit-Remaining" in response.headers


def test_bucket_drains_as_the_clock_moves(sim: CanvasSimulator, api: Api, clock: ManualClock) -> None:
    for _ in range(5):
        api.get("/api/v1/users/self")
    clock.advance(1)
    assert sim.bucket_level() == 0.0


def test_each_token_has_its_own_bucket(sim: CanvasSimulator, api: Api) -> None:
    api.get("/api/v1/users/self")
    other = sim.add_token()
    assert float(api.get("/api/v1/users/self", token=other).headers["X-Rate-Limit-Remaining"]) == pytest.approx(599.99)


# -- refusals ---------------------------------------------------------------------------------


async def test_twelfth_concurrent_request_fills_a_fresh_bucket(slow_sim: CanvasSimulator) -> None:
    statuses = sorted(status for status, _, _ in await burst(slow_sim, 20))
    assert statuses == [200] * 11 + [403] * 9


async def test_throttled_answer_is_plain_text_rate_limit_exceeded(slow_sim: CanvasSimulator) -> None:
    refused = [r for r in await burst(slow_sim, 14) if r[0] == 403]
    _, body, headers = refused[0]
    assert body == "403 Forbidden (Rate Limit Exceeded)\n"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"


async def test_throttled_answer_carries_the_buckets_real_remainder_and_no_cost_nor_retry_after(
    slow_sim: CanvasSimulator,
) -> None:
    # app/middleware/request_throttle.rb#call overwrites rate_limit_exceeded's "0.0" with hwm - count
    # (spec/lib/request_throttle_spec.rb, "throttles if bucket is full"): near 50 when just full,
    # negative while other requests still hold their up-front cost.
    refused = [headers for status, _, headers in await burst(slow_sim, 14) if status == 403]
    remainders = [float(h["X-Rate-Limit-Remaining"]) for h in refused]
    assert all(-200.0 <= value <= 50.0 for value in remainders)
    assert any(value != 0.0 for value in remainders)
    assert not any("X-Request-Cost" in h or "Retry-After" in h for h in refused)


async def test_admitted_answers_under_load_report_remaining_within_canvas_bounds(slow_sim: CanvasSimulator) -> None:
    admitted = [headers for status, _, headers in await burst(slow_sim, 20) if status == 200]
    for headers in admitted:
        assert -200.0 <= float(headers["X-Rate-Limit-Remaining"]) <= 600.0
        assert float(headers["X-Request-Cost"]) > 0


async def test_throttle_can_answer_429(canvas_simulator_factory: Callable[..., CanvasSimulator]) -> None:
    sim = canvas_simulator_factory(clock=ManualClock(), latency=BURST_HOLD, throttle_status=429)
    refused = [r for r in await burst(sim, 14) if r[0] != 200]
    assert {status for status, _, _ in refused} == {429}
    assert all("Rate Limit Exceeded" in body for _, body, _ in refused)


async def test_throttle_off_never_refuses(canvas_simulator_factory: Callable[..., CanvasSimulator]) -> None:
    sim = canvas_simulator_factory(clock=ManualClock(), latency=0.3, throttle=False)
    assert {status for status, _, _ in await burst(sim, 20)} == {200}


async def test_stats_count_throttled_requests_and_peak_concurrency(slow_sim: CanvasSimulator) -> None:
    await burst(slow_sim, 20)
    stats = slow_sim.stats
    assert stats.throttled == 9
    assert stats.max_in_flight[slow_sim.token] >= 12


async def test_throttle_judges_before_authentication(slow_sim: CanvasSimulator) -> None:
    results = await burst(slow_sim, 14, token="1~unknown")
    assert sorted(status for status, _, _ in results) == [401] * 11 + [403] * 3


# -- the bucket arithmetic (request_throttle.rb, increment_bucket.lua) -------------------------


def test_request_is_refused_when_the_up_front_charge_reaches_the_high_water_mark() -> None:
    throttle = RequestThrottle(BucketSettings(), ManualClock())
    admissions = [throttle.begin("t") for _ in range(12)]
    assert [a.allowed for a in admissions] == [True] * 11 + [False]


def test_finished_request_replaces_its_up_front_charge_with_its_cost() -> None:
    throttle = RequestThrottle(BucketSettings(request_cost=2.5), ManualClock())
    assert throttle.finish(throttle.begin("t")) == pytest.approx(597.5)


def test_bucket_is_capped_at_its_maximum() -> None:
    throttle = RequestThrottle(BucketSettings(), ManualClock())
    for _ in range(40):
        throttle.begin("t")
    assert throttle.level("t") == 800.0


def test_bucket_leaks_at_the_outflow_rate() -> None:
    clock = ManualClock()
    throttle = RequestThrottle(BucketSettings(), clock)
    throttle.begin("t")
    clock.advance(2)
    assert throttle.level("t") == pytest.approx(30.0)


def test_remaining_goes_negative_while_others_overfill_the_bucket() -> None:
    throttle = RequestThrottle(BucketSettings(), ManualClock())
    first = throttle.begin("t")
    for _ in range(20):
        throttle.begin("t")
    assert throttle.finish(first) == pytest.approx(600 - (800 - 50 + 0.01))
