"""Canvas's bad nights, injected through the simulator, against a real deferred wait.

Transient faults within the retry budget must not fail the wait; persistent ones must end it with
a clear, typed failure in bounded time. Each fault is served over a real socket by the simulator.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from airflow_provider_canvas_progress.core.events import WaitEvent, WaitStatus
from airflow_provider_canvas_progress.testing import CanvasSimulator, Fault, JobScript
from airflow_provider_canvas_progress.triggers.progress import CanvasProgressTrigger
from tests.triggers.conftest import first_event

#: Tries per call 3, back-off capped at 50 ms; the trigger then tolerates 3 failed polls in a row.
EXTRAS = {"retry_wait_initial": 0.01, "retry_wait_max": 0.05, "max_attempts": 3, "timeout": 1.0}
POLLS_TOLERATED = 3
PROGRESS = r"^/api/v1/progress/"

#: Each fault with the size of its burst. Four span two polls' retries; a throttled answer is
#: served once, since it already costs the policy's ~10 s floor (the time Canvas's bucket drains).
TRANSIENT = {
    "500 JSON": (Fault.status(500), 4),
    "502 HTML": (Fault.html(502), 4),
    "503 maintenance page": (Fault.html(503), 4),
    "504 HTML": (Fault.html(504), 4),
    "dropped connection": (Fault.drop(), 4),
    "reset connection": (Fault.reset(), 4),
    "read timeout": (Fault.delay(2.0), 2),
    "truncated JSON": (Fault.truncated_json(), 4),
    "malformed JSON": (Fault.malformed_json(), 4),
    "throttled 403": (Fault.body(403, "403 Forbidden (Rate Limit Exceeded)"), 1),
    "throttled 429": (Fault.body(429, "429 Too Many Requests (Rate Limit Exceeded)"), 1),
}


@pytest.fixture
def canvas(monkeypatch: pytest.MonkeyPatch) -> Iterator[CanvasSimulator]:
    from airflow_provider_canvas_progress.hooks import canvas as hook_module

    hook_module._gates.clear()
    with CanvasSimulator(default_job_script=JobScript(queued_for=0.1, running_for=0.4)) as sim:
        conn = {"conn_type": "canvas", "host": sim.base_url, "password": sim.token, "extra": EXTRAS}
        monkeypatch.setenv("AIRFLOW_CONN_CANVAS_DEFAULT", json.dumps(conn))
        yield sim


def wait_on(pid: str, **kwargs: object) -> CanvasProgressTrigger:
    return CanvasProgressTrigger(
        progress_id=pid,
        poll_interval=0.05,
        max_consecutive_failures=POLLS_TOLERATED,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(("fault", "burst"), TRANSIENT.values(), ids=TRANSIENT.keys())
async def test_a_burst_within_the_retry_budget_does_not_fail_the_wait(
    canvas: CanvasSimulator, fault: Fault, burst: int
) -> None:
    pid = canvas.create_progress()
    canvas.inject(fault, times=burst, path=PROGRESS)
    event = WaitEvent.from_payload(await first_event(wait_on(pid), timeout=90))
    assert event.status is WaitStatus.ENDED
    assert event.progress is not None
    assert event.progress.workflow_state.value == "completed"


@pytest.mark.parametrize(
    ("fault", "error_type", "sends_per_try"),
    [
        (Fault.html(503), "CanvasServerError", 1),
        (Fault.status(500), "CanvasServerError", 1),
        (Fault.malformed_json(), "CanvasUnreadableResponseError", 1),
        # aiohttp itself re-sends an idempotent GET once when a kept-alive connection drops.
        (Fault.drop(), "CanvasTransportError", 2),
    ],
    ids=["503", "500", "malformed JSON", "dropped"],
)
async def test_a_persistent_fault_ends_the_wait_with_a_typed_retryable_error_in_bounded_time(
    canvas: CanvasSimulator, fault: Fault, error_type: str, sends_per_try: int
) -> None:
    pid = canvas.create_progress()
    canvas.inject(fault, times=10_000, path=PROGRESS)
    started = time.monotonic()
    event = WaitEvent.from_payload(await first_event(wait_on(pid), timeout=60))
    assert (event.status, event.error_type, event.retryable) == (WaitStatus.ERROR, error_type, True)
    assert f"/api/v1/progress/{pid}" in event.message
    assert time.monotonic() - started < 20
    # 3 tolerated polls x 3 tries each, and not one request more.
    sent = len([r for r in canvas.requests if r.path == f"/api/v1/progress/{pid}"])
    assert sent == POLLS_TOLERATED * 3 * sends_per_try


async def test_a_progress_that_goes_backwards_is_still_waited_on_to_its_end(canvas: CanvasSimulator) -> None:
    script = JobScript.steps(
        [(0.0, "running", 60.0, None), (0.2, "running", 20.0, None), (0.4, "running", 80.0, None),
         (0.6, "completed", 100.0, "done")]
    )  # fmt: skip
    pid = canvas.create_progress(script=script)
    event = WaitEvent.from_payload(await first_event(wait_on(pid)))
    assert event.progress is not None
    assert event.progress.message == "done"


async def test_a_progress_stuck_at_99_percent_times_out_on_its_deadline(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.stalled(99.0, running_for=0.2))
    started = time.monotonic()
    event = WaitEvent.from_payload(await first_event(wait_on(pid, deadline=time.time() + 3.0)))
    assert event.status is WaitStatus.TIMEOUT
    assert event.progress is not None
    assert event.progress.completion == 99.0
    assert 2.8 < time.monotonic() - started < 8  # the deadline, not a poll's retries past it


async def test_a_job_superseded_by_canvas_reads_canceled(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(tag="course_pace_publish", script=JobScript.superseded(after=0.2))
    event = WaitEvent.from_payload(await first_event(wait_on(pid)))
    assert event.progress is not None
    assert event.progress.workflow_state.value == "canceled"


async def test_a_revoked_token_ends_the_wait_at_once_without_retrying(
    canvas: CanvasSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = canvas.create_progress()
    revoked = canvas.add_token(state="revoked")
    conn = {"conn_type": "canvas", "host": canvas.base_url, "password": revoked, "extra": EXTRAS}
    monkeypatch.setenv("AIRFLOW_CONN_CANVAS_DEFAULT", json.dumps(conn))
    event = WaitEvent.from_payload(await first_event(wait_on(pid)))
    assert (event.status, event.error_type, event.retryable) == (WaitStatus.ERROR, "CanvasAuthError", False)
    assert "Revoked access token." in event.message
    assert len([r for r in canvas.requests if r.path.startswith("/api/v1/progress/")]) == 1
