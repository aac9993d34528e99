"""The path every request takes: record -> faults -> throttle -> latency -> authenticate -> handler.

The order is Canvas's: faults stand for a proxy in front of Canvas; ``RequestThrottle`` is Rack
middleware that judges every ``/api`` request (unknown routes included) before the controller
authenticates it, so a throttled request with a bad token is still "Rate Limit Exceeded".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from . import errors
from .faults import FaultKind, apply_fault
from .identity import LTI_PROGRESS_SCOPE, AccessToken, User
from .params import ParamsError, parse_params
from .recorder import RecordedRequest
from .render import STRING_IDS_MEDIA_TYPE, stringify_ids
from .state import SimulatorState

__all__ = [
    "STATE_KEY",
    "BadParams",
    "Caller",
    "Handler",
    "add_api_route",
    "base_url",
    "canvas_middleware",
    "params_of",
    "reply",
]

log = logging.getLogger(__name__)

STATE_KEY = web.AppKey("canvas_simulator_state", SimulatorState)
_CUT_CONNECTION = (FaultKind.DROP, FaultKind.RESET, FaultKind.TRUNCATED_JSON)
#: Paths faults apply to: the API, and the token endpoint (behind the same proxies).
_FAULTABLE = ("/api", "/login/oauth2/token")

AuthKind = Literal["user", "lti"]


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of an API route."""

    token: AccessToken
    user: User


Handler = Callable[[web.Request, Caller], Awaitable[web.StreamResponse]]


def base_url(request: web.Request) -> str:
    """``scheme://<Host header>``: Canvas builds ``url`` fields from the request's own host."""
    return f"{request.scheme}://{request.host}"


def reply(request: web.Request, body: Any, status: int = 200) -> web.Response:
    """A JSON answer, with ids as strings when the client asked for canvas-string-ids."""
    if STRING_IDS_MEDIA_TYPE in request.headers.get("Accept", ""):
        body = stringify_ids(body)
    return errors.json_response(body, status)


class BadParams(ValueError):
    """The request body could not be parsed; answered 400 ``{"message": ...}``."""


async def params_of(request: web.Request) -> dict[str, Any]:
    """Rails-style merged parameters of the request.

    :raises BadParams: if a JSON body does not parse.
    """
    try:
        return parse_params(request.query_string, await request.read(), request.content_type)
    except ParamsError as exc:
        raise BadParams(str(exc)) from exc


def _bearer(request: web.Request) -> str | None:
    # Only the Authorization header counts: a token in the query string is refused as "no
    # credentials", so a client that leaks tokens into URLs fails loudly against the simulator.
    header = request.headers.get("Authorization", "")
    # lib/authentication_methods.rb matches the scheme case-sensitively: "bearer x" is no token.
    scheme, _, secret = header.partition(" ")
    if scheme != "Bearer" or not secret.strip():
        return None
    return secret.strip()


def _authenticate_user(state: SimulatorState, secret: str | None, scope: str) -> Caller | web.Response:
    if secret is None:
        return errors.unauthenticated()
    token = state.identity.token(secret)
    if token is None or token.kind != "user":
        # An LTI Advantage JWT is not an AccessToken, so /api/v1 does not know it.
        return errors.invalid_token()
    if token.is_expired(state.now()):
        return errors.expired_token(_expired_at(state, token))
    if token.state == "revoked":
        return errors.revoked_token()
    if token.scopes is not None and scope not in token.scopes:
        return errors.insufficient_scopes()
    user = state.identity.user(token.user_id)
    if user is None:
        return errors.invalid_token()
    return Caller(token, user)


def _authenticate_lti(state: SimulatorState, secret: str | None) -> Caller | web.Response:
    # Messages from lti_services.rb and lti/ims/advantage_errors.rb.
    if secret is None:
        return errors.lti_error(401, "Missing access token")
    token = state.identity.token(secret)
    if token is None or token.kind != "lti":
        return errors.lti_error(401, "Invalid access token format")
    if token.is_expired(state.now()):
        # lib/lti/ims/advantage_access_token.rb: Canvas::Security::TokenExpired -> "Access token expired".
        return errors.lti_error(401, "Access token expired")
    if token.state == "revoked":
        return errors.lti_error(401, "Unknown or inactive Developer Key")
    if token.scopes is None or LTI_PROGRESS_SCOPE not in token.scopes:
        return errors.lti_error(401, "Insufficient permissions")
    user = state.identity.user(token.user_id)
    if user is None:
        return errors.lti_error(401, "Invalid access token")
    return Caller(token, user)


def _expired_at(state: SimulatorState, token: AccessToken) -> str | None:
    if token.expired_at is None and token.expires_at is not None:
        return state.wall.iso(token.expires_at)
    return token.expired_at


def add_api_route(
    app: web.Application,
    method: str,
    path: str,
    handler: Handler,
    *,
    auth: AuthKind = "user",
    exists: Callable[[web.Request], bool] | None = None,
) -> None:
    """Register an API route behind the throttle and authentication.

    ``path`` uses aiohttp's ``{name}`` syntax; its Canvas form (``:name``) is the developer-key
    scope the route needs, e.g. ``url:GET|/api/v1/progress/:id``.

    :param exists: for routes whose controller finds the record before checking the user: a
        request with no credentials for a record that does not exist gets 404, not 401 (Canvas
        only rejects *bad* tokens before the action; a missing one fails at ``authorized_action``).
    """
    canvas_path = path.replace("{", ":").replace("}", "")
    scope = f"url:{method}|{canvas_path}"

    async def endpoint(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE_KEY]
        secret = _bearer(request)
        if secret is None and exists is not None and not exists(request):
            return errors.not_found()
        caller = _authenticate_lti(state, secret) if auth == "lti" else _authenticate_user(state, secret, scope)
        if isinstance(caller, web.StreamResponse):
            return caller
        try:
            return await handler(request, caller)
        except BadParams as exc:
            return errors.bad_request(str(exc))
        except Exception:
            log.exception("simulator handler failed for %s %s", request.method, request.path)
            return errors.server_error()

    app.router.add_route(method, path, endpoint)
    if method == "GET":
        # Rails routes HEAD as GET (and validate_scopes checks it as GET); aiohttp sends no body.
        app.router.add_route("HEAD", path, endpoint)


@web.middleware
async def canvas_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Record the request, serve injected faults, throttle, and give unknown API routes Canvas's 404."""
    state = request.app[STATE_KEY]
    path = request.path
    if path.startswith("/__sim__"):
        return await handler(request)
    record = RecordedRequest(
        method=request.method,
        path=path,
        query=request.query_string,
        headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers),
        body=await request.read(),
        time=time.monotonic(),
        clock=state.now(),
    )
    state.log.add(record)
    fault_name: str | None = None
    status: int | None = None
    try:
        extra_delay = 0.0
        if path.startswith(_FAULTABLE):
            fault = state.faults.take(request.method, path)
            if fault is not None:
                fault_name = fault.kind.value
                if fault.kind is FaultKind.DELAY:
                    extra_delay = fault.seconds
                else:
                    response = await apply_fault(request, fault)
                    status = None if fault.kind in _CUT_CONNECTION else response.status
                    return response
        if not path.startswith("/api"):
            if extra_delay > 0:
                await asyncio.sleep(extra_delay)
            response = await _routed(request, handler)
        else:
            response = await _throttled(request, handler, state, extra_delay)
        status = response.status
        return response
    finally:
        state.log.answered(record, status, fault_name)


async def _routed(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if request.path.startswith("/api") and exc.status in (404, 405):
            return errors.not_found()
        return web.Response(status=exc.status, text=exc.text, headers=exc.headers)


async def _throttled(
    request: web.Request,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    state: SimulatorState,
    extra_delay: float,
) -> web.StreamResponse:
    secret = _bearer(request)
    admission = state.throttle.begin(f"token:{secret}" if secret else f"ip:{request.remote}")
    response: web.StreamResponse
    try:
        if not admission.allowed:
            response = errors.rate_limited(state.settings.throttle_status)
        else:
            # The request holds its up-front cost for as long as it is in flight.
            delay = state.settings.latency + extra_delay
            if delay > 0:
                await asyncio.sleep(delay)
            response = await _routed(request, handler)
    finally:
        remaining = state.throttle.finish(admission)
    if admission.allowed:
        response.headers["X-Request-Cost"] = str(state.throttle.settings.request_cost)
    # Throttled answers too: ``request_throttle.rb#call`` writes the bucket's real remainder over the
    # ``0.0`` that ``rate_limit_exceeded`` set (about 50 when the bucket has just filled).
    response.headers["X-Rate-Limit-Remaining"] = str(remaining)
    return response
