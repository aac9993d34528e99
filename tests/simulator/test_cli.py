"""``python -m airflow_provider_canvas_progress.testing``: a standalone simulator."""

from __future__ import annotations

from pathlib import Path

import requests

from .cli_run import running_cli


def test_cli_serves_until_terminated(tmp_path: Path) -> None:
    with running_cli(tmp_path, "--token", "7~cli", "--throttle-status", "429", "--job-seconds", "5") as run:
        response = requests.get(
            f"{run.base_url}/api/v1/users/self", headers={"Authorization": "Bearer 7~cli"}, timeout=5
        )
        assert response.json()["name"] == "Sim Admin"
    assert run.returncode == 0
    assert f"Canvas simulator listening on {run.base_url}" in run.out
    assert "export AIRFLOW_CONN_CANVAS_DEFAULT='" in run.out
    assert not run.ready_file.exists()
