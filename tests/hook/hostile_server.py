"""A small hostile HTTP server on 127.0.0.1, for answers the simulator will not give.

Raw asyncio streams in a thread of its own, so that it can break HTTP on purpose: trickle bytes,
never end a chunked body, send a gzip bomb, flood cookies, lie in headers. Each test sets
:attr:`HostileServer.script`, an async function that receives the parsed request and writes
whatever it likes to the socket::

    with HostileServer() as server:
        server.script = answer(200, b'{"id": 1}', headers={"X-Rate-Limit-Remaining": "-1e308"})
        ...  # point a connection at server.base_url

Nothing here imports the provider: the server knows only bytes.
"""

from __future__ import annotations

import asyncio
import gzip
import threading
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field


@dataclass
class Received:
    """One request as the server read it."""

    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


Script = Callable[[Received, asyncio.StreamWriter], Awaitable[None]]


class HostileServer:
    """An HTTP/1.1 server on a free loopback port; :attr:`script` decides every answer."""

    def __init__(self) -> None:
        self.script: Script = answer(200, b"{}")
        self.requests: list[Received] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="hostile-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc_info: object) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                self.requests.append(request)
                await self.script(request, writer)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Received | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return Received(method, target, headers, body)


def _head(status: int, headers: Iterable[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} Hostile"] + [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# -- scripts --------------------------------------------------------------------------------------------


def answer(status: int, body: bytes, headers: dict[str, str] | list[tuple[str, str]] | None = None) -> Script:
    """A plain, well-formed answer (with Content-Length), extra headers included."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])

    async def script(request: Received, writer: asyncio.StreamWriter) -> None:
        base = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        writer.write(_head(status, base + pairs) + body)

    return script


def trickle(body: bytes = b'{"id": 1}' + b" " * 200, *, every: float = 0.5, headers_too: bool = False) -> Script:
    """One byte every ``every`` seconds: of the body, or of the status line and headers too."""

    async def script(request: Received, writer: asyncio.StreamWriter) -> None:
        head = _head(200, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        slow = head + body if headers_too else body
        if not headers_too:
            writer.write(head)
        for index in range(len(slow)):
            writer.write(slow[index : index + 1])
            await writer.drain()
            await asyncio.sleep(every)

    return script


def endless_chunks(chunk: bytes = b"[" + b"0," * 8191) -> Script:
    """A chunked 200 that never ends (until the client hangs up)."""

    async def script(request: Received, writer: asyncio.StreamWriter) -> None:
        writer.write(_head(200, [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]))
        while True:
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()

    return script


def gzip_bomb(inflated_bytes: int, *, encoding: str = "gzip") -> Script:
    """A small compressed body that inflates to ``inflated_bytes`` of JSON-ish zeros."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS) if encoding == "gzip" else zlib.compressobj(9)
    block = b"0" * (1 << 20)
    parts = [compressor.compress(b"[")]
    for _ in range(inflated_bytes // len(block)):
        parts.append(compressor.compress(block))
    parts.append(compressor.flush())
    body = b"".join(parts)
    return answer(200, body, {"Content-Encoding": encoding})


def gzipped(status: int, payload: bytes) -> Script:
    """A well-formed gzip-encoded answer (what a normal Canvas behind a CDN sends)."""
    return answer(status, gzip.compress(payload), {"Content-Encoding": "gzip"})


def sequence(*scripts: Script) -> Script:
    """The first request gets the first script, the second the second...; the last repeats."""
    remaining = list(scripts)

    async def script(request: Received, writer: asyncio.StreamWriter) -> None:
        current = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        await current(request, writer)

    return script
