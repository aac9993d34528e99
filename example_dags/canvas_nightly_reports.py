"""Nightly account reports: run three Canvas reports at once, save their files, summarise the night.

The pattern::

    run_report[provisioning_csv]      ──┐
    run_report[grade_export_csv]      ──┼──> summary
    run_report[last_user_access_csv]  ──┘

* ``run_report`` (:class:`CanvasAccountReportOperator`, mapped over the three reports with
  ``expand_kwargs``) starts each report with its parameters, waits in the triggerer (deferrable: no
  worker slot is held while Canvas compiles), and streams the file to ``output_dir``: one CSV, or a
  zip of ``<part>.csv`` for a provisioning report of several parts (also unpacked beside it). Each
  returns the report, the saved file's path, size and SHA-256, and how it ended. ``fail_on=[]``
  lets every report end its task successfully, so that the summary sees them all.
* ``summary`` logs one line per report and fails the run if any report did not complete, naming
  it and Canvas's reason (an ``error`` report's reason is only in its ``extra_text``).

``skip_message`` is on by default, so Canvas does not message the connection's user every night.

.. warning:: The files hold personal data (names, logins, grades, last logins): point
   ``output_dir`` where your data policy allows them, and keep ``/tmp`` for trying it out.

Run it: ``airflow dags test canvas_nightly_reports`` with a ``canvas_default`` connection whose user
has ``read_reports`` on the account, or with other values::

    airflow dags test canvas_nightly_reports --conf '{"account_id": 1, "term": "sis_term_id:2026FA", "output_dir": "s3://bucket/canvas"}'

A storage URL (``s3://``, ``gs://``...) is written with Airflow's ``ObjectStoragePath``; set
``output_conn_id`` on the operator to your storage connection.

Environment variables, read when the file is parsed, so tests and ``make demo`` can make it fast:

* ``CANVAS_EXAMPLE_POLL_SECONDS``: seconds between reads of a report (default 60);
* ``CANVAS_EXAMPLE_TIMEOUT_SECONDS``: longest wait for a report (default 21600, six hours);
* ``CANVAS_EXAMPLE_REPORTS_DIR``: the default ``output_dir`` (default ``/tmp/canvas_reports``).
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Param, task

from airflow_provider_canvas_progress.operators.reports import CanvasAccountReportOperator

CANVAS_CONN_ID = "canvas_default"


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number of seconds.") from None


POLL_SECONDS = _seconds("CANVAS_EXAMPLE_POLL_SECONDS", 60.0)
TIMEOUT_SECONDS = _seconds("CANVAS_EXAMPLE_TIMEOUT_SECONDS", 6 * 60 * 60.0)
REPORTS_DIR = os.environ.get("CANVAS_EXAMPLE_REPORTS_DIR", "").strip() or "/tmp/canvas_reports"

#: The night's reports: each a report name and its parameters (an empty term means every term).
REPORTS: list[dict[str, Any]] = [
    {
        "report": "provisioning_csv",
        "parameters": {"users": True, "courses": True, "enrollments": True, "enrollment_term_id": "{{ params.term }}"},
    },
    {"report": "grade_export_csv", "parameters": {"enrollment_term_id": "{{ params.term }}"}},
    {"report": "last_user_access_csv", "parameters": {}},
]


def _line(result: dict[str, Any]) -> str:
    """One line per report: what, how it ended, where its file went."""
    saved = result.get("file") or {}
    where = f"{saved['path']} ({saved['bytes']:,} bytes, sha256 {saved['sha256'][:12]}…)" if saved else "no file"
    return f"{result['report']} #{result['report_id']}: {result['outcome']} -> {where}"


with DAG(
    "canvas_nightly_reports",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "account_id": Param(1, type=["integer", "string"], description="The account whose reports to run."),
        "term": Param("", type="string", description="A term (123, sis_term_id:…) or empty for all terms."),
        "output_dir": Param(REPORTS_DIR, type="string", description="A folder or a storage URL for the files."),
    },
    tags=["canvas", "example"],
    doc_md=__doc__,
) as dag:
    runs = CanvasAccountReportOperator.partial(
        task_id="run_report",
        account_id="{{ params.account_id }}",
        output_path="{{ params.output_dir.rstrip('/') }}/",
        extract=True,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        timeout=TIMEOUT_SECONDS,
        fail_on=[],
        canvas_conn_id=CANVAS_CONN_ID,
    ).expand_kwargs(REPORTS)

    @task
    def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
        """Log the night, then fail if a report did not complete (after saying which and why)."""
        done = list(results)
        for result in done:
            print(_line(result))
        failed = [r for r in done if r["outcome"] != "complete"]
        if failed:
            reasons = "; ".join(f"{r['report']} #{r['report_id']} {r['outcome']}: {r['message']}" for r in failed)
            raise RuntimeError(f"{len(failed)} of {len(done)} Canvas reports did not complete: {reasons}")
        return {r["report"]: {"path": r["file"]["path"], "sha256": r["file"]["sha256"]} for r in done}

    summary(runs.output)
