"""Poll intervals: refused at parse time when out of range, floored in the trigger."""

from __future__ import annotations

import math

import pytest

from airflow_provider_canvas_progress.core.timing import (
    MAX_POLL_INTERVAL,
    MIN_POLL_INTERVAL,
    check_interval,
    clamp_interval,
    next_interval,
)
from airflow_provider_canvas_progress.exceptions import CanvasConfigurationError


@pytest.mark.parametrize("value", [0, -1, math.nan, math.inf, 1e300, MAX_POLL_INTERVAL + 1, "5", True, None])
def test_out_of_range_intervals_are_refused_naming_the_parameter(value: object) -> None:
    with pytest.raises(CanvasConfigurationError, match="poke_interval"):
        check_interval(value, what="poke_interval")


def test_an_interval_in_range_is_kept() -> None:
    assert check_interval(30, what="poll_interval") == 30.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0, MIN_POLL_INTERVAL), (math.nan, MIN_POLL_INTERVAL), (5.0, 5.0), (1e9, MAX_POLL_INTERVAL)],
)
def test_the_trigger_clamps_into_range(value: float, expected: float) -> None:
    assert clamp_interval(value) == expected


def test_backoff_with_max_wait_zero_stays_at_the_floor() -> None:
    assert [next_interval(0, n, exponential_backoff=True, max_wait=0) for n in range(5)] == [MIN_POLL_INTERVAL] * 5


def test_backoff_doubles_up_to_max_wait() -> None:
    waits = [next_interval(2, n, exponential_backoff=True, max_wait=10) for n in range(5)]
    assert waits == [2, 4, 8, 10, 10]


def test_a_fixed_interval_does_not_grow() -> None:
    assert next_interval(7, 40, exponential_backoff=False, max_wait=None) == 7
