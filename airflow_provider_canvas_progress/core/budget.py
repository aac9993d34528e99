"""How long an outage a wait rides out, from the settings, in one place.

Two layers decide whether to try again, and they compose:

* the hook tries each call up to ``max_attempts`` times, backing off ``retry_wait_initial``,
  doubling, capped at ``retry_wait_max``, plus up to ``retry_wait_initial`` of jitter
  (:class:`~airflow_provider_canvas_progress.core.retry.RetryPolicy`); each try may take up to
  ``timeout`` seconds before it fails;
* the trigger tolerates ``max_consecutive_failures`` polls in a row whose call failed after all its
  tries, sleeping one poll interval between them.

So a wait fails on an outage (with a retryable error, which Airflow's task retries then take over)
only once ``max_consecutive_failures x max_attempts`` requests in a row have failed. In time:

* an outage shorter than :attr:`RetryBudget.always_ridden_out` never reaches the task: even if
  every try fails at once (connection refused) and jitter is nil, the failed polls' tries and the
  intervals between them take that long;
* an outage of :attr:`RetryBudget.always_reaches_task` or more always does: it is long enough for
  the slowest case (every try runs into ``timeout``, maximum jitter, the outage starting just after
  a good poll).

Between the two, it depends on where the outage falls. A throttled answer is not an outage: its
back-off is floored at :data:`~airflow_provider_canvas_progress.core.retry.THROTTLE_MIN_WAIT`, which
only lengthens the budget. Numbers for the default settings are in ``docs/waiting.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_canvas_progress.core.arguments import clamp_failure_budget
from airflow_provider_canvas_progress.core.retry import RetryPolicy
from airflow_provider_canvas_progress.core.settings import CanvasSettings
from airflow_provider_canvas_progress.core.timing import clamp_interval

#: The trigger's default tolerance of failed polls in a row.
DEFAULT_MAX_CONSECUTIVE_FAILURES = 5


@dataclass(frozen=True)
class RetryBudget:
    """The composed retry budget of one wait.

    :param policy: the hook's tries and back-off (from the connection's settings).
    :param timeout: the longest one try may take, in seconds.
    :param max_consecutive_failures: failed polls in a row the trigger tolerates.
    :param poll_interval: seconds between polls (floored as the trigger floors it).
    """

    policy: RetryPolicy
    timeout: float
    max_consecutive_failures: int
    poll_interval: float

    @classmethod
    def of(
        cls,
        settings: CanvasSettings,
        *,
        max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE_FAILURES,
        poll_interval: float,
    ) -> RetryBudget:
        """The budget for a connection's settings and a wait's parameters."""
        return cls(
            RetryPolicy.from_settings(settings),
            settings.timeout,
            clamp_failure_budget(max_consecutive_failures),
            clamp_interval(poll_interval),
        )

    def _backoffs(self, *, jitter: bool) -> float:
        """Total back-off of one call that fails every try (tenacity's exponential, capped)."""
        initial, cap = self.policy.wait_initial, self.policy.wait_max
        waits = (min(initial * 2.0**n + (initial if jitter else 0.0), cap) for n in range(self.policy.max_attempts - 1))
        return sum(waits)

    @property
    def failed_requests_ridden_out(self) -> int:
        """Failed requests in a row a wait always survives; one more ends it."""
        return self.max_consecutive_failures * self.policy.max_attempts - 1

    @property
    def fastest_failed_poll(self) -> float:
        """Seconds one poll takes to fail when every try fails at once and jitter is nil."""
        return self._backoffs(jitter=False)

    @property
    def slowest_failed_poll(self) -> float:
        """Seconds one poll takes to fail when every try runs into the timeout, with full jitter."""
        return self.policy.max_attempts * self.timeout + self._backoffs(jitter=True)

    @property
    def always_ridden_out(self) -> float:
        """Outages shorter than this never reach the task (seconds)."""
        polls = self.max_consecutive_failures
        return polls * self.fastest_failed_poll + (polls - 1) * self.poll_interval

    @property
    def always_reaches_task(self) -> float:
        """Outages this long or longer always reach the task, as a retryable failure (seconds)."""
        return self.max_consecutive_failures * (self.slowest_failed_poll + self.poll_interval)

    def describe(self) -> str:
        """One sentence for logs and docs."""
        return (
            f"{self.max_consecutive_failures} failed polls x {self.policy.max_attempts} tries: an outage under "
            f"{self.always_ridden_out:.0f} s is always ridden out, one of {self.always_reaches_task:.0f} s or more "
            f"always reaches the task ({self.failed_requests_ridden_out} failed requests in a row are survived)."
        )
