"""start_job: the three shapes in which Canvas answers a call that starts a background job."""

from __future__ import annotations

import pytest

from airflow_provider_canvas_progress.core.errors import CanvasResponseError
from airflow_provider_canvas_progress.core.progress import WorkflowState
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript, ManualClock

from .conftest import Connect, MakeSim


def test_start_job_returns_the_bare_progress_of_a_course_batch_update(sim: CanvasSimulator, hook: CanvasHook) -> None:
    progress = hook.start_job("PUT", "accounts/1/courses", data={"event": "conclude", "course_ids": [1, 2]})

    assert (progress.tag, progress.context_type, progress.user_id) == ("course_batch_update", "Account", "1")
    assert progress.is_pending
    assert len(sim.requests) == 1


def test_start_job_sends_canvas_bracket_form_fields(sim: CanvasSimulator, hook: CanvasHook) -> None:
    hook.start_job(
        "POST",
        "courses/1/submissions/update_grades",
        data={"grade_data": {"5": {"posted_grade": "A"}, "6": {"posted_grade": "B"}}},
    )

    assert sim.requests[0].body == (b"grade_data%5B5%5D%5Bposted_grade%5D=A&grade_data%5B6%5D%5Bposted_grade%5D=B")


def test_start_job_sends_a_json_array_body(sim: CanvasSimulator, hook: CanvasHook) -> None:
    progress = hook.start_job("PUT", "courses/1/assignments/bulk_update", json=[{"id": 1, "all_dates": []}])

    assert progress.tag == "assignment_bulk_update"
    assert sim.requests[0].header("Content-Type") == "application/json"


def test_start_job_reads_the_nested_progress_of_an_async_module_update(sim: CanvasSimulator, hook: CanvasHook) -> None:
    progress = hook.start_job(
        "PUT", "courses/1/modules", data={"module_ids": [1, 2], "event": "publish", "async": True}
    )

    assert (progress.tag, progress.context_type) == ("context_module_batch_update", "Course")
    assert len(sim.requests) == 1


@pytest.mark.parametrize(
    ("endpoint", "data", "tag"),
    [
        ("courses/1/content_migrations", {"migration_type": "course_copy_importer"}, "content_migration"),
        ("courses/1/content_exports", {"export_type": "common_cartridge"}, "content_export"),
    ],
    ids=["content-migration", "content-export"],
)
def test_start_job_reads_the_progress_at_a_progress_url(
    sim: CanvasSimulator, hook: CanvasHook, endpoint: str, data: dict[str, str], tag: str
) -> None:
    try:
        progress = hook.start_job("POST", endpoint, data=data)
    except Exception as error:  # report the bug as a failed expectation, not as a crash
        raise AssertionError(f"start_job raised {error!r}") from error

    assert progress.tag == tag
    assert [(r.method, r.path) for r in sim.requests] == [
        ("POST", f"/api/v1/{endpoint}"),
        ("GET", f"/api/v1/progress/{progress.id}"),
    ]


def test_start_job_on_a_call_that_answered_without_a_progress_is_a_response_error(
    sim: CanvasSimulator, hook: CanvasHook
) -> None:
    # Without async=true Canvas updates the modules at once and answers {"completed": [...]}.
    with pytest.raises(CanvasResponseError, match="'completed'"):
        hook.start_job("PUT", "courses/1/modules", data={"module_ids": [1], "event": "publish"})


def test_started_job_is_followed_with_get_progress(make_sim: MakeSim, connect: Connect, clock: ManualClock) -> None:
    sim = make_sim(clock=clock)
    sim.script_next_job(JobScript(queued_for=1, running_for=1), tag="course_batch_update")
    hook = connect(sim)

    started = hook.start_job("PUT", "accounts/1/courses", data={"event": "conclude", "course_ids": [1, 2, 999]})
    clock.advance(2)
    finished = hook.get_progress(started)

    assert started.workflow_state is WorkflowState.QUEUED
    assert finished.workflow_state is WorkflowState.COMPLETED
    assert finished.message == "2 courses processed\nThe course was not found: 999"
