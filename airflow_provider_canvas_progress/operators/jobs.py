"""Old home of :mod:`airflow_provider_canvas_progress.operators.start_job` (operators that start a
Canvas job), re-exported so users' DAGs keep importing from here."""

from __future__ import annotations

from airflow_provider_canvas_progress.operators.start_job import (
    COURSE_BATCH_LIMIT,
    COURSE_EVENTS,
    DEFAULT_TIMEOUT,
    CanvasBulkGradeUpdateOperator,
    CanvasCourseBatchUpdateOperator,
    CanvasStartJobOperator,
)

__all__ = [
    "COURSE_BATCH_LIMIT",
    "COURSE_EVENTS",
    "DEFAULT_TIMEOUT",
    "CanvasBulkGradeUpdateOperator",
    "CanvasCourseBatchUpdateOperator",
    "CanvasStartJobOperator",
]
