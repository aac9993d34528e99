"""The payload a progress trigger sends back to its task, versioned and validated.

The event crosses a process boundary (triggerer → database → worker) and may be read by a newer
or older provider version than the one that wrote it, after an upgrade mid-wait. So it carries a
version, only JSON primitives, and is validated before use: a malformed event fails the task with
a message that says so, instead of a ``KeyError`` deep in ``execute_complete``.

The event serves every job kind (:mod:`~airflow_provider_canvas_progress.core.kinds`): ``ref`` is
the job's reference in string form (its prefix names the kind), ``progress_id`` the job's id and
``progress`` the job as the kind writes it. The field names are those of version 1, when Progress
was the only kind, so events written before kinds existed are read unchanged (no ``ref``: a
Progress).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from airflow_provider_canvas_progress.core.kinds import JobKind, parse_job_ref
from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.exceptions import CanvasError, CanvasResponseError, TriggerEventError

EVENT_VERSION = 1


class WaitStatus(str, Enum):
    """Why the trigger stopped waiting."""

    #: The Progress reached a terminal state; ``progress`` holds it.
    ENDED = "ended"
    #: The wall-clock deadline passed first; ``progress`` holds the last one seen, if any.
    TIMEOUT = "timeout"
    #: The job was still pending but had not changed for ``stalled_after``; ``progress`` holds it and
    #: ``message`` says how long it was still (see :mod:`~airflow_provider_canvas_progress.core.stall`).
    STALLED = "stalled"
    #: Reading the Progress failed for good (or too many times in a row); ``message`` says why.
    ERROR = "error"


__all__ = ["EVENT_VERSION", "TriggerEventError", "WaitEvent", "WaitStatus"]


@dataclass(frozen=True)
class WaitEvent:
    """What the trigger reports: status, the last job state seen, and an explanation.

    ``progress`` is the job as its kind models it (a :class:`~.progress.Progress` for the Progress
    kind); ``ref`` is the reference's string form, None in events of older versions (a Progress).
    """

    status: WaitStatus
    progress_id: str
    progress: Any = None
    message: str = ""
    error_type: str | None = None
    #: Seconds the trigger waited in all, for the timeout message.
    elapsed: float = 0.0
    #: For ERROR: whether the failure was transient (so the task may be retried by Airflow).
    retryable: bool = False
    ref: str | None = None

    @property
    def kind(self) -> JobKind[Any, Any]:
        """The job's kind, from the reference (a Progress when there is none)."""
        return parse_job_ref(self.ref)[0] if self.ref else parse_job_ref("progress:1")[0]

    def to_payload(self) -> dict[str, Any]:
        return {
            "version": EVENT_VERSION,
            "status": self.status.value,
            "progress_id": self.progress_id,
            "ref": self.ref,
            "progress": self.kind.to_dict(self.progress) if self.progress is not None else None,
            "message": self.message,
            "error_type": self.error_type,
            "elapsed": self.elapsed,
            "retryable": self.retryable,
        }

    @classmethod
    def from_payload(cls, payload: object) -> WaitEvent:
        """Validate an event payload.

        :raises TriggerEventError: naming what is wrong with it.
        """
        if not isinstance(payload, Mapping):
            raise TriggerEventError(f"The Canvas trigger sent {type(payload).__name__}, not an event dict.")
        version = payload.get("version")
        if version != EVENT_VERSION:
            raise TriggerEventError(
                f"The Canvas trigger sent an event of version {shown(version)}; this provider reads version "
                f"{EVENT_VERSION}. Were the triggerer and the workers upgraded to different provider versions?"
            )
        try:
            status = WaitStatus(payload.get("status"))
        except ValueError:
            raise TriggerEventError(
                f"The Canvas trigger sent an unknown status {shown(payload.get('status'))}."
            ) from None
        progress_id = payload.get("progress_id")
        message = payload.get("message", "")
        error_type = payload.get("error_type")
        if not isinstance(progress_id, str) or not progress_id:
            raise TriggerEventError(f"The Canvas trigger's event has no valid progress_id ({shown(progress_id)}).")
        if not isinstance(message, str) or not (error_type is None or isinstance(error_type, str)):
            raise TriggerEventError("The Canvas trigger's event has a non-string message or error_type.")
        elapsed = payload.get("elapsed", 0.0)
        if isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)):
            raise TriggerEventError(f"The Canvas trigger's event has a non-numeric elapsed ({shown(elapsed)}).")
        retryable = payload.get("retryable", False)
        if not isinstance(retryable, bool):
            raise TriggerEventError(f"The Canvas trigger's event has a non-boolean retryable ({shown(retryable)}).")
        ref = payload.get("ref")
        if ref is not None and not isinstance(ref, str):
            raise TriggerEventError(f"The Canvas trigger's event has a non-string ref ({shown(ref)}).")
        try:
            kind = parse_job_ref(ref)[0] if ref else parse_job_ref("progress:1")[0]
        except CanvasError as error:
            raise TriggerEventError(str(error), progress_id=progress_id) from None
        raw = payload.get("progress")
        progress = None
        if raw is not None:
            try:
                progress = kind.from_dict(raw, source="the Canvas trigger's event")
            except CanvasResponseError as error:
                raise TriggerEventError(str(error), progress_id=progress_id) from None
        if status is WaitStatus.ENDED and (progress is None or kind.is_pending(progress)):
            raise TriggerEventError(
                f"The Canvas trigger reported Progress {progress_id} ended but sent no terminal Progress."
            )
        return cls(status, progress_id, progress, message, error_type, float(elapsed), retryable, ref)
