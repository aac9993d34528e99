"""Account report records, and how a report moves through its states on the simulator clock.

A report is ``created`` until its job starts, then ``running`` (``progress`` rising as lines are
written), then, for a parallel report, ``compiling`` while the last runner stitches the rows
together, and finally ``complete`` (file attached) or ``error`` (``progress`` 100, the reason only
in ``parameters.extra_text``: ``AccountReports.finalize_report``).

Aborting (only while ``running``: ``AccountReportsController#abort`` finds ``type_scope.running``)
flips the status to ``aborted`` at once, but what happens next depends on the report: parallel
runners check the state and stop, so the report stays where it was; a single-job report's writer
only checks for ``deleted`` (``ReportHelper::ExtendedCSV``) and runs to its end, after which
``finalize_report`` keeps ``aborted``, writes "Report has been aborted" to ``extra_text``, sets
``progress`` 100 and still attaches the file.

Records keep clock readings and the script, never rendered JSON: :mod:`.reports` renders.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .reports_csv import ReportFile

__all__ = [
    "ABORTED_TEXT",
    "FAILED_TEXT",
    "Phase",
    "ReportRecord",
    "ReportScript",
    "ReportsStore",
]

ReportOutcome = Literal["complete", "error"]

#: ``AccountReports.failed_report`` without an error report.
FAILED_TEXT = "Failed, the report failed to generate a file. Please try again."
#: ``AccountReports.finalize_report`` on an aborted report.
ABORTED_TEXT = "Report has been aborted"

_OUTCOMES = ("complete", "error")


@dataclass(frozen=True)
class ReportScript:
    """How a started report advances, on the simulator clock.

    :param created_for: seconds in ``created`` (waiting for a job on the ``account_reports`` strand).
    :param running_for: seconds ``running``, ``progress`` rising in ``running_steps`` steps.
    :param compiling_for: seconds ``compiling`` after the runners finish (parallel reports only).
    :param outcome: ``complete``, ``error``, or ``None`` for a report that never ends.
    :param extra_text: for ``error``, the reason Canvas writes (default: "Failed, the report failed
        to generate a file. Please try again.").
    :param keep_progress: for ``error``, end the way ``mark_as_errored`` and failed parallel runners
        do: ``progress`` stays where it was and ``extra_text`` is not written.
    :param lines: ``current_line`` once all rows are written.
    """

    created_for: float = 0.5
    running_for: float = 2.0
    compiling_for: float = 0.5
    outcome: ReportOutcome | None = "complete"
    extra_text: str | None = None
    keep_progress: bool = False
    lines: int = 120
    running_steps: int = 4

    def __post_init__(self) -> None:
        if self.outcome is not None and self.outcome not in _OUTCOMES:
            raise ValueError(f"outcome must be one of {_OUTCOMES} or None, got {self.outcome!r}")
        if min(self.created_for, self.running_for, self.compiling_for) < 0:
            raise ValueError("script durations cannot be negative")
        if self.running_steps < 1 or self.lines < 0:
            raise ValueError("running_steps must be at least 1 and lines not negative")

    @classmethod
    def failing(cls, extra_text: str | None = None, **kwargs: Any) -> ReportScript:
        """A report that ends ``error`` with ``extra_text`` (Canvas's default text if ``None``)."""
        return cls(outcome="error", extra_text=extra_text, **kwargs)

    @classmethod
    def never_ending(cls, **kwargs: Any) -> ReportScript:
        """A report that keeps running (until aborted or deleted)."""
        return cls(outcome=None, **kwargs)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportScript:
        """Build a script from JSON (the control API); keys are this class's field names."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown report script fields: {sorted(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class Phase:
    """Where a report is at one moment, before anything is rendered."""

    status: str
    progress: int
    current_line: int | None
    started_at: float | None
    ended_at: float | None
    finished: bool = False
    extra_text: str | None = None


@dataclass
class ReportRecord:
    """One report: who started it, with which parameters, how it moves, and what it ended with."""

    id: int
    account_id: int
    report: str
    user_id: int
    parameters: dict[str, Any]
    created_at: float
    script: ReportScript
    parallel: bool
    aborted_at: float | None = None
    deleted_at: float | None = None
    pinned: Phase | None = None
    file: ReportFile | None = None
    attachment_id: int | None = None
    verifier: str = field(default_factory=lambda: secrets.token_hex(20))
    final_text: str | None = None
    finalized: bool = False

    def _running(self, elapsed: float) -> tuple[int, int]:
        s = self.script
        share = min(max(elapsed - s.created_for, 0.0) / s.running_for, 1.0) if s.running_for > 0 else 1.0
        step = min(int(share * s.running_steps), s.running_steps)
        if s.outcome is None:
            step = min(step, s.running_steps - 1)
        progress = int(100 * step / s.running_steps)
        # Parallel runners cap progress at 99 and leave 100 to the compile (update_parallel_progress).
        progress = min(progress, 99) if self.parallel or step < s.running_steps else progress
        return progress, int(s.lines * step / s.running_steps)

    def phase_at(self, now: float) -> Phase:
        """The report's phase at clock reading ``now``, as its job sees it (deletion aside).

        A pinned phase (control API) wins over the script.
        """
        if self.pinned is not None:
            return self.pinned
        s = self.script
        elapsed = now - self.created_at
        start = self.created_at + s.created_for
        run_end = start + s.running_for
        end = run_end + (s.compiling_for if self.parallel else 0.0)
        if elapsed < s.created_for:
            return Phase("created", 0, None, None, None)
        if self.aborted_at is not None and now >= self.aborted_at:
            return self._aborted(now, start, run_end)
        if s.outcome is None or now < run_end:
            progress, line = self._running(elapsed)
            return Phase("running", progress, line, start, None)
        if now < end:
            return Phase("compiling", 99, s.lines, start, None)
        if s.outcome == "error" and s.keep_progress:
            last = int(100 * (s.running_steps - 1) / s.running_steps)
            return Phase("error", last, None, start, end, True)
        text = (s.extra_text or FAILED_TEXT) if s.outcome == "error" else None
        return Phase(s.outcome, 100, s.lines, start, end, True, text)

    def _aborted(self, now: float, start: float, run_end: float) -> Phase:
        assert self.aborted_at is not None
        if self.parallel or self.script.outcome is None or now < run_end:
            moment = min(now, self.aborted_at) if self.parallel else now
            progress, line = self._running(moment - self.created_at)
            return Phase("aborted", progress, line, start, None)
        return Phase("aborted", 100, self.script.lines, start, run_end, True, ABORTED_TEXT)


class ReportsStore:
    """Every report of one simulator, and the scripts queued for the next ones.

    Shared by the test thread and the server thread, so every method takes the lock.

    :param default_script: the script of reports nobody queued one for.
    """

    def __init__(self, default_script: ReportScript | None = None) -> None:
        self._lock = threading.RLock()
        self._records: dict[int, ReportRecord] = {}
        self._ids = itertools.count(1)
        # Apart from the SIS errors files' ids (9001...): both are served by /files/:id/download.
        self._attachment_ids = itertools.count(70001)
        self._general: deque[ReportScript] = deque()
        self._by_report: dict[str, deque[ReportScript]] = {}
        self.default_script = default_script if default_script is not None else ReportScript()

    def script_next(self, script: ReportScript, *, report: str | None = None) -> None:
        """Queue ``script`` for the next report started (of type ``report``, if given); FIFO."""
        with self._lock:
            if report is None:
                self._general.append(script)
            else:
                self._by_report.setdefault(report, deque()).append(script)

    def create(
        self, *, account_id: int, report: str, user_id: int, parameters: dict[str, Any], parallel: bool, now: float
    ) -> ReportRecord:
        """Start a report at clock reading ``now`` with the next queued script."""
        with self._lock:
            queued = self._by_report.get(report)
            script = queued.popleft() if queued else self._general.popleft() if self._general else self.default_script
            record = ReportRecord(
                id=next(self._ids),
                account_id=account_id,
                report=report,
                user_id=user_id,
                parameters=parameters,
                created_at=now,
                script=script,
                parallel=parallel,
            )
            self._records[record.id] = record
            return record

    def get(self, report_id: int) -> ReportRecord | None:
        """The record, deleted or not, or ``None``."""
        with self._lock:
            return self._records.get(report_id)

    def __iter__(self) -> Iterator[ReportRecord]:
        with self._lock:
            return iter(list(self._records.values()))

    def settle(
        self, record: ReportRecord, now: float, build: Callable[[ReportRecord], tuple[ReportFile | None, str]]
    ) -> Phase:
        """The phase at ``now`` as served, building the report's file the first time it is found finished.

        The file is built once, from the simulator's data at that moment (a real report reads the
        database when it runs, not when it is created). A report that should have produced a file
        but has none (provisioning with no object flag) ends ``error``, as ``finalize_report`` does.
        A deleted report reads ``deleted`` whatever its job did.
        """
        with self._lock:
            phase = record.phase_at(now)
            if phase.finished and not record.finalized:
                record.finalized = True
                if phase.status in ("complete", "aborted"):
                    record.file, record.final_text = build(record)
                    if record.file is not None:
                        record.attachment_id = next(self._attachment_ids)
            if phase.finished and phase.status == "complete":
                if record.file is None:
                    phase = replace(phase, status="error", extra_text=FAILED_TEXT)
                elif phase.extra_text is None:
                    phase = replace(phase, extra_text=record.final_text)
            if record.deleted_at is not None and now >= record.deleted_at:
                phase = replace(phase, status="deleted")
            return phase

    def abort(self, record: ReportRecord, now: float) -> None:
        """Mark the report aborted (the caller checked that it is running)."""
        with self._lock:
            record.aborted_at = now

    def delete(self, record: ReportRecord, now: float) -> None:
        """Soft-delete: the report reads ``deleted`` and disappears from the index and show."""
        with self._lock:
            record.deleted_at = now

    def pin(self, record: ReportRecord, now: float, **changes: Any) -> Phase:
        """Freeze the report at its current phase with fields changed (the control API).

        :raises ValueError: on a field a phase does not have.
        """
        with self._lock:
            unknown = set(changes) - {"status", "progress", "current_line", "extra_text"}
            if unknown:
                raise ValueError(f"unknown report fields: {sorted(unknown)}")
            base = record.phase_at(now)
            finished = changes.get("status", base.status) in ("complete", "error", "aborted")
            ended = base.ended_at if base.ended_at is not None else (now if finished else None)
            started = base.started_at if base.started_at is not None else (now if base.status != "created" else None)
            record.pinned = replace(base, finished=finished, ended_at=ended, started_at=started, **changes)
            return record.pinned

    def attachment(self, attachment_id: int) -> ReportRecord | None:
        """The report whose file has this attachment id, or ``None``."""
        with self._lock:
            return next((r for r in self._records.values() if r.attachment_id == attachment_id), None)
