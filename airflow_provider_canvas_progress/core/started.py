"""Finding the Progress in the answer of a Canvas call that starts a background job.

Canvas answers in three shapes (see ``docs/canvas-behaviour.md``): a bare Progress (batch updates,
bulk grade updates), ``{"progress": {...}}`` (module updates with ``async=true``), or an object
carrying ``progress_url`` (content migrations and exports).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from airflow_provider_canvas_progress.core.errors import CanvasResponseError
from airflow_provider_canvas_progress.core.ids import ProgressRef, parse_progress_ref
from airflow_provider_canvas_progress.core.progress import Progress, parse_progress, shown
from airflow_provider_canvas_progress.core.settings import CanvasSettings


@dataclass(frozen=True)
class StartedJob:
    """What a job-starting call told us: the Progress itself, or only where to read it."""

    ref: ProgressRef
    progress: Progress | None = None


def find_progress(payload: object, settings: CanvasSettings, *, source: str) -> StartedJob:
    """Locate the Progress in a job-starting answer.

    :param source: the call, for messages (``"PUT /api/v1/accounts/1/courses"``).
    :raises CanvasResponseError: the answer holds no Progress in any known shape.
    :raises ForeignHostError: its ``progress_url`` is on another host.
    """
    if isinstance(payload, Mapping):
        # progress_url first: content migrations and exports carry their *own* id and
        # workflow_state ("running", "completed", "created", ...) next to it, and must not be read
        # as the Progress itself (lib/api/v1/content_migration.rb, content_export.rb).
        url = payload.get("progress_url")
        if isinstance(url, str) and url:
            return StartedJob(parse_progress_ref(url, settings, what=f"progress_url in the answer of {source}"))
        if "workflow_state" in payload and "id" in payload:
            progress = parse_progress(payload, source=source)
            return StartedJob(ProgressRef(progress.id), progress)
        nested = payload.get("progress")
        if isinstance(nested, Mapping):
            progress = parse_progress(nested, source=source)
            return StartedJob(ProgressRef(progress.id), progress)
    keys = sorted(payload) if isinstance(payload, Mapping) else type(payload).__name__
    raise CanvasResponseError(
        f"{source} answered without a Progress (looked for a Progress object, 'progress' and "
        f"'progress_url'; got {shown(keys)}). Is this an endpoint that starts a background job?"
    )
