"""Moving one :class:`~airflow_provider_canvas_progress.core.plan.Send` over the wire, within its limits.

:func:`send` (requests, workers) and :func:`asend` (aiohttp, triggerer) each return what happened
for the plan to read: a :class:`CanvasResponse`, a :class:`NoAnswer` (saying whether the request
may have reached the server), or a :class:`CanvasError` (a limit passed, a bad CA bundle). Both read
the raw body in chunks into :class:`~airflow_provider_canvas_progress.core.body.BoundedBody`, so the
byte cap also bounds decompression, and both stop at the attempt's wall-clock deadline.

Failures are turned into values outside the ``except`` blocks' reach on purpose: the clients'
exceptions hold the prepared request, headers (and so the token) included. Only their type names
are used.
"""

from __future__ import annotations

import asyncio
import functools
import http.cookiejar
import ssl

import aiohttp
import requests
import urllib3

from airflow_provider_canvas_progress.core.body import ACCEPT_ENCODING, BoundedBody
from airflow_provider_canvas_progress.core.errors import (
    CanvasConfigurationError,
    CanvasConnectError,
    CanvasError,
    CanvasTransportError,
)
from airflow_provider_canvas_progress.core.plan import NoAnswer, Send
from airflow_provider_canvas_progress.core.protocol import CanvasRequest, CanvasResponse, auth_headers
from airflow_provider_canvas_progress.core.settings import CanvasSettings
from airflow_provider_canvas_progress.hooks import deadline

Received = CanvasResponse | NoAnswer | CanvasError
_CHUNK = 64 * 1024


def _headers(step: Send) -> dict[str, str]:
    """The only place the token joins a request, at the last moment."""
    extra = auth_headers(step.token) if step.token is not None else {}
    return {**step.call.headers, "Accept-Encoding": ACCEPT_ENCODING, **extra}


def send(session: requests.Session, step: Send, verify: bool | str) -> Received:
    """Send ``step`` with requests, redirects not followed, the whole attempt within ``step.limits``."""
    call, limits = step.call, step.limits
    failure: NoAnswer | None = None
    with deadline.watch(limits.timeout) as watch:
        try:
            with session.request(
                call.method, call.url, params=call.params or None, data=call.data, json=call.json,
                headers=_headers(step), timeout=limits.timeout, verify=verify, allow_redirects=False, stream=True,
            ) as answer:  # fmt: skip
                body = BoundedBody(call, limits.max_bytes, answer.headers.get("Content-Encoding"))
                body.check_declared(answer.headers.get("Content-Length"))
                for chunk in answer.raw.stream(_CHUNK, decode_content=False):
                    body.feed(chunk)
                    if watch.expired:
                        break
                if not watch.expired:
                    return CanvasResponse(answer.status_code, dict(answer.headers), body.finish())
        except CanvasError as error:
            return error
        except requests.ConnectTimeout:
            failure = NoAnswer(f"could not connect within {limits.timeout:g} s", connected=False)
        except (requests.Timeout, urllib3.exceptions.TimeoutError):
            pass  # a read timed out: reported below, as the deadline is
        except requests.ConnectionError as error:
            failure = NoAnswer(type(error).__name__, connected=not _never_connected(error))
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            failure = NoAnswer(type(error).__name__, connected=True)
        except OSError:  # requests checks the CA bundle path only when sending
            return _bad_ca_bundle(verify)
    if failure is None or watch.expired:
        return NoAnswer(f"timed out after {limits.timeout:g} s", connected=True)
    return failure


async def asend(session: aiohttp.ClientSession, step: Send) -> Received:
    """Async twin of :func:`send`; aiohttp's total timeout covers connect, headers and body."""
    call, limits = step.call, step.limits
    try:
        async with session.request(
            call.method, call.url, params=call.params or None, data=call.data, json=call.json,
            headers=_headers(step), allow_redirects=False, timeout=aiohttp.ClientTimeout(total=limits.timeout),
        ) as answer:  # fmt: skip
            body = BoundedBody(call, limits.max_bytes, answer.headers.get("Content-Encoding"))
            body.check_declared(answer.headers.get("Content-Length"))
            while chunk := await answer.content.readany():
                body.feed(chunk)
            return CanvasResponse(answer.status, dict(answer.headers), body.finish())
    except CanvasError as error:
        return error
    except asyncio.TimeoutError:
        return NoAnswer(f"timed out after {limits.timeout:g} s", connected=True)
    except aiohttp.ClientConnectorError as error:  # refused, DNS, TLS handshake: nothing was sent
        return NoAnswer(type(error).__name__, connected=False)
    except aiohttp.ClientError as error:
        return NoAnswer(type(error).__name__, connected=True)


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Canvas's API needs no cookies; a stored flood would be replayed until Canvas answers 431."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


def new_session() -> requests.Session:
    """A requests session: no proxies or .netrc from the environment, no cookies, deadline-aware."""
    session = requests.Session()
    # Environment proxies and .netrc could redirect the token or override the auth header.
    session.trust_env = False
    session.cookies.set_policy(_NoCookies())
    adapter = deadline.DeadlineAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def new_async_session(settings: CanvasSettings) -> aiohttp.ClientSession:
    """An aiohttp session for one token: TLS as configured, no proxies, .netrc, cookies or auto-inflating."""
    ssl_option: ssl.SSLContext | bool
    if settings.verify is False:
        ssl_option = False
    elif isinstance(settings.verify, str):
        try:
            ssl_option = _ca_bundle_context(settings.verify)
        except OSError:
            raise _bad_ca_bundle(settings.verify) from None
    else:
        ssl_option = True
    return aiohttp.ClientSession(
        # The gate's semaphore lets at most max_in_flight requests out at once: that many connections suffice.
        connector=aiohttp.TCPConnector(ssl=ssl_option, limit=settings.max_in_flight),
        timeout=aiohttp.ClientTimeout(total=settings.timeout),
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,  # BoundedBody inflates within the byte cap
    )


@functools.lru_cache(maxsize=16)
def _ca_bundle_context(path: str) -> ssl.SSLContext:
    """One SSL context per CA bundle: loading certifi's bundle costs ~16 ms and ~700 KB each time."""
    return ssl.create_default_context(cafile=path)


def _bad_ca_bundle(verify: bool | str) -> CanvasConfigurationError:
    where = "the CA bundle named by the extra verify" if isinstance(verify, str) else "the system's CA bundle"
    return CanvasConfigurationError(
        f"TLS cannot be set up: {where} cannot be read. Give the path of a readable PEM file, or verify=true."
    )


def transport_error(
    call: CanvasRequest, settings: CanvasSettings, reason: str, connected: bool
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
