"""JobScript: how a Progress moves over the simulator clock (pure logic, then over HTTP)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_canvas_progress.testing import (
    PENDING_STATES,
    TERMINAL_STATES,
    CanvasSimulator,
    JobScript,
    ManualClock,
    Step,
)

from .simclient import Api


def states(script: JobScript, *times: float) -> list[tuple[str, float | int | None]]:
    return [(s.workflow_state, s.completion) for s in (script.state_at(t) for t in times)]


def test_default_script_is_queued_then_running_then_completed() -> None:
    script = JobScript(queued_for=1, running_for=3)
    assert states(script, 0, 1, 2, 3, 4) == [
        ("queued", None),
        ("running", 0.0),
        ("running", 33.333333333333336),
        ("running", 66.66666666666667),
        ("completed", 100.0),
    ]


def test_running_completion_is_a_float_below_100() -> None:
    script = JobScript(queued_for=0, running_for=1, running_steps=7)
    running = [s.completion for s in script.timeline() if s.workflow_state == "running"]
    assert all(isinstance(c, float) and c < 100 for c in running)


def test_completed_script_ends_with_its_message_and_results() -> None:
    end = JobScript.instant(message="17 courses processed", results={"id": 3}).state_at(0)
    assert (end.workflow_state, end.completion, end.message, end.results) == (
        "completed",
        100.0,
        "17 courses processed",
        {"id": 3},
    )


def test_failing_script_keeps_its_last_completion_and_says_why() -> None:
    script = JobScript.failing(queued_for=0, running_for=2)
    end = script.state_at(2)
    assert (end.workflow_state, end.completion, end.message) == (
        "failed",
        66.66666666666667,
        "Unexpected error, ID: 4242",
    )


def test_superseded_script_goes_from_queued_to_canceled() -> None:
    assert states(JobScript.superseded(after=1), 0, 1) == [("queued", None), ("canceled", None)]


def test_never_ending_script_runs_forever_below_100() -> None:
    script = JobScript.never_ending(running_for=1)
    assert script.state_at(10**6).workflow_state == "running"
    assert script.ends_at == math.inf


def test_stalled_script_sticks_at_its_completion() -> None:
    script = JobScript.stalled(at=99.0, running_for=1)
    assert states(script, 1, 10**6) == [("running", 99.0), ("running", 99.0)]


def test_waiting_for_external_tool_phase_comes_before_the_outcome() -> None:
    script = JobScript(queued_for=0, running_for=1, waiting_for_external_tool_for=5)
    assert [s for s, _ in states(script, 0.5, 1, 5.9, 6)] == [
        "running",
        "waiting_for_external_tool",
        "waiting_for_external_tool",
        "completed",
    ]


def test_stepped_script_can_make_completion_go_backwards() -> None:
    script = JobScript.steps([(0, "running", 50.0, None), (1, "running", 20.0, None), (2, "completed", 100.0, "ok")])
    assert states(script, 0, 1, 2) == [("running", 50.0), ("running", 20.0), ("completed", 100.0)]


def test_stepped_script_is_queued_before_its_first_step() -> None:
    assert states(JobScript.steps([(5, "running", 1, None)]), 0) == [("queued", None)]


def test_stepped_script_may_serve_an_unknown_state() -> None:
    assert JobScript.steps([(0, "paused", None, None)]).state_at(0).workflow_state == "paused"


def test_stepped_script_accepts_results_in_a_fifth_item() -> None:
    assert JobScript.steps([(0, "completed", 100.0, None, {"id": 1})]).state_at(0).results == {"id": 1}


def test_steps_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="time order"):
        JobScript.steps([(2, "running", 1, None), (1, "running", 2, None)])


def test_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="outcome"):
        JobScript(outcome="done")  # type: ignore[arg-type]


def test_script_from_dict_reads_fields_and_steps() -> None:
    assert JobScript.from_dict({"queued_for": 0, "running_for": 1, "outcome": "failed"}).outcome == "failed"
    assert JobScript.from_dict({"steps": [[0, "completed", 100, "x"]]}).state_at(0).message == "x"


def test_script_from_dict_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError, match="unknown"):
        JobScript.from_dict({"queued": 1})


def test_endpoint_result_applies_only_when_the_script_leaves_it_open() -> None:
    assert JobScript().with_result("failed", "0 courses processed").outcome == "failed"
    assert JobScript(message="mine").with_result("failed", "x").message == "mine"
    assert JobScript.never_ending().with_result("failed", "x").outcome is None


@given(
    queued_for=st.floats(0, 100),
    running_for=st.floats(0, 100),
    running_steps=st.integers(1, 50),
    outcome=st.sampled_from(["completed", "failed", "canceled", None]),
    elapsed=st.floats(0, 500),
)
def test_completion_is_never_100_while_pending(
    queued_for: float, running_for: float, running_steps: int, outcome: str | None, elapsed: float
) -> None:
    script = JobScript(queued_for, running_for, outcome, running_steps=running_steps)  # type: ignore[arg-type]
    step = script.state_at(elapsed)
    if step.workflow_state in PENDING_STATES:
        assert step.completion is None or step.completion < 100
    else:
        assert step.workflow_state in TERMINAL_STATES


@given(elapsed=st.lists(st.floats(0, 100), min_size=2, max_size=10))
def test_default_script_never_moves_backwards(elapsed: list[float]) -> None:
    script = JobScript(queued_for=3, running_for=10)
    timeline = script.timeline()
    order = [timeline.index(script.state_at(t)) for t in sorted(elapsed)]
    assert order == sorted(order)


def test_step_coerce_accepts_dicts() -> None:
    assert Step.coerce({"at": 1, "workflow_state": "running"}) == Step(1.0, "running")


# -- over HTTP --------------------------------------------------------------------------------


def test_progress_advances_when_the_manual_clock_moves(sim: CanvasSimulator, api: Api, clock: ManualClock) -> None:
    pid = sim.create_progress(script=JobScript(queued_for=1, running_for=3))
    seen = []
    for _ in range(5):
        body = api.get(f"/api/v1/progress/{pid}").json()
        seen.append((body["workflow_state"], body["completion"]))
        clock.advance(1)
    assert seen == [
        ("queued", None),
        ("running", 0.0),
        ("running", 33.333333333333336),
        ("running", 66.66666666666667),
        ("completed", 100.0),
    ]


def test_progress_stands_still_while_the_manual_clock_does(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress(script=JobScript(queued_for=1, running_for=1))
    assert {api.get(f"/api/v1/progress/{pid}").json()["workflow_state"] for _ in range(3)} == {"queued"}


def test_set_progress_overrides_fields_and_freezes_the_script(
    sim: CanvasSimulator, api: Api, clock: ManualClock
) -> None:
    pid = sim.create_progress(script=JobScript(queued_for=0, running_for=10))
    sim.set_progress(pid, workflow_state="running", completion=55)
    clock.advance(100)
    body = api.get(f"/api/v1/progress/{pid}").json()
    assert (body["workflow_state"], body["completion"]) == ("running", 55)


def test_set_progress_changes_only_the_fields_given(sim: CanvasSimulator) -> None:
    pid = sim.create_progress(script=JobScript.instant(message="done"))
    body = sim.set_progress(pid, completion=99.5)
    assert (body["workflow_state"], body["message"], body["completion"]) == ("completed", "done", 99.5)


def test_set_progress_can_null_the_message(sim: CanvasSimulator) -> None:
    pid = sim.create_progress(script=JobScript.instant(message="done"))
    assert sim.set_progress(pid, message=None)["message"] is None


def test_set_progress_of_unknown_id_raises_key_error(sim: CanvasSimulator) -> None:
    with pytest.raises(KeyError):
        sim.set_progress("404", message="x")


def test_default_job_script_applies_to_created_progress(sim: CanvasSimulator) -> None:
    sim.default_job_script = JobScript.instant("failed", message="boom")
    assert sim.progress_json(sim.create_progress())["workflow_state"] == "failed"
