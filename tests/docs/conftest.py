"""The documentation's DAGs run in real Airflow: a migrated SQLite database, once per session."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """``airflow db migrate`` in a subprocess, so no Airflow state leaks into the test process."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
