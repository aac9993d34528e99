"""The Canvas errors, re-exported from :mod:`airflow_provider_canvas_progress.exceptions`.

Kept so that imports written before the tree moved keep working; new code imports from
``airflow_provider_canvas_progress.exceptions``.
"""

from __future__ import annotations

from airflow_provider_canvas_progress.exceptions import (
    CanvasAuthError,
    CanvasConfigurationError,
    CanvasConnectError,
    CanvasError,
    CanvasHTTPError,
    CanvasNotFoundError,
    CanvasPermissionError,
    CanvasProgressCancelledError,
    CanvasProgressError,
    CanvasProgressFailedError,
    CanvasProgressTimeoutError,
    CanvasResponseError,
    CanvasResponseTooLargeError,
    CanvasServerError,
    CanvasThrottledError,
    CanvasTokenExpiredError,
    CanvasTransportError,
    CanvasUnknownStateError,
    CanvasUnreadableResponseError,
    CanvasValidationError,
    ForeignHostError,
    InvalidProgressIdError,
)

__all__ = [
    "CanvasAuthError",
    "CanvasConfigurationError",
    "CanvasConnectError",
    "CanvasError",
    "CanvasHTTPError",
    "CanvasNotFoundError",
    "CanvasPermissionError",
    "CanvasProgressCancelledError",
    "CanvasProgressError",
    "CanvasProgressFailedError",
    "CanvasProgressTimeoutError",
    "CanvasResponseError",
    "CanvasResponseTooLargeError",
    "CanvasServerError",
    "CanvasThrottledError",
    "CanvasTokenExpiredError",
    "CanvasTransportError",
    "CanvasUnknownStateError",
    "CanvasUnreadableResponseError",
    "CanvasValidationError",
    "ForeignHostError",
    "InvalidProgressIdError",
]
