"""Real Airflow for DAG tests: a migrated SQLite database and a simulator-backed connection."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript

#: Fast retries so that fault tests finish in seconds; the policy itself is tested in tests/unit.
FAST_EXTRAS = {"retry_wait_initial": 0.01, "retry_wait_max": 0.05, "max_attempts": 3}


@pytest.fixture(scope="session", autouse=True)
def airflow_db() -> None:
    """``airflow db migrate`` once per session, in a subprocess so no Airflow state leaks in."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)


@pytest.fixture
def canvas(monkeypatch: pytest.MonkeyPatch) -> Iterator[CanvasSimulator]:
    """A running simulator wired to ``canvas_default``; jobs take about a second by default."""
    from airflow_provider_canvas_progress.hooks import canvas as hook_module

    hook_module._gates.clear()
    with CanvasSimulator(default_job_script=JobScript(queued_for=0.2, running_for=0.8)) as sim:
        conn = {"conn_type": "canvas", "host": sim.base_url, "password": sim.token, "extra": FAST_EXTRAS}
        monkeypatch.setenv("AIRFLOW_CONN_CANVAS_DEFAULT", json.dumps(conn))
        yield sim
