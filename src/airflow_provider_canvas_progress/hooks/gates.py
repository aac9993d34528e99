"""Per-process courtesy towards one token's Canvas bucket, shared by every hook in the process.

Every hook in a process (and so every trigger in a triggerer) that talks to the same Canvas with
the same token shares one gate: a pacer that slows all of them down together when
``X-Rate-Limit-Remaining`` is low, and, for async callers, a cap on requests in flight. Each
in-flight request costs 50 of Canvas's 600 units, so a few hundred waits polling at once would
throttle themselves without the cap.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import weakref

from airflow_provider_canvas_progress.core.retry import RatePacer
from airflow_provider_canvas_progress.core.settings import CanvasSettings


class TokenGate:
    """The pacer and the in-flight cap of one (Canvas, token)."""

    def __init__(self, settings: CanvasSettings) -> None:
        self.pacer = RatePacer(settings.rate_limit_low_water)
        self.max_in_flight = settings.max_in_flight
        # asyncio primitives belong to one event loop; tests and Airflow 2 may run several.
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def semaphore(self) -> asyncio.Semaphore:
        """The in-flight cap for the running event loop."""
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.max_in_flight)
        return semaphore


_gates: dict[tuple[str, str], TokenGate] = {}
_gates_lock = threading.Lock()


def gate_for(settings: CanvasSettings) -> TokenGate:
    """The process's gate for this connection's Canvas and token (created on first use)."""
    # Keyed by a digest so that no module-level structure holds the token itself. A developer-key
    # connection's token changes every hour; its gate follows the client, which is what Canvas
    # buckets LTI calls by, and keeps one pacer across renewals.
    if settings.credentials is not None:
        identity = f"{settings.credentials.kind}:{settings.credentials.client_id}"
    else:
        identity = settings.token
    key = (settings.base_url, hashlib.sha256(identity.encode()).hexdigest())
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = TokenGate(settings)
        return gate
