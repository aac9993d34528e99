"""The Progress kind: Canvas's generic job tracker, read at ``/api/v1/progress/:id``.

Pending: ``queued``, ``running``; terminal: ``completed``, ``failed``, ``canceled`` (unknown
states fail closed when parsed). Stopped with ``POST /api/v1/progress/:id/cancel``, which marks the
Progress ``failed`` with the caller's message (see ``docs/canvas-behaviour.md``), so the outcome
of a ``failed`` Progress depends on its message: a cancel message reads as ``cancelled``.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_canvas_progress.core.ids import ProgressRef
from airflow_provider_canvas_progress.core.kinds import JobClient, JobKind
from airflow_provider_canvas_progress.core.outcome import CancelMatcher, Outcome, outcome_of, poll_line
from airflow_provider_canvas_progress.core.progress import Progress, parse_progress
from airflow_provider_canvas_progress.core.stall import Observation, StallRules


class ProgressKind(JobKind[ProgressRef, Progress]):
    """A Canvas Progress as a job kind."""

    name = ProgressRef.KIND
    noun = "Canvas Progress"
    label = "Progress"
    # Canvas saves a Progress on every change of state and completion (app/models/progress.rb,
    # update_completion! and the state transitions), so its updated_at dates the last change.
    stall_rules = StallRules(updated_at_marks_every_change=True)

    def parse_ref(self, text: str) -> ProgressRef:
        return ProgressRef.parse(text)

    def job_id(self, job: Progress) -> str:
        return job.id

    def is_pending(self, job: Progress) -> bool:
        return job.is_pending

    def outcome(self, job: Progress, matcher: CancelMatcher) -> Outcome:
        return outcome_of(job, matcher)

    def fingerprint(self, job: Progress) -> tuple[object, ...]:
        return (job.workflow_state, job.completion)

    def observation(self, job: Progress) -> Observation:
        stamp = job.updated_at.timestamp() if job.updated_at is not None else None
        return Observation(job.workflow_state.value, job.completion, stamp)

    def poll_line(self, job: Progress) -> str:
        return poll_line(job)

    def describe(self, job: Progress) -> str:
        return job.describe()

    def to_dict(self, job: Progress) -> dict[str, Any]:
        return job.to_dict()

    def from_dict(self, payload: object, *, source: str) -> Progress:
        return parse_progress(payload, source=source)

    def read(self, client: JobClient, ref: ProgressRef) -> Progress:
        progress: Progress = client.get_progress(ref)
        return progress

    async def aread(self, client: JobClient, ref: ProgressRef) -> Progress:
        progress: Progress = await client.aget_progress(ref)
        return progress

    def stop(self, client: JobClient, ref: ProgressRef, message: str) -> Progress:
        # Never without a message: Canvas would erase the job's, and the cancel could no longer be
        # told from a failure. An LTI reference is cancelled through /api/v1 (LTI cannot cancel).
        progress: Progress = client.cancel_progress(_api_ref(ref), message)
        return progress

    async def astop(self, client: JobClient, ref: ProgressRef, message: str) -> Progress:
        progress: Progress = await client.acancel_progress(_api_ref(ref), message)
        return progress

    def api_path(self, ref: ProgressRef) -> str:
        return ref.api_path


def _api_ref(ref: object) -> object:
    """The reference to cancel through: an LTI reference goes through /api/v1 (LTI cannot cancel)."""
    return ProgressRef(ref.id) if isinstance(ref, ProgressRef) else ref


#: The instance :func:`~airflow_provider_canvas_progress.core.kinds.kind_named` returns.
KIND = ProgressKind()
