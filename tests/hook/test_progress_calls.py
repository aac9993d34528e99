"""get_progress: every workflow state, every accepted form of id, string ids, and the LTI endpoint."""

from __future__ import annotations

import json

import pytest

from airflow_provider_canvas_progress.core.progress import Progress, WorkflowState
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.testing import LTI_PROGRESS_SCOPE, CanvasSimulator, Fault, JobScript, ManualClock
from airflow_provider_canvas_progress.testing.render import stringify_ids

from .conftest import Connect, MakeSim

GLOBAL = 10**13  # Canvas global ids: shard * 10**13 + local


@pytest.mark.parametrize(
    ("script", "advance", "state", "completion"),
    [
        pytest.param(JobScript(queued_for=10), 0, "queued", None, id="queued"),
        pytest.param(JobScript(queued_for=1, running_for=3), 2, "running", 33.333333333333336, id="running"),
        pytest.param(
            JobScript(queued_for=0, running_for=1, running_steps=1, waiting_for_external_tool_for=5),
            2,
            "waiting_for_external_tool",
            0.0,
            id="waiting_for_external_tool",
        ),
        pytest.param(JobScript(queued_for=0, running_for=1), 2, "completed", 100.0, id="completed"),
        pytest.param(
            JobScript(
                queued_for=0, running_for=1, running_steps=1, outcome="failed", message="Unexpected error, ID: 42"
            ),
            2,
            "failed",
            0.0,
            id="failed",
        ),
        pytest.param(JobScript.superseded(after=1), 2, "canceled", None, id="canceled"),
    ],
)
def test_get_progress_reads_each_workflow_state(
    manual_sim: CanvasSimulator,
    clock: ManualClock,
    connect: Connect,
    script: JobScript,
    advance: float,
    state: str,
    completion: float | None,
) -> None:
    progress_id = manual_sim.create_progress(script=script)
    clock.advance(advance)

    progress = connect(manual_sim).get_progress(progress_id)

    assert progress.workflow_state is WorkflowState(state)
    assert progress.completion == completion
    assert progress.is_pending is (state in ("queued", "running", "waiting_for_external_tool"))


def test_get_progress_follows_a_job_as_the_clock_advances(
    manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect
) -> None:
    progress_id = manual_sim.create_progress(script=JobScript(queued_for=1, running_for=2, running_steps=2))
    hook = connect(manual_sim)
    seen = []
    for _ in range(4):
        progress = hook.get_progress(progress_id)
        seen.append((progress.workflow_state.value, progress.completion))
        clock.advance(1)

    assert seen == [("queued", None), ("running", 0.0), ("running", 50.0), ("completed", 100.0)]


def test_results_are_read_only_once_the_job_has_ended(
    manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect
) -> None:
    progress_id = manual_sim.create_progress(script=JobScript(queued_for=0, running_for=1, results={"id": 9}))
    hook = connect(manual_sim)

    running = hook.get_progress(progress_id)
    clock.advance(1)
    completed = hook.get_progress(progress_id)

    assert (running.has_results, running.results) == (False, None)
    assert (completed.has_results, completed.results) == (True, {"id": 9})


def test_get_progress_reads_canvas_fields(sim: CanvasSimulator, hook: CanvasHook) -> None:
    progress_id = sim.create_progress(
        tag="course_batch_update", context_type="Account", context_id=1, user_id=1, script=JobScript.instant()
    )

    progress = hook.get_progress(progress_id)

    assert (progress.tag, progress.context_type, progress.context_id, progress.user_id) == (
        "course_batch_update",
        "Account",
        "1",
        "1",
    )
    assert progress.url == f"{sim.base_url}/api/v1/progress/{progress_id}"
    assert progress.created_at is not None
    assert progress.updated_at is not None


def test_get_progress_sends_one_get_to_the_progress_endpoint(sim: CanvasSimulator, hook: CanvasHook) -> None:
    progress_id = sim.create_progress(script=JobScript.instant())

    hook.get_progress(progress_id)

    (sent,) = sim.requests
    assert (sent.method, sent.path, sent.query, sent.status) == ("GET", f"/api/v1/progress/{progress_id}", "", 200)
    assert sent.header("Accept") == "application/json"


@pytest.mark.parametrize(
    "form",
    ["int", "numeric string", "padded string", "progress dict", "progress object", "progress url", "api path"],
)
def test_get_progress_accepts_each_local_id_form(sim: CanvasSimulator, hook: CanvasHook, form: str) -> None:
    progress_id = sim.create_progress(script=JobScript.instant())
    payload = sim.progress_json(progress_id)
    reference = {
        "int": int(progress_id),
        "numeric string": progress_id,
        "padded string": f" {progress_id}\n",
        "progress dict": payload,
        "progress object": Progress(id=progress_id, workflow_state=WorkflowState.RUNNING),
        "progress url": f"{sim.base_url}/api/v1/progress/{progress_id}",
        "api path": f"/api/v1/progress/{progress_id}",
    }[form]

    progress = hook.get_progress(reference)

    assert progress.id == progress_id
    assert [r.path for r in sim.requests] == [f"/api/v1/progress/{progress_id}"]


@pytest.mark.parametrize("form", ["int", "numeric string", "shard~local", "progress url"])
def test_get_progress_accepts_each_global_id_form(make_sim: MakeSim, connect: Connect, form: str) -> None:
    sim = make_sim(global_ids=True)
    served_id = sim.create_progress(script=JobScript.instant())
    local = int(served_id) - GLOBAL
    reference = {
        "int": int(served_id),
        "numeric string": served_id,
        "shard~local": f"1~{local}",
        "progress url": f"{sim.base_url}/api/v1/progress/{served_id}",
    }[form]

    progress = connect(sim).get_progress(reference)

    assert served_id == str(GLOBAL + local)
    assert progress.id == served_id
    assert [r.path for r in sim.requests] == [f"/api/v1/progress/{served_id}"]


@pytest.mark.parametrize("form", ["global int", "shard~local"])
def test_get_progress_by_global_id_of_a_progress_served_with_its_local_id(
    sim: CanvasSimulator, hook: CanvasHook, form: str
) -> None:
    progress_id = sim.create_progress(script=JobScript.instant())
    reference = GLOBAL + int(progress_id) if form == "global int" else f"1~{progress_id}"

    progress = hook.get_progress(reference)

    assert progress.workflow_state is WorkflowState.COMPLETED


def test_get_progress_reads_a_progress_with_string_ids(sim: CanvasSimulator, hook: CanvasHook) -> None:
    # The hook never asks for application/json+canvas-string-ids, but a proxy or a future Canvas may
    # answer that way; the simulator renders it only on request, so serve its rendering as a body.
    progress_id = sim.create_progress(script=JobScript.instant())
    string_ids = stringify_ids(sim.progress_json(progress_id))
    sim.inject(Fault.body(200, json.dumps(string_ids), "application/json; charset=utf-8"))

    progress = hook.get_progress(progress_id)

    assert string_ids["id"] == progress_id
    assert (progress.id, progress.context_id, progress.user_id) == (progress_id, "1", "1")


@pytest.fixture
def lti_progress(sim: CanvasSimulator) -> str:
    """A Progress of an assignment in course 7, where the LTI tool is installed."""
    sim.add_assignment(70, course_id=7)
    return sim.create_progress(
        tag="lti_job", context_type="Assignment", context_id=70, user_id=None, script=JobScript.instant()
    )


@pytest.fixture
def lti_hook(sim: CanvasSimulator, connect: Connect) -> CanvasHook:
    """A hook holding an LTI Advantage token with the progress scope."""
    return connect(sim, token=sim.add_token(kind="lti", scopes=[LTI_PROGRESS_SCOPE]))


def test_get_progress_reads_through_the_lti_endpoint_given_lti_course_id(
    sim: CanvasSimulator, lti_hook: CanvasHook, lti_progress: str
) -> None:
    progress = lti_hook.get_progress(lti_progress, lti_course_id=7)

    assert progress.id == lti_progress
    assert [r.path for r in sim.requests] == [f"/api/lti/courses/7/progress/{lti_progress}"]
    assert progress.url == f"{sim.base_url}/api/lti/courses/7/progress/{lti_progress}"


def test_get_progress_reads_an_lti_progress_url_through_the_lti_endpoint(
    sim: CanvasSimulator, lti_hook: CanvasHook, lti_progress: str
) -> None:
    progress = lti_hook.get_progress(f"{sim.base_url}/api/lti/courses/7/progress/{lti_progress}")

    assert progress.id == lti_progress
    assert [r.path for r in sim.requests] == [f"/api/lti/courses/7/progress/{lti_progress}"]
