"""Downloading a file behind one of Canvas's signed links, without the token.

A Canvas file link (``/files/:id/download?download_frd=1&verifier=...``) carries its own permission,
the verifier, and Canvas answers it with a redirect to its storage host (S3, InstFS). So the file is
fetched with **no** Authorization header at all (a storage host must never see the token, and S3
refuses a request that carries one next to a signed query), following redirects only here, only to
``http(s)`` (never downgrading from https), and bounded in bytes and in wall-clock time. The SIS
errors file and account report files both come this way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from airflow_provider_canvas_progress.core.settings import Origin
from airflow_provider_canvas_progress.exceptions import (
    CanvasResponseError,
    CanvasResponseTooLargeError,
    CanvasTransportError,
)
from airflow_provider_canvas_progress.hooks import deadline, transport

__all__ = ["download_without_token", "stream_without_token"]

_MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


def _check_hop(url: str, settings: Any, what: str) -> str:
    try:
        origin = Origin.of(url)
    except ValueError:
        raise CanvasResponseError(f"Canvas gave {what} an invalid URL; not followed.") from None
    downgrade = settings.origin.scheme == "https" and origin.scheme != "https"
    if origin.scheme not in ("http", "https") or downgrade:
        raise CanvasResponseError(f"{what} leads to a {origin.scheme or 'schemeless'} URL; not followed.")
    return url


def stream_without_token(
    url: str, settings: Any, max_bytes: int, timeout: float, *, what: str, too_large_hint: str = "raise max_bytes"
) -> Iterator[bytes]:
    """Yield the body behind ``url`` (and its redirects) in chunks, with no credentials at all.

    :param settings: the connection's settings (its scheme and TLS verification apply).
    :param max_bytes: more than this raises :class:`CanvasResponseTooLargeError`.
    :param timeout: seconds for the whole download, redirects and body included.
    :param what: the file, for messages ("the errors file of sis_import:1/5"); never the URL,
        whose verifier is a credential.
    :raises CanvasTransportError: no complete answer within ``timeout``, or the connection failed.
    :raises CanvasResponseError: a non-200 answer, too many redirects, a compressed body.
    """
    session = transport.new_session()
    headers = {"Accept-Encoding": "identity", "User-Agent": "airflow-provider-canvas-progress"}
    with session, deadline.watch(timeout) as watch:
        current = _check_hop(url, settings, what)
        for _ in range(_MAX_REDIRECTS + 1):
            try:
                answer = session.get(
                    current,
                    headers=headers,
                    timeout=timeout,
                    verify=settings.verify,
                    allow_redirects=False,
                    stream=True,
                )
            except Exception as error:  # the client's exception holds the URL's verifier: keep only its type
                raise CanvasTransportError(f"Downloading {what} failed ({type(error).__name__}).") from None
            with answer:
                if answer.status_code in (301, 302, 303, 307, 308) and answer.headers.get("Location"):
                    current = _check_hop(urljoin(current, answer.headers["Location"]), settings, what)
                    continue
                if answer.status_code != 200:
                    raise CanvasResponseError(f"Downloading {what} answered HTTP {answer.status_code}.")
                if answer.headers.get("Content-Encoding", "identity").lower() not in ("identity", ""):
                    raise CanvasResponseError(f"{what} came compressed although identity was asked; not read.")
                size = 0
                stream = answer.raw.stream(_CHUNK, decode_content=False)
                while True:
                    try:
                        chunk = next(stream, None)
                    except Exception as error:
                        if watch.expired:
                            break
                        raise CanvasTransportError(f"Downloading {what} failed ({type(error).__name__}).") from None
                    if chunk is None:
                        break
                    size += len(chunk)
                    if size > max_bytes:
                        raise CanvasResponseTooLargeError(
                            f"{what} is larger than {max_bytes} bytes (max_bytes); {too_large_hint}."
                        )
                    yield chunk
                if watch.expired:
                    break
                return
        else:
            raise CanvasResponseError(f"Downloading {what} was redirected more than {_MAX_REDIRECTS} times.")
    raise CanvasTransportError(f"Downloading {what} took longer than {timeout:g} s (timeout).")


def download_without_token(
    url: str, settings: Any, max_bytes: int, timeout: float, *, what: str, too_large_hint: str = "raise max_bytes"
) -> bytes:
    """The whole body behind ``url``, as :func:`stream_without_token` reads it (for small files)."""
    return b"".join(stream_without_token(url, settings, max_bytes, timeout, what=what, too_large_hint=too_large_hint))
