"""Old home of :mod:`airflow_provider_canvas_progress.core.started` (what a job-starting call
answered), re-exported so existing imports keep working. ``jobs`` named three different things
across the package; each module is now named for its one concept."""

from __future__ import annotations

from airflow_provider_canvas_progress.core.started import StartedJob, find_progress

__all__ = ["StartedJob", "find_progress"]
