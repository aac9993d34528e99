"""Reading an uploaded SIS file the way Canvas's CSV importer does: a zip of CSVs, or one CSV.

Pure functions over bytes. Each CSV is recognised by its header row (``lib/sis/csv/*_importer.rb``
``is_*_csv?``); a file no importer recognises fails the whole import with "Couldn't find Canvas CSV
import headers", as does a file that is not UTF-8 ("Invalid UTF-8") or a ``.zip`` that is not an
archive. Rows are parsed into dicts; judging them is :mod:`.sis_import`'s job.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["IMPORTERS", "CsvFile", "Message", "ParsedUpload", "build_zip", "read_upload"]

#: Canvas's cap on entries in an uploaded zip (``gems/canvas_unzip/lib/canvas_unzip.rb#default_limits``).
MAX_ENTRIES = 100_000


@dataclass(frozen=True)
class Message:
    """One SIS batch error or warning (a ``SisBatchError``): ``failure`` ones fail the import."""

    file: str
    message: str
    row: int | None = None
    failure: bool = False


@dataclass(frozen=True)
class CsvFile:
    """One recognised CSV: its name, importer (``users``, ``courses``...) and rows as dicts."""

    name: str
    importer: str
    rows: tuple[dict[str, str], ...]


@dataclass
class ParsedUpload:
    """The recognised files, in Canvas's importer order, and the messages reading produced."""

    files: list[CsvFile] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Whether a failure-level message was produced."""
        return any(m.failure for m in self.messages)


def _has(*names: str) -> Callable[[Sequence[str]], bool]:
    return lambda header: all(name in header for name in names)


def _enrollment(header: Sequence[str]) -> bool:
    return ("course_id" in header or "section_id" in header) and (
        "user_id" in header or "user_integration_id" in header
    )


#: The header test that recognises each importer's file, in the order they are tried.
IMPORTERS: tuple[tuple[str, Callable[[Sequence[str]], bool]], ...] = (
    ("change_sis_ids", _has("old_id", "new_id", "type")),
    ("accounts", _has("account_id", "parent_account_id")),
    ("terms", _has("term_id", "name")),
    ("courses", _has("course_id", "short_name")),
    ("xlists", _has("xlist_course_id", "section_id")),
    ("sections", _has("section_id", "name")),
    ("users", _has("user_id", "login_id")),
    ("enrollments", _enrollment),
    ("group_categories", _has("group_category_id", "category_name")),
    ("groups", _has("group_id", "name")),
    ("group_memberships", _has("group_id", "user_id")),
    ("user_observers", _has("observer_id", "student_id")),
    ("admins", _has("user_id", "account_id", "role")),
)
#: The order Canvas runs importers in (``lib/sis/csv/import_refactored.rb``): sections before xlists.
RUN_ORDER = (
    "change_sis_ids",
    "accounts",
    "terms",
    "courses",
    "sections",
    "xlists",
    "users",
    "enrollments",
    "group_categories",
    "groups",
    "group_memberships",
    "user_observers",
    "admins",
)
_ORDER = {name: index for index, name in enumerate(RUN_ORDER)}


def _importer_for(header: Sequence[str]) -> str | None:
    # First match wins; xlists is tested before sections because an xlist file has section_id too.
    return next((name for name, test in IMPORTERS if test(header)), None)


def _read_csv(name: str, data: bytes, parsed: ParsedUpload) -> None:
    if not data.strip():
        return  # an empty CSV imports nothing and says nothing
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        parsed.messages.append(Message(name, "Invalid UTF-8", failure=True))
        return
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        parsed.messages.append(Message(name, f"Malformed CSV: {exc}", failure=True))
        return
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    importer = _importer_for(header)
    if importer is None:
        parsed.messages.append(Message(name, "Couldn't find Canvas CSV import headers", failure=True))
        return
    records = tuple(
        {key: (row[i].strip() if i < len(row) else "") for i, key in enumerate(header)} for row in rows[1:] if any(row)
    )
    parsed.files.append(CsvFile(name, importer, records))


def read_upload(data: bytes, filename: str) -> ParsedUpload:
    """Read an upload named ``filename`` (``sis_import.zip``, ``users.csv``...).

    Only ``.zip`` and ``.csv`` are read; inside a zip, ``__MACOSX`` and dot files are skipped, as are
    non-CSV entries ("Skipping unknown file type", a warning). Another top-level type imports nothing.
    """
    parsed = ParsedUpload()
    lower = filename.lower()
    if lower.endswith(".csv"):
        _read_csv(filename, data, parsed)
    elif lower.endswith(".zip"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                entries = [info for info in archive.infolist() if not info.is_dir()]
                if len(entries) > MAX_ENTRIES:
                    parsed.messages.append(Message(filename, "Too many files in the zip file", failure=True))
                    return parsed
                for info in entries:
                    base = info.filename.rsplit("/", 1)[-1]
                    if info.filename.startswith("__MACOSX") or base.startswith("."):
                        continue
                    if not base.lower().endswith(".csv"):
                        parsed.messages.append(Message(base, "Skipping unknown file type"))
                        continue
                    _read_csv(base, archive.read(info), parsed)
        except (zipfile.BadZipFile, EOFError):
            parsed.messages.append(
                Message(filename, "Error while importing CSV. The file is not a valid zip archive.", failure=True)
            )
    parsed.files.sort(key=lambda f: _ORDER[f.importer])
    return parsed


def build_zip(files: dict[str, str | bytes]) -> bytes:
    """A zip of named CSVs (text is UTF-8 encoded), for tests and examples."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content.encode("utf-8") if isinstance(content, str) else content)
    return buffer.getvalue()
