"""Injected faults: what a flaky network, a proxy or a maintenance window does to an API call.

Faults are queued with :meth:`FaultQueue.inject` and consumed in order: a request takes the first
queued rule whose path regex and method match it. They apply to ``/api`` paths and to the token
endpoint ``/login/oauth2/token`` only, in front of the throttle and authentication (a proxy answers
before Canvas sees the request).
"""

from __future__ import annotations

import enum
import json
import re
import socket
import struct
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import JSON_CONTENT_TYPE

__all__ = ["Fault", "FaultKind", "FaultQueue", "FaultRule", "apply_fault"]

_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class FaultKind(enum.Enum):
    """What a fault does."""

    STATUS = "status"
    HTML = "html"
    DELAY = "delay"
    DROP = "drop"
    RESET = "reset"
    TRUNCATED_JSON = "truncated_json"
    MALFORMED_JSON = "malformed_json"
    BODY = "body"
    REDIRECT = "redirect"


@dataclass(frozen=True)
class Fault:
    """One fault; build it with the factory class methods (``Fault.status(503)``...)."""

    kind: FaultKind
    status_code: int = 200
    text: str | None = None
    content_type: str = JSON_CONTENT_TYPE
    seconds: float = 0.0
    location: str | None = None

    @classmethod
    def status(cls, code: int, body: Any = None) -> Fault:
        """A JSON error answer; the default body is Canvas's 500 body.

        :param body: a str is sent as is, anything else as JSON.
        """
        if body is None:
            body = {"errors": [{"message": "An error occurred.", "error_code": "internal_server_error"}]}
        text = body if isinstance(body, str) else json.dumps(body)
        return cls(FaultKind.STATUS, status_code=code, text=text)

    @classmethod
    def html(cls, code: int = 503) -> Fault:
        """An HTML maintenance or proxy page (502/503/504), as load balancers serve."""
        reason = _REASONS.get(code, "Error")
        page = (
            f"<!DOCTYPE html>\n<html><head><title>{code} {reason}</title></head>\n"
            f"<body><h1>{reason}</h1><p>Canvas is undergoing maintenance or is unreachable. "
            "Please try again shortly.</p></body></html>\n"
        )
        return cls(FaultKind.HTML, status_code=code, text=page, content_type="text/html; charset=utf-8")

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """A slow answer: the request stays in flight ``seconds`` longer, then is served normally."""
        return cls(FaultKind.DELAY, seconds=seconds)

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without any response (FIN)."""
        return cls(FaultKind.DROP)

    @classmethod
    def reset(cls) -> Fault:
        """Abort the connection with a TCP RST."""
        return cls(FaultKind.RESET)

    @classmethod
    def truncated_json(cls) -> Fault:
        """A 200 whose ``Content-Length`` promises more JSON than is sent before the close."""
        return cls(FaultKind.TRUNCATED_JSON, text='{"id":1,"workflow_state":"runn')

    @classmethod
    def malformed_json(cls) -> Fault:
        """A 200 JSON answer that does not parse."""
        return cls(FaultKind.MALFORMED_JSON, text='{"id": 1, "workflow_state": "running",,}')

    @classmethod
    def body(cls, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Fault:
        """Any status with any body."""
        return cls(FaultKind.BODY, status_code=status, text=text, content_type=content_type)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Fault:
        """A redirect, e.g. to a login page or another host."""
        return cls(FaultKind.REDIRECT, status_code=status, location=location)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        """Build a fault from the control API's JSON (``{"kind": "status", "status": 503}``...)."""
        kind = str(data.get("kind", ""))
        if kind == "status":
            return cls.status(int(data.get("status", 500)), data.get("body"))
        if kind == "html":
            return cls.html(int(data.get("status", 503)))
        if kind == "delay":
            return cls.delay(float(data.get("seconds", 1.0)))
        if kind == "body":
            return cls.body(int(data["status"]), str(data.get("text", "")), str(data.get("content_type", "text/plain")))
        if kind == "redirect":
            return cls.redirect(str(data["location"]), int(data.get("status", 302)))
        simple = {"drop": cls.drop, "reset": cls.reset, "truncated_json": cls.truncated_json}
        simple["malformed_json"] = cls.malformed_json
        if kind in simple:
            return simple[kind]()
        raise ValueError(f"unknown fault kind {kind!r}")


@dataclass
class FaultRule:
    """A queued fault with how many more requests it applies to, and what it matches."""

    fault: Fault
    remaining: int
    path: re.Pattern[str] | None = None
    method: str | None = None

    def matches(self, method: str, path: str) -> bool:
        """Whether the rule applies to a request."""
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or self.path.search(path) is not None


class FaultQueue:
    """Faults waiting for matching requests, consumed first-in first-out (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def inject(self, fault: Fault, *, times: int = 1, path: str | None = None, method: str | None = None) -> None:
        """Queue ``fault`` for the next ``times`` matching requests.

        :param path: a regex searched in the request path (``r"^/api/v1/progress/"``).
        :param method: an HTTP method to match, any if ``None``.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        rule = FaultRule(fault, times, re.compile(path) if path else None, method.upper() if method else None)
        with self._lock:
            self._rules.append(rule)

    def take(self, method: str, path: str) -> Fault | None:
        """Consume and return the first fault matching the request, if any."""
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.matches(method, path):
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        del self._rules[index]
                    return rule.fault
        return None

    def pending(self) -> int:
        """How many faulted requests are still queued."""
        with self._lock:
            return sum(rule.remaining for rule in self._rules)

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._rules.clear()


async def apply_fault(request: web.Request, fault: Fault) -> web.StreamResponse:
    """Serve a fault: return its response, or a dummy one after the connection was cut.

    A delay is not served here: the caller adds it to the request's in-flight time.

    For the connection-level faults the bytes go straight to the transport and the transport is
    closed; aiohttp then fails to write the dummy response and treats it as a client disconnect.
    """
    kind = fault.kind
    if kind is FaultKind.DELAY:
        raise ValueError("a delay is not an answer; add it to the request's in-flight time")
    if kind in (FaultKind.STATUS, FaultKind.HTML, FaultKind.BODY, FaultKind.MALFORMED_JSON):
        response = web.Response(status=fault.status_code, body=(fault.text or "").encode())
        response.headers["Content-Type"] = fault.content_type
        return response
    if kind is FaultKind.REDIRECT:
        location = fault.location or "/login"
        response = web.Response(
            status=fault.status_code,
            text=f'<html><body>You are being <a href="{location}">redirected</a>.</body></html>',
        )
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        response.headers["Location"] = location
        return response
    transport = request.transport
    if transport is not None:
        if kind is FaultKind.TRUNCATED_JSON:
            text = (fault.text or "").encode()
            head = (
                "HTTP/1.1 200 OK\r\n"
                f"Content-Type: {JSON_CONTENT_TYPE}\r\n"
                f"Content-Length: {len(text) + 200}\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            transport.write(head + text)
            transport.close()
        elif kind is FaultKind.RESET:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
    return web.Response(status=599)
