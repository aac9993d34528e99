"""The retry budget, asserted against the simulator: the hook's tries and the trigger's tolerance
of failed polls compose into ``max_consecutive_failures x max_attempts`` failed requests."""

from __future__ import annotations

import time

import pytest

from airflow_provider_canvas_progress.core.budget import RetryBudget
from airflow_provider_canvas_progress.core.settings import CanvasSettings
from airflow_provider_canvas_progress.testing import CanvasSimulator, Fault, JobScript
from airflow_provider_canvas_progress.triggers.job import CanvasJobTrigger
from tests.triggers.conftest import FAST_EXTRAS, first_event

POLLS_TOLERATED = 2


def budget(canvas: CanvasSimulator) -> RetryBudget:
    settings = CanvasSettings(
        canvas.base_url,
        canvas.token,
        max_attempts=int(FAST_EXTRAS["max_attempts"]),
        retry_wait_initial=FAST_EXTRAS["retry_wait_initial"],
        retry_wait_max=FAST_EXTRAS["retry_wait_max"],
    )
    return RetryBudget.of(settings, max_consecutive_failures=POLLS_TOLERATED, poll_interval=1.0)


def wait_on(pid: str) -> CanvasJobTrigger:
    return CanvasJobTrigger(
        ref=f"progress:{pid}", poll_interval=1.0, max_consecutive_failures=POLLS_TOLERATED, deadline=time.time() + 60
    )


async def test_an_outage_within_the_budget_never_reaches_the_task(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript(queued_for=0.0, running_for=0.0))
    canvas.inject(Fault.status(500), times=budget(canvas).failed_requests_ridden_out, path=r"^/api/v1/progress/")
    payload = await first_event(wait_on(pid))
    assert payload["status"] == "ended"


async def test_an_outage_one_request_beyond_the_budget_reaches_the_task_as_retryable(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript(queued_for=0.0, running_for=0.0))
    plan = budget(canvas)
    canvas.inject(Fault.status(500), times=plan.failed_requests_ridden_out + 1, path=r"^/api/v1/progress/")
    started = time.monotonic()
    payload = await first_event(wait_on(pid))
    took = time.monotonic() - started
    assert payload["status"] == "error"
    assert payload["retryable"]
    # Every try failed at once here, so the wait ended no sooner than the fastest case allows.
    assert took >= plan.always_ridden_out
    assert took < plan.always_reaches_task


def test_the_default_settings_budget_is_the_one_documented() -> None:
    plan = RetryBudget.of(CanvasSettings("https://canvas.example.edu", "t"), poll_interval=60)
    assert plan.failed_requests_ridden_out == 29
    assert plan.fastest_failed_poll == pytest.approx(31)
    assert plan.always_ridden_out == pytest.approx(395)
    assert plan.slowest_failed_poll == pytest.approx(216)
    assert plan.always_reaches_task == pytest.approx(1380)
    assert "395 s" in plan.describe()
    assert "1380 s" in plan.describe()


def test_more_tolerance_or_a_longer_interval_only_lengthens_the_budget() -> None:
    settings = CanvasSettings("https://canvas.example.edu", "t")
    base = RetryBudget.of(settings, poll_interval=60)
    for wider in (
        RetryBudget.of(settings, max_consecutive_failures=6, poll_interval=60),
        RetryBudget.of(settings, poll_interval=120),
    ):
        assert wider.always_ridden_out > base.always_ridden_out
        assert wider.always_reaches_task > base.always_reaches_task
