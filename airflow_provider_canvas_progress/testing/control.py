"""The ``/__sim__`` control API, for people developing DAGs against a standalone simulator.

It needs no token: the simulator binds loopback, and this API exists so a shell or a DAG author
can script jobs without Python access to the simulator object.

========  ===============================  =====================================================
method    path                             what
========  ===============================  =====================================================
GET       /__sim__                         index: base URL, clock, endpoints
POST      /__sim__/progress                create (JSON: tag, context_type, context_id, user_id, script)
GET       /__sim__/progress/<id>           the Progress JSON
POST      /__sim__/progress/<id>           set fields (workflow_state, completion, message, results)
POST      /__sim__/jobs                    queue a script for the next started job (JSON: script, tag)
GET       /__sim__/requests                recorded requests; DELETE clears them
POST      /__sim__/faults                  inject (JSON: kind, status, ..., times, path, method); DELETE clears
POST      /__sim__/tokens                  add a token (JSON: token, user_id, state, kind, scopes, contexts)
POST      /__sim__/developer_keys          add a developer key (JSON: kind oauth|lti, client_id, user_id,
                                           token_lifetime, scopes, courses); answers its connection extras
POST      /__sim__/clock/advance           move a ManualClock (JSON: seconds)
GET       /__sim__/stats                   counters
POST      /__sim__/<accounts|terms|courses|  add to the school (JSON: id and the ``add_*`` parameters);
          sections|assignments|users>      see :mod:`.school_control`
========  ===============================  =====================================================
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .clock import ManualClock
from .developer_keys import DEFAULT_TOKEN_LIFETIME
from .faults import Fault
from .identity import LTI_PROGRESS_SCOPE
from .jobs import JobScript
from .pipeline import STATE_KEY, base_url
from .render import local_id_of
from .store import UNSET

__all__ = ["register"]


def _answer(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _problem(message: str, status: int = 400) -> web.Response:
    return _answer({"error": message}, status)


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"invalid JSON: {exc}"}), content_type="application/json"
        ) from exc
    if not isinstance(parsed, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": "expected a JSON object"}), content_type="application/json")
    return parsed


async def index(request: web.Request) -> web.StreamResponse:
    """Describe the simulator."""
    state = request.app[STATE_KEY]
    return _answer(
        {
            "base_url": base_url(request),
            "clock": state.now(),
            "manual_clock": isinstance(state.clock, ManualClock),
            "endpoints": [str(r.resource.canonical) for r in request.app.router.routes() if r.resource is not None],
        }
    )


async def create_progress(request: web.Request) -> web.StreamResponse:
    """Create a Progress with an optional script."""
    state = request.app[STATE_KEY]
    data = await _json_body(request)
    try:
        script = JobScript.from_dict(data["script"]) if "script" in data else state.store.default_script
        record = state.store.create(
            tag=str(data.get("tag", "course_batch_update")),
            context_type=str(data.get("context_type", "Account")),
            context_id=int(data.get("context_id", 1)),
            user_id=None if data.get("user_id", 1) is None else int(data.get("user_id", 1)),
            script=script,
            now=state.now(),
        )
    except (TypeError, ValueError, KeyError) as exc:
        return _problem(str(exc))
    body = state.progress_body(record.local_id, base_url(request))
    return _answer({"id": str(state.public_id(record.local_id)), "progress": body}, 201)


async def show_progress(request: web.Request) -> web.StreamResponse:
    """The Progress JSON, bypassing auth."""
    state = request.app[STATE_KEY]
    local = local_id_of(request.match_info["id"])
    body = state.progress_body(local, base_url(request)) if local is not None else None
    if body is None:
        return _problem("no such progress", 404)
    return _answer(body)


async def set_progress(request: web.Request) -> web.StreamResponse:
    """Override fields of a Progress (this pins it: its script stops moving it)."""
    state = request.app[STATE_KEY]
    local = local_id_of(request.match_info["id"])
    if local is None or state.store.get(local) is None:
        return _problem("no such progress", 404)
    data = await _json_body(request)
    allowed = {"workflow_state", "completion", "message", "results"}
    if set(data) - allowed:
        return _problem(f"unknown fields: {sorted(set(data) - allowed)}")
    state.store.override(
        local,
        state.now(),
        workflow_state=data.get("workflow_state", UNSET),
        completion=data.get("completion", UNSET),
        message=data.get("message", UNSET),
        results=data.get("results", UNSET),
    )
    return _answer(state.progress_body(local, base_url(request)))


async def queue_script(request: web.Request) -> web.StreamResponse:
    """Queue a script for the next started job."""
    state = request.app[STATE_KEY]
    data = await _json_body(request)
    try:
        script = JobScript.from_dict(data.get("script", {}))
    except (TypeError, ValueError, KeyError) as exc:
        return _problem(str(exc))
    tag = data.get("tag")
    state.store.script_next_job(script, tag=None if tag is None else str(tag))
    return _answer({"queued": True}, 201)


async def list_requests(request: web.Request) -> web.StreamResponse:
    """Recorded requests, oldest first."""
    state = request.app[STATE_KEY]
    return _answer([r.to_dict() for r in state.log.snapshot()])


async def clear_requests(request: web.Request) -> web.StreamResponse:
    """Forget recorded requests."""
    request.app[STATE_KEY].log.clear()
    return _answer({"cleared": True})


async def inject_fault(request: web.Request) -> web.StreamResponse:
    """Queue a fault."""
    state = request.app[STATE_KEY]
    data = await _json_body(request)
    try:
        fault = Fault.from_dict(data)
        state.faults.inject(fault, times=int(data.get("times", 1)), path=data.get("path"), method=data.get("method"))
    except (TypeError, ValueError, KeyError) as exc:
        return _problem(str(exc))
    return _answer({"pending": state.faults.pending()}, 201)


async def clear_faults(request: web.Request) -> web.StreamResponse:
    """Drop queued faults."""
    request.app[STATE_KEY].faults.clear()
    return _answer({"pending": 0})


async def add_token(request: web.Request) -> web.StreamResponse:
    """Add an access token."""
    state = request.app[STATE_KEY]
    data = await _json_body(request)
    try:
        user_id = int(data.get("user_id", 1))
        state.identity.ensure_user(user_id)
        token = state.identity.add_token(
            data.get("token"),
            user_id=user_id,
            state=data.get("state", "valid"),
            kind=data.get("kind", "user"),
            scopes=data.get("scopes"),
            contexts=[tuple(pair) for pair in data["contexts"]] if data.get("contexts") is not None else None,
            expired_at=data.get("expired_at"),
        )
    except (TypeError, ValueError, KeyError) as exc:
        return _problem(str(exc))
    return _answer({"token": token.token}, 201)


async def add_developer_key(request: web.Request) -> web.StreamResponse:
    """Add an OAuth2 client (refresh grant) or an LTI tool (generated key pair); answer the connection extras."""
    state = request.app[STATE_KEY]
    data = await _json_body(request)
    kind = data.get("kind", "oauth")
    raw_lifetime = data.get("token_lifetime", DEFAULT_TOKEN_LIFETIME)
    try:
        lifetime = None if raw_lifetime is None else float(raw_lifetime)
        client_id = None if data.get("client_id") is None else str(data["client_id"])
        if kind == "oauth":
            user_id = int(data.get("user_id", 1))
            state.identity.ensure_user(user_id)
            client = state.developer_keys.add_oauth_client(client_id, user_id=user_id, token_lifetime=lifetime)
            return _answer({"client_id": client.client_id, "extra": client.connection_extra()}, 201)
        if kind == "lti":
            tool = state.developer_keys.add_lti_tool(
                client_id,
                scopes=data.get("scopes") or (LTI_PROGRESS_SCOPE,),
                courses=data.get("courses"),
                token_lifetime=lifetime,
            )
            return _answer(
                {"client_id": tool.client_id, "public_jwk": tool.public_jwk, "extra": tool.connection_extra()}, 201
            )
    except (TypeError, ValueError) as exc:
        return _problem(str(exc))
    return _problem(f"kind must be 'oauth' or 'lti', got {kind!r}")


async def advance_clock(request: web.Request) -> web.StreamResponse:
    """Move a ManualClock forward."""
    state = request.app[STATE_KEY]
    if not isinstance(state.clock, ManualClock):
        return _problem("the simulator runs on the real clock; start it with a ManualClock", 409)
    data = await _json_body(request)
    try:
        now = state.clock.advance(float(data.get("seconds", 0.0)))
    except (TypeError, ValueError) as exc:
        return _problem(str(exc))
    return _answer({"clock": now})


async def stats(request: web.Request) -> web.StreamResponse:
    """The simulator's counters."""
    return _answer(request.app[STATE_KEY].stats().to_dict())


def register(app: web.Application) -> None:
    """Add the control routes."""
    router = app.router
    router.add_get("/__sim__", index)
    router.add_post("/__sim__/progress", create_progress)
    router.add_get("/__sim__/progress/{id}", show_progress)
    router.add_post("/__sim__/progress/{id}", set_progress)
    router.add_post("/__sim__/jobs", queue_script)
    router.add_get("/__sim__/requests", list_requests)
    router.add_delete("/__sim__/requests", clear_requests)
    router.add_post("/__sim__/faults", inject_fault)
    router.add_delete("/__sim__/faults", clear_faults)
    router.add_post("/__sim__/tokens", add_token)
    router.add_post("/__sim__/developer_keys", add_developer_key)
    router.add_post("/__sim__/clock/advance", advance_clock)
    router.add_get("/__sim__/stats", stats)
