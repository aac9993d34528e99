"""POST /api/v1/progress/:id/cancel: Canvas's sharp edges, reproduced."""

from __future__ import annotations

from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript, ManualClock

from .simclient import Api


def cancel(api: Api, pid: str, **kwargs: object) -> dict:
    response = api.post(f"/api/v1/progress/{pid}/cancel", **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_cancel_of_running_job_reads_failed_with_the_posted_message(
    sim: CanvasSimulator, api: Api, clock: ManualClock
) -> None:
    pid = sim.create_progress(script=JobScript(queued_for=0, running_for=10))
    clock.advance(5)
    body = cancel(api, pid, data={"message": "stopped by Airflow"})
    assert (body["workflow_state"], body["message"]) == ("failed", "stopped by Airflow")


def test_cancel_takes_the_message_from_a_json_body(sim: CanvasSimulator, api: Api) -> None:
    assert cancel(api, sim.create_progress(), json={"message": "json says stop"})["message"] == "json says stop"


def test_cancel_of_completed_job_rewrites_it_to_failed(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress(script=JobScript.instant(message="3 courses processed"))
    assert cancel(api, pid, data={"message": "late cancel"})["workflow_state"] == "failed"
    assert api.get(f"/api/v1/progress/{pid}").json()["workflow_state"] == "failed"


def test_cancel_without_message_erases_the_existing_message_to_null(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress(script=JobScript.instant(message="3 courses processed"))
    assert cancel(api, pid)["message"] is None


def test_cancel_keeps_completion_where_it_was(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress(script=JobScript.instant())
    assert cancel(api, pid)["completion"] == 100.0


def test_cancelled_job_stays_failed_as_the_clock_moves(sim: CanvasSimulator, api: Api, clock: ManualClock) -> None:
    # A batch that does not overwrite the cancel (see the overwrite tests below for Canvas's default).
    pid = sim.create_progress(script=JobScript(queued_for=0, running_for=10, overwrites_cancel=False))
    cancel(api, pid, data={"message": "stop"})
    clock.advance(60)
    body = api.get(f"/api/v1/progress/{pid}").json()
    assert (body["workflow_state"], body["message"]) == ("failed", "stop")


def test_cancel_by_another_user_is_forbidden_even_with_read_access(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress(user_id=1)
    admin = sim.add_token(user_id=2, contexts=[("Account", 1)])
    response = api.post(f"/api/v1/progress/{pid}/cancel", token=admin)
    assert response.status_code == 403
    assert response.json()["errors"] == [{"message": "user not authorized to perform that action"}]


def test_cancel_of_job_with_no_user_is_forbidden_for_everyone(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress(tag="submissions_update", context_type="Course", user_id=None)
    assert api.post(f"/api/v1/progress/{pid}/cancel").status_code == 403
    assert api.get(f"/api/v1/progress/{pid}").json()["workflow_state"] == "queued"


def test_refused_cancel_is_401_on_older_instances(canvas_simulator_factory, api_for) -> None:
    old = canvas_simulator_factory(permission_status=401)
    pid = old.create_progress(user_id=None)
    assert api_for(old).post(f"/api/v1/progress/{pid}/cancel").status_code == 401


def test_cancel_of_unknown_progress_is_404(api: Api) -> None:
    assert api.post("/api/v1/progress/4242/cancel").status_code == 404


def test_cancel_without_credentials_is_unauthenticated(sim: CanvasSimulator, api: Api) -> None:
    response = api.post(f"/api/v1/progress/{sim.create_progress()}/cancel", token=None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="canvas-lms"'


def test_starter_can_cancel_a_started_course_batch_update(sim: CanvasSimulator, api: Api) -> None:
    pid = api.put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["1"]}).json()["id"]
    assert cancel(api, pid, data={"message": "nope"})["workflow_state"] == "failed"


# lib/progress_runner.rb#finish_update saves the Progress it loaded when the batch started: a cancel
# written while the batch ran stops nothing and is replaced by the batch's own ending.


def test_cancelled_running_course_batch_finishes_and_overwrites_the_cancel(
    sim: CanvasSimulator, api: Api, clock: ManualClock
) -> None:
    sim.script_next_job(JobScript(queued_for=0, running_for=10))
    started = api.put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["1", "2"]}).json()
    clock.advance(5)
    assert cancel(api, started["id"], data={"message": "stop"})["workflow_state"] == "failed"
    clock.advance(4)
    assert api.get(f"/api/v1/progress/{started['id']}").json()["message"] == "stop"
    clock.advance(2)
    body = api.get(f"/api/v1/progress/{started['id']}").json()
    assert (body["workflow_state"], body["completion"], body["message"]) == (
        "completed",
        100.0,
        "2 courses processed",
    )


def test_cancelled_running_conversation_batch_also_overwrites_the_cancel(
    sim: CanvasSimulator, api: Api, clock: ManualClock
) -> None:
    sim.script_next_job(JobScript(queued_for=0, running_for=10))
    started = api.put("/api/v1/conversations", data={"event": "star", "conversation_ids[]": ["1"]}).json()
    clock.advance(1)
    cancel(api, started["id"])
    clock.advance(10)
    assert api.get(f"/api/v1/progress/{started['id']}").json()["workflow_state"] == "completed"


def test_batch_scripted_not_to_overwrite_keeps_the_cancel(sim: CanvasSimulator, api: Api, clock: ManualClock) -> None:
    sim.script_next_job(JobScript(queued_for=0, running_for=10, overwrites_cancel=False))
    started = api.put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["1"]}).json()
    clock.advance(5)
    cancel(api, started["id"], data={"message": "stop"})
    clock.advance(60)
    body = api.get(f"/api/v1/progress/{started['id']}").json()
    assert (body["workflow_state"], body["message"]) == ("failed", "stop")


def test_batch_cancelled_while_queued_never_starts(sim: CanvasSimulator, api: Api, clock: ManualClock) -> None:
    sim.script_next_job(JobScript(queued_for=5, running_for=10))
    started = api.put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["1"]}).json()
    cancel(api, started["id"], data={"message": "stop"})
    clock.advance(60)
    assert api.get(f"/api/v1/progress/{started['id']}").json()["workflow_state"] == "failed"


def test_cancel_of_a_running_non_batch_job_stays(sim: CanvasSimulator, api: Api, clock: ManualClock) -> None:
    pid = sim.create_progress(tag="submissions_update", script=JobScript(queued_for=0, running_for=10))
    clock.advance(1)
    cancel(api, pid, data={"message": "stop"})
    clock.advance(60)
    assert api.get(f"/api/v1/progress/{pid}").json()["workflow_state"] == "failed"


def test_control_api_scripts_a_batch_that_keeps_the_cancel(sim: CanvasSimulator, api: Api, clock: ManualClock) -> None:
    queued = api.session.post(
        f"{sim.base_url}/__sim__/jobs",
        json={"script": {"queued_for": 0, "running_for": 10, "overwrites_cancel": False}},
    )
    assert queued.status_code == 201
    started = api.put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["1"]}).json()
    clock.advance(1)
    cancel(api, started["id"])
    clock.advance(60)
    assert api.get(f"/api/v1/progress/{started['id']}").json()["workflow_state"] == "failed"
