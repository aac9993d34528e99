"""The figures of ``docs/benchmarks.md`` (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from benchmarks.hook_throughput import LABELS as CLIENT_LABELS
from benchmarks.hook_throughput import ClientResult
from benchmarks.wait_run import WaitRun
from benchmarks.waiters import LABELS, STYLES
from benchmarks.worker_slots import ModeResult

COLOURS = {"ours": "#1f77b4", "session_per_poll": "#d62728", "keepalive_floor": "#7f7f7f"}
TRANSPORTS = {"tls": "HTTPS (TLS front)", "http": "plain HTTP"}


def _save(figure: Figure, folder: Path, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(folder / name, dpi=110)
    plt.close(figure)
    return name


def _two_and_five(value: float, _position: object) -> str:
    """Label the 2x and 5x minor ticks of a log axis, so short ranges still read."""
    leading = f"{value:e}"[0]
    return f"{value:g}" if leading in "25" else ""


def _scale_panels(runs: list[WaitRun], metric: str, ylabel: str, *, log: bool) -> Figure:
    transports = [t for t in TRANSPORTS if any(r.transport == t for r in runs)]
    figure, axes = plt.subplots(1, len(transports), figsize=(5.5 * len(transports), 4), squeeze=False)
    for axis, transport in zip(axes[0], transports, strict=True):
        for style in STYLES:
            points = sorted((r.n, getattr(r, metric)) for r in runs if r.transport == transport and r.style == style)
            if points:
                xs, ys = zip(*points, strict=True)
                axis.plot(xs, ys, marker="o", label=LABELS[style], color=COLOURS[style])
        axis.set_xscale("log")
        sizes = sorted({r.n for r in runs if r.transport == transport})
        axis.set_xticks(sizes, [f"{n:,}" for n in sizes])
        axis.minorticks_off()
        if log:
            axis.set_yscale("log")
            axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            axis.yaxis.set_minor_formatter(FuncFormatter(_two_and_five))
        axis.set_xlabel("concurrent waits (N)")
        axis.set_ylabel(ylabel)
        axis.set_title(TRANSPORTS[transport])
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    return figure


def scale_figures(runs: list[WaitRun], folder: Path) -> list[tuple[str, str]]:
    """CPU per poll, memory per wait and detection delay against N."""
    main = [r for r in runs if r.style in STYLES]
    made = []
    figure = _scale_panels(main, "steady_cpu_ms_per_poll", "CPU ms per poll (steady state)", log=False)
    made.append(("CPU per poll", _save(figure, folder, "scale_cpu_per_poll.png")))
    figure = _scale_panels(main, "rss_kb_per_wait", "RSS KB per waiting trigger", log=True)
    for axis in figure.axes:
        axis.axhline(20, color="green", linestyle="--", linewidth=1, label="target 20 KB")
        axis.legend(fontsize=8)
    made.append(("memory per waiting trigger", _save(figure, folder, "scale_rss_per_wait.png")))
    figure = _scale_panels(main, "loop_lag_p99_ms", "event-loop lag p99 (ms)", log=True)
    made.append(("event-loop lag", _save(figure, folder, "scale_loop_lag.png")))
    return made


def short_waits_figure(runs: list[WaitRun], folder: Path) -> str:
    """All-in CPU per poll of each style, with issue 10's bounds drawn from the floor and the baseline."""
    figure, axis = plt.subplots(figsize=(7.5, 3))
    colours = [COLOURS[r.style] for r in runs]
    axis.barh([LABELS[r.style] for r in runs], [r.cpu_ms_per_poll for r in runs], color=colours)
    by_style = {r.style: r for r in runs}
    if "keepalive_floor" in by_style:
        floor = by_style["keepalive_floor"].cpu_ms_per_poll
        axis.axvline(2 * floor, color="green", linestyle="--", label="2x the floor")
    if "session_per_poll" in by_style:
        axis.axvline(
            by_style["session_per_poll"].cpu_ms_per_poll / 1.2, color="orange", linestyle=":", label="baseline / 1.2"
        )
    axis.set_xlabel(f"CPU ms per poll, all-in ({runs[0].n:,} short waits, one token, plain HTTP)")
    axis.legend(fontsize=8)
    axis.grid(True, axis="x", alpha=0.3)
    return _save(figure, folder, "short_waits.png")


def throttle_figure(runs: list[WaitRun], folder: Path) -> str:
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    names = [LABELS[r.style] for r in runs]
    colours = [COLOURS[r.style] for r in runs]
    left.barh(names, [r.throttled for r in runs], color=colours)
    left.set_xlabel("throttled answers (403 Rate Limit Exceeded)")
    right.barh(names, [r.completed for r in runs], color=colours)
    right.set_xlabel(f"waits that saw their job end (of {runs[0].n})")
    for axis in (left, right):
        axis.grid(True, axis="x", alpha=0.3)
    return _save(figure, folder, "throttle.png")


def slots_figure(results: list[ModeResult], folder: Path) -> str:
    figure, axis = plt.subplots(figsize=(7, 3.5))
    modes = [r.mode for r in results]
    busy = [r.busy_seconds for r in results]
    idle = [r.idle_slot_seconds for r in results]
    axis.barh(modes, busy, color="#1f77b4", label="running a poke / deferral / resume")
    axis.barh(modes, idle, left=busy, color="#ff7f0e", label="held while only waiting")
    axis.set_xscale("symlog", linthresh=1.0)
    axis.set_xlabel(f"worker-slot-seconds for {results[0].waits} waits (symlog)")
    axis.legend(fontsize=8)
    axis.grid(True, axis="x", alpha=0.3)
    return _save(figure, folder, "worker_slots.png")


def hook_figure(results: list[ClientResult], folder: Path) -> str:
    figure, axis = plt.subplots(figsize=(7, 3))
    axis.barh([CLIENT_LABELS[r.client] for r in results], [r.median_calls_per_second for r in results])
    axis.set_xlabel("sequential calls per second (median round)")
    axis.grid(True, axis="x", alpha=0.3)
    return _save(figure, folder, "hook_throughput.png")
