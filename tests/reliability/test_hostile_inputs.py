"""Hostile DAG arguments and stored trigger kwargs: bad input gets a clear, typed error before
anything is sent -- never a ``RecursionError`` from a nested argument, an ``OverflowError`` from an
infinite timeout, or a ``ValueError`` from a 5,000-digit number."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_provider_canvas_progress.compat import AirflowFailException
from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError, CanvasError
from airflow_provider_canvas_progress.core.events import WaitStatus
from airflow_provider_canvas_progress.operators.jobs import (
    CanvasBulkGradeUpdateOperator,
    CanvasCourseBatchUpdateOperator,
    CanvasStartJobOperator,
)
from airflow_provider_canvas_progress.triggers.progress import CanvasProgressTrigger
from tests.reliability.conftest import Connect
from tests.reliability.hostile import FakeTI, HostileServer, failure_of, json_answer, progress_json, waiting_job

TYPED = (CanvasError, AirflowFailException)


def refused_before_sending(error: BaseException | None, server: HostileServer) -> None:
    assert isinstance(error, TYPED), f"{type(error).__name__}: {error!s:.300}"
    assert len(str(error)) <= 2000
    assert server.requests == []


@pytest.fixture
def answering(server: HostileServer, connect: Connect) -> HostileServer:
    server.on(r".", json_answer(progress_json(5, "queued")))
    connect()
    return server


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"posted_grade": "A"}
    for level in range(depth):
        value = {str(level): value}
    return value


# -- arguments an operator pastes into a request ---------------------------------------------------------


def test_grade_data_nested_ten_thousand_deep_is_refused_before_anything_is_sent(answering: HostileServer) -> None:
    def parse_and_run() -> None:  # refused when the DAG is parsed, or when the task runs
        task = CanvasBulkGradeUpdateOperator(task_id="grades", course_id=1, grade_data=nested(10_000))
        task.execute({"ti": FakeTI()})

    error, _ = failure_of(parse_and_run)

    refused_before_sending(error, answering)


def test_query_parameters_nested_ten_thousand_deep_are_refused_before_anything_is_sent(
    answering: HostileServer, connect: Connect
) -> None:
    error, _ = failure_of(lambda: connect().request("GET", "courses", params=nested(10_000)))

    refused_before_sending(error, answering)


def test_a_five_thousand_digit_number_in_form_data_is_refused_before_anything_is_sent(
    answering: HostileServer,
) -> None:
    task = CanvasStartJobOperator(task_id="start", endpoint="/api/v1/accounts/1/courses", data={"n": 10**5000})

    error, _ = failure_of(lambda: task.execute({"ti": FakeTI()}))

    refused_before_sending(error, answering)


def test_a_five_thousand_digit_course_id_is_refused_before_anything_is_sent(answering: HostileServer) -> None:
    error, _ = failure_of(
        lambda: CanvasCourseBatchUpdateOperator(
            task_id="batch", account_id=1, course_ids=[10**5000], event="offer"
        ).execute({"ti": FakeTI()})
    )

    refused_before_sending(error, answering)


@pytest.mark.parametrize("endpoint", ["courses/1\r\nX-Injected: yes", "courses/1\x00", "courses/1\nX-Injected: yes"])
def test_an_endpoint_with_control_characters_is_refused_before_anything_is_sent(
    answering: HostileServer, connect: Connect, endpoint: str
) -> None:
    error, _ = failure_of(lambda: connect().request("GET", endpoint))

    refused_before_sending(error, answering)


@pytest.mark.parametrize("method", ["GET\r\nX-Injected: yes", "POST X-Injected: yes"])
def test_a_method_with_a_line_break_is_refused_before_anything_is_sent(
    answering: HostileServer, connect: Connect, method: str
) -> None:
    error, _ = failure_of(lambda: connect().request(method, "courses"))

    refused_before_sending(error, answering)


@pytest.mark.parametrize(
    "progress_id", [math.nan, math.inf, b"5", {5}, 10**5000], ids=["nan", "inf", "bytes", "set", "10**5000"]
)
def test_a_progress_id_of_an_odd_type_is_refused_with_a_typed_error(
    answering: HostileServer, connect: Connect, progress_id: object
) -> None:
    error, _ = failure_of(lambda: connect().get_progress(progress_id))

    refused_before_sending(error, answering)


# -- timeouts that cannot be turned into a deadline ---------------------------------------------------------


@pytest.mark.parametrize("timeout", [math.inf, 1e300, -1.0, math.nan])
def test_a_wait_timeout_that_is_no_deadline_is_refused_at_parse_time_or_defers_without_overflowing(
    answering: HostileServer, timeout: float
) -> None:
    task = waiting_job(deferrable=True, timeout=timeout)
    if isinstance(task, Exception):
        assert isinstance(task, CanvasConfigurationError)
        return

    error, _ = failure_of(lambda: task.execute({"ti": FakeTI()}))

    assert isinstance(error, (TaskDeferred, *TYPED)), f"{type(error).__name__}: {error!s:.300}"


# -- trigger kwargs read back from the database ----------------------------------------------------------


async def first_event(trigger: CanvasProgressTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"progress_id": "5/../../users/self"},
        {"progress_id": "5?as_user_id=1"},
        {"progress_id": "5", "lti_course_id": "7/../../x"},
        {"progress_id": "5", "deadline": "tomorrow"},
        {"progress_id": "5", "poll_interval": "fast"},
        {"progress_id": "5", "max_consecutive_failures": "many"},
        {"progress_id": "5", "deadline": math.nan},
    ],
    ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()),
)
def test_garbled_trigger_kwargs_end_in_a_typed_refusal_or_an_error_event_and_nothing_is_sent(
    answering: HostileServer, kwargs: dict[str, Any]
) -> None:
    started = time.monotonic()
    payloads: list[dict[str, Any]] = []

    def build_and_run() -> None:
        payloads.append(asyncio.run(first_event(CanvasProgressTrigger(**kwargs))))

    error, _ = failure_of(build_and_run)

    if error is not None:
        assert isinstance(error, CanvasError), f"{type(error).__name__}: {error}"
    else:
        assert payloads[0]["status"] == WaitStatus.ERROR.value
    assert time.monotonic() - started < 10
    assert answering.requests == []
