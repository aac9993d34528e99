"""Child process: run N waits of one style in one event loop and measure this process.

``python -m benchmarks.wait_worker SPEC.json RESULT.json``. A fresh interpreter per run, so
that resident memory, CPU time and the per-token gate belong to that run alone. The spec says
which style, how many waits, their poll interval, when their jobs end (relative to the start) and
how the starts are spread; the result holds the raw measurements (the parent summarises them).

Order of a run: warm up one wait (imports, caches), create the N jobs, collect garbage, take the
baselines (RSS, ``time.process_time()``, the simulator's request counters), start the waits
(spread over ``start_spread`` seconds), watch the loop until every wait has its event, take the
end readings.

Between the last start and the first job's end lies a *steady window* in which every wait exists
and nothing starts or ends: only polling. CPU and requests are read at its edges (steady-state CPU
per poll) and RSS in its middle (memory per waiting trigger). The all-in figures over the whole
run also carry each wait's set-up and tear-down (connection read, session, TLS handshake).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import connection_source, waiters
from benchmarks.loop_watch import LoopWatch
from benchmarks.simulator_process import create_jobs, create_sis_imports, simulator_stats

ROOT = Path(__file__).resolve().parent.parent


class CountingLoop(asyncio.SelectorEventLoop):
    """The default event loop, counting the connections clients open (TCP; with TLS, handshakes)."""

    connections = 0

    async def create_connection(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        CountingLoop.connections += 1
        return await super().create_connection(*args, **kwargs)


def _job_ends(spec: dict[str, Any], start: float) -> list[float]:
    """Monotonic end times: spread evenly over ``[lead, lead + spread]`` after the start, shuffled."""
    n = int(spec["n"])
    ends = [start + spec["lead"] + spec["spread"] * (i + 0.5) / n for i in range(n)]
    random.Random(spec.get("seed", 7)).shuffle(ends)
    return ends


async def _steady_window(spec: dict[str, Any], start: float, control_url: str, watch: LoopWatch) -> dict[str, Any]:
    """Readings at the edges of the steady window (see the module docstring)."""
    interval = float(spec["poll_interval"])
    opens = start + spec["start_spread"] + 0.1 * interval
    closes = start + spec["lead"] - 0.1 * interval
    if closes - opens < 0.2 * interval:
        return {}
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, opens - time.monotonic()))
    requests_before = (await loop.run_in_executor(None, simulator_stats, control_url))["total_requests"]
    cpu_before, opened, connections = time.process_time(), time.monotonic(), CountingLoop.connections
    await asyncio.sleep(max(0.0, (opens + closes) / 2 - time.monotonic()))
    rss = watch.rss()
    await asyncio.sleep(max(0.0, closes - time.monotonic()))
    cpu, closed = time.process_time() - cpu_before, time.monotonic()
    requests = (await loop.run_in_executor(None, simulator_stats, control_url))["total_requests"] - requests_before
    connections = CountingLoop.connections - connections
    return {
        "cpu_seconds": cpu,
        "requests": requests,
        "connections": connections,
        "seconds": closed - opened,
        "rss": rss,
    }


async def _run(spec: dict[str, Any]) -> dict[str, Any]:
    base_url, token = os.environ["CANVAS_BENCH_BASE_URL"], os.environ["CANVAS_BENCH_TOKEN"]
    control_url = os.environ["CANVAS_BENCH_CONTROL_URL"]
    style, n, interval = spec["style"], int(spec["n"]), float(spec["poll_interval"])
    conn_id = spec.get("conn_id", "canvas_default")
    # With a warm-up connection of its own, the measured waits find no connection read cached:
    # reading it is part of what they pay (the short-wait benchmark).
    warmup_conn_id = spec.get("warmup_conn_id", conn_id)
    floor: waiters.KeepaliveFloor | None = None
    create = create_jobs
    if style == "ours_sis":
        wait, warm_wait = waiters.ours_sis(conn_id), waiters.ours_sis(warmup_conn_id)
        create = create_sis_imports
    elif style == "ours":
        wait, warm_wait = waiters.ours(conn_id), waiters.ours(warmup_conn_id)
    elif style == "session_per_poll":
        wait, warm_wait = waiters.session_per_poll(conn_id), waiters.session_per_poll(warmup_conn_id)
    else:
        floor = waiters.KeepaliveFloor(base_url, token)
        wait = warm_wait = floor.wait

    # Warm-up: one finished job read once, so imports and one-time caches are not counted per wait.
    (warm,) = await create(control_url, [time.monotonic() - 1.0])
    await warm_wait(warm.progress_id, interval)

    # A SIS import costs three requests to set up (its root account, its script, the upload).
    creation_budget = 1.0 + n / (150.0 if style == "ours_sis" else 2000.0)
    start = time.monotonic() + creation_budget
    jobs = await create(control_url, _job_ends(spec, start))
    start = max(start, time.monotonic())
    waiters.BASELINE_ANSWERS.clear()
    connections_before = CountingLoop.connections
    # In the pool's thread, as the steady window will read it, so the thread exists before RSS is read.
    stats_before = await asyncio.get_running_loop().run_in_executor(None, simulator_stats, control_url)
    reads_before = connection_source.READS[conn_id]
    gc.collect()
    watch = LoopWatch()
    rss_before = watch.rss()
    cpu_before = time.process_time()
    wall_before = time.monotonic()
    watch.start()

    outcomes: list[waiters.Outcome | None] = [None] * n
    offsets = [spec["start_spread"] * i / n for i in range(n)]

    async def one(index: int) -> None:
        await asyncio.sleep(max(0.0, start + offsets[index] - time.monotonic()))
        outcomes[index] = await wait(jobs[index].progress_id, interval)

    limit = spec["lead"] + spec["spread"] + spec["start_spread"] + spec.get("grace", 4 * interval + 60.0)
    tasks = [asyncio.ensure_future(one(i)) for i in range(n)]
    window = asyncio.ensure_future(_steady_window(spec, start, control_url, watch))
    _done, pending = await asyncio.wait(tasks, timeout=max(0.0, start + limit - time.monotonic()))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    errors = [repr(t.exception()) for t in _done if t.exception() is not None]

    steady = await window
    cpu = time.process_time() - cpu_before
    reads = connection_source.READS[conn_id] - reads_before
    connections = CountingLoop.connections - connections_before
    wall = time.monotonic() - wall_before
    await watch.stop()
    stats_after = simulator_stats(control_url)
    if floor is not None:
        await floor.close()

    delays, statuses = [], []
    for job, outcome in zip(jobs, outcomes, strict=True):
        if outcome is None:
            statuses.append("no event")
            continue
        ok = outcome.status == "ended" and outcome.workflow_state in ("completed", "imported")
        statuses.append("completed" if ok else f"{outcome.status}:{outcome.workflow_state}:{outcome.message[:120]}")
        if ok:
            delays.append(outcome.at - job.ends_at)
    return {
        "spec": spec,
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "requests": stats_after["total_requests"] - stats_before["total_requests"],
        "throttled": stats_after["throttled"] - stats_before["throttled"],
        "connections": connections,
        "connection_reads": reads,
        "max_in_flight": max(stats_after["max_in_flight"].values(), default=0),
        "baseline_answers": {str(k): v for k, v in waiters.BASELINE_ANSWERS.items()},
        "steady": steady,
        "rss_before": rss_before,
        "rss_peak": watch.peak_rss,
        "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "lags": watch.lags,
        "delays": delays,
        "statuses": statuses,
        "task_errors": errors[:5],
    }


def launch(spec: dict[str, Any], env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Run one worker (parent side) and return its result.

    :param env: the whole environment of the child (Airflow home, connection, simulator URLs).
    :raises RuntimeError: when the child fails; its output is in the message.
    """
    with tempfile.TemporaryDirectory(prefix="canvas-bench-run-") as folder:
        spec_file, result_file, log_file = (Path(folder) / name for name in ("spec.json", "result.json", "log"))
        spec_file.write_text(json.dumps(spec))
        with open(log_file, "wb") as log:
            # Trigger logs (one INFO line per poll for ours) go to a file, as a triggerer writes them.
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.wait_worker", str(spec_file), str(result_file)],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        if done.returncode != 0 or not result_file.exists():
            tail = log_file.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"benchmark worker {spec['style']} n={spec['n']} failed ({done.returncode}):\n{tail}")
        result = dict(json.loads(result_file.read_text()))
        result["log_bytes"] = log_file.stat().st_size
        return result


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    loop = CountingLoop()
    try:
        result = loop.run_until_complete(_run(spec))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    Path(sys.argv[2]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
