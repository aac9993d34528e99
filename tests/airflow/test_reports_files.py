"""Saving a report file through ObjectStoragePath: streamed, bounded, checksummed, unzipped safely."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError, CanvasResponseError
from airflow_provider_canvas_progress.report_files import extract_zip, save_stream, target_for

DATA = b"user id,user sis id\n1001,S01001\n" * 100


def chunks(data: bytes, size: int = 64) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_a_folder_output_keeps_canvas_file_name(tmp_path: Path) -> None:
    target = target_for(f"{tmp_path}/out/", "grade_export_csv_30_Nov_2026_3.csv")

    assert str(target).endswith("out/grade_export_csv_30_Nov_2026_3.csv")


def test_an_existing_directory_is_a_folder_and_a_file_path_is_used_as_is(tmp_path: Path) -> None:
    assert str(target_for(str(tmp_path), "a.csv")).endswith(f"{tmp_path.name}/a.csv")
    assert str(target_for(f"{tmp_path}/mine.csv", "a.csv")).endswith("mine.csv")


def test_a_file_url_is_written_through_object_storage(tmp_path: Path) -> None:
    target = target_for(f"file://{tmp_path}/reports/", "a.csv")

    saved = save_stream(chunks(DATA), target)

    assert (tmp_path / "reports" / "a.csv").read_bytes() == DATA
    assert saved.size == len(DATA)
    assert saved.sha256 == hashlib.sha256(DATA).hexdigest()
    assert saved.path.startswith("file://")


def test_a_file_larger_than_the_limit_leaves_nothing_behind(tmp_path: Path) -> None:
    target = target_for(f"{tmp_path}/", "a.csv")

    with pytest.raises(CanvasResponseError, match="max_bytes=100"):
        save_stream(chunks(DATA), target, max_bytes=100)

    assert list(tmp_path.iterdir()) == []


def test_a_name_that_is_not_a_plain_file_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CanvasConfigurationError, match="plain file name"):
        target_for(f"{tmp_path}/", "../etc/passwd")


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_report_zip_unpacks_into_its_part_csvs(tmp_path: Path) -> None:
    archive = target_for(f"{tmp_path}/", "p.zip")
    save_stream([zipped({"users.csv": DATA, "courses.csv": b"x\n"})], archive)

    parts = extract_zip(archive, target_for(f"{tmp_path}/p/", "x").parent)

    assert [Path(p).name for p in parts] == ["users.csv", "courses.csv"]
    assert (tmp_path / "p" / "users.csv").read_bytes() == DATA


@pytest.mark.parametrize("name", ["../evil.csv", "dir/users.csv", "/abs.csv"])
def test_zip_entries_that_are_not_plain_names_are_refused(tmp_path: Path, name: str) -> None:
    archive = target_for(f"{tmp_path}/", "p.zip")
    save_stream([zipped({name: b"x"})], archive)

    with pytest.raises(CanvasResponseError, match="not a plain file name"):
        extract_zip(archive, target_for(f"{tmp_path}/p/", "x").parent)

    assert not (tmp_path / "evil.csv").exists()


def test_a_zip_that_unpacks_past_the_limit_is_stopped_and_removed(tmp_path: Path) -> None:
    archive = target_for(f"{tmp_path}/", "p.zip")
    save_stream([zipped({"users.csv": b"0" * 5_000_000})], archive)

    with pytest.raises(CanvasResponseError, match="unpacks to more than"):
        extract_zip(archive, target_for(f"{tmp_path}/p/", "x").parent, max_bytes=1_000_000)

    assert not (tmp_path / "p" / "users.csv").exists()


def test_a_file_that_is_not_a_zip_is_a_clear_error(tmp_path: Path) -> None:
    archive = target_for(f"{tmp_path}/", "p.zip")
    save_stream([b"not a zip"], archive)

    with pytest.raises(CanvasResponseError, match="not a readable zip"):
        extract_zip(archive, target_for(f"{tmp_path}/p/", "x").parent)
