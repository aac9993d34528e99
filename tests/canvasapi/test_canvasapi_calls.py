"""canvasapi 3.6's common calls work unmodified against the simulator (verified HTTPS, no warnings)."""

from __future__ import annotations

import warnings

import pytest
from canvasapi.exceptions import ResourceDoesNotExist
from canvasapi.progress import Progress
from canvasapi.util import combine_kwargs

from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript, ManualClock
from canvasapi import Canvas

pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def query_until_done(progress: Progress, clock: ManualClock, *, step: float = 1.0, limit: int = 60) -> Progress:
    """What a DAG task does with canvasapi: query, wait, query again, until the job ends."""
    for _ in range(limit):
        progress = progress.query()
        if progress.workflow_state not in ("queued", "running", "waiting_for_external_tool"):
            return progress
        clock.advance(step)
    raise AssertionError(f"still {progress.workflow_state} after {limit} queries")


def test_canvas_over_https_warns_about_nothing(sim: CanvasSimulator) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        canvas = Canvas(sim.base_url, sim.token)
        assert canvas.get_current_user().id == 1


def test_get_course_by_id_and_by_sis_id(canvas: Canvas) -> None:
    course = canvas.get_course(1)
    assert (course.name, course.course_code, course.account_id) == ("Biology 101", "BIO101", 1)
    assert canvas.get_course("BIO101-2026FA", use_sis_id=True).id == 1


def test_unknown_course_is_resource_does_not_exist(canvas: Canvas) -> None:
    with pytest.raises(ResourceDoesNotExist):
        canvas.get_course(424242)


def test_get_account_its_sub_accounts_and_terms(canvas: Canvas) -> None:
    account = canvas.get_account(1)
    assert account.name == "Simulated University"
    assert account.root_account_id is None
    assert [a.name for a in account.get_subaccounts()] == ["College of Science", "College of Arts"]
    assert [t.sis_term_id for t in account.get_enrollment_terms()] == ["2026FA", "2027SP"]


def test_account_courses_follow_canvas_pagination(canvas: Canvas) -> None:
    courses = canvas.get_account(1).get_courses(per_page=30)
    ids = [c.id for c in courses]
    assert ids == list(range(1, 101))


def test_get_section_and_course_sections(canvas: Canvas) -> None:
    sections = canvas.get_course(2).get_sections()
    assert [s.name for s in sections] == ["CHEM110 Section 1", "CHEM110 Section 2"]
    section = canvas.get_section(sections[0].id)
    assert (section.course_id, section.sis_section_id) == (2, "CHEM110-2026FA-1")


def test_get_user_self_and_by_id(canvas: Canvas) -> None:
    assert canvas.get_current_user().name == "Sim Admin"
    assert canvas.get_user(101).name == "Ada Lovelace"


def test_get_assignments_of_a_course(canvas: Canvas) -> None:
    course = canvas.get_course(1)
    assert [a.name for a in course.get_assignments()] == ["Homework 1", "Midterm", "Final Exam"]
    assert course.get_assignment(102).points_possible == 100.0


def test_course_batch_via_the_raw_requester_runs_to_completion(
    sim: CanvasSimulator, canvas: Canvas, clock: ManualClock
) -> None:
    account = canvas.get_account(1)
    response = account._requester.request(
        "PUT", f"accounts/{account.id}/courses", _kwargs=combine_kwargs(event="conclude", course_ids=[4, 5])
    )
    done = query_until_done(Progress(account._requester, response.json()), clock)
    assert (done.workflow_state, done.completion, done.message) == ("completed", 100.0, "2 courses processed")
    assert canvas.get_course(4).workflow_state == "completed"


def test_bulk_grade_update_starts_a_progress_queried_to_completion(
    sim: CanvasSimulator, canvas: Canvas, clock: ManualClock
) -> None:
    sim.script_next_job(JobScript(queued_for=1, running_for=3))
    progress = canvas.get_course(1).submissions_bulk_update(grade_data={"101": {"posted_grade": "88"}})
    assert (progress.tag, progress.workflow_state) == ("submissions_update", "queued")
    assert query_until_done(progress, clock).workflow_state == "completed"


def test_progress_query_sees_a_failed_job_and_its_message(
    sim: CanvasSimulator, canvas: Canvas, clock: ManualClock
) -> None:
    pid = sim.create_progress(script=JobScript.failing("Unexpected error, ID: 7", queued_for=0, running_for=2))
    done = query_until_done(canvas.get_progress(pid), clock)
    assert (done.workflow_state, done.message) == ("failed", "Unexpected error, ID: 7")


def test_content_migration_progress(sim: CanvasSimulator, canvas: Canvas, clock: ManualClock) -> None:
    migration = canvas.get_course(3).create_content_migration("common_cartridge_importer")
    progress = migration.get_progress()
    assert progress.tag == "content_migration"
    assert query_until_done(progress, clock).workflow_state == "completed"
