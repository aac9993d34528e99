"""The Canvas simulator in a process of its own, so its CPU is never counted as the client's.

It is the product's own CLI (``python -m airflow_provider_canvas_progress.testing``), bound to a
free loopback port. Jobs are created through its ``/__sim__`` control API with a script that ends
them at a chosen moment; because the simulator's clock is ``time.monotonic`` and Linux's
monotonic clock is shared by all processes, the client knows each job's end to within half a
round trip.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

#: Started simulators wait at most this long for their port (a loaded machine imports slowly).
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulator behaves for one benchmark.

    :param throttle: refuse requests when the token's bucket is full (Canvas's 600/10/50 bucket).
    :param latency: seconds each API request stays in flight (holding its 50 units up front).
    """

    throttle: bool = False
    latency: float = 0.0
    tls: bool = False

    def describe(self) -> str:
        bucket = "leaky bucket on (600 units, 10/s drain, 50 up front)" if self.throttle else "throttle off"
        transport = "HTTPS through a TLS front" if self.tls else "plain HTTP"
        return f"{transport}, {bucket}, latency {self.latency * 1000:.0f} ms"


@dataclass(frozen=True)
class PlannedJob:
    """A job created for a benchmark: its id and the monotonic time it reaches ``completed``."""

    progress_id: str
    ends_at: float


class SimulatorProcess:
    """Start, query and stop a simulator subprocess (use as a context manager).

    :attr:`control_url` is the simulator itself (plain HTTP, for the ``/__sim__`` API);
    :attr:`base_url` is what clients use: the same, or the TLS front when ``config.tls``.
    """

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.token = "bench-" + secrets.token_urlsafe(24)
        self.base_url = self.control_url = ""
        self.ca_file: str | None = None
        self._popen: subprocess.Popen[bytes] | None = None
        self._front: subprocess.Popen[bytes] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="canvas-bench-sim-")

    def _wait_ready(self, ready: Path, process: subprocess.Popen[bytes], what: str) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"the {what} did not start: {self.log_text()}")
            time.sleep(0.05)
        return ready.read_text().strip()

    def __enter__(self) -> SimulatorProcess:
        ready = Path(self._dir.name) / "ready"
        command = [
            sys.executable,
            "-m",
            "airflow_provider_canvas_progress.testing",
            "--port",
            "0",
            "--token",
            self.token,
            "--latency",
            str(self.config.latency),
            "--ready-file",
            str(ready),
        ]
        if not self.config.throttle:
            command.append("--no-throttle")
        with open(Path(self._dir.name) / "simulator.log", "wb") as log:
            self._popen = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.base_url = self.control_url = self._wait_ready(ready, self._popen, "simulator")
        if self.config.tls:
            self._start_front()
        return self

    def _start_front(self) -> None:
        from benchmarks.tls_front import write_certificate

        folder = Path(self._dir.name)
        cert, key, ready = folder / "cert.pem", folder / "key.pem", folder / "front-ready"
        write_certificate(cert, key)
        port = self.control_url.rsplit(":", 1)[1]
        with open(folder / "front.log", "wb") as log:
            self._front = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.tls_front", port, str(cert), str(key), str(ready)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=Path(__file__).resolve().parent.parent,
            )
        self.base_url = self._wait_ready(ready, self._front, "TLS front")
        self.ca_file = str(cert)

    def __exit__(self, *exc_info: object) -> None:
        for process in (self._front, self._popen):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._popen = self._front = None
        self._dir.cleanup()

    def log_text(self) -> str:
        path = Path(self._dir.name) / "simulator.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    @property
    def pid(self) -> int:
        assert self._popen is not None
        return self._popen.pid

    def cpu_seconds(self) -> float:
        """User + system CPU the simulator (and its TLS front) have used so far."""
        total = 0.0
        for process in (self._popen, self._front):
            if process is not None:
                times = psutil.Process(process.pid).cpu_times()
                total += float(times.user + times.system)
        return total

    def stats(self) -> dict[str, Any]:
        """The simulator's counters (``total_requests``, ``throttled``, ``max_in_flight``...)."""
        return simulator_stats(self.control_url)

    def connection(self, **extras: Any) -> dict[str, Any]:
        """The Airflow connection (JSON form) to this simulator."""
        conn: dict[str, Any] = {"conn_type": "canvas", "host": self.base_url, "password": self.token}
        if extras:
            conn["extra"] = extras
        return conn

    def env(self, **extras: Any) -> dict[str, str]:
        """Environment variables for a process that talks to this simulator.

        With TLS, ``SSL_CERT_FILE`` makes the benchmark's certificate the default trust store, so
        clients use their default verification (``verify`` true), as they do against Canvas.
        """
        env = {
            "AIRFLOW_CONN_CANVAS_DEFAULT": json.dumps(self.connection(**extras)),
            "CANVAS_BENCH_BASE_URL": self.base_url,
            "CANVAS_BENCH_CONTROL_URL": self.control_url,
            "CANVAS_BENCH_TOKEN": self.token,
        }
        if self.ca_file is not None:
            env["SSL_CERT_FILE"] = self.ca_file
        return env


def simulator_stats(control_url: str) -> dict[str, Any]:
    """The counters of the simulator at ``control_url``."""
    with urllib.request.urlopen(f"{control_url}/__sim__/stats", timeout=60) as answer:
        return dict(json.loads(answer.read()))


async def create_jobs(control_url: str, ends_at: list[float], *, concurrency: int = 16) -> list[PlannedJob]:
    """Create one job per entry of ``ends_at`` (monotonic times) that completes at that time.

    Jobs read ``running`` at 0 % until their end, then ``completed`` at 100 %. An end already in the
    past gives a job that is completed when first read.
    """
    import aiohttp

    jobs: list[PlannedJob | None] = [None] * len(ends_at)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(ends_at)):
        queue.put_nowait(index)

    async def creator(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            index = queue.get_nowait()
            sent = time.monotonic()
            script = {"queued_for": 0.0, "running_for": max(0.0, ends_at[index] - sent), "running_steps": 1}
            async with session.post(f"{control_url}/__sim__/progress", json={"script": script}) as answer:
                body = await answer.json()
                if answer.status != 201:
                    raise RuntimeError(f"the simulator refused a job: {body}")
            received = time.monotonic()
            # The simulator stamped the job between send and receipt; take the midpoint.
            jobs[index] = PlannedJob(str(body["id"]), sent + (received - sent) / 2 + script["running_for"])

    async with aiohttp.ClientSession(trust_env=False) as session:
        await asyncio.gather(*(creator(session) for _ in range(concurrency)))
    return [job for job in jobs if job is not None]


#: SIS imports run one at a time per root account, so each benchmark import gets a root account of
#: its own (from this id up): every wait then polls an import that stays ``importing`` until its end.
SIS_FIRST_ACCOUNT = 1000
_next_sis_account = SIS_FIRST_ACCOUNT


async def create_sis_imports(control_url: str, ends_at: list[float], *, concurrency: int = 16) -> list[PlannedJob]:
    """Create one SIS import per entry of ``ends_at`` that reaches ``imported`` at that time.

    Each import is on a fresh root account, scripted through ``/__sim__/sis/scripts`` (picked up at
    once, ``importing`` at 0 % until its end) and created through the real API (a raw zip upload).
    Scripts are queued first in, first out, so each creator queues and creates under one lock.
    The planned job's id is the trigger reference ``sis_import:<account>/<id>``.
    """
    import aiohttp

    from airflow_provider_canvas_progress.testing.sis_csv import build_zip

    token = os.environ["CANVAS_BENCH_TOKEN"]
    upload = build_zip({"users.csv": "user_id,login_id,status\nu1,u1,active\n"})
    jobs: list[PlannedJob | None] = [None] * len(ends_at)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(ends_at)):
        queue.put_nowait(index)
    lock = asyncio.Lock()

    async def post(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> dict[str, Any]:
        async with session.post(url, **kwargs) as answer:
            body = dict(await answer.json())
            if answer.status not in (200, 201):
                raise RuntimeError(f"the simulator refused {url}: {answer.status} {body}")
            return body

    async def creator(session: aiohttp.ClientSession) -> None:
        global _next_sis_account
        while not queue.empty():
            index = queue.get_nowait()
            account = _next_sis_account
            _next_sis_account += 1
            await post(session, f"{control_url}/__sim__/sis/accounts/{account}", json={"root": True})
            async with lock:
                sent = time.monotonic()
                running = max(0.0, ends_at[index] - sent)
                script = {"pickup": 0.0, "importing_for": running, "importing_steps": 1, "outcome": "imported"}
                await post(session, f"{control_url}/__sim__/sis/scripts", json={"script": script})
                body = await post(
                    session,
                    f"{control_url}/api/v1/accounts/{account}/sis_imports",
                    params={"import_type": "instructure_csv", "extension": "zip"},
                    data=upload,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/zip"},
                )
            received = time.monotonic()
            jobs[index] = PlannedJob(f"sis_import:{account}/{body['id']}", sent + (received - sent) / 2 + running)

    async with aiohttp.ClientSession(trust_env=False) as session:
        await asyncio.gather(*(creator(session) for _ in range(concurrency)))
    return [job for job in jobs if job is not None]


def isolated_airflow_env() -> dict[str, str]:
    """Environment for benchmark processes: a throwaway AIRFLOW_HOME, no user connections."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW__", "AIRFLOW_VAR_"))}
    home = tempfile.mkdtemp(prefix="canvas-bench-airflow-")
    env.update(
        {
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        }
    )
    return env
