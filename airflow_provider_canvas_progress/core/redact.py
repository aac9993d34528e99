"""Taking the connection's secrets out of anything built from what Canvas (or a proxy) sent back.

The token never leaves in a request we log, but an answer can carry it back in: a proxy that
echoes the request in its error page, a Canvas error quoting the header, a Progress message or a
user name a hostile account set to it. Whatever is built from an answer -- exception text, trigger
event payloads, XCom values, ``test_connection`` messages -- goes through a :class:`Redactor` first.

Airflow's secrets masker only works where it is registered and only on log records and rendered
fields; exception text stored with a trigger event or an XCom value is not a log record. And an
echo is rarely verbatim: the header may come back URL-encoded, JSON-escaped, HTML-escaped, or as
the base64 of ``user:password`` of a Basic header. So this module finds each secret in the forms a
server is likely to write it:

* verbatim, and in fixed encodings of it (JSON string escapes, HTML escapes, percent-encoding);
* inside any percent-encoded run, decoded first (encoders differ in which characters they escape);
* inside any base64 run, decoded first (``base64(user:token)`` puts the token at any alignment).

Pure: no Airflow, no I/O. The work per text is linear in the text, which is cut to a bound first.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, quote_plus, unquote_plus

from airflow_provider_canvas_progress.core.errors import CanvasError

if TYPE_CHECKING:
    from airflow_provider_canvas_progress.core.settings import CanvasSettings

E = TypeVar("E", bound=BaseException)

__all__ = ["MIN_SECRET_LENGTH", "REDACTED", "TEXT_LIMIT", "Redactor"]

#: What a secret is replaced with (Airflow's masker writes the same).
REDACTED = "***"
#: Secrets shorter than this are left alone: as in Airflow's masker (``min_length_masked_secret``,
#: 5), replacing every "abc" in a message would shred it, and so short a value protects nothing.
MIN_SECRET_LENGTH = 5
#: Default bound on a redacted text, in characters: an error message quotes an answer, it does
#: not carry it (a 10 MB ``workflow_state`` must not become a 10 MB exception or event).
TEXT_LIMIT = 2000
#: How deep :meth:`Redactor.value` walks a JSON-like value; deeper parts are replaced, since an
#: answer nested thousands deep is an attack on the parser, not data anyone reads.
MAX_DEPTH = 64
#: Shown in place of a part of a value nested deeper than :data:`MAX_DEPTH`.
TOO_DEEP = "[nested too deep]"

_ELLIPSIS = "…"
#: A run of the characters a percent-encoder writes (only runs holding a ``%`` are decoded).
#: One character class and no alternation: linear, whatever the text.
_URL_RUN = re.compile(r"[A-Za-z0-9._~!$'()*,;:@+%-]+")
#: A run that may be base64 (standard or URL-safe alphabet), long enough to hide a secret.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


class Redactor:
    """Replaces a connection's secrets in texts and JSON-like values.

    :param secrets: the values to hide (token, password, client secret, refresh token, private
        key...). Empty and very short ones (under :data:`MIN_SECRET_LENGTH`) are ignored.
    :param limit: default bound, in characters, of :meth:`text`'s result.
    """

    def __init__(self, secrets: Iterable[str] = (), *, limit: int = TEXT_LIMIT) -> None:
        self.limit = limit
        self._extended: dict[str, Redactor] = {}
        self._secrets: tuple[str, ...] = ()
        self._literal: re.Pattern[str] | None = None
        self._base64_run = _BASE64_RUN
        self._shortest = 0
        self._variants: tuple[str, ...] = ()
        self.add(*secrets)

    @classmethod
    def of(cls, settings: CanvasSettings, *extra: str) -> Redactor:
        """The redactor of a connection: its token or developer-key secrets, plus ``extra`` (issued tokens)."""
        return cls((*settings.secrets, *extra))

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def add(self, *secrets: str) -> None:
        """Hide these too (an access token obtained later, for example)."""
        fresh = [s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH and s not in self._secrets]
        if not fresh:
            return
        self._secrets = (*self._secrets, *fresh)
        variants = {variant for secret in self._secrets for variant in _encodings(secret)}
        # Longest first, so that an encoding that contains another is replaced whole.
        self._variants = tuple(sorted(variants, key=len, reverse=True))
        self._literal = re.compile("|".join(re.escape(v) for v in self._variants))
        # base64 of a text holding a secret is at least 4/3 of the secret long: shorter runs are skipped.
        self._shortest = min(map(len, self._secrets))
        shortest = max(8, 4 * self._shortest // 3 - 2)
        self._base64_run = re.compile(f"[A-Za-z0-9+/_-]{{{shortest},}}={{0,2}}")

    def with_secret(self, secret: str) -> Redactor:
        """This redactor, or a copy that also hides ``secret`` (an access token obtained for a call).

        Copies are kept for the last few secrets, so a call per poll does not compile a new one.
        """
        if secret in self._secrets or len(secret) < MIN_SECRET_LENGTH:
            return self
        extended = self._extended.get(secret)
        if extended is None:
            if len(self._extended) >= 4:  # developer-key tokens change hourly; old ones are not sent again
                self._extended.clear()  # one atomic step: hooks in several threads share this redactor
            extended = self._extended[secret] = Redactor((*self._secrets, secret), limit=self.limit)
        return extended

    def text(self, value: str, *, limit: int | None = None) -> str:
        """``value`` with every secret replaced by ``***``, cut to ``limit`` characters (default :attr:`limit`).

        The text is cut before it is searched (with room for a secret straddling the cut) and a
        secret's beginning left at the end of the cut is removed too, so a cut never reveals half
        of one.
        """
        bound = self.limit if limit is None else limit
        longest = len(self._variants[0]) if self._variants else 0
        cut = len(value) > bound
        window = value[: bound + longest] if cut else value
        clean = self._scrub(window)
        if len(clean) > bound or cut:
            clean = self._drop_partial_tail(clean[:bound]) + _ELLIPSIS
        return clean

    def value(self, value: Any, *, _depth: int = 0) -> Any:
        """A copy of a JSON-like value (dicts, lists, tuples, strings, numbers) with secrets replaced
        in every string, keys included. Strings are not cut; nesting beyond :data:`MAX_DEPTH` is.
        Objects of other types are returned as they are."""
        if isinstance(value, str):
            return self._scrub(value)
        if isinstance(value, (bool, int, float)) or value is None:
            return value
        if _depth >= MAX_DEPTH:
            return TOO_DEEP
        if isinstance(value, Mapping):
            return {self.value(k, _depth=_depth + 1): self.value(v, _depth=_depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            items = [self.value(item, _depth=_depth + 1) for item in value]
            return items if isinstance(value, list) else tuple(items)
        return value  # not JSON-like (a parsed token grant, say): its maker answers for it

    def _scrub(self, text: str) -> str:
        # A text shorter than every secret cannot hold one, in any form: most strings of an answer.
        if self._literal is None or len(text) < self._shortest:
            return text
        text = self._literal.sub(REDACTED, text)
        if "%" in text:
            text = _URL_RUN.sub(self._percent_run, text)
        return self._base64_run.sub(self._base64_in, text)

    def _percent_run(self, match: re.Match[str]) -> str:
        run = match.group()
        return self._hidden_in(run, [unquote_plus(run)]) if "%" in run else run

    def _base64_in(self, match: re.Match[str]) -> str:
        run = match.group()
        # The run may have picked up neighbouring letters: try each alignment of its start.
        return self._hidden_in(run, (_b64decode(run[offset:]) for offset in range(4)))

    def _hidden_in(self, original: str, decodings: Iterable[str | None]) -> str:
        """``***`` when a decoded form of ``original`` holds a secret, else ``original`` unchanged."""
        for decoded in decodings:
            if decoded is not None and any(secret in decoded for secret in self._secrets):
                return REDACTED
        return original

    def error(self, error: E) -> E:
        """``error`` with its message and Canvas's text redacted (and the message bounded), in place.

        Errors are built from answers in the core, which knows no secrets; the hook, which does,
        passes each one through here before it leaves.
        """
        if isinstance(error, CanvasError):
            error.message = self.text(error.message)
            if error.canvas_message is not None:
                error.canvas_message = self.text(error.canvas_message)
            error.args = (error.message,)
            if error.__suppress_context__:
                # Raised "from None": no traceback shows the context, yet it stays reachable, and a
                # JSON decoder's error there holds the whole answer (``doc``), echo included.
                error.__context__ = None
        return error

    def _drop_partial_tail(self, text: str) -> str:
        """Remove the end of ``text`` if it is the beginning of a secret (the rest was cut away).

        Tiny overlaps (the "7" of "7~abc") are ordinary text; a prefix of three characters or more goes.
        """
        keep = len(text)
        for variant in self._variants:
            tail_start = max(0, len(text) - len(variant) + 1)
            tail = text[tail_start:]
            head = variant[:3]
            found = tail.find(head)
            while found >= 0:
                if variant.startswith(tail[found:]):
                    keep = min(keep, tail_start + found)
                    break
                found = tail.find(head, found + 1)
        return text[:keep]


def _encodings(secret: str) -> set[str]:
    """The forms a server is likely to echo ``secret`` in, besides verbatim."""
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),
        html.escape(secret, quote=True),
        html.escape(secret, quote=False),
        quote(secret, safe=""),
        quote(secret, safe="~"),
        quote_plus(secret, safe=""),
    }
    forms |= {_lower_escapes(form) for form in forms if "%" in form}
    for encoded in (base64.b64encode(secret.encode()), base64.urlsafe_b64encode(secret.encode())):
        text = encoded.decode("ascii")
        forms |= {text, text.rstrip("=")}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def _lower_escapes(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


def _b64decode(run: str) -> str | None:
    """The text a base64 run decodes to (either alphabet, padding optional), or None if it is not base64."""
    body = run.rstrip("=")
    if len(body) % 4 == 1:
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded) if ("-" in body or "_" in body) else base64.b64decode(padded)
    except (binascii.Error, ValueError):
        return None
    return raw.decode("utf-8", "replace")
