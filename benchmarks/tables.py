"""The result tables, as rows of text for the console and for Markdown."""

from __future__ import annotations

import math
from collections.abc import Sequence

from benchmarks.figures import fmt, ratio
from benchmarks.hook_throughput import LABELS as CLIENT_LABELS
from benchmarks.hook_throughput import ClientResult
from benchmarks.wait_run import WaitRun
from benchmarks.waiters import LABELS
from benchmarks.worker_slots import ModeResult


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def console_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = [list(headers), *[list(r) for r in rows]]
    widths = [max(len(str(row[i]).replace("**", "")) for row in cells) for i in range(len(headers))]
    out = [title, "-" * len(title)]
    for index, row in enumerate(cells):
        out.append("  ".join(str(c).replace("**", "").ljust(w) for c, w in zip(row, widths, strict=True)))
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def run_for(runs: Sequence[WaitRun], style: str, n: int, transport: str) -> WaitRun | None:
    return next((r for r in runs if r.style == style and r.n == n and r.transport == transport), None)


def scale_table(runs: Sequence[WaitRun], transport: str) -> tuple[list[str], list[list[str]]]:
    headers = [
        "N",
        "poll s",
        "style",
        "events ok",
        "CPU ms/poll steady",
        "CPU ms/poll all-in",
        "server CPU ms/req",
        "RSS KB/wait",
        "loop lag p50/p99/max ms",
        "delay p50/p99 s",
        "req/job",
        "new conns/poll steady",
    ]
    rows = []
    for r in sorted((r for r in runs if r.transport == transport), key=lambda r: (r.n, r.style != "ours")):
        rows.append(
            [
                f"{r.n:,}",
                fmt(r.poll_interval, 0),
                LABELS.get(r.style, r.style),
                f"{r.completed}/{r.n}",
                fmt(r.steady_cpu_ms_per_poll, 3),
                fmt(r.cpu_ms_per_poll, 3),
                fmt(r.server_cpu_ms_per_request, 3),
                fmt(r.rss_kb_per_wait, 1),
                f"{fmt(r.lag_ms(50), 1)} / {fmt(r.lag_ms(99), 1)} / {fmt(r.lag_ms(100), 0)}",
                f"{fmt(r.delay_s(50), 2)} / {fmt(r.delay_s(99), 2)}",
                fmt(r.requests_per_job, 2),
                fmt(r.steady_connections_per_poll, 2),
            ]
        )
    return headers, rows


def short_waits_table(runs: Sequence[WaitRun]) -> tuple[list[str], list[list[str]]]:
    floor = next((r for r in runs if r.style == "keepalive_floor"), None)
    headers = [
        "style",
        "waits ended",
        "polls/wait",
        "CPU ms/poll all-in",
        "vs floor",
        "CPU ms/wait",
        "connection reads/wait",
        "server CPU ms/req",
        "loop lag p99/max ms",
        "delay p50/p99 s",
    ]
    rows = [
        [
            LABELS.get(r.style, r.style),
            f"{r.completed}/{r.n}",
            fmt(r.requests_per_job, 2),
            fmt(r.cpu_ms_per_poll, 3),
            f"{fmt(ratio(r.cpu_ms_per_poll, floor.cpu_ms_per_poll), 2)}x" if floor else "n/a",
            fmt(r.cpu_ms_per_poll * r.requests_per_job, 3),
            fmt(r.connection_reads_per_wait, 3),
            fmt(r.server_cpu_ms_per_request, 3),
            f"{fmt(r.lag_ms(99), 1)} / {fmt(r.lag_ms(100), 0)}",
            f"{fmt(r.delay_s(50), 2)} / {fmt(r.delay_s(99), 2)}",
        ]
        for r in runs
    ]
    return headers, rows


def throttle_table(runs: Sequence[WaitRun]) -> tuple[list[str], list[list[str]]]:
    headers = [
        "style",
        "waits ended",
        "failed / not ended in time",
        "throttled answers",
        "requests",
        "max in flight (server)",
        "delay p50/p99 s",
        "run s",
    ]
    rows = [
        [
            LABELS[r.style],
            f"{r.completed}/{r.n}",
            str(r.failed),
            f"{r.throttled:,}",
            f"{r.requests:,}",
            str(r.max_in_flight),
            f"{fmt(r.delay_s(50), 1)} / {fmt(r.delay_s(99), 1)}",
            fmt(r.wall_seconds, 0),
        ]
        for r in runs
    ]
    return headers, rows


def slots_table(results: Sequence[ModeResult]) -> tuple[list[str], list[list[str]]]:
    headers = [
        "mode",
        "waits ended",
        "worker-slot-seconds",
        "of which held while only waiting",
        "worker-side calls",
        "slot-s per wait",
        "slots held on average",
    ]
    rows = [
        [
            r.mode,
            f"{r.completed}/{r.waits}",
            fmt(r.slot_seconds, 2),
            fmt(r.idle_slot_seconds, 2),
            str(r.worker_calls),
            fmt(r.slot_seconds / r.waits, 3),
            fmt(r.mean_slots, 2),
        ]
        for r in results
    ]
    return headers, rows


def hook_table(results: Sequence[ClientResult]) -> tuple[list[str], list[list[str]]]:
    canvasapi = next((r for r in results if r.client == "canvasapi"), None)
    headers = ["client", "calls/s (median)", "CPU ms/call", "vs canvasapi"]
    rows = []
    for r in results:
        speed = ratio(r.median_calls_per_second, canvasapi.median_calls_per_second) if canvasapi else math.nan
        rows.append(
            [
                CLIENT_LABELS[r.client],
                fmt(r.median_calls_per_second, 0),
                fmt(r.median_cpu_ms_per_call, 3),
                f"{fmt(speed, 2)}x",
            ]
        )
    return headers, rows
