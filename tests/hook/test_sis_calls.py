"""CanvasHook's SIS import calls against the simulator: upload, read, list, abort, restore, errors, the errors file."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_canvas_progress.core.errors import (
    CanvasNotFoundError,
    CanvasPermissionError,
    CanvasResponseTooLargeError,
    CanvasTransportError,
    CanvasValidationError,
)
from airflow_provider_canvas_progress.core.sis import SisImportState, SisOutcome
from airflow_provider_canvas_progress.core.sis_options import SisImportOptions, UploadSource
from airflow_provider_canvas_progress.exceptions import InvalidPathSegmentError
from airflow_provider_canvas_progress.testing import CanvasSimulator, ManualClock, SisScript, build_zip

from .conftest import Connect

USERS = "user_id,login_id,first_name,last_name,status\n" + "".join(
    f"u{i},{'' if i % 2 else f'u{i}@x.edu'},F,L,active\n" for i in range(60)
)


@pytest.fixture
def finished(manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect, sis_zip: Path) -> tuple[Any, str]:
    """A hook and the id of an import of :data:`USERS` that has ended (30 rows refused)."""
    hook = connect(manual_sim)
    created = hook.create_sis_import(1, UploadSource("file", str(sis_zip)))
    clock.advance(10)
    return hook, created.id


@pytest.fixture
def sis_zip(tmp_path: Path) -> Path:
    path = tmp_path / "nightly.zip"
    path.write_bytes(build_zip({"users.csv": USERS}))
    return path


def test_create_streams_the_file_as_multipart_and_answers_the_import(
    manual_sim: CanvasSimulator, connect: Connect, sis_zip: Path
) -> None:
    hook = connect(manual_sim)
    created = hook.create_sis_import(1, UploadSource("file", str(sis_zip)))
    assert created.workflow_state is SisImportState.CREATED
    upload = next(r for r in manual_sim.requests if r.method == "POST")
    assert upload.header("Content-Type").startswith("multipart/form-data; boundary=")
    assert upload.header("Content-Length") == str(len(upload.body))
    assert sis_zip.read_bytes() in upload.body


def test_create_sends_the_options_canvas_reads(manual_sim: CanvasSimulator, connect: Connect, sis_zip: Path) -> None:
    term = manual_sim.sis.add_term("Fall", sis_term_id="FA26")
    options = SisImportOptions(batch_mode=True, batch_mode_term_id="sis_term_id:FA26", change_threshold=5)
    created = connect(manual_sim).create_sis_import(1, UploadSource("file", str(sis_zip)), options)
    assert (created.batch_mode, created.batch_mode_term_id) == (True, str(term))


def test_create_on_a_sub_account_is_refused_with_canvas_message(
    manual_sim: CanvasSimulator, connect: Connect, sis_zip: Path
) -> None:
    manual_sim.sis.set_account(2, root=False)
    with pytest.raises(CanvasValidationError, match="root accounts"):
        connect(manual_sim).create_sis_import(2, UploadSource("file", str(sis_zip)))


def test_create_without_import_sis_is_a_permission_error(
    manual_sim: CanvasSimulator, connect: Connect, sis_zip: Path
) -> None:
    manual_sim.sis.set_permissions(1, ["manage_sis"])
    with pytest.raises(CanvasPermissionError):
        connect(manual_sim).create_sis_import(1, UploadSource("file", str(sis_zip)))


def test_a_directory_and_bytes_are_uploaded(
    manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect, tmp_path: Path
) -> None:
    (tmp_path / "users.csv").write_text(USERS)
    hook = connect(manual_sim)
    from_dir = hook.create_sis_import(1, UploadSource("directory", str(tmp_path)))
    from_bytes = hook.create_sis_import(1, UploadSource("data", build_zip({"users.csv": USERS})))
    clock.advance(30)
    assert hook.get_sis_import(1, from_dir.id).counts["users"] == 30
    assert hook.get_sis_import(1, from_bytes.id).outcome is SisOutcome.IMPORTED_WITH_MESSAGES


def test_list_reads_every_page_newest_first_and_importing_only_running(
    manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect, sis_zip: Path
) -> None:
    hook = connect(manual_sim)
    ids = [hook.create_sis_import(1, UploadSource("file", str(sis_zip))).id for _ in range(3)]
    clock.advance(1)
    assert [i.id for i in hook.list_sis_imports(1)] == ids[::-1]
    assert [i.id for i in hook.list_sis_imports(1, workflow_states=["created"])] == ids[:0:-1]
    assert [i.id for i in hook.get_running_sis_imports(1)] == [ids[0]]


def test_abort_of_a_finished_import_is_not_found_and_abort_all_pending(
    manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect, sis_zip: Path
) -> None:
    hook = connect(manual_sim)
    first = hook.create_sis_import(1, UploadSource("file", str(sis_zip)))
    second = hook.create_sis_import(1, UploadSource("file", str(sis_zip)))
    clock.advance(1)
    assert hook.abort_all_pending_sis_imports(1) is True
    assert hook.get_sis_import(1, second.id).outcome is SisOutcome.ABORTED
    clock.advance(10)
    with pytest.raises(CanvasNotFoundError):
        hook.abort_sis_import(1, first.id)


def test_restore_answers_a_progress(finished: tuple[Any, str]) -> None:
    hook, import_id = finished
    progress = hook.restore_sis_import_states(1, import_id, undelete_only=True)
    assert (progress.tag, progress.context_id) == ("sis_batch_state_restore", import_id)


def test_errors_beyond_the_inline_24_are_all_read(finished: tuple[Any, str]) -> None:
    hook, import_id = finished
    done = hook.get_sis_import(1, import_id)
    assert (len(done.warnings), done.warnings_total) == (24, 30)
    errors = hook.get_sis_import_errors(1, import_id)
    assert len(errors) == 30
    assert errors[0]["message"] == "No login_id given for user u1"
    assert hook.get_sis_import_errors(1, import_id, failures_only=True) == []


def test_errors_file_is_downloaded_without_the_token(finished: tuple[Any, str], manual_sim: CanvasSimulator) -> None:
    hook, import_id = finished
    body = hook.download_sis_errors_file(1, import_id)
    assert body is not None
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0] == ["sis_import_id", "file", "message", "row"]
    assert len(rows) == 31
    storage = manual_sim.sis.filestore.requests
    assert storage
    assert all(r.header("Authorization") is None for r in storage)
    canvas_file_hops = [r for r in manual_sim.requests if r.path.startswith("/files/")]
    assert canvas_file_hops
    assert all(r.header("Authorization") is None for r in canvas_file_hops)
    assert all(manual_sim.token not in r.query for r in canvas_file_hops)


def test_no_errors_file_is_none(manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect) -> None:
    hook = connect(manual_sim)
    created = hook.create_sis_import(1, UploadSource("data", build_zip({"users.csv": "user_id,login_id\nu1,u1\n"})))
    clock.advance(10)
    assert hook.download_sis_errors_file(1, created.id) is None


def test_errors_file_past_max_bytes_is_refused(finished: tuple[Any, str], manual_sim: CanvasSimulator) -> None:
    hook, import_id = finished
    manual_sim.sis.set_errors_file(int(import_id), b"x" * 200_000)
    with pytest.raises(CanvasResponseTooLargeError, match="max_bytes"):
        hook.download_sis_errors_file(1, import_id, max_bytes=100_000)


def test_a_slow_storage_host_is_given_up_on_in_time(finished: tuple[Any, str], manual_sim: CanvasSimulator) -> None:
    hook, import_id = finished
    manual_sim.sis.filestore.delay = 5.0
    with pytest.raises(CanvasTransportError):
        hook.download_sis_errors_file(1, import_id, timeout=0.5)


@pytest.mark.parametrize("bad", ["1/../../users/self", "1?as_user_id=5", "", "abc", -1])
def test_ids_that_are_not_ids_never_reach_a_path(connect: Connect, manual_sim: CanvasSimulator, bad: object) -> None:
    with pytest.raises(InvalidPathSegmentError):
        connect(manual_sim).get_sis_import(bad, 1)
    with pytest.raises(InvalidPathSegmentError):
        connect(manual_sim).get_sis_import(1, bad)
    assert not manual_sim.requests


def test_scripted_threshold_abort_reads_which_threshold(
    manual_sim: CanvasSimulator, clock: ManualClock, connect: Connect, sis_zip: Path
) -> None:
    manual_sim.sis.script_next_import(SisScript(outcome="aborted"))
    hook = connect(manual_sim)
    created = hook.create_sis_import(1, UploadSource("data", build_zip({"users.csv": "user_id,login_id\nu1,u1\n"})))
    clock.advance(10)
    threshold = hook.get_sis_import(1, created.id).threshold_abort
    assert threshold is not None
    assert (threshold.object, threshold.deletes, threshold.threshold) == ("enrollments", 12, 10)


def test_the_zip_built_from_a_directory_holds_only_csvs(tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text(USERS)
    (tmp_path / "notes.txt").write_text("x")
    from airflow_provider_canvas_progress.hooks.sis_upload import zip_directory

    target = io.BytesIO()
    assert zip_directory(tmp_path, target) == 1
    assert zipfile.ZipFile(target).namelist() == ["users.csv"]
