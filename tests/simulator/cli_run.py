"""Run ``python -m airflow_provider_canvas_progress.testing`` as a user does, for the CLI's tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[2]


@dataclass
class CliRun:
    """What the CLI showed: its base URL while it runs; its output and exit status once stopped."""

    ready_file: Path
    base_url: str = ""
    out: str = ""
    returncode: int | None = None


@contextmanager
def running_cli(tmp_path: Path, *args: str) -> Iterator[CliRun]:
    """Start the CLI on a free port with ``args``, yield once it listens, stop it with SIGTERM."""
    run = CliRun(tmp_path / "ready")
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_canvas_progress.testing",
            *("--port", "0", "--ready-file", str(run.ready_file), *args),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not run.ready_file.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the simulator did not start"
            time.sleep(0.05)
        run.base_url = run.ready_file.read_text().strip()
        yield run
    finally:
        process.send_signal(signal.SIGTERM)
        run.out, _ = process.communicate(timeout=20)
        run.returncode = process.returncode
