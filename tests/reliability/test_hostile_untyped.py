"""Untyped errors and unbounded text: whatever the server sends -- JSON nested 100,000 deep, a
5,000-digit id, a 10 MB state, a malformed status line, a cookie flood -- and whatever the
connection holds -- a password with a line break or outside latin-1, a CA path that does not
exist -- every failure is a typed ``CanvasError`` with a bounded message that quotes no secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError, CanvasError
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor
from tests.reliability.conftest import Connect, set_connection
from tests.reliability.hostile import (
    PATHS,
    FakeTI,
    HostileServer,
    Reply,
    Seen,
    cookies,
    deep_json,
    failure_of,
    json_answer,
    on_path,
    progress_json,
    raw,
    read_progress,
    redirect,
    texts_of,
    with_headers,
)

PROGRESS = r"^/api/v1/progress/"
#: Longest message a failure may carry: enough to explain, too short to carry an answer.
BOUND = 2000
TEN_MB = 10 << 20


def typed_and_bounded(error: BaseException | None, *, kind: type[BaseException] = CanvasError) -> BaseException:
    assert isinstance(error, kind), f"expected {kind.__name__}, got {type(error).__name__}: {error!s:.300}"
    assert len(str(error)) <= BOUND, f"{len(str(error))} characters"
    return error


def sends(status_line_and_headers: bytes, body: bytes = b"") -> object:
    """A responder writing exactly these bytes and closing."""

    async def respond(seen: Seen, reply: Reply) -> bool:
        await reply.send(status_line_and_headers + body)
        return False

    return respond


# -- answers a JSON decoder or an int() chokes on ---------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_json_nested_a_hundred_thousand_deep_is_a_typed_error_not_a_recursion_error(
    server: HostileServer, connect: Connect, path: str
) -> None:
    server.on(PROGRESS, raw(200, deep_json(100_000)))

    error, _ = failure_of(lambda: read_progress(path, connect()))

    typed_and_bounded(error)


@pytest.mark.parametrize("path", PATHS)
def test_an_error_body_nested_a_hundred_thousand_deep_is_a_typed_error(
    server: HostileServer, connect: Connect, path: str
) -> None:
    server.on(PROGRESS, raw(500, b'{"errors": ' + deep_json(100_000) + b"}"))

    error, _ = failure_of(lambda: read_progress(path, connect()))

    typed_and_bounded(error)


@pytest.mark.parametrize("path", PATHS)
def test_a_five_thousand_digit_progress_id_in_the_answer_is_a_typed_error(
    server: HostileServer, connect: Connect, path: str
) -> None:
    server.on(PROGRESS, json_answer(progress_json(5) | {"id": "9" * 5000}))

    error, _ = failure_of(lambda: read_progress(path, connect()))

    typed_and_bounded(error)


def test_a_five_thousand_digit_json_number_as_the_id_is_a_typed_error(server: HostileServer, connect: Connect) -> None:
    body = json.dumps(progress_json(5)).replace('"id": 5', '"id": ' + "9" * 5000)
    server.on(PROGRESS, raw(200, body))

    error, _ = failure_of(lambda: read_progress("sync", connect()))

    typed_and_bounded(error)


@pytest.mark.parametrize("completion", ["1e400", "NaN", "-Infinity", "9" * 5000])
def test_a_completion_out_of_any_range_is_a_typed_error(
    server: HostileServer, connect: Connect, completion: str
) -> None:
    body = json.dumps(progress_json(5, "running")).replace('"completion": 50.0', f'"completion": {completion}')
    server.on(PROGRESS, raw(200, body))

    error, _ = failure_of(lambda: read_progress("sync", connect()))

    typed_and_bounded(error)


@pytest.mark.parametrize("path", PATHS)
def test_a_ten_megabyte_workflow_state_gives_a_bounded_message(
    server: HostileServer, connect: Connect, path: str
) -> None:
    server.on(PROGRESS, json_answer(progress_json(5) | {"workflow_state": "x" * TEN_MB}))

    error, _ = failure_of(lambda: read_progress(path, connect(max_response_bytes=32 << 20)))

    typed_and_bounded(error)


def test_a_ten_megabyte_failure_message_gives_a_bounded_task_failure(server: HostileServer, connect: Connect) -> None:
    server.on(PROGRESS, json_answer(progress_json(5, "failed", message="m" * TEN_MB)))
    connect(max_response_bytes=32 << 20)

    error, _ = failure_of(lambda: CanvasProgressSensor(task_id="wait", progress_id=5).poke({"ti": FakeTI()}))

    assert error is not None
    assert len(str(error)) <= BOUND


def test_a_ten_megabyte_error_message_gives_a_bounded_error(server: HostileServer, connect: Connect) -> None:
    server.on(PROGRESS, json_answer({"errors": [{"message": "e" * TEN_MB}]}, status=404))

    error, _ = failure_of(lambda: read_progress("sync", connect(max_response_bytes=32 << 20)))

    typed_and_bounded(error)
    assert all(len(text) <= 4 * BOUND for text in texts_of(error))


def test_a_body_that_is_not_utf8_is_a_typed_error(server: HostileServer, connect: Connect) -> None:
    server.on(PROGRESS, raw(200, b'{"id": 5, "workflow_state": "\xff\xfe\xc0"}'))

    error, _ = failure_of(lambda: read_progress("sync", connect()))

    typed_and_bounded(error)


@pytest.mark.parametrize("name", ["n" * TEN_MB, None])
def test_test_connection_with_an_absurd_user_gives_a_bounded_message(
    server: HostileServer, connect: Connect, name: str | None
) -> None:
    user = {"id": "9" * 5000, "name": name} if name is None else {"id": 1, "name": name}
    server.on(r"^/api/v1/users/self", json_answer(user))

    _, message = connect(max_response_bytes=32 << 20).test_connection()

    assert len(message) <= BOUND


# -- ids given by users ------------------------------------------------------------------------------------


def test_a_progress_id_of_ten_to_the_five_thousand_is_refused_with_a_bounded_message(
    server: HostileServer, connect: Connect
) -> None:
    error, _ = failure_of(lambda: connect().get_progress(10**5000))

    typed_and_bounded(error, kind=CanvasConfigurationError)
    assert server.requests == []


def test_a_progress_url_with_a_five_thousand_digit_id_is_refused_with_a_bounded_message(
    server: HostileServer, connect: Connect
) -> None:
    error, _ = failure_of(lambda: connect().get_progress(f"{server.base_url}/api/v1/progress/{'9' * 5000}"))

    typed_and_bounded(error, kind=CanvasConfigurationError)
    assert server.requests == []


# -- secrets that cannot go in a header --------------------------------------------------------------------

BAD_SECRETS = {
    "outside latin-1": "tok\u20acen-with-euro-" + "x" * 20,
    "a line break": "token-part-one\r\nX-Injected: yes",
    "a NUL": "token\x00" + "y" * 20,
    "a tab inside": "tok\ten" + "z" * 20,
}


@pytest.mark.parametrize("secret", BAD_SECRETS.values(), ids=BAD_SECRETS.keys())
@pytest.mark.parametrize("path", PATHS)
def test_a_token_that_cannot_go_in_a_header_is_refused_without_quoting_it(
    server: HostileServer, connect: Connect, path: str, secret: str
) -> None:
    error, _ = failure_of(lambda: read_progress(path, connect(password=secret)))

    typed_and_bounded(error, kind=CanvasConfigurationError)
    assert all(secret.strip() not in text and "Injected" not in text for text in texts_of(error))
    assert server.requests == []


@pytest.mark.parametrize("field", ["client_secret", "refresh_token"])
def test_a_developer_key_secret_with_a_line_break_is_refused_without_quoting_it(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    secrets = {"client_secret": "secret-" + "s" * 30, "refresh_token": "refresh-" + "r" * 30}
    secrets[field] = f"{field}-value\r\nX-Injected: yes"
    extras = {"auth_type": "oauth2_refresh", "client_id": "10000000000001", **secrets, "max_attempts": 1}
    set_connection(monkeypatch, "canvas_default", host=server.base_url, password=None, extras=extras)

    error, _ = failure_of(lambda: CanvasHook().request("GET", "users/self"))

    typed_and_bounded(error, kind=CanvasConfigurationError)
    assert all("Injected" not in text for text in texts_of(error))


# -- TLS settings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_a_ca_bundle_path_that_does_not_exist_is_a_typed_error(
    server: HostileServer, connect: Connect, path: str, tmp_path: Path
) -> None:
    hook = connect(host=f"https://127.0.0.1:{server.port}", verify=str(tmp_path / "missing-ca.pem"))

    error, _ = failure_of(lambda: read_progress(path, hook))

    typed_and_bounded(error)


@pytest.mark.parametrize("path", PATHS)
def test_a_ca_bundle_that_is_not_a_certificate_is_a_typed_error(
    server: HostileServer, connect: Connect, path: str, tmp_path: Path
) -> None:
    bundle = tmp_path / "not-a-ca.pem"
    bundle.write_text("this is not a certificate\n")
    hook = connect(host=f"https://127.0.0.1:{server.port}", verify=str(bundle))

    error, _ = failure_of(lambda: read_progress(path, hook))

    typed_and_bounded(error)


# -- cookies: no jar on either client ----------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 90])  # http.client refuses answers of over 100 headers
@pytest.mark.parametrize("path", PATHS)
def test_cookies_set_by_the_server_are_never_sent_back(
    server: HostileServer, connect: Connect, path: str, count: int
) -> None:
    server.on(PROGRESS, with_headers(cookies(count), progress_json(5)))
    hook = connect()

    def twice_sync(h: CanvasHook) -> None:
        h.get_progress(5)
        h.get_progress(5)

    async def twice_async(h: CanvasHook) -> None:
        await h.aget_progress(5)
        await h.aget_progress(5)

    on_path(path, hook, twice_sync, twice_async)

    assert len(server.requests) == 2
    assert server.requests[1].header("Cookie") is None


# -- malformed HTTP --------------------------------------------------------------------------------------------

MALFORMED = {
    "a 200 KB header line": b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * (200 << 10) + b"\r\nContent-Length: 2\r\n\r\n{}",
    "5,000 headers": b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: v\r\n" % n for n in range(5000)) + b"\r\n{}",
    "a status line that is not HTTP": b"SMTP 220 hello\r\n\r\n",
    "a status code of letters": b"HTTP/1.1 abc Whatever\r\nContent-Length: 0\r\n\r\n",
    "a status code of 999": b"HTTP/1.1 999 Odd\r\nContent-Length: 2\r\n\r\n{}",
    "a garbled Content-Length": b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}",
    "a negative Content-Length": b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n{}",
    "a body cut short": b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"id": 5',
    "a bad chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
@pytest.mark.parametrize("path", PATHS)
def test_malformed_http_is_a_typed_error(server: HostileServer, connect: Connect, path: str, answer: bytes) -> None:
    server.on(PROGRESS, sends(answer))  # type: ignore[arg-type]

    error, _ = failure_of(lambda: read_progress(path, connect()))

    typed_and_bounded(error)


def test_a_redirect_to_itself_is_not_followed(server: HostileServer, connect: Connect) -> None:
    server.on(PROGRESS, redirect(f"{server.base_url}/api/v1/progress/5"))

    error, _ = failure_of(lambda: read_progress("sync", connect()))

    typed_and_bounded(error)
    assert len(server.requests) == 1


def test_a_redirect_to_a_five_thousand_character_host_gives_a_bounded_message(
    server: HostileServer, connect: Connect
) -> None:
    server.on(PROGRESS, redirect("https://" + "h" * 5000 + ".example/x"))

    error, _ = failure_of(lambda: read_progress("sync", connect()))

    typed_and_bounded(error)
