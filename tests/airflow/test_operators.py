"""The operators in real Airflow, through ``dag.test()``: cancel, branch, and the job-starting operators.

The DAGs are in ``tests/dags/canvas_operator_dags.py``; each test sets up the simulator (a job, a
script for the next started job, a fault), runs a DAG, and reads back task states, XComs, the
failures and retries the tasks recorded, and what the simulator received.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, Fault, JobScript, RecordedRequest
from tests.airflow.conftest import FAST_EXTRAS
from tests.airflow.runner import DagResult, load_dag, run_dag

QUICK = {"queued_for": 0.1, "running_for": 0.3}
COURSE_BATCH_PATH = "/api/v1/accounts/1/courses"
MODES = ["poke", "deferrable"]
REFUSAL = "only the user who started a job may cancel it"


# -- helpers -----------------------------------------------------------------------------------


def run(dag_id: str, **conf: Any) -> DagResult:
    """Run a DAG with every param given: dag.test() leaves one run's conf in the task's params."""
    dag = load_dag("canvas_operator_dags", dag_id)
    defaults = copy.deepcopy({key: dag.params[key] for key in dag.params})
    return run_dag(dag, **{**defaults, **conf})


def dags_module() -> Any:
    load_dag("canvas_operator_dags", "start_job")  # puts the dags folder on sys.path
    return sys.modules["canvas_operator_dags"]


@pytest.fixture(autouse=True)
def events() -> Iterator[list[Any]]:
    """The failures and retries the DAGs' tasks record, fresh for each test."""
    recorded = dags_module().TASK_EVENTS
    recorded.clear()
    yield recorded
    recorded.clear()


def kinds(events: list[Any]) -> list[str]:
    return [event.kind for event in events]


def pending_job(canvas: CanvasSimulator, **kwargs: Any) -> str:
    return canvas.create_progress(script=JobScript.never_ending(running_for=0.2), **kwargs)


def cancel_calls(canvas: CanvasSimulator) -> list[RecordedRequest]:
    return [r for r in canvas.requests if r.method == "POST" and r.path.endswith("/cancel")]


def calls_to(canvas: CanvasSimulator, path: str, method: str | None = None) -> list[RecordedRequest]:
    return [r for r in canvas.requests if r.path == path and (method is None or r.method == method)]


def api_calls(canvas: CanvasSimulator) -> list[RecordedRequest]:
    return [r for r in canvas.requests if r.path.startswith("/api/")]


def form(request: RecordedRequest) -> list[tuple[str, str]]:
    return parse_qsl(request.body.decode(), keep_blank_values=True)


def default_message(dag_id: str, result: DagResult, task_id: str = "cancel") -> str:
    return f"Cancelled by Airflow (dag {dag_id}, task {task_id}, run {result.run_id})"


@pytest.fixture
def older_canvas(monkeypatch: pytest.MonkeyPatch) -> Iterator[CanvasSimulator]:
    """A simulator of an older Canvas, which answers 401 (not 403) to a refused permission."""
    from airflow_provider_canvas_progress.hooks import canvas as hook_module

    hook_module._gates.clear()
    with CanvasSimulator(permission_status=401) as sim:
        conn = {"conn_type": "canvas", "host": sim.base_url, "password": sim.token, "extra": FAST_EXTRAS}
        monkeypatch.setenv("AIRFLOW_CONN_CANVAS_DEFAULT", json.dumps(conn))
        yield sim


# -- CancelProgressOperator --------------------------------------------------------------------


def test_cancel_of_pending_job_marks_it_failed_with_a_message_naming_dag_task_and_run(
    canvas: CanvasSimulator,
) -> None:
    pid = pending_job(canvas)
    result = run("cancel_if_finished_ignore", progress_id=pid)
    assert result.states == {"cancel": "success"}
    after = canvas.progress_json(pid)
    assert after["workflow_state"] == "failed"
    assert after["message"] == default_message("cancel_if_finished_ignore", result)
    assert len(cancel_calls(canvas)) == 1


def test_cancel_returns_the_cancelled_progress(canvas: CanvasSimulator) -> None:
    pid = pending_job(canvas)
    result = run("cancel_if_finished_ignore", progress_id=pid)
    value = result.xcom("cancel")
    assert (value["id"], value["workflow_state"], value["outcome"]) == (pid, "failed", "cancelled")
    assert value["message"] == canvas.progress_json(pid)["message"]
    assert result.xcom("cancel", "progress") == value


def test_default_cancel_message_is_recognised_by_the_sensor_as_a_cancel(canvas: CanvasSimulator) -> None:
    pid = pending_job(canvas)
    result = run("cancel_then_wait", progress_id=pid)
    assert result.states == {"cancel": "success", "wait": "success"}
    assert result.xcom("wait")["outcome"] == "cancelled"


def test_custom_cancel_message_is_rendered_and_posted(canvas: CanvasSimulator) -> None:
    pid = pending_job(canvas)
    result = run("cancel_custom_message", progress_id=pid, who="the night operator")
    assert result.states == {"cancel": "success"}
    expected = "Stopped by the night operator in cancel_custom_message"
    assert canvas.progress_json(pid)["message"] == expected
    assert dict(form(cancel_calls(canvas)[0])) == {"message": expected}


@pytest.mark.parametrize("ending", ["completed", "failed"])
@pytest.mark.parametrize("if_finished", ["ignore", "skip", "fail"])
def test_finished_job_is_never_cancelled(canvas: CanvasSimulator, if_finished: str, ending: str) -> None:
    pid = canvas.create_progress(script=JobScript.instant(ending, message="3 courses processed"))  # type: ignore[arg-type]
    before = canvas.progress_json(pid)
    run(f"cancel_if_finished_{if_finished}", progress_id=pid)
    assert cancel_calls(canvas) == []
    after = canvas.progress_json(pid)
    assert (after["workflow_state"], after["message"]) == (before["workflow_state"], before["message"])


@pytest.mark.parametrize(("if_finished", "state"), [("ignore", "success"), ("skip", "skipped"), ("fail", "failed")])
def test_if_finished_decides_the_task_state_for_a_completed_job(
    canvas: CanvasSimulator, events: list[Any], if_finished: str, state: str
) -> None:
    pid = canvas.create_progress(script=JobScript.instant("completed"))
    result = run(f"cancel_if_finished_{if_finished}", progress_id=pid)
    assert result.states == {"cancel": state}
    assert "retry" not in kinds(events)


def test_if_finished_ignore_returns_the_progress_as_it_ended(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.instant("completed"))
    result = run("cancel_if_finished_ignore", progress_id=pid)
    value = result.xcom("cancel")
    assert (value["id"], value["workflow_state"], value["outcome"]) == (pid, "completed", "completed")


def test_cancel_is_idempotent_under_airflow_retries(canvas: CanvasSimulator, events: list[Any]) -> None:
    pid = pending_job(canvas)
    result = run("cancel_retried_after_cancelling", progress_id=pid)
    assert kinds(events) == ["retry"]  # the first try cancelled, then its worker was lost
    assert result.states == {"cancel": "success"}
    assert len(cancel_calls(canvas)) == 1
    assert result.xcom("cancel")["outcome"] == "cancelled"
    assert canvas.progress_json(pid)["message"] == default_message("cancel_retried_after_cancelling", result)


def test_job_cancelled_by_another_run_counts_as_finished(canvas: CanvasSimulator) -> None:
    pid = pending_job(canvas)
    canvas.set_progress(
        pid, workflow_state="failed", message="Cancelled by Airflow (dag nightly, task cancel, run manual__1)"
    )
    result = run("cancel_if_finished_fail", progress_id=pid)
    assert result.states == {"cancel": "failed"}
    assert cancel_calls(canvas) == []


def test_job_nobody_may_cancel_fails_the_task_with_an_explanation(canvas: CanvasSimulator, events: list[Any]) -> None:
    pid = pending_job(canvas, tag="submissions_update", context_type="Course", user_id=None)
    result = run("cancel_if_finished_ignore", progress_id=pid)
    assert result.states == {"cancel": "failed"}
    assert [r.status for r in cancel_calls(canvas)] == [403]
    (failure,) = events
    assert REFUSAL in failure.text
    assert f"Progress {pid} (submissions_update, started by user nobody)" in failure.text
    assert "have no starter" in failure.text
    assert canvas.progress_json(pid)["workflow_state"] == "running"


def test_job_nobody_may_cancel_is_not_retried(canvas: CanvasSimulator, events: list[Any]) -> None:
    pid = pending_job(canvas, tag="submissions_update", context_type="Course", user_id=None)
    run("cancel_if_finished_ignore", progress_id=pid)
    assert kinds(events) == ["failed"]
    assert len(cancel_calls(canvas)) == 1


def test_job_started_by_another_user_cannot_be_cancelled(canvas: CanvasSimulator, events: list[Any]) -> None:
    pid = pending_job(canvas, user_id=2)
    result = run("cancel_if_finished_ignore", progress_id=pid)
    assert result.states == {"cancel": "failed"}
    assert REFUSAL in events[0].text
    assert "started by user 2" in events[0].text


def test_cancel_refused_with_401_by_older_canvas_fails_the_same_way(
    older_canvas: CanvasSimulator, events: list[Any]
) -> None:
    pid = pending_job(older_canvas, tag="submissions_update", context_type="Course", user_id=None)
    result = run("cancel_if_finished_ignore", progress_id=pid)
    assert result.states == {"cancel": "failed"}
    assert [r.status for r in cancel_calls(older_canvas)] == [401]
    assert kinds(events) == ["failed"]
    assert REFUSAL in events[0].text
    assert older_canvas.progress_json(pid)["workflow_state"] == "running"


def test_invalid_progress_id_fails_the_cancel_with_a_clear_error(canvas: CanvasSimulator, events: list[Any]) -> None:
    result = run("cancel_if_finished_ignore", progress_id="last night's batch")
    assert result.states == {"cancel": "failed"}
    assert kinds(events) == ["failed"]
    assert 'progress_id "last night\'s batch" is not a Canvas id' in events[0].text
    assert events[0].cause == "InvalidProgressIdError"
    assert api_calls(canvas) == []


def test_unknown_progress_fails_the_cancel_without_retry(canvas: CanvasSimulator, events: list[Any]) -> None:
    result = run("cancel_if_finished_ignore", progress_id="987654")
    assert result.states == {"cancel": "failed"}
    assert kinds(events) == ["failed"]
    assert "404" in events[0].text
    assert cancel_calls(canvas) == []


# -- CanvasProgressBranchOperator --------------------------------------------------------------

CANCEL_MESSAGE = "Cancelled by Airflow (dag nightly, task cancel, run manual__1)"
#: How a job ends (Canvas outcome, message) and the branch that follows it.
ENDINGS: dict[str, tuple[Any, str | None, str]] = {
    "completed": ("completed", "2 courses processed", "report"),
    "failed": ("failed", "Unexpected error, ID: 42", "alert"),
    "cancelled by message": ("failed", CANCEL_MESSAGE, "cleanup"),
    "canceled by Canvas": ("canceled", None, "cleanup"),
}
OUTCOME_TASKS = {"report", "alert", "cleanup"}


def ending_soon(ending: str) -> JobScript:
    outcome, message, _ = ENDINGS[ending]
    return JobScript(**QUICK, outcome=outcome, message=message)


def branch_states(chosen: str, others: set[str]) -> dict[str, str]:
    return {chosen: "success", **{task: "skipped" for task in others - {chosen}}}


@pytest.mark.parametrize("ending", ENDINGS)
def test_branch_on_sensor_output_follows_the_outcome_and_skips_the_rest(canvas: CanvasSimulator, ending: str) -> None:
    pid = canvas.create_progress(script=ending_soon(ending))
    result = run("branch_on_sensor_output", progress_id=pid)
    chosen = ENDINGS[ending][2]
    assert result.states == {"wait": "success", "branch": "success", **branch_states(chosen, OUTCOME_TASKS)}


@pytest.mark.parametrize("ending", ENDINGS)
def test_branch_on_progress_id_reads_the_progress_and_follows_the_outcome(canvas: CanvasSimulator, ending: str) -> None:
    outcome, message, chosen = ENDINGS[ending]
    pid = canvas.create_progress(script=JobScript.instant(outcome, message=message))
    result = run("branch_on_progress_id", progress_id=pid)
    assert result.states == {"branch": "success", **branch_states(chosen, OUTCOME_TASKS)}


def test_branch_on_a_progress_rendered_as_text_follows_the_outcome(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=ending_soon("failed"))
    result = run("branch_on_rendered_progress", progress_id=pid)
    assert result.states == {"wait": "success", "branch": "success", **branch_states("alert", OUTCOME_TASKS)}


def test_branch_on_pending_job_follows_on_pending(canvas: CanvasSimulator) -> None:
    pid = pending_job(canvas)
    result = run("branch_on_progress_id_with_pending", progress_id=pid)
    assert result.states == {
        "branch": "success",
        **branch_states("still_running", OUTCOME_TASKS | {"still_running"}),
    }


def test_branch_on_pending_job_without_on_pending_fails(canvas: CanvasSimulator, events: list[Any]) -> None:
    pid = pending_job(canvas)
    result = run("branch_on_progress_id", progress_id=pid)
    assert result.states == {"branch": "failed", **{task: "upstream_failed" for task in OUTCOME_TASKS}}
    assert "no on_pending branch is set" in events[-1].text


def test_branch_on_unknown_progress_fails_without_retry(canvas: CanvasSimulator, events: list[Any]) -> None:
    result = run("branch_on_progress_id", progress_id="987654")
    assert result.states["branch"] == "failed"
    assert kinds(events) == ["failed"]


# -- CanvasStartJobOperator --------------------------------------------------------------------


def test_start_job_with_a_bare_progress_answer_returns_it_pending(canvas: CanvasSimulator) -> None:
    result = run("start_job")
    assert result.states == {"start": "success"}
    assert len(calls_to(canvas, COURSE_BATCH_PATH, "PUT")) == 1
    value = result.xcom("start")
    assert value["outcome"] == "pending"
    assert value["tag"] == "course_batch_update"
    assert value["workflow_state"] in ("queued", "running")
    assert canvas.progress_json(value["id"])["tag"] == "course_batch_update"
    assert result.xcom("start", "progress") == value


def test_start_job_finds_the_progress_in_a_progress_key(canvas: CanvasSimulator) -> None:
    data = {"event": "publish", "module_ids[]": [1, 2], "async": True}
    result = run("start_job", method="PUT", endpoint="/api/v1/courses/1/modules", data=data)
    value = result.xcom("start")
    assert (value["tag"], value["outcome"]) == ("context_module_batch_update", "pending")
    assert ("async", "true") in form(calls_to(canvas, "/api/v1/courses/1/modules")[0])


def test_start_job_follows_a_progress_url(canvas: CanvasSimulator) -> None:
    canvas.script_next_job(JobScript.never_ending())  # still pending when read, however slow the machine
    data = {"migration_type": "course_copy_importer"}
    result = run("start_job", method="POST", endpoint="/api/v1/courses/1/content_migrations", data=data)
    value = result.xcom("start")
    assert (value["tag"], value["outcome"]) == ("content_migration", "pending")
    assert calls_to(canvas, f"/api/v1/progress/{value['id']}", "GET")


def test_start_job_accepts_data_rendered_as_text(canvas: CanvasSimulator) -> None:
    result = run("start_job_data_rendered_as_text")
    assert result.states == {"start": "success"}
    (started,) = calls_to(canvas, COURSE_BATCH_PATH, "PUT")
    assert form(started) == [("event", "offer"), ("course_ids[]", "1"), ("course_ids[]", "2")]


@pytest.mark.parametrize("mode", MODES)
def test_start_and_wait_succeeds_when_the_job_completes(canvas: CanvasSimulator, mode: str) -> None:
    canvas.script_next_job(JobScript(**QUICK))
    result = run(f"start_and_wait_{mode}")
    assert result.states == {"start": "success"}
    value = result.xcom("start")
    assert (value["workflow_state"], value["outcome"]) == ("completed", "completed")
    assert value["message"] == "2 courses processed"


@pytest.mark.parametrize("mode", MODES)
def test_failed_job_fails_the_try_and_the_retry_starts_a_fresh_job(
    canvas: CanvasSimulator, events: list[Any], mode: str
) -> None:
    canvas.script_next_job(JobScript.failing(**QUICK))
    canvas.script_next_job(JobScript(**QUICK))
    result = run(f"start_and_wait_{mode}")
    assert [(e.kind, e.error) for e in events] == [("retry", "CanvasJobAttemptFailed")]
    assert len(calls_to(canvas, COURSE_BATCH_PATH, "PUT")) == 2
    assert result.states == {"start": "success"}
    assert result.xcom("start")["outcome"] == "completed"


@pytest.mark.parametrize("mode", MODES)
def test_failed_job_fails_the_task_once_retries_are_spent(
    canvas: CanvasSimulator, events: list[Any], mode: str
) -> None:
    canvas.default_job_script = JobScript.failing(**QUICK)
    result = run(f"start_and_wait_{mode}")
    assert result.states == {"start": "failed"}
    assert kinds(events) == ["retry", "failed"]
    assert len(calls_to(canvas, COURSE_BATCH_PATH, "PUT")) == 2
    assert result.xcom("start", "progress")["outcome"] == "failed"


@pytest.mark.parametrize(
    "script",
    [JobScript(**QUICK, outcome="failed", message=CANCEL_MESSAGE), JobScript.superseded(after=0.1)],
    ids=["cancel message", "canceled state"],
)
@pytest.mark.parametrize("mode", MODES)
def test_cancelled_job_fails_the_task_without_retry(
    canvas: CanvasSimulator, events: list[Any], mode: str, script: JobScript
) -> None:
    canvas.script_next_job(script)
    result = run(f"start_and_wait_{mode}")
    assert result.states == {"start": "failed"}
    assert [(e.kind, e.error) for e in events] == [("failed", "CanvasJobCancelled")]
    assert len(calls_to(canvas, COURSE_BATCH_PATH, "PUT")) == 1


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_wait_timeout_cancels_the_job_when_asked(canvas: CanvasSimulator, mode: str) -> None:
    canvas.script_next_job(JobScript.never_ending(running_for=0.2))
    result = run(f"start_and_wait_{mode}_timeout")
    assert result.states == {"start": "failed"}
    pid = result.xcom("start", "progress")["id"]
    after = canvas.progress_json(pid)
    assert after["workflow_state"] == "failed"
    assert after["message"].startswith(f"Cancelled by Airflow (dag start_and_wait_{mode}_timeout, task start, run ")
    assert after["message"].endswith("the wait timed out")


@pytest.mark.parametrize("mode", MODES)
def test_wait_timeout_is_not_retried(canvas: CanvasSimulator, events: list[Any], mode: str) -> None:
    canvas.script_next_job(JobScript.never_ending(running_for=0.2))
    run(f"start_and_wait_{mode}_timeout")
    assert kinds(events) == ["failed"]
    assert len(calls_to(canvas, COURSE_BATCH_PATH, "PUT")) == 1


def test_validation_error_from_canvas_fails_the_task_without_retry(canvas: CanvasSimulator, events: list[Any]) -> None:
    result = run("start_job", data={"event": "archive", "course_ids[]": [1]})
    assert result.states == {"start": "failed"}
    assert [r.status for r in calls_to(canvas, COURSE_BATCH_PATH, "PUT")] == [400]
    assert kinds(events) == ["failed"]
    assert "invalid event" in events[0].text


def test_job_start_answered_502_is_not_resent_by_the_hook(canvas: CanvasSimulator, events: list[Any]) -> None:
    canvas.inject(Fault.html(502), times=1, path=rf"^{COURSE_BATCH_PATH}$", method="PUT")
    result = run("start_job")
    # One PUT per try: the 502'd one was not repeated inside the try (it may have started a job);
    # the Airflow retry then started the job afresh.
    assert kinds(events) == ["retry"]
    assert [r.status for r in calls_to(canvas, COURSE_BATCH_PATH, "PUT")] == [502, 200]
    assert result.states == {"start": "success"}


# -- CanvasCourseBatchUpdateOperator -----------------------------------------------------------


def test_course_batch_sends_event_and_course_ids_as_canvas_form_fields(canvas: CanvasSimulator) -> None:
    result = run("course_batch", account_id="1", course_ids=[3, "sis_course_id:MATH-101"], event="conclude")
    assert result.states == {"batch": "success"}
    (started,) = calls_to(canvas, COURSE_BATCH_PATH, "PUT")
    assert form(started) == [("event", "conclude"), ("course_ids[]", "3"), ("course_ids[]", "sis_course_id:MATH-101")]
    assert result.xcom("batch")["tag"] == "course_batch_update"


def test_course_batch_job_can_be_cancelled_by_its_starter(canvas: CanvasSimulator) -> None:
    canvas.script_next_job(JobScript.never_ending(running_for=0.2))
    pid = run("course_batch").xcom("batch")["id"]
    result = run("cancel_if_finished_fail", progress_id=pid)
    assert result.states == {"cancel": "success"}
    assert canvas.progress_json(pid)["message"] == default_message("cancel_if_finished_fail", result)


BAD_BATCHES = {
    "unknown event": ({"event": "archive"}, "event='archive'"),
    "non-numeric id": ({"course_ids": [1, "MATH-101"]}, "course_ids contains 'MATH-101'"),
    "empty ids": ({"course_ids": []}, "course_ids is empty"),
    "too many ids": ({"course_ids": list(range(1, 502))}, "course_ids has 501 ids"),
}


@pytest.mark.parametrize("case", BAD_BATCHES)
def test_templated_course_batch_arguments_are_validated_before_anything_is_sent(
    canvas: CanvasSimulator, events: list[Any], case: str
) -> None:
    conf, named = BAD_BATCHES[case]
    result = run("course_batch", **conf)
    assert result.states == {"batch": "failed"}
    assert named in events[-1].text
    assert api_calls(canvas) == []


def test_invalid_templated_course_batch_argument_is_not_retried(canvas: CanvasSimulator, events: list[Any]) -> None:
    run("course_batch", event="archive")
    assert kinds(events) == ["failed"]


# -- CanvasBulkGradeUpdateOperator -------------------------------------------------------------

GRADES = {"101": {"posted_grade": "A"}, "102": {"posted_grade": "88"}}


def test_bulk_grades_for_one_assignment_post_grade_data_per_student(canvas: CanvasSimulator) -> None:
    result = run("bulk_grades", course_id="1", assignment_id="7", grade_data=GRADES)
    assert result.states == {"grades": "success"}
    (started,) = calls_to(canvas, "/api/v1/courses/1/assignments/7/submissions/update_grades", "POST")
    assert form(started) == [("grade_data[101][posted_grade]", "A"), ("grade_data[102][posted_grade]", "88")]
    assert result.xcom("grades")["tag"] == "submissions_update"


def test_bulk_grades_course_wide_post_grade_data_per_assignment_and_student(canvas: CanvasSimulator) -> None:
    result = run("bulk_grades", course_id="1", grade_data={"7": {"101": {"posted_grade": "B"}}})
    assert result.states == {"grades": "success"}
    (started,) = calls_to(canvas, "/api/v1/courses/1/submissions/update_grades", "POST")
    assert form(started) == [("grade_data[7][101][posted_grade]", "B")]


def test_bulk_grades_through_a_section_use_the_section_endpoint(canvas: CanvasSimulator) -> None:
    result = run("bulk_grades", course_id="1", section_id="5", grade_data={"7": {"101": {"posted_grade": "C"}}})
    assert result.states == {"grades": "success"}
    (started,) = calls_to(canvas, "/api/v1/sections/5/submissions/update_grades", "POST")
    assert form(started) == [("grade_data[7][101][posted_grade]", "C")]


def test_bulk_grades_for_an_assignment_through_a_section_use_that_endpoint(canvas: CanvasSimulator) -> None:
    run("bulk_grades", course_id="1", section_id="5", assignment_id="7", grade_data=GRADES)
    (sent,) = calls_to(canvas, "/api/v1/sections/5/assignments/7/submissions/update_grades", "POST")
    assert form(sent) == [("grade_data[101][posted_grade]", "A"), ("grade_data[102][posted_grade]", "88")]


def test_bulk_grades_for_an_assignment_through_a_section_start_a_job(canvas: CanvasSimulator) -> None:
    result = run("bulk_grades", course_id="1", section_id="5", assignment_id="7", grade_data=GRADES)
    assert result.states == {"grades": "success"}


@pytest.mark.parametrize("grade_data", [{}, "A"], ids=["empty", "not a dict"])
def test_templated_grade_data_is_validated_before_anything_is_sent(
    canvas: CanvasSimulator, events: list[Any], grade_data: Any
) -> None:
    result = run("bulk_grades", grade_data=grade_data)
    assert result.states == {"grades": "failed"}
    assert "grade_data must be a non-empty dict" in events[-1].text
    assert api_calls(canvas) == []
