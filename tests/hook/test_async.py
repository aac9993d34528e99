"""The async twins (aget_progress, acancel_progress, arequest), inside and outside ``async with``.

The simulator records requests but not which TCP connection carried them, so session reuse inside
``async with`` is not asserted here; the tests check that every call in one block works and that the
hook is usable again after leaving it.
"""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_canvas_progress.core.errors import (
    CanvasNotFoundError,
    CanvasPermissionError,
    CanvasServerError,
    ForeignHostError,
)
from airflow_provider_canvas_progress.core.progress import WorkflowState
from airflow_provider_canvas_progress.testing import CanvasSimulator, Fault, JobScript, ManualClock

from .conftest import FAST_RETRIES, Connect, MakeSim


@pytest.fixture
def running_job(sim: CanvasSimulator) -> str:
    """A course batch update started by the admin, running forever."""
    return sim.create_progress(user_id=1, script=JobScript.never_ending())


async def test_aget_progress_inside_async_with(sim: CanvasSimulator, connect: Connect, running_job: str) -> None:
    async with connect(sim) as hook:
        progress = await hook.aget_progress(running_job)

    assert (progress.id, progress.workflow_state) == (running_job, WorkflowState.RUNNING)


async def test_acancel_progress_inside_async_with(sim: CanvasSimulator, connect: Connect, running_job: str) -> None:
    async with connect(sim) as hook:
        progress = await hook.acancel_progress(running_job, message="Cancelled by Airflow")

    assert (progress.workflow_state, progress.message) == (WorkflowState.FAILED, "Cancelled by Airflow")
    assert sim.requests[0].body == b"message=Cancelled+by+Airflow"


async def test_acancel_progress_without_a_message_erases_it(sim: CanvasSimulator, connect: Connect) -> None:
    progress_id = sim.create_progress(user_id=1, script=JobScript.instant(message="2 courses processed"))

    async with connect(sim) as hook:
        progress = await hook.acancel_progress(progress_id)

    assert (progress.workflow_state, progress.message) == (WorkflowState.FAILED, None)


async def test_arequest_returns_the_decoded_json(sim: CanvasSimulator, connect: Connect) -> None:
    async with connect(sim) as hook:
        user = await hook.arequest("GET", "users/self")

    assert (user["id"], user["name"]) == (1, "Sim Admin")


async def test_arequest_sends_form_fields_in_canvas_bracket_style(sim: CanvasSimulator, connect: Connect) -> None:
    async with connect(sim) as hook:
        answer = await hook.arequest("PUT", "accounts/1/courses", data={"event": "offer", "course_ids": [1, 2]})

    assert answer["tag"] == "course_batch_update"
    assert sim.requests[0].body == b"event=offer&course_ids%5B%5D=1&course_ids%5B%5D=2"


async def test_one_async_with_block_serves_many_calls(make_sim: MakeSim, connect: Connect, clock: ManualClock) -> None:
    sim = make_sim(clock=clock)
    progress_id = sim.create_progress(user_id=1, script=JobScript(queued_for=1, running_for=1, running_steps=1))
    states = []

    async with connect(sim) as hook:
        for _ in range(3):
            states.append((await hook.aget_progress(progress_id)).workflow_state.value)
            clock.advance(1)
        await hook.arequest("GET", "users/self")

    assert states == ["queued", "running", "completed"]
    assert len(sim.requests) == 4


async def test_aget_progress_outside_async_with(sim: CanvasSimulator, connect: Connect, running_job: str) -> None:
    hook = connect(sim)

    first = await hook.aget_progress(running_job)
    second = await hook.aget_progress(running_job)

    assert first.id == second.id == running_job


async def test_concurrent_calls_outside_async_with(make_sim: MakeSim, connect: Connect) -> None:
    sim = make_sim(latency=0.05)
    progress_id = sim.create_progress(script=JobScript.instant())
    hook = connect(sim)

    progresses = await asyncio.gather(*(hook.aget_progress(progress_id) for _ in range(5)))

    assert len(progresses) == 5


async def test_hook_can_enter_async_with_again_after_leaving(
    sim: CanvasSimulator, connect: Connect, running_job: str
) -> None:
    hook = connect(sim)
    async with hook:
        await hook.aget_progress(running_job)

    async with hook:
        progress = await hook.aget_progress(running_job)

    assert progress.id == running_job
    assert len(sim.requests) == 2


async def test_async_call_recovers_after_transient_faults(
    sim: CanvasSimulator, connect: Connect, running_job: str
) -> None:
    sim.inject(Fault.html(503))
    sim.inject(Fault.truncated_json())
    sim.inject(Fault.reset())

    async with connect(sim) as hook:
        progress = await hook.aget_progress(running_job)

    assert progress.id == running_job
    assert sim.requests[-1].status == 200


async def test_async_slow_answer_beyond_the_timeout_is_retried(
    sim: CanvasSimulator, connect: Connect, running_job: str
) -> None:
    sim.inject(Fault.delay(5.0))

    # A 1 s timeout: the 5 s answer is abandoned, and the retry has time to answer on a loaded machine.
    async with connect(sim, timeout=1.0) as hook:
        progress = await asyncio.wait_for(hook.aget_progress(running_job), timeout=4.5)

    assert progress.id == running_job
    assert len(sim.requests) == 2


async def test_async_server_error_after_retries_are_spent(
    sim: CanvasSimulator, connect: Connect, running_job: str
) -> None:
    sim.inject(Fault.status(502), times=10)

    async with connect(sim) as hook:
        with pytest.raises(CanvasServerError):
            await hook.aget_progress(running_job)

    assert len(sim.requests) == FAST_RETRIES["max_attempts"]


async def test_async_errors_are_the_sync_classes_and_are_not_retried(sim: CanvasSimulator, connect: Connect) -> None:
    async with connect(sim) as hook:
        with pytest.raises(CanvasNotFoundError):
            await hook.aget_progress(424242)

    assert [r.status for r in sim.requests] == [404]


async def test_async_cancel_by_a_non_starter_is_a_permission_error(
    sim: CanvasSimulator, connect: Connect, running_job: str
) -> None:
    async with connect(sim, token=sim.add_token(user_id=2)) as hook:
        with pytest.raises(CanvasPermissionError):
            await hook.acancel_progress(running_job)


async def test_aget_progress_refuses_a_foreign_progress_url_without_a_request(
    sim: CanvasSimulator, make_sim: MakeSim, connect: Connect
) -> None:
    other = make_sim()

    async with connect(sim) as hook:
        with pytest.raises(ForeignHostError):
            await hook.aget_progress(f"{other.base_url}/api/v1/progress/1")

    assert (sim.requests, other.requests) == ([], [])
