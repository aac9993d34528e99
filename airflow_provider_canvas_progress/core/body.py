"""Collecting an answer's body within a byte cap, decompression included, with no I/O.

Both drivers read the raw (still compressed) bytes off the wire in chunks and :meth:`BoundedBody.feed`
them here; the first byte past ``max_bytes`` -- on the wire or after inflating -- stops the read
with :class:`~airflow_provider_canvas_progress.core.errors.CanvasResponseTooLargeError`. So a 1 GB
body, an endless chunked stream and a gzip bomb all cost at most ``max_bytes`` (plus one chunk) of
memory, on either path. Decompression is done here rather than by requests or aiohttp because
both inflate a whole chunk at once, unbounded.
"""

from __future__ import annotations

import zlib

from airflow_provider_canvas_progress.core.errors import (
    CanvasResponseError,
    CanvasResponseTooLargeError,
    CanvasUnreadableResponseError,
)
from airflow_provider_canvas_progress.core.protocol import CanvasRequest

#: The encodings asked for (``Accept-Encoding``) and so the only ones decoded.
ACCEPT_ENCODING = "gzip, deflate"
#: The connection extra that raises the cap, named in the error.
MAX_BYTES_EXTRA = "max_response_bytes"


class BoundedBody:
    """The decoded body of one answer, refused once it passes ``max_bytes``.

    :param call: the request, for messages.
    :param max_bytes: the cap on the decoded body (and on the bytes received).
    :param content_encoding: the answer's ``Content-Encoding`` header.
    """

    def __init__(self, call: CanvasRequest, max_bytes: int, content_encoding: str | None = None) -> None:
        self.call = call
        self.max_bytes = max_bytes
        self.received = 0
        self._parts: list[bytes] = []
        self._size = 0
        encoding = (content_encoding or "").strip().lower()
        self._inflater: zlib._Decompress | None = None
        if encoding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._inflater = zlib.decompressobj()
        elif encoding not in ("", "identity"):
            raise CanvasResponseError(
                f"Canvas answered {call.label} with Content-Encoding {encoding[:40]!r}, which was not asked for.",
                method=call.method,
                path=call.path,
            )

    def check_declared(self, content_length: str | None) -> None:
        """Refuse at once an answer whose ``Content-Length`` already passes the cap."""
        declared = (content_length or "").strip()
        if declared.isdigit() and len(declared) < 20 and int(declared) > self.max_bytes:
            raise self.too_large()

    def feed(self, chunk: bytes) -> None:
        """Add raw bytes from the wire; raises once the body (decoded) passes the cap."""
        self.received += len(chunk)
        if self.received > self.max_bytes and self._inflater is None:
            raise self.too_large()
        if self._inflater is None:
            self._keep(chunk)
            return
        data = chunk
        while data:
            try:
                # At most what is still allowed, plus one byte to notice the overflow.
                out = self._inflater.decompress(data, self.max_bytes - self._size + 1)
            except zlib.error:
                raise self._garbled() from None
            self._keep(out)
            data = self._inflater.unconsumed_tail
            if not out and data:  # no progress on remaining input: garbage
                raise self._garbled()

    def finish(self) -> bytes:
        """The whole decoded body, once the answer has ended."""
        if self._inflater is not None:
            try:
                self._keep(self._inflater.flush(self.max_bytes - self._size + 1))
            except zlib.error:
                raise self._garbled() from None
        return b"".join(self._parts)

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self.max_bytes:
            raise self.too_large()
        if data:
            self._parts.append(data)

    def too_large(self) -> CanvasResponseTooLargeError:
        return CanvasResponseTooLargeError(
            f"Canvas's answer to {self.call.label} is larger than {self.max_bytes} bytes (the connection's "
            f"{MAX_BYTES_EXTRA} limit); it was not read further. A Progress or an error answer is a few KB: "
            f"check the host (a proxy?), or raise the {MAX_BYTES_EXTRA} extra if the answer is legitimate.",
            method=self.call.method,
            path=self.call.path,
        )

    def _garbled(self) -> CanvasUnreadableResponseError:
        return CanvasUnreadableResponseError(
            f"Canvas's answer to {self.call.label} claims a compression it does not have (a cut-off transfer?).",
            method=self.call.method,
            path=self.call.path,
        )
