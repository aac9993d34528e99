"""Serve an aiohttp application on a bound socket from a daemon thread with its own event loop.

One server thread serves sync ``requests`` clients and async ``aiohttp`` clients of the same test
process alike, and thousands of keep-alive connections at once (benchmarks run 5,000 pollers).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Callable

from aiohttp import web

__all__ = ["ServerThread"]

_LISTEN_BACKLOG = 4096


class ServerThread:
    """One listening socket and the thread serving it.

    :param app_factory: builds the application inside the server thread (its event loop).
    :param ssl_context: serve HTTPS with this context; ``None`` for plain HTTP.
    """

    def __init__(self, app_factory: Callable[[], web.Application], ssl_context: ssl.SSLContext | None = None) -> None:
        self._app_factory = app_factory
        self._ssl_context = ssl_context
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port: int | None = None

    @property
    def alive(self) -> bool:
        """Whether the thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, host: str, port: int) -> int:
        """Bind, serve in a daemon thread, and return the bound port once listening.

        :raises OSError: if the address cannot be bound (or the server fails to start).
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        ready = threading.Event()
        failure: list[BaseException] = []
        thread = threading.Thread(
            target=self._serve, args=(sock, ready, failure), name=f"canvas-simulator-{self.port}", daemon=True
        )
        thread.start()
        ready.wait()
        if failure:
            thread.join()
            raise failure[0]
        self._thread = thread
        return self.port

    def _serve(self, sock: socket.socket, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        # Idle keep-alive connections close at once on stop; in-flight ones get half a second.
        runner = web.AppRunner(self._app_factory(), access_log=None, handle_signals=False, shutdown_timeout=0.5)
        try:
            loop.run_until_complete(runner.setup())
            site = web.SockSite(runner, sock, backlog=_LISTEN_BACKLOG, ssl_context=self._ssl_context)
            loop.run_until_complete(site.start())
        except BaseException as exc:  # reported to start() in the caller's thread
            failure.append(exc)
            sock.close()
            loop.close()
            ready.set()
            return
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self) -> None:
        """Stop serving and release the port; calling it again does nothing."""
        thread, loop = self._thread, self._loop
        self._thread = self._loop = None
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
