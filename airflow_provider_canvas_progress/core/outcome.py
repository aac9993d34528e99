"""How a Canvas job ended, as a DAG sees it: completed, failed or cancelled.

Canvas's cancel endpoint does not use its own ``canceled`` state: it marks the Progress ``failed``
and stores the caller's message (``docs/canvas-behaviour.md``, "Cancel semantics"). The message is
the only way to tell a cancel from a real failure, so the cancel messages that the operator writes
and the sensor recognises are defined together here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

import pendulum

from airflow_provider_canvas_progress.core.arguments import outcomes
from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.core.progress import Progress, WorkflowState, shown

#: Every cancel message this provider writes starts with this, and the sensor recognises it by default.
CANCEL_MESSAGE_PREFIX = "Cancelled by Airflow"


class Outcome(str, Enum):
    """How a job ended, or ``PENDING`` while it has not."""

    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    #: Not an ending of the job but of the wait: it was still pending and had stopped changing for
    #: ``stalled_after`` (see :mod:`~airflow_provider_canvas_progress.core.stall`).
    STALLED = "stalled"
    PENDING = "pending"

    @classmethod
    def parse_many(cls, values: Iterable[str] | str, *, what: str = "fail_on") -> frozenset[Outcome]:
        """Validate a user's list of outcomes (e.g. ``fail_on``); ``pending`` is not an ending."""
        endings = (o for o in cls if o is not cls.PENDING)
        return outcomes(values, endings, what=what, example="['failed', 'cancelled']", ending="the job's outcome")


def cancel_message(dag_id: str, task_id: str, run_id: str, reason: str | None = None) -> str:
    """The message written on cancel: says who cancelled, and starts with :data:`CANCEL_MESSAGE_PREFIX`."""
    text = f"{CANCEL_MESSAGE_PREFIX} (dag {dag_id}, task {task_id}, run {run_id})"
    return f"{text}: {reason}" if reason else text


@dataclass(frozen=True)
class CancelMatcher:
    """Recognises cancel messages: a message matches an entry it equals or starts with.

    Prefix matching is what lets one default entry (:data:`CANCEL_MESSAGE_PREFIX`) recognise every
    message the cancel operator writes, whatever DAG, task and run it names.
    """

    messages: tuple[str, ...] = (CANCEL_MESSAGE_PREFIX,)

    @classmethod
    def of(cls, messages: Iterable[str] | str | None) -> CancelMatcher:
        if messages is None:
            return cls()
        items = (messages,) if isinstance(messages, str) else tuple(messages)
        bad = [m for m in items if not isinstance(m, str) or not m.strip()]
        if bad:
            raise CanvasConfigurationError(
                f"cancel_messages contains {shown(bad)}; each entry must be a non-empty string that a "
                "cancel message equals or starts with."
            )
        return cls(tuple(m.strip() for m in items))

    def matches(self, message: str | None) -> bool:
        if not message:
            return False
        text = message.strip()
        return any(text == m or text.startswith(m) for m in self.messages)


def outcome_of(progress: Progress, matcher: CancelMatcher) -> Outcome:
    """Read a Progress's outcome. Unknown states never get here: parsing already failed closed."""
    state = progress.workflow_state
    if state.is_pending:
        return Outcome.PENDING
    if state is WorkflowState.COMPLETED:
        return Outcome.COMPLETED
    if state is WorkflowState.CANCELED:
        return Outcome.CANCELLED
    return Outcome.CANCELLED if matcher.matches(progress.message) else Outcome.FAILED


def seconds_left(progress: Progress, now: pendulum.DateTime | None = None) -> float | None:
    """Estimate the seconds until a running job ends, from its completion rate so far.

    Stateless on purpose: it uses Canvas's own ``created_at``/``updated_at``, so it works in
    reschedule mode, where each poke is a fresh process with no memory of the previous one.
    Returns None when there is nothing to estimate from.
    """
    completion = progress.completion
    if not progress.is_pending or not completion or completion >= 100 or progress.created_at is None:
        return None
    seen_at = progress.updated_at or now or pendulum.now("UTC")
    elapsed = (seen_at - progress.created_at).total_seconds()
    if elapsed <= 0:
        return None
    rate = completion / elapsed
    return (100.0 - completion) / rate


def poll_line(progress: Progress, now: pendulum.DateTime | None = None) -> str:
    """The one log line per poll: state, completion and, while running, the time left."""
    line = progress.describe()
    left = seconds_left(progress, now)
    if left is not None:
        line += f"; about {_humanise(left)} left at the current rate"
    return line


def _humanise(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
