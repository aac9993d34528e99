"""Operator extra links: the Progress in Canvas's API, and the course or account it belongs to.

Both read the last Progress a task saw from XCom (key ``progress``), so they work for the
sensor, the job-starting operators and the cancel operator alike, in Airflow 2's webserver and in
Airflow 3's task runner (which resolves links on the worker when the task ends).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow.providers.common.compat.sdk import XCom

from airflow_provider_canvas_progress.compat import BaseOperatorLink
from airflow_provider_canvas_progress.core.settings import Origin

#: Canvas contexts that have a page of their own in the Canvas UI.
_CONTEXT_PAGES = {"Course": "courses", "Account": "accounts", "User": "users", "GroupCategory": "group_categories"}


def _last_progress(ti_key: Any) -> Mapping[str, Any] | None:
    value = XCom.get_value(ti_key=ti_key, key="progress")
    return value if isinstance(value, Mapping) else None


class CanvasProgressLink(BaseOperatorLink):  # type: ignore[misc]
    """Link to the Progress itself (``/api/v1/progress/:id``: JSON, readable when logged in to Canvas)."""

    name = "Canvas Progress"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        progress = _last_progress(ti_key)
        url = progress.get("url") if progress else None
        return url if isinstance(url, str) and url.startswith(("https://", "http://")) else ""


class CanvasContextLink(BaseOperatorLink):  # type: ignore[misc]
    """Link to the Canvas page of the job's context (the course or account it works on)."""

    name = "Canvas context"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        progress = _last_progress(ti_key)
        if not progress:
            return ""
        url, kind, context_id = progress.get("url"), progress.get("context_type"), progress.get("context_id")
        page = _CONTEXT_PAGES.get(kind) if isinstance(kind, str) else None
        if not isinstance(url, str) or page is None or context_id is None:
            return ""
        return f"{Origin.of(url)}/{page}/{context_id}"
