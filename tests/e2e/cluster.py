"""A real Airflow on SQLite in a temporary home: the processes a deployment runs, each a subprocess.

Airflow 3 runs tasks through its API server, so it gets an api-server, a dag-processor, a scheduler
(LocalExecutor) and a triggerer; Airflow 2.11 a scheduler (SequentialExecutor, which also parses
DAGs) and a triggerer. Each process can be killed and restarted on its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_0_PLUS

#: The DAGs every end-to-end test's cluster parses.
DAGS = Path(__file__).parent / "dags"
#: Task states after which a task does not run again in the run.
FINISHED = {"success", "failed", "skipped", "upstream_failed"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AirflowCluster:
    """Start, stop and inspect the Airflow processes of one test."""

    def __init__(self, home: Path, dags: Path, env: dict[str, str]) -> None:
        self.home = home
        self.db = home / "airflow.db"
        port = free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
        self.env = {
            **base,
            # Executors launch tasks as `airflow tasks run ...`: the venv's bin must be on PATH.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.db}",
            "AIRFLOW__CORE__PARALLELISM": "4",
            # A dead triggerer's triggers move to a live one once its heartbeat is this old.
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "6",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__CORE__FERNET_KEY": "",
            **env,
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.api_port = port

    def airflow(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args], env=self.env, capture_output=True, text=True, check=check
        )

    def components(self) -> list[str]:
        if AIRFLOW_V_3_0_PLUS:
            return ["api-server", "dag-processor", "scheduler", "triggerer"]
        return ["scheduler", "triggerer"]

    def start(self, name: str) -> None:
        log = (self.home / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", name],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so a kill takes the component's children with it
        )

    def kill(self, name: str) -> None:
        """SIGKILL, as a crashed host would: no clean shutdown, no last heartbeat."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for name in list(self.processes):
            process = self.processes.pop(name)
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db, timeout=30) as conn:
            return list(conn.execute(sql, params))

    def task_states(self, dag_id: str) -> dict[str, str | None]:
        rows = self.query("SELECT task_id, state FROM task_instance WHERE dag_id = ?", dag_id)
        return dict(rows)

    def finished(self, dag_id: str, within: float) -> dict[str, str]:
        """The task states once every task of ``dag_id`` has finished; fails after ``within`` seconds."""
        states: dict[str, str] = wait_for(
            lambda: set((s := self.task_states(dag_id)).values()) <= FINISHED and s, within, f"{dag_id} to finish"
        )
        return states

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> None:
        self.airflow("dags", "unpause", dag_id, check=False)
        self.airflow("dags", "trigger", dag_id, "--conf", json.dumps(conf))

    def logs(self) -> list[Path]:
        return [p for p in self.home.rglob("*") if p.is_file() and p.suffix in (".log", ".json", "")]


@contextlib.contextmanager
def running_cluster(canvas_base_url: str, token: str, env: dict[str, str] | None = None) -> Iterator[AirflowCluster]:
    """A migrated cluster with every component started, its ``canvas_default`` connection on the
    simulator at ``canvas_base_url``; stopped on exit, its home (the logs) printed."""
    home = Path(tempfile.mkdtemp(prefix="canvas-e2e-"))
    conn = {"conn_type": "canvas", "host": canvas_base_url, "password": token}
    cluster = AirflowCluster(home, DAGS, {"AIRFLOW_CONN_CANVAS_DEFAULT": json.dumps(conn), **(env or {})})
    cluster.airflow("db", "migrate")
    for name in cluster.components():
        cluster.start(name)
    try:
        yield cluster
    finally:
        cluster.stop_all()
        print(f"Airflow home of this run (logs): {home}")


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
