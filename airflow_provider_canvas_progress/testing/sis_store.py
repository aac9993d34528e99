"""SIS batches of every root account, and the per-account serial strand that runs them.

Canvas runs one singleton job per root account (``sis_batch:account:<id>``,
``SisBatch.process_all_for_account``): it exits while a batch is importing, else takes ``created``
batches oldest first. So a second import waits in ``created``. When the *running* import is aborted,
the next one starts 10 minutes later (``abort`` docs: "Subsequent sis batches begin to process 10
minutes after the abort"). Everything is computed from the simulator clock when read: an import
starts when its turn comes, runs its rows against the account's :class:`SisRegistry` then, and
applies its batch-mode deletions when it ends.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .sis_csv import Message, read_upload
from .sis_import import BatchOptions, ImportPlan, SisRegistry, TermBook, apply_deletions, run_import
from .sis_script import DEFAULT_CRASH, DEFAULT_FAILURE, DEFAULT_THRESHOLD, DEFAULT_WARNING, SisScript

__all__ = ["ABORT_DELAY", "PENDING", "SisBatch", "SisStore"]

#: Seconds the strand waits after a running import was aborted.
ABORT_DELAY = 600.0
#: The states ``abort`` can still find (``not_completed``).
PENDING = frozenset({"initializing", "created", "importing", "cleanup_batch"})


@dataclass
class SisBatch:
    """One SIS import: what was asked, what was uploaded, and where it stands."""

    id: int
    account_id: int
    user_id: int
    created_at: float
    options: dict[str, Any]
    batch: BatchOptions
    upload: bytes
    filename: str
    script: SisScript
    initializing: bool = False
    started_at: float | None = None
    plan: ImportPlan | None = None
    end_state: str | None = None
    aborted_at: float | None = None
    aborted_state: str | None = None
    aborted_progress: int = 0
    finalized: bool = False
    errors_attachment_id: int | None = None
    restore_progress_id: int | None = None
    restore_partial: bool = False

    @property
    def cleanup(self) -> bool:
        """Whether the run has a ``cleanup_batch`` phase (batch mode that reached cleanup)."""
        return (
            self.batch.batch_mode
            and self.plan is not None
            and not self.plan.failed
            and self.plan.threshold_abort is None
        )

    @property
    def ends_at(self) -> float | None:
        """The clock reading of the natural end (``None`` before the start, ``inf`` if never)."""
        if self.started_at is None:
            return None
        return self.started_at + self.script.duration(cleanup=self.cleanup)

    def step(self, now: float) -> tuple[str, int, float]:
        """``(workflow_state, progress, since)`` at clock reading ``now``, restore aside."""
        if self.aborted_at is not None and now >= self.aborted_at:
            return "aborted", self.aborted_progress, self.aborted_at
        if self.initializing:
            return "initializing", 0, self.created_at
        if self.started_at is None or now < self.started_at or self.end_state is None:
            return "created", 0, self.created_at
        steps = self.script.timeline(cleanup=self.cleanup, end_state=self.end_state)
        index = max(bisect.bisect_right([s.at for s in steps], now - self.started_at) - 1, 0)
        return steps[index].workflow_state, steps[index].progress, self.started_at + steps[index].at

    def messages(self) -> list[Message]:
        """Every SisBatchError of the import, in the order written."""
        return list(self.plan.messages) if self.plan is not None else []


@dataclass
class _Account:
    registry: SisRegistry = field(default_factory=SisRegistry)
    batches: list[SisBatch] = field(default_factory=list)
    free_at: float = 0.0


class SisStore:
    """Every account's batches (thread-safe); ids are shared across accounts, as in Canvas."""

    def __init__(self, terms: TermBook | None = None) -> None:
        self._terms = terms
        self._lock = threading.RLock()
        self._accounts: dict[int, _Account] = {}
        self._by_id: dict[int, SisBatch] = {}
        self._ids = itertools.count(1)
        self._attachment_ids = itertools.count(9001)
        self._scripts: deque[SisScript] = deque()
        self.default_script = SisScript()

    # -- scripting -------------------------------------------------------------------------------

    def queue_script(self, script: SisScript) -> None:
        """Use ``script`` for the next import created (first in, first out)."""
        with self._lock:
            self._scripts.append(script)

    def set_script(self, batch_id: int, script: SisScript) -> None:
        """Replace the script of an import a job has not taken yet.

        :raises KeyError: unknown import.
        :raises ValueError: the import already started.
        """
        with self._lock:
            record = self._by_id[batch_id]
            if record.started_at is not None:
                raise ValueError(f"SIS import {batch_id} already started; script it before it starts")
            record.script = script

    def registry(self, account_id: int, now: float | None = None) -> SisRegistry:
        """The SIS data of a root account, with the imports due by ``now`` (if given) run."""
        with self._lock:
            if now is not None:
                self._advance(account_id, now)
            return self._account(account_id).registry

    def _account(self, account_id: int) -> _Account:
        if account_id not in self._accounts:
            self._accounts[account_id] = _Account(SisRegistry(book=self._terms, account_id=account_id))
        return self._accounts[account_id]

    # -- creation --------------------------------------------------------------------------------

    def create(
        self,
        *,
        account_id: int,
        user_id: int,
        now: float,
        options: dict[str, Any],
        batch: BatchOptions,
        upload: bytes,
        filename: str,
        initializing: bool = False,
        script: SisScript | None = None,
    ) -> SisBatch:
        """Create a batch; ``initializing`` ones (a 400 inside Canvas's create block) never run."""
        with self._lock:
            if script is None:
                script = self._scripts.popleft() if self._scripts else self.default_script
            record = SisBatch(
                id=next(self._ids),
                account_id=account_id,
                user_id=user_id,
                created_at=now,
                options=options,
                batch=batch,
                upload=upload,
                filename=filename,
                script=script,
                initializing=initializing,
            )
            self._account(account_id).batches.append(record)
            self._by_id[record.id] = record
            self._advance(account_id, now)
            return record

    def get(self, account_id: int, batch_id: int, now: float) -> SisBatch | None:
        """The batch, brought up to ``now``, if it belongs to the account."""
        with self._lock:
            record = self._by_id.get(batch_id)
            if record is None or record.account_id != account_id:
                return None
            self._advance(account_id, now)
            return record

    def find(self, batch_id: int) -> SisBatch | None:
        """A batch by id, whatever its account (for the control API)."""
        with self._lock:
            return self._by_id.get(batch_id)

    def batches(self, account_id: int, now: float) -> list[SisBatch]:
        """The account's batches, newest first, brought up to ``now``."""
        with self._lock:
            self._advance(account_id, now)
            return list(reversed(self._account(account_id).batches))

    def all_batches(self) -> list[SisBatch]:
        """Every batch of every account, oldest first."""
        with self._lock:
            return list(self._by_id.values())

    # -- the strand ------------------------------------------------------------------------------

    def _advance(self, account_id: int, now: float) -> None:
        account = self._account(account_id)
        for record in account.batches:
            if record.finalized or record.initializing:
                continue
            if record.aborted_at is not None and record.started_at is None:
                record.finalized = True
                continue
            if record.started_at is None:
                start = max(record.created_at + record.script.pickup, account.free_at)
                if start > now:
                    return
                self._start(account, record, start)
            end = record.ends_at
            assert end is not None
            if record.aborted_at is not None:
                account.free_at = record.aborted_at + ABORT_DELAY
                record.finalized = True
                continue
            if end > now:
                return
            self._finish(account, record, end)

    def _start(self, account: _Account, record: SisBatch, start: float) -> None:
        record.started_at = start
        script = record.script
        plan = run_import(read_upload(record.upload, record.filename), account.registry, record.batch, record.id)
        plan.messages.extend(Message(f, m) for f, m in script.warnings)
        plan.messages.extend(Message(f, m, failure=True) for f, m in script.errors)
        forced = script.outcome
        if forced == "imported":
            plan.messages.clear()
        elif forced == "imported_with_messages" and not plan.messages:
            plan.messages.append(Message(*DEFAULT_WARNING))
        elif forced == "failed_with_messages" and not any(m.failure for m in plan.messages):
            plan.messages.append(Message(*DEFAULT_FAILURE, failure=True))
        elif forced == "aborted" and plan.threshold_abort is None:
            plan.threshold_abort = next((m for _, m in script.warnings if "threshold" in m), DEFAULT_THRESHOLD)
            if not script.warnings:
                plan.messages.append(Message("", plan.threshold_abort))
        if forced in ("failed", "failed_with_messages") or (forced == "default" and script.errors):
            plan.failed = True
        if forced == "failed":
            plan.messages = [m for m in plan.messages if not m.failure]
        if script.counts:
            plan.counts.update(script.counts)
        plan.counts["error_count"] = sum(1 for m in plan.messages if m.failure)
        plan.counts["warning_count"] = len(plan.messages) - plan.counts["error_count"]
        record.plan = plan
        record.end_state = _end_state(plan, forced)
        if plan.messages:
            record.errors_attachment_id = next(self._attachment_ids)
        if record.end_state == "failed":
            plan.crash = script.crash_message or DEFAULT_CRASH

    def _finish(self, account: _Account, record: SisBatch, end: float) -> None:
        if record.plan is not None and record.end_state in ("imported", "imported_with_messages"):
            apply_deletions(account.registry, record.plan)
        account.free_at = max(account.free_at, end)
        record.finalized = True

    # -- abort -----------------------------------------------------------------------------------

    def abort(self, account_id: int, batch_id: int, now: float) -> SisBatch | None:
        """Abort a batch that has not completed; ``None`` (a 404) for a finished or unknown one."""
        with self._lock:
            record = self.get(account_id, batch_id, now)
            if record is None:
                return None
            state, progress, _ = record.step(now)
            if state not in PENDING:
                return None
            record.aborted_at, record.aborted_state, record.aborted_progress = now, state, progress
            record.initializing = False
            self._advance(account_id, now)
            return record

    def abort_all_pending(self, account_id: int, now: float) -> int:
        """``abort_all_pending_for_account``: initializing and created batches end ``aborted`` at 100."""
        with self._lock:
            self._advance(account_id, now)
            count = 0
            for record in self._account(account_id).batches:
                state, _, _ = record.step(now)
                if state in ("initializing", "created"):
                    record.aborted_at, record.aborted_state, record.aborted_progress = now, state, 100
                    record.initializing = False
                    count += 1
            self._advance(account_id, now)
            return count


def _end_state(plan: ImportPlan, forced: str) -> str:
    if forced == "never":
        return "importing"
    if plan.failed:
        return "failed_with_messages" if any(m.failure for m in plan.messages) else "failed"
    if plan.threshold_abort is not None:
        return "aborted"
    return "imported_with_messages" if plan.messages else "imported"
