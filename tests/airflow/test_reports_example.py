"""The ``canvas_nightly_reports`` example runs as is against the simulator, deferrable, three reports mapped."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator
from airflow_provider_canvas_progress.testing.reports_control import reports_of
from airflow_provider_canvas_progress.testing.reports_store import ReportScript
from tests.airflow.runner import run_dag
from tests.conftest import DAGS

DAG_ID = "canvas_nightly_reports"
QUICK: dict[str, Any] = {"created_for": 0.1, "running_for": 0.4, "compiling_for": 0.1, "running_steps": 2}


@pytest.fixture
def example(canvas: CanvasSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    reports_of(canvas).store.default_script = ReportScript(**QUICK)
    monkeypatch.setenv("CANVAS_EXAMPLE_POLL_SECONDS", "0.2")
    monkeypatch.setenv("CANVAS_EXAMPLE_TIMEOUT_SECONDS", "60")
    monkeypatch.setenv("CANVAS_EXAMPLE_REPORTS_DIR", str(tmp_path))
    spec = importlib.util.spec_from_file_location(f"{DAG_ID}_fresh", DAGS / f"{DAG_ID}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def test_the_example_saves_three_reports_and_summarises_them(example: Any, tmp_path: Path) -> None:
    result = run_dag(example)

    assert result.state == "success"
    summary = result.xcom("summary")
    assert sorted(summary) == ["grade_export_csv", "last_user_access_csv", "provisioning_csv"]
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert len([name for name in saved if name.endswith((".csv", ".zip"))]) == 3
    provisioning = next(name for name in saved if name.endswith(".zip"))
    assert (tmp_path / provisioning.removesuffix(".zip") / "enrollments.csv").exists()


def test_a_report_in_error_fails_the_summary_naming_it_and_its_reason(example: Any, canvas: CanvasSimulator) -> None:
    reports_of(canvas).script_next(
        ReportScript(**QUICK, outcome="error", extra_text="ErrorReport:77;"), report="grade_export_csv"
    )

    result = run_dag(example)

    assert result.states["run_report"] == "success"
    assert result.states["summary"] == "failed"


def test_a_term_reaches_each_report_and_an_empty_one_is_left_out(example: Any, canvas: CanvasSimulator) -> None:
    term = canvas.sis.add_term("Spring 2027", sis_term_id="2027SP")

    run_dag(example, term=str(term))

    grades = [r for r in canvas.requests if r.method == "POST" and r.path.endswith("/grade_export_csv")]
    access = [r for r in canvas.requests if r.method == "POST" and r.path.endswith("/last_user_access_csv")]
    assert f'"enrollment_term_id":"{term}"'.encode() in grades[0].body.replace(b" ", b"")
    assert b"enrollment_term_id" not in access[0].body
