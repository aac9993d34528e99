"""Canvas calls that start a job and answer with its Progress."""

from __future__ import annotations

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript, ManualClock

from .simclient import Api

FINISH = 10.0  # beyond the default script's 2.5 s


def finished(sim: CanvasSimulator, clock: ManualClock, pid: object) -> dict:
    clock.advance(FINISH)
    return sim.progress_json(str(pid))


# -- course batch update ----------------------------------------------------------------------


def test_course_batch_update_answers_a_bare_queued_progress(api: Api) -> None:
    response = api.put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["1", "2"]})
    assert response.status_code == 200
    body = response.json()
    assert (body["tag"], body["context_type"], body["context_id"], body["user_id"], body["workflow_state"]) == (
        "course_batch_update",
        "Account",
        1,
        1,
        "queued",
    )


def test_course_batch_update_accepts_json(sim: CanvasSimulator, api: Api, clock: ManualClock) -> None:
    body = api.put("/api/v1/accounts/1/courses", json={"event": "conclude", "course_ids": [1, 2, 3]}).json()
    assert finished(sim, clock, body["id"])["message"] == "3 courses processed"


def test_course_batch_update_completes_with_the_count_processed(
    sim: CanvasSimulator, api: Api, clock: ManualClock
) -> None:
    body = api.put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["5"]}).json()
    end = finished(sim, clock, body["id"])
    assert (end["workflow_state"], end["completion"], end["message"]) == ("completed", 100.0, "1 course processed")


def test_course_batch_update_lists_failed_courses_under_their_error(
    sim: CanvasSimulator, api: Api, clock: ManualClock
) -> None:
    body = api.put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["1", "998", "999"]}).json()
    assert finished(sim, clock, body["id"])["message"] == "1 course processed\nThe course was not found: 998, 999"


def test_course_batch_update_fails_when_no_course_succeeded(sim: CanvasSimulator, api: Api, clock: ManualClock) -> None:
    body = api.put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["998"]}).json()
    end = finished(sim, clock, body["id"])
    assert (end["workflow_state"], end["message"]) == ("failed", "0 courses processed\nThe course was not found: 998")


def test_failed_batch_reads_completion_100(sim: CanvasSimulator, api: Api, clock: ManualClock) -> None:
    # lib/progress_runner.rb#finish_update sets completion to 100 before it calls fail!.
    body = api.put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["998"]}).json()
    end = finished(sim, clock, body["id"])
    assert (end["workflow_state"], end["completion"]) == ("failed", 100.0)


def test_failed_conversation_batch_reads_completion_100(sim: CanvasSimulator, api: Api, clock: ManualClock) -> None:
    # Same runner (lib/progress_runner.rb) for conversations: nothing processed, yet 100.0.
    body = api.put("/api/v1/conversations", data={"event": "star", "conversation_ids[]": ["999"]}).json()
    assert finished(sim, clock, body["id"])["completion"] == 100.0


def test_course_batch_update_changes_the_courses(sim: CanvasSimulator, api: Api) -> None:
    api.put("/api/v1/accounts/1/courses", data={"event": "conclude", "course_ids[]": ["4"]})
    course = sim.course(4)
    assert course is not None
    assert course.workflow_state == "completed"


def test_course_in_another_account_is_not_found_by_the_batch(
    sim: CanvasSimulator, api: Api, clock: ManualClock
) -> None:
    sim.add_course(500, account_id=2)
    body = api.put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["500"]}).json()
    assert finished(sim, clock, body["id"])["workflow_state"] == "failed"


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"event": "offer"}, 400, "must specify course_ids[]"),
        ({"course_ids[]": ["1"]}, 400, "need to specify event"),
        ({"event": "explode", "course_ids[]": ["1"]}, 400, "invalid event"),
        (
            {"event": "offer", "course_ids[]": [str(i) for i in range(501)]},
            403,
            "course batch size limit (500) exceeded",
        ),
    ],
    ids=["no-course-ids", "no-event", "bad-event", "over-500"],
)
def test_course_batch_update_validation(api: Api, data: dict, status: int, message: str) -> None:
    response = api.put("/api/v1/accounts/1/courses", data=data)
    assert (response.status_code, response.json()) == (status, {"message": message})


def test_course_batch_update_of_500_courses_is_accepted(api: Api) -> None:
    data = {"event": "offer", "course_ids[]": [str(i) for i in range(500)]}
    assert api.put("/api/v1/accounts/1/courses", data=data).status_code == 200


def test_course_batch_update_needs_access_to_the_account(sim: CanvasSimulator, api: Api) -> None:
    token = sim.add_token(user_id=2)
    response = api.put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["1"]}, token=token)
    assert response.status_code == 403


def test_course_batch_update_of_unknown_account_is_404(api: Api) -> None:
    assert api.put("/api/v1/accounts/77/courses", data={"event": "offer", "course_ids[]": ["1"]}).status_code == 404


# -- scripts for started jobs -----------------------------------------------------------------


def test_started_jobs_take_queued_scripts_first_in_first_out(sim: CanvasSimulator, api: Api) -> None:
    sim.script_next_job(JobScript.instant("failed", message="first"))
    sim.script_next_job(JobScript.instant("completed", message="second"))
    data = {"event": "offer", "course_ids[]": ["1"]}
    first = api.put("/api/v1/accounts/1/courses", data=data).json()
    second = api.put("/api/v1/accounts/1/courses", data=data).json()
    assert (first["message"], second["message"]) == ("first", "second")


def test_script_queued_for_a_tag_is_used_only_by_that_tag(sim: CanvasSimulator, api: Api) -> None:
    sim.script_next_job(JobScript.instant(message="for grades"), tag="submissions_update")
    batch = api.put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["1"]}).json()
    grades = api.post("/api/v1/courses/1/submissions/update_grades", data={"grade_data[5][posted_grade]": "A"}).json()
    assert (batch["workflow_state"], grades["message"]) == ("queued", "for grades")


def test_default_job_script_drives_started_jobs(canvas_simulator_factory, api_for) -> None:
    other = canvas_simulator_factory(default_job_script=JobScript.never_ending(running_for=0))
    body = api_for(other).put("/api/v1/accounts/1/courses", data={"event": "offer", "course_ids[]": ["1"]}).json()
    assert body["workflow_state"] == "running"


# -- the other job-starting calls -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/courses/2/submissions/update_grades",
        "/api/v1/courses/2/assignments/9/submissions/update_grades",
        "/api/v1/sections/2/submissions/update_grades",
    ],
)
def test_bulk_grade_update_starts_a_submissions_update_job(api: Api, path: str) -> None:
    body = api.post(path, data={"grade_data[5][posted_grade]": "88"}).json()
    assert (body["tag"], body["context_type"], body["context_id"], body["user_id"]) == (
        "submissions_update",
        "Course",
        2,
        None,
    )


def test_bulk_grade_update_accepts_json(api: Api) -> None:
    body = api.post("/api/v1/courses/2/submissions/update_grades", json={"grade_data": {"5": {"posted_grade": "A"}}})
    assert body.json()["tag"] == "submissions_update"


def test_bulk_grade_update_without_grade_data_is_400(api: Api) -> None:
    assert api.post("/api/v1/courses/2/submissions/update_grades").status_code == 400


def test_bulk_grade_update_in_unknown_course_is_404(api: Api) -> None:
    assert (
        api.post(
            "/api/v1/courses/4040/submissions/update_grades", data={"grade_data[5][posted_grade]": "A"}
        ).status_code
        == 404
    )


def test_assignment_bulk_update_starts_a_job(api: Api) -> None:
    body = api.put("/api/v1/courses/3/assignments/bulk_update", json=[{"id": 1, "all_dates": []}]).json()
    assert (body["tag"], body["context_type"], body["user_id"]) == ("assignment_bulk_update", "Course", None)


def test_custom_gradebook_column_data_starts_a_job(api: Api) -> None:
    data = {"column_data[][column_id]": "1", "column_data[][user_id]": "2", "column_data[][content]": "x"}
    body = api.put("/api/v1/courses/3/custom_gradebook_column_data", data=data).json()
    assert body["tag"] == "custom_columns_submissions_update"


def test_conversation_batch_update_is_a_user_job_cancellable_by_its_starter(api: Api) -> None:
    body = api.put("/api/v1/conversations", data={"event": "mark_as_read", "conversation_ids[]": ["1", "2"]}).json()
    assert (body["tag"], body["context_type"], body["context_id"], body["user_id"]) == (
        "conversation_batch_update",
        "User",
        1,
        1,
    )
    assert api.post(f"/api/v1/progress/{body['id']}/cancel").json()["workflow_state"] == "failed"


def test_conversation_batch_update_reports_conversations_processed(
    sim: CanvasSimulator, api: Api, clock: ManualClock
) -> None:
    body = api.put("/api/v1/conversations", data={"event": "star", "conversation_ids[]": ["1", "555"]}).json()
    assert finished(sim, clock, body["id"])["message"] == (
        "1 conversation processed\nThe user is not participating in this conversation: 555"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"event": "star"}, "conversation_ids not specified"),
        ({"conversation_ids[]": ["1"]}, "event not specified"),
        ({"event": "burn", "conversation_ids[]": ["1"]}, "invalid event"),
        (
            {"event": "star", "conversation_ids[]": [str(i) for i in range(501)]},
            "conversation batch size limit (500) exceeded",
        ),
    ],
)
def test_conversation_batch_update_validation(api: Api, data: dict, message: str) -> None:
    response = api.put("/api/v1/conversations", data=data)
    assert (response.status_code, response.json()) == (400, {"message": message})


def test_assign_unassigned_members_starts_a_group_category_job(api: Api) -> None:
    body = api.post("/api/v1/group_categories/12/assign_unassigned_members").json()
    assert (body["tag"], body["context_type"], body["context_id"]) == ("assign_unassigned_members", "GroupCategory", 12)


def test_sis_restore_states_starts_a_sis_batch_job(api: Api) -> None:
    body = api.put("/api/v1/accounts/1/sis_imports/33/restore_states").json()
    assert (body["tag"], body["context_type"], body["context_id"]) == ("sis_batch_state_restore", "SisBatch", 33)


def test_course_pace_publish_starts_a_course_pace_job(api: Api) -> None:
    body = api.post("/api/v1/courses/3/course_pacing/8/publish").json()
    assert (body["tag"], body["context_type"], body["context_id"]) == ("course_pace_publish", "CoursePace", 8)


def test_newer_course_pace_publish_cancels_the_queued_one(api: Api) -> None:
    first = api.post("/api/v1/courses/3/course_pacing/8/publish").json()
    api.post("/api/v1/courses/3/course_pacing/8/publish")
    assert api.get(f"/api/v1/progress/{first['id']}").json()["workflow_state"] == "canceled"


def test_modules_batch_update_with_async_answers_a_wrapped_progress(api: Api) -> None:
    body = api.put("/api/v1/courses/3/modules", data={"event": "publish", "module_ids[]": ["1"], "async": "true"})
    assert set(body.json()) == {"progress"}
    assert body.json()["progress"]["workflow_state"] == "queued"


def test_modules_batch_update_without_async_answers_synchronously(api: Api) -> None:
    body = api.put("/api/v1/courses/3/modules", data={"event": "publish", "module_ids[]": ["1", "2"]}).json()
    assert body == {"completed": [1, 2]}


def test_content_migration_carries_a_progress_url(sim: CanvasSimulator, api: Api) -> None:
    body = api.post("/api/v1/courses/3/content_migrations", data={"migration_type": "course_copy_importer"}).json()
    pid = body["progress_url"].rsplit("/", 1)[1]
    assert body["progress_url"] == f"{sim.base_url}/api/v1/progress/{pid}"
    assert api.get(f"/api/v1/progress/{pid}").json()["tag"] == "content_migration"


def test_content_export_carries_a_progress_url(api: Api) -> None:
    body = api.post("/api/v1/courses/3/content_exports", data={"export_type": "common_cartridge"}).json()
    progress = api.session.get(body["progress_url"], headers={"Authorization": f"Bearer {api.token}"}).json()
    assert (progress["tag"], progress["context_type"], progress["context_id"]) == (
        "content_export",
        "ContentExport",
        body["id"],
    )


def test_content_export_with_unknown_type_is_400(api: Api) -> None:
    assert api.post("/api/v1/courses/3/content_exports", data={"export_type": "pdf"}).status_code == 400


def test_started_job_honours_string_ids(api: Api) -> None:
    body = api.put(
        "/api/v1/accounts/1/courses",
        data={"event": "offer", "course_ids[]": ["1"]},
        headers={"Accept": "application/json+canvas-string-ids"},
    ).json()
    assert isinstance(body["id"], str)


def test_invalid_json_body_is_400(api: Api) -> None:
    response = api.put("/api/v1/accounts/1/courses", data="{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "message" in response.json()
