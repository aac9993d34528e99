"""Account reports: list, start, index, show, delete and abort, and the report's file.

From ``app/controllers/account_reports_controller.rb`` (every action needs ``read_reports`` on the
account; sub-accounts are allowed), ``lib/api/v1/account_report.rb`` (the Report JSON) and
``AccountReports`` (how a report ends; see :mod:`.reports_store`). The finished file is reached two
ways, as on Canvas: ``attachment.url`` (``/files/:id/download?download_frd=1&verifier=<uuid>``) needs
no token, the verifier is the permission, and answers with the file (or a redirect to the file
store); ``file_url`` (``/accounts/:id/files/:id/download``) is a web page path, where Canvas reads
no token at all (``lib/authentication_methods.rb`` only reads tokens on ``/api/``): without a browser
session it redirects to the login page, whatever ``Authorization`` header came with it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from . import errors, sis
from .catalog import Course, Term
from .paging import paginate
from .pipeline import STATE_KEY, Caller, add_api_route, base_url, params_of, reply
from .render import local_id_of
from .reports_csv import ReportFile, ReportInput, Student, build_report_file
from .reports_data import REPORT_TYPES
from .reports_store import Phase, ReportRecord, ReportsStore
from .school import STUDENT_IDS
from .sis_state import sis_state
from .state import SimulatorState

__all__ = ["register", "report_json", "store_of"]

_stores: weakref.WeakKeyDictionary[SimulatorState, ReportsStore] = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def store_of(state: SimulatorState) -> ReportsStore:
    """The reports of one simulator (created on first use)."""
    with _stores_lock:
        store = _stores.get(state)
        if store is None:
            store = _stores[state] = ReportsStore()
        return store


def _students(state: SimulatorState) -> list[Student]:
    """The school's students (users 101..105 by default), with SIS ids derived from their Canvas ids."""
    found = [state.identity.user(user_id) for user_id in STUDENT_IDS]
    return [Student(u.id, u.name, f"S{u.id:05d}", u.login_id) for u in found if u is not None]


def _in_account(state: SimulatorState, account_id: int) -> list[Course]:
    """The account's courses: all of its root's for a root account, its own for a sub-account."""
    catalog = state.catalog
    root = catalog.root_of(account_id)
    if root == account_id:
        return [c for c in catalog.courses() if catalog.root_of(c.account_id) == root]
    return [c for c in catalog.courses() if c.account_id == account_id]


def _builder(state: SimulatorState) -> Callable[[ReportRecord], tuple[ReportFile | None, str]]:
    def build(record: ReportRecord) -> tuple[ReportFile | None, str]:
        root = state.catalog.root_of(record.account_id)
        given = ReportInput(
            courses=_in_account(state, record.account_id),
            students=_students(state),
            terms={t.id: t for t in state.catalog.terms(root)},
            now=state.wall.at(state.now()),
            parameters=record.parameters,
            term_ids=_term_scope(state, record.account_id, record.parameters),
        )
        return build_report_file(record.report, record.id, given)

    return build


def _term_value(parameters: dict[str, Any]) -> Any:
    value = parameters.get("enrollment_term_id")
    return value if value not in (None, "") else parameters.get("enrollment_term")


def _term_scope(state: SimulatorState, account_id: int, parameters: dict[str, Any]) -> frozenset[int] | None:
    value = _term_value(parameters)
    if value in (None, "") or value == "active_terms":
        return None
    return frozenset(t.id for t in _find_terms(state, account_id, str(value)))


def _find_terms(state: SimulatorState, account_id: int, raw: str) -> list[Term]:
    """``api_find_all(root_account.enrollment_terms, raw.split(","))``: what names no term is skipped."""
    terms = state.catalog.terms(state.catalog.root_of(account_id))
    found = []
    for item in raw.split(","):
        text = item.strip()
        shard, tilde, local = text.partition("~")
        if tilde and shard.isdigit():
            text = local  # a shard~local global id of this (only) shard
        prefix, colon, value = text.partition(":")
        if colon and prefix in ("sis_term_id", "sis_integration_id"):
            match = [t for t in terms if prefix == "sis_term_id" and t.sis_term_id == value]
        else:
            local_id = local_id_of(text) if text.isdigit() else None
            match = [t for t in terms if t.id == local_id]
        found += match
    return found


def _attachment_json(record: ReportRecord, file: ReportFile, base: str, created: str) -> dict[str, Any]:
    """``Api::V1::Attachment#attachment_json`` (the fields a client reads, in Canvas's order)."""
    query = urlencode({"download_frd": 1, "verifier": record.verifier})
    return {
        "id": record.attachment_id,
        "uuid": record.verifier,
        "folder_id": None,
        "display_name": file.filename,
        "filename": file.filename,
        "upload_status": "success",
        "content-type": file.content_type,
        "url": f"{base}/files/{record.attachment_id}/download?{query}",
        "size": len(file.data),
        "created_at": created,
        "updated_at": created,
        "unlock_at": None,
        "locked": False,
        "hidden": False,
        "lock_at": None,
        "hidden_for_user": False,
        "thumbnail_url": None,
        "modified_at": created,
        "mime_class": "zip" if file.content_type == "application/zip" else "file",
        "media_entry_id": None,
        "category": "uncategorized",
        "locked_for_user": False,
    }


def report_json(state: SimulatorState, record: ReportRecord, phase: Phase, base: str) -> dict[str, Any]:
    """``Api::V1::AccountReport#account_report_json``."""
    wall = state.wall
    parameters = dict(record.parameters)
    if phase.started_at is not None:
        parameters.setdefault("locale", "en")  # run_report adds it when the job runs
    if phase.extra_text is not None:
        parameters["extra_text"] = phase.extra_text
    attached = record.file is not None and record.attachment_id is not None and phase.finished
    body: dict[str, Any] = {
        "id": record.id,
        "progress": phase.progress,
        "parameters": parameters,
        "current_line": phase.current_line,
        "status": phase.status,
        "report": record.report,
        "created_at": wall.iso(record.created_at),
        "started_at": None if phase.started_at is None else wall.iso(phase.started_at),
        "ended_at": None if phase.ended_at is None else wall.iso(phase.ended_at),
        "file_url": f"{base}/accounts/{record.account_id}/files/{record.attachment_id}/download" if attached else None,
    }
    if attached and record.file is not None and phase.ended_at is not None:
        body["attachment"] = _attachment_json(record, record.file, base, wall.iso(phase.ended_at))
    return body


def _settled(request: web.Request, record: ReportRecord) -> tuple[Phase, dict[str, Any]]:
    state = request.app[STATE_KEY]
    store = store_of(state)
    phase = store.settle(record, state.now(), _builder(state))
    return phase, report_json(state, record, phase, base_url(request))


def _account(request: web.Request, caller: Caller) -> tuple[int, web.Response | None]:
    state = request.app[STATE_KEY]
    account_id = local_id_of(request.match_info["account_id"])
    if account_id is None or not state.catalog.has_account(account_id):
        return 0, errors.not_found()
    if not caller.token.can_access("Account", account_id):
        return account_id, errors.unauthorized(state.settings.permission_status)
    return account_id, None


def _found(request: web.Request, account_id: int) -> tuple[ReportRecord, Phase] | None:
    """``type_scope.active.find(params[:id])``: this account's report of this type, not deleted."""
    state = request.app[STATE_KEY]
    store = store_of(state)
    report_id = local_id_of(request.match_info["id"])
    record = store.get(report_id) if report_id is not None else None
    if record is None or record.account_id != account_id or record.report != request.match_info["report"]:
        return None
    phase = store.settle(record, state.now(), _builder(state))
    return None if phase.status == "deleted" else (record, phase)


async def available_reports(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/accounts/:id/reports``: every offered report, sorted by title, with its last run."""
    account_id, refusal = _account(request, caller)
    if refusal is not None:
        return refusal
    state = request.app[STATE_KEY]
    store = store_of(state)
    latest: dict[str, ReportRecord] = {}
    for record in store:
        if record.account_id == account_id and record.deleted_at is None:
            latest[record.report] = record  # ids rise with creation: the last one seen is the newest
    answer = []
    for kind in sorted(REPORT_TYPES.values(), key=lambda t: t.title):
        last = latest.get(kind.name)
        answer.append(
            {
                "title": kind.title,
                "parameters": kind.listing(),
                "report": kind.name,
                "last_run": _settled(request, last)[1] if last is not None else None,
            }
        )
    return reply(request, answer)


async def create_report(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``POST /api/v1/accounts/:id/reports/:report``: ``created`` with ``progress`` 0.

    An unknown report name is the standard 404; a term that names no term of the root account is
    400 ``{"error": "invalid enrollment_term_id '<value>'"}``, where ``active_terms`` and comma lists
    are accepted and one existing term in a list is enough (``api_find_all(...).exists?``).
    """
    account_id, refusal = _account(request, caller)
    if refusal is not None:
        return refusal
    name = request.match_info["report"]
    if name not in REPORT_TYPES:
        return errors.not_found()
    params = await params_of(request)
    raw = params.get("parameters")
    parameters: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
    state = request.app[STATE_KEY]
    store = store_of(state)
    term = _term_value(parameters)
    if term not in (None, "") and term != "active_terms" and not _find_terms(state, account_id, str(term)):
        shown = str(term).lower() if isinstance(term, bool) else term
        return errors.json_response({"error": f"invalid enrollment_term_id '{shown}'"}, 400)
    record = store.create(
        account_id=account_id,
        report=name,
        user_id=caller.user.id,
        parameters=parameters,
        parallel=REPORT_TYPES[name].parallel,
        now=state.now(),
    )
    return reply(request, _settled(request, record)[1])


async def index_reports(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/accounts/:id/reports/:report``: newest first, deleted hidden, paginated.

    An unknown report name is an empty list, not a 404: the scope is simply empty.
    """
    account_id, refusal = _account(request, caller)
    if refusal is not None:
        return refusal
    state = request.app[STATE_KEY]
    name = request.match_info["report"]
    records = [r for r in store_of(state) if r.account_id == account_id and r.report == name]
    shown = [(r, body) for r in sorted(records, key=lambda r: r.id, reverse=True) for body in [_settled(request, r)]]
    bodies = [body for _, (phase, body) in shown if phase.status != "deleted"]
    page = paginate(bodies, f"{base_url(request)}{request.path}", request.query.items())
    response = reply(request, list(page))
    response.headers["Link"] = page.link
    return response


async def _on_report(
    request: web.Request,
    caller: Caller,
    *,
    running_only: bool = False,
    act: Callable[[ReportsStore, ReportRecord, float], None] | None = None,
) -> web.StreamResponse:
    """Find the report (``type_scope.active.find``, or ``type_scope.running.find``), act, answer it."""
    account_id, refusal = _account(request, caller)
    if refusal is not None:
        return refusal
    found = _found(request, account_id)
    if found is None or (running_only and found[1].status != "running"):
        return errors.not_found()
    if act is not None:
        state = request.app[STATE_KEY]
        act(store_of(state), found[0], state.now())
    return reply(request, _settled(request, found[0])[1])


async def show_report(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/accounts/:id/reports/:report/:id``: 404 if deleted or of another type."""
    return await _on_report(request, caller)


async def delete_report(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``DELETE /api/v1/accounts/:id/reports/:report/:id``: a soft delete, answered with status ``deleted``."""
    return await _on_report(request, caller, act=ReportsStore.delete)


async def abort_report(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``PUT /api/v1/accounts/:id/reports/:report/:id/abort``: only a ``running`` report (else 404)."""
    return await _on_report(request, caller, running_only=True, act=ReportsStore.abort)


async def session_file(request: web.Request) -> web.StreamResponse:
    """``/accounts/:id/files/:id/download`` (a report's ``file_url``): a page that needs a browser session.

    ``render_unauthorized_action`` redirects a visitor with no session to the login page; a bearer
    token is not read on a non-API path, so it changes nothing.
    """
    raise web.HTTPFound(f"{base_url(request)}/login")


async def login_page(request: web.Request) -> web.StreamResponse:
    """``/login``: Canvas's login form (HTML), what a client that follows ``file_url`` ends up saving."""
    html = "<!DOCTYPE html><html><head><title>Log In to Canvas</title></head><body><form action='/login/canvas'>"
    return web.Response(text=html + "</form></body></html>", content_type="text/html")


async def download_file(request: web.Request) -> web.StreamResponse:
    """``/files/:id/download?download_frd=1&verifier=<uuid>`` (``attachment.url``): the verifier is the permission.

    No token is needed or read: the attachment's uuid verifier proves access
    (``valid_verifier_for_permission?``), and Canvas answers 302 to a short-lived signed URL on its
    storage host (``render_or_redirect_to_stored_file``), which refuses any ``Authorization``
    header. A wrong verifier gets the login redirect, as ``file_url`` does. Other attachments (a SIS
    import's errors file) are :mod:`.sis`'s.
    """
    state = request.app[STATE_KEY]
    attachment_id = local_id_of(request.match_info["id"])
    record = store_of(state).attachment(attachment_id) if attachment_id is not None else None
    if record is None or record.file is None:
        return await sis.download_file(request)
    if request.query.get("verifier") != record.verifier:
        raise web.HTTPFound(f"{base_url(request)}/login")
    file, storage = record.file, sis_state(state).filestore
    key = f"attachments/{record.attachment_id}/{file.filename}"
    storage.put(key, file.data, content_type=file.content_type, filename=file.filename)
    raise web.HTTPFound(storage.signed_url(key))


def register(app: web.Application) -> None:
    """Add the account report routes (API, file pages) and their ``/__sim__/reports`` control routes."""
    base = "/api/v1/accounts/{account_id}/reports"
    add_api_route(app, "GET", base, available_reports)
    add_api_route(app, "POST", base + "/{report}", create_report)
    add_api_route(app, "GET", base + "/{report}", index_reports)
    add_api_route(app, "GET", base + "/{report}/{id}", show_report)
    add_api_route(app, "DELETE", base + "/{report}/{id}", delete_report)
    add_api_route(app, "PUT", base + "/{report}/{id}/abort", abort_report)
    app.router.add_get("/accounts/{account_id}/files/{id}/download", session_file)
    # Before sis.register: this route serves report files and hands every other attachment to sis.
    app.router.add_get("/files/{id}/download", download_file)
    app.router.add_get("/login", login_page)
    # The control routes import this module's renderers, hence the import here.
    from . import reports_control

    reports_control.register(app)
