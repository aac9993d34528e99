"""Controlling a simulator's account reports: the ``/__sim__/reports`` HTTP API and :func:`reports_of`.

========  ===============================  =====================================================
method    path                             what
========  ===============================  =====================================================
GET       /__sim__/reports                 every report as served now (deleted ones included)
POST      /__sim__/reports/scripts         queue a script for the next report (JSON: script, report)
GET       /__sim__/reports/<id>            one report as served now
POST      /__sim__/reports/<id>            pin fields (status, progress, current_line, extra_text)
========  ===============================  =====================================================

A script is :class:`.reports_store.ReportScript`'s fields, e.g.
``{"script": {"outcome": "error", "extra_text": "Failed, ... ErrorReport:42;"}, "report": "grade_export_csv"}``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .pipeline import STATE_KEY, base_url
from .render import local_id_of
from .reports import _builder, report_json, store_of
from .reports_data import REPORT_TYPES
from .reports_store import ReportRecord, ReportScript
from .state import SimulatorState

if TYPE_CHECKING:
    from .simulator import CanvasSimulator

__all__ = ["SimulatorReports", "register", "reports_of"]


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
    phase = store.settle(record, state.now(), _builder(state))
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


def register(app: web.Application) -> None:
    """Add the report control routes."""
    router = app.router
    router.add_get("/__sim__/reports", list_reports)
    router.add_post("/__sim__/reports/scripts", queue_script)
    router.add_get("/__sim__/reports/{id}", show_report)
    router.add_post("/__sim__/reports/{id}", set_report)


class SimulatorReports:
    """Python control of one simulator's account reports: scripts, reports started without HTTP, pinned fields.

    >>> reports = reports_of(sim)  # doctest: +SKIP
    >>> reports.script_next(ReportScript.failing("ErrorReport:42"), report="grade_export_csv")  # doctest: +SKIP
    """

    def __init__(self, sim: CanvasSimulator) -> None:
        self._sim = sim
        self._state: SimulatorState = sim._state
        self.store = store_of(self._state)

    def script_next(self, script: ReportScript, *, report: str | None = None) -> None:
        """Queue ``script`` for the next report started (of type ``report``, if given)."""
        self.store.script_next(script, report=report)

    def start(self, account_id: int, report: str, parameters: dict[str, Any] | None = None, *, user_id: int = 1) -> int:
        """Start a report without HTTP (as if someone ran it in Canvas's UI) and return its id.

        :raises KeyError: a report the simulator does not offer.
        """
        if report not in REPORT_TYPES:
            raise KeyError(f"the simulator offers no report {report!r}; it offers {sorted(REPORT_TYPES)}")
        record = self.store.create(
            account_id=account_id,
            report=report,
            user_id=user_id,
            parameters=dict(parameters or {}),
            parallel=REPORT_TYPES[report].parallel,
            now=self._state.now(),
        )
        return record.id

    def delete(self, report_id: int) -> None:
        """Delete a report as ``DELETE .../reports/:report/:id`` does.

        :raises KeyError: unknown id.
        """
        self.store.delete(self._record(report_id), self._state.now())

    def _record(self, report_id: int) -> ReportRecord:
        record = self.store.get(report_id)
        if record is None:
            raise KeyError(f"no report {report_id!r} in this simulator")
        return record

    def report_json(self, report_id: int) -> dict[str, Any]:
        """The report as ``show`` would serve it now (even once deleted).

        :raises KeyError: unknown id.
        """
        record = self._record(report_id)
        phase = self.store.settle(record, self._state.now(), _builder(self._state))
        return report_json(self._state, record, phase, self._sim.base_url)

    def set_report(self, report_id: int, **fields: Any) -> dict[str, Any]:
        """Pin a report's ``status``, ``progress``, ``current_line`` or ``extra_text`` (it stops moving).

        :raises KeyError: unknown id. :raises ValueError: unknown field.
        """
        record = self._record(report_id)
        self.store.pin(record, self._state.now(), **fields)
        return self.report_json(report_id)


def reports_of(sim: CanvasSimulator) -> SimulatorReports:
    """The account-report controls of a simulator."""
    return SimulatorReports(sim)
