"""Every exception this provider raises, in one tree.

Why a hierarchy rather than one exception with a status code: callers (the retry policy, the
sensor, users' ``on_failure_callback``\\s) decide what to do by *kind* -- retry a throttle, stop on
a revoked token, branch on a cancelled job -- and ``except CanvasThrottledError`` reads better at
3 a.m. than ``if e.status in (403, 429) and "Rate Limit" in e.body``.

Every message says what happened, to which call or Progress, and what to do next. None of them
ever carries the access token: they are built from the method, the path and Canvas's own error
text, never from request headers.

The tree has two halves, and importing this module costs no Airflow import:

* the Canvas errors (:class:`CanvasError` and below, the token endpoint's refusals, unreadable
  trigger events) are plain Python: the pure core (``core/``) raises them, and the core must
  import nothing from Airflow;
* the task failures (:class:`CanvasJobFailed`, :class:`CanvasJobAttemptFailed`,
  :class:`CanvasJobCancelled`, :class:`CanvasWaitTimeout`) are *also* Airflow exceptions, because
  Airflow reads its own classes to decide retry or skip (``AirflowFailException`` means no retry,
  ``AirflowSensorTimeout`` honours ``soft_fail``). They are defined here too, but built on first
  access (module ``__getattr__``, PEP 562) from the Airflow classes in
  :mod:`~airflow_provider_canvas_progress.compat`, so ``from ...exceptions import CanvasError`` in
  the core never loads Airflow while ``from ...exceptions import CanvasJobFailed`` in a DAG works
  as any import does. Each is a subclass of both its Airflow class and its Canvas class, so
  ``except CanvasProgressFailedError`` and Airflow's own handling both see it.

The old homes (``core/errors.py``, ``core/auth.py``, ``core/events.py``, ``waiting.py``) re-export
these names, so existing imports keep working.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any


class CanvasError(Exception):
    """Base class of every error this provider raises about Canvas.

    :param message: the full, human-readable explanation (what, where, what to do).
    :param method: HTTP method of the call that failed, if any.
    :param path: path of the call that failed (no host, no query string), if any.
    :param status: HTTP status Canvas answered with, if any.
    :param canvas_message: Canvas's own error text, verbatim, if it sent one.
    :param progress_id: the Progress concerned, if any.
    """

    #: Whether trying the same call again may succeed. The retry policy reads only this.
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        canvas_message: str | None = None,
        progress_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.canvas_message = canvas_message
        self.progress_id = progress_id

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments are lost by Exception's default pickling; Airflow pickles
        # exceptions across processes (e.g. the triggerer), so keep every field.
        return (
            _rebuild,
            (
                type(self),
                self.message,
                {
                    "method": self.method,
                    "path": self.path,
                    "status": self.status,
                    "canvas_message": self.canvas_message,
                    "progress_id": self.progress_id,
                },
            ),
        )


def _rebuild(cls: type[CanvasError], message: str, fields: dict[str, object]) -> CanvasError:
    error = cls.__new__(cls)
    CanvasError.__init__(error, message, **fields)  # type: ignore[arg-type]
    return error


class CanvasConfigurationError(CanvasError, ValueError):
    """The connection or a parameter is wrong; nothing was sent to Canvas. Fix the input."""


class InvalidProgressIdError(CanvasConfigurationError):
    """A value given as a Progress id is neither an id nor a Progress URL on the connection's host."""


class ForeignHostError(CanvasConfigurationError):
    """A URL points at a host other than the connection's; the token is never sent there."""


class InvalidPathSegmentError(CanvasConfigurationError):
    """A value meant for a Canvas API path is not an id Canvas accepts there; nothing was sent."""


class CanvasTransportError(CanvasError):
    """The request did not get an HTTP answer: connection refused or reset, DNS, TLS, timeout."""

    retryable = True


class CanvasConnectError(CanvasTransportError):
    """No connection could be made (refused, DNS, connect timeout): the request never reached Canvas.

    The distinction matters for calls that start jobs: only these may be retried safely, since a
    request that may have reached Canvas may also have started the job.
    """


class CanvasHTTPError(CanvasError):
    """Canvas (or a proxy in front of it) answered with an error status this provider has no
    narrower class for."""


class CanvasAuthError(CanvasHTTPError):
    """401: the token is missing, invalid, revoked, or lacks the scopes for this call."""


class CanvasTokenExpiredError(CanvasAuthError):
    """401 ``Expired access token.``: an OAuth2 token must be refreshed."""


class CanvasPermissionError(CanvasHTTPError):
    """The token is valid but its user may not do this (403, or 401 on older Canvas)."""


class CanvasNotFoundError(CanvasHTTPError):
    """404: no such Progress or resource (Canvas looks ids up before checking permissions)."""


class CanvasValidationError(CanvasHTTPError):
    """400 or 422: Canvas refused the request's parameters."""


class CanvasThrottledError(CanvasHTTPError):
    """403 ``Rate Limit Exceeded`` or 429: the token's leaky bucket is full. Retried after it drains."""

    retryable = True


class CanvasServerError(CanvasHTTPError):
    """5xx, or an HTML page from a proxy or maintenance window. Usually transient, so retried."""

    retryable = True


class CanvasResponseError(CanvasError):
    """Canvas answered 2xx but the body is not what its API documents (malformed or unexpected)."""


class CanvasUnreadableResponseError(CanvasResponseError):
    """A 2xx body that is not JSON at all (truncated transfer, a proxy's HTML page): retried."""

    retryable = True


class CanvasResponseTooLargeError(CanvasResponseError):
    """An answer (or its decompressed body) passed the connection's ``max_response_bytes`` limit.

    Progress objects and error answers are a few KB; a body past the limit is a misconfigured proxy
    or a hostile server, and reading on would only cost memory. Not retried: the same endpoint would
    answer the same way. Raise the ``max_response_bytes`` extra if a legitimate answer is that large.
    """


class CanvasUnknownStateError(CanvasResponseError):
    """A Progress reports a ``workflow_state`` this provider does not know.

    It is never read as success: an unknown state fails closed, naming the state, so that a new
    Canvas state is noticed rather than silently treated as "done".
    """


class CanvasProgressError(CanvasError):
    """A Canvas job ended without success. Raised by sensors and operators, not by the hook."""


class CanvasProgressFailedError(CanvasProgressError):
    """The Progress ended ``failed`` and its message is not a cancel message."""


class CanvasProgressCancelledError(CanvasProgressError):
    """The Progress was cancelled: Canvas's own ``canceled`` state, or ``failed`` with a cancel message."""


class CanvasProgressTimeoutError(CanvasProgressError):
    """The Progress did not end within the wait's timeout."""


class CanvasProgressStalledError(CanvasProgressError):
    """The job was still pending but had stopped changing for ``stalled_after``.

    Retryable: the job may move again, or be stopped (``cancel_on_stall``) and started afresh.
    """

    retryable = True


# -- the token endpoint (core/auth.py) ------------------------------------------------------------


class CanvasCredentialsError(CanvasAuthError):
    """Canvas's token endpoint refused the connection's developer-key credentials.

    The message names the connection field to fix (``client_id``, ``client_secret``,
    ``refresh_token``, ``private_key``, ``token_url``). Not retried: the same credentials would be
    refused again.
    """


class CanvasTokenUnavailableError(CanvasConnectError):
    """No access token could be obtained for now (token endpoint unreachable, 5xx, throttled).

    A :class:`CanvasConnectError` on purpose: the API call itself was never sent, so it is retried
    like a refused connection -- even a call that starts a job, which must otherwise never be sent
    twice.
    """


# -- trigger events (core/events.py) --------------------------------------------------------------


class TriggerEventError(CanvasError):
    """A trigger event that this provider cannot read (wrong version, missing or mistyped fields)."""


# -- task failures: Canvas errors that are also Airflow exceptions ---------------------------------

_TASK_FAILURES = (
    "CanvasJobFailed",
    "CanvasJobAttemptFailed",
    "CanvasJobCancelled",
    "CanvasWaitTimeout",
    "CanvasJobStalled",
)

if TYPE_CHECKING:
    # What type checkers see (their Canvas side); at run time the classes come from _task_failures().
    class CanvasJobFailed(CanvasProgressFailedError): ...

    class CanvasJobAttemptFailed(CanvasProgressFailedError): ...

    class CanvasJobCancelled(CanvasProgressCancelledError): ...

    class CanvasWaitTimeout(CanvasProgressTimeoutError): ...

    class CanvasJobStalled(CanvasProgressStalledError): ...


@cache
def _task_failures() -> dict[str, type[CanvasError]]:
    from airflow_provider_canvas_progress.compat import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
    )

    class CanvasJobFailed(AirflowFailException, CanvasProgressFailedError):  # type: ignore[misc]
        """The Canvas job failed. No retry: re-watching the same job cannot change how it ended."""

    class CanvasJobAttemptFailed(AirflowException, CanvasProgressFailedError):  # type: ignore[misc]
        """The Canvas job this try started failed. Retried by Airflow: the next try starts a fresh job."""

    class CanvasJobCancelled(AirflowFailException, CanvasProgressCancelledError):  # type: ignore[misc]
        """The Canvas job was cancelled (by Canvas, or by a message the task recognises as a cancel)."""

    class CanvasWaitTimeout(AirflowSensorTimeout, CanvasProgressTimeoutError):  # type: ignore[misc]
        """The Canvas job did not end in time. Fails without retry, or skips with ``soft_fail``."""

    class CanvasJobStalled(AirflowException, CanvasProgressStalledError):  # type: ignore[misc]
        """The Canvas job stopped changing for ``stalled_after``. Retried by Airflow: a job-starting task
        re-attaches to it (or, after ``cancel_on_stall``, starts a fresh one); a sensor watches again."""

    classes: dict[str, type[CanvasError]] = {
        "CanvasJobFailed": CanvasJobFailed,
        "CanvasJobAttemptFailed": CanvasJobAttemptFailed,
        "CanvasJobCancelled": CanvasJobCancelled,
        "CanvasWaitTimeout": CanvasWaitTimeout,
        "CanvasJobStalled": CanvasJobStalled,
    }
    for cls in classes.values():
        # Pickled across processes and shown in tracebacks under the public name and module.
        cls.__module__ = __name__
        cls.__qualname__ = cls.__name__
    return classes


def __getattr__(name: str) -> Any:
    if name in _TASK_FAILURES:
        return _task_failures()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
