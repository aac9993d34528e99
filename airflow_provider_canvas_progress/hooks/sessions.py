"""The aiohttp session an async hook uses: borrowed from its token's gate for the life of ``async with``.

Inside ``async with hook`` every call shares the session of the hook's (Canvas, token) on the
running loop (:meth:`~airflow_provider_canvas_progress.hooks.gates.TokenGate.borrow_session`);
outside it, each call opens and closes a session of its own, so that concurrent calls cannot close
each other's (correct, but slower).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from airflow_provider_canvas_progress.core.settings import CanvasSettings
from airflow_provider_canvas_progress.hooks import transport
from airflow_provider_canvas_progress.hooks.gates import gate_for


class BorrowsSession:
    """Mixin of :class:`~airflow_provider_canvas_progress.hooks.canvas.CanvasHook`: its async context."""

    _session: aiohttp.ClientSession | None = None
    _settings: CanvasSettings | None

    async def asettings(self) -> CanvasSettings:  # provided by the hook
        raise NotImplementedError

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

    @asynccontextmanager
    async def _call_session(self, settings: CanvasSettings) -> AsyncIterator[aiohttp.ClientSession]:
        """The borrowed session, or one of this call's own outside ``async with``."""
        if self._session is not None and not self._session.closed:
            yield self._session
            return
        async with transport.new_async_session(settings) as session:
            yield session
