"""CanvasJobTrigger: one kwarg per job, one builder, old rows still run, a first sleep instead of a
repeated read, no hot loop, and a cancellation that always stops it."""

from __future__ import annotations

import asyncio
import time

import pytest

from airflow_provider_canvas_progress.core.arguments import MAX_CONSECUTIVE_FAILURES
from airflow_provider_canvas_progress.core.events import WaitStatus
from airflow_provider_canvas_progress.core.ids import ProgressRef
from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript
from airflow_provider_canvas_progress.triggers.job import CanvasJobTrigger, within
from airflow_provider_canvas_progress.triggers.progress import CanvasProgressTrigger
from airflow_provider_canvas_progress.waiting import build_trigger
from tests.triggers.clocks import SteppingClock
from tests.triggers.conftest import first_event

#: The kwargs the trigger carries, each of them used; changing this list changes stored rows.
KWARGS = [
    "ref",
    "canvas_conn_id",
    "poll_interval",
    "deadline",
    "started_at",
    "first_poll_at",
    "max_consecutive_failures",
    "cancel_on_kill",
    "kill_message",
    "exponential_backoff",
    "max_wait",
]


def stepping(trigger: CanvasJobTrigger) -> SteppingClock:
    clock = SteppingClock()
    trigger.clock = clock.as_wait_clock()
    trigger.started_at = clock.now
    return clock


def test_the_builder_carries_the_job_as_one_ref_kwarg_and_nothing_unused() -> None:
    trigger = build_trigger(
        ProgressRef("123", lti_course_id="7"), canvas_conn_id="c", poll_interval=5, timeout=60, now=100.0
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_canvas_progress.triggers.job.CanvasJobTrigger"
    assert list(kwargs) == KWARGS
    assert kwargs["ref"] == "progress:lti/7/123"
    assert (kwargs["deadline"], kwargs["started_at"]) == (160.0, 100.0)
    assert "cancel_messages" not in kwargs
    assert "progress_id" not in kwargs


@pytest.mark.parametrize(("stored", "kept"), [(0, 1), (-7, 1), (2.9, 2), (1e9, MAX_CONSECUTIVE_FAILURES), ("12", 12)])
def test_a_stored_failure_budget_is_clamped_not_refused(stored: object, kept: int) -> None:
    # A row any version (or a hand edit) wrote: the wait runs with the nearest budget that makes sense.
    assert CanvasJobTrigger(ref="progress:1", max_consecutive_failures=stored).max_consecutive_failures == kept  # type: ignore[arg-type]


def test_a_wait_read_just_before_deferring_first_polls_one_interval_later() -> None:
    trigger = build_trigger(
        ProgressRef("1"), canvas_conn_id="c", poll_interval=30, timeout=None, now=100.0, read_just_now=True
    )
    assert trigger.first_poll_at == 130.0
    assert build_trigger(ProgressRef("1"), canvas_conn_id="c", poll_interval=30, timeout=None).first_poll_at is None


async def test_a_trigger_row_written_by_the_previous_version_still_deserializes_and_runs(
    canvas: CanvasSimulator,
) -> None:
    pid = canvas.create_progress(script=JobScript(queued_for=0.0, running_for=0.0))
    old_row = {  # exactly what the previous version stored for a deferred sensor
        "progress_id": pid,
        "canvas_conn_id": "canvas_default",
        "poll_interval": 0.05,
        "deadline": time.time() + 60,
        "started_at": time.time(),
        "cancel_messages": ["Cancelled by Airflow"],
        "lti_course_id": None,
        "max_consecutive_failures": 5,
        "cancel_on_kill": False,
        "kill_message": None,
        "exponential_backoff": False,
        "max_wait": None,
    }
    trigger = CanvasProgressTrigger(**old_row)
    assert trigger.ref == f"progress:{pid}"
    payload = await first_event(trigger)
    assert payload["status"] == "ended"
    assert payload["progress"]["workflow_state"] == "completed"


async def test_first_poll_waits_out_the_rest_of_the_interval_with_the_injected_clock(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript(queued_for=0.0, running_for=0.0))
    trigger = CanvasJobTrigger(ref=f"progress:{pid}", poll_interval=30)
    clock = stepping(trigger)
    trigger.first_poll_at = clock.now + 12.5
    payload = await first_event(trigger)
    assert payload["status"] == "ended"
    assert clock.sleeps == [12.5]
    assert [r.path for r in canvas.requests if r.path.endswith(f"/progress/{pid}")] == [f"/api/v1/progress/{pid}"]


async def test_a_first_poll_time_in_the_past_polls_at_once(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript(queued_for=0.0, running_for=0.0))
    trigger = CanvasJobTrigger(ref=f"progress:{pid}", poll_interval=30)
    clock = stepping(trigger)
    trigger.first_poll_at = clock.now - 1  # e.g. rebuilt after a triggerer restart
    assert (await first_event(trigger))["status"] == "ended"
    assert clock.sleeps == []


async def test_exponential_backoff_with_max_wait_zero_never_hot_loops(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.never_ending())
    trigger = CanvasJobTrigger(ref=f"progress:{pid}", poll_interval=0, exponential_backoff=True, max_wait=0)
    clock = stepping(trigger)
    trigger.deadline = clock.now + 5
    payload = await first_event(trigger)
    assert payload["status"] == WaitStatus.TIMEOUT.value
    assert clock.sleeps
    assert min(clock.sleeps) >= 1.0


async def test_the_deadline_is_read_from_the_injected_wall_clock(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.never_ending())
    trigger = CanvasJobTrigger(ref=f"progress:{pid}", poll_interval=60)
    clock = stepping(trigger)
    trigger.deadline = clock.now + 150
    payload = await first_event(trigger)
    assert payload["status"] == "timeout"
    assert payload["elapsed"] == pytest.approx(150)
    assert clock.sleeps == [60, 60, 30]


async def test_an_unknown_kind_fires_a_non_retryable_error(canvas: CanvasSimulator) -> None:
    payload = await first_event(CanvasJobTrigger(ref="quiz_report:1"))
    assert payload["status"] == "error"
    assert not payload["retryable"]
    assert "Unknown Canvas job kind 'quiz_report'" in payload["message"]


async def test_cancelling_a_trigger_with_a_deadline_always_stops_it(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.never_ending())
    for attempt in range(200):
        trigger = CanvasJobTrigger(ref=f"progress:{pid}", poll_interval=1, deadline=time.time() + 3600)
        events = trigger.run()
        task = asyncio.ensure_future(events.__anext__())
        # Vary the moment of cancellation: before the read, during it, while it completes.
        for _ in range(attempt % 7):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert task.cancelled()


async def test_within_propagates_a_cancellation_that_arrives_as_the_inner_task_finishes() -> None:
    async def quick() -> int:
        return 1

    for _ in range(200):
        outer = asyncio.ensure_future(within(quick(), 10.0))
        await asyncio.sleep(0)
        outer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await outer


async def test_within_reports_a_timeout_without_raising() -> None:
    assert await within(asyncio.sleep(10), 0.01) == (False, None)
    assert await within(asyncio.sleep(0, result=5), 1.0) == (True, 5)


async def test_a_progress_url_in_a_legacy_row_is_read_with_the_connection_and_events_carry_its_string_form(
    canvas: CanvasSimulator,
) -> None:
    pid = canvas.create_progress(script=JobScript(queued_for=0.0, running_for=0.0))
    trigger = CanvasProgressTrigger(progress_id=f"{canvas.base_url}/api/v1/progress/{pid}", poll_interval=1)
    payload = await first_event(trigger)
    assert payload["status"] == "ended"
    assert payload["ref"] == f"progress:{pid}"
