"""SIS JSON as Canvas renders it: the SisImport, its errors, the errors file, and paginated lists.

``sis_import_json`` follows ``lib/api/v1/sis_import.rb`` and ``SisBatch#as_json``: stickiness flags
are ``true`` or ``null``, never ``false``; ``processing_errors``/``processing_warnings`` hold at most
24 entries each, then the pair ``["and N more errors that were not included", "Download the error
file to see all errors."]`` (``populate_old_warnings_and_errors``); the errors file is a ``File``
whose ``url`` carries a user-bound verifier that expires in an hour (``sis_import_helper.rb``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from .clock import WallTime
from .sis_csv import Message
from .sis_store import SisBatch

__all__ = [
    "INLINE_LIMIT",
    "error_json",
    "errors_csv",
    "errors_file_name",
    "inline_messages",
    "link_header",
    "page_of",
    "sis_import_json",
]

#: Errors and warnings inlined into the SisImport before the "and N more" pair.
INLINE_LIMIT = 24
DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100


def inline_messages(messages: Sequence[Message], noun: str) -> list[list[str]]:
    """``[file, message]`` pairs, capped at 24 plus the "and N more" pair."""
    pairs = [[m.file, m.message] for m in messages]
    if len(pairs) <= INLINE_LIMIT:
        return pairs
    extra = len(pairs) - INLINE_LIMIT
    return [
        *pairs[:INLINE_LIMIT],
        [f"and {extra} more {noun} that were not included", "Download the error file to see all errors."],
    ]


def errors_file_name(batch: SisBatch) -> str:
    """``sis_errors_attachment_<id>.csv`` (``SisBatch#write_errors_to_file``)."""
    return f"sis_errors_attachment_{batch.id}.csv"


def errors_csv(batch: SisBatch) -> bytes:
    """The errors file: ``sis_import_id,file,message,row``, one line per error and warning."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["sis_import_id", "file", "message", "row"])
    for message in batch.messages():
        writer.writerow([batch.id, message.file, message.message, "" if message.row is None else message.row])
    return buffer.getvalue().encode()


def error_json(batch: SisBatch, message: Message) -> dict[str, Any]:
    """One entry of ``sis_import_errors``."""
    return {"sis_import_id": batch.id, "file": message.file, "message": message.message, "row": message.row}


def _attachment_json(batch: SisBatch, *, base_url: str, verifier: str, wall: WallTime, at: float) -> dict[str, Any]:
    name = errors_file_name(batch)
    attachment_id = batch.errors_attachment_id
    query = urlencode({"download_frd": 1, "verifier": verifier})
    stamp = wall.iso(at)
    return {
        "id": attachment_id,
        "uuid": f"sisErr{attachment_id:08d}",
        "folder_id": None,
        "display_name": name,
        "filename": name,
        "upload_status": "success",
        "content-type": "text/csv",
        "url": f"{base_url}/files/{attachment_id}/download?{query}",
        "size": len(errors_csv(batch)),
        "created_at": stamp,
        "updated_at": stamp,
        "modified_at": stamp,
        "unlock_at": None,
        "locked": False,
        "hidden": False,
        "lock_at": None,
        "hidden_for_user": False,
        "thumbnail_url": None,
        "mime_class": "file",
        "media_entry_id": None,
        "locked_for_user": False,
    }


def _true_or_null(value: Any) -> bool | None:
    return True if value else None


def sis_import_json(
    batch: SisBatch,
    *,
    now: float,
    wall: WallTime,
    base_url: str,
    verifier: str | None,
    state_override: tuple[str, float] | None = None,
) -> dict[str, Any]:
    """The SisImport as served at clock reading ``now``.

    :param verifier: the errors file's verifier for this caller; ``None`` omits ``errors_attachment``.
    :param state_override: ``(restoring|restored|partially_restored, since)`` after restore_states.
    """
    state, progress, since = batch.step(now)
    if state_override is not None:
        state, since = state_override
    options = batch.options
    plan = batch.plan
    ended = (
        batch.ends_at if batch.aborted_at is None and state not in ("created", "importing", "cleanup_batch") else None
    )
    if batch.aborted_at is not None and batch.aborted_state in ("initializing", "created"):
        ended = None
    data: dict[str, Any] = {"import_type": "instructure_csv"}
    if batch.started_at is not None and now >= batch.started_at and plan is not None:
        data["supplied_batches"] = plan.supplied_batches
        data["running_immediately"] = plan.rows < 50
        terminal = state not in ("created", "importing", "cleanup_batch")
        data["completed_importers"] = plan.supplied_batches if terminal else []
        if terminal:
            data["counts"] = dict(plan.counts)
            data["statistics"] = plan.statistics
            data["downloadable_attachment_ids"] = []
        if plan.crash is not None and terminal and state == "failed":
            data["error_message"] = plan.crash
            data["stack_trace"] = f"{plan.crash}\n/usr/src/app/lib/sis/csv/import_refactored.rb:83:in `process'"
    body: dict[str, Any] = {
        "id": batch.id,
        "created_at": wall.iso(batch.created_at),
        "started_at": wall.iso(batch.started_at) if batch.started_at is not None and now >= batch.started_at else None,
        "ended_at": wall.iso(ended) if ended is not None and now >= ended else None,
        "updated_at": wall.iso(since),
        "progress": progress,
        "workflow_state": state,
        "data": data,
        "batch_mode": _true_or_null(batch.batch.batch_mode),
        "batch_mode_term_id": batch.batch.batch_term_id,
        "multi_term_batch_mode": options.get("multi_term_batch_mode"),
        "override_sis_stickiness": _true_or_null(options.get("override_sis_stickiness")),
        "add_sis_stickiness": _true_or_null(options.get("add_sis_stickiness")),
        "clear_sis_stickiness": _true_or_null(options.get("clear_sis_stickiness")),
        "skip_deletes": bool(options.get("skip_deletes")),
        "update_sis_id_if_login_claimed": bool(options.get("update_sis_id_if_login_claimed")),
        "diffing_data_set_identifier": options.get("diffing_data_set_identifier"),
        "diffing_remaster": options.get("diffing_remaster"),
        "diffed_against_import_id": None,
        "diffing_drop_status": options.get("diffing_drop_status"),
        "diffing_user_remove_status": options.get("diffing_user_remove_status"),
        "change_threshold": options.get("change_threshold"),
        "diff_row_count_threshold": options.get("diff_row_count_threshold"),
    }
    finished = state not in ("initializing", "created", "importing", "cleanup_batch")
    if plan is not None and finished:
        errors = [m for m in plan.messages if m.failure]
        warnings = [m for m in plan.messages if not m.failure]
        if errors:
            body["processing_errors"] = inline_messages(errors, "errors")
        if warnings:
            body["processing_warnings"] = inline_messages(warnings, "warnings")
        file_at = (batch.ends_at or now) + batch.script.errors_file_delay
        if batch.aborted_at is not None:
            file_at = batch.aborted_at + batch.script.errors_file_delay
        if batch.errors_attachment_id is not None and verifier is not None and now >= file_at:
            body["errors_attachment"] = _attachment_json(
                batch, base_url=base_url, verifier=verifier, wall=wall, at=file_at
            )
    return body


def page_of(items: Sequence[Any], query: dict[str, Any]) -> tuple[list[Any], int, int, int]:
    """``(page items, page, per_page, last page)`` for Canvas's ``page``/``per_page`` (default 10, max 100)."""
    per_page = _positive(query.get("per_page"), DEFAULT_PER_PAGE)
    per_page = min(per_page, MAX_PER_PAGE)
    page = _positive(query.get("page"), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    return list(items[(page - 1) * per_page : page * per_page]), page, per_page, last


def _positive(raw: Any, default: int) -> int:
    text = str(raw).strip() if raw is not None else ""
    return int(text) if text.isdigit() and int(text) > 0 else default


def link_header(url: str, query: list[tuple[str, str]], page: int, per_page: int, last: int) -> str:
    """Canvas's ``Link`` header: current, next (if any), prev (if any), first, last."""

    def at(number: int) -> str:
        params = [*query, ("page", str(number)), ("per_page", str(per_page))]
        return f"<{url}?{urlencode(params)}>"

    links = [f'{at(page)}; rel="current"']
    if page < last:
        links.append(f'{at(page + 1)}; rel="next"')
    if page > 1:
        links.append(f'{at(page - 1)}; rel="prev"')
    links += [f'{at(1)}; rel="first"', f'{at(last)}; rel="last"']
    return ",".join(links)
