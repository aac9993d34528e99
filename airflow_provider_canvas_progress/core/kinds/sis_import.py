"""The SIS import kind: read at ``GET /api/v1/accounts/:account_id/sis_imports/:id``, stopped with ``PUT .../abort``.

Pending: ``initializing``, ``created``, ``importing``, ``cleanup_batch``, ``restoring``; terminal:
``imported``, ``imported_with_messages``, ``failed``, ``failed_with_messages``, ``aborted``,
``restored``, ``partially_restored`` (unknown states fail closed; see
:mod:`~airflow_provider_canvas_progress.core.sis`). The reference carries the account, because
Canvas finds an import only under its root account: ``sis_import:<account>/<id>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import unquote

from airflow_provider_canvas_progress.core.kinds import JobClient, JobKind
from airflow_provider_canvas_progress.core.outcome import CancelMatcher, Outcome
from airflow_provider_canvas_progress.core.paths import segment
from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.core.sis import SisImport, SisOutcome, parse_sis_import
from airflow_provider_canvas_progress.core.stall import Observation, StallRules
from airflow_provider_canvas_progress.exceptions import InvalidPathSegmentError, InvalidProgressIdError

__all__ = ["KIND", "SisImportKind", "SisImportRef", "account_segment"]

#: The generic outcome each SIS ending stands for, where a kind-agnostic reader needs one.
_GENERIC = {
    SisOutcome.IMPORTED: Outcome.COMPLETED,
    SisOutcome.IMPORTED_WITH_MESSAGES: Outcome.COMPLETED,
    SisOutcome.RESTORED: Outcome.COMPLETED,
    SisOutcome.FAILED: Outcome.FAILED,
    SisOutcome.ABORTED: Outcome.CANCELLED,
    SisOutcome.STALLED: Outcome.STALLED,
    SisOutcome.PENDING: Outcome.PENDING,
}


def account_segment(value: object) -> str:
    """The account in an SIS path: an id, ``sis_account_id:…``, or ``self`` (the domain's root account).

    :raises InvalidPathSegmentError: anything else.
    """
    if isinstance(value, str) and value.strip() == "self":
        return "self"
    return segment(value, "account_id", sis="account")


@dataclass(frozen=True)
class SisImportRef:
    """Which import: its root account (a path segment) and its id (decimal)."""

    KIND: ClassVar[str] = "sis_import"

    account: str
    id: str

    @classmethod
    def of(cls, account_id: object, import_id: object) -> SisImportRef:
        """Validate a user's account and import id.

        :raises InvalidPathSegmentError: either is not an id Canvas's routes accept.
        """
        return cls(account_segment(account_id), segment(import_id, "sis_import_id"))

    @classmethod
    def parse(cls, text: str) -> SisImportRef:
        """Read ``sis_import:<account>/<id>`` back.

        :raises InvalidProgressIdError: not that form.
        """
        prefix, _, body = str(text).strip().partition(":")
        account, sep, import_id = body.rpartition("/")
        if prefix != cls.KIND or not sep:
            raise InvalidProgressIdError(f"{shown(text)} is not an SIS import reference (sis_import:<account>/<id>).")
        prefix_part, colon, value = account.partition(":")
        if colon:
            account = f"{prefix_part}:{unquote(value)}"  # the string form holds the segment percent-encoded
        try:
            return cls.of(account, import_id)
        except InvalidPathSegmentError as error:
            raise InvalidProgressIdError(f"{shown(text)} is not a valid SIS import reference: {error}") from None

    @property
    def api_path(self) -> str:
        """``/api/v1/accounts/<account>/sis_imports/<id>``."""
        return f"/api/v1/accounts/{self.account}/sis_imports/{self.id}"

    def __str__(self) -> str:
        return f"{self.KIND}:{self.account}/{self.id}"


class SisImportKind(JobKind[SisImportRef, SisImport]):
    """A Canvas SIS import as a job kind."""

    name = SisImportRef.KIND
    noun = "Canvas SIS import"
    label = "SIS import"
    # A still import in ``created`` may be waiting for its turn: Canvas runs one import at a time per
    # root account (app/models/sis_batch.rb, process_all_for_account), so the stall watch asks
    # explain_wait before calling it stuck. Progress restarting in cleanup_batch needs no allowance:
    # any change counts. updated_at is not bumped by progress writes (update_all), so it dates nothing.
    stall_rules = StallRules(explainable_states=frozenset({"created"}))

    def parse_ref(self, text: str) -> SisImportRef:
        return SisImportRef.parse(text)

    def job_id(self, job: SisImport) -> str:
        return job.id

    def is_pending(self, job: SisImport) -> bool:
        return job.is_pending

    def outcome(self, job: SisImport, matcher: CancelMatcher) -> Outcome:
        return _GENERIC[job.outcome]

    def fingerprint(self, job: SisImport) -> tuple[object, ...]:
        return (job.workflow_state, job.progress)

    def observation(self, job: SisImport) -> Observation:
        stamp = job.updated_at.timestamp() if job.updated_at is not None else None
        return Observation(job.workflow_state.value, None if job.progress is None else float(job.progress), stamp)

    def explain_wait(self, client: JobClient, ref: SisImportRef, job: SisImport) -> str | None:
        return queued_behind(client.request("GET", _importing_path(ref)), job.id)

    async def aexplain_wait(self, client: JobClient, ref: SisImportRef, job: SisImport) -> str | None:
        return queued_behind(await client.arequest("GET", _importing_path(ref)), job.id)

    def poll_line(self, job: SisImport) -> str:
        line = job.describe()
        if job.workflow_state.value == "created" and job.started_at is None:
            line += " (waiting for its turn: Canvas runs one import at a time per root account)"
        return line

    def describe(self, job: SisImport) -> str:
        return job.describe()

    def to_dict(self, job: SisImport) -> dict[str, Any]:
        return job.to_payload()

    def from_dict(self, payload: object, *, source: str) -> SisImport:
        return parse_sis_import(payload, source=source)

    def read(self, client: JobClient, ref: SisImportRef) -> SisImport:
        return parse_sis_import(client.request("GET", ref.api_path), source=f"GET {ref.api_path}")

    async def aread(self, client: JobClient, ref: SisImportRef) -> SisImport:
        return parse_sis_import(await client.arequest("GET", ref.api_path), source=f"GET {ref.api_path}")

    def stop(self, client: JobClient, ref: SisImportRef, message: str) -> SisImport:
        # Canvas's abort takes no message; a finished import answers 404 (callers check pending first).
        path = f"{ref.api_path}/abort"
        return parse_sis_import(client.request("PUT", path), source=f"PUT {path}")

    async def astop(self, client: JobClient, ref: SisImportRef, message: str) -> SisImport:
        path = f"{ref.api_path}/abort"
        return parse_sis_import(await client.arequest("PUT", path), source=f"PUT {path}")

    def api_path(self, ref: SisImportRef) -> str:
        return ref.api_path


def _importing_path(ref: SisImportRef) -> str:
    return f"/api/v1/accounts/{ref.account}/sis_imports/importing"


def queued_behind(payload: object, own_id: str) -> str | None:
    """Why an import in ``created`` is waiting, from ``GET .../sis_imports/importing``: another import
    of the account is running ahead of it. None when none is (then a still import is stuck)."""
    items = payload.get("sis_imports") if isinstance(payload, Mapping) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and str(item.get("id")) != str(own_id) and item.get("id") is not None:
            progress = item.get("progress")
            shown = f", {progress} %" if isinstance(progress, int) and not isinstance(progress, bool) else ""
            return f"queued behind SIS import {item.get('id')} ({item.get('workflow_state')}{shown})"
    return None


#: The instance :func:`~airflow_provider_canvas_progress.core.kinds.kind_named` returns.
KIND = SisImportKind()
