"""Specification of SIS uploads: files streamed as they are, directories zipped to disk, bytes decoded."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import pytest

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.core.sis_options import UploadSource
from airflow_provider_canvas_progress.hooks.sis_upload import open_upload

USERS = "user_id,login_id\nu1,u1@example.edu\n"


def test_a_zip_file_is_streamed_from_disk_not_read(tmp_path: Path) -> None:
    path = tmp_path / "nightly.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("users.csv", USERS)
    with open_upload(UploadSource("file", str(path))) as upload:
        assert (upload.filename, upload.content_type, upload.size) == (
            "nightly.zip",
            "application/zip",
            path.stat().st_size,
        )
        assert upload.stream.tell() == 0
        assert not isinstance(upload.stream, io.BytesIO)
    assert upload.stream.closed


def test_a_csv_file_is_sent_as_text_csv(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text(USERS)
    with open_upload(UploadSource("file", str(path))) as upload:
        assert (upload.filename, upload.content_type) == ("users.csv", "text/csv")


def test_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with (
        pytest.raises(CanvasConfigurationError, match="cannot be read"),
        open_upload(UploadSource("file", str(tmp_path / "nope.zip"))),
    ):
        pass


def test_a_directory_is_zipped_to_a_temporary_file_with_only_its_csvs(tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text(USERS)
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "courses.csv").write_text("course_id,short_name\n")
    (tmp_path / ".hidden.csv").write_text("x")
    (tmp_path / "README.md").write_text("notes")
    with open_upload(UploadSource("directory", str(tmp_path))) as upload:
        assert upload.content_type == "application/zip"
        assert upload.filename.endswith(".zip")
        with zipfile.ZipFile(upload.stream) as archive:
            assert sorted(archive.namelist()) == ["courses.csv", "users.csv"]
            assert archive.read("users.csv").decode() == USERS


@pytest.mark.parametrize("setup", ["missing", "empty", "clash"])
def test_a_directory_without_usable_csvs_is_refused(tmp_path: Path, setup: str) -> None:
    target = tmp_path / "sis"
    if setup != "missing":
        target.mkdir()
    if setup == "clash":
        (target / "a").mkdir()
        (target / "a" / "users.csv").write_text(USERS)
        (target / "users.csv").write_text(USERS)
    with (
        pytest.raises(CanvasConfigurationError, match="sis_directory"),
        open_upload(UploadSource("directory", str(target))),
    ):
        pass


def test_bytes_and_base64_text_from_xcom_are_uploaded() -> None:
    data = USERS.encode()
    with open_upload(UploadSource("data", data)) as upload:
        assert (upload.filename, upload.stream.read()) == ("sis_import.csv", data)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("users.csv", USERS)
    with open_upload(UploadSource("data", base64.b64encode(zipped.getvalue()).decode())) as upload:
        assert (upload.filename, upload.content_type) == ("sis_import.zip", "application/zip")


def test_text_that_is_not_base64_is_refused() -> None:
    with (
        pytest.raises(CanvasConfigurationError, match="base64"),
        open_upload(UploadSource("data", "not base64 at all!")),
    ):
        pass
