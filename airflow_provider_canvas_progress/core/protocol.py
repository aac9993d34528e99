"""Canvas's HTTP protocol with no I/O: what an answer means (requests are built in :mod:`.request`).

Both the sync (requests) and async (aiohttp) paths of the hook build their requests with
:func:`build_request` and hand every answer to :func:`interpret_response`, so a 403 is read the
same way in a worker and in the triggerer. Nothing here touches a socket, which is also why it is
tested exhaustively without one.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_canvas_progress.core.errors import (
    CanvasAuthError,
    CanvasError,
    CanvasHTTPError,
    CanvasNotFoundError,
    CanvasPermissionError,
    CanvasResponseError,
    CanvasServerError,
    CanvasThrottledError,
    CanvasTokenExpiredError,
    CanvasUnreadableResponseError,
    CanvasValidationError,
)
from airflow_provider_canvas_progress.core.request import (
    USER_AGENT,
    CanvasRequest,
    auth_headers,
    build_request,
    endpoint_path,
    flatten,
)

__all__ = [
    "RATE_LIMIT_MARKER",
    "USER_AGENT",
    "CanvasRequest",
    "CanvasResponse",
    "auth_headers",
    "build_request",
    "canvas_error_text",
    "classify_error",
    "endpoint_path",
    "flatten",
    "interpret_response",
    "rate_limit_reading",
    "rate_limit_remaining",
]

#: Canvas's throttle marker, in the body of a throttled 403 (and of a 429).
RATE_LIMIT_MARKER = "Rate Limit Exceeded"
#: Canvas's bucket holds 600 units and may overfill to about 800, so ``X-Rate-Limit-Remaining``
#: lies in about [-200, 600] (``lib/canvas/request_throttle.rb``). Readings outside are clamped.
RATE_LIMIT_RANGE = (-200.0, 600.0)
#: The most of Canvas's own error text quoted in an error (a 10 MB message must not make a 10 MB error).
MAX_QUOTED_CHARS = 1000


@dataclass(frozen=True)
class CanvasResponse:
    """What the transport got back, reduced to what :func:`interpret_response` reads."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


def rate_limit_remaining(response: CanvasResponse) -> float | None:
    """``X-Rate-Limit-Remaining`` as a float within :data:`RATE_LIMIT_RANGE`, or None when absent or garbled."""
    return rate_limit_reading(response)[0]


def rate_limit_reading(response: CanvasResponse) -> tuple[float | None, str | None]:
    """``X-Rate-Limit-Remaining`` clamped to Canvas's physical range, and a warning when it was outside.

    A hostile or broken proxy sending ``-1000000`` (or ``-1e308``) must not make the pacer hold
    every call on the token for hours: at most ``(low water + 200) / 10`` seconds.
    """
    value = response.header("X-Rate-Limit-Remaining")
    if value is None:
        return None, None
    try:
        remaining = float(value[:64])
    except ValueError:
        return None, None
    # "nan" and "inf" parse as floats but say nothing; "-inf" would make the pacer wait forever.
    if not math.isfinite(remaining):
        return None, f"ignored X-Rate-Limit-Remaining {value[:64]!r} (not a finite number)"
    low, high = RATE_LIMIT_RANGE
    if low <= remaining <= high:
        return remaining, None
    clamped = min(max(remaining, low), high)
    return clamped, f"X-Rate-Limit-Remaining {value[:64]!r} is outside Canvas's range; read as {clamped:g}"


def interpret_response(request: CanvasRequest, response: CanvasResponse) -> Any:
    """Return the decoded JSON of a successful answer, or raise the matching :class:`CanvasError`.

    :raises CanvasError: a subclass chosen by status and body; see the module's error table.
    """
    status = response.status
    if 200 <= status < 300:
        return _decode_success(request, response)
    raise classify_error(request, response)


def _decode_success(request: CanvasRequest, response: CanvasResponse) -> Any:
    if not response.body.strip() or response.status == 204:
        return None
    try:
        return json.loads(response.body)
    except RecursionError:
        raise CanvasResponseError(
            f"Canvas answered {request.label} with JSON nested too deeply to read; not a Canvas API answer.",
            method=request.method,
            path=request.path,
            status=response.status,
        ) from None
    except (ValueError, UnicodeDecodeError):
        kind = "an HTML page" if _looks_like_html(response) else "a body that is not JSON"
        raise CanvasUnreadableResponseError(
            f"Canvas answered {request.label} with {response.status} but {kind} "
            f"({_snippet(response)!r}); a proxy, a maintenance page or a cut-off transfer. "
            "Retried; if it persists, check the connection's host.",
            method=request.method,
            path=request.path,
            status=response.status,
        ) from None


def classify_error(request: CanvasRequest, response: CanvasResponse) -> CanvasError:
    """Map a non-2xx answer to the narrowest :class:`CanvasError` that explains it."""
    status = response.status
    text = canvas_error_text(response)
    where = request.label
    said = f" Canvas says: {text!r}." if text else ""
    fields: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "status": status,
        "canvas_message": text,
    }

    if 300 <= status < 400:
        location = response.header("Location")
        target = _origin_only(location) if location else "an address it did not name (no Location header)"
        return CanvasResponseError(
            f"Canvas answered {where} with a {status} redirect to {target}. Redirects are not followed, "
            "so the token is never sent to another address: set the connection's host to the address "
            "Canvas is really served from.",
            **fields,
        )
    if status == 429 or (status == 403 and RATE_LIMIT_MARKER.lower() in _body_text(response).lower()):
        return CanvasThrottledError(
            f"Canvas throttled {where} ({status} Rate Limit Exceeded): this token's request budget is "
            f"spent.{said} Retried after a pause; if it persists, fewer tasks should share this token.",
            **fields,
        )
    if status == 401:
        if _is_permission_denial(response, text):
            return _permission_error(where, said, fields)
        if text and "expired" in text.lower():
            return CanvasTokenExpiredError(
                f"Canvas refused {where} (401): the access token has expired.{said} Renew the token (or use "
                "an auth mode that refreshes it) and update the connection's Password.",
                **fields,
            )
        if text and "scope" in text.lower():
            return CanvasAuthError(
                f"Canvas refused {where} (401): the token's developer key does not allow this endpoint.{said} "
                "Add the endpoint's scope to the developer key, or use a token without scope limits.",
                **fields,
            )
        return CanvasAuthError(
            f"Canvas refused {where} (401): the access token is not accepted.{said} Check the "
            "connection's Password holds a current token for this Canvas, and that it was not revoked.",
            **fields,
        )
    if status == 403:
        if _is_refused_parameter(response):
            # e.g. "course batch size limit (500) exceeded": Canvas answers some limits with 403.
            return CanvasValidationError(
                f"Canvas refused {where} (403) because of its parameters, not a permission.{said} "
                "Fix the request (for a batch, split it).",
                **fields,
            )
        return _permission_error(where, said, fields)
    if status == 404:
        return CanvasNotFoundError(
            f"Canvas has no resource at {where} (404).{said} Check the id: Canvas answers 404 for "
            "unknown ids before it checks permissions.",
            **fields,
        )
    if status in (400, 422):
        return CanvasValidationError(
            f"Canvas rejected the parameters of {where} ({status}).{said} Fix the request's parameters.",
            **fields,
        )
    if status == 408 or (status >= 500 and status != 501):
        kind = " with an HTML page (a proxy or maintenance window)" if _looks_like_html(response) else ""
        return CanvasServerError(
            f"Canvas answered {where} with {status}{kind}.{said} Usually transient; retried.",
            **fields,
        )
    return CanvasHTTPError(f"Canvas answered {where} with {status}.{said}", **fields)


def _permission_error(where: str, said: str, fields: dict[str, Any]) -> CanvasPermissionError:
    return CanvasPermissionError(
        f"Canvas refused {where} ({fields['status']}): the token's user is not allowed to do this.{said} "
        "Use a token of a user with the needed permission.",
        **fields,
    )


def _is_refused_parameter(response: CanvasResponse) -> bool:
    """A 403 whose body is Canvas's bare ``{"message": ...}`` validation shape, not its permission body."""
    payload = _json_or_none(response)
    return (
        isinstance(payload, Mapping)
        and isinstance(payload.get("message"), str)
        and not ("errors" in payload or "status" in payload)
    )


def _is_permission_denial(response: CanvasResponse, text: str | None) -> bool:
    """Older Canvas answers 401 (not 403) to an authenticated user lacking a permission.

    It is told apart from a bad token by its body (``"status": "unauthorized"``) and by the
    absence of ``WWW-Authenticate``, which Canvas only sends when the token itself was refused.
    """
    payload = _json_or_none(response)
    if isinstance(payload, Mapping) and payload.get("status") == "unauthorized":
        return True
    return bool(text and "not authorized to perform" in text.lower() and not response.header("WWW-Authenticate"))


def canvas_error_text(response: CanvasResponse) -> str | None:
    """Canvas's own error text from any of its error body shapes, or a short snippet of a non-JSON body.

    Shapes: ``{"errors": [{"message": ...}]}`` (API), ``{"errors": {"type", "message"}}`` (LTI),
    ``{"message": ...}`` (validation), ``{"errors": {"field": [{"message": ...}]}}`` (model errors).
    """
    payload = _json_or_none(response)
    if payload is None:
        if not response.body.strip():
            return None
        if _looks_like_html(response):
            title = re.search(rb"<title[^>]*>(.*?)</title>", response.body, re.IGNORECASE | re.DOTALL)
            return title.group(1)[:2000].decode("utf-8", "replace").strip()[:200] if title else None
        return _snippet(response)
    messages: list[str] = []
    _collect_messages(payload, messages)
    return _bounded("; ".join(dict.fromkeys(messages))) or None


def _bounded(text: str) -> str:
    """Canvas-provided text cut to :data:`MAX_QUOTED_CHARS`, so an error message stays readable."""
    return text[:MAX_QUOTED_CHARS]


def _collect_messages(payload: Any, out: list[str]) -> None:
    if isinstance(payload, Mapping):
        for key in ("message", "error"):
            value = payload.get(key)
            if isinstance(value, str) and value:
                out.append(value)
        errors = payload.get("errors")
        if isinstance(errors, (list, Mapping)):
            _collect_messages_from(errors, out)
    elif isinstance(payload, list):
        _collect_messages_from(payload, out)


def _collect_messages_from(errors: Any, out: list[str]) -> None:
    items = errors.values() if isinstance(errors, Mapping) else errors
    if isinstance(errors, Mapping) and isinstance(errors.get("message"), str):
        out.append(errors["message"])
        return
    for item in items:
        if isinstance(item, str):
            out.append(item)
        else:
            _collect_messages(item, out)


def _json_or_none(response: CanvasResponse) -> Any:
    try:
        return json.loads(response.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _body_text(response: CanvasResponse) -> str:
    return response.body[:2000].decode("utf-8", "replace")


def _looks_like_html(response: CanvasResponse) -> bool:
    content_type = (response.header("Content-Type") or "").lower()
    head = response.body[:200].lstrip().lower()
    return "html" in content_type or head.startswith((b"<!doctype html", b"<html"))


def _snippet(response: CanvasResponse) -> str:
    text = re.sub(r"\s+", " ", _body_text(response)).strip()
    return text[:120] + ("…" if len(text) > 120 else "")


def _origin_only(url: str) -> str:
    """Where a redirect points, as scheme, host and port only: its path and query may hold secrets."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unclosed "[" in the host
        return "an address that is not a valid URL"
    if not parts.netloc:
        return "a path on the same host"
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # a port out of range must not turn a redirect into a crash
        port = None
    scheme = f"{parts.scheme[:20]}://" if parts.scheme else "//"
    if len(host) > 253:  # longer than any DNS name: quote its start only
        host = host[:64] + "…"
    return f"{scheme}{host}" + (f":{port}" if port else "")
