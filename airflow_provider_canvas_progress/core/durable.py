"""Which Canvas job a try of a job-starting task works on: its own, or one an earlier try started.

A try that dies while its job runs (a worker killed or preempted, an outage longer than the hook's
retries, a deferral that failed to resume) used to leave the job running and let the retry start a
second one beside it: wasted work for a course batch, and for a SIS import a second import queued
behind the first on the account's serial strand. Durable execution stores the started job's
reference before any waiting, and a later try of the same task instance decides from it:

* the stored job is still pending: **re-attach** and wait on it;
* it ended well (an outcome the task does not fail on): **return** its result, start nothing;
* it ended badly, is gone from Canvas, or the user asked for ``durable=False``: **start** a new one.

These are the three branches of Airflow's own ``ResumableJobMixin`` (reconnect, already succeeded,
terminal resubmit); here they are written once, without I/O, for every job kind and for both the
synchronous and the deferrable wait, and each decision carries the one log line that tells the story
of the retry. Where there is no store (Airflow < 3.3), a SIS import can still be found again from
Canvas's own list of imports, but only where that is certain: :func:`find_earlier_import`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.core.stall import Observation

#: The key under which the started job is kept in the task state store. Renaming it would make every
#: in-flight retry start a second job (the old key is already stored), so it never changes.
STORE_KEY = "canvas_job"

_RECORD_VERSION = 1


@dataclass(frozen=True)
class StartedRecord:
    """What a try keeps in the task state store before it waits: which job, started by which try.

    :param ref: the job reference's string form (``progress:123``, ``sis_import:1/456``).
    :param try_number: the try that started it (for the story a retry's log tells).
    """

    ref: str
    try_number: int

    def to_dict(self) -> dict[str, Any]:
        """JSON primitives, as the task state store and XCom hold them."""
        return {"v": _RECORD_VERSION, "ref": self.ref, "try": self.try_number}

    @classmethod
    def from_dict(cls, payload: object) -> StartedRecord | None:
        """Read :meth:`to_dict`'s output back; anything else (another version, a damaged value) is None,
        which makes the try start a new job as it would have without a store."""
        if not isinstance(payload, Mapping) or payload.get("v") != _RECORD_VERSION:
            return None
        ref, try_number = payload.get("ref"), payload.get("try")
        if not isinstance(ref, str) or not ref.strip() or isinstance(try_number, bool):
            return None
        if not isinstance(try_number, int) or try_number < 0:
            return None
        return cls(ref.strip(), try_number)


@dataclass(frozen=True)
class ReadBack:
    """The stored job as it is now, reduced to what the decision needs.

    :param noun: how the kind names its jobs (``SIS import``, ``Canvas Progress``).
    :param job_id: the job's own id.
    :param seen: its state and completion.
    :param pending: True while it has not reached a terminal state.
    :param ended_well: True when it ended with an outcome the task does not fail on.
    """

    noun: str
    job_id: str
    seen: Observation
    pending: bool
    ended_well: bool


class Action(str, Enum):
    """What a try does with its job."""

    #: Start a new job (the only choice without a stored one).
    START = "start"
    #: Wait on the job an earlier try started.
    REATTACH = "reattach"
    #: The earlier try's job already ended well: use its result, start and wait on nothing.
    RETURN = "return"


@dataclass(frozen=True)
class Decision:
    """A try's choice, the record it works on (None when starting), and the log line saying why."""

    action: Action
    record: StartedRecord | None
    line: str


def ref_to_read(stored: StartedRecord | None, *, durable: bool) -> str | None:
    """The reference to read back before deciding, or None when the decision needs no read."""
    return stored.ref if durable and stored is not None else None


def decide(stored: StartedRecord | None, read_back: ReadBack | None, *, durable: bool, try_number: int) -> Decision:
    """Decide what this try does.

    :param stored: the record an earlier try kept, if any.
    :param read_back: that job read back now (see :func:`ref_to_read`); None when Canvas no longer
        has it (404) or nothing was read.
    :param durable: the task's ``durable``.
    :param try_number: this try's number.
    """
    this = f"try {try_number}"
    if not durable:
        left = f" (the job of try {stored.try_number}, {stored.ref}, is left as it is)" if stored else ""
        return Decision(Action.START, None, f"durable=False: {this} starts a new job{left}.")
    if stored is None:
        return Decision(Action.START, None, f"{this} starts a new job (no earlier try of this task started one).")
    by = f"started by try {stored.try_number}"
    if read_back is None:
        return Decision(Action.START, None, f"{stored.ref} {by} is no longer found on Canvas: {this} starts a new job.")
    job = f"{read_back.noun} {read_back.job_id} {by}"
    if read_back.pending:
        return Decision(Action.REATTACH, stored, f"{this} re-attached to {job} ({read_back.seen.describe()}).")
    if read_back.ended_well:
        return Decision(
            Action.RETURN,
            stored,
            f"{this} found {job} already ended ({read_back.seen.describe()}): returning its result, starting nothing.",
        )
    return Decision(Action.START, None, f"{job} ended {read_back.seen.describe()}: {this} starts a new job.")


def without_store(*, durable: bool, why: str) -> Decision:
    """The decision where no store can be read (``why``: e.g. "Airflow 2.11 has no task state store").

    ``durable`` is accepted on every Airflow version so DAGs need no version checks; here it has no
    effect, which the log line says once per try.
    """
    if durable:
        return Decision(Action.START, None, f"durable=True has no effect here ({why}): this try starts a new job.")
    return Decision(Action.START, None, "durable=False: this try starts a new job.")


# --- finding a SIS import again without a store ----------------------------------------------


@dataclass(frozen=True)
class ImportSeen:
    """One entry of ``GET /api/v1/accounts/:id/sis_imports``, reduced to what identifies it.

    :param created_at: epoch seconds.
    :param user_id: the id of the user who started it (Canvas includes ``user`` only when set).
    """

    id: str
    created_at: float
    workflow_state: str
    diffing_data_set_identifier: str | None
    user_id: str | None


@dataclass(frozen=True)
class EarlierImportQuery:
    """What this DAG run's import looks like, as far as Canvas's list can tell.

    :param created_after: the earliest an earlier try can have started it (the DAG run's start).
    :param created_before: the latest (this try's start).
    :param diffing_data_set_identifier: the task's diffing identifier, if it uses one.
    :param user_id: the connection's Canvas user, if known.
    """

    created_after: float
    created_before: float
    diffing_data_set_identifier: str | None
    user_id: str | None


@dataclass(frozen=True)
class Rediscovery:
    """The import an earlier try of this run started (None: upload anew) and the log line why."""

    found: ImportSeen | None
    line: str


def imports_listed(payload: object) -> list[ImportSeen]:
    """Read the index's ``{"sis_imports": [...]}`` answer into :class:`ImportSeen` entries.

    An entry without a readable id or ``created_at`` is left out: it cannot be tied to this run, and
    leaving it out can only make the search find nothing (then the try uploads, as without it).
    """
    items = payload.get("sis_imports") if isinstance(payload, Mapping) else None
    seen: list[ImportSeen] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        job_id, created_at = item.get("id"), _epoch(item.get("created_at"))
        if isinstance(job_id, bool) or not isinstance(job_id, (int, str)) or created_at is None:
            continue
        user = item.get("user")
        user_id = user.get("id") if isinstance(user, Mapping) else None
        identifier = item.get("diffing_data_set_identifier")
        state = item.get("workflow_state")
        seen.append(
            ImportSeen(
                id=str(job_id),
                created_at=created_at,
                workflow_state=state if isinstance(state, str) else "unknown",
                diffing_data_set_identifier=identifier if isinstance(identifier, str) else None,
                user_id=str(user_id) if isinstance(user_id, (int, str)) and not isinstance(user_id, bool) else None,
            )
        )
    return seen


def find_earlier_import(entries: Iterable[ImportSeen], query: EarlierImportQuery) -> Rediscovery:
    """Look for the import an earlier try of this DAG run started, where Canvas can tell.

    Certain means: created inside the run's window, by the connection's user, carrying the task's
    diffing identifier when it has one -- and exactly one such import. Without a diffing identifier
    *and* without a known user nothing ties an import to this task, so the search is off; two or
    more matches mean something else also imports with the same identity, so it is off too. Off
    means the try uploads again, as it would without this search.
    """
    if not query.diffing_data_set_identifier and not query.user_id:
        return Rediscovery(
            None,
            "not looking for an earlier try's SIS import: without a diffing_data_set_identifier or a known "
            "Canvas user nothing ties an import to this task; uploading.",
        )
    matches = [entry for entry in entries if _matches(entry, query)]
    identity = _identity(query)
    if not matches:
        return Rediscovery(None, f"no SIS import {identity} since this run started; uploading.")
    if len(matches) > 1:
        ids = ", ".join(entry.id for entry in matches[:5])
        return Rediscovery(
            None,
            f"{len(matches)} SIS imports {identity} since this run started ({ids}); cannot tell which one an "
            "earlier try started, so uploading as without the search.",
        )
    found = matches[0]
    return Rediscovery(
        found, f"found SIS import {found.id} ({found.workflow_state}) {identity}, started by an earlier try."
    )


def _matches(entry: ImportSeen, query: EarlierImportQuery) -> bool:
    if not query.created_after <= entry.created_at <= query.created_before:
        return False
    if query.diffing_data_set_identifier and entry.diffing_data_set_identifier != query.diffing_data_set_identifier:
        return False
    return not query.user_id or entry.user_id == query.user_id


def _epoch(value: object) -> float | None:
    """Canvas's ISO 8601 timestamp (``2026-11-30T02:00:00Z``) as epoch seconds; None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp.timestamp() if stamp.tzinfo is not None else None


def _identity(query: EarlierImportQuery) -> str:
    parts = []
    if query.diffing_data_set_identifier:
        parts.append(f"with diffing_data_set_identifier {shown(query.diffing_data_set_identifier)}")
    if query.user_id:
        parts.append(f"by user {query.user_id}")
    return " and ".join(parts)
