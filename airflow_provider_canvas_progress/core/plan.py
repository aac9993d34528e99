"""One Canvas call as a state machine with no I/O: what to do next, given what happened so far.

A driver (requests in workers, aiohttp in the triggerer) runs a :class:`CallPlan` in a loop, in the
manner of h11: it asks :meth:`CallPlan.next_step` what to do, does it, and reports back::

    while True:
        step = plan.next_step()
        if isinstance(step, Done): return step.value
        if isinstance(step, Fail): raise step.error
        if isinstance(step, (Pause, Backoff)): sleep(step.seconds)
        plan.feed(step, perform(step))  # a token, an answer, NoAnswer or a CanvasError; None after a sleep

Every decision about a call lives here, once for both paths: pacing before a send when the token's
bucket is low, the throttle floor, the single token renewal after a 401, the rule that a
job-starting call is never sent again once it may have reached Canvas (:func:`is_retryable`), and
the capped, jittered back-off (:func:`backoff_seconds`). Nothing here sleeps or opens a socket, so
each rule is tested with plain function calls (``tests/unit/test_plan.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_provider_canvas_progress.core.auth import is_renewable
from airflow_provider_canvas_progress.core.errors import CanvasAuthError, CanvasError, CanvasThrottledError
from airflow_provider_canvas_progress.core.protocol import CanvasRequest, CanvasResponse, rate_limit_reading
from airflow_provider_canvas_progress.core.redact import Redactor
from airflow_provider_canvas_progress.core.retry import (
    RatePacer,
    RetryPolicy,
    backoff_seconds,
    is_retryable,
    retry_line,
)
from airflow_provider_canvas_progress.core.settings import DEFAULT_MAX_RESPONSE_BYTES, CanvasSettings


@dataclass(frozen=True)
class Limits:
    """What one attempt may cost: wall-clock seconds (connect, headers and body) and body bytes."""

    timeout: float
    max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    @classmethod
    def of(cls, settings: CanvasSettings) -> Limits:
        return cls(settings.timeout, settings.max_response_bytes)


# -- what the driver is told to do ---------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    """Wait ``seconds`` before sending: the token's bucket is low (``X-Rate-Limit-Remaining``)."""

    seconds: float


@dataclass(frozen=True)
class NeedToken:
    """Get the access token to send. ``refused`` is the token Canvas just refused (forget it first)."""

    refused: str | None = None
    refusal: CanvasError | None = None


@dataclass(frozen=True)
class Send:
    """Send ``call`` (with ``token`` when not None) within ``limits``; report the answer or its absence."""

    call: CanvasRequest
    token: str | None
    limits: Limits


@dataclass(frozen=True)
class Backoff:
    """Attempt failed with a retryable error: wait ``seconds``, then ask again. ``line`` is for the log."""

    seconds: float
    line: str


@dataclass(frozen=True)
class Fail:
    """Give up: raise ``error``."""

    error: CanvasError


@dataclass(frozen=True)
class Done:
    """The call succeeded; ``value`` is what its reader made of the answer."""

    value: Any


Step = Pause | NeedToken | Send | Backoff | Fail | Done


@dataclass(frozen=True)
class NoAnswer:
    """A :class:`Send` got no HTTP answer; ``connected`` when the request may have reached the server."""

    reason: str
    connected: bool


#: What a driver reports after performing a step (see :meth:`CallPlan.feed`).
Outcome = CanvasResponse | NoAnswer | CanvasError | str | None


class CallPlan:
    """The life of one call: attempts, pauses, token renewal and back-off, decided without I/O.

    :param call: the request to make.
    :param policy: attempts and back-off bounds.
    :param limits: the per-attempt deadline and body cap the driver enforces.
    :param read: turns a received answer into the call's value, raising a :class:`CanvasError`
        for an error answer (default :func:`~airflow_provider_canvas_progress.core.protocol.interpret_response`).
    :param no_answer: builds the error for an attempt that got no answer, from a reason and whether
        the request may have reached the server.
    :param pacer: the token's shared pacer; None for calls that carry no Canvas API token.
    :param authenticated: whether a token is sent; False for the token endpoint itself.
    :param renewable: whether a refused token may be renewed once (developer-key connections).
    :param refused_again: explains a second refusal right after a renewal.
    :param jitter: source of back-off jitter in [0, 1), injectable for tests.
    :param redactor: hides the connection's secrets (and the token sent) in everything made of an
        answer -- the value, errors, log lines -- since Canvas or a proxy may echo them back.
    """

    def __init__(
        self,
        call: CanvasRequest,
        *,
        policy: RetryPolicy,
        limits: Limits,
        no_answer: Callable[[str, bool], CanvasError],
        read: Callable[[CanvasResponse], Any] | None = None,
        pacer: RatePacer | None = None,
        authenticated: bool = True,
        renewable: bool = False,
        refused_again: Callable[[CanvasAuthError], CanvasError] | None = None,
        jitter: Callable[[], float] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.call = call
        self.policy = policy
        self.limits = limits
        self.attempt = 1
        #: Warnings about the answers (e.g. an out-of-range rate-limit header), for the driver to log.
        self.warnings: list[str] = []
        self._read = read
        self._no_answer = no_answer
        self._pacer = pacer
        self._authenticated = authenticated
        self._renewable = renewable
        self._refused_again = refused_again
        self._jitter = jitter
        self._redactor = redactor if redactor is not None else Redactor()
        self._token: str | None = None
        self._refused: tuple[str, CanvasError] | None = None
        self._renewed = False
        self._resending = False
        self._paced = False
        self._pending: Backoff | None = None
        self._outcome: Fail | Done | None = None

    # -- what next ---------------------------------------------------------------------------------

    def next_step(self) -> Step:
        """What the driver should do now. A :class:`Backoff` is handed out once: sleep, then ask again."""
        if self._outcome is not None:
            return self._outcome
        if self._pending is not None:
            step, self._pending = self._pending, None
            return step
        if self._authenticated and self._token is None:
            refused, refusal = self._refused if self._refused is not None else (None, None)
            return NeedToken(refused, refusal)
        if not self._paced:
            self._paced = True  # one look at the pacer per send, as Canvas's bucket refills meanwhile
            delay = self._pacer.delay() if self._pacer is not None else 0.0
            if delay > 0:
                return Pause(delay)
        return Send(self.call, self._token, self.limits)

    # -- what happened -----------------------------------------------------------------------------

    def feed(self, step: Step, outcome: Outcome) -> None:
        """Report what performing ``step`` gave: the token (for :class:`NeedToken`), the answer or
        :class:`NoAnswer` (for :class:`Send`), a :class:`CanvasError` (either), None after a sleep."""
        if isinstance(outcome, CanvasError):
            self.failed(outcome)
        elif isinstance(outcome, CanvasResponse):
            self.answered(outcome)
        elif isinstance(outcome, NoAnswer):
            self.no_answer(outcome.reason, connected=outcome.connected)
        elif isinstance(step, NeedToken) and isinstance(outcome, str):
            self.token_ready(outcome)

    def token_ready(self, token: str) -> None:
        """The driver obtained the token to send."""
        self._token = token
        self._refused = None
        self._redactor = self._redactor.with_secret(token)

    def answered(self, response: CanvasResponse) -> None:
        """The server answered the last :class:`Send`."""
        if self._pacer is not None:
            remaining, warning = rate_limit_reading(response)
            if warning is not None:
                self.warnings.append(self._redactor.text(f"{self.call.label}: {warning}"))
            self._pacer.observe(remaining)
        resending, self._resending = self._resending, False
        try:
            value = self._read(response) if self._read is not None else None
        except CanvasError as raised:
            error = self._redactor.error(raised)
            if isinstance(error, CanvasThrottledError) and self._pacer is not None:
                self._pacer.observe_throttled()
            if isinstance(error, CanvasAuthError):
                self._refused_token(error, resending=resending)
            else:
                self.failed(error)
        else:
            self._outcome = Done(self._redactor.value(value) if self._redactor else value)

    def no_answer(self, reason: str, *, connected: bool) -> None:
        """The last :class:`Send` got no answer; ``connected`` when the request may have reached the server."""
        self.failed(self._no_answer(reason, connected))

    def failed(self, error: CanvasError) -> None:
        """The attempt failed with ``error`` (an answer's error, no token, a limit passed)."""
        error = self._redactor.error(error)
        self._resending = False
        if not is_retryable(error, idempotent=self.call.idempotent) or self.attempt >= self.policy.max_attempts:
            self._outcome = Fail(error)
            return
        wait = backoff_seconds(
            self.attempt,
            initial=self.policy.wait_initial,
            maximum=self.policy.wait_max,
            throttled=isinstance(error, CanvasThrottledError),
            jitter=self._jitter() if self._jitter is not None else None,
        )
        self._pending = Backoff(wait, retry_line(self.attempt, self.policy.max_attempts, error, wait))
        self.attempt += 1
        self._token = None  # each attempt asks again: a developer-key token may be due for renewal
        self._paced = False

    def _refused_token(self, error: CanvasAuthError, *, resending: bool) -> None:
        """A 401: renew the token and resend once; a 401 is decided before the action runs, so even a
        job-starting call is safe to resend."""
        if resending and self._refused_again is not None:
            self.failed(self._refused_again(error))
        elif self._renewable and not self._renewed and self._token is not None and is_renewable(error):
            self._renewed = self._resending = True
            self._refused = (self._token, error)
            self._token = None
            self._paced = False
        else:
            self.failed(error)
