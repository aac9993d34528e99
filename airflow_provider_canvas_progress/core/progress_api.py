"""Canvas's Progress endpoints with no I/O: which request reads or cancels a Progress, and which answer fits.

``GET /api/v1/progress/:id``, ``GET /api/lti/courses/:course_id/progress/:id`` and
``POST /api/v1/progress/:id/cancel`` (Canvas's ``app/controllers/progress_controller.rb`` and
``lti/ims/progress_controller.rb``; see ``docs/canvas-behaviour.md``).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError, CanvasResponseError
from airflow_provider_canvas_progress.core.ids import SHARD_FACTOR, ProgressRef, parse_id_text, parse_progress_ref
from airflow_provider_canvas_progress.core.progress import Progress, parse_progress
from airflow_provider_canvas_progress.core.protocol import CanvasRequest, build_request
from airflow_provider_canvas_progress.core.settings import CanvasSettings

#: Canvas ids are 64-bit: at most 20 digits. Longer is not an id (and ``int()`` of 5,000 digits raises).
MAX_ID_DIGITS = 20


def ref_of(progress_id: object, lti_course_id: object | None, settings: CanvasSettings) -> ProgressRef:
    """The Progress a user means, through the LTI endpoint of ``lti_course_id`` when given."""
    ref = progress_id if isinstance(progress_id, ProgressRef) else parse_progress_ref(progress_id, settings)
    if lti_course_id is not None:
        ref = ProgressRef(ref.id, lti_course_id=parse_id_text(str(lti_course_id), what="lti_course_id"))
    return ref


def cancel_request(settings: CanvasSettings, ref: ProgressRef, message: str | None) -> CanvasRequest:
    """The cancel call of a Progress (``/api/v1`` only: Canvas's LTI endpoint cannot cancel)."""
    if ref.lti_course_id is not None:
        raise CanvasConfigurationError(
            f"Progress {ref.id} was given as an LTI progress URL; Canvas's LTI progress endpoint "
            "cannot cancel. Cancel it through /api/v1/progress/:id with a user token."
        )
    data = {"message": message} if message is not None else None
    # Cancelling twice with the same message leaves the Progress as cancelling once does.
    return build_request(settings, "POST", f"{ref.api_path}/cancel", data=data, idempotent=True)


def progress_from(call: CanvasRequest, payload: Any, ref: ProgressRef) -> Progress:
    """The Progress in an answer to ``call``, checked to be the one asked for."""
    progress = parse_progress(payload, source=call.label)
    # Canvas answers ids relative to the shard serving the request: a global id asked
    # (10000000000123) may come back local (123). The local parts must agree.
    text = str(progress.id)
    if len(text) > MAX_ID_DIGITS or int(text) % SHARD_FACTOR != int(ref.id) % SHARD_FACTOR:
        raise CanvasResponseError(f"{call.label} answered Progress {text[:40]}, not {ref.id}.", progress_id=ref.id)
    return progress
