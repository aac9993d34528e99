"""Moving one prepared Canvas request over the wire: ``requests`` in workers, ``aiohttp`` in triggers.

Both functions return a :class:`~airflow_provider_canvas_progress.core.protocol.CanvasResponse`
for the core to interpret, or raise a transport error that says whether the request may have
reached Canvas (the retry policy only resends a job-starting call when it cannot have).

Errors are raised outside the ``except`` blocks on purpose: the clients' exceptions hold the
prepared request, headers (and so the token) included, and would stay reachable through the new
error's ``__context__``. Only their type names are used.
"""

from __future__ import annotations

import asyncio
import functools
import ssl

import aiohttp
import requests
import urllib3

from airflow_provider_canvas_progress.core.errors import CanvasConnectError, CanvasTransportError
from airflow_provider_canvas_progress.core.protocol import CanvasRequest, CanvasResponse, auth_headers
from airflow_provider_canvas_progress.core.settings import CanvasSettings


def send(session: requests.Session, call: CanvasRequest, settings: CanvasSettings, token: str) -> CanvasResponse:
    """Send ``call`` with ``token`` and return the answer, redirects not followed."""
    failure: str | None = None
    try:
        answer = session.request(
            call.method,
            call.url,
            params=call.params or None,
            data=call.data,
            json=call.json,
            headers={**call.headers, **auth_headers(token)},
            timeout=settings.timeout,
            verify=settings.verify,
            allow_redirects=False,
        )
    except requests.ConnectTimeout:
        failure, connected = f"could not connect within {settings.timeout:g} s", False
    except requests.Timeout:
        failure, connected = f"timed out after {settings.timeout:g} s", True
    except requests.ConnectionError as error:
        failure, connected = type(error).__name__, not _never_connected(error)
    except requests.RequestException as error:
        failure, connected = type(error).__name__, True
    if failure is not None:
        raise transport_error(call, settings, failure, connected=connected)
    return CanvasResponse(answer.status_code, dict(answer.headers), answer.content)


async def asend(
    session: aiohttp.ClientSession, call: CanvasRequest, settings: CanvasSettings, token: str
) -> CanvasResponse:
    """Async twin of :func:`send`."""
    failure, connected = "no answer", True
    try:
        async with session.request(
            call.method,
            call.url,
            params=call.params or None,
            data=call.data,
            json=call.json,
            headers={**call.headers, **auth_headers(token)},
            allow_redirects=False,
            # Per request: the session may be shared by hooks of several connections on one token.
            timeout=aiohttp.ClientTimeout(total=settings.timeout),
        ) as answer:
            body = await answer.read()
            return CanvasResponse(answer.status, dict(answer.headers), body)
    except asyncio.TimeoutError:
        failure, connected = f"timed out after {settings.timeout:g} s", True
    except aiohttp.ClientConnectorError as error:  # refused, DNS, TLS handshake: nothing was sent
        failure, connected = type(error).__name__, False
    except aiohttp.ClientError as error:
        failure, connected = type(error).__name__, True
    raise transport_error(call, settings, failure, connected=connected)


def new_async_session(settings: CanvasSettings) -> aiohttp.ClientSession:
    """An aiohttp session for one hook's life: TLS as configured, no proxies or .netrc from the environment."""
    ssl_option: ssl.SSLContext | bool
    if settings.verify is False:
        ssl_option = False
    elif isinstance(settings.verify, str):
        ssl_option = _ca_bundle_context(settings.verify)
    else:
        ssl_option = True
    return aiohttp.ClientSession(
        # The gate's semaphore lets at most max_in_flight requests out at once: that many connections suffice.
        connector=aiohttp.TCPConnector(ssl=ssl_option, limit=settings.max_in_flight),
        timeout=aiohttp.ClientTimeout(total=settings.timeout),
        trust_env=False,
    )


@functools.lru_cache(maxsize=16)
def _ca_bundle_context(path: str) -> ssl.SSLContext:
    """One SSL context per CA bundle: loading certifi's bundle costs ~16 ms and ~700 KB each time."""
    return ssl.create_default_context(cafile=path)


def transport_error(
    call: CanvasRequest, settings: CanvasSettings, reason: str, *, connected: bool
) -> CanvasTransportError:
    """The error for a request that got no answer; :class:`CanvasConnectError` when nothing was sent."""
    kind = CanvasTransportError if connected else CanvasConnectError
    return kind(
        f"{call.label} to {settings.base_url} got no answer ({reason}). Retried; if it persists, check the "
        "host, the network and Canvas's status page.",
        method=call.method,
        path=call.path,
    )


def _never_connected(error: requests.ConnectionError) -> bool:
    """True when requests failed to open a connection at all (refused, DNS), so nothing was sent."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)
