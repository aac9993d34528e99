"""GET /api/lti/courses/:course_id/progress/:id with an LTI Advantage token."""

from __future__ import annotations

import pytest

from airflow_provider_canvas_progress.testing import LTI_PROGRESS_SCOPE, CanvasSimulator, JobScript

from .simclient import Api


@pytest.fixture
def lti_token(sim: CanvasSimulator) -> str:
    return sim.add_token(kind="lti", scopes=[LTI_PROGRESS_SCOPE])


@pytest.fixture
def assignment_progress(sim: CanvasSimulator) -> str:
    sim.add_assignment(30, course_id=3)
    return sim.create_progress(tag="submissions_update", context_type="Assignment", context_id=30, user_id=None)


def lti_error(response, status: int, kind: str, message: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.json() == {"errors": {"type": kind, "message": message}}


def test_lti_progress_is_served_with_the_lti_url(
    sim: CanvasSimulator, api: Api, lti_token: str, assignment_progress: str
) -> None:
    response = api.get(f"/api/lti/courses/3/progress/{assignment_progress}", token=lti_token)
    assert response.status_code == 200
    assert response.json()["url"] == f"{sim.base_url}/api/lti/courses/3/progress/{assignment_progress}"


def test_lti_progress_has_the_progress_fields(api: Api, lti_token: str, assignment_progress: str) -> None:
    body = api.get(f"/api/lti/courses/3/progress/{assignment_progress}", token=lti_token).json()
    assert (body["context_type"], body["context_id"], body["workflow_state"]) == ("Assignment", 30, "queued")


def test_lti_progress_serves_results_once_terminal(sim: CanvasSimulator, api: Api, lti_token: str) -> None:
    sim.add_assignment(31, course_id=3)
    pid = sim.create_progress(context_type="Assignment", context_id=31, script=JobScript.instant(results={"id": 1}))
    assert api.get(f"/api/lti/courses/3/progress/{pid}", token=lti_token).json()["results"] == {"id": 1}


def test_user_token_on_lti_endpoint_is_refused_as_malformed(api: Api, assignment_progress: str) -> None:
    response = api.get(f"/api/lti/courses/3/progress/{assignment_progress}")
    lti_error(response, 401, "unauthorized", "Invalid access token format")


def test_lti_endpoint_without_token_is_missing_access_token(api: Api, assignment_progress: str) -> None:
    lti_error(
        api.get(f"/api/lti/courses/3/progress/{assignment_progress}", token=None),
        401,
        "unauthorized",
        "Missing access token",
    )


def test_lti_token_without_progress_scope_is_insufficient_permissions(
    sim: CanvasSimulator, api: Api, assignment_progress: str
) -> None:
    token = sim.add_token(kind="lti", scopes=["https://purl.imsglobal.org/spec/lti-ags/scope/score"])
    response = api.get(f"/api/lti/courses/3/progress/{assignment_progress}", token=token)
    lti_error(response, 401, "unauthorized", "Insufficient permissions")


def test_expired_lti_token_is_refused(sim: CanvasSimulator, api: Api, assignment_progress: str) -> None:
    token = sim.add_token(kind="lti", state="expired", scopes=[LTI_PROGRESS_SCOPE])
    response = api.get(f"/api/lti/courses/3/progress/{assignment_progress}", token=token)
    lti_error(response, 401, "unauthorized", "Access token expired")


def test_lti_progress_in_unknown_course_is_404(api: Api, lti_token: str, assignment_progress: str) -> None:
    response = api.get(f"/api/lti/courses/999/progress/{assignment_progress}", token=lti_token)
    assert response.status_code == 404


def test_unknown_lti_progress_is_404(api: Api, lti_token: str) -> None:
    assert api.get("/api/lti/courses/3/progress/777", token=lti_token).status_code == 404


def test_lti_progress_of_an_assignment_in_another_course_is_refused(
    api: Api, lti_token: str, assignment_progress: str
) -> None:
    response = api.get(f"/api/lti/courses/4/progress/{assignment_progress}", token=lti_token)
    lti_error(
        response, 422, "unprocessable_entity", "Progress associated with Assignment that isn't linked to this Tool"
    )


def test_lti_progress_not_of_an_assignment_is_forbidden(sim: CanvasSimulator, api: Api, lti_token: str) -> None:
    pid = sim.create_progress(context_type="Course", context_id=3)
    response = api.get(f"/api/lti/courses/3/progress/{pid}", token=lti_token)
    lti_error(
        response, 403, "forbidden", "Tool does not have permission to view a Progress not associated with an Assignment"
    )


def test_lti_tool_not_installed_in_the_course_is_refused(
    sim: CanvasSimulator, api: Api, assignment_progress: str
) -> None:
    token = sim.add_token(kind="lti", scopes=[LTI_PROGRESS_SCOPE], contexts=[("Course", 4)])
    response = api.get(f"/api/lti/courses/3/progress/{assignment_progress}", token=token)
    lti_error(response, 401, "unauthorized", "Access Token not linked to a Tool associated with this Context")


def test_lti_endpoint_has_no_cancel(api: Api, lti_token: str, assignment_progress: str) -> None:
    assert api.post(f"/api/lti/courses/3/progress/{assignment_progress}/cancel", token=lti_token).status_code == 404
