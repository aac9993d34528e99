"""The stall watch on SIS imports, in the job trigger on an injected clock against the simulator's
serial strand: an import queued behind another of its account is waiting, not stuck; an import that
stops moving is stalled.
"""

from __future__ import annotations

import time

from airflow_provider_canvas_progress.core.events import WaitStatus
from airflow_provider_canvas_progress.core.kinds.sis_import import queued_behind
from airflow_provider_canvas_progress.testing import CanvasSimulator, SisScript
from airflow_provider_canvas_progress.triggers.job import CanvasJobTrigger
from tests.triggers.clocks import SteppingClock
from tests.triggers.conftest import first_event

USERS = "user_id,login_id,first_name,last_name,status\nu1,u1@x.edu,Ada,L,active\n"
STALLED_AFTER = 600.0
IMPORTING = "/api/v1/accounts/1/sis_imports/importing"


def running_forever(canvas: CanvasSimulator) -> int:
    """An import that takes the account's strand, reaches its last step at once and never ends."""
    first = canvas.sis.create_import(
        {"users.csv": USERS}, script=SisScript(pickup=0.0, importing_for=0.1, outcome="never")
    )
    deadline = time.monotonic() + 10
    while canvas.sis.import_json(first)["progress"] < 66 and time.monotonic() < deadline:
        time.sleep(0.05)
    return first


def watching(import_id: int, clock: SteppingClock, *, wait_for: float) -> CanvasJobTrigger:
    trigger = CanvasJobTrigger(ref=f"sis_import:1/{import_id}", poll_interval=60, stalled_after=STALLED_AFTER)
    trigger.clock = clock.as_wait_clock()
    trigger.started_at = clock.now
    trigger.deadline = clock.now + wait_for
    return trigger


async def test_an_import_queued_behind_another_of_its_account_is_not_stalled(canvas: CanvasSimulator) -> None:
    ahead = running_forever(canvas)
    queued = canvas.sis.create_import({"users.csv": USERS})
    assert canvas.sis.import_json(queued)["workflow_state"] == "created"
    clock = SteppingClock()

    payload = await first_event(watching(queued, clock, wait_for=3 * STALLED_AFTER))

    assert payload["status"] == WaitStatus.TIMEOUT.value
    assert payload["progress"]["workflow_state"] == "created"
    # The kind was asked why, once per stalled_after, and named the import ahead.
    asked = [r for r in canvas.requests if r.path == IMPORTING]
    assert len(asked) == 2
    assert ahead != queued


async def test_an_import_that_stops_moving_is_stalled(canvas: CanvasSimulator) -> None:
    stuck = running_forever(canvas)
    clock = SteppingClock()

    payload = await first_event(watching(stuck, clock, wait_for=3 * STALLED_AFTER))

    assert payload["status"] == WaitStatus.STALLED.value
    assert payload["message"].startswith(
        f"Canvas SIS import {stuck} has not changed for 10 min (still importing, 66 %)"
    )


def test_the_wait_is_explained_by_another_import_of_the_account_and_by_nothing_else() -> None:
    running = {"sis_imports": [{"id": 122, "workflow_state": "importing", "progress": 30}]}

    assert queued_behind(running, "123") == "queued behind SIS import 122 (importing, 30 %)"
    assert queued_behind({"sis_imports": [{"id": 123, "workflow_state": "importing"}]}, "123") is None
    assert queued_behind({"sis_imports": []}, "123") is None
    assert queued_behind(["junk"], "123") is None
