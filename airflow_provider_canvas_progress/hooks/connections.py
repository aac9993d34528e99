"""Connection reads, kept per process per connection id for a short time.

In Airflow 3's triggerer every connection read is a round trip to the API server, so a restart
with a thousand waits on one connection would make a thousand reads. A validated connection is
kept here for :data:`MAX_AGE` seconds and shared by every hook of that id in the process; it is
read again after that age, after Canvas refused its token (:func:`forget`), or when the
``AIRFLOW_CONN_<ID>`` environment variable that defines it changed.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_canvas_progress.compat import aconnection_extras, connection_extras
from airflow_provider_canvas_progress.core.extras import ExtraReader
from airflow_provider_canvas_progress.core.settings import CanvasSettings, settings_from_connection

#: Seconds a connection read is reused: short, so an edited connection is picked up within a minute.
MAX_AGE = 60.0


@dataclass(frozen=True)
class _Entry:
    settings: CanvasSettings
    read_at: float
    environment: str | None


_entries: dict[str, _Entry] = {}
_lock = threading.Lock()
#: Held by a thread while it reads a connection (reads are rare: one lock for all ids is enough).
_reading = threading.Lock()
_async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)
#: How many times a connection was really read in this process (for tests and benchmarks).
reads = 0


def _environment(conn_id: str) -> str | None:
    return os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")


def _cached(conn_id: str, clock: Callable[[], float]) -> CanvasSettings | None:
    with _lock:
        entry = _entries.get(conn_id)
    if entry is None or clock() - entry.read_at >= MAX_AGE or entry.environment != _environment(conn_id):
        return None
    return entry.settings


def _keep(conn_id: str, settings: CanvasSettings, clock: Callable[[], float]) -> CanvasSettings:
    global reads
    with _lock:
        reads += 1
        _entries[conn_id] = _Entry(settings, clock(), _environment(conn_id))
    return settings


def read(
    conn_id: str, get: Callable[[str], Any], log: Any, *, clock: Callable[[], float] = time.monotonic
) -> CanvasSettings:
    """The connection's settings, from the cache or read with ``get(conn_id)`` and validated.

    Threads asking at once wait for one read rather than each making their own.
    """
    cached = _cached(conn_id, clock)
    if cached is not None:
        return cached
    with _reading:
        cached = _cached(conn_id, clock)
        return cached if cached is not None else _keep(conn_id, validated(conn_id, get(conn_id), log), clock)


async def aread(
    conn_id: str, get: Callable[[str], Awaitable[Any]], log: Any, *, clock: Callable[[], float] = time.monotonic
) -> CanvasSettings:
    """:func:`read` for the event loop (``get`` awaits the read).

    Triggers starting together (a triggerer restart) wait for one read of their connection.
    """
    cached = _cached(conn_id, clock)
    if cached is not None:
        return cached
    async with _loop_lock(conn_id):
        cached = _cached(conn_id, clock)
        if cached is not None:
            return cached
        conn = await get(conn_id)
        return _keep(conn_id, validated(conn_id, conn, log, extras=await aconnection_extras(conn)), clock)


def _loop_lock(conn_id: str) -> asyncio.Lock:
    """One lock per connection id and event loop (asyncio locks belong to one loop)."""
    loop = asyncio.get_running_loop()
    with _lock:
        locks = _async_locks.setdefault(loop, {})
        return locks.setdefault(conn_id, asyncio.Lock())


def with_overrides(settings: CanvasSettings, timeout: float | None, max_attempts: int | None) -> CanvasSettings:
    """``settings`` with a hook's own ``timeout``/``max_attempts`` (checked against the extras' ranges)."""
    given = {key: value for key, value in {"timeout": timeout, "max_attempts": max_attempts}.items() if value}
    if not given:
        return settings
    reader = ExtraReader(given, f"CanvasHook({settings.conn_id!r})")
    return replace(
        settings,
        timeout=reader.bounded("timeout", settings.timeout),
        max_attempts=int(reader.bounded("max_attempts", settings.max_attempts, integer=True)),
    )


def forget(conn_id: str) -> None:
    """Read the connection again next time (Canvas refused its token: it may have been replaced)."""
    with _lock:
        _entries.pop(conn_id, None)


def clear() -> None:
    """Forget every connection (tests)."""
    with _lock:
        _entries.clear()


def validated(conn_id: str, conn: Any, log: Any, *, extras: dict[str, Any] | None = None) -> CanvasSettings:
    """A connection just read, validated, with a warning about extras it sets in vain.

    ``extras``: the connection's extras when already read (the event loop reads them with
    :func:`~airflow_provider_canvas_progress.compat.aconnection_extras`), else read here.
    """
    settings = settings_from_connection(
        conn_id=conn_id,
        host=conn.host,
        password=conn.password,
        extras=connection_extras(conn) if extras is None else extras,
        schema=conn.schema,
        port=conn.port,
    )
    if settings.unknown_extras:
        log.warning(
            "Canvas connection %r has extras this provider does not read: %s (typos?).",
            conn_id,
            ", ".join(settings.unknown_extras),
        )
    if settings.unused_extras:
        log.warning(
            "Canvas connection %r has auth_type=%s; its extras %s belong to another auth mode and are ignored.",
            conn_id,
            settings.auth_type,
            ", ".join(settings.unused_extras),
        )
    return settings
