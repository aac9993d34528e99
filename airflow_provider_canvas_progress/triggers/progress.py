"""CanvasProgressTrigger: the Progress-only name of :class:`~.job.CanvasJobTrigger`, kept for
DAGs that build it and for trigger rows already stored in users' databases.

A row written by the previous version names this class with the kwargs it had then
(``progress_id``, ``lti_course_id``, ``cancel_messages``...); they are still accepted and turned
into the one ``ref`` kwarg, so a wait deferred before an upgrade resumes after it.
``cancel_messages`` is accepted and dropped: the task reads the outcome, not the trigger.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_canvas_progress.core.ids import ProgressRef, parse_id_text
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.triggers.job import KILL_CANCEL_TIMEOUT, CanvasJobTrigger

__all__ = ["KILL_CANCEL_TIMEOUT", "CanvasProgressTrigger", "progress_ref_text"]


class CanvasProgressTrigger(CanvasJobTrigger):
    """Wait on a Canvas Progress: :class:`~.job.CanvasJobTrigger` with the Progress kwargs of old.

    :param progress_id: the Progress (id, global id, ``shard~id`` or Progress URL on the
        connection's host); used when ``ref`` is not given.
    :param lti_course_id: read through the LTI progress endpoint of this course.
    :param cancel_messages: accepted for rows written by earlier versions; not used (the task
        reads the outcome).
    :param ref: as for :class:`~.job.CanvasJobTrigger`; the other parameters are the same too.
    """

    def __init__(
        self,
        *,
        ref: str | None = None,
        progress_id: str | int | None = None,
        lti_course_id: str | int | None = None,
        cancel_messages: list[str] | None = None,
        canvas_conn_id: str = CanvasHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        del cancel_messages  # read on the task side since references became one kwarg
        if ref is None:
            if progress_id is None:
                raise TypeError("CanvasProgressTrigger needs ref (e.g. 'progress:123') or progress_id.")
            ref = progress_ref_text(str(progress_id), None if lti_course_id is None else str(lti_course_id))
        super().__init__(ref=ref, canvas_conn_id=canvas_conn_id, **kwargs)


def progress_ref_text(progress_id: str, lti_course_id: str | None) -> str:
    """The ``ref`` for a Progress given as the user gave it (old kwargs, ``start_from_trigger``). An id
    in a plain form becomes its string form at once; anything
    else (a URL, an unrendered template) is kept as text and read with the connection in run()."""
    if "{{" in progress_id or (lti_course_id is not None and "{{" in lti_course_id):
        return progress_id if lti_course_id is None else f"{ProgressRef.KIND}:lti/{lti_course_id}/{progress_id}"
    try:
        ref = ProgressRef.parse(progress_id)
    except ValueError:
        return progress_id
    if lti_course_id is not None:
        ref = ProgressRef(ref.id, lti_course_id=parse_id_text(lti_course_id, what="lti_course_id"))
    return str(ref)
