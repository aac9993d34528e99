"""Per-process courtesy towards one token's Canvas bucket, shared by every hook in the process.

Every hook in a process (and so every trigger in a triggerer) that talks to the same Canvas with
the same token shares one gate: a pacer that slows all of them down together when
``X-Rate-Limit-Remaining`` is low, and, for async callers, a cap on requests in flight and one
aiohttp session. Each in-flight request costs 50 of Canvas's 600 units, so a few hundred waits
polling at once would throttle themselves without the cap; and since the cap bounds the requests
in flight, a few pooled connections serve them all.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import weakref
from dataclasses import dataclass

import aiohttp

from airflow_provider_canvas_progress.core.retry import RatePacer
from airflow_provider_canvas_progress.core.settings import CanvasSettings
from airflow_provider_canvas_progress.hooks import transport


@dataclass
class _SharedSession:
    session: aiohttp.ClientSession
    borrowers: int = 0


class TokenGate:
    """The pacer and the in-flight cap of one (Canvas, token)."""

    def __init__(self, settings: CanvasSettings) -> None:
        self.pacer = RatePacer(settings.rate_limit_low_water)
        self.max_in_flight = settings.max_in_flight
        # asyncio primitives belong to one event loop; tests and Airflow 2 may run several.
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _SharedSession] = (
            weakref.WeakKeyDictionary()
        )

    def semaphore(self) -> asyncio.Semaphore:
        """The in-flight cap for the running event loop."""
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.max_in_flight)
        return semaphore

    # -- the shared aiohttp session ------------------------------------------------------------

    async def borrow_session(self, settings: CanvasSettings) -> aiohttp.ClientSession:
        """The session every hook of this (Canvas, token) shares on the running event loop.

        One session, and so one small pool of kept-alive connections (at most ``max_in_flight``
        requests are ever in flight on it), serves every trigger of the token in a triggerer: a
        connection per waiting trigger would cost a TLS receive buffer (256 KiB in CPython) each, a
        gigabyte for 5,000 waits. Give it back with :meth:`return_session`; the last one closes it.
        """
        loop = asyncio.get_running_loop()
        shared = self._sessions.get(loop)
        if shared is None or shared.session.closed:
            shared = self._sessions[loop] = _SharedSession(transport.new_async_session(settings))
        shared.borrowers += 1
        return shared.session

    async def return_session(self, session: aiohttp.ClientSession) -> None:
        """Give back a borrowed session; it is closed when its last borrower has gone."""
        loop = asyncio.get_running_loop()
        shared = self._sessions.get(loop)
        if shared is None or shared.session is not session:
            await session.close()  # not the loop's shared one (it was replaced): nobody else uses it
            return
        shared.borrowers -= 1
        if shared.borrowers <= 0:
            del self._sessions[loop]
            await session.close()


_gates: dict[tuple[str, str], TokenGate] = {}
_gates_lock = threading.Lock()
#: The key of recently seen settings objects (one per connection read, shared by its hooks), so a
#: poll does not hash the token again. Weak references: nothing here keeps a token alive, and an id
#: reused by a new object is told apart by its dead reference.
_keys: dict[int, tuple[weakref.ref[CanvasSettings], tuple[str, str]]] = {}


def gate_for(settings: CanvasSettings) -> TokenGate:
    """The process's gate for this connection's Canvas and token (created on first use)."""
    seen = _keys.get(id(settings))
    if seen is not None and seen[0]() is settings:
        gate = _gates.get(seen[1])
        if gate is not None:
            return gate
    key = _key(settings)
    if len(_keys) >= 64:
        _keys.clear()
    _keys[id(settings)] = (weakref.ref(settings), key)
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = TokenGate(settings)
        return gate


def _key(settings: CanvasSettings) -> tuple[str, str]:
    # Keyed by a digest so that no module-level structure holds the token itself. A developer-key
    # connection's token changes every hour; its gate follows the client, which is what Canvas
    # buckets LTI calls by, and keeps one pacer across renewals.
    if settings.credentials is not None:
        identity = f"{settings.credentials.kind}:{settings.credentials.client_id}"
    else:
        identity = settings.token
    return (settings.base_url, hashlib.sha256(identity.encode()).hexdigest())
