"""The states of a Canvas SIS import (``SisBatch``) and the outcomes a DAG branches on.

Canvas's states (``app/models/sis_batch.rb``): ``initializing`` (a create Canvas refused mid-way
leaves one, and it never runs), ``created`` (waiting for the account's serial job), ``importing``,
``cleanup_batch`` (batch mode deleting what the import left out), then ``imported``,
``imported_with_messages``, ``failed``, ``failed_with_messages`` or ``aborted``; after
``restore_states``, ``restoring`` then ``restored`` or ``partially_restored``. Anything else fails
closed: it is never read as success.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from airflow_provider_canvas_progress.core.arguments import outcomes
from airflow_provider_canvas_progress.core.progress import parse_state

__all__ = ["OUTCOMES", "SisImportState", "SisOutcome"]


class SisImportState(str, Enum):
    """A SisImport's ``workflow_state``, knowing which states are still pending."""

    INITIALIZING = "initializing"
    CREATED = "created"
    IMPORTING = "importing"
    CLEANUP_BATCH = "cleanup_batch"
    IMPORTED = "imported"
    IMPORTED_WITH_MESSAGES = "imported_with_messages"
    FAILED = "failed"
    FAILED_WITH_MESSAGES = "failed_with_messages"
    ABORTED = "aborted"
    RESTORING = "restoring"
    PARTIALLY_RESTORED = "partially_restored"
    RESTORED = "restored"

    @property
    def is_pending(self) -> bool:
        """True while Canvas may still move the import (``abort`` finds only these, plus restoring)."""
        return self in _PENDING

    @property
    def is_running(self) -> bool:
        """True while a job works on it (the strand is busy)."""
        return self in (SisImportState.IMPORTING, SisImportState.CLEANUP_BATCH)

    @classmethod
    def parse(cls, value: object, *, import_id: str | None = None) -> SisImportState:
        """Read a state, raising :class:`CanvasUnknownStateError` for anything unknown."""
        return parse_state(
            cls,
            value,
            subject=f"SIS import {import_id}" if import_id else "An SIS import",
            field="workflow_state",
            check="Check the import in Canvas (Admin > SIS Import)",
        )


_PENDING = frozenset(
    {
        SisImportState.INITIALIZING,
        SisImportState.CREATED,
        SisImportState.IMPORTING,
        SisImportState.CLEANUP_BATCH,
        SisImportState.RESTORING,
    }
)


class SisOutcome(str, Enum):
    """How an import ended, as a DAG branches on it; ``PENDING`` while it has not."""

    IMPORTED = "imported"
    IMPORTED_WITH_MESSAGES = "imported_with_messages"
    FAILED = "failed"
    ABORTED = "aborted"
    RESTORED = "restored"
    #: Not an ending of the import but of the wait: still pending, unchanged for ``stalled_after``
    #: (see :mod:`~airflow_provider_canvas_progress.core.stall`). No state maps to it.
    STALLED = "stalled"
    PENDING = "pending"

    @classmethod
    def parse_many(cls, values: Iterable[str] | str, *, what: str = "fail_on") -> frozenset[SisOutcome]:
        """Validate a user's list of outcomes (e.g. ``fail_on``); ``pending`` is not an ending.

        :raises CanvasConfigurationError: for an unknown outcome.
        """
        endings = (o for o in cls if o is not cls.PENDING)
        return outcomes(values, endings, what=what, example="['failed', 'aborted']", ending="how the import ended")


OUTCOMES = {
    SisImportState.IMPORTED: SisOutcome.IMPORTED,
    SisImportState.IMPORTED_WITH_MESSAGES: SisOutcome.IMPORTED_WITH_MESSAGES,
    SisImportState.FAILED: SisOutcome.FAILED,
    SisImportState.FAILED_WITH_MESSAGES: SisOutcome.FAILED,
    SisImportState.ABORTED: SisOutcome.ABORTED,
    SisImportState.RESTORED: SisOutcome.RESTORED,
    SisImportState.PARTIALLY_RESTORED: SisOutcome.RESTORED,
}
