"""A hostile server cannot stall, flood or crash a call: every read is bounded in time and bytes.

Against :mod:`tests.hook.hostile_server` on 127.0.0.1, on both paths (requests in workers, aiohttp
in the triggerer): each case is run through ``get_json`` and ``aget_json``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_canvas_progress.core.auth import CanvasTokenUnavailableError
from airflow_provider_canvas_progress.core.errors import (
    CanvasConfigurationError,
    CanvasError,
    CanvasResponseError,
    CanvasResponseTooLargeError,
    CanvasTransportError,
)
from airflow_provider_canvas_progress.hooks import gates
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from tests.hook.conftest import Connect
from tests.hook.hostile_server import HostileServer, answer, endless_chunks, gzip_bomb, gzipped, sequence, trickle

TOKEN = "7~hostile-answers-token"
GetJson = Callable[..., Any]


async def _aget(hook: CanvasHook, path: str) -> Any:
    async with hook:
        return await hook.aget_json(path)


@pytest.fixture(params=["sync", "async"])
def get_json(request: pytest.FixtureRequest) -> GetJson:
    """``hook.get_json(path)`` or the same through ``aget_json`` on an event loop."""
    if request.param == "sync":
        return lambda hook, path="/api/v1/things": hook.get_json(path)
    return lambda hook, path="/api/v1/things": asyncio.run(_aget(hook, path))


@pytest.fixture
def on(hostile: HostileServer, connect: Connect) -> Callable[..., CanvasHook]:
    """A hook on the hostile server: one attempt unless told otherwise."""

    def make(**extras: Any) -> CanvasHook:
        return connect(host=hostile.base_url, token=TOKEN, **{"max_attempts": 1, **extras})

    return make


# -- time ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_a_trickling_server_does_not_outlive_the_timeout(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_json: GetJson, headers_too: bool
) -> None:
    hostile.script = trickle(every=0.3, headers_too=headers_too)  # 60+ s in all, each byte well within 1 s
    started = time.monotonic()

    with pytest.raises(CanvasTransportError, match=r"timed out after 1 s"):
        get_json(on(timeout=1))

    assert time.monotonic() - started < 4  # 1 s, with room for a loaded machine


# -- bytes -----------------------------------------------------------------------------------------------


def test_a_body_past_the_cap_is_refused_naming_the_limit_and_the_extra(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_json: GetJson
) -> None:
    hostile.script = answer(200, b"[" + b"1," * 400_000 + b"1]")  # 800 KB > 512 KiB

    with pytest.raises(CanvasResponseTooLargeError, match=r"larger than 524288 bytes.*max_response_bytes") as raised:
        get_json(on())

    assert raised.value.path == "/api/v1/things"
    assert len(str(raised.value)) < 600


def test_the_max_response_bytes_extra_raises_the_cap(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_json: GetJson
) -> None:
    hostile.script = answer(200, b"[" + b"1," * 400_000 + b"1]")

    assert len(get_json(on(max_response_bytes=1024 * 1024))) == 400_001


def test_an_endless_chunked_stream_stops_at_the_cap(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_json: GetJson
) -> None:
    hostile.script = endless_chunks()
    started = time.monotonic()

    with pytest.raises(CanvasResponseTooLargeError):
        get_json(on(max_response_bytes=64 * 1024))

    assert time.monotonic() - started < 5


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compression_bomb_is_not_inflated_past_the_cap(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_json: GetJson, encoding: str
) -> None:
    hostile.script = gzip_bomb(64 * 1024 * 1024, encoding=encoding)  # ~64 KB on the wire, 64 MB inflated

    with pytest.raises(CanvasResponseTooLargeError):
        get_json(on())


def test_a_well_formed_gzip_answer_is_read(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_json: GetJson
) -> None:
    hostile.script = gzipped(200, json.dumps({"id": 7, "name": "x" * 5000}).encode())

    assert get_json(on())["id"] == 7


def test_garbage_claiming_to_be_gzip_is_a_typed_error(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_json: GetJson
) -> None:
    hostile.script = answer(200, b"not gzip at all", {"Content-Encoding": "gzip"})

    with pytest.raises(CanvasResponseError, match="compression"):
        get_json(on())


def test_a_declared_length_past_the_cap_is_refused_before_reading(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_json: GetJson
) -> None:
    async def script(request: Any, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n[")
        await asyncio.sleep(30)  # never sends the promised gigabyte

    hostile.script = script
    started = time.monotonic()

    with pytest.raises(CanvasResponseTooLargeError):
        get_json(on(timeout=20))

    assert time.monotonic() - started < 5


# -- odd answers -----------------------------------------------------------------------------------------


def test_deeply_nested_json_is_a_typed_error(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_json: GetJson
) -> None:
    hostile.script = answer(200, b"[" * 100_000 + b"]" * 100_000)

    with pytest.raises(CanvasResponseError, match="nested too deeply"):
        get_json(on())


def test_a_five_thousand_digit_number_is_a_typed_error(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_json: GetJson
) -> None:
    hostile.script = answer(200, b'{"id": ' + b"9" * 5000 + b"}")

    with pytest.raises(CanvasError) as raised:
        get_json(on())

    assert len(str(raised.value)) < 1000


def test_a_huge_error_text_is_quoted_bounded(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_json: GetJson
) -> None:
    hostile.script = answer(400, json.dumps({"errors": [{"message": "m" * 400_000}]}).encode())

    with pytest.raises(CanvasError) as raised:
        get_json(on())

    assert len(str(raised.value)) < 1200


@pytest.mark.parametrize("header", ["-1e308", "-1000000", "1e308", "-inf", "nan"])
def test_a_hostile_rate_limit_header_pauses_the_token_for_a_bounded_time_at_most(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_json: GetJson, header: str
) -> None:
    hostile.script = answer(200, b"{}", {"X-Rate-Limit-Remaining": header})

    assert get_json(on()) == {}

    (gate,) = gates._gates.values()
    assert gate.pacer.delay() <= (200 + 200) / 10  # low water 200, remaining clamped to -200


# -- cookies ---------------------------------------------------------------------------------------------


def test_cookies_are_never_stored_or_sent_back(hostile: HostileServer, connect: Connect) -> None:
    flood = [("Set-Cookie", f"c{index}={'x' * 3000}; Path=/") for index in range(50)]
    hostile.script = sequence(answer(200, b"{}", flood), answer(200, b"{}"))
    hook = connect(host=hostile.base_url, token=TOKEN)

    async def twice() -> None:
        async with hook:
            await hook.aget_json("/api/v1/a")
            await hook.aget_json("/api/v1/b")

    hook.get_json("/api/v1/a")
    hook.get_json("/api/v1/b")
    hostile.script = sequence(answer(200, b"{}", flood), answer(200, b"{}"))
    asyncio.run(twice())

    assert [request.header("cookie") for request in hostile.requests] == [None] * 4


# -- configuration ---------------------------------------------------------------------------------------


def test_an_unreadable_ca_bundle_is_a_configuration_error(
    connect: Connect, get_json: GetJson, hostile: HostileServer
) -> None:
    hook = connect(host=f"https://127.0.0.1:{hostile.port}", token=TOKEN, verify="/nonexistent/ca-bundle.pem")

    with pytest.raises(CanvasConfigurationError, match="CA bundle"):
        get_json(hook)


def test_retries_of_a_trickle_each_have_their_own_deadline(
    hostile: HostileServer, on: Callable[..., CanvasHook]
) -> None:
    hostile.script = sequence(trickle(every=0.3), answer(200, b'{"ok": true}'))
    started = time.monotonic()

    assert on(timeout=1, max_attempts=2).get_json("/api/v1/things") == {"ok": True}
    assert time.monotonic() - started < 4


# -- pagination ------------------------------------------------------------------------------------------


async def _apages(hook: CanvasHook, path: str, max_pages: int) -> Any:
    async with hook:
        return await hook.aget_pages(path, max_pages=max_pages)


@pytest.fixture(params=["sync", "async"])
def get_pages(request: pytest.FixtureRequest) -> GetJson:
    """``hook.get_pages(path)`` or the same through ``aget_pages``."""
    if request.param == "sync":
        return lambda hook, path="/api/v1/courses", max_pages=100: hook.get_pages(path, max_pages=max_pages)
    return lambda hook, path="/api/v1/courses", max_pages=100: asyncio.run(_apages(hook, path, max_pages))


def test_pages_are_followed_through_link_headers(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_pages: GetJson
) -> None:
    base = hostile.base_url
    hostile.script = sequence(
        answer(200, b"[1, 2]", {"Link": f'<{base}/api/v1/courses?page=2>; rel="next", <{base}/x>; rel="last"'}),
        answer(200, b"[3]", {"Link": f'<{base}/api/v1/courses?page=1>; rel="first"'}),
    )

    assert get_pages(on()) == [1, 2, 3]
    assert [request.target for request in hostile.requests] == ["/api/v1/courses", "/api/v1/courses?page=2"]


def test_a_next_link_to_another_host_is_not_followed(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_pages: GetJson
) -> None:
    hostile.script = answer(200, b"[1]", {"Link": '<http://127.0.0.2:9/api/v1/courses?page=2>; rel="next"'})

    with pytest.raises(CanvasResponseError, match="not followed"):
        get_pages(on())

    assert len(hostile.requests) == 1


def test_an_endless_next_link_stops_at_max_pages(
    hostile: HostileServer, on: Callable[..., CanvasHook], get_pages: GetJson
) -> None:
    hostile.script = answer(200, b"[1]", {"Link": f'<{hostile.base_url}/api/v1/courses?page=2>; rel="next"'})

    with pytest.raises(CanvasResponseError, match="more than 3 pages"):
        get_pages(on(), max_pages=3)

    assert len(hostile.requests) == 3


# -- the token endpoint and the Test button --------------------------------------------------------------


def test_a_trickling_token_endpoint_does_not_outlive_the_timeout(
    hostile: HostileServer, connect: Connect, get_json: GetJson
) -> None:
    hostile.script = trickle(every=0.3)
    hook = connect(
        host=hostile.base_url,
        token="",
        auth_type="oauth2_refresh",
        client_id="10000000000001",
        client_secret="s" * 64,
        refresh_token="r" * 64,
        timeout=1,
        max_attempts=1,
    )
    started = time.monotonic()

    with pytest.raises(CanvasTokenUnavailableError, match="timed out after 1 s"):
        get_json(hook)

    assert time.monotonic() - started < 4
    assert [request.target for request in hostile.requests] == ["/login/oauth2/token"]


def test_the_test_button_answers_within_the_timeout_against_a_trickle(
    hostile: HostileServer, on: Callable[..., CanvasHook]
) -> None:
    hostile.script = trickle(every=0.3, headers_too=True)
    started = time.monotonic()

    ok, message = on(timeout=1).test_connection()

    assert not ok
    assert "timed out after 1 s" in message
    assert time.monotonic() - started < 4
