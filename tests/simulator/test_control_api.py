"""The /__sim__ control API for standalone use (no token needed)."""

from __future__ import annotations

import requests

from airflow_provider_canvas_progress.testing import CanvasSimulator, ManualClock

from .simclient import Api


def control(sim: CanvasSimulator, method: str, path: str, **kwargs: object) -> requests.Response:
    return requests.request(method, f"{sim.base_url}/__sim__{path}", timeout=10, **kwargs)  # type: ignore[arg-type]


def test_index_describes_the_simulator(sim: CanvasSimulator) -> None:
    body = control(sim, "GET", "").json()
    assert body["base_url"] == sim.base_url
    assert body["manual_clock"] is True


def test_create_progress_with_a_script(sim: CanvasSimulator, api: Api) -> None:
    created = control(
        sim, "POST", "/progress", json={"tag": "submissions_update", "user_id": None, "script": {"queued_for": 0}}
    )
    assert created.status_code == 201
    pid = created.json()["id"]
    body = api.get(f"/api/v1/progress/{pid}").json()
    assert (body["tag"], body["user_id"], body["workflow_state"]) == ("submissions_update", None, "running")


def test_create_progress_with_steps(sim: CanvasSimulator) -> None:
    created = control(sim, "POST", "/progress", json={"script": {"steps": [[0, "completed", 100, "done"]]}})
    assert created.json()["progress"]["message"] == "done"


def test_create_progress_with_a_bad_script_is_400(sim: CanvasSimulator) -> None:
    assert control(sim, "POST", "/progress", json={"script": {"outcome": "exploded"}}).status_code == 400


def test_show_progress_bypasses_auth(sim: CanvasSimulator) -> None:
    pid = sim.create_progress()
    assert control(sim, "GET", f"/progress/{pid}").json()["id"] == int(pid)


def test_set_progress_fields(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress()
    control(sim, "POST", f"/progress/{pid}", json={"workflow_state": "failed", "message": "boom"})
    body = api.get(f"/api/v1/progress/{pid}").json()
    assert (body["workflow_state"], body["message"]) == ("failed", "boom")


def test_set_unknown_progress_is_404(sim: CanvasSimulator) -> None:
    assert control(sim, "POST", "/progress/999", json={"message": "x"}).status_code == 404


def test_set_progress_refuses_unknown_fields(sim: CanvasSimulator) -> None:
    assert control(sim, "POST", f"/progress/{sim.create_progress()}", json={"state": "x"}).status_code == 400


def test_queued_job_script_drives_the_next_started_job(sim: CanvasSimulator, api: Api) -> None:
    control(sim, "POST", "/jobs", json={"script": {"queued_for": 0, "running_for": 0, "outcome": "failed"}})
    body = api.put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["1"]}).json()
    assert body["workflow_state"] == "failed"


def test_requests_are_listed_and_cleared(sim: CanvasSimulator, api: Api) -> None:
    api.get("/api/v1/users/self")
    listed = control(sim, "GET", "/requests").json()
    assert [(r["method"], r["path"], r["status"]) for r in listed] == [("GET", "/api/v1/users/self", 200)]
    control(sim, "DELETE", "/requests")
    assert control(sim, "GET", "/requests").json() == []


def test_faults_are_injected_and_cleared(sim: CanvasSimulator, api: Api) -> None:
    assert control(sim, "POST", "/faults", json={"kind": "status", "status": 503, "times": 2}).json() == {"pending": 2}
    assert api.get("/api/v1/users/self").status_code == 503
    control(sim, "DELETE", "/faults")
    assert api.get("/api/v1/users/self").status_code == 200


def test_bad_fault_is_400(sim: CanvasSimulator) -> None:
    assert control(sim, "POST", "/faults", json={"kind": "gremlins"}).status_code == 400


def test_tokens_are_added(sim: CanvasSimulator, api: Api) -> None:
    token = control(sim, "POST", "/tokens", json={"token": "9~mine", "user_id": 9}).json()["token"]
    assert token == "9~mine"
    assert api.get("/api/v1/users/self", token=token).json()["id"] == 9


def test_manual_clock_is_advanced(sim: CanvasSimulator, clock: ManualClock) -> None:
    assert control(sim, "POST", "/clock/advance", json={"seconds": 2.5}).json() == {"clock": 2.5}
    assert clock.now() == 2.5


def test_real_clock_cannot_be_advanced(canvas_simulator: CanvasSimulator) -> None:
    assert control(canvas_simulator, "POST", "/clock/advance", json={"seconds": 1}).status_code == 409


def test_stats_are_served(sim: CanvasSimulator, api: Api) -> None:
    api.get("/api/v1/users/self")
    body = control(sim, "GET", "/stats").json()
    assert (body["total_requests"], body["by_path"], body["by_status"]) == (1, {"/api/v1/users/self": 1}, {"200": 1})


def test_control_requests_are_not_recorded(sim: CanvasSimulator) -> None:
    control(sim, "GET", "/stats")
    assert sim.requests == []


def test_invalid_json_to_the_control_api_is_400(sim: CanvasSimulator) -> None:
    assert control(sim, "POST", "/progress", data="{nope").status_code == 400
