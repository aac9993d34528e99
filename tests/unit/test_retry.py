"""Specification of the retry policy and the rate pacer.

Tenacity is driven with a recording ``sleep`` and the pacer with a hand-moved clock, so nothing
here waits for real.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import tenacity
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_canvas_progress.core.errors import (
    CanvasAuthError,
    CanvasConfigurationError,
    CanvasError,
    CanvasHTTPError,
    CanvasNotFoundError,
    CanvasPermissionError,
    CanvasProgressCancelledError,
    CanvasProgressFailedError,
    CanvasProgressTimeoutError,
    CanvasResponseError,
    CanvasServerError,
    CanvasThrottledError,
    CanvasTokenExpiredError,
    CanvasTransportError,
    CanvasUnknownStateError,
    CanvasUnreadableResponseError,
    CanvasValidationError,
    ForeignHostError,
    InvalidProgressIdError,
)
from airflow_provider_canvas_progress.core.retry import (
    CANVAS_DRAIN_PER_SECOND,
    THROTTLE_MIN_WAIT,
    RatePacer,
    RetryPolicy,
    describe_retry,
    is_retryable,
)
from airflow_provider_canvas_progress.core.settings import CanvasSettings, settings_from_connection

RETRYABLE = [CanvasTransportError, CanvasServerError, CanvasThrottledError, CanvasUnreadableResponseError]
FINAL = [
    CanvasError,
    CanvasConfigurationError,
    InvalidProgressIdError,
    ForeignHostError,
    CanvasHTTPError,
    CanvasAuthError,
    CanvasTokenExpiredError,
    CanvasPermissionError,
    CanvasNotFoundError,
    CanvasValidationError,
    CanvasResponseError,
    CanvasUnknownStateError,
    CanvasProgressFailedError,
    CanvasProgressCancelledError,
    CanvasProgressTimeoutError,
]


class Flaky:
    """A call that raises the given errors in turn, then answers ``"ok"``."""

    def __init__(self, *errors: BaseException) -> None:
        self._errors: Iterator[BaseException] = iter(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        error = next(self._errors, None)
        if error is not None:
            raise error
        return "ok"


def run(policy: RetryPolicy, call: Callable[[], Any], **extra: Any) -> tuple[Any, list[float]]:
    """Run ``call`` under the policy with a recording sleep; return its result and the waits."""
    sleeps: list[float] = []
    result = tenacity.Retrying(sleep=sleeps.append, **policy.tenacity_kwargs(**extra))(call)
    return result, sleeps


def server_error() -> CanvasServerError:
    return CanvasServerError("Canvas answered GET /x with 503.", status=503)


def throttled() -> CanvasThrottledError:
    return CanvasThrottledError("Canvas throttled GET /x (403 Rate Limit Exceeded).", status=403)


# -- is_retryable ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("error_class", RETRYABLE)
def test_transient_errors_are_retryable(error_class: type[CanvasError]) -> None:
    assert is_retryable(error_class("x"))


@pytest.mark.parametrize("error_class", FINAL)
def test_errors_that_retrying_cannot_fix_are_not_retryable(error_class: type[CanvasError]) -> None:
    assert not is_retryable(error_class("x"))


@pytest.mark.parametrize("error", [ValueError("x"), ConnectionError("x"), TimeoutError(), KeyboardInterrupt()])
def test_foreign_exceptions_are_never_retried(error: BaseException) -> None:
    # The transport wraps what it means to retry in CanvasTransportError; anything else is a bug.
    assert not is_retryable(error)


# -- RetryPolicy with tenacity -----------------------------------------------------------------------------------


def test_policy_is_read_from_the_connection() -> None:
    settings = settings_from_connection(
        conn_id="c",
        host="school.instructure.com",
        password="tok",
        extras={"max_attempts": 3, "retry_wait_initial": 0.5, "retry_wait_max": 9},
    )

    assert RetryPolicy.from_settings(settings) == RetryPolicy(max_attempts=3, wait_initial=0.5, wait_max=9.0)


def test_default_policy_matches_the_connection_defaults(settings: CanvasSettings) -> None:
    assert RetryPolicy.from_settings(settings) == RetryPolicy(max_attempts=6, wait_initial=1.0, wait_max=60.0)


def test_a_retryable_error_is_tried_max_attempts_times_then_reraised_itself() -> None:
    last = server_error()
    call = Flaky(server_error(), server_error(), last)

    with pytest.raises(CanvasServerError) as caught:
        run(RetryPolicy(max_attempts=3, wait_initial=1, wait_max=60), call)

    assert caught.value is last
    assert call.calls == 3


def test_a_final_error_is_raised_at_once_without_waiting() -> None:
    call = Flaky(CanvasNotFoundError("no such Progress"))

    sleeps: list[float] = []
    with pytest.raises(CanvasNotFoundError):
        tenacity.Retrying(sleep=sleeps.append, **RetryPolicy(6, 1, 60).tenacity_kwargs())(call)

    assert call.calls == 1
    assert sleeps == []


def test_a_call_that_recovers_returns_its_answer_after_one_wait_per_failure() -> None:
    result, sleeps = run(RetryPolicy(6, 1, 60), Flaky(server_error(), CanvasTransportError("reset")))

    assert result == "ok"
    assert len(sleeps) == 2


def test_one_attempt_means_no_retry() -> None:
    call = Flaky(server_error())

    with pytest.raises(CanvasServerError):
        run(RetryPolicy(max_attempts=1, wait_initial=1, wait_max=60), call)

    assert call.calls == 1


def test_waits_double_with_at_most_initial_of_jitter_until_the_cap() -> None:
    call = Flaky(*(server_error() for _ in range(9)))

    _, sleeps = run(RetryPolicy(max_attempts=10, wait_initial=1, wait_max=60), call)

    for attempt, wait in enumerate(sleeps[:6]):
        assert 2**attempt <= wait <= 2**attempt + 1
    assert sleeps[6:] == [60.0, 60.0, 60.0]


def test_waits_are_zero_when_the_initial_wait_is_zero() -> None:
    _, sleeps = run(RetryPolicy(4, wait_initial=0, wait_max=60), Flaky(server_error(), server_error()))

    assert sleeps == [0.0, 0.0]


def test_throttled_error_waits_at_least_for_the_bucket_to_drain() -> None:
    _, sleeps = run(RetryPolicy(4, wait_initial=0.1, wait_max=60), Flaky(throttled(), server_error()))

    assert sleeps[0] >= THROTTLE_MIN_WAIT
    assert sleeps[1] < THROTTLE_MIN_WAIT


def test_throttle_floor_applies_even_below_a_smaller_cap() -> None:
    # Canvas sends no Retry-After: retrying a throttle sooner than the drain only buys another throttle.
    _, sleeps = run(RetryPolicy(3, wait_initial=0.5, wait_max=2), Flaky(throttled(), throttled()))

    assert sleeps == [THROTTLE_MIN_WAIT, THROTTLE_MIN_WAIT]


def test_throttle_floor_is_two_requests_worth_of_canvas_drain() -> None:
    assert THROTTLE_MIN_WAIT == 2 * 50 / CANVAS_DRAIN_PER_SECOND == 10.0


def test_before_sleep_is_called_once_per_retry_with_the_retry_state() -> None:
    seen: list[tuple[int, BaseException | None]] = []

    def before_sleep(state: tenacity.RetryCallState) -> None:
        assert state.outcome is not None
        seen.append((state.attempt_number, state.outcome.exception()))

    first, second = server_error(), throttled()
    run(RetryPolicy(5, 0, 60), Flaky(first, second), before_sleep=before_sleep)

    assert seen == [(1, first), (2, second)]


def test_before_sleep_is_left_out_unless_given() -> None:
    assert "before_sleep" not in RetryPolicy(3, 1, 60).tenacity_kwargs()


def test_describe_retry_gives_attempt_error_and_next_wait() -> None:
    lines: list[str] = []

    def before_sleep(state: tenacity.RetryCallState) -> None:
        lines.append(describe_retry(state, 3))

    run(RetryPolicy(3, 0, 60), Flaky(server_error()), before_sleep=before_sleep)

    assert lines == ["Attempt 1/3 failed: Canvas answered GET /x with 503. Trying again in 0.0 s."]


async def test_the_same_kwargs_drive_async_retrying() -> None:
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    call = Flaky(throttled(), server_error())

    async def attempt() -> str:
        return call()

    retrying = tenacity.AsyncRetrying(sleep=fake_sleep, **RetryPolicy(3, 0, 60).tenacity_kwargs())
    result = await retrying(attempt)

    assert result == "ok"
    assert sleeps == [THROTTLE_MIN_WAIT, 0.0]


_transient = st.sampled_from([server_error, throttled, lambda: CanvasTransportError("reset")])


@given(
    max_attempts=st.integers(min_value=1, max_value=12),
    wait_initial=st.floats(min_value=0, max_value=30),
    wait_max=st.floats(min_value=0, max_value=120),
    failures=st.lists(_transient, max_size=14),
)
def test_property_waits_are_never_negative_and_never_above_the_cap_except_the_throttle_floor(
    max_attempts: int, wait_initial: float, wait_max: float, failures: list[Callable[[], CanvasError]]
) -> None:
    errors = [make() for make in failures]
    call = Flaky(*errors)
    sleeps: list[float] = []
    retrying = tenacity.Retrying(
        sleep=sleeps.append, **RetryPolicy(max_attempts, wait_initial, wait_max).tenacity_kwargs()
    )

    if len(errors) >= max_attempts:
        with pytest.raises(CanvasError) as caught:
            retrying(call)
        assert caught.value is errors[max_attempts - 1]
    else:
        assert retrying(call) == "ok"

    assert call.calls == min(len(errors) + 1, max_attempts)
    assert len(sleeps) == call.calls - 1
    for wait, error in zip(sleeps, errors[: len(sleeps)], strict=True):
        assert wait >= 0
        if isinstance(error, CanvasThrottledError):
            assert THROTTLE_MIN_WAIT <= wait <= max(wait_max, THROTTLE_MIN_WAIT)
        else:
            assert wait <= wait_max


# -- RatePacer -------------------------------------------------------------------------------------------------


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pacer(clock: FakeClock) -> RatePacer:
    return RatePacer(200.0, clock=clock)


def test_a_fresh_pacer_does_not_delay(pacer: RatePacer) -> None:
    assert pacer.delay() == 0.0


@pytest.mark.parametrize("remaining", [600.0, 200.5, 200.0])
def test_no_pause_while_the_bucket_is_at_or_above_low_water(pacer: RatePacer, remaining: float) -> None:
    pacer.observe(remaining)

    assert pacer.delay() == 0.0


@pytest.mark.parametrize(
    ("remaining", "pause"),
    [(150.0, 5.0), (199.0, 0.1), (0.0, 20.0), (-200.0, 40.0)],
)
def test_below_low_water_the_pause_is_the_time_to_drain_back_to_it(
    pacer: RatePacer, remaining: float, pause: float
) -> None:
    pacer.observe(remaining)

    assert pacer.delay() == pytest.approx(pause)


def test_the_pause_runs_down_with_the_clock(pacer: RatePacer, clock: FakeClock) -> None:
    pacer.observe(150.0)

    clock.advance(2.0)
    assert pacer.delay() == pytest.approx(3.0)
    clock.advance(3.0)
    assert pacer.delay() == 0.0
    clock.advance(100.0)
    assert pacer.delay() == 0.0


def test_a_healthier_answer_does_not_shorten_a_pause_already_due(pacer: RatePacer) -> None:
    pacer.observe(0.0)
    pacer.observe(190.0)
    pacer.observe(600.0)

    assert pacer.delay() == pytest.approx(20.0)


def test_a_missing_header_is_ignored(pacer: RatePacer) -> None:
    pacer.observe(None)

    assert pacer.delay() == 0.0


def test_a_throttled_answer_holds_everyone_back_for_a_drain(pacer: RatePacer, clock: FakeClock) -> None:
    pacer.observe_throttled()

    assert pacer.delay() == THROTTLE_MIN_WAIT
    clock.advance(THROTTLE_MIN_WAIT)
    assert pacer.delay() == 0.0


def test_throttle_does_not_shorten_a_longer_pause(pacer: RatePacer) -> None:
    pacer.observe(-200.0)
    pacer.observe_throttled()

    assert pacer.delay() == pytest.approx(40.0)


def test_drain_rate_and_low_water_are_configurable(clock: FakeClock) -> None:
    pacer = RatePacer(100.0, drain_per_second=5.0, clock=clock)

    pacer.observe(50.0)

    assert pacer.delay() == pytest.approx(10.0)


def test_zero_low_water_only_pauses_on_an_overfilled_bucket(clock: FakeClock) -> None:
    pacer = RatePacer(0.0, clock=clock)

    pacer.observe(0.0)
    assert pacer.delay() == 0.0
    pacer.observe(-10.0)
    assert pacer.delay() == pytest.approx(1.0)


@given(
    low_water=st.floats(min_value=0, max_value=600),
    steps=st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(min_value=-200, max_value=600)),
            st.floats(min_value=0, max_value=60),
            st.booleans(),
        ),
        max_size=20,
    ),
)
def test_property_delay_is_never_negative_nor_longer_than_the_worst_drain(
    low_water: float, steps: list[tuple[float | None, float, bool]]
) -> None:
    clock = FakeClock()
    pacer = RatePacer(low_water, clock=clock)
    longest = THROTTLE_MIN_WAIT

    for remaining, elapsed, was_throttled in steps:
        pacer.observe(remaining)
        if was_throttled:
            pacer.observe_throttled()
        if remaining is not None:
            longest = max(longest, (low_water - remaining) / CANVAS_DRAIN_PER_SECOND)
        assert 0.0 <= pacer.delay() <= longest + 1e-9
        clock.advance(elapsed)
