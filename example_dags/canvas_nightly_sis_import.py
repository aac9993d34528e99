"""Nightly SIS import: upload the night's CSV folder, wait without a worker, route on how it ended.

The pattern::

    check_folder ──> import_sis ──> route ──> report                (imported)
                                         ├──> report_with_warnings  (imported_with_messages)
                                         ├──> alert_failed          (failed / failed_with_messages)
                                         ├──> alert_threshold       (aborted by change_threshold)
                                         └──> alert_aborted         (aborted by someone)

* ``check_folder`` lists the folder's CSV files and stops the run early when there are none (an
  empty export is a broken export, not an empty school).
* ``import_sis`` (:class:`CanvasSisImportOperator`) zips the folder on the fly (only its ``.csv``
  files, streamed from a temporary file), uploads it to the root account in **batch mode** for one
  term with ``change_threshold=10``: if the import would delete more than 10 % of the term's
  courses, sections or enrollments, Canvas aborts it instead (a truncated export must not wipe a
  term). It pushes the import id to XCom at once, then waits in the triggerer (deferrable).
  ``fail_on=[]`` makes every ending a success so that ``route`` can decide.
* ``route`` (:class:`CanvasSisImportBranchOperator`) follows one branch and skips the others.

The connection's user needs the ``import_sis`` permission on the root account (``manage_sis``
alone cannot start an import); see the docs page "Nightly SIS imports".

Run it: ``airflow dags test canvas_nightly_sis_import --conf '{"sis_directory": "/data/sis/2024-01-01"}'``.

.. warning:: This really imports into Canvas, and batch mode deletes what the folder leaves out of
   the term (up to the threshold). Point ``canvas_default`` at a test or beta instance first.

Environment variables, read when the file is parsed (poll intervals and timeouts are not templated):

* ``CANVAS_EXAMPLE_POLL_SECONDS``: seconds between reads of the import (default 30);
* ``CANVAS_EXAMPLE_TIMEOUT_SECONDS``: longest wait, queueing behind other imports included
  (default 21600, six hours).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Param, task

from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.operators.sis import CanvasSisImportBranchOperator, CanvasSisImportOperator

CANVAS_CONN_ID = "canvas_default"


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number of seconds.") from None


POLL_SECONDS = _seconds("CANVAS_EXAMPLE_POLL_SECONDS", 30.0)
TIMEOUT_SECONDS = _seconds("CANVAS_EXAMPLE_TIMEOUT_SECONDS", 6 * 60 * 60.0)


def _counts(result: dict[str, Any]) -> str:
    counts = {k: v for k, v in (result.get("counts") or {}).items() if v}
    changes = (result.get("statistics") or {}).get("total_state_changes")
    return f"SIS import {result.get('id')}: {result.get('outcome')}; counts {counts}; state changes {changes}"


def _messages(result: dict[str, Any], key: str) -> list[str]:
    total = result.get(f"{key}_total") or 0
    lines = [f"  {file or '-'}: {message}" for file, message in result.get(key) or []]
    if total > len(lines):
        lines.append(f"  ... {total - len(lines)} more (all of them: CanvasHook.get_sis_import_errors)")
    return lines


with DAG(
    dag_id="canvas_nightly_sis_import",
    description="Upload the night's SIS CSVs to Canvas, wait for the import, route on how it ended.",
    schedule="0 3 * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={
        "account_id": Param(1, type="integer", minimum=1, description="The root account."),
        "sis_directory": Param("/data/sis/nightly", type="string", description="The folder of the night's CSVs."),
        "term": Param("sis_term_id:FA24", type="string", description="The term batch mode replaces."),
    },
    tags=["canvas", "example", "sis"],
    doc_md=__doc__,
) as dag:

    @task
    def check_folder(directory: str) -> list[str]:
        """The CSV files the import will carry; none is an error worth stopping for."""
        names = sorted(p.name for p in Path(directory).glob("*.csv") if not p.name.startswith("."))
        if not names:
            raise ValueError(f"{directory} holds no CSV files: the SIS export did not run, or wrote elsewhere.")
        print(f"Importing {len(names)} files from {directory}: {', '.join(names)}")
        return names

    import_sis = CanvasSisImportOperator(
        task_id="import_sis",
        canvas_conn_id=CANVAS_CONN_ID,
        account_id="{{ params.account_id }}",
        sis_directory="{{ params.sis_directory }}",
        batch_mode=True,
        batch_mode_term_id="{{ params.term }}",
        change_threshold=10,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        timeout=TIMEOUT_SECONDS,
        fail_on=[],  # every ending is a success here: route decides what happens next
    )

    route = CanvasSisImportBranchOperator(
        task_id="route",
        sis_import=import_sis.output,
        on_imported="report",
        on_imported_with_messages="report_with_warnings",
        on_failed="alert_failed",
        on_threshold_aborted="alert_threshold",
        on_aborted="alert_aborted",
    )

    @task
    def report(result: dict[str, Any]) -> str:
        """Imported cleanly: log the counts (replace with your own bookkeeping)."""
        text = _counts(result)
        print(text)
        return text

    @task
    def report_with_warnings(result: dict[str, Any]) -> str:
        """Imported, but some rows were refused: the counts, and the rows to fix at the source."""
        text = "\n".join([_counts(result), "Rows Canvas refused:", *_messages(result, "warnings")])
        print(text)
        return text

    @task
    def alert_failed(result: dict[str, Any], params: dict[str, Any] | None = None) -> str:
        """The import failed: alert with the first errors and the errors file (replace print with Slack…)."""
        lines = [f"ALERT: {_counts(result)}", "First errors:", *_messages(result, "errors")]
        if result.get("crash_message"):
            lines.append(f"Canvas says: {result['crash_message']}")
        account = (params or {}).get("account_id", 1)
        errors_file = CanvasHook(CANVAS_CONN_ID).download_sis_errors_file(account, result["id"])
        if errors_file is not None:
            path = Path(os.environ.get("TMPDIR", "/tmp")) / f"sis_errors_{result['id']}.csv"
            path.write_bytes(errors_file)
            lines.append(f"Errors file ({len(errors_file)} bytes, downloaded without the token): {path}")
        text = "\n".join(lines)
        print(text)
        return text

    @task
    def alert_threshold(result: dict[str, Any]) -> str:
        """Canvas refused to delete too much: say which threshold and how many deletes; nothing was deleted."""
        threshold = result.get("threshold_abort") or {}
        text = (
            f"ALERT: SIS import {result.get('id')} aborted by change_threshold: {threshold.get('deletes')} "
            f"{threshold.get('object')} would have been deleted, over the threshold of {threshold.get('threshold')}%. "
            "Nothing was deleted. Check tonight's export for missing rows before importing again."
        )
        print(text)
        return text

    @task
    def alert_aborted(result: dict[str, Any]) -> str:
        """Someone aborted the import in Canvas (or abort_all_pending ran)."""
        text = f"SIS import {result.get('id')} was aborted in Canvas; rows imported before the abort stay."
        print(text)
        return text

    files = check_folder("{{ params.sis_directory }}")
    files >> import_sis
    route >> [
        report(import_sis.output),
        report_with_warnings(import_sis.output),
        alert_failed(import_sis.output),
        alert_threshold(import_sis.output),
        alert_aborted(import_sis.output),
    ]
