"""Building one Canvas request with no I/O: the path on the connection's host, Canvas-style parameters.

Every call the hook makes -- API calls and the token endpoint alike -- is a :class:`CanvasRequest`;
the drivers only add the token, at the last moment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.core.settings import CanvasSettings

USER_AGENT = "airflow-provider-canvas-progress"

Pairs = list[tuple[str, str]]
#: Deepest nesting of parameters: Canvas's deepest (``grade_data[:assignment][:student][posted_grade]``)
#: is three; a parameter nested thousands deep would exhaust the stack instead of being refused.
MAX_PARAM_DEPTH = 16


@dataclass(frozen=True)
class CanvasRequest:
    """One Canvas call, ready for any HTTP client.

    Parameters and form data are flat ``(name, value)`` pairs because Canvas's array parameters
    (``course_ids[]=1&course_ids[]=2``) repeat names, which plain dicts cannot express for aiohttp.
    The Authorization header is not stored here: the transport adds it at the last moment, so no
    request object that might be logged or raised with ever holds the token.
    """

    method: str
    url: str
    path: str
    params: Pairs = field(default_factory=list)
    #: Form fields and JSON body: a token request's form holds secrets, so ``repr`` never shows them.
    data: Pairs | None = field(default=None, repr=False)
    json: Any = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Whether sending it twice has the effect of sending it once; decides what may be retried.
    idempotent: bool = True

    @property
    def label(self) -> str:
        """``METHOD /path`` for messages: no host, no query string, nothing secret."""
        return f"{self.method} {self.path}"


def endpoint_path(endpoint: str, settings: CanvasSettings, *, what: str = "endpoint") -> str:
    """Resolve a user's endpoint to a path on the connection's host.

    ``"/api/v1/courses/1"`` and ``"api/v1/courses/1"`` are taken as given, ``"courses/1"`` is read
    as ``/api/v1/courses/1``, and an absolute URL is accepted only on the connection's own host.
    """
    text = endpoint.strip()
    if not text:
        raise CanvasConfigurationError(f"{what} is empty; give a Canvas API path such as /api/v1/users/self.")
    if not text.isprintable():  # a line break would split the request line: header injection
        raise CanvasConfigurationError(f"{what} contains a line break or a control character; give a plain path.")
    # Only a scheme before the query makes an absolute URL: "courses?next=https://..." is a path.
    if "://" in text.split("?", 1)[0]:
        settings.check_same_origin(text, what=f"{what} {text!r}")
        parts = urlsplit(text)
        text = parts.path + (f"?{parts.query}" if parts.query else "")
    if text.startswith("/"):
        return text
    if text.startswith("api/"):
        return "/" + text
    return "/api/v1/" + text


def flatten(values: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> Pairs:
    """Flatten Canvas-style parameters into ``(name, value)`` pairs.

    Lists repeat their key (``{"course_ids[]": [1, 2]}``), nested dicts become bracketed names
    (``{"grade_data": {"5": {"posted_grade": "A"}}}`` → ``grade_data[5][posted_grade]=A``), booleans
    become ``true``/``false`` as Rails expects, and ``None`` values are left out.
    """
    if values is None:
        return []
    items = values.items() if isinstance(values, Mapping) else values
    pairs: Pairs = []
    for key, value in items:
        _flatten_into(pairs, str(key), value)
    return pairs


def _flatten_into(pairs: Pairs, key: str, value: Any, depth: int = 0) -> None:
    if value is None:
        return
    if depth > MAX_PARAM_DEPTH:
        raise CanvasConfigurationError(
            f"Parameter {key[:80]!r}… is nested more than {MAX_PARAM_DEPTH} deep; Canvas's nest a few deep at most."
        )
    if isinstance(value, bool):
        pairs.append((key, "true" if value else "false"))
    elif isinstance(value, Mapping):
        for sub, item in value.items():
            _flatten_into(pairs, f"{key}[{sub}]", item, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        name = key if key.endswith("[]") else f"{key}[]"
        for item in value:
            _flatten_into(pairs, name, item, depth + 1)
    else:
        try:
            pairs.append((key, str(value)))
        except ValueError:  # an int past Python's 4,300-digit conversion limit
            raise CanvasConfigurationError(f"Parameter {key[:80]!r} is a number too large to send.") from None


def build_request(
    settings: CanvasSettings,
    method: str,
    endpoint: str,
    *,
    params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
    data: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
    json_body: Any = None,
    idempotent: bool | None = None,
) -> CanvasRequest:
    """Build a :class:`CanvasRequest` for ``method endpoint`` on the connection's Canvas.

    :param idempotent: whether the call may be repeated safely; default: only GET and HEAD are.
        A POST or PUT to Canvas typically starts a job, and repeating it starts another.
    """
    verb = method.strip().upper()
    if verb not in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"):
        raise CanvasConfigurationError(f"method {method!r} is not an HTTP method Canvas's API uses.")
    if data is not None and json_body is not None:
        raise CanvasConfigurationError("Give either data (form fields) or json, not both.")
    path = endpoint_path(endpoint, settings)
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    return CanvasRequest(
        method=verb,
        url=settings.base_url + path,
        path=path.split("?", 1)[0].split("#", 1)[0],
        params=flatten(params),
        data=flatten(data) if data is not None else None,
        json=json_body,
        headers=headers,
        idempotent=verb in ("GET", "HEAD") if idempotent is None else idempotent,
    )


def auth_headers(token: str) -> dict[str, str]:
    """The only place the token enters a request."""
    return {"Authorization": f"Bearer {token}"}
