"""Path and query injection: ids that users (and their rendered templates) give are pasted into
Canvas API paths only in the forms Canvas accepts, each as one segment, so ``"1/../../users/self"``
cannot reach another endpoint and ``"1?as_user_id=5"`` cannot masquerade with the connection's
token. Refused ids are refused before a single byte is sent."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest

from airflow_provider_canvas_progress.compat import AirflowFailException
from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError, CanvasError
from airflow_provider_canvas_progress.operators.jobs import (
    CanvasBulkGradeUpdateOperator,
    CanvasCourseBatchUpdateOperator,
)
from airflow_provider_canvas_progress.operators.progress import CancelProgressOperator
from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor
from tests.reliability.conftest import Connect
from tests.reliability.hostile import FakeTI, HostileServer, failure_of, json_answer, progress_json

#: Ids that must never reach a path: traversal, query, fragment, parameters, blanks, signs, look-alikes.
HOSTILE_IDS = [
    "1/../../users/self",
    "1?as_user_id=5",
    "1#fragment",
    "1/",
    "../1",
    "1%2F..%2F..%2Fusers%2Fself",
    "1%3Fas_user_id=5",
    "1;as_user_id=5",
    "1&as_user_id=5",
    "1\r\nX-Injected: yes",
    "1 2",
    "-1",
    "0",
    "1.5",
    "1e3",
    "\uff11\uff12",  # full-width digits: str.isdigit() says yes, Canvas says no
    "sis_user_id:5",  # an SIS form, but not one Canvas accepts for an account
    "{{ params.account_id }}",  # a template that was never rendered
    "9" * 5000,
]


def refused_before_sending(error: BaseException | None, server: HostileServer) -> None:
    assert isinstance(error, (AirflowFailException, CanvasConfigurationError)), f"{type(error).__name__}: {error}"
    assert len(str(error)) <= 2000
    assert server.requests == []


def no_masquerade(server: HostileServer) -> None:
    for seen in server.requests:
        assert "as_user_id" not in {name for name, _ in parse_qsl(seen.query)}, seen.target


@pytest.fixture
def answering(server: HostileServer, connect: Connect) -> HostileServer:
    """The hostile server answering every call with a completed Progress, and a connection to it."""
    server.on(r".", json_answer(progress_json(5)))
    connect()
    return server


def batch(account_id: Any) -> CanvasCourseBatchUpdateOperator:
    return CanvasCourseBatchUpdateOperator(task_id="batch", account_id=account_id, course_ids=[1, 2], event="offer")


# -- account ids in the course batch update ---------------------------------------------------------------


@pytest.mark.parametrize("account_id", HOSTILE_IDS, ids=[repr(v)[:40] for v in HOSTILE_IDS])
def test_a_hostile_account_id_is_refused_before_anything_is_sent(answering: HostileServer, account_id: str) -> None:
    error, _ = failure_of(lambda: batch(account_id).execute({"ti": FakeTI()}))

    refused_before_sending(error, answering)


def test_a_template_rendering_to_a_traversal_is_refused_after_rendering(answering: HostileServer) -> None:
    task = batch("{{ params.account_id }}")
    task.render_template_fields({"params": {"account_id": "1/../../users/self"}})  # type: ignore[arg-type]

    error, _ = failure_of(lambda: task.execute({"ti": FakeTI()}))

    refused_before_sending(error, answering)


@pytest.mark.parametrize("account_id", [1, "1", " 7 ", "10000000000001", "1~7"])
def test_ordinary_account_ids_reach_exactly_the_batch_endpoint(answering: HostileServer, account_id: Any) -> None:
    batch(account_id).execute({"ti": FakeTI()})

    (seen,) = answering.requests
    assert re.fullmatch(r"/api/v1/accounts/[0-9~]+/courses", seen.path)


@pytest.mark.parametrize("value", ["A/../../users/self", "x?as_user_id=5", "a#b", "%2e%2e"])
def test_an_sis_account_id_is_sent_as_one_escaped_segment(answering: HostileServer, value: str) -> None:
    error, _ = failure_of(lambda: batch(f"sis_account_id:{value}").execute({"ti": FakeTI()}))

    if error is not None:  # refusing an odd SIS id is as safe as escaping it
        refused_before_sending(error, answering)
        return
    (seen,) = answering.requests
    segments = seen.path.split("/")
    assert segments[:4] == ["", "api", "v1", "accounts"]
    assert segments[5:] == ["courses"]
    assert unquote(segments[4]) == f"sis_account_id:{value}"
    no_masquerade(answering)


# -- course, assignment and section ids in bulk grading ---------------------------------------------------


@pytest.mark.parametrize(
    "ids",
    [
        {"course_id": "1/../../users/self"},
        {"course_id": "1?as_user_id=5"},
        {"course_id": 1, "assignment_id": "2/../../../../users/self"},
        {"course_id": 1, "assignment_id": "2?as_user_id=5"},
        {"course_id": 1, "section_id": "../3"},
        {"course_id": 1, "section_id": "3#x"},
    ],
    ids=lambda ids: ",".join(f"{k}={v}" for k, v in ids.items()),
)
def test_hostile_ids_in_bulk_grading_are_refused_before_anything_is_sent(
    answering: HostileServer, ids: dict[str, Any]
) -> None:
    task = CanvasBulkGradeUpdateOperator(task_id="grades", grade_data={"5": {"posted_grade": "A"}}, **ids)

    error, _ = failure_of(lambda: task.execute({"ti": FakeTI()}))

    refused_before_sending(error, answering)


def test_bulk_grading_with_ordinary_ids_reaches_the_assignment_endpoint(answering: HostileServer) -> None:
    task = CanvasBulkGradeUpdateOperator(
        task_id="grades", course_id=3, assignment_id="4", grade_data={"5": {"posted_grade": "A"}}
    )

    task.execute({"ti": FakeTI()})

    (seen,) = answering.requests
    assert seen.path == "/api/v1/courses/3/assignments/4/submissions/update_grades"


# -- Progress and LTI course ids --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lti_course_id", ["7/../../../api/v1/users/self", "7?as_user_id=5", "7#x", "", "seven", "9" * 5000]
)
def test_a_hostile_lti_course_id_is_refused_before_anything_is_sent(
    server: HostileServer, connect: Connect, lti_course_id: str
) -> None:
    error, _ = failure_of(lambda: connect().get_progress(5, lti_course_id=lti_course_id))

    assert isinstance(error, CanvasError)
    assert len(str(error)) <= 2000
    assert server.requests == []


@pytest.mark.parametrize("progress_id", ["5?as_user_id=1", "5/../../users/self", "5%2F..", "5/cancel"])
def test_a_hostile_progress_id_given_to_the_sensor_is_refused_before_anything_is_sent(
    answering: HostileServer, progress_id: str
) -> None:
    error, _ = failure_of(lambda: CanvasProgressSensor(task_id="wait", progress_id=progress_id).poke({"ti": FakeTI()}))

    refused_before_sending(error, answering)


def test_a_hostile_progress_id_given_to_the_cancel_operator_is_refused_before_anything_is_sent(
    answering: HostileServer,
) -> None:
    task = CancelProgressOperator(task_id="cancel", progress_id="5/../../../accounts/1/courses?event=delete")

    error, _ = failure_of(lambda: task.execute({"ti": FakeTI()}))

    refused_before_sending(error, answering)


def test_the_query_of_a_progress_url_is_not_sent(answering: HostileServer) -> None:
    url = f"{answering.base_url}/api/v1/progress/5?as_user_id=9&include[]=x"

    CanvasProgressSensor(task_id="wait", progress_id=url).poke({"ti": FakeTI()})

    (seen,) = answering.requests
    assert seen.target == "/api/v1/progress/5"


def test_a_progress_url_with_a_masquerade_query_in_a_job_answer_is_followed_without_it(
    server: HostileServer, connect: Connect
) -> None:
    hook = connect()
    server.on(r"^/api/v1/progress/", json_answer(progress_json(8, "queued")))
    answer = {"id": 3, "progress_url": f"{server.base_url}/api/v1/progress/8?as_user_id=1"}
    server.on(r"^/api/v1/courses/1/content_migrations", json_answer(answer))

    progress = hook.start_job("POST", "courses/1/content_migrations", data={"migration_type": "x"})

    assert progress.id == "8"
    no_masquerade(server)
