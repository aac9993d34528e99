"""Connections are read in triggers the way each Airflow allows, without deadlocking the triggerer.

Before Airflow 3.3.2, ``BaseHook.aget_connection`` (3.1+) masks the connection's secrets with a synchronous
call to the supervisor, which raises ``DeadlockImminentError`` when another async call is in flight on the
same event loop; Airflow 3.0 has no ``aget_connection`` at all. common-compat's ``get_async_connection``,
which :func:`compat.aget_connection` uses, reads through ``get_connection`` in a worker thread there, and
through ``aget_connection`` from 3.3.2 on. Each test runs on the versions that have the behaviour it pins.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import BaseHook, Connection

from airflow_provider_canvas_progress import compat

HAS_AGET_CONNECTION = hasattr(BaseHook, "aget_connection")
MASKS_ASYNCHRONOUSLY = hasattr(Connection, "aextra_dejson")  # Airflow 3.3.2+
EXTRAS = {"auth_type": "token", "timeout": 12}


@pytest.fixture
def conn_id(monkeypatch: pytest.MonkeyPatch) -> str:
    conn = {"conn_type": "canvas", "host": "https://school.instructure.com", "password": "tok", "extra": EXTRAS}
    monkeypatch.setenv("AIRFLOW_CONN_CANVAS_COMPAT", json.dumps(conn))
    return "canvas_compat"


def _replace_aget_connection(monkeypatch: pytest.MonkeyPatch, body: Any) -> None:
    """Replace ``BaseHook.aget_connection`` as a classmethod, as Airflow defines it."""
    monkeypatch.setattr(BaseHook, "aget_connection", classmethod(body))


@pytest.mark.skipif(
    not HAS_AGET_CONNECTION or MASKS_ASYNCHRONOUSLY,
    reason="only Airflow 3.1 to 3.3.1 have an aget_connection that masks secrets synchronously",
)
async def test_before_airflow_3_3_2_the_read_avoids_basehooks_aget_connection(
    conn_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def deadlocks(cls: type, conn_id: str) -> Connection:
        raise RuntimeError("DeadlockImminentError: another async call is in flight")

    _replace_aget_connection(monkeypatch, deadlocks)

    conn = await compat.aget_connection(conn_id)

    assert conn.host == "https://school.instructure.com"
    assert compat.connection_extras(conn) == EXTRAS


@pytest.mark.skipif(HAS_AGET_CONNECTION, reason="BaseHook.aget_connection exists from Airflow 3.1 on")
async def test_without_basehook_aget_connection_the_connection_is_read_in_a_thread(conn_id: str) -> None:
    conn = await compat.aget_connection(conn_id)

    assert conn.password == "tok"
    assert compat.connection_extras(conn) == EXTRAS


@pytest.mark.skipif(not MASKS_ASYNCHRONOUSLY, reason="aget_connection masks asynchronously from Airflow 3.3.2 on")
async def test_from_airflow_3_3_2_the_read_is_basehooks_own_aget_connection(
    conn_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = BaseHook.aget_connection
    asked: list[str] = []

    async def recording(cls: type, conn_id: str) -> Connection:
        asked.append(conn_id)
        return await original(conn_id)  # type: ignore[no-any-return]

    _replace_aget_connection(monkeypatch, recording)

    conn = await compat.aget_connection(conn_id)

    assert asked == [conn_id]
    assert compat.connection_extras(conn) == EXTRAS


def _extra_dejson_refusing_the_event_loop(monkeypatch: pytest.MonkeyPatch, conn: Any) -> None:
    """``extra_dejson`` as it behaves while another async call is in flight: refused on the event loop.

    Patched on the class of the connection the read returns (the Task SDK's or the ORM's, by version).
    """
    original = type(conn).extra_dejson

    def guarded(self: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a worker thread: blocking on the supervisor is safe there
            return original.__get__(self)
        raise RuntimeError("DeadlockImminentError: extra_dejson called on the event loop")

    monkeypatch.setattr(type(conn), "extra_dejson", property(guarded))


async def test_extras_are_read_off_the_event_loop_or_asynchronously(
    conn_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = await compat.aget_connection(conn_id)
    _extra_dejson_refusing_the_event_loop(monkeypatch, conn)

    assert await compat.aconnection_extras(conn) == EXTRAS


async def test_a_hook_on_the_event_loop_reads_its_connection_without_a_sync_extras_read(
    conn_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_canvas_progress.hooks import connections
    from airflow_provider_canvas_progress.hooks.canvas import CanvasHook

    connections.clear()
    _extra_dejson_refusing_the_event_loop(monkeypatch, await compat.aget_connection(conn_id))

    settings = await CanvasHook(conn_id).asettings()

    assert settings.timeout == EXTRAS["timeout"]
