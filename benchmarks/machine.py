"""What the benchmarks ran on, and how busy the machine was with other work meanwhile."""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import psutil


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _commit() -> str:
    """The checkout's commit, marked when the package has changes not yet committed."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "airflow_provider_canvas_progress"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (with uncommitted changes in airflow_provider_canvas_progress/)" if dirty else head


def facts() -> dict[str, Any]:
    """nproc, CPU, memory, OS, Python and the versions that matter."""
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "airflow": _version("apache-airflow"),
        "aiohttp": _version("aiohttp"),
        "requests": _version("requests"),
        "canvasapi": _version("canvasapi"),
        "provider": _version("airflow-provider-canvas-progress"),
        "commit": _commit(),
    }


def _busy(times: Any) -> float:
    return float(times.user + times.nice + times.system + getattr(times, "irq", 0) + getattr(times, "softirq", 0))


def _own_cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # workers and simulators, once waited for
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass
class LoadMeter:
    """CPU the rest of the machine used while the benchmarks ran (other test suites, etc.)."""

    started: float = 0.0
    busy_before: float = 0.0
    own_before: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def start(self) -> None:
        self.started = time.monotonic()
        self.busy_before = _busy(psutil.cpu_times())
        self.own_before = _own_cpu()
        self.load_before = os.getloadavg()

    def stop(self) -> dict[str, Any]:
        wall = time.monotonic() - self.started
        busy = _busy(psutil.cpu_times()) - self.busy_before
        own = _own_cpu() - self.own_before
        return {
            "wall_seconds": wall,
            "machine_busy_cores": busy / wall if wall else 0.0,
            "benchmark_cores": own / wall if wall else 0.0,
            "other_cores": max(0.0, busy - own) / wall if wall else 0.0,
            "loadavg_before": self.load_before,
            "loadavg_after": os.getloadavg(),
        }
