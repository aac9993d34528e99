"""One worker run (N waits of one style) and the figures derived from its raw measurements."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from benchmarks.figures import percentile, ratio


@dataclass
class WaitRun:
    """A finished :mod:`~benchmarks.wait_worker` run.

    :param transport: ``tls`` or ``http``.
    :param server_cpu: CPU seconds the simulator (and TLS front) spent during the run.
    """

    style: str
    n: int
    poll_interval: float
    transport: str
    raw: dict[str, Any] = field(repr=False)
    server_cpu: float = math.nan

    @property
    def requests(self) -> int:
        return int(self.raw["requests"])

    @property
    def completed(self) -> int:
        return sum(1 for status in self.raw["statuses"] if status == "completed")

    @property
    def failed(self) -> int:
        return self.n - self.completed

    @property
    def cpu_ms_per_poll(self) -> float:
        """All-in: the whole run's CPU (set-up, polls, events, tear-down) over its requests."""
        return 1000 * ratio(self.raw["cpu_seconds"], self.requests)

    @property
    def steady_cpu_ms_per_poll(self) -> float:
        """Steady state: CPU over requests in the window where every wait only polls."""
        steady = self.raw.get("steady") or {}
        return 1000 * ratio(steady.get("cpu_seconds", math.nan), steady.get("requests", 0))

    @property
    def steady_requests(self) -> int:
        return int((self.raw.get("steady") or {}).get("requests", 0))

    @property
    def rss_kb_per_wait(self) -> float:
        """Resident memory added per waiting trigger, read mid-window when all N wait."""
        steady = self.raw.get("steady") or {}
        if "rss" not in steady:
            return math.nan
        return (steady["rss"] - self.raw["rss_before"]) / self.n / 1024

    @property
    def peak_rss_kb_per_wait(self) -> float:
        """Peak resident memory over the whole run, above the pre-run baseline, per wait."""
        return (self.raw["rss_peak"] - self.raw["rss_before"]) / self.n / 1024

    @property
    def rss_mb(self) -> float:
        steady = self.raw.get("steady") or {}
        return steady.get("rss", self.raw["rss_peak"]) / 1024 / 1024

    def lag_ms(self, q: float) -> float:
        return 1000 * percentile(self.raw["lags"], q)

    @property
    def loop_lag_p99_ms(self) -> float:
        return self.lag_ms(99)

    def delay_s(self, q: float) -> float:
        return percentile(self.raw["delays"], q)

    @property
    def requests_per_job(self) -> float:
        return ratio(self.requests, self.n)

    @property
    def connections_per_poll(self) -> float:
        return ratio(self.raw.get("connections", math.nan), self.requests)

    @property
    def steady_connections_per_poll(self) -> float:
        steady = self.raw.get("steady") or {}
        return ratio(steady.get("connections", math.nan), steady.get("requests", 0))

    @property
    def connection_reads_per_wait(self) -> float:
        """Reads of the connection from the benchmark's counting source, per wait (NaN when not counted)."""
        return ratio(self.raw.get("connection_reads", math.nan), self.n)

    @property
    def server_cpu_ms_per_request(self) -> float:
        return 1000 * ratio(self.server_cpu, self.requests)

    @property
    def throttled(self) -> int:
        return int(self.raw["throttled"])

    @property
    def max_in_flight(self) -> int:
        return int(self.raw["max_in_flight"])

    @property
    def wall_seconds(self) -> float:
        return float(self.raw["wall_seconds"])

    def to_dict(self) -> dict[str, Any]:
        """The figures (not the raw samples), for the JSON results file."""
        return {
            "style": self.style,
            "n": self.n,
            "poll_interval": self.poll_interval,
            "transport": self.transport,
            "completed": self.completed,
            "requests": self.requests,
            "requests_per_job": self.requests_per_job,
            "cpu_ms_per_poll": self.cpu_ms_per_poll,
            "steady_cpu_ms_per_poll": self.steady_cpu_ms_per_poll,
            "steady_requests": self.steady_requests,
            "rss_kb_per_wait": self.rss_kb_per_wait,
            "peak_rss_kb_per_wait": self.peak_rss_kb_per_wait,
            "lag_ms_p50": self.lag_ms(50),
            "lag_ms_p99": self.lag_ms(99),
            "lag_ms_max": self.lag_ms(100),
            "delay_s_p50": self.delay_s(50),
            "delay_s_p99": self.delay_s(99),
            "connections_per_poll": self.connections_per_poll,
            "connection_reads_per_wait": self.connection_reads_per_wait,
            "server_cpu_ms_per_request": self.server_cpu_ms_per_request,
            "throttled": self.throttled,
            "max_in_flight": self.max_in_flight,
            "wall_seconds": self.wall_seconds,
            "baseline_answers": self.raw.get("baseline_answers", {}),
        }
