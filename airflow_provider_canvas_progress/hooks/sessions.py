"""A hook's sessions: one requests session for sync calls, and for async ones the aiohttp session
borrowed from its token's gate for the life of ``async with``.

Inside ``async with hook`` every call shares the session of the hook's (Canvas, token) on the
running loop (:meth:`~airflow_provider_canvas_progress.hooks.gates.TokenGate.borrow_session`);
outside it, each call opens and closes a session of its own, so that concurrent calls cannot close
each other's (correct, but slower).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import aiohttp
import requests

from airflow_provider_canvas_progress.core.settings import CanvasSettings
from airflow_provider_canvas_progress.hooks import transport
from airflow_provider_canvas_progress.hooks.gates import gate_for


class HookSessions:
    """Mixin of :class:`~airflow_provider_canvas_progress.hooks.canvas.CanvasHook`: its sessions."""

    _session: aiohttp.ClientSession | None = None
    _settings: CanvasSettings | None

    async def asettings(self) -> CanvasSettings:  # provided by the hook
        raise NotImplementedError

    @cached_property
    def _requests_session(self) -> requests.Session:
        return transport.new_session()

    def get_conn(self) -> requests.Session:
        """The requests session used for sync calls (auth is added per request, not stored on it)."""
        return self._requests_session

    async def __aenter__(self) -> Any:
        settings = await self.asettings()
        if self._session is None or self._session.closed:
            # Borrowed from the token's gate: every hook of this token on the loop shares it.
            self._session = await gate_for(settings).borrow_session(settings)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Give back the session borrowed by ``async with`` (the last hook out closes it)."""
        if self._session is not None:
            session, self._session = self._session, None
            await gate_for(self._settings or await self.asettings()).return_session(session)

    @staticmethod
    def _own_session(settings: CanvasSettings) -> aiohttp.ClientSession:
        """A session of one call's own, outside ``async with``: concurrent calls cannot close each other's."""
        return transport.new_async_session(settings)
