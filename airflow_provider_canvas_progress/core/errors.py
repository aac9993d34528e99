"""The exceptions this provider raises, one class per thing that can go wrong with Canvas.

Why a hierarchy rather than one exception with a status code: callers (the retry policy, the
sensor, users' ``on_failure_callback``\\s) decide what to do by *kind* — retry a throttle, stop on
a revoked token, branch on a cancelled job — and ``except CanvasThrottledError`` reads better at
3 a.m. than ``if e.status in (403, 429) and "Rate Limit" in e.body``.

Every message says what happened, to which call or Progress, and what to do next. None of them
ever carries the access token: they are built from the method, the path and Canvas's own error
text, never from request headers.
"""

from __future__ import annotations


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


class CanvasResponseTooLargeError(CanvasResponseError):
    """An answer (or its decompressed body) passed the connection's ``max_response_bytes`` limit.

    Progress objects and error answers are a few KB; a body past the limit is a misconfigured proxy
    or a hostile server, and reading on would only cost memory. Not retried: the same endpoint would
    answer the same way. Raise the ``max_response_bytes`` extra if a legitimate answer is that large.
    """
