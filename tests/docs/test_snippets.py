"""Every Python block of the documentation runs, against the embedded Canvas simulator.

Each page is one test, read like a doctest session: its Python blocks run in order in one
namespace, so a later block may use what an earlier one defined. The page gets a running
simulator whose jobs end at once, behind ``AIRFLOW_CONN_CANVAS_DEFAULT``; blocks that start their
own simulator use that one instead. A block that defines a DAG is a whole DAG file, as users copy
it: it is written to the dags folder, imported, and each of its DAGs is run with ``dag.test()``.
A block that defines ``test_*`` functions (the pytest examples) is a test file: pytest runs it in a
subprocess, in a project laid out as a user's (the page's ``conftest`` block, a ``dags`` folder with
the page's DAG files on the ``pythonpath``). See ``snippets.py`` for the markers.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript
from tests.conftest import DAGS
from tests.docs.snippets import PYTHON, Snippet, extract, pages

PAGES = pages()


@pytest.fixture
def canvas_for_docs(monkeypatch: pytest.MonkeyPatch) -> Iterator[CanvasSimulator]:
    """The Canvas the docs' ``canvas_default`` points at; jobs there end as soon as they start."""
    from airflow_provider_canvas_progress.hooks import canvas as hook_module

    hook_module._gates.clear()
    with CanvasSimulator(default_job_script=JobScript.instant()) as sim:
        monkeypatch.setenv(*sim.airflow_conn_env("canvas_default"))
        yield sim


@pytest.fixture
def restored_environment() -> Iterator[None]:
    """Snippets set connections with ``os.environ[...] = ...``, as users do: undo that afterwards."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def dag_files() -> Iterator[list[Path]]:
    """DAG files the page wrote into the dags folder; removed afterwards so no other test parses them."""
    written: list[Path] = []
    if str(DAGS) not in sys.path:
        sys.path.insert(0, str(DAGS))
    yield written
    for path in written:
        path.unlink(missing_ok=True)
        sys.modules.pop(path.stem, None)


def _state(value: Any) -> str:
    return str(getattr(value, "value", value))


def _task_states(dag_run: Any) -> dict[str, str]:
    try:
        return {ti.task_id: _state(ti.state) for ti in dag_run.get_task_instances()}
    except Exception as error:  # only for the failure message
        return {"?": f"task states unavailable: {error}"}


def _run_dag_file(snippet: Snippet, namespace: dict[str, Any], written: list[Path]) -> None:
    name = snippet.module_name()
    path = DAGS / f"{name}.py"
    assert not path.exists(), f"{snippet.where}: {path.name} exists in the dags folder already"
    path.write_text(snippet.compiled_source(), encoding="utf-8")
    written.append(path)
    importlib.invalidate_caches()
    module = importlib.import_module(name)
    dags = [value for value in vars(module).values() if isinstance(value, DAG)]
    assert dags, f"{snippet.where}: a DAG file that defines no DAG"
    if snippet.marker("parse-only") is None:
        expected = snippet.marker("expect") or "success"
        for dag in dags:
            dag_run = dag.test()
            assert _state(dag_run.state) == expected, (
                f"{snippet.where}: DAG {dag.dag_id} ended {_state(dag_run.state)}, not {expected}: "
                f"{_task_states(dag_run)}"
            )
    namespace.update({key: value for key, value in vars(module).items() if not key.startswith("__")})


def _run_block(snippet: Snippet, namespace: dict[str, Any]) -> None:
    exec(compile(snippet.compiled_source(), str(snippet.path), "exec"), namespace)


def _run_test_files(snippets: list[Snippet], folder: Path, dag_files: list[Path]) -> None:
    """One pytest run for all of a page's test blocks, laid out as a user's project.

    ``folder`` holds the page's ``conftest.py`` (which sets up a throwaway Airflow home of its own),
    a ``dags`` folder with the page's DAG files, and each test block as a file. Nothing of this test
    session's Airflow set-up is passed on: the page's conftest must do it, as users' do.
    """
    assert (folder / "conftest.py").exists(), f"{snippets[0].where}: the page has tests but no conftest block"
    dags = folder / "dags"
    dags.mkdir(exist_ok=True)
    for path in dag_files:
        (dags / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    files = []
    for snippet in snippets:
        path = folder / f"test_{snippet.module_name()}.py"
        path.write_text(snippet.compiled_source(), encoding="utf-8")
        files.append(path.name)
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", f"pythonpath={dags}", *files]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=300, check=False)
    where = ", ".join(s.where for s in snippets)
    assert done.returncode == 0, f"{where}: pytest exited {done.returncode}\n{done.stdout[-6000:]}{done.stderr[-3000:]}"


def _stop_simulators(namespace: dict[str, Any]) -> None:
    for value in namespace.values():
        if isinstance(value, CanvasSimulator):
            value.stop()


@pytest.mark.usefixtures("airflow_db", "canvas_for_docs", "restored_environment")
@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_python_blocks_of_the_page_run(page: Path, dag_files: list[Path], tmp_path: Path) -> None:
    namespace: dict[str, Any] = {"__name__": f"docs.{page.stem}", "__file__": str(page)}
    test_files: list[Snippet] = []
    try:
        for snippet in extract(page):
            if not snippet.is_python or snippet.skipped:
                continue
            if snippet.is_conftest:
                (tmp_path / "conftest.py").write_text(snippet.compiled_source(), encoding="utf-8")
            elif snippet.is_test_file:
                test_files.append(snippet)
            elif snippet.is_dag_file:
                _run_dag_file(snippet, namespace, dag_files)
            else:
                _run_block(snippet, namespace)
        if test_files:
            _run_test_files(test_files, tmp_path, dag_files)
    finally:
        _stop_simulators(namespace)


def test_no_python_block_is_skipped() -> None:
    skipped = [s.where for page in PAGES for s in extract(page) if s.is_python and s.skipped]
    assert skipped == []


def test_every_code_block_names_its_language() -> None:
    # A bare fence is highlighted as Python by Sphinx but would not be run here.
    bare = [s.where for page in PAGES for s in extract(page) if not s.language]
    assert bare == []


def test_the_pages_have_python_to_run() -> None:
    # Guards the extraction itself: a broken fence parser would make every page trivially pass.
    assert sum(1 for page in PAGES for s in extract(page) if s.language in PYTHON) >= 10
