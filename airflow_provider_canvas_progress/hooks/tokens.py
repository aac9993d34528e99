"""Caching the access tokens of developer-key connections, for sync and async callers alike.

``oauth2_refresh`` and ``lti_advantage`` connections hold no access token: one is asked of Canvas's
token endpoint, kept until shortly before it expires, and asked again. What to send and how to read
the answer is :mod:`airflow_provider_canvas_progress.core.auth`; the call itself is a plan
(:func:`airflow_provider_canvas_progress.hooks.plans.token_plan`) run by the hook's drivers, as every
Canvas call is (:mod:`airflow_provider_canvas_progress.hooks.access`).

One :class:`TokenSource` per (Canvas, credentials) per process, shared by every hook -- sync in
workers, async in the triggerer -- so a triggerer running three hundred waits on one developer key
asks Canvas for one token an hour, not three hundred. And a lock, because for ``oauth2_refresh`` each
refresh *invalidates* the token before it: triggers refreshing side by side would keep knocking
each other's tokens out.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Awaitable, Callable

from airflow_provider_canvas_progress.core.auth import (
    Credentials,
    LtiAdvantageCredentials,
    SigningKey,
    load_signing_key,
)
from airflow_provider_canvas_progress.core.grants import AccessGrant
from airflow_provider_canvas_progress.core.settings import CanvasSettings

__all__ = ["TokenSource", "token_source_for"]


class TokenSource:
    """The current access token of one set of credentials in this process.

    :param credentials: the connection's developer-key credentials.
    :param clock: monotonic seconds; both when a grant was obtained and when it is due are read
        from it, so a test can move it instead of sleeping past a renewal point.
    """

    def __init__(self, credentials: Credentials, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.credentials = credentials
        self.clock = clock
        #: How many tokens this process obtained with these credentials (for logs and tests).
        self.issued = 0
        self._grant: AccessGrant | None = None
        self._signing_key: SigningKey | None = None
        # Held only to read or swap the grant, never across I/O: the event loop may take it.
        self._state = threading.Lock()
        # Held by a worker thread for the length of its token request, so threads queue behind it.
        self._fetching = threading.Lock()
        # asyncio locks belong to one event loop; tests and Airflow 2 may run several.
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"TokenSource({self.credentials.kind}, client_id={self.credentials.client_id!r}, issued={self.issued})"

    @property
    def signing_key(self) -> SigningKey | None:
        """The LTI tool's key, loaded once (RSA parsing is not free); None for OAuth2 refresh."""
        credentials = self.credentials
        if not isinstance(credentials, LtiAdvantageCredentials):
            return None
        if self._signing_key is None:
            self._signing_key = load_signing_key(credentials.private_key, key_id=credentials.key_id)
        return self._signing_key

    def fresh(self, now: float | None = None) -> AccessGrant | None:
        """The current grant, unless there is none or it is due for renewal."""
        with self._state:
            grant = self._grant
        moment = self.clock() if now is None else now
        return grant if grant is not None and not grant.needs_renewal(moment) else None

    def invalidate(self, access_token: str) -> bool:
        """Forget the grant if it still is ``access_token`` (Canvas refused it); True if forgotten.

        Comparing first matters: when many triggers are refused with the same old token, only the
        first forgets it; the others find the new one already in place and use it.
        """
        with self._state:
            if self._grant is not None and self._grant.access_token == access_token:
                self._grant = None
                return True
            return False

    def _store(self, grant: AccessGrant) -> AccessGrant:
        with self._state:
            self._grant = grant
            self.issued += 1
        return grant

    def get(self, fetch: Callable[[TokenSource], AccessGrant]) -> AccessGrant:
        """The current grant, fetching a new one (once, whoever asks at the same time) when due."""
        grant = self.fresh()
        if grant is not None:
            return grant
        with self._fetching:
            grant = self.fresh()
            if grant is not None:  # another thread renewed it while we waited
                return grant
            return self._store(fetch(self))

    async def aget(self, fetch: Callable[[TokenSource], Awaitable[AccessGrant]]) -> AccessGrant:
        """Async twin of :meth:`get`: one renewal per event loop at a time."""
        grant = self.fresh()
        if grant is not None:
            return grant
        loop = asyncio.get_running_loop()
        with self._state:
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks[loop] = asyncio.Lock()
        async with lock:
            grant = self.fresh()
            if grant is not None:  # another trigger renewed it while we waited
                return grant
            return self._store(await fetch(self))


_sources: dict[tuple[str, str], TokenSource] = {}
_sources_lock = threading.Lock()


def token_source_for(settings: CanvasSettings) -> TokenSource:
    """The process-wide :class:`TokenSource` of a developer-key connection.

    Keyed by the credentials' fingerprint (a digest: no module-level structure holds a secret as a
    key), so a rotated secret gets a source of its own instead of a stale token.

    :raises ValueError: the connection uses a plain access token.
    """
    credentials = settings.credentials
    if credentials is None:
        raise ValueError("token_source_for() needs a connection with developer-key credentials")
    key = (settings.base_url, credentials.fingerprint)
    with _sources_lock:
        source = _sources.get(key)
        if source is None:
            source = _sources[key] = TokenSource(credentials)
        return source
