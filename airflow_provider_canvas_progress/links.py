"""Operator extra links: the Progress in Canvas's API, and the course or account it belongs to.

Both read the last Progress a task saw from XCom (key ``progress``), so they work for the
sensor, the job-starting operators and the cancel operator alike, in Airflow 2's webserver and in
Airflow 3's task runner (which resolves links on the worker when the task ends).

A link is something a user clicks while logged in to Airflow, and its parts come from Canvas's
answer: a hostile or compromised Canvas, or a proxy, could answer ``"url": "javascript:..."`` or a
look-alike host. So a link is only ever shown for an ``https`` URL (``http`` on a loopback test
server) on the connection's own origin, rebuilt from that origin; anything else shows no link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from airflow.providers.common.compat.sdk import XCom

from airflow_provider_canvas_progress.compat import BaseOperatorLink
from airflow_provider_canvas_progress.core.settings import Origin, is_loopback

#: Canvas contexts that have a page of their own in the Canvas UI.
_CONTEXT_PAGES = {"Course": "courses", "Account": "accounts", "User": "users", "GroupCategory": "group_categories"}
#: Longer than any Canvas URL; a link is not a place for a payload.
MAX_LINK_LENGTH = 2048
#: Characters kept as they are in a rebuilt path or query; anything else is percent-encoded.
_PATH_SAFE = "/:@-._~!$&'()*+,;=%"
_CONTEXT_ID = re.compile(r"^[1-9][0-9]{0,19}$")


def link_origin(origin: Origin) -> Origin | None:
    """The origin links may point at: the connection's, if it is https (or http on loopback)."""
    if origin.scheme == "https" or (origin.scheme == "http" and is_loopback(origin.host)):
        return origin
    return None


def safe_link(url: object, origin: Origin) -> str:
    """``url`` rebuilt on ``origin`` when it is a plain web URL there, else ``""`` (no link).

    Refused: other schemes (``javascript:``, ``data:``, ``HTTPS:`` in another case), other hosts
    or ports, user-info (``https://school@evil.example``), backslashes, whitespace and control
    characters (browsers drop or reinterpret them), percent-escapes in the host, over-long URLs.
    """
    allowed = link_origin(origin)
    if allowed is None or not isinstance(url, str) or not url or len(url) > MAX_LINK_LENGTH:
        return ""
    if not url.startswith(f"{allowed.scheme}://") or not url.isprintable() or any(c in url for c in " \\"):
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range, which Origin.of reads as the default
        target = Origin.of(url)
    except ValueError:
        return ""
    if "@" in parts.netloc or "%" in parts.netloc or target != allowed:
        return ""
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    query = f"?{quote(parts.query, safe=_PATH_SAFE + '?')}" if parts.query else ""
    return f"{allowed}{path}{query}"


def context_link(origin: Origin, context_type: object, context_id: object) -> str:
    """The Canvas page of a Progress's context (``/courses/5``) on ``origin``, or ``""``."""
    allowed = link_origin(origin)
    page = _CONTEXT_PAGES.get(context_type) if isinstance(context_type, str) else None
    if isinstance(context_id, bool) or not isinstance(context_id, (int, str)):
        return ""
    if allowed is None or page is None or not _CONTEXT_ID.match(str(context_id)):
        return ""
    return f"{allowed}/{page}/{context_id}"


def _last_progress(ti_key: Any) -> Mapping[str, Any] | None:
    value = XCom.get_value(ti_key=ti_key, key="progress")
    return value if isinstance(value, Mapping) else None


def _connection_origin(operator: Any) -> Origin | None:
    """The origin of the task's Canvas connection, or None when it cannot be read (then no link).

    A serialized operator (Airflow 2's webserver) may not carry ``canvas_conn_id``; the default
    connection is then tried, and a link on any other origin is refused, so a wrong guess shows
    no link rather than a wrong one.
    """
    from airflow_provider_canvas_progress.hooks.canvas import CanvasHook

    conn_id = getattr(operator, "canvas_conn_id", None) or CanvasHook.default_conn_name
    try:
        return Origin.of(CanvasHook(conn_id).base_url)
    except Exception:  # a missing or broken connection must not break the task's page
        return None


class CanvasProgressLink(BaseOperatorLink):  # type: ignore[misc]
    """Link to the Progress itself (``/api/v1/progress/:id``: JSON, readable when logged in to Canvas)."""

    name = "Canvas Progress"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        progress = _last_progress(ti_key)
        origin = _connection_origin(operator) if progress else None
        return safe_link(progress.get("url"), origin) if progress and origin else ""


class CanvasContextLink(BaseOperatorLink):  # type: ignore[misc]
    """Link to the Canvas page of the job's context (the course or account it works on)."""

    name = "Canvas context"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        progress = _last_progress(ti_key)
        origin = _connection_origin(operator) if progress else None
        if not progress or origin is None:
            return ""
        return context_link(origin, progress.get("context_type"), progress.get("context_id"))
