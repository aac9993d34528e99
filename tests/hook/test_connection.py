"""test_connection (the Airflow UI's Test button) and how the hook reads its connection."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript

from .conftest import Connect, MakeSim


def test_connection_succeeds_naming_the_user(sim: CanvasSimulator, hook: CanvasHook) -> None:
    assert hook.test_connection() == (True, f"Connected to {sim.base_url} as Sim Admin (user id 1).")
    assert [(r.method, r.path) for r in sim.requests] == [("GET", "/api/v1/users/self")]


def test_connection_names_a_user_of_a_scoped_token(sim: CanvasSimulator, connect: Connect) -> None:
    sim.add_user(2, name="Ada Lovelace")
    token = sim.add_token(user_id=2, scopes=["url:GET|/api/v1/users/:id"])

    ok, message = connect(sim, token=token).test_connection()

    assert ok is True
    assert "as Ada Lovelace (user id 2)" in message


def test_connection_fails_with_canvas_reason_for_a_bad_token(sim: CanvasSimulator, connect: Connect) -> None:
    ok, message = connect(sim, token="1~stale").test_connection()

    assert ok is False
    assert "401" in message
    assert "Invalid access token." in message
    assert len(sim.requests) == 1


def test_connection_fails_for_a_revoked_token(sim: CanvasSimulator, connect: Connect) -> None:
    ok, message = connect(sim, token=sim.add_token(state="revoked")).test_connection()

    assert ok is False
    assert "Revoked access token." in message


def test_connection_fails_when_canvas_is_unreachable(make_sim: MakeSim, connect: Connect) -> None:
    down = make_sim()
    down.stop()

    ok, message = connect(host=down.base_url, token="7~token").test_connection()

    assert ok is False
    assert f"{down.base_url} got no answer" in message


def test_connection_fails_for_plain_http_to_a_non_loopback_host(connect: Connect) -> None:
    ok, message = connect(host="http://canvas.example.edu", token="7~token").test_connection()

    assert ok is False
    assert "http://" in message
    assert "allow_insecure_http" in message


def test_connection_fails_without_a_token(sim: CanvasSimulator, connect: Connect) -> None:
    ok, message = connect(sim, token="").test_connection()

    assert ok is False
    assert "no access token" in message
    assert sim.requests == []


def test_hook_reads_the_simulators_uri_form_connection(sim: CanvasSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CANVAS_URI", sim.airflow_conn_uri())
    hook = CanvasHook("canvas_uri")

    assert hook.base_url == sim.base_url
    assert hook.get_progress(sim.create_progress(script=JobScript.instant())).is_terminal


def test_misspelt_extra_is_named_in_a_warning(
    sim: CanvasSimulator, connect: Connect, emitted: Callable[[], str]
) -> None:
    hook = connect(sim, max_atempts=2)

    hook.test_connection()

    assert "max_atempts" in emitted()


def test_base_url_is_the_connections_host(sim: CanvasSimulator, connect: Connect) -> None:
    assert connect(sim, host=f"{sim.base_url}/api/v1/").base_url == sim.base_url
