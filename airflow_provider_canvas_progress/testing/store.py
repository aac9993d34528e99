"""Progress records and the scripts queued for jobs the simulator starts.

The store is shared by the test thread (``sim.create_progress``...) and the server thread, so
every method takes the lock. It keeps clock readings, never rendered JSON: rendering is
:mod:`.render`'s job.
"""

from __future__ import annotations

import enum
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from .jobs import JobScript, Step

__all__ = ["OVERWRITING_BATCH_TAGS", "UNSET", "ProgressRecord", "ProgressStore", "ProgressView", "Unset"]

#: Jobs run by ``lib/progress_runner.rb``: they save the Progress they loaded at the start when
#: they finish, so their ending replaces a cancel written while they ran.
OVERWRITING_BATCH_TAGS = frozenset({"course_batch_update", "conversation_batch_update"})


class Unset(enum.Enum):
    """Marks an argument that was not given (``None`` means JSON ``null`` here)."""

    UNSET = 0


UNSET = Unset.UNSET


@dataclass
class ProgressRecord:
    """One Progress: who owns it and how it moves.

    ``pinned`` is set by :meth:`ProgressStore.override` and by cancel: from then on the script no
    longer moves the Progress, until ``pinned_until`` (seconds after creation) if set: a cancelled
    running batch that finishes anyway takes over again with its own ending.
    """

    local_id: int
    tag: str
    context_type: str
    context_id: int
    user_id: int | None
    created_at: float
    script: JobScript
    pinned: Step | None = None
    pinned_at: float | None = None
    pinned_until: float | None = None

    def _pin_holds(self, now: float) -> bool:
        if self.pinned is None:
            return False
        return self.pinned_until is None or now - self.created_at < self.pinned_until

    def step_at(self, now: float) -> Step:
        """Return the step in effect at clock reading ``now``."""
        if self.pinned is not None and self._pin_holds(now):
            return self.pinned
        return self.script.state_at(now - self.created_at)

    def updated_at(self, now: float) -> float:
        """Return the clock reading of the Progress's last change."""
        if self.pinned_at is not None and self._pin_holds(now):
            return self.pinned_at
        return self.created_at + self.script.state_at(now - self.created_at).at


@dataclass(frozen=True)
class ProgressView:
    """What a Progress looks like at one moment; :mod:`.render` turns it into Canvas JSON."""

    local_id: int
    tag: str
    context_type: str
    context_id: int
    user_id: int | None
    workflow_state: str
    completion: float | int | None
    message: str | None
    results: Any
    created_at: float
    updated_at: float


@dataclass
class _ScriptQueue:
    general: deque[JobScript] = field(default_factory=deque)
    by_tag: dict[str, deque[JobScript]] = field(default_factory=dict)


class ProgressStore:
    """All Progress records of one simulator, and the scripts for the jobs it will start.

    :param default_script: the script of started jobs when no test queued one.
    """

    def __init__(self, default_script: JobScript) -> None:
        self._lock = threading.RLock()
        self._records: dict[int, ProgressRecord] = {}
        self._next_id = 1
        self._queue = _ScriptQueue()
        self.default_script = default_script

    # -- scripts for started jobs -----------------------------------------------------------

    def script_next_job(self, script: JobScript, *, tag: str | None = None) -> None:
        """Queue ``script`` for the next started job (of ``tag``, if given); FIFO."""
        with self._lock:
            if tag is None:
                self._queue.general.append(script)
            else:
                self._queue.by_tag.setdefault(tag, deque()).append(script)

    def take_script(self, tag: str) -> JobScript:
        """Return the script for a job being started: per-tag queue, then general queue, then default."""
        with self._lock:
            tagged = self._queue.by_tag.get(tag)
            if tagged:
                return tagged.popleft()
            if self._queue.general:
                return self._queue.general.popleft()
            return self.default_script

    # -- records ----------------------------------------------------------------------------

    def create(
        self,
        *,
        tag: str,
        context_type: str,
        context_id: int,
        user_id: int | None,
        script: JobScript,
        now: float,
    ) -> ProgressRecord:
        """Create a Progress at clock reading ``now`` and return it."""
        with self._lock:
            record = ProgressRecord(
                local_id=self._next_id,
                tag=tag,
                context_type=context_type,
                context_id=context_id,
                user_id=user_id,
                created_at=now,
                script=script,
            )
            self._records[record.local_id] = record
            self._next_id += 1
            return record

    def get(self, local_id: int) -> ProgressRecord | None:
        """Return the record, or ``None`` if there is no such Progress."""
        with self._lock:
            return self._records.get(local_id)

    def __iter__(self) -> Iterator[ProgressRecord]:
        with self._lock:
            return iter(list(self._records.values()))

    def view(self, local_id: int, now: float) -> ProgressView | None:
        """Return the Progress as it is at ``now``, or ``None`` if unknown."""
        with self._lock:
            record = self._records.get(local_id)
            if record is None:
                return None
            step = record.step_at(now)
            return ProgressView(
                local_id=record.local_id,
                tag=record.tag,
                context_type=record.context_type,
                context_id=record.context_id,
                user_id=record.user_id,
                workflow_state=step.workflow_state,
                completion=step.completion,
                message=step.message,
                results=step.results,
                created_at=record.created_at,
                updated_at=record.updated_at(now),
            )

    def override(
        self,
        local_id: int,
        now: float,
        *,
        workflow_state: str | Unset = UNSET,
        completion: float | int | Unset | None = UNSET,
        message: str | Unset | None = UNSET,
        results: Any = UNSET,
    ) -> None:
        """Pin the Progress at its current state with the given fields changed.

        :raises KeyError: if there is no such Progress.
        """
        with self._lock:
            record = self._records[local_id]
            step = record.step_at(now)
            changes: dict[str, Any] = {"at": now - record.created_at}
            if not isinstance(workflow_state, Unset):
                changes["workflow_state"] = workflow_state
            if not isinstance(completion, Unset):
                changes["completion"] = completion
            if not isinstance(message, Unset):
                changes["message"] = message
            if not isinstance(results, Unset):
                changes["results"] = results
            record.pinned = replace(step, **changes)
            record.pinned_at = now
            record.pinned_until = None

    def cancel(self, local_id: int, now: float, message: str | None) -> None:
        """Apply Canvas's cancel: ``failed`` with ``message`` as posted, whatever the state was.

        ``progress_controller.rb#cancel`` runs ``update!(workflow_state: "failed", message:
        params[:message])`` with no state check: a completed job reads ``failed`` afterwards and
        a missing message erases the old one to ``null``. The cancel stops nothing: a course or
        conversation batch that was running finishes anyway, and ``ProgressRunner#finish_update``
        then saves its own ending over the cancel (unless its script says ``overwrites_cancel=False``).
        A batch cancelled while still queued never starts (``start!`` is no event of a ``failed``
        Progress), so that cancel stays.
        """
        with self._lock:
            record = self._records[local_id]
            running = record.step_at(now).workflow_state == "running"
            self.override(local_id, now, workflow_state="failed", message=message)
            script = record.script
            if running and record.tag in OVERWRITING_BATCH_TAGS and script.overwrites_cancel:
                ends_at = script.ends_at
                if ends_at != float("inf"):
                    record.pinned_until = ends_at

    def supersede_queued(self, tag: str, context_type: str, context_id: int, now: float) -> None:
        """Mark queued jobs of the same singleton ``canceled``, as ``cancel_orphaned_progresses`` does."""
        with self._lock:
            for record in self._records.values():
                if (record.tag, record.context_type, record.context_id) != (tag, context_type, context_id):
                    continue
                if record.step_at(now).workflow_state == "queued":
                    self.override(record.local_id, now, workflow_state="canceled")
