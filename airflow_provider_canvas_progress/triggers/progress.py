"""CanvasProgressTrigger: poll a Canvas Progress from the triggerer until it ends.

A deferred sensor holds no worker slot; this trigger does the waiting, in the triggerer's event
loop, alongside hundreds of others. It therefore never blocks (connections are read with
``aget_connection``), and borrows one aiohttp session, an in-flight cap and a rate pacer shared by
every Canvas trigger on the same token in the process (see
:class:`~airflow_provider_canvas_progress.hooks.canvas.CanvasHook`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow_provider_canvas_progress.compat import BaseTrigger, TriggerEvent
from airflow_provider_canvas_progress.core.errors import CanvasError
from airflow_provider_canvas_progress.core.events import WaitEvent, WaitStatus
from airflow_provider_canvas_progress.core.outcome import CANCEL_MESSAGE_PREFIX, poll_line
from airflow_provider_canvas_progress.core.progress import Progress
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook

#: How long ``on_kill`` may spend cancelling the Canvas job before giving up.
KILL_CANCEL_TIMEOUT = 30.0


class CanvasProgressTrigger(BaseTrigger):  # type: ignore[misc]
    """Fire one event when a Canvas Progress ends, its deadline passes, or reading it fails for good.

    :param progress_id: the Progress (id, global id or Progress URL on the connection's host).
    :param canvas_conn_id: the Airflow ``canvas`` connection.
    :param poll_interval: seconds between polls.
    :param deadline: absolute Unix time after which the wait times out, or None for no deadline.
        Absolute on purpose: when the triggerer restarts, the trigger is rebuilt from these kwargs,
        and a relative timeout would start again from zero.
    :param started_at: Unix time the wait began (for the timeout message).
    :param cancel_messages: carried for the task's reading of the outcome; not used here.
    :param lti_course_id: read through the LTI progress endpoint of this course.
    :param max_consecutive_failures: transient read failures in a row (each already retried by
        the hook) tolerated before giving up; a Canvas bad night should not fail a nightly DAG.
    :param cancel_on_kill: cancel the Canvas job when a user kills the task (Airflow >= 3.3 calls
        ``on_kill`` on triggers).
    :param kill_message: the message written on that cancel.
    :param exponential_backoff: double the interval after each pending poll (as sensors do).
    :param max_wait: cap on the interval when backing off, in seconds.
    """

    template_fields = ("progress_id", "cancel_messages", "lti_course_id")

    def __init__(
        self,
        *,
        progress_id: str,
        canvas_conn_id: str = CanvasHook.default_conn_name,
        poll_interval: float = 60.0,
        deadline: float | None = None,
        started_at: float | None = None,
        cancel_messages: list[str] | None = None,
        lti_course_id: str | None = None,
        max_consecutive_failures: int = 5,
        cancel_on_kill: bool = False,
        kill_message: str | None = None,
        exponential_backoff: bool = False,
        max_wait: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.progress_id = str(progress_id)
        self.canvas_conn_id = canvas_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = deadline
        self.started_at = started_at if started_at is not None else time.time()
        self.cancel_messages = list(cancel_messages or [])
        self.lti_course_id = lti_course_id
        self.max_consecutive_failures = int(max_consecutive_failures)
        self.cancel_on_kill = cancel_on_kill
        self.kill_message = kill_message
        self.exponential_backoff = exponential_backoff
        self.max_wait = max_wait

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Primitives only: the kwargs are stored in the database and rebuilt in any triggerer."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "progress_id": self.progress_id,
                "canvas_conn_id": self.canvas_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "started_at": self.started_at,
                "cancel_messages": list(self.cancel_messages),
                "lti_course_id": self.lti_course_id,
                "max_consecutive_failures": self.max_consecutive_failures,
                "cancel_on_kill": self.cancel_on_kill,
                "kill_message": self.kill_message,
                "exponential_backoff": self.exponential_backoff,
                "max_wait": self.max_wait,
            },
        )

    def _event(self, status: WaitStatus, progress: Progress | None, message: str = "") -> TriggerEvent:
        event = WaitEvent(status, self.progress_id, progress, message, elapsed=max(0.0, time.time() - self.started_at))
        return TriggerEvent(event.to_payload())  # type: ignore[no-untyped-call]

    def _error_event(self, error: CanvasError, last: Progress | None) -> TriggerEvent:
        event = WaitEvent(
            WaitStatus.ERROR,
            self.progress_id,
            last,
            str(error),
            type(error).__name__,
            elapsed=max(0.0, time.time() - self.started_at),
            retryable=error.retryable,
        )
        return TriggerEvent(event.to_payload())  # type: ignore[no-untyped-call]

    def _interval(self, polls: int) -> float:
        """Seconds before the next poll: fixed, or doubling up to ``max_wait`` (a long job polled
        less often costs its token less)."""
        if not self.exponential_backoff:
            return self.poll_interval
        interval = self.poll_interval * float(2 ** min(polls, 32))
        return min(interval, self.max_wait) if self.max_wait is not None else interval

    def _time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.time()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the Progress ends; yield exactly one event."""
        last: Progress | None = None
        failures = polls = 0
        try:
            async with CanvasHook(self.canvas_conn_id) as hook:
                while True:
                    left = self._time_left()
                    if left is not None and left <= 0:
                        yield self._event(WaitStatus.TIMEOUT, last, "deadline passed")
                        return
                    try:
                        # A poll whose retries outlast the deadline must not extend the wait.
                        read = hook.aget_progress(self.progress_id, lti_course_id=self.lti_course_id)
                        progress = await (read if left is None else asyncio.wait_for(read, left))
                    except asyncio.TimeoutError:
                        yield self._event(WaitStatus.TIMEOUT, last, "deadline passed during a poll")
                        return
                    except CanvasError as error:
                        failures += 1
                        if not error.retryable or failures >= self.max_consecutive_failures:
                            yield self._error_event(error, last)
                            return
                        self.log.warning(
                            "Reading Canvas Progress %s failed (%d in a row, giving up at %d): %s",
                            self.progress_id,
                            failures,
                            self.max_consecutive_failures,
                            error,
                        )
                    else:
                        failures = 0
                        if last is None or (last.workflow_state, last.completion) != (
                            progress.workflow_state,
                            progress.completion,
                        ):
                            # A line per change, not per poll: hundreds of waits share one log.
                            self.log.info("%s", poll_line(progress))
                        last = progress
                        if progress.is_terminal:
                            yield self._event(WaitStatus.ENDED, progress)
                            return
                    interval = self._interval(polls)
                    polls += 1
                    left = self._time_left()
                    await asyncio.sleep(interval if left is None else max(0.0, min(interval, left)))
        except CanvasError as error:
            # Raised while opening the hook (e.g. a misconfigured connection): report, do not crash.
            yield self._error_event(error, last)

    async def on_kill(self) -> None:
        """Cancel the Canvas job when a user kills the deferred task, if asked to (Airflow >= 3.3).

        Only a pending job is cancelled: Canvas's cancel would mark a finished job ``failed``.
        Errors are logged, never raised.
        """
        if not self.cancel_on_kill:
            return
        try:
            await asyncio.wait_for(self._cancel_if_pending(), KILL_CANCEL_TIMEOUT)
        except Exception as error:
            self.log.warning("Could not cancel Canvas Progress %s on kill: %s", self.progress_id, error)

    async def _cancel_if_pending(self) -> None:
        async with CanvasHook(self.canvas_conn_id) as hook:
            progress = await hook.aget_progress(self.progress_id)
            if progress.is_pending:
                # Never cancel without a message: Canvas would erase the job's, and the cancel could no
                # longer be told from a failure.
                message = self.kill_message or f"{CANCEL_MESSAGE_PREFIX}: the task was killed"
                cancelled = await hook.acancel_progress(self.progress_id, message)
                self.log.info("Cancelled on kill: %s", cancelled.describe())
            else:
                self.log.info("Not cancelling on kill: %s", progress.describe())
