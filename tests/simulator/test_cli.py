"""``python -m airflow_provider_canvas_progress.testing``: a standalone simulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

SRC = Path(__file__).resolve().parents[2]


def test_cli_serves_until_terminated(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_canvas_progress.testing",
            *("--port", "0", "--token", "7~cli", "--ready-file", str(ready)),
            *("--throttle-status", "429", "--job-seconds", "5"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the simulator did not start"
            time.sleep(0.05)
        base_url = ready.read_text().strip()
        response = requests.get(f"{base_url}/api/v1/users/self", headers={"Authorization": "Bearer 7~cli"}, timeout=5)
        assert response.json()["name"] == "Sim Admin"
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert f"Canvas simulator listening on {base_url}" in out
    assert "export AIRFLOW_CONN_CANVAS_DEFAULT='" in out
    assert not ready.exists()
