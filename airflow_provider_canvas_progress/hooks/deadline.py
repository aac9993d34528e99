"""A wall-clock deadline for one requests call: connect, headers and body together.

requests' ``timeout`` bounds each socket read, not the call: a server sending one byte every half
second keeps a call going forever. So the sync path runs each attempt under :func:`watch`, and one
daemon thread per process shuts the attempt's socket down when its deadline passes; the blocked
read then fails at once and the driver reports "timed out". The socket is found through the
connection classes below, which note themselves on the calling thread as each request goes out
(urllib3's documented ``ConnectionCls`` hook; nothing in requests or urllib3 is patched).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection

_local = threading.local()


class Watch:
    """One attempt's deadline and the connection it is using."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.connection: Any = None
        self.expired = False
        self.finished = False

    def fire(self) -> None:
        """The deadline passed: break the attempt's socket so its blocked read returns."""
        if self.finished:
            return
        self.expired = True
        sock = getattr(self.connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed: nothing is blocked on it
                sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """A heap of deadlines and one daemon thread that fires them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, watch: Watch) -> None:
        with self._cond:
            heapq.heappush(self._heap, (watch.deadline, next(self._order), watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="canvas-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].finished:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                _, _, due = heapq.heappop(self._heap)
            due.fire()

    def reset(self) -> None:
        """In a forked child: the parent's thread and lock state do not exist here."""
        self.__init__()  # type: ignore[misc]


_watchdog = _Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_watchdog.reset)


@contextmanager
def watch(timeout: float) -> Iterator[Watch]:
    """Run the block (one requests attempt on this thread) under a ``timeout``-second deadline."""
    current = Watch(time.monotonic() + timeout)
    _local.watch = current
    _watchdog.arm(current)
    try:
        yield current
    finally:
        current.finished = True
        _local.watch = None


class _Noted:
    """Notes the connection a request goes out on, for the thread's :class:`Watch`."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        current = getattr(_local, "watch", None)
        if current is not None:
            current.connection = self
        super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Noted, HTTPConnection):
    pass


class _HTTPSConnection(_Noted, HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with connections that :func:`watch` can break when the deadline passes."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
