"""Bad operator arguments are refused when the DAG is parsed, naming the parameter.

Nothing here talks to Canvas: building the operator (as a DAG file does) is the whole test. The
same checks on templated values happen at run time (``test_operators.py``).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pendulum
import pytest
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.operators.jobs import (
    CanvasBulkGradeUpdateOperator,
    CanvasCourseBatchUpdateOperator,
    CanvasStartJobOperator,
)
from airflow_provider_canvas_progress.operators.progress import CancelProgressOperator, CanvasProgressBranchOperator
from tests.conftest import DAGS


@pytest.fixture
def dag() -> Any:
    with DAG("parsing", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
        yield dag


def batch(**kwargs: Any) -> CanvasCourseBatchUpdateOperator:
    return CanvasCourseBatchUpdateOperator(**{"task_id": "batch", "account_id": 1, "event": "offer", **kwargs})


# -- CanvasCourseBatchUpdateOperator -----------------------------------------------------------


def test_unknown_course_event_is_refused_naming_event(dag: Any) -> None:
    with pytest.raises(CanvasConfigurationError, match=r"batch: event='archive'; .*offer, conclude, delete, undelete"):
        batch(course_ids=[1], event="archive")


def test_more_than_500_course_ids_are_refused_naming_course_ids(dag: Any) -> None:
    with pytest.raises(CanvasConfigurationError, match=r"batch: course_ids has 501 ids; .*at most 500"):
        batch(course_ids=list(range(1, 502)))


def test_500_course_ids_are_accepted(dag: Any) -> None:
    batch(course_ids=list(range(1, 501)))


def test_empty_course_ids_are_refused_naming_course_ids(dag: Any) -> None:
    with pytest.raises(CanvasConfigurationError, match=r"batch: course_ids is empty"):
        batch(course_ids=[])


@pytest.mark.parametrize("bad", ["MATH-101", "", "0", "-3", "sis_course_id:", True, 1.5])
def test_course_id_that_is_neither_an_id_nor_an_sis_reference_is_refused(dag: Any, bad: Any) -> None:
    with pytest.raises(CanvasConfigurationError, match=r"batch: course_ids contains .* not a course id"):
        batch(course_ids=[1, bad])


def test_course_ids_that_are_not_a_list_are_refused_naming_course_ids(dag: Any) -> None:
    with pytest.raises(CanvasConfigurationError, match=r"batch: course_ids must be a list"):
        batch(course_ids={"id": 1})


@pytest.mark.parametrize("ids", [[1, "2", " 3 "], ["sis_course_id:MATH-101"], [10000000000123], 42, "[1, 2]"], ids=repr)
def test_course_ids_and_sis_references_are_accepted(dag: Any, ids: Any) -> None:
    batch(course_ids=ids)


def test_templated_course_batch_arguments_are_left_for_run_time(dag: Any) -> None:
    batch(course_ids="{{ params.course_ids }}", event="{{ params.event }}")


# -- CanvasBulkGradeUpdateOperator -------------------------------------------------------------


@pytest.mark.parametrize("grade_data", [{}, [], "A", None], ids=repr)
def test_grade_data_that_is_not_a_non_empty_dict_is_refused_naming_grade_data(dag: Any, grade_data: Any) -> None:
    with pytest.raises(CanvasConfigurationError, match=r"grades: grade_data must be a non-empty dict"):
        CanvasBulkGradeUpdateOperator(task_id="grades", course_id=1, grade_data=grade_data)


def test_templated_grade_data_is_left_for_run_time(dag: Any) -> None:
    CanvasBulkGradeUpdateOperator(task_id="grades", course_id=1, grade_data="{{ params.grade_data }}")


# -- CanvasStartJobOperator --------------------------------------------------------------------


def test_start_job_refuses_both_data_and_json(dag: Any) -> None:
    with pytest.raises(ValueError, match=r"start: give either data .* or json, not both"):
        CanvasStartJobOperator(task_id="start", endpoint="/api/v1/x", data={"a": 1}, json={"b": 2})


def test_start_job_refuses_an_unknown_fail_on_outcome(dag: Any) -> None:
    with pytest.raises(CanvasConfigurationError, match=r"fail_on contains \['pending'\]"):
        CanvasStartJobOperator(task_id="start", endpoint="/api/v1/x", fail_on=["pending"])


@pytest.mark.parametrize(("kwargs", "named"), [({"poll_interval": 0}, "poll_interval"), ({"timeout": 0}, "timeout")])
def test_start_job_refuses_timings_that_cannot_work(dag: Any, kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(CanvasConfigurationError, match=named):
        CanvasStartJobOperator(task_id="start", endpoint="/api/v1/x", **kwargs)


# -- CancelProgressOperator and CanvasProgressBranchOperator -----------------------------------


def test_cancel_refuses_an_unknown_if_finished(dag: Any) -> None:
    with pytest.raises(
        CanvasConfigurationError, match=r"cancel: if_finished must be one of ignore, skip, fail, got 'retry'"
    ):
        CancelProgressOperator(task_id="cancel", progress_id="1", if_finished="retry")


@pytest.mark.parametrize("kwargs", [{}, {"progress": {"id": 1}, "progress_id": "1"}], ids=["neither", "both"])
def test_branch_needs_exactly_one_of_progress_and_progress_id(dag: Any, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"branch: give exactly one of progress .* or progress_id"):
        CanvasProgressBranchOperator(task_id="branch", on_completed="report", **kwargs)


@pytest.mark.parametrize("argument", ["on_completed", "on_failed", "on_cancelled", "on_pending"])
def test_branch_refuses_task_ids_that_are_not_strings(dag: Any, argument: str) -> None:
    with pytest.raises(ValueError, match=rf"{argument} must be a task id or a list of task ids"):
        CanvasProgressBranchOperator(task_id="branch", progress_id="1", **{argument: ["report", ""]})


# -- in a DAG file -----------------------------------------------------------------------------


def _dagbag(folder: Path) -> Any:
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3: examples follow [core] load_examples
    except ImportError:  # Airflow 2
        from airflow.models.dagbag import DagBag

        return DagBag(dag_folder=str(folder), include_examples=False)
    return DagBag(dag_folder=str(folder))


def test_test_dags_import_without_errors() -> None:
    bag = _dagbag(DAGS / "canvas_operator_dags.py")
    assert bag.import_errors == {}
    assert "start_job" in bag.dag_ids


def test_bad_argument_in_a_dag_file_is_an_import_error_naming_the_parameter(tmp_path: Path) -> None:
    (tmp_path / "bad_batch.py").write_text(
        textwrap.dedent(
            """
            import pendulum
            from airflow.providers.common.compat.sdk import DAG
            from airflow_provider_canvas_progress.operators.jobs import CanvasCourseBatchUpdateOperator

            with DAG("bad_batch", schedule=None, start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
                CanvasCourseBatchUpdateOperator(task_id="batch", account_id=1, course_ids=[1], event="archive")
            """
        )
    )
    bag = _dagbag(tmp_path)
    (error,) = bag.import_errors.values()
    assert "batch: event='archive'" in error
