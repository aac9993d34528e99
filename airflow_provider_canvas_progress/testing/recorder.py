"""What the simulator saw: every request as sent (raw headers included) and running counters.

Raw headers are kept so tests can check *where* a client put its token (header, never the URL).
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RecordedRequest", "RequestLog", "SimulatorStats"]


@dataclass
class RecordedRequest:
    """One request and the status it got.

    :param method: HTTP method.
    :param path: path without the query string.
    :param query: the raw query string.
    :param headers: raw ``(name, value)`` pairs in the order sent.
    :param body: the raw body.
    :param status: the status answered, ``None`` when the connection was cut by a fault.
    :param time: :func:`time.monotonic` when the request arrived (for measuring poll intervals).
    :param clock: the simulator clock reading when the request arrived.
    :param fault: the injected fault's kind name, if one was served.
    """

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    time: float
    clock: float
    status: int | None = None
    fault: str | None = None

    def header(self, name: str) -> str | None:
        """Return the first value of a header (case-insensitive), or ``None``."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for the control API."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": [list(pair) for pair in self.headers],
            "body": self.body.decode("utf-8", errors="replace"),
            "status": self.status,
            "time": self.time,
            "clock": self.clock,
            "fault": self.fault,
        }


@dataclass(frozen=True)
class SimulatorStats:
    """A snapshot of the simulator's counters.

    :param total_requests: every request received (control API excluded).
    :param throttled: requests refused by the throttle.
    :param by_path: request count per path.
    :param by_status: request count per answered status.
    :param max_in_flight: the most concurrent requests seen per access token.
    :param faults_served: requests that got an injected fault.
    """

    total_requests: int
    throttled: int
    by_path: dict[str, int] = field(default_factory=dict)
    by_status: dict[int, int] = field(default_factory=dict)
    max_in_flight: dict[str, int] = field(default_factory=dict)
    faults_served: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for the control API."""
        return {
            "total_requests": self.total_requests,
            "throttled": self.throttled,
            "by_path": self.by_path,
            "by_status": {str(k): v for k, v in self.by_status.items()},
            "max_in_flight": self.max_in_flight,
            "faults_served": self.faults_served,
        }


class RequestLog:
    """Recorded requests (the newest ``limit``) and counters over all of them (thread-safe).

    :param limit: how many requests to keep; benchmarks with thousands of pollers would otherwise
        grow memory without bound. Counters are never truncated.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._records: deque[RecordedRequest] = deque(maxlen=limit)
        self._total = 0
        self._faults = 0
        self._by_path: Counter[str] = Counter()
        self._by_status: Counter[int] = Counter()

    def add(self, record: RecordedRequest) -> None:
        """Record a request as it arrives (its status is filled in when answered)."""
        with self._lock:
            self._records.append(record)
            self._total += 1
            self._by_path[record.path] += 1

    def answered(self, record: RecordedRequest, status: int | None, fault: str | None = None) -> None:
        """Fill in how a recorded request was answered."""
        with self._lock:
            record.status = status
            record.fault = fault
            if status is not None:
                self._by_status[status] += 1
            if fault is not None:
                self._faults += 1

    def snapshot(self) -> list[RecordedRequest]:
        """Return the recorded requests, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget recorded requests (counters are kept)."""
        with self._lock:
            self._records.clear()

    def stats(self, throttled: int, max_in_flight: dict[str, int]) -> SimulatorStats:
        """Return the counters, with the throttle's figures merged in."""
        with self._lock:
            return SimulatorStats(
                total_requests=self._total,
                throttled=throttled,
                by_path=dict(self._by_path),
                by_status=dict(self._by_status),
                max_in_flight=dict(max_in_flight),
                faults_served=self._faults,
            )
