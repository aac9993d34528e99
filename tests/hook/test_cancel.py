"""cancel_progress: Canvas's cancel, sharp edges included, and who may call it."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError, CanvasPermissionError
from airflow_provider_canvas_progress.core.progress import WorkflowState
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript

from .conftest import Connect, MakeSim


@pytest.fixture
def running_job(sim: CanvasSimulator) -> str:
    """A course batch update started by the admin (user 1), running forever."""
    return sim.create_progress(user_id=1, script=JobScript.never_ending())


def test_cancel_marks_a_running_progress_failed_with_the_message(hook: CanvasHook, running_job: str) -> None:
    progress = hook.cancel_progress(running_job, message="Cancelled by Airflow")

    assert progress.workflow_state is WorkflowState.FAILED
    assert progress.message == "Cancelled by Airflow"


def test_cancel_sends_one_post_with_the_message_as_a_form_field(
    sim: CanvasSimulator, hook: CanvasHook, running_job: str
) -> None:
    hook.cancel_progress(running_job, message="stop")

    (sent,) = sim.requests
    assert (sent.method, sent.path) == ("POST", f"/api/v1/progress/{running_job}/cancel")
    assert parse_qs(sent.body.decode()) == {"message": ["stop"]}


def test_cancel_is_stored_by_canvas(sim: CanvasSimulator, hook: CanvasHook, running_job: str) -> None:
    hook.cancel_progress(running_job, message="stop")

    progress = hook.get_progress(running_job)

    assert (progress.workflow_state, progress.message) == (WorkflowState.FAILED, "stop")


def test_cancel_of_a_completed_progress_rewrites_it_to_failed(sim: CanvasSimulator, hook: CanvasHook) -> None:
    progress_id = sim.create_progress(user_id=1, script=JobScript.instant(message="3 courses processed"))

    progress = hook.cancel_progress(progress_id, message="too late")

    assert progress.workflow_state is WorkflowState.FAILED
    assert progress.message == "too late"


def test_cancel_without_a_message_erases_the_existing_one(sim: CanvasSimulator, hook: CanvasHook) -> None:
    progress_id = sim.create_progress(user_id=1, script=JobScript.instant(message="3 courses processed"))

    progress = hook.cancel_progress(progress_id)

    assert progress.message is None
    assert sim.requests[-1].body == b""


def test_cancel_by_a_user_who_did_not_start_the_job_is_a_permission_error(
    sim: CanvasSimulator, connect: Connect, running_job: str
) -> None:
    other_user = connect(sim, token=sim.add_token(user_id=2, contexts=[("Account", 1)]))

    with pytest.raises(CanvasPermissionError) as raised:
        other_user.cancel_progress(running_job, message="mine now")

    assert raised.value.status == 403
    assert sim.progress_json(running_job)["workflow_state"] == "running"


def test_cancel_of_a_job_nobody_started_is_refused_even_to_an_admin(sim: CanvasSimulator, hook: CanvasHook) -> None:
    progress_id = sim.create_progress(tag="submissions_update", user_id=None, script=JobScript.never_ending())

    with pytest.raises(CanvasPermissionError):
        hook.cancel_progress(progress_id, message="stop")

    assert sim.progress_json(progress_id)["workflow_state"] == "running"


def test_cancel_refused_with_older_canvas_401_is_a_permission_error(make_sim: MakeSim, connect: Connect) -> None:
    sim = make_sim(permission_status=401)
    progress_id = sim.create_progress(user_id=None, script=JobScript.never_ending())

    with pytest.raises(CanvasPermissionError) as raised:
        connect(sim).cancel_progress(progress_id)

    assert raised.value.status == 401


def test_cancel_of_an_lti_progress_url_is_refused_without_a_request(sim: CanvasSimulator, hook: CanvasHook) -> None:
    with pytest.raises(CanvasConfigurationError, match="LTI"):
        hook.cancel_progress(f"{sim.base_url}/api/lti/courses/7/progress/1")

    assert sim.requests == []
