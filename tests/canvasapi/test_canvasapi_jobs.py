"""canvasapi 3.6's SIS import and account report calls work unmodified against the simulator.

A DAG written with canvasapi uploads a real CSV zip, polls the import, aborts or restores it, and
starts, polls, lists and deletes account reports; the simulator answers as Canvas's
``SisImportsApiController`` and ``AccountReportsController`` do, on a ManualClock.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from canvasapi.account import Account, AccountReport
from canvasapi.exceptions import ResourceDoesNotExist
from canvasapi.sis_import import SisImport

from airflow_provider_canvas_progress.testing import CanvasSimulator, ManualClock, SisScript, build_zip
from airflow_provider_canvas_progress.testing.reports_control import reports_of
from airflow_provider_canvas_progress.testing.reports_store import ReportScript
from canvasapi import Canvas

from .test_canvasapi_calls import query_until_done

pytestmark = pytest.mark.filterwarnings("error::UserWarning")

NIGHTLY: dict[str, str | bytes] = {
    "terms.csv": "term_id,name,status\nFA26,Fall 2026,active\n",
    "courses.csv": "course_id,short_name,long_name,term_id,status\nC1,Math,Math 101,FA26,active\n",
    "users.csv": "user_id,login_id,first_name,last_name,status\nU1,u1@x.edu,Ada,L,active\nU2,u2@x.edu,Bo,M,active\n",
    "enrollments.csv": "course_id,section_id,user_id,role,status\nC1,,U1,student,active\nC1,,U2,teacher,active\n",
}
SIS_PENDING = ("initializing", "created", "importing", "cleanup_batch")
REPORT_PENDING = ("created", "running", "compiling")


@pytest.fixture
def account(canvas: Canvas) -> Account:
    return canvas.get_account(1)


@pytest.fixture
def nightly_zip(tmp_path: Path) -> Path:
    path = tmp_path / "nightly.zip"
    path.write_bytes(build_zip(NIGHTLY))
    return path


@pytest.fixture
def running_and_waiting(
    sim: CanvasSimulator, account: Account, nightly_zip: Path, clock: ManualClock
) -> tuple[SisImport, SisImport]:
    """One import that keeps importing, and one waiting behind it on the account's strand."""
    sim.sis.script_next_import(SisScript(outcome="never", pickup=0))
    running = account.create_sis_import(str(nightly_zip))
    waiting = account.create_sis_import(str(nightly_zip))
    clock.advance(1)
    return running, waiting


def poll(read: Callable[[], Any], pending: tuple[str, ...], clock: ManualClock, *, key: str = "workflow_state") -> Any:
    """What a DAG task does with canvasapi: read the job, wait, read again, until it leaves ``pending``."""
    for _ in range(60):
        job = read()
        if getattr(job, key) not in pending:
            return job
        clock.advance(1.0)
    raise AssertionError(f"still {getattr(job, key)} after 60 reads")


def test_create_sis_import_from_a_path_is_imported_for_real_with_counts(
    account: Account, nightly_zip: Path, clock: ManualClock
) -> None:
    created = account.create_sis_import(str(nightly_zip), import_type="instructure_csv")
    assert isinstance(created, SisImport)
    assert (created.account_id, created.workflow_state) == (1, "created")
    done = poll(lambda: account.get_sis_import(created.id), SIS_PENDING, clock)
    counts = done.data["counts"]
    assert done.workflow_state == "imported"
    assert done.progress == 100
    assert (counts["terms"], counts["courses"], counts["users"], counts["enrollments"]) == (1, 1, 2, 2)


def test_get_sis_imports_lists_them_and_running_lists_only_the_importing_one(
    account: Account, running_and_waiting: tuple[SisImport, SisImport]
) -> None:
    running, waiting = running_and_waiting
    assert sorted(s.id for s in account.get_sis_imports()) == sorted([running.id, waiting.id])
    importing = list(account.get_sis_imports_running())
    assert [(s.id, s.workflow_state) for s in importing] == [(running.id, "importing")]


def test_abort_a_pending_sis_import(account: Account, nightly_zip: Path, clock: ManualClock) -> None:
    created = account.create_sis_import(str(nightly_zip))
    aborted = created.abort()
    assert (aborted.id, aborted.workflow_state) == (created.id, "aborted")
    clock.advance(30)
    assert account.get_sis_import(created.id).workflow_state == "aborted"


def test_abort_of_an_import_that_already_ended_is_resource_does_not_exist(
    account: Account, nightly_zip: Path, clock: ManualClock
) -> None:
    created = account.create_sis_import(str(nightly_zip))
    poll(lambda: account.get_sis_import(created.id), SIS_PENDING, clock)
    with pytest.raises(ResourceDoesNotExist):
        created.abort()


def test_abort_sis_imports_pending_aborts_the_waiting_ones_not_the_importing_one(
    account: Account, running_and_waiting: tuple[SisImport, SisImport], clock: ManualClock
) -> None:
    # app/models/sis_batch.rb: abort_all_pending_for_account moves only initializing|created batches.
    running, waiting = running_and_waiting
    assert account.abort_sis_imports_pending() is True
    clock.advance(30)
    after = [account.get_sis_import(s.id) for s in (running, waiting)]
    assert [(s.workflow_state, s.progress) for s in after][1] == ("aborted", 100)
    assert after[0].workflow_state == "importing"


def test_restore_states_returns_a_progress_queried_to_completion(
    account: Account, nightly_zip: Path, clock: ManualClock
) -> None:
    created = account.create_sis_import(str(nightly_zip))
    poll(lambda: account.get_sis_import(created.id), SIS_PENDING, clock)
    progress = account.get_sis_import(created.id).restore_states()
    assert (progress.tag, progress.context_type, progress.context_id) == (
        "sis_batch_state_restore",
        "SisBatch",
        created.id,
    )
    done = query_until_done(progress, clock)
    assert (done.workflow_state, done.completion) == ("completed", 100.0)
    assert account.get_sis_import(created.id).workflow_state == "restored"


def test_create_report_with_parameters_is_polled_to_complete_with_its_file(
    account: Account, clock: ManualClock
) -> None:
    started = account.create_report("provisioning_csv", parameters={"users": True, "courses": False})
    assert isinstance(started, AccountReport)
    assert (started.account_id, started.report, started.status) == (1, "provisioning_csv", "created")
    done = poll(lambda: account.get_report("provisioning_csv", started.id), REPORT_PENDING, clock, key="status")
    assert (done.status, done.progress) == ("complete", 100)
    # canvasapi sends booleans as "true"/"false"; Canvas keeps the strings and names the parts it wrote.
    assert (done.parameters["users"], done.parameters["extra_text"]) == ("true", "Term: All Terms; Reports: users")
    assert done.attachment["url"].startswith("https://")


def test_a_failed_report_ends_error_with_canvas_text(
    sim: CanvasSimulator, account: Account, clock: ManualClock
) -> None:
    reports_of(sim).script_next(ReportScript.failing("Failed, ErrorReport:42;"), report="provisioning_csv")
    started = account.create_report("provisioning_csv", parameters={"users": True})
    done = poll(lambda: account.get_report("provisioning_csv", started.id), REPORT_PENDING, clock, key="status")
    assert (done.status, done.progress, done.parameters["extra_text"]) == ("error", 100, "Failed, ErrorReport:42;")


def test_get_reports_lists_the_available_ones_and_the_index_lists_the_runs_of_one(account: Account) -> None:
    first = account.create_report("provisioning_csv", parameters={"users": True})
    second = account.create_report("provisioning_csv", parameters={"courses": True})
    available = {r.report: r.title for r in account.get_reports()}
    assert available["provisioning_csv"] == "Provisioning"
    runs = list(account.get_index_of_reports("provisioning_csv"))
    assert [r.id for r in runs] == [second.id, first.id]
    assert {r.account_id for r in runs} == {1}


def test_delete_report_answers_the_report_and_it_is_gone(account: Account, clock: ManualClock) -> None:
    started = account.create_report("provisioning_csv", parameters={"users": True})
    poll(lambda: account.get_report("provisioning_csv", started.id), REPORT_PENDING, clock, key="status")
    deleted = account.get_report("provisioning_csv", started.id).delete_report()
    assert (deleted.id, deleted.report, deleted.status) == (started.id, "provisioning_csv", "deleted")
    with pytest.raises(ResourceDoesNotExist):
        account.get_report("provisioning_csv", started.id)
    assert started.id not in [r.id for r in account.get_index_of_reports("provisioning_csv")]
