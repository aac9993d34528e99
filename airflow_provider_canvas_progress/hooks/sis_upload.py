"""Opening an SIS upload for streaming: a file as is, a directory zipped to a temporary file, or bytes.

Nightly SIS zips reach hundreds of megabytes, so nothing here reads a file whole: a file is opened
and handed to the HTTP client to stream; a directory is written into a zip on disk (in the system
temporary directory, deleted afterwards) and streamed from there. Bytes from XCom are already in
memory; base64 text (how bytes travel through JSON XCom) is decoded.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.core.sis_options import UploadSource

__all__ = ["OpenUpload", "open_upload", "zip_directory"]

_CONTENT_TYPES = {".zip": "application/zip", ".csv": "text/csv"}


@dataclass(frozen=True)
class OpenUpload:
    """An upload ready to stream: the file object, the name Canvas sees, its type and size."""

    stream: BinaryIO
    filename: str
    content_type: str
    size: int


def _csv_files(directory: Path) -> list[Path]:
    found = []
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        # Canvas skips dot files and __MACOSX; anything but .csv would only produce a warning.
        if any(part.startswith(".") or part == "__MACOSX" for part in relative.parts):
            continue
        if path.is_file() and path.suffix.lower() == ".csv":
            found.append(path)
    return found


def zip_directory(directory: str | os.PathLike[str], target: BinaryIO) -> int:
    """Write the directory's CSV files (at the zip's top level) into ``target``; return how many.

    :raises CanvasConfigurationError: the directory is missing, holds no CSV, or two CSVs share a name.
    """
    root = Path(directory)
    if not root.is_dir():
        raise CanvasConfigurationError(f"sis_directory {shown(str(root), 300)} is not a directory.")
    files = _csv_files(root)
    if not files:
        raise CanvasConfigurationError(
            f"sis_directory {shown(str(root), 300)} holds no .csv files (users.csv, courses.csv, enrollments.csv...)."
        )
    names = [path.name for path in files]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise CanvasConfigurationError(f"sis_directory {shown(str(root), 300)} has several files named {clashes}.")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, arcname=path.name)  # copies in chunks, never the whole file at once
    return len(files)


def _decode(value: bytes | str) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CanvasConfigurationError(
            "sis_data is text but not base64; pass bytes, or base64 text when the bytes come through XCom."
        ) from exc


@contextlib.contextmanager
def open_upload(source: UploadSource) -> Iterator[OpenUpload]:
    """Open the upload for streaming; temporary files are removed on exit.

    :raises CanvasConfigurationError: a missing or unreadable file, an empty directory, bad base64.
    """
    if source.kind == "data":
        data = _decode(source.value)
        kind = "application/zip" if data[:4] == b"PK\x03\x04" else "text/csv"
        name = "sis_import.zip" if kind == "application/zip" else "sis_import.csv"
        yield OpenUpload(io.BytesIO(data), name, kind, len(data))
        return
    assert isinstance(source.value, str)
    if source.kind == "file":
        path = Path(source.value)
        suffix = path.suffix.lower()
        if suffix not in _CONTENT_TYPES:
            raise CanvasConfigurationError(f"sis_file {shown(source.value, 300)} must end in .zip or .csv.")
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise CanvasConfigurationError(
                f"sis_file {shown(source.value, 300)} cannot be read: {exc.strerror}."
            ) from exc
        with stream:
            yield OpenUpload(stream, path.name, _CONTENT_TYPES[suffix], os.fstat(stream.fileno()).st_size)
        return
    with tempfile.TemporaryFile(prefix="canvas-sis-", suffix=".zip") as spool:
        zip_directory(source.value, spool)
        size = spool.tell()
        spool.seek(0)
        yield OpenUpload(spool, f"{Path(source.value).name or 'sis_import'}.zip", "application/zip", size)
