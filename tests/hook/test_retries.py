"""What the hook retries (transient faults, throttling) and what it never retries (client errors)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import pytest

from airflow_provider_canvas_progress.core.errors import (
    CanvasAuthError,
    CanvasError,
    CanvasNotFoundError,
    CanvasPermissionError,
    CanvasServerError,
    CanvasValidationError,
)
from airflow_provider_canvas_progress.core.progress import WorkflowState
from airflow_provider_canvas_progress.core.retry import THROTTLE_MIN_WAIT
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.testing import LTI_PROGRESS_SCOPE, CanvasSimulator, Fault, JobScript

from .conftest import FAST_RETRIES, Connect


@pytest.fixture
def progress_id(sim: CanvasSimulator) -> str:
    """A finished Progress in account 1."""
    return sim.create_progress(script=JobScript.instant())


@pytest.mark.parametrize(
    ("fault", "times"),
    [
        pytest.param(Fault.status(500), 3, id="500-burst"),
        pytest.param(Fault.status(503), 1, id="503-json"),
        pytest.param(Fault.html(502), 1, id="502-html"),
        pytest.param(Fault.html(503), 2, id="503-html"),
        pytest.param(Fault.html(504), 1, id="504-html"),
        pytest.param(Fault.drop(), 1, id="dropped-connection"),
        pytest.param(Fault.reset(), 1, id="reset-connection"),
        pytest.param(Fault.truncated_json(), 1, id="truncated-json"),
        pytest.param(Fault.malformed_json(), 1, id="malformed-json"),
    ],
)
def test_call_recovers_after_a_transient_fault(
    sim: CanvasSimulator, hook: CanvasHook, progress_id: str, fault: Fault, times: int
) -> None:
    sim.inject(fault, times=times)

    progress = hook.get_progress(progress_id)

    assert progress.workflow_state is WorkflowState.COMPLETED
    assert [r.fault for r in sim.requests] == [fault.kind.value] * times + [None]


def test_slow_answer_beyond_the_timeout_is_abandoned_and_retried(
    sim: CanvasSimulator, connect: Connect, progress_id: str
) -> None:
    sim.inject(Fault.delay(5.0))
    hook = connect(sim, timeout=1.0)  # abandons the 5 s answer; ample for the retry's answer under load

    started = time.monotonic()
    progress = hook.get_progress(progress_id)
    elapsed = time.monotonic() - started

    assert progress.workflow_state is WorkflowState.COMPLETED
    assert len(sim.requests) == 2
    assert elapsed < 4.5  # the 5 s answer was not waited for (about 1.1 s; slack for a loaded CI)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(403, "403 Forbidden (Rate Limit Exceeded)\n", id="403-older-canvas"),
        pytest.param(429, "429 Too Many Requests (Rate Limit Exceeded)\n", id="429-hosted-canvas"),
    ],
)
def test_throttled_answer_is_retried_after_the_throttle_pause(
    sim: CanvasSimulator, hook: CanvasHook, progress_id: str, status: int, body: str
) -> None:
    # Canvas sends no Retry-After; the policy waits THROTTLE_MIN_WAIT (10 s) for the bucket to drain,
    # so each case costs ~10 s. One throttled answer keeps it at one pause.
    sim.inject(Fault.body(status, body))

    progress = hook.get_progress(progress_id)

    first, second = sim.requests
    assert progress.workflow_state is WorkflowState.COMPLETED
    assert (first.status, second.status) == (status, 200)
    assert THROTTLE_MIN_WAIT - 0.5 <= second.time - first.time <= THROTTLE_MIN_WAIT + 5


def _bad_request(sim: CanvasSimulator, connect: Connect) -> Callable[[], object]:
    return lambda: connect(sim).start_job("PUT", "accounts/1/courses", data={"course_ids": [1]})


def _bad_token(sim: CanvasSimulator, connect: Connect) -> Callable[[], object]:
    progress_id = sim.create_progress()
    return lambda: connect(sim, token="1~unknown").get_progress(progress_id)


def _forbidden(sim: CanvasSimulator, connect: Connect) -> Callable[[], object]:
    progress_id = sim.create_progress()
    return lambda: connect(sim, token=sim.add_token(user_id=2)).get_progress(progress_id)


def _not_found(sim: CanvasSimulator, connect: Connect) -> Callable[[], object]:
    return lambda: connect(sim).get_progress(424242)


def _unprocessable(sim: CanvasSimulator, connect: Connect) -> Callable[[], object]:
    sim.add_assignment(70, course_id=7)
    progress_id = sim.create_progress(context_type="Assignment", context_id=70, user_id=None)
    lti = connect(sim, token=sim.add_token(kind="lti", scopes=[LTI_PROGRESS_SCOPE]))
    return lambda: lti.get_progress(progress_id, lti_course_id=8)


@pytest.mark.parametrize(
    ("scenario", "error", "status"),
    [
        pytest.param(_bad_request, CanvasValidationError, 400, id="400-validation"),
        pytest.param(_bad_token, CanvasAuthError, 401, id="401-invalid-token"),
        pytest.param(_forbidden, CanvasPermissionError, 403, id="403-permission"),
        pytest.param(_not_found, CanvasNotFoundError, 404, id="404-not-found"),
        pytest.param(_unprocessable, CanvasValidationError, 422, id="422-lti"),
    ],
)
def test_client_errors_are_not_retried(
    sim: CanvasSimulator,
    connect: Connect,
    scenario: Callable[[CanvasSimulator, Connect], Callable[[], object]],
    error: type[CanvasError],
    status: int,
) -> None:
    call = scenario(sim, connect)

    with pytest.raises(error):
        call()

    assert [r.status for r in sim.requests] == [status]


def test_hook_argument_max_attempts_overrides_the_connection(
    sim: CanvasSimulator, connect: Connect, progress_id: str
) -> None:
    sim.inject(Fault.status(500), times=10)
    hook = connect(sim, hook_kwargs={"max_attempts": 2})

    with pytest.raises(CanvasServerError):
        hook.get_progress(progress_id)

    assert len(sim.requests) == 2


def test_each_retry_is_logged_with_its_attempt_number(
    sim: CanvasSimulator, hook: CanvasHook, progress_id: str, emitted: Callable[[], str]
) -> None:
    sim.inject(Fault.status(503), times=2)

    hook.get_progress(progress_id)

    text = emitted()
    assert f"Attempt 1/{FAST_RETRIES['max_attempts']} failed" in text
    assert f"Attempt 2/{FAST_RETRIES['max_attempts']} failed" in text


@pytest.mark.parametrize("path", ["sync", "async"])
def test_the_first_attempt_counts_towards_the_retry_budget(
    sim: CanvasSimulator, hook: CanvasHook, progress_id: str, emitted: Callable[[], str], path: str
) -> None:
    # The first attempt is made outside tenacity (it is the hot path of every poll); it must still
    # be attempt 1 of max_attempts, with the same log lines, on both paths.
    attempts = FAST_RETRIES["max_attempts"]
    sim.inject(Fault.status(503), times=attempts)

    async def read_async() -> None:
        async with hook:
            await hook.aget_progress(progress_id)

    with pytest.raises(CanvasServerError):
        hook.get_progress(progress_id) if path == "sync" else asyncio.run(read_async())

    assert len(sim.requests) == attempts
    text = emitted()
    assert [n for n in range(1, attempts + 1) if f"Attempt {n}/{attempts} failed" in text] == list(range(1, attempts))


def test_job_starting_post_that_timed_out_is_not_sent_twice(sim: CanvasSimulator, connect: Connect) -> None:
    sim.inject(Fault.delay(1.0), path="/content_migrations$")
    hook = connect(sim, timeout=0.2)

    with contextlib.suppress(CanvasError):
        hook.start_job("POST", "courses/1/content_migrations", data={"migration_type": "course_copy_importer"})

    posts = [r for r in sim.requests if r.method == "POST"]
    assert len(posts) == 1
