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


def test_a_sensor_backing_off_to_max_wait_zero_is_refused_at_parse_time() -> None:
    from airflow_provider_canvas_progress.exceptions import CanvasConfigurationError
    from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor

    with pytest.raises(CanvasConfigurationError, match="max_wait"):
        CanvasProgressSensor(task_id="wait", progress_id=1, exponential_backoff=True, max_wait=0)


@pytest.mark.parametrize("interval", [0, -5, float("inf"), 1e300])
def test_out_of_range_poll_intervals_are_refused_at_parse_time_naming_the_parameter(interval: float) -> None:
    from airflow_provider_canvas_progress.exceptions import CanvasConfigurationError
    from airflow_provider_canvas_progress.operators.start_job import CanvasStartJobOperator

    with pytest.raises(CanvasConfigurationError, match="poll_interval"):
        CanvasStartJobOperator(task_id="start", endpoint="/api/v1/accounts/1/courses", poll_interval=interval)
