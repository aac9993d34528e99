"""The ``canvas_nightly_sis_import`` example in real Airflow: each ending runs its branch, as documented.

Each test writes a folder of CSVs, runs the example with ``dag.test()`` against the simulator (which
reads the CSVs for real), and checks which branch ran and what it said.
"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, SisScript
from tests.airflow.runner import DagResult, run_dag
from tests.conftest import DAGS

DAG_ID = "canvas_nightly_sis_import"
BRANCHES = ("report", "report_with_warnings", "alert_failed", "alert_threshold", "alert_aborted")
TERMS = "term_id,name,status\nFA24,Fall 2024,active\n"
USERS = "user_id,login_id,first_name,last_name,status\nu1,u1@x.edu,Ada,L,active\nu2,u2@x.edu,Bo,M,active\n"
_fresh = itertools.count()


def courses(*ids: str) -> str:
    rows = "".join(f"{c},{c},Course {c},FA24,active\n" for c in ids)
    return "course_id,short_name,long_name,term_id,status\n" + rows


@pytest.fixture
def example(canvas: CanvasSimulator, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CANVAS_EXAMPLE_POLL_SECONDS", "0.2")
    monkeypatch.setenv("CANVAS_EXAMPLE_TIMEOUT_SECONDS", "60")
    canvas.sis.default_script = SisScript(pickup=0.1, importing_for=0.4, cleanup_for=0.2)
    canvas.sis.add_term("Fall 2024", sis_term_id="FA24")
    spec = importlib.util.spec_from_file_location(f"{DAG_ID}_fresh_{next(_fresh)}", DAGS / f"{DAG_ID}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def folder(tmp_path: Path, name: str, files: dict[str, str]) -> str:
    target = tmp_path / name
    target.mkdir()
    for file, text in files.items():
        (target / file).write_text(text)
    return str(target)


def ran(result: DagResult) -> list[str]:
    return [task for task in BRANCHES if result.states.get(task) == "success"]


def test_a_clean_folder_is_imported_and_reported(example: Any, tmp_path: Path) -> None:
    result = run_dag(
        example, sis_directory=folder(tmp_path, "night", {"users.csv": USERS, "courses.csv": courses("c1")})
    )
    assert ran(result) == ["report"]
    assert result.states["check_folder"] == "success"
    assert "counts {'courses': 1, 'users': 2" in result.xcom("report")


def test_refused_rows_are_reported_with_their_warnings(example: Any, tmp_path: Path) -> None:
    users = USERS + "u3,,No,Login,active\n"
    result = run_dag(example, sis_directory=folder(tmp_path, "night", {"users.csv": users}))
    assert ran(result) == ["report_with_warnings"]
    assert "users.csv: No login_id given for user u3" in result.xcom("report_with_warnings")


def test_an_unreadable_file_fails_the_import_and_alerts_with_the_errors_file(
    example: Any, canvas: CanvasSimulator, tmp_path: Path
) -> None:
    result = run_dag(example, sis_directory=folder(tmp_path, "night", {"people.csv": "name,email\nAda,a@x.edu\n"}))
    assert ran(result) == ["alert_failed"]
    text = result.xcom("alert_failed")
    assert "Couldn't find Canvas CSV import headers" in text
    assert "downloaded without the token" in text
    assert all(r.header("Authorization") is None for r in canvas.sis.filestore.requests)


def test_a_truncated_export_is_stopped_by_the_threshold(example: Any, tmp_path: Path) -> None:
    full = {"terms.csv": TERMS, "courses.csv": courses("c1", "c2", "c3", "c4")}
    assert ran(run_dag(example, sis_directory=folder(tmp_path, "full", full))) == ["report"]
    result = run_dag(example, sis_directory=folder(tmp_path, "truncated", {"courses.csv": courses("c1")}))
    assert ran(result) == ["alert_threshold"]
    assert "3 courses would have been deleted, over the threshold of 10%" in result.xcom("alert_threshold")


def test_an_empty_folder_stops_before_uploading(example: Any, canvas: CanvasSimulator, tmp_path: Path) -> None:
    result = run_dag(example, sis_directory=folder(tmp_path, "empty", {}))
    assert result.states["check_folder"] == "failed"
    assert not [r for r in canvas.requests if r.method == "POST"]
