"""Starting, stopping, recording, and the pytest fixtures."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from urllib.parse import unquote, urlsplit

import aiohttp
import pytest
import requests

from airflow_provider_canvas_progress.testing import CanvasSimulator

from .simclient import Api


def test_context_manager_serves_on_a_random_loopback_port() -> None:
    with CanvasSimulator() as sim:
        assert sim.base_url == f"http://127.0.0.1:{sim.port}"
        assert requests.get(f"{sim.base_url}/__sim__", timeout=5).status_code == 200


def test_stop_releases_the_port() -> None:
    sim = CanvasSimulator().start()
    port = sim.port
    sim.stop()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_stop_is_idempotent() -> None:
    sim = CanvasSimulator().start()
    sim.stop()
    sim.stop()
    assert not sim.running


def test_stop_before_start_does_nothing() -> None:
    CanvasSimulator().stop()


def test_port_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = CanvasSimulator().port


def test_binding_a_busy_port_raises() -> None:
    with CanvasSimulator() as sim, pytest.raises(OSError, match="in use"):
        CanvasSimulator(port=sim.port).start()


def test_invalid_status_options_are_refused() -> None:
    with pytest.raises(ValueError, match="throttle_status"):
        CanvasSimulator(throttle_status=500)
    with pytest.raises(ValueError, match="permission_status"):
        CanvasSimulator(permission_status=404)


def test_two_simulators_run_side_by_side() -> None:
    with CanvasSimulator() as one, CanvasSimulator() as two:
        assert one.port != two.port


async def test_sync_and_async_clients_share_one_simulator(canvas_simulator: CanvasSimulator) -> None:
    headers = {"Authorization": f"Bearer {canvas_simulator.token}"}
    url = f"{canvas_simulator.base_url}/api/v1/users/self"
    sync = await asyncio.to_thread(requests.get, url, headers=headers, timeout=5)
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        assert (sync.status_code, response.status) == (200, 200)


def test_requests_are_recorded_with_raw_headers_and_body(sim: CanvasSimulator, api: Api) -> None:
    api.put("/api/v1/accounts/1/courses?x=1", data={"event": "offer", "course_ids[]": ["1"]})
    record = sim.requests[-1]
    assert (record.method, record.path, record.query, record.status) == (
        "PUT",
        "/api/v1/accounts/1/courses",
        "x=1",
        200,
    )
    assert record.header("authorization") == f"Bearer {sim.token}"
    assert b"event=offer" in record.body


def test_recorded_requests_show_where_the_token_was_sent(sim: CanvasSimulator, api: Api) -> None:
    api.get("/api/v1/users/self")
    assert all(sim.token not in r.path + r.query for r in sim.requests)


def test_clear_requests_keeps_the_counters(sim: CanvasSimulator, api: Api) -> None:
    api.get("/api/v1/users/self")
    sim.clear_requests()
    assert (sim.requests, sim.stats.total_requests) == ([], 1)


def test_stats_count_requests_per_path_and_status(sim: CanvasSimulator, api: Api) -> None:
    api.get("/api/v1/users/self")
    api.get("/api/v1/progress/999")
    stats = sim.stats
    assert stats.by_path == {"/api/v1/users/self": 1, "/api/v1/progress/999": 1}
    assert stats.by_status == {200: 1, 404: 1}


def test_airflow_conn_json_carries_base_url_and_token(canvas_simulator: CanvasSimulator) -> None:
    conn = json.loads(canvas_simulator.airflow_conn_json())
    assert conn == {"conn_type": "canvas", "host": canvas_simulator.base_url, "password": canvas_simulator.token}


def test_airflow_conn_uri_encodes_the_full_base_url_as_host(canvas_simulator: CanvasSimulator) -> None:
    parts = urlsplit(canvas_simulator.airflow_conn_uri())
    assert parts.scheme == "canvas"
    assert unquote(parts.hostname or "") == canvas_simulator.base_url
    assert unquote(parts.password or "") == canvas_simulator.token


def test_canvas_airflow_conn_fixture_sets_the_environment(canvas_airflow_conn: CanvasSimulator) -> None:
    assert json.loads(os.environ["AIRFLOW_CONN_CANVAS_DEFAULT"])["host"] == canvas_airflow_conn.base_url


def test_factory_fixture_starts_simulators_with_options(canvas_simulator_factory) -> None:  # type: ignore[no-untyped-def]
    sim = canvas_simulator_factory(global_ids=True)
    assert sim.running
    assert sim.create_progress() == "10000000000001"
