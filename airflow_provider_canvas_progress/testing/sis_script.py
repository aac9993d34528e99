"""How a simulated SIS import moves once a job picks it up: durations, progress and outcome.

A :class:`SisScript` is pure data. ``outcome="default"`` lets the uploaded file decide (a real read
of the CSVs, see :mod:`.sis_import`); any other outcome forces it, with the messages given (or a
typical one). The script never decides *when* an import starts: the per-account strand does
(:mod:`.sis_store`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal, cast

__all__ = ["SIS_OUTCOMES", "SisOutcome", "SisScript", "SisStep"]

SisOutcome = Literal[
    "default", "imported", "imported_with_messages", "failed", "failed_with_messages", "aborted", "never"
]
SIS_OUTCOMES: tuple[str, ...] = (
    "default",
    "imported",
    "imported_with_messages",
    "failed",
    "failed_with_messages",
    "aborted",
    "never",
)

#: Typical messages for forced outcomes that were given none.
DEFAULT_WARNING = ("users.csv", "No login_id given for user u-404")
DEFAULT_FAILURE = ("sis_import.zip", "Error while importing CSV. Please contact support. (Error report 4242)")
DEFAULT_THRESHOLD = "12 enrollments would be deleted and exceeds the set threshold of 10%"
DEFAULT_CRASH = "undefined method `each' for nil:NilClass"


@dataclass(frozen=True)
class SisStep:
    """One point of an import's run: seconds after it started, state and progress from then on."""

    at: float
    workflow_state: str
    progress: int


@dataclass(frozen=True)
class SisScript:
    """Durations and outcome of one import, from the moment a job picks it up.

    :param pickup: seconds an import stays ``created`` before a job takes it, even on an idle strand.
    :param importing_for: seconds in ``importing``; progress rises in ``importing_steps`` steps.
    :param cleanup_for: seconds in ``cleanup_batch`` (batch mode only); progress restarts from 0 there,
        as ``remove_previous_imports`` recomputes it from deletions.
    :param outcome: ``default`` (the file decides) or a forced end state; ``never`` keeps importing.
    :param warnings: extra ``(file, message)`` warnings (``failure: false``).
    :param errors: extra ``(file, message)`` failures (``failure: true``).
    :param counts: values merged into ``data.counts``.
    :param errors_file_delay: seconds after the end before ``errors_attachment`` appears (a later
        job writes it in production).
    :param crash_message: for ``failed``: ``data.error_message`` of the crash.
    """

    pickup: float = 0.5
    importing_for: float = 2.0
    importing_steps: int = 3
    cleanup_for: float = 1.0
    outcome: SisOutcome = "default"
    warnings: tuple[tuple[str, str], ...] = ()
    errors: tuple[tuple[str, str], ...] = ()
    counts: Mapping[str, int] | None = None
    errors_file_delay: float = 0.0
    crash_message: str | None = None

    def __post_init__(self) -> None:
        if self.outcome not in SIS_OUTCOMES:
            raise ValueError(f"outcome must be one of {SIS_OUTCOMES}, got {self.outcome!r}")
        if min(self.pickup, self.importing_for, self.cleanup_for, self.errors_file_delay) < 0:
            raise ValueError("SIS script durations cannot be negative")
        if self.importing_steps < 1:
            raise ValueError("importing_steps must be at least 1")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SisScript:
        """Build a script from JSON (the control API): keys are this class's field names.

        :raises ValueError: on unknown keys or bad values.
        """
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown SIS script fields: {sorted(unknown)}")
        values = dict(data)
        for key in ("warnings", "errors"):
            if key in values:
                values[key] = tuple(_pair(item) for item in cast(Sequence[Any], values[key]))
        return cls(**values)

    def timeline(self, *, cleanup: bool, end_state: str) -> tuple[SisStep, ...]:
        """The steps after the start: importing, ``cleanup_batch`` when asked, then ``end_state``."""
        steps = [
            SisStep(self.importing_for * k / self.importing_steps, "importing", 100 * k // self.importing_steps)
            for k in range(self.importing_steps)
        ]
        if self.outcome == "never":
            return tuple(steps)
        end = self.importing_for
        if cleanup:
            steps += [SisStep(end, "cleanup_batch", 0), SisStep(end + self.cleanup_for / 2, "cleanup_batch", 50)]
            end += self.cleanup_for
        progress = steps[-1].progress if end_state in ("failed", "failed_with_messages") else 100
        steps.append(SisStep(end, end_state, progress))
        return tuple(steps)

    def duration(self, *, cleanup: bool) -> float:
        """Seconds from start to end (``inf`` for ``never``)."""
        if self.outcome == "never":
            return math.inf
        return self.importing_for + (self.cleanup_for if cleanup else 0.0)


def _pair(item: Any) -> tuple[str, str]:
    if isinstance(item, str):
        return ("", item)
    file, message = item
    return (str(file), str(message))
