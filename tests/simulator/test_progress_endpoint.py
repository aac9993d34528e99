"""GET /api/v1/progress/:id: the Progress object as Canvas serves it."""

from __future__ import annotations

import re

from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript, ManualClock

from .simclient import STRING_IDS, Api

ALWAYS_PRESENT = {
    "id",
    "context_id",
    "context_type",
    "user_id",
    "tag",
    "completion",
    "workflow_state",
    "created_at",
    "updated_at",
    "message",
    "url",
}


def test_progress_has_every_always_present_field(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress()
    body = api.get(f"/api/v1/progress/{pid}").json()
    assert set(body) == ALWAYS_PRESENT


def test_progress_is_served_as_json_with_canvas_content_type(sim: CanvasSimulator, api: Api) -> None:
    response = api.get(f"/api/v1/progress/{sim.create_progress()}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"


def test_queued_progress_has_null_completion(sim: CanvasSimulator, api: Api) -> None:
    body = api.get(f"/api/v1/progress/{sim.create_progress()}").json()
    assert body["workflow_state"] == "queued"
    assert body["completion"] is None


def test_progress_reports_its_owner_tag_and_context(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress(tag="submissions_update", context_type="Course", context_id=7, user_id=None)
    body = api.get(f"/api/v1/progress/{pid}").json()
    assert (body["tag"], body["context_type"], body["context_id"], body["user_id"]) == (
        "submissions_update",
        "Course",
        7,
        None,
    )


def test_ids_are_plain_integers_by_default(sim: CanvasSimulator, api: Api) -> None:
    body = api.get(f"/api/v1/progress/{sim.create_progress()}").json()
    assert isinstance(body["id"], int)
    assert isinstance(body["context_id"], int)


def test_url_uses_the_request_host_header(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress()
    body = api.get(f"/api/v1/progress/{pid}", headers={"Host": "canvas.example.edu"}).json()
    assert body["url"] == f"http://canvas.example.edu/api/v1/progress/{pid}"


def test_url_defaults_to_the_simulator_address(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress()
    assert api.get(f"/api/v1/progress/{pid}").json()["url"] == f"{sim.base_url}/api/v1/progress/{pid}"


def test_timestamps_are_iso8601_utc_with_z(sim: CanvasSimulator, api: Api) -> None:
    body = api.get(f"/api/v1/progress/{sim.create_progress()}").json()
    for key in ("created_at", "updated_at"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body[key])


def test_updated_at_moves_with_the_script(sim: CanvasSimulator, api: Api, clock: ManualClock) -> None:
    pid = sim.create_progress(script=JobScript(queued_for=60, running_for=60))
    clock.advance(61)
    body = api.get(f"/api/v1/progress/{pid}").json()
    assert body["created_at"] < body["updated_at"]


def test_results_key_is_absent_while_pending(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress(script=JobScript(results={"id": 5}))
    assert "results" not in api.get(f"/api/v1/progress/{pid}").json()


def test_results_are_served_once_terminal(sim: CanvasSimulator, api: Api, clock: ManualClock) -> None:
    pid = sim.create_progress(script=JobScript(queued_for=0, running_for=1, results={"id": 5}))
    clock.advance(1)
    assert api.get(f"/api/v1/progress/{pid}").json()["results"] == {"id": 5}


def test_terminal_progress_without_results_has_no_results_key(
    sim: CanvasSimulator, api: Api, clock: ManualClock
) -> None:
    pid = sim.create_progress(script=JobScript.instant())
    assert "results" not in api.get(f"/api/v1/progress/{pid}").json()


def test_unknown_progress_is_404(api: Api) -> None:
    response = api.get("/api/v1/progress/999999")
    assert response.status_code == 404
    assert response.json() == {"errors": [{"message": "The specified resource does not exist."}]}


def test_unknown_progress_is_404_before_any_permission_check(sim: CanvasSimulator, api: Api) -> None:
    outsider = sim.add_token(user_id=2)
    assert api.get("/api/v1/progress/999999", token=outsider).status_code == 404


def test_unknown_progress_is_404_even_without_credentials(api: Api) -> None:
    assert api.get("/api/v1/progress/999999", token=None).status_code == 404


def test_non_numeric_progress_id_is_404(api: Api) -> None:
    assert api.get("/api/v1/progress/abc").status_code == 404


def test_known_progress_without_credentials_is_unauthenticated(sim: CanvasSimulator, api: Api) -> None:
    response = api.get(f"/api/v1/progress/{sim.create_progress()}", token=None)
    assert response.status_code == 401
    assert response.json()["status"] == "unauthenticated"


def test_reader_needs_access_to_the_context_not_to_be_the_creator(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress(context_type="Course", context_id=3, user_id=1)
    reader = sim.add_token(user_id=5, contexts=[("Course", 3)])
    assert api.get(f"/api/v1/progress/{pid}", token=reader).status_code == 200


def test_account_access_covers_the_accounts_courses(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress(context_type="Course", context_id=3)
    admin = sim.add_token(user_id=5, contexts=[("Account", 1)])
    assert api.get(f"/api/v1/progress/{pid}", token=admin).status_code == 200


def test_user_without_access_to_the_context_gets_403(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress(context_type="Account", context_id=1, user_id=5)
    starter_without_access = sim.add_token(user_id=5)
    response = api.get(f"/api/v1/progress/{pid}", token=starter_without_access)
    assert response.status_code == 403
    assert response.json() == {
        "status": "unauthorized",
        "errors": [{"message": "user not authorized to perform that action"}],
    }
    assert "WWW-Authenticate" not in response.headers


def test_older_instances_answer_permission_errors_with_401(canvas_simulator_factory, api_for) -> None:
    old = canvas_simulator_factory(permission_status=401)
    api = api_for(old)
    pid = old.create_progress()
    response = api.get(f"/api/v1/progress/{pid}", token=old.add_token(user_id=2))
    assert response.status_code == 401
    assert response.json()["status"] == "unauthorized"
    assert "WWW-Authenticate" not in response.headers


def test_string_ids_accept_header_turns_ids_into_strings(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress(context_id=4, user_id=1)
    body = api.get(f"/api/v1/progress/{pid}", headers={"Accept": STRING_IDS}).json()
    assert (body["id"], body["context_id"], body["user_id"]) == (pid, "4", "1")


def test_string_ids_leave_null_user_id_null(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress(user_id=None)
    assert api.get(f"/api/v1/progress/{pid}", headers={"Accept": STRING_IDS}).json()["user_id"] is None


def test_string_ids_reach_into_results(sim: CanvasSimulator, api: Api) -> None:
    results = {"id": 9, "course_ids": [1, 2], "nested": [{"user_id": 3, "score": 4}]}
    pid = sim.create_progress(script=JobScript.instant(results=results))
    body = api.get(f"/api/v1/progress/{pid}", headers={"Accept": STRING_IDS}).json()
    assert body["results"] == {"id": "9", "course_ids": ["1", "2"], "nested": [{"user_id": "3", "score": 4}]}


def test_string_ids_keep_completion_a_number(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress(script=JobScript.instant())
    assert api.get(f"/api/v1/progress/{pid}", headers={"Accept": STRING_IDS}).json()["completion"] == 100.0


def test_global_ids_are_served_as_shard_times_ten_to_the_thirteen_plus_local(canvas_simulator_factory, api_for) -> None:
    sharded = canvas_simulator_factory(global_ids=True)
    pid = sharded.create_progress()
    assert pid == "10000000000001"
    assert api_for(sharded).get(f"/api/v1/progress/{pid}").json()["id"] == 10000000000001


def test_global_ids_are_strings_under_string_ids(canvas_simulator_factory, api_for) -> None:
    sharded = canvas_simulator_factory(global_ids=True)
    pid = sharded.create_progress()
    body = api_for(sharded).get(f"/api/v1/progress/{pid}", headers={"Accept": STRING_IDS}).json()
    assert body["id"] == "10000000000001"


def test_global_id_progress_is_also_found_by_its_local_id(canvas_simulator_factory, api_for) -> None:
    sharded = canvas_simulator_factory(global_ids=True)
    sharded.create_progress()
    assert api_for(sharded).get("/api/v1/progress/1").json()["id"] == 10000000000001


def test_global_id_url_carries_the_global_id(canvas_simulator_factory, api_for) -> None:
    sharded = canvas_simulator_factory(global_ids=True)
    pid = sharded.create_progress()
    assert api_for(sharded).get(f"/api/v1/progress/{pid}").json()["url"].endswith("/api/v1/progress/10000000000001")


def test_progress_json_matches_what_get_serves(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress()
    assert sim.progress_json(pid) == api.get(f"/api/v1/progress/{pid}").json()


def test_head_on_a_progress_is_answered_like_get(sim: CanvasSimulator, api: Api) -> None:
    # Rails routes HEAD as GET and validate_scopes checks it as GET
    # (spec/controllers/application_controller_spec.rb): same status and headers, no body.
    pid = sim.create_progress()
    head = api.call("HEAD", f"/api/v1/progress/{pid}")
    assert head.status_code == 200
    assert head.headers["Content-Type"].startswith("application/json")
    assert "X-Request-Cost" in head.headers
    assert head.content == b""


def test_head_on_an_unknown_progress_is_404(api: Api) -> None:
    assert api.call("HEAD", "/api/v1/progress/424242").status_code == 404
