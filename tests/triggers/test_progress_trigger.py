"""CanvasProgressTrigger: one event per wait, deadline kept across restarts, kind to the token's bucket."""

from __future__ import annotations

import asyncio
import time

import pytest

from airflow_provider_canvas_progress.core.events import EVENT_VERSION, WaitEvent, WaitStatus
from airflow_provider_canvas_progress.testing import CanvasSimulator, Fault, JobScript
from airflow_provider_canvas_progress.triggers.progress import CanvasProgressTrigger
from tests.triggers.conftest import first_event, set_connection


def trigger(progress_id: str, **kwargs: object) -> CanvasProgressTrigger:
    return CanvasProgressTrigger(progress_id=progress_id, poll_interval=0.05, **kwargs)  # type: ignore[arg-type]


def rebuilt(original: CanvasProgressTrigger) -> CanvasProgressTrigger:
    """What the triggerer does after a restart: import the class path, call it with the kwargs."""
    classpath, kwargs = original.serialize()
    module, _, name = classpath.rpartition(".")
    cls = getattr(__import__(module, fromlist=[name]), name)
    return cls(**kwargs)


def test_serialize_round_trips_with_primitives_only() -> None:
    original = trigger("123", deadline=time.time() + 60, cancel_messages=["Cancelled by Airflow"], lti_course_id="7")
    classpath, kwargs = original.serialize()
    assert classpath == "airflow_provider_canvas_progress.triggers.progress.CanvasProgressTrigger"
    assert all(isinstance(v, (str, int, float, bool, list, type(None))) for v in kwargs.values())
    assert rebuilt(original).serialize() == (classpath, kwargs)


async def test_completed_job_fires_one_ended_event(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress()
    payload = await first_event(trigger(pid))
    event = WaitEvent.from_payload(payload)
    assert payload["version"] == EVENT_VERSION
    assert event.status is WaitStatus.ENDED
    assert event.progress is not None
    assert event.progress.workflow_state.value == "completed"


async def test_failed_job_fires_an_ended_event_with_canvas_message(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript(queued_for=0.0, running_for=0.2, outcome="failed", message="boom"))
    event = WaitEvent.from_payload(await first_event(trigger(pid)))
    assert event.progress is not None
    assert event.progress.message == "boom"


async def test_deadline_fires_a_timeout_event_with_the_last_progress(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.never_ending(running_for=0.1))
    # 3 s: room for the connection lookup and first polls on a loaded machine (it is a deadline, not a sleep).
    event = WaitEvent.from_payload(await first_event(trigger(pid, deadline=time.time() + 3.0)))
    assert event.status is WaitStatus.TIMEOUT
    assert event.progress is not None
    assert event.progress.is_pending


async def test_deadline_is_kept_when_the_trigger_is_rebuilt_after_a_restart(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.never_ending(running_for=0.1))
    t0 = time.time()
    first = trigger(pid, deadline=t0 + 4.0, started_at=t0)
    task = asyncio.create_task(first_event(first))
    await asyncio.sleep(2.0)  # the triggerer dies mid-wait...
    task.cancel()
    started = time.monotonic()
    event = WaitEvent.from_payload(await first_event(rebuilt(first)))  # ...and a new one picks it up
    assert event.status is WaitStatus.TIMEOUT
    assert time.monotonic() - started < 3.5  # the remaining ~2 s, not a fresh 4 s
    assert event.elapsed >= 4.0  # measured from the original start


async def test_a_burst_of_5xx_and_throttled_answers_is_survived(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress()
    for fault in (Fault.status(500), Fault.html(502), Fault.html(503), Fault.status(504)):
        canvas.inject(fault, path=r"^/api/v1/progress/")
    canvas.inject(Fault.body(429, "429 Too Many Requests (Rate Limit Exceeded)", "text/plain"), path=r"^/api/v1/")
    event = WaitEvent.from_payload(await first_event(trigger(pid), timeout=60))
    assert event.status is WaitStatus.ENDED


async def test_consecutive_transient_failures_beyond_the_limit_fire_a_retryable_error(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress()
    canvas.inject(Fault.status(503), times=50, path=r"^/api/v1/progress/")
    event = WaitEvent.from_payload(await first_event(trigger(pid, max_consecutive_failures=2)))
    assert event.status is WaitStatus.ERROR
    assert event.retryable is True
    assert event.error_type == "CanvasServerError"


async def test_unknown_progress_fires_a_non_retryable_error_at_once(canvas: CanvasSimulator) -> None:
    event = WaitEvent.from_payload(await first_event(trigger("424242")))
    assert (event.status, event.retryable, event.error_type) == (WaitStatus.ERROR, False, "CanvasNotFoundError")
    assert len([r for r in canvas.requests if r.path.startswith("/api/v1/progress/")]) == 1


async def test_misconfigured_connection_fires_an_error_event_instead_of_crashing(
    canvas: CanvasSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CANVAS_DEFAULT", '{"conn_type": "canvas", "host": "http://canvas.example.edu"}')
    event = WaitEvent.from_payload(await first_event(trigger("1")))
    assert event.status is WaitStatus.ERROR
    assert "http://" in event.message


async def test_many_triggers_on_one_token_are_never_throttled(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each in-flight request costs 50 of 600 units: ~12 at once would fill Canvas's bucket.
    with CanvasSimulator(latency=0.05, default_job_script=JobScript(queued_for=0.2, running_for=1.0)) as sim:
        set_connection(monkeypatch, sim)
        pids = [sim.create_progress() for _ in range(60)]
        events = await asyncio.gather(*(first_event(trigger(pid), timeout=120) for pid in pids))
        assert all(WaitEvent.from_payload(e).status is WaitStatus.ENDED for e in events)
        assert sim.stats.throttled == 0
        assert max(sim.stats.max_in_flight.values()) <= 4


async def test_on_kill_cancels_a_pending_job_with_the_kill_message(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.never_ending())
    killed = trigger(pid, cancel_on_kill=True, kill_message="Cancelled by Airflow (dag d, task t, run r): killed")
    await killed.on_kill()
    after = canvas.progress_json(pid)
    assert (after["workflow_state"], after["message"]) == (
        "failed",
        "Cancelled by Airflow (dag d, task t, run r): killed",
    )


async def test_on_kill_leaves_a_finished_job_alone(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.instant("completed"))
    await trigger(pid, cancel_on_kill=True, kill_message="Cancelled by Airflow").on_kill()
    assert canvas.progress_json(pid)["workflow_state"] == "completed"
    assert not [r for r in canvas.requests if r.path.endswith("/cancel")]


async def test_on_kill_does_nothing_unless_asked(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.never_ending())
    await trigger(pid).on_kill()
    assert canvas.progress_json(pid)["workflow_state"] != "failed"


async def test_on_kill_never_raises_when_canvas_refuses(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(user_id=None, script=JobScript.never_ending())  # nobody may cancel it
    await trigger(pid, cancel_on_kill=True, kill_message="Cancelled by Airflow").on_kill()
    assert canvas.progress_json(pid)["workflow_state"] == "running"


def test_repr_holds_no_token(canvas: CanvasSimulator) -> None:
    assert canvas.token not in repr(trigger("5"))


async def test_on_kill_without_a_kill_message_still_cancels_with_a_recognisable_one(canvas: CanvasSimulator) -> None:
    # start_from_trigger builds the trigger at parse time, with no DAG run to name in a message.
    pid = canvas.create_progress(script=JobScript.never_ending())
    await trigger(pid, cancel_on_kill=True).on_kill()
    after = canvas.progress_json(pid)
    assert after["workflow_state"] == "failed"
    assert after["message"] == "Cancelled by Airflow: the task was killed"


async def test_triggers_on_one_token_share_one_session_closed_by_the_last(canvas: CanvasSimulator) -> None:
    from airflow_provider_canvas_progress.hooks import gates

    pids = [canvas.create_progress(script=JobScript.never_ending()) for _ in range(20)]
    waits = [asyncio.create_task(first_event(trigger(pid))) for pid in pids]
    loop = asyncio.get_running_loop()

    def borrowers() -> int:
        shared = [gate._sessions[loop] for gate in gates._gates.values() if loop in gate._sessions]
        return sum(s.borrowers for s in shared)

    # Each trigger looks up its connection before it borrows; on a slow machine that takes a while,
    # so wait for all twenty (bounded) instead of guessing how long they need.
    give_up = time.monotonic() + 60
    while borrowers() < 20 and time.monotonic() < give_up:
        await asyncio.sleep(0.05)
    (gate,) = gates._gates.values()
    shared = gate._sessions[loop]
    assert shared.borrowers == 20  # one pool of connections for all of them, not a TLS buffer each
    session = shared.session

    for pid in pids:
        canvas.set_progress(pid, workflow_state="completed", completion=100)
    await asyncio.wait_for(asyncio.gather(*waits), timeout=60)
    assert session.closed
    assert loop not in gate._sessions
