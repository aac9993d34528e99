"""Canvas's error answers, byte for byte where the source says so.

From ``app/controllers/application_controller.rb``, ``lib/authentication_methods.rb`` and, for
``/api/lti/...``, ``app/controllers/lti/ims/concerns/lti_services.rb`` (``render_error`` sends
``{"errors": {"type": <status symbol>, "message": ...}}``: an object, not a list).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

__all__ = [
    "JSON_CONTENT_TYPE",
    "WWW_AUTHENTICATE",
    "bad_request",
    "expired_token",
    "insufficient_scopes",
    "invalid_token",
    "json_response",
    "lti_error",
    "not_found",
    "rate_limited",
    "revoked_token",
    "server_error",
    "unauthenticated",
    "unauthorized",
]

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
WWW_AUTHENTICATE = 'Bearer realm="canvas-lms"'

_LTI_TYPES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 422: "unprocessable_entity"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON answer with Canvas's content type."""
    response = web.Response(status=status, body=json.dumps(body, separators=(",", ":")).encode(), headers=headers)
    response.headers["Content-Type"] = JSON_CONTENT_TYPE
    return response


def invalid_token() -> web.Response:
    """401 for an unknown or invalid token (also an LTI token on ``/api/v1``)."""
    return json_response(
        {"errors": [{"message": "Invalid access token."}]}, 401, {"WWW-Authenticate": WWW_AUTHENTICATE}
    )


def expired_token(expired_at: str | None) -> web.Response:
    """401 for an expired token; Canvas names when it expired."""
    return json_response(
        {"errors": [{"message": "Expired access token.", "expired_at": expired_at}]},
        401,
        {"WWW-Authenticate": WWW_AUTHENTICATE},
    )


def revoked_token() -> web.Response:
    """401 for a revoked token."""
    return json_response(
        {"errors": [{"message": "Revoked access token."}]}, 401, {"WWW-Authenticate": WWW_AUTHENTICATE}
    )


def insufficient_scopes() -> web.Response:
    """401 when the developer key's scopes miss the route; no ``WWW-Authenticate``."""
    return json_response({"errors": [{"message": "Insufficient scopes on access token."}]}, 401)


def unauthenticated() -> web.Response:
    """401 when no credentials were sent."""
    return json_response(
        {"status": "unauthenticated", "errors": [{"message": "user authorization required"}]},
        401,
        {"WWW-Authenticate": WWW_AUTHENTICATE},
    )


def unauthorized(status: int) -> web.Response:
    """The permission error: 403 on hosted Canvas, 401 on older instances; no ``WWW-Authenticate``."""
    return json_response(
        {"status": "unauthorized", "errors": [{"message": "user not authorized to perform that action"}]},
        status,
    )


def not_found() -> web.Response:
    """404, also for an unknown Progress id (looked up before any permission check)."""
    return json_response({"errors": [{"message": "The specified resource does not exist."}]}, 404)


def server_error() -> web.Response:
    """Canvas's generic 500."""
    return json_response({"errors": [{"message": "An error occurred.", "error_code": "internal_server_error"}]}, 500)


def bad_request(message: str, status: int = 400) -> web.Response:
    """Validation errors of job-starting calls: ``{"message": ...}``."""
    return json_response({"message": message}, status)


def lti_error(status: int, message: str) -> web.Response:
    """An LTI Advantage error: ``{"errors": {"type": "unauthorized", "message": ...}}``."""
    return json_response({"errors": {"type": _LTI_TYPES.get(status, str(status)), "message": message}}, status)


def rate_limited(status: int) -> web.Response:
    """A throttled answer: plain text, no ``Retry-After``.

    ``X-Rate-Limit-Remaining`` starts as ``0.0`` here, as in ``RequestThrottle#rate_limit_exceeded``;
    the throttle middleware then overwrites it with the bucket's real remainder, as Canvas does.

    403 is ``RequestThrottle#rate_limit_exceeded`` verbatim; hosted Canvas announced 429 for
    October 2025 (body unconfirmed; it says ``Rate Limit Exceeded`` too).
    """
    reason = "Forbidden" if status == 403 else "Too Many Requests"
    response = web.Response(status=status, text=f"{status} {reason} (Rate Limit Exceeded)\n")
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["X-Rate-Limit-Remaining"] = "0.0"
    return response
