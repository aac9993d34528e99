"""Scripting SIS imports: the Python API (``sim.sis``) and the ``/__sim__/sis`` routes.

========  ==================================  ===================================================
method    path                                what
========  ==================================  ===================================================
POST      /__sim__/sis/scripts                queue a script for the next import (JSON: script)
POST      /__sim__/sis/accounts/<id>          account settings (JSON: root, allow_sis_import)
POST      /__sim__/sis/permissions            a user's SIS rights (JSON: user_id, permissions)
POST      /__sim__/sis/terms                  add a term (JSON: name, sis_term_id, account_id)
GET       /__sim__/sis/imports/<id>           an import's JSON, bypassing auth
GET       /__sim__/sis/storage                the storage host's URL and the requests it received
========  ==================================  ===================================================
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from .filestore import FileStore
from .pipeline import STATE_KEY, base_url
from .sis import restore_state_of
from .sis_csv import build_zip
from .sis_import import BatchOptions, SisRegistry
from .sis_render import sis_import_json
from .sis_script import SisScript
from .sis_state import SisAccount, SisState, sis_state
from .state import SimulatorState

__all__ = ["SisControl", "build_zip", "register"]


class SisControl:
    """SIS imports of one simulator, for tests: accounts, rights, terms, scripts, the storage host.

    Reach it as ``sim.sis``. ``sim.sis.script_next_import(SisScript(outcome="failed_with_messages"))``
    decides how the next import ends; without a script the uploaded CSVs decide.
    """

    def __init__(self, state: SimulatorState, url: str) -> None:
        self._state = state
        self._sis: SisState = sis_state(state)
        self._url = url

    def set_account(self, account_id: int, *, root: bool = True, allow_sis_import: bool = True) -> None:
        """Register an account (unless the school has it) with its SIS settings (``root=False``: a sub-account)."""
        if self._state.catalog.account(account_id) is None:
            self._state.catalog.add_account(account_id, parent_account_id=None if root else 1)
        self._sis.set_account(account_id, SisAccount(root=root, allow_sis_import=allow_sis_import))

    def set_permissions(self, user_id: int, permissions: Iterable[str]) -> None:
        """Give a user exactly these SIS rights (``import_sis``, ``manage_sis``)."""
        self._sis.set_permissions(user_id, frozenset(permissions))

    def add_term(self, name: str, *, sis_term_id: str | None = None, account_id: int = 1, active: bool = True) -> int:
        """Add an enrollment term to a root account (in the school's catalog) and return its id."""
        return self._sis.store.registry(account_id).add_term(name, sis_term_id, active=active).id

    def registry(self, account_id: int = 1) -> SisRegistry:
        """The SIS data imports wrote on a root account."""
        return self._sis.store.registry(account_id, self._state.now())

    def script_next_import(self, script: SisScript) -> None:
        """Use ``script`` for the next import created (queued first in, first out)."""
        self._sis.store.queue_script(script)

    def script_import(self, batch_id: int, script: SisScript) -> None:
        """Decide how an existing import that has not started yet will run and end.

        :raises KeyError: unknown import.
        :raises ValueError: it already started.
        """
        self._sis.store.set_script(batch_id, script)

    @property
    def default_script(self) -> SisScript:
        """The script of imports nobody queued one for."""
        return self._sis.store.default_script

    @default_script.setter
    def default_script(self, script: SisScript) -> None:
        self._sis.store.default_script = script

    def create_import(
        self,
        files: Mapping[str, str | bytes] | None = None,
        *,
        account_id: int = 1,
        data: bytes | None = None,
        filename: str = "sis_import.zip",
        user_id: int = 1,
        script: SisScript | None = None,
        batch: BatchOptions | None = None,
    ) -> int:
        """Create an import without HTTP (a zip of ``files``, or ``data``) and return its id."""
        upload = data if data is not None else build_zip(dict(files or {}))
        record = self._sis.store.create(
            account_id=account_id,
            user_id=user_id,
            now=self._state.now(),
            options={},
            batch=batch or BatchOptions(),
            upload=upload,
            filename=filename,
            script=script,
        )
        return record.id

    def import_json(self, batch_id: int, *, user_id: int = 1) -> dict[str, Any]:
        """An import's JSON as ``user_id`` would read it now.

        :raises KeyError: unknown import.
        """
        record = self._sis.store.find(batch_id)
        if record is None:
            raise KeyError(f"no SIS import {batch_id}")
        record = self._sis.store.get(record.account_id, batch_id, self._state.now()) or record
        attachment = record.errors_attachment_id
        return sis_import_json(
            record,
            now=self._state.now(),
            wall=self._state.wall,
            base_url=self._url,
            verifier=self._sis.verifiers.issue(attachment, user_id) if attachment is not None else None,
            state_override=restore_state_of(self._state, record),
        )

    def set_errors_file(self, batch_id: int, body: bytes) -> None:
        """Serve ``body`` as the import's errors file (an oversized or odd one)."""
        self._sis.set_errors_file(batch_id, body)

    @property
    def filestore(self) -> FileStore:
        """The storage host: its ``base_url``, the ``requests`` it received, a ``delay`` to slow it."""
        return self._sis.filestore


def _answer(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": "expected a JSON object"}), content_type="application/json")
    return parsed


def _control(request: web.Request) -> SisControl:
    return SisControl(request.app[STATE_KEY], base_url(request))


async def queue_script(request: web.Request) -> web.StreamResponse:
    """Queue a script for the next import."""
    data = await _body(request)
    try:
        script = SisScript.from_dict(data.get("script", {}))
    except (TypeError, ValueError) as exc:
        return _answer({"error": str(exc)}, 400)
    _control(request).script_next_import(script)
    return _answer({"queued": True}, 201)


async def set_account(request: web.Request) -> web.StreamResponse:
    """Register an account and its SIS settings."""
    data = await _body(request)
    raw = request.match_info["id"]
    if not raw.isdigit():
        return _answer({"error": "account id must be a number"}, 400)
    root, allow = bool(data.get("root", True)), bool(data.get("allow_sis_import", True))
    _control(request).set_account(int(raw), root=root, allow_sis_import=allow)
    return _answer({"id": int(raw), "root": root, "allow_sis_import": allow})


async def set_permissions(request: web.Request) -> web.StreamResponse:
    """Set a user's SIS rights."""
    data = await _body(request)
    try:
        _control(request).set_permissions(int(data["user_id"]), [str(p) for p in data.get("permissions", [])])
    except (KeyError, TypeError, ValueError) as exc:
        return _answer({"error": str(exc)}, 400)
    return _answer({"user_id": int(data["user_id"]), "permissions": sorted(data.get("permissions", []))})


async def add_term(request: web.Request) -> web.StreamResponse:
    """Add an enrollment term."""
    data = await _body(request)
    sis_id = data.get("sis_term_id")
    term_id = _control(request).add_term(
        str(data.get("name", "Term")),
        sis_term_id=None if sis_id is None else str(sis_id),
        account_id=int(data.get("account_id", 1)),
    )
    return _answer({"id": term_id}, 201)


async def show_import(request: web.Request) -> web.StreamResponse:
    """An import's JSON, without auth."""
    raw = request.match_info["id"]
    try:
        return _answer(_control(request).import_json(int(raw)))
    except (KeyError, ValueError):
        return _answer({"error": "no such SIS import"}, 404)


async def storage(request: web.Request) -> web.StreamResponse:
    """The storage host's URL and requests."""
    store = _control(request).filestore
    requests = [
        {"method": r.method, "path": r.path, "status": r.status, "authorization": r.header("Authorization") is not None}
        for r in store.requests
    ]
    return _answer({"base_url": store.base_url, "requests": requests})


def register(app: web.Application) -> None:
    """Add the ``/__sim__/sis`` routes."""
    app.router.add_post("/__sim__/sis/scripts", queue_script)
    app.router.add_post("/__sim__/sis/accounts/{id}", set_account)
    app.router.add_post("/__sim__/sis/permissions", set_permissions)
    app.router.add_post("/__sim__/sis/terms", add_term)
    app.router.add_get("/__sim__/sis/imports/{id}", show_import)
    app.router.add_get("/__sim__/sis/storage", storage)
