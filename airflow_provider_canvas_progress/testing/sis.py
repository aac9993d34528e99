"""SIS import routes (``app/controllers/sis_imports_api_controller.rb``, ``sis_import_errors_api_controller.rb``).

Every route runs ``check_account`` before the action: a sub-account is refused **400**
``{"errors": ["SIS imports can only be executed on root accounts"]}``, an account without
``allow_sis_import`` **403** ``{"errors": ["SIS imports are not enabled for this account"]}``; then
``authorized_action`` wants ``import_sis`` (create), ``manage_sis`` (restore_states) or either.
The errors file is served at ``/files/:id/download`` with its verifier and redirected to the
storage host (:mod:`.filestore`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from . import errors
from .pipeline import STATE_KEY, Caller, add_api_route, base_url, params_of, reply
from .render import local_id_of, progress_json
from .sis_create import CreateRefusal, Upload, parse_multipart, read_create, value_to_boolean
from .sis_import import BatchOptions
from .sis_render import error_json, errors_csv, errors_file_name, link_header, page_of, sis_import_json
from .sis_state import SisState, sis_state
from .sis_store import SisBatch
from .state import SimulatorState

__all__ = ["register", "restore_state_of"]

_EITHER = frozenset({"import_sis", "manage_sis"})
_STATES = (
    "initializing", "created", "importing", "cleanup_batch", "imported", "imported_with_messages",
    "aborted", "failed", "failed_with_messages", "restoring", "partially_restored", "restored",
)  # fmt: skip


def _check(request: web.Request, caller: Caller, needs: Iterable[str]) -> tuple[int, web.Response | None]:
    """``get_context`` (404), ``check_account`` (400/403), then ``authorized_action``."""
    state = request.app[STATE_KEY]
    sis = sis_state(state)
    account_id = local_id_of(request.match_info["account_id"])
    if account_id is None or not state.catalog.has_account(account_id):
        return 0, errors.not_found()
    settings = sis.account(account_id)
    if not settings.root:
        return account_id, errors.json_response({"errors": ["SIS imports can only be executed on root accounts"]}, 400)
    if not settings.allow_sis_import:
        return account_id, errors.json_response({"errors": ["SIS imports are not enabled for this account"]}, 403)
    if not caller.token.can_access("Account", account_id) or not (sis.permissions(caller.user.id) & set(needs)):
        return account_id, errors.unauthorized(state.settings.permission_status)
    return account_id, None


def restore_state_of(state: SimulatorState, batch: SisBatch) -> tuple[str, float] | None:
    """``(restoring|restored|partially_restored, since)`` once restore_states ran, from its Progress."""
    if batch.restore_progress_id is None:
        return None
    view = state.store.view(batch.restore_progress_id, state.now())
    if view is None or view.workflow_state != "completed":
        return ("restoring", view.updated_at if view is not None else state.now())
    return ("partially_restored" if batch.restore_partial else "restored", view.updated_at)


def _render(request: web.Request, caller: Caller, batch: SisBatch) -> dict[str, Any]:
    state = request.app[STATE_KEY]
    sis = sis_state(state)
    now = state.now()
    verifier = sis.verifiers.issue(batch.errors_attachment_id, caller.user.id) if batch.errors_attachment_id else None
    return sis_import_json(
        batch,
        now=now,
        wall=state.wall,
        base_url=base_url(request),
        verifier=verifier,
        state_override=restore_state_of(state, batch),
    )


def _batch(request: web.Request, sis: SisState, account_id: int, now: float) -> SisBatch | None:
    batch_id = local_id_of(request.match_info["id"])
    return sis.store.get(account_id, batch_id, now) if batch_id is not None else None


async def create(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``POST sis_imports``: multipart ``attachment`` or a raw body."""
    state = request.app[STATE_KEY]
    account_id, refusal = _check(request, caller, {"import_sis"})
    if refusal is not None:
        return refusal
    sis = sis_state(state)
    body = await request.read()
    content_type = request.headers.get("Content-Type", "")
    files: dict[str, Upload] = {}
    if request.content_type == "multipart/form-data":
        fields, files = parse_multipart(body, content_type)
        params = {**dict(parse_qsl(request.query_string, keep_blank_values=True)), **fields}
    elif request.content_type == "application/x-www-form-urlencoded" or "json" in request.content_type:
        params = await params_of(request)
    else:
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
    if params.get("import_type", "instructure_csv") != "instructure_csv":
        return errors.server_error()  # raise "invalid import type parameter"
    if request.content_type == "application/x-www-form-urlencoded":
        body = b""
    parsed = read_create(
        params,
        body=body,
        content_type_header=content_type,
        files=files,
        registry=sis.store.registry(account_id, state.now()),
    )
    if isinstance(parsed, CreateRefusal):
        if parsed.leaves_batch:
            sis.store.create(
                account_id=account_id,
                user_id=caller.user.id,
                now=state.now(),
                options={},
                batch=BatchOptions(),
                upload=b"",
                filename="sis_import.zip",
                initializing=True,
            )
        return errors.not_found() if parsed.status == 404 else errors.json_response(parsed.body, parsed.status)
    batch = sis.store.create(
        account_id=account_id,
        user_id=caller.user.id,
        now=state.now(),
        options=parsed.options,
        batch=parsed.batch,
        upload=parsed.upload.data,
        filename=parsed.upload.filename,
    )
    return reply(request, _render(request, caller, batch))


async def show(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET sis_imports/:id``."""
    state = request.app[STATE_KEY]
    account_id, refusal = _check(request, caller, _EITHER)
    if refusal is not None:
        return refusal
    batch = _batch(request, sis_state(state), account_id, state.now())
    return errors.not_found() if batch is None else reply(request, _render(request, caller, batch))


def _since(raw: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else None
    except ValueError:
        return None  # Canvas ignores a date it cannot read


async def index(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET sis_imports``: newest first, paginated; ``created_since``/``created_before``/``workflow_state[]``."""
    state = request.app[STATE_KEY]
    account_id, refusal = _check(request, caller, _EITHER)
    if refusal is not None:
        return refusal
    params = await params_of(request)
    now = state.now()
    batches = sis_state(state).store.batches(account_id, now)
    since, before = _since(params.get("created_since")), _since(params.get("created_before"))
    if since is not None:
        batches = [b for b in batches if state.wall.at(b.created_at) >= since]
    if before is not None:
        batches = [b for b in batches if state.wall.at(b.created_at) <= before]
    raw_states = params.get("workflow_state")
    wanted = [s for s in (raw_states if isinstance(raw_states, list) else [raw_states]) if s in _STATES]
    bodies = [_render(request, caller, b) for b in batches]
    if wanted:
        bodies = [body for body in bodies if body["workflow_state"] in wanted]
    return _paged(request, params, bodies, "sis_imports")


def _paged(request: web.Request, params: dict[str, Any], items: list[Any], key: str) -> web.Response:
    page, number, per_page, last = page_of(items, params)
    query = [
        (k, v) for k, v in parse_qsl(request.query_string, keep_blank_values=True) if k not in ("page", "per_page")
    ]
    response = reply(request, {key: page})
    response.headers["Link"] = link_header(f"{base_url(request)}{request.path}", query, number, per_page, last)
    return response


async def importing(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET sis_imports/importing``: only importing and cleanup_batch ones, unpaginated."""
    state = request.app[STATE_KEY]
    account_id, refusal = _check(request, caller, _EITHER)
    if refusal is not None:
        return refusal
    now = state.now()
    bodies = [_render(request, caller, b) for b in sis_state(state).store.batches(account_id, now)]
    return reply(request, {"sis_imports": [b for b in bodies if b["workflow_state"] in ("importing", "cleanup_batch")]})


async def abort(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``PUT sis_imports/:id/abort``: only a batch that has not completed; else 404."""
    state = request.app[STATE_KEY]
    account_id, refusal = _check(request, caller, _EITHER)
    if refusal is not None:
        return refusal
    batch_id = local_id_of(request.match_info["id"])
    batch = sis_state(state).store.abort(account_id, batch_id, state.now()) if batch_id is not None else None
    return errors.not_found() if batch is None else reply(request, _render(request, caller, batch))


async def abort_all_pending(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``PUT sis_imports/abort_all_pending``: ``{"aborted": true}``."""
    state = request.app[STATE_KEY]
    account_id, refusal = _check(request, caller, _EITHER)
    if refusal is not None:
        return refusal
    sis_state(state).store.abort_all_pending(account_id, state.now())
    return reply(request, {"aborted": True})


async def restore_states(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``PUT sis_imports/:id/restore_states``: a Progress (tag ``sis_batch_state_restore``) the Progress API serves.

    An id the simulator never created stands for an import made before it started: the restore job
    still starts, so Progress clients can be tested without creating an import first.
    """
    state = request.app[STATE_KEY]
    account_id, refusal = _check(request, caller, {"manage_sis"})
    if refusal is not None:
        return refusal
    batch_id = local_id_of(request.match_info["id"])
    if batch_id is None:
        return errors.not_found()
    params = await params_of(request)
    flags = {
        name: value_to_boolean(params.get(name, "")) for name in ("batch_mode", "undelete_only", "unconclude_only")
    }
    if flags["undelete_only"] and flags["unconclude_only"]:
        return errors.json_response("cannot set both undelete_only and unconclude_only", 400)
    record = state.start_job(tag="sis_batch_state_restore", context_type="SisBatch", context_id=batch_id, user_id=None)
    batch = sis_state(state).store.get(account_id, batch_id, state.now())
    if batch is not None:
        batch.restore_progress_id, batch.restore_partial = record.local_id, any(flags.values())
    view = state.store.view(record.local_id, state.now())
    assert view is not None
    url = f"{base_url(request)}/api/v1/progress/{state.public_id(record.local_id)}"
    return reply(request, progress_json(view, url=url, wall=state.wall, global_ids=state.settings.global_ids))


async def import_errors(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET sis_imports/:id/errors`` and ``GET sis_import_errors``: JSON, paginated, ``failure=true`` filters."""
    state = request.app[STATE_KEY]
    account_id, refusal = _check(request, caller, _EITHER)
    if refusal is not None:
        return refusal
    sis = sis_state(state)
    now = state.now()
    if "id" in request.match_info:
        batch = _batch(request, sis, account_id, now)
        if batch is None:
            return errors.not_found()
        batches = [batch]
    else:
        batches = sis.store.batches(account_id, now)
    params = await params_of(request)
    only_failures = value_to_boolean(params.get("failure", ""))
    entries = [
        error_json(b, m)
        for b in batches
        if b.step(now)[0] not in ("created", "importing", "cleanup_batch", "initializing")
        for m in b.messages()
        if m.failure or not only_failures
    ]
    return _paged(request, params, entries, "sis_import_errors")


async def download_file(request: web.Request) -> web.StreamResponse:
    """``GET /files/:id/download?download_frd=1&verifier=...``: no token needed; 302 to the storage host."""
    state = request.app[STATE_KEY]
    sis = sis_state(state)
    attachment_id = local_id_of(request.match_info["id"])
    batch = next(
        (b for b in sis.store.all_batches() if attachment_id is not None and b.errors_attachment_id == attachment_id),
        None,
    )
    if attachment_id is None or batch is None:
        return web.Response(status=404, text="The page you were looking for doesn't exist", content_type="text/html")
    problem = sis.verifiers.check(request.query.get("verifier", ""), attachment_id)
    if problem is not None:
        return web.Response(status=401, text=f"Unauthorized: {problem}", content_type="text/html")
    body = sis.errors_file_override(batch.id) or errors_csv(batch)
    key = f"attachments/{attachment_id}/{errors_file_name(batch)}"
    sis.filestore.put(key, body, content_type="text/csv", filename=errors_file_name(batch))
    return web.Response(status=302, headers={"Location": sis.filestore.signed_url(key)})


def register(app: web.Application) -> None:
    """Add the SIS routes, the file download route and the storage host's lifecycle."""
    base = "/api/v1/accounts/{account_id}/sis_imports"
    add_api_route(app, "POST", base, create)
    add_api_route(app, "GET", base, index)
    add_api_route(app, "GET", f"{base}/importing", importing)
    add_api_route(app, "PUT", f"{base}/abort_all_pending", abort_all_pending)
    add_api_route(app, "GET", f"{base}/{{id}}", show)
    add_api_route(app, "PUT", f"{base}/{{id}}/abort", abort)
    add_api_route(app, "PUT", f"{base}/{{id}}/restore_states", restore_states)
    add_api_route(app, "GET", f"{base}/{{id}}/errors", import_errors)
    add_api_route(app, "GET", "/api/v1/accounts/{account_id}/sis_import_errors", import_errors)
    app.router.add_get("/files/{id}/download", download_file)

    async def start_store(app: web.Application) -> None:
        await sis_state(app[STATE_KEY]).filestore.start()

    async def stop_store(app: web.Application) -> None:
        await sis_state(app[STATE_KEY]).filestore.stop()

    app.on_startup.append(start_store)
    app.on_cleanup.append(stop_store)
