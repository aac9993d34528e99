"""A hostile HTTP peer on 127.0.0.1: what a broken or malicious Canvas, or a proxy, can send back.

The simulator answers as Canvas does; this server answers as Canvas must never be trusted to:
bodies trickled a byte at a time, bodies of a gigabyte or with no end, gzip bombs, absurd headers,
floods of cookies, redirects, and the request's own ``Authorization`` header echoed back inside
error bodies, HTML titles, Progress messages and user names.

It is a raw ``asyncio`` server in a thread of its own, writing bytes itself, so nothing in aiohttp's
or the simulator's server can tidy an answer up. Tests route paths to *responders*
(``server.on(r"^/api/v1/progress/", trickle(body, every=0.5))``); every request is recorded.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import re
import struct
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = [
    "HostileServer",
    "Seen",
    "bomb",
    "deep_json",
    "delayed",
    "echo",
    "endless",
    "huge",
    "json_answer",
    "progress_json",
    "raw",
    "redirect",
    "silence",
    "slow_headers",
    "trickle",
]

Headers = Iterable[tuple[str, str]]


@dataclass
class Seen:
    """A request the server received."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        return urlsplit(self.target).query

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def token(self) -> str:
        """The bearer token the request carried ("" when none)."""
        auth = self.header("Authorization") or ""
        return auth.split(" ", 1)[1] if auth.lower().startswith("bearer ") else ""


class Reply:
    """How a responder writes its answer; ``keep_alive`` after a complete, well-formed one."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def head(self, status: int, headers: Headers, *, length: int | None) -> None:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Whatever')}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        await self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


Responder = Callable[[Seen, Reply], Awaitable[bool]]

_REASONS = {200: "OK", 301: "Moved", 302: "Found", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
_REASONS |= {307: "Temporary Redirect", 308: "Permanent Redirect", 500: "Internal Server Error", 502: "Bad Gateway"}
_REASONS |= {503: "Service Unavailable"}
JSON = "application/json; charset=utf-8"


class HostileServer:
    """The server; use as a context manager. Unrouted requests get Canvas's 404 JSON."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self._routes: list[tuple[re.Pattern[str], Responder, list[int | None]]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="hostile-server", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    # -- life ----------------------------------------------------------------------------------

    def __enter__(self) -> HostileServer:
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._connection, "127.0.0.1", 0, limit=1 << 20))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _call(self, coro: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)  # type: ignore[arg-type]

    async def _close(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- routes --------------------------------------------------------------------------------

    def on(self, path: str, responder: Responder, *, times: int | None = None) -> HostileServer:
        """Answer requests whose path matches ``path`` (a regex) with ``responder``; the latest route wins.

        :param times: answer this many requests, then fall through to older routes.
        """
        self._routes.insert(0, (re.compile(path), responder, [times]))
        return self

    def requests_to(self, path: str) -> list[Seen]:
        return [seen for seen in self.requests if re.search(path, seen.path)]

    def _responder(self, seen: Seen) -> Responder:
        for pattern, responder, left in self._routes:
            if pattern.search(seen.path) and (left[0] is None or left[0] > 0):
                if left[0] is not None:
                    left[0] -= 1
                return responder
        return json_answer({"errors": [{"message": "The specified resource does not exist."}]}, status=404)

    # -- the protocol --------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                seen = await _read_request(reader)
                if seen is None:
                    return
                self.requests.append(seen)
                if not await self._responder(seen)(seen, Reply(writer)):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            return
        except asyncio.CancelledError:  # the server is shutting down: end quietly, not as a failed task
            return
        finally:
            self._tasks.discard(task)
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Seen | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
    pairs = [(name, value) for name, value in headers]
    length = next((int(value) for name, value in pairs if name.lower() == "content-length"), 0)
    body = await reader.readexactly(length) if length else b""
    return Seen(method, target, pairs, body)


# -- responders ------------------------------------------------------------------------------------


def raw(status: int, body: bytes | str, *, content_type: str = JSON, headers: Headers = ()) -> Responder:
    """A complete answer with exactly these bytes (kept alive)."""
    data = body.encode() if isinstance(body, str) else body

    async def respond(seen: Seen, reply: Reply) -> bool:
        await reply.head(status, [("Content-Type", content_type), *headers], length=len(data))
        await reply.send(data)
        return True

    return respond


def json_answer(payload: Any, *, status: int = 200, headers: Headers = ()) -> Responder:
    """A JSON answer."""
    return raw(status, json.dumps(payload), headers=headers)


def progress_json(progress_id: int | str = 5, state: str = "completed", **fields: Any) -> dict[str, Any]:
    """A Progress as Canvas serves it; ``fields`` override any key (``url=``, ``message=``...)."""
    body: dict[str, Any] = {
        "id": int(progress_id),
        "context_id": 1,
        "context_type": "Account",
        "user_id": 1,
        "tag": "course_batch_update",
        "completion": 100.0 if state == "completed" else 50.0,
        "workflow_state": state,
        "created_at": "2026-01-15T10:00:00Z",
        "updated_at": "2026-01-15T10:00:05Z",
        "message": None,
        "results": None,
        "url": f"http://127.0.0.1/api/v1/progress/{progress_id}",
    }
    return {**body, **fields}


def echo(make: Callable[[str], Any], *, status: int = 200, content_type: str = JSON) -> Responder:
    """Build the answer from the token the request carried: ``make(token)`` returns the body
    (a str or bytes sent as is, anything else as JSON)."""

    async def respond(seen: Seen, reply: Reply) -> bool:
        body = make(seen.token)
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else body
        return await raw(status, data, content_type=content_type)(seen, reply)

    return respond


def echo_forms(token: str) -> dict[str, str]:
    """The forms in which servers are seen to echo a credential, by name."""
    return {
        "verbatim": token,
        "bearer header": f"Bearer {token}",
        "url-encoded": quote(token, safe=""),
        "basic header": "Basic " + base64.b64encode(f"canvas:{token}".encode()).decode(),
        "base64": base64.b64encode(token.encode()).decode(),
        "json-escaped": json.dumps(token)[1:-1].replace("/", "\\/"),
    }


def trickle(body: bytes | str, *, every: float = 0.5, status: int = 200, content_type: str = JSON) -> Responder:
    """Headers at once (with the full Content-Length), then the body one byte every ``every`` seconds."""
    data = body.encode() if isinstance(body, str) else body

    async def respond(seen: Seen, reply: Reply) -> bool:
        await reply.head(status, [("Content-Type", content_type)], length=len(data))
        for index in range(len(data)):
            await asyncio.sleep(every)
            await reply.send(data[index : index + 1])
        return True

    return respond


def slow_headers(*, every: float = 0.5, count: int = 40) -> Responder:
    """The headers themselves, one byte every ``every`` seconds: ``count`` bytes of a header that
    never ends, then the connection is closed (so a client without a call deadline takes
    ``every * count`` seconds, not forever)."""

    async def respond(seen: Seen, reply: Reply) -> bool:
        await reply.send(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        for _ in range(count):
            await asyncio.sleep(every)
            await reply.send(b"X")
        return False

    return respond


def silence() -> Responder:
    """Read the request and never answer."""

    async def respond(seen: Seen, reply: Reply) -> bool:
        await asyncio.Event().wait()
        return False

    return respond


def huge(size: int, *, status: int = 200, content_type: str = JSON, filler: bytes = b" ") -> Responder:
    """A body of ``size`` bytes (whitespace: valid around JSON), sent as fast as the client reads."""
    chunk = filler * (1 << 16)

    async def respond(seen: Seen, reply: Reply) -> bool:
        await reply.head(status, [("Content-Type", content_type)], length=size)
        sent = 0
        while sent < size:
            part = chunk[: size - sent]
            await reply.send(part)
            sent += len(part)
        return True

    return respond


#: Where an "endless" body is cut off after all: far past any cap a client should have, yet small
#: enough that a client without one (the bug under test) does not take the test machine down.
ENDLESS_CEILING = 128 << 20


def endless(*, chunked: bool = True, filler: bytes = b" ", ceiling: int = ENDLESS_CEILING) -> Responder:
    """A body with no end in sight: chunked with no last chunk, or with no length and not closed,
    until ``ceiling`` bytes (then the connection drops, mid-body)."""
    chunk = filler * (1 << 16)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"

    async def respond(seen: Seen, reply: Reply) -> bool:
        framing = [("Transfer-Encoding", "chunked")] if chunked else [("Connection", "close")]
        await reply.head(200, [("Content-Type", JSON), *framing], length=None)
        for _ in range(ceiling // len(chunk)):
            await reply.send(framed if chunked else chunk)
        return False

    return respond


def bomb(decompressed: int = 1 << 30, *, encoding: str = "gzip", status: int = 200) -> Responder:
    """A compressed body of about a megabyte that inflates to ``decompressed`` bytes of zeros."""
    data = _bomb(decompressed, encoding)

    async def respond(seen: Seen, reply: Reply) -> bool:
        await reply.head(status, [("Content-Type", JSON), ("Content-Encoding", encoding)], length=len(data))
        await reply.send(data)
        return True

    return respond


@functools.lru_cache(maxsize=4)
def _bomb(size: int, encoding: str) -> bytes:
    """A deflate stream of ``size`` zeros built from one repeated, fully flushed block: each block
    is the same bytes, so a gigabyte costs a megabyte and a third of a second to build."""
    mib = 1 << 20
    blocks = max(1, size // mib)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(b"\0" * mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream = block * blocks + compressor.flush(zlib.Z_FINISH)
    zeros = b"\0" * mib
    if encoding == "gzip":
        crc = 0
        for _ in range(blocks):
            crc = zlib.crc32(zeros, crc)
        header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
        return header + stream + struct.pack("<II", crc, (blocks * mib) & 0xFFFFFFFF)
    adler = 1
    for _ in range(blocks):
        adler = zlib.adler32(zeros, adler)
    return b"\x78\xda" + stream + struct.pack(">I", adler)


def deep_json(depth: int) -> bytes:
    """A JSON array nested ``depth`` deep: enough to exhaust a recursive decoder's stack."""
    return b"[" * depth + b"]" * depth


def redirect(location: str, *, status: int = 302) -> Responder:
    """A redirect to ``location``."""
    return raw(status, b"", headers=[("Location", location)])


def with_headers(headers: Headers, payload: Any, *, status: int = 200) -> Responder:
    """A JSON answer with extra headers (absurd rate-limit values, cookie floods...)."""
    return raw(status, json.dumps(payload), headers=list(headers))


def cookies(count: int, *, size: int = 100) -> list[tuple[str, str]]:
    """``count`` Set-Cookie headers of about ``size`` bytes each, for 127.0.0.1."""
    return [("Set-Cookie", f"flood{n}={'c' * size}; Path=/") for n in range(count)]


# -- calling the hook on either path --------------------------------------------------------------

PATHS = ("sync", "async")


def on_path(path: str, hook: Any, sync: Callable[[Any], Any], asynchronous: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run ``sync(hook)`` in a worker's way, or ``asynchronous(hook)`` in a triggerer's (``async with hook``)."""
    if path == "sync":
        return sync(hook)

    async def run() -> Any:
        async with hook:
            return await asynchronous(hook)

    return asyncio.run(run())


def read_progress(path: str, hook: Any, progress_id: object = 5) -> Any:
    """``get_progress`` or ``aget_progress``, by ``path``."""
    return on_path(path, hook, lambda h: h.get_progress(progress_id), lambda h: h.aget_progress(progress_id))


def failure_of(call: Callable[[], Any]) -> tuple[BaseException | None, float]:
    """What ``call`` raised (None if it returned) and how long it took, in seconds."""
    started = time.monotonic()
    try:
        call()
    except Exception as error:  # the point is to see what escapes, typed or not
        return error, time.monotonic() - started
    return None, time.monotonic() - started


def texts_of(error: BaseException) -> list[str]:
    """Every text an exception chain shows: str, repr, args, causes and contexts."""
    texts: list[str] = []
    pending: list[BaseException | None] = [error]
    seen: list[BaseException] = []
    while pending:
        current = pending.pop()
        if current is None or any(current is old for old in seen):
            continue
        seen.append(current)
        texts += [str(current), repr(current), repr(current.args), repr(getattr(current, "__dict__", {}))]
        pending += [current.__cause__, current.__context__]
    return texts


def leaks(texts: Iterable[str], secret: str) -> list[str]:
    """The texts that hold ``secret`` in any of the forms a server echoes it in (or its telling half)."""
    forms = {*echo_forms(secret).values(), secret[len(secret) // 2 :]}
    forms.discard("")
    return [text for text in texts if any(form in text for form in forms)]


class FakeTI:
    """Just enough of a task instance for an operator's ``execute`` and ``execute_complete``: XCom pushes."""

    dag_id, task_id, run_id, try_number, map_index = "hostile", "task", "manual__1", 1, -1

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def airflow_masks(secret: str) -> bool:
    """Whether Airflow's own secrets masker (of this process) would hide ``secret`` in a log line."""
    try:
        from airflow.sdk._shared.secrets_masker import redact
    except ImportError:  # Airflow 2
        from airflow.utils.log.secrets_masker import redact
    return secret not in str(redact(f"x {secret} y"))


def delayed(seconds: float, responder: Responder) -> Responder:
    """``responder``, after holding the request for ``seconds``."""

    async def respond(seen: Seen, reply: Reply) -> bool:
        await asyncio.sleep(seconds)
        return await responder(seen, reply)

    return respond


def waiting_job(**kwargs: Any) -> Any:
    """A job-starting operator that waits for its job (``PUT /api/v1/accounts/1/courses``), or the
    typed refusal its arguments get at parse time (returned, not raised)."""
    from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
    from airflow_provider_canvas_progress.operators.jobs import CanvasStartJobOperator

    try:
        return CanvasStartJobOperator(
            task_id="start", endpoint="/api/v1/accounts/1/courses", method="PUT", wait_for_completion=True, **kwargs
        )
    except (CanvasConfigurationError, ValueError) as refused:
        return refused
