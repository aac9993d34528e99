"""Every plain argument of every operator and sensor is read one way: a wrong kind of value is refused
when the DAG is parsed, with the provider's typed error naming the task and the argument.

Before, several fell through to ``float()`` (``poll_interval="soon"``: a bare ``ValueError``),
Airflow's sensor (``timeout=inf``: ``OverflowError``), or were accepted and misread at run time
(``durable="no"`` is truthy; ``max_consecutive_failures="5"`` failed inside the triggerer;
``fail_on="failed"`` became the letters ``f, a, i, l, e, d``). Building the task is the whole test.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
import pytest
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_canvas_progress.core.arguments import MAX_CONSECUTIVE_FAILURES
from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.operators.jobs import CanvasCourseBatchUpdateOperator, CanvasStartJobOperator
from airflow_provider_canvas_progress.operators.progress import CancelProgressOperator
from airflow_provider_canvas_progress.operators.reports import (
    CanvasAccountReportAbortOperator,
    CanvasAccountReportOperator,
)
from airflow_provider_canvas_progress.operators.sis import CanvasSisImportAbortOperator, CanvasSisImportOperator
from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor
from airflow_provider_canvas_progress.sensors.reports import CanvasAccountReportSensor
from airflow_provider_canvas_progress.sensors.sis import CanvasSisImportSensor

#: Each waiting task with the least it needs; the flag names differ (cancel_* for Progress, abort_* for the others).
WAITING_TASKS: dict[str, tuple[Any, dict[str, Any], str]] = {
    "start_job": (CanvasStartJobOperator, {"endpoint": "/api/v1/x", "wait_for_completion": True}, "cancel"),
    "sis_import": (CanvasSisImportOperator, {"account_id": 1, "sis_data": b"x"}, "abort"),
    "report": (CanvasAccountReportOperator, {"report": "grade_export_csv"}, "abort"),
    "progress_sensor": (CanvasProgressSensor, {"progress_id": 1}, "cancel"),
    "sis_sensor": (CanvasSisImportSensor, {"account_id": 1, "sis_import_id": 2}, "abort"),
    "report_sensor": (
        CanvasAccountReportSensor,
        {"account_id": 1, "report": "grade_export_csv", "report_id": 3},
        "abort",
    ),
}
SENSORS = {"progress_sensor", "sis_sensor", "report_sensor"}
#: A number whose repr Python refuses (past 4,300 digits): messages must still be built.
HUGE = pytest.param(10**5000, id="10**5000")


def in_a_dag(cls: Any, **kwargs: Any) -> Any:
    """Build one task in a DAG of its own, as a DAG file would (each call is a new file)."""
    with DAG("arguments", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
        return cls(task_id="nightly", **kwargs)


def build(name: str, **kwargs: Any) -> Any:
    cls, required, _ = WAITING_TASKS[name]
    return in_a_dag(cls, **{**required, **kwargs})


def interval_name(name: str) -> str:
    return "poke_interval" if name in SENSORS else "poll_interval"


def refused(name: str, argument: str, value: Any) -> str:
    with pytest.raises(CanvasConfigurationError) as raised:
        build(name, **{argument: value})
    return str(raised.value)


@pytest.mark.parametrize("name", WAITING_TASKS)
@pytest.mark.parametrize("value", ["soon", "60", None, True, [60], float("nan"), float("inf"), 10**400, HUGE])
def test_an_interval_that_is_not_a_finite_duration_is_refused_naming_task_and_argument(name: str, value: Any) -> None:
    message = refused(name, interval_name(name), value)

    assert message.startswith("nightly: ")
    assert "poke_interval" in message or "poll_interval" in message


@pytest.mark.parametrize("name", WAITING_TASKS)
@pytest.mark.parametrize("value", ["6h", True, [1], float("inf"), float("nan")])
def test_a_timeout_that_is_not_a_finite_duration_is_refused(name: str, value: Any) -> None:
    assert "nightly: timeout" in refused(name, "timeout", value)


@pytest.mark.parametrize("name", WAITING_TASKS)
@pytest.mark.parametrize("value", ["5", 2.5, True, None, 0, -1, MAX_CONSECUTIVE_FAILURES + 1, 10**9, HUGE])
def test_max_consecutive_failures_is_a_whole_number_within_reason(name: str, value: Any) -> None:
    assert "nightly: max_consecutive_failures must be" in refused(name, "max_consecutive_failures", value)


@pytest.mark.parametrize("name", WAITING_TASKS)
@pytest.mark.parametrize("value", [1, MAX_CONSECUTIVE_FAILURES])
def test_max_consecutive_failures_at_its_bounds_is_kept(name: str, value: Any) -> None:
    assert build(name, max_consecutive_failures=value).max_consecutive_failures == value


@pytest.mark.parametrize("name", WAITING_TASKS)
@pytest.mark.parametrize("suffix", ["on_kill", "on_timeout"])
@pytest.mark.parametrize("value", ["no", "yes", None, 2])
def test_yes_no_arguments_take_a_bool_not_a_truthy_string(name: str, suffix: str, value: Any) -> None:
    argument = f"{WAITING_TASKS[name][2]}_{suffix}"

    assert f"nightly: {argument} must be True or False" in refused(name, argument, value)


@pytest.mark.parametrize("name", WAITING_TASKS)
def test_cancel_on_stall_and_deferrable_take_a_bool(name: str) -> None:
    assert "cancel_on_stall must be True or False" in refused(name, "cancel_on_stall", "no")
    assert "deferrable must be True or False" in refused(name, "deferrable", "no")


@pytest.mark.parametrize("name", ["start_job", "sis_import", "report"])
def test_durable_takes_a_bool(name: str) -> None:
    assert "nightly: durable must be True or False, got 'no'" in refused(name, "durable", "no")
    assert build(name, durable=0).durable is False


@pytest.mark.parametrize("name", WAITING_TASKS)
@pytest.mark.parametrize("value", [None, 5, b"failed", {"failed": True}, HUGE])
def test_fail_on_must_be_a_list_or_one_outcome(name: str, value: Any) -> None:
    assert "nightly: fail_on must be a list of strings (or one string)" in refused(name, "fail_on", value)


@pytest.mark.parametrize("name", WAITING_TASKS)
def test_one_outcome_given_as_a_string_is_a_list_of_it(name: str) -> None:
    assert build(name, fail_on="stalled").fail_on == ["stalled"]  # an outcome of every kind


@pytest.mark.parametrize("name", SENSORS)
@pytest.mark.parametrize(("argument", "value"), [("timeout", -3), ("max_wait", -1), ("exponential_backoff", "no")])
def test_airflow_sensor_arguments_are_refused_by_the_provider_too(name: str, argument: str, value: Any) -> None:
    assert f"nightly: {argument}" in refused(name, argument, value)


@pytest.mark.parametrize("name", WAITING_TASKS)
def test_timedeltas_and_numbers_are_both_durations(name: str) -> None:
    task = build(name, timeout=timedelta(hours=2), **{interval_name(name): timedelta(minutes=2)})
    same = build(name, timeout=7200, **{interval_name(name): 120.0})

    assert getattr(task, "wait_timeout", None) == getattr(same, "wait_timeout", None)
    assert float(getattr(task, "poll_interval", None) or task.poke_interval) == 120.0


@pytest.mark.parametrize("value", ["x", None, float("nan"), 0, 601])
def test_the_sis_upload_timeout_is_a_duration_from_one_second_to_ten_minutes(value: Any) -> None:
    assert "nightly: upload_timeout" in refused("sis_import", "upload_timeout", value)


@pytest.mark.parametrize("name", ["report", "report_sensor"])
def test_report_download_arguments_are_checked(name: str) -> None:
    assert "nightly: download_timeout must be a timedelta or a number" in refused(name, "download_timeout", "1h")
    assert "nightly: extract must be True or False" in refused(name, "extract", "yes")


def test_skip_message_takes_a_bool() -> None:
    assert "nightly: skip_message must be True or False" in refused("report", "skip_message", "no")


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (CancelProgressOperator, {"progress_id": "1"}),
        (CanvasSisImportAbortOperator, {"account_id": 1, "sis_import_id": 2}),
        (CanvasAccountReportAbortOperator, {"account_id": 1, "report": "grade_export_csv", "report_id": 3}),
    ],
)
@pytest.mark.parametrize("value", ["retry", None, ["skip"]])
def test_if_finished_is_one_of_three_words_on_every_cancel_and_abort(
    cls: Any, kwargs: dict[str, Any], value: Any
) -> None:
    with pytest.raises(CanvasConfigurationError, match=r"nightly: if_finished must be one of ignore, skip, fail"):
        in_a_dag(cls, if_finished=value, **kwargs)


def test_abort_every_pending_import_takes_a_bool() -> None:
    with pytest.raises(CanvasConfigurationError, match="nightly: all_pending must be True or False"):
        in_a_dag(CanvasSisImportAbortOperator, account_id=1, all_pending="yes")


@pytest.mark.parametrize(
    ("cls", "kwargs", "named"),
    [
        (
            CanvasSisImportOperator,
            {"account_id": 1, "sis_data": b"x", "change_threshold": 10**5000},
            "change_threshold",
        ),
        (
            CanvasAccountReportOperator,
            {"report": "grade_export_csv", "parameters": {"enrollment_term_id": -(10**5000)}},
            "enrollment_term_id",
        ),
        (CanvasCourseBatchUpdateOperator, {"account_id": 1, "course_ids": [1], "event": 10**5000}, "event"),
    ],
    ids=["SIS option", "report parameter", "course event"],
)
def test_a_number_too_long_to_print_is_still_refused_with_the_typed_error(
    cls: Any, kwargs: dict[str, Any], named: str
) -> None:
    # Python refuses to turn an int of over 4,300 digits into text: the message must not try.
    with pytest.raises(CanvasConfigurationError, match=named):
        in_a_dag(cls, **kwargs)
