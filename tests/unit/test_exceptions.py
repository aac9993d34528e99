"""One exceptions module holds the tree; the old import paths and the core's purity survive."""

from __future__ import annotations

import pickle
import subprocess
import sys

from airflow_provider_canvas_progress import exceptions
from airflow_provider_canvas_progress.core import auth, errors, events


def test_the_old_homes_re_export_the_same_classes() -> None:
    assert errors.CanvasError is exceptions.CanvasError
    assert errors.CanvasThrottledError is exceptions.CanvasThrottledError
    assert auth.CanvasCredentialsError is exceptions.CanvasCredentialsError
    assert auth.CanvasTokenUnavailableError is exceptions.CanvasTokenUnavailableError
    assert events.TriggerEventError is exceptions.TriggerEventError


def test_the_task_failures_are_airflow_and_canvas_exceptions_at_once() -> None:
    from airflow_provider_canvas_progress.compat import AirflowFailException, AirflowSensorTimeout
    from airflow_provider_canvas_progress.waiting import CanvasJobFailed, CanvasWaitTimeout

    assert CanvasJobFailed is exceptions.CanvasJobFailed
    assert issubclass(CanvasJobFailed, AirflowFailException)
    assert issubclass(CanvasJobFailed, exceptions.CanvasProgressFailedError)
    assert issubclass(CanvasWaitTimeout, AirflowSensorTimeout)


def test_a_task_failure_survives_pickling_with_its_fields() -> None:
    error = exceptions.CanvasJobCancelled("cancelled", progress_id="5", canvas_message="Cancelled by Airflow")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is exceptions.CanvasJobCancelled
    assert (copy.progress_id, copy.canvas_message) == ("5", "Cancelled by Airflow")


def test_the_core_and_the_canvas_errors_import_no_airflow() -> None:
    code = (
        "import sys, airflow_provider_canvas_progress.exceptions, airflow_provider_canvas_progress.core.events, "
        "airflow_provider_canvas_progress.core.kinds.progress, airflow_provider_canvas_progress.core.budget, "
        "airflow_provider_canvas_progress.core.paths; print('airflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=None)
    assert out.stdout.strip() == "False"
