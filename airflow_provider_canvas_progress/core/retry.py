"""When to try a Canvas call again, how long to wait, and when to slow down before Canvas throttles.

The schedule (:func:`backoff_seconds`) and the rule of what may be retried (:func:`is_retryable`)
are decided here, once; :class:`~airflow_provider_canvas_progress.core.plan.CallPlan` applies them
to every Canvas call on both paths. :meth:`RetryPolicy.tenacity_kwargs` only adapts the same two
functions for code that drives its own ``tenacity`` loop.

Canvas's throttle is a leaky bucket per token (600 units, draining 10 units a second, 50 units
charged up front for each request in flight) and it sends no ``Retry-After``. So:

* after a throttled answer the wait is at least long enough for the bucket to drain the cost of
  a few requests (:data:`THROTTLE_MIN_WAIT`), however early in the back-off we are;
* every answer's ``X-Rate-Limit-Remaining`` feeds a :class:`RatePacer`, which delays the *next*
  request on the same token while the bucket is low, so that we rarely get throttled at all.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tenacity

from airflow_provider_canvas_progress.core.errors import CanvasConnectError, CanvasError, CanvasThrottledError
from airflow_provider_canvas_progress.core.settings import CanvasSettings

#: Canvas drains a token's bucket at 10 units per second.
CANVAS_DRAIN_PER_SECOND = 10.0
#: A request costs 50 units up front; after a throttle, wait for two requests' worth to drain.
THROTTLE_MIN_WAIT = 2 * 50.0 / CANVAS_DRAIN_PER_SECOND


def is_retryable(error: BaseException, *, idempotent: bool = True) -> bool:
    """True when trying the same call again is both useful and safe.

    Useful: the error is transient (transport, 5xx, throttle, garbled body). Safe: the call is
    idempotent (a read, a cancel), or the request surely had no effect. A call that starts a job is
    only retried when it never reached Canvas (no connection) or was refused by the throttle, which
    judges a request before running it; after a timeout or a 502 the job may already have started,
    and a second request would start a second job.
    """
    if not isinstance(error, CanvasError) or not error.retryable:
        return False
    return idempotent or isinstance(error, (CanvasConnectError, CanvasThrottledError))


def backoff_seconds(
    failed_attempt: int, *, initial: float, maximum: float, throttled: bool, jitter: float | None = None
) -> float:
    """How long to wait after attempt ``failed_attempt`` (1-based) failed.

    ``initial * 2 ** (n - 1)`` plus up to ``initial`` of jitter (so that waits started together
    spread out), capped at ``maximum``; after a throttled answer at least :data:`THROTTLE_MIN_WAIT`,
    since Canvas sends no Retry-After and its bucket needs that long to drain two requests' cost.

    :param jitter: a number in [0, 1) (default: random), injectable for tests.
    """
    share = random.random() if jitter is None else jitter
    doubling = 2.0 ** min(max(failed_attempt - 1, 0), 64)  # 2**64 * any sane initial is past every cap
    wait = min(initial * doubling, maximum) + share * initial
    wait = max(0.0, min(wait, maximum))
    return max(wait, THROTTLE_MIN_WAIT) if throttled else wait


def retry_line(attempt: int, max_attempts: int, error: BaseException | None, wait: float) -> str:
    """One log line for a retry: what failed and when the next try is. Built from the error text only."""
    reason = str(error).rstrip(".")
    return f"Attempt {attempt}/{max_attempts} failed: {reason}. Trying again in {wait:.1f} s."


class _CanvasWait(tenacity.wait.wait_base):
    """:func:`backoff_seconds` for tenacity loops."""

    def __init__(self, initial: float, maximum: float) -> None:
        self._initial = initial
        self._maximum = maximum

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        return backoff_seconds(
            retry_state.attempt_number,
            initial=self._initial,
            maximum=self._maximum,
            throttled=isinstance(error, CanvasThrottledError),
        )


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try one call and how long to wait in between.

    :param max_attempts: attempts in all, the first included.
    :param wait_initial: first back-off in seconds (doubles each time, with jitter).
    :param wait_max: cap on a single back-off.
    """

    max_attempts: int
    wait_initial: float
    wait_max: float

    @classmethod
    def from_settings(cls, settings: CanvasSettings) -> RetryPolicy:
        return cls(settings.max_attempts, settings.retry_wait_initial, settings.retry_wait_max)

    def tenacity_kwargs(
        self, before_sleep: Callable[[tenacity.RetryCallState], Any] | None = None, *, idempotent: bool = True
    ) -> dict[str, Any]:
        """Keyword arguments for ``tenacity.Retrying`` / ``tenacity.AsyncRetrying`` (the hook itself runs
        :class:`~airflow_provider_canvas_progress.core.plan.CallPlan`, which applies the same schedule).

        ``reraise=True`` so callers see the last :class:`CanvasError` itself, not a RetryError.
        ``idempotent=False`` narrows retries to what cannot have had an effect (:func:`is_retryable`).
        """
        kwargs: dict[str, Any] = {
            "stop": tenacity.stop_after_attempt(self.max_attempts),
            "wait": _CanvasWait(self.wait_initial, self.wait_max),
            "retry": tenacity.retry_if_exception(lambda error: is_retryable(error, idempotent=idempotent)),
            "reraise": True,
        }
        if before_sleep is not None:
            kwargs["before_sleep"] = before_sleep
        return kwargs


def describe_retry(retry_state: tenacity.RetryCallState, max_attempts: int) -> str:
    """One log line for a retry: what failed and when the next try is. Built from the error text only."""
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
    return retry_line(retry_state.attempt_number, max_attempts, error, wait)


class RatePacer:
    """Spaces requests on one token so that Canvas's bucket never fills.

    Pure bookkeeping: callers pass the current time and sleep themselves (``time.sleep`` or
    ``asyncio.sleep``), so the same pacer serves threads and event loops. It is shared by every
    hook of one (Canvas, token) in a process; a lock keeps the bookkeeping consistent across threads.

    When ``X-Rate-Limit-Remaining`` falls below ``low_water``, the next request waits for the
    bucket to drain back to it: ``(low_water - remaining) / drain`` seconds.
    """

    def __init__(
        self,
        low_water: float,
        *,
        drain_per_second: float = CANVAS_DRAIN_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.low_water = low_water
        self.drain_per_second = drain_per_second
        self.clock = clock
        self._not_before = 0.0
        self._lock = threading.Lock()

    def delay(self) -> float:
        """Seconds to wait before the next request may go out (0 when the bucket is healthy)."""
        with self._lock:
            return max(0.0, self._not_before - self.clock())

    def observe(self, remaining: float | None) -> None:
        """Record an answer's ``X-Rate-Limit-Remaining`` (None: header absent, nothing learned)."""
        if remaining is None:
            return
        pause = max(0.0, self.low_water - remaining) / self.drain_per_second
        if pause <= 0:
            return
        with self._lock:
            self._not_before = max(self._not_before, self.clock() + pause)

    def observe_throttled(self) -> None:
        """A throttled answer means the bucket is full: hold everyone back for a drain."""
        with self._lock:
            self._not_before = max(self._not_before, self.clock() + THROTTLE_MIN_WAIT)
