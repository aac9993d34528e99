"""The ``/__sim__/reports`` control API: script how the next reports end, read and pin reports.

========  ===============================  =====================================================
method    path                             what
========  ===============================  =====================================================
GET       /__sim__/reports                 every report as served now (deleted ones included)
POST      /__sim__/reports/scripts         queue a script for the next report (JSON: script, report)
GET       /__sim__/reports/<id>            one report as served now
POST      /__sim__/reports/<id>            pin fields (status, progress, current_line, extra_text)
POST      /__sim__/reports/courses         put a course in a term (JSON: course_id, term_id)
========  ===============================  =====================================================

A script is :class:`.reports_store.ReportScript`'s fields, e.g.
``{"script": {"outcome": "error", "extra_text": "Failed, ... ErrorReport:42;"}, "report": "grade_export_csv"}``.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .pipeline import STATE_KEY, base_url
from .render import local_id_of
from .reports import _builder, report_json, store_of
from .reports_store import ReportRecord, ReportScript

__all__ = ["register"]


def _answer(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _problem(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _render(request: web.Request, record: ReportRecord) -> dict[str, Any]:
    state = request.app[STATE_KEY]
    store = store_of(state)
    phase = store.settle(record, state.now(), _builder(state, store))
    return report_json(state, record, phase, base_url(request))


async def list_reports(request: web.Request) -> web.StreamResponse:
    """Every report, oldest first."""
    return _answer([_render(request, r) for r in store_of(request.app[STATE_KEY])])


async def queue_script(request: web.Request) -> web.StreamResponse:
    """Queue a script for the next report (of a type, if ``report`` is given)."""
    try:
        data = await _json_body(request)
        script = ReportScript.from_dict(data.get("script", {}))
    except (TypeError, ValueError) as exc:
        return _problem(str(exc))
    report = data.get("report")
    store_of(request.app[STATE_KEY]).script_next(script, report=None if report is None else str(report))
    return _answer({"queued": True}, 201)


def _record(request: web.Request) -> ReportRecord | None:
    report_id = local_id_of(request.match_info["id"])
    return store_of(request.app[STATE_KEY]).get(report_id) if report_id is not None else None


async def show_report(request: web.Request) -> web.StreamResponse:
    """One report, bypassing auth and deletion."""
    record = _record(request)
    if record is None:
        return _problem("no such report", 404)
    return _answer(_render(request, record))


async def set_report(request: web.Request) -> web.StreamResponse:
    """Pin fields of a report (its script stops moving it)."""
    record = _record(request)
    if record is None:
        return _problem("no such report", 404)
    state = request.app[STATE_KEY]
    try:
        store_of(state).pin(record, state.now(), **await _json_body(request))
    except (TypeError, ValueError) as exc:
        return _problem(str(exc))
    return _answer(_render(request, record))


async def place_course(request: web.Request) -> web.StreamResponse:
    """Move a course into a term (terms are added with ``POST /__sim__/sis/terms``)."""
    try:
        data = await _json_body(request)
        course_id, term_id = int(data["course_id"]), int(data["term_id"])
    except (TypeError, ValueError, KeyError) as exc:
        return _problem(f"give course_id and term_id ({exc})")
    store_of(request.app[STATE_KEY]).school.place_course(course_id, term_id)
    return _answer({"course_id": course_id, "term_id": term_id}, 201)


def register(app: web.Application) -> None:
    """Add the report control routes."""
    router = app.router
    router.add_get("/__sim__/reports", list_reports)
    router.add_post("/__sim__/reports/scripts", queue_script)
    router.add_post("/__sim__/reports/courses", place_course)
    router.add_get("/__sim__/reports/{id}", show_report)
    router.add_post("/__sim__/reports/{id}", set_report)
