"""A second loopback host standing for Canvas's file storage (S3 / InstFS), and the links to it.

Canvas serves a file's ``url`` (``/files/<id>/download?download_frd=1&verifier=...``) without a
token: the verifier proves access. For S3 or InstFS storage it answers **302** to a short-lived
signed storage URL on another host (``attachment_helper.rb#render_or_redirect_to_stored_file``).
Storage hosts refuse a request that carries an ``Authorization`` header next to a signed query
(S3: "Only one auth mechanism allowed"), so a client that forwards the Canvas token there fails
here as it would in production, and :attr:`FileStore.requests` shows what reached the host.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from .clock import Clock, WallTime

__all__ = ["VERIFIER_LIFETIME", "FileStore", "StorageRequest", "Verifiers"]

#: Seconds a file verifier stays valid (``sis_import_helper.rb``: one hour).
VERIFIER_LIFETIME = 3600.0
#: Seconds a signed storage URL stays valid.
STORAGE_URL_LIFETIME = 300.0

_MULTIPLE_AUTH = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism '
    "allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization "
    "header should be specified</Message><ArgumentName>Authorization</ArgumentName></Error>"
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Verifiers:
    """Signed, user-bound, expiring file verifiers (JWT-shaped, HMAC-SHA256)."""

    def __init__(self, wall: WallTime, clock: Clock) -> None:
        self._key = secrets.token_bytes(32)
        self._wall, self._clock = wall, clock

    def issue(self, attachment_id: int, user_id: int) -> str:
        """A verifier for one file and one user, valid for an hour from now."""
        expires = int(self._wall.at(self._clock.now() + VERIFIER_LIFETIME).timestamp())
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {
            "attachment_id": str(attachment_id),
            "user_id": str(user_id),
            "permission": "download",
            "exp": expires,
        }
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = _b64(hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{signature}"

    def check(self, verifier: str, attachment_id: int) -> str | None:
        """``None`` if the verifier is good for this file now, else why not."""
        parts = verifier.split(".")
        if len(parts) != 3:
            return "malformed verifier"
        expected = _b64(hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, parts[2]):
            return "bad signature"
        try:
            claims = json.loads(_unb64(parts[1]))
        except ValueError:
            return "malformed verifier"
        if claims.get("attachment_id") != str(attachment_id):
            return "verifier is for another file"
        if int(claims.get("exp", 0)) < self._wall.at(self._clock.now()).timestamp():
            return "verifier expired"
        return None


@dataclass(frozen=True)
class StorageRequest:
    """One request the storage host received."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    status: int

    def header(self, name: str) -> str | None:
        """A header's value (case-insensitive), or ``None``."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass
class _Object:
    body: bytes
    content_type: str
    filename: str


class FileStore:
    """The storage host: objects by key, served only through unexpired signed URLs, never with a token.

    It runs in the simulator's event loop on its own port (started and stopped with the app).

    :param clock: the simulator clock (signed URLs expire on it).
    :param wall: maps clock readings to wall time.
    :param host: the address to bind.
    """

    def __init__(self, clock: Clock, wall: WallTime, host: str = "127.0.0.1") -> None:
        self._clock, self._wall, self.host = clock, wall, host
        self._key = secrets.token_bytes(32)
        self._objects: dict[str, _Object] = {}
        self._requests: list[StorageRequest] = []
        self._lock = threading.Lock()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        #: Seconds every answer is held back before its body (to test download time limits).
        self.delay = 0.0

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``.

        :raises RuntimeError: before the simulator started.
        """
        if self.port is None:
            raise RuntimeError("the file store starts with the simulator")
        return f"http://{self.host}:{self.port}"

    @property
    def requests(self) -> list[StorageRequest]:
        """Every request the storage host received, oldest first."""
        with self._lock:
            return list(self._requests)

    def put(self, key: str, body: bytes, *, content_type: str, filename: str) -> None:
        """Store (or replace) an object."""
        with self._lock:
            self._objects[key] = _Object(body, content_type, filename)

    def _signature(self, key: str, expires: int) -> str:
        return _b64(hmac.new(self._key, f"{key}\n{expires}".encode(), hashlib.sha256).digest())

    def signed_url(self, key: str) -> str:
        """A URL for the object that works for five minutes on the simulator clock, without a token."""
        expires = int(self._wall.at(self._clock.now() + STORAGE_URL_LIFETIME).timestamp())
        query = urlencode({"Expires": expires, "Signature": self._signature(key, expires)})
        return f"{self.base_url}/{quote(key)}?{query}"

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        response = self._answer(request)
        with self._lock:
            self._requests.append(
                StorageRequest(
                    request.method,
                    request.path,
                    request.query_string,
                    tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers),
                    response.status,
                )
            )
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        return response

    def _answer(self, request: web.Request) -> web.Response:
        if "Authorization" in request.headers:
            return web.Response(status=400, text=_MULTIPLE_AUTH, content_type="application/xml")
        key = request.match_info["key"]
        try:
            expires = int(request.query.get("Expires", ""))
        except ValueError:
            return _denied("Query-string authentication requires the Signature and Expires parameters")
        if not hmac.compare_digest(self._signature(key, expires), request.query.get("Signature", "")):
            return _denied("The request signature we calculated does not match the signature you provided.")
        if expires < self._wall.at(self._clock.now()).timestamp():
            return _denied("Request has expired")
        with self._lock:
            found = self._objects.get(key)
        if found is None:
            return web.Response(
                status=404, text="<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml"
            )
        response = web.Response(body=found.body, content_type=found.content_type.split(";")[0])
        response.headers["Content-Disposition"] = f'attachment; filename="{found.filename}"'
        return response

    async def start(self, _app: Any = None) -> None:
        """Bind a free port and serve (an ``on_startup`` hook of the simulator app)."""
        app = web.Application()
        app.router.add_route("*", "/{key:.+}", self._serve)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner

    async def stop(self, _app: Any = None) -> None:
        """Stop serving (an ``on_cleanup`` hook of the simulator app)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _denied(message: str) -> web.Response:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>'
    )
    return web.Response(status=403, text=body, content_type="application/xml")
