"""Ids rendered into the job-starting operators' paths: only Canvas's id forms, refused otherwise
before anything is sent, and not retried (the same value would be refused again)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator
from tests.airflow.test_operators import api_calls, dags_module, kinds, run


@pytest.fixture
def events() -> Iterator[list[Any]]:
    """The failures and retries the DAGs' tasks record, fresh for each test."""
    recorded: list[Any] = dags_module().TASK_EVENTS
    recorded.clear()
    yield recorded
    recorded.clear()


HOSTILE = ["1/../../users/self", "1?as_user_id=5", "1#frag", "self", "1%2F..%2Fusers"]


@pytest.mark.parametrize("account_id", HOSTILE)
def test_a_hostile_account_id_fails_the_course_batch_without_sending_anything(
    canvas: CanvasSimulator, events: list[Any], account_id: str
) -> None:
    result = run("course_batch", account_id=account_id)
    assert result.states == {"batch": "failed"}
    assert "account_id" in events[-1].text
    assert kinds(events) == ["failed"]
    assert api_calls(canvas) == []


@pytest.mark.parametrize("field", ["course_id", "assignment_id", "section_id"])
def test_a_hostile_bulk_grade_id_fails_without_sending_anything(
    canvas: CanvasSimulator, events: list[Any], field: str
) -> None:
    result = run("bulk_grades", **{field: "1/../../users/self"})
    assert result.states == {"grades": "failed"}
    assert field in events[-1].text
    assert api_calls(canvas) == []
