"""Saving a finished report's file: where it goes, streamed, bounded, checksummed, optionally unzipped.

A report's file can be large (a provisioning export of a big school runs to gigabytes), so it is
written as it arrives, never held in memory, through Airflow's ``ObjectStoragePath``: a local path
and ``s3://``, ``gs://`` or ``file://`` URLs (with the user's own storage connection) are written
the same way. The bytes go to ``<name>.part`` first and are renamed once complete, so a download
cut short by the size limit or the network never leaves a file that looks finished.
"""

from __future__ import annotations

import hashlib
import posixpath
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_canvas_progress.compat import IncompatibleStorageLibrary, object_storage_path
from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.exceptions import CanvasConfigurationError, CanvasResponseError

__all__ = ["DEFAULT_MAX_BYTES", "SavedFile", "extract_zip", "save_stream", "target_for"]

#: The default size limit of a report file: 2 GiB.
DEFAULT_MAX_BYTES = 2 * 1024**3
#: Canvas's zips hold one ``<part>.csv`` per object type; more entries than this is not a report.
MAX_ZIP_ENTRIES = 100


@dataclass(frozen=True)
class SavedFile:
    """Where a report file was written, its size and its SHA-256 (hex), and any extracted parts."""

    path: str
    size: int
    sha256: str
    parts: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON for XCom."""
        return {"path": self.path, "bytes": self.size, "sha256": self.sha256, "parts": list(self.parts)}


def _is_folder(output: str, path: Any) -> bool:
    if output.endswith("/"):
        return True
    try:
        return bool(path.is_dir())
    except OSError:  # e.g. a bucket we may write to but not list
        return False


def _make_folder(folder: Any) -> None:
    # Object stores have no folders, and s3fs's mkdir would create a missing *bucket*: local only.
    if getattr(folder, "protocol", "file") in ("file", "local", ""):
        folder.mkdir(parents=True, exist_ok=True)


def target_for(output: str, filename: str, *, conn_id: str | None = None) -> Any:
    """The ``ObjectStoragePath`` to write: ``output`` itself, or ``output/<filename>`` for a folder.

    A folder is an ``output`` ending in ``/`` or an existing directory; the file then keeps the name
    Canvas gave it (``provisioning_csv_30_Nov_2026_12.zip``).

    :raises CanvasConfigurationError: an empty ``output``, a file name that is not a plain name, or an
        installation whose ObjectStoragePath cannot work (the error says what to install).
    """
    if not isinstance(output, str) or not output.strip():
        raise CanvasConfigurationError("output must be a local path or an object storage URL (s3://bucket/dir/).")
    name = posixpath.basename(filename.replace("\\", "/"))
    if name in ("", ".", "..") or name != filename:
        raise CanvasConfigurationError(
            f"Canvas named the report file {shown(filename)}, which is not a plain file name."
        )
    try:
        path = object_storage_path(output.strip(), conn_id)
    except IncompatibleStorageLibrary as error:
        raise CanvasConfigurationError(f"Cannot write the report file to {shown(output.strip())}: {error}") from None
    return path / name if _is_folder(output.strip(), path) else path


def save_stream(chunks: Iterable[bytes], target: Any, *, max_bytes: int = DEFAULT_MAX_BYTES) -> SavedFile:
    """Write ``chunks`` to ``target`` (an ``ObjectStoragePath``), hashing as they pass.

    :raises CanvasResponseError: more than ``max_bytes`` arrived; nothing is left at ``target``.
    """
    partial = target.parent / f"{target.name}.part"
    _make_folder(target.parent)
    digest, size = hashlib.sha256(), 0
    try:
        with partial.open("wb") as sink:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise CanvasResponseError(
                        f"The report file is larger than max_bytes={max_bytes:,}; stopped at {size:,} bytes and "
                        "kept nothing. Raise max_bytes if the file is expected to be this large."
                    )
                digest.update(chunk)
                sink.write(chunk)
        partial.rename(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return SavedFile(str(target), size, digest.hexdigest())


def extract_zip(archive: Any, folder: Any, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str, ...]:
    """Unpack a report zip (``<part>.csv`` entries) into ``folder``; return the written paths.

    Only plain file names are written (no directories, no ``..``), at most :data:`MAX_ZIP_ENTRIES`
    entries and ``max_bytes`` in total, counted as they are written, not as the zip declares.

    :raises CanvasResponseError: not a zip, an entry name that is not a plain name, or too large.
    """
    written: list[str] = []
    total = 0
    try:
        with archive.open("rb") as raw, zipfile.ZipFile(raw) as bundle:
            entries = [e for e in bundle.infolist() if not e.is_dir()]
            if len(entries) > MAX_ZIP_ENTRIES:
                raise CanvasResponseError(f"The report zip has {len(entries)} entries; a report has a few parts.")
            _make_folder(folder)
            for entry in entries:
                name = entry.filename
                if posixpath.basename(name) != name or name in (".", "..") or "\\" in name:
                    raise CanvasResponseError(f"The report zip holds {shown(name)}, which is not a plain file name.")
                target = folder / name
                written.append(str(target))
                with bundle.open(entry) as source, target.open("wb") as sink:
                    while chunk := source.read(1024 * 1024):
                        total += len(chunk)
                        if total > max_bytes:
                            raise CanvasResponseError(
                                f"The report zip unpacks to more than max_bytes={max_bytes:,}; stopped."
                            )
                        sink.write(chunk)
    except BaseException as error:
        for path in written:
            (folder / posixpath.basename(path)).unlink(missing_ok=True)
        if isinstance(error, zipfile.BadZipFile):
            raise CanvasResponseError(f"The report file is not a readable zip: {error}.") from None
        raise
    return tuple(written)
