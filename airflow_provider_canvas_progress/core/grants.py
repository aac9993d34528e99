"""The token endpoint's answer with no I/O: an :class:`AccessGrant`, or a typed error saying why not.

Canvas's ``POST /login/oauth2/token`` (``app/controllers/oauth2_provider_controller.rb``) answers a
grant, an OAuth2 error (``invalid_grant``, ``invalid_client``...) or, behind a proxy, anything at
all; each is read here into a grant, a :class:`CanvasCredentialsError` naming the extra to fix, or
a retryable :class:`CanvasTokenUnavailableError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_canvas_progress.core.auth import (
    RENEW_MARGIN,
    TOKEN_PATH,
    CanvasCredentialsError,
    CanvasTokenUnavailableError,
    Credentials,
    LtiAdvantageCredentials,
)
from airflow_provider_canvas_progress.core.progress import shown

__all__ = ["AccessGrant", "parse_token_answer"]


@dataclass(frozen=True)
class AccessGrant:
    """An access token Canvas issued, and when to renew it.

    :param access_token: the token. Never shown by ``repr``.
    :param obtained_at: monotonic time it was received.
    :param lifetime: seconds it is valid for (``expires_in``), or None when Canvas gave none (the
        developer key does not expire tokens: it is then renewed only when Canvas refuses it).
    :param identity: who it acts as, for messages: ``Ada Lovelace (user id 2)`` or ``LTI tool 10000000000001``.
    :param scope: the scopes Canvas granted, space-separated, when it says.
    """

    access_token: str = field(repr=False)
    obtained_at: float
    lifetime: float | None
    identity: str
    scope: str | None = None

    @property
    def expires_at(self) -> float | None:
        """Monotonic time Canvas stops accepting it, or None."""
        return None if self.lifetime is None else self.obtained_at + self.lifetime

    def needs_renewal(self, now: float) -> bool:
        """True from shortly before expiry on (:data:`RENEW_MARGIN`, or a fifth of a short lifetime)."""
        if self.lifetime is None:
            return False
        margin = min(RENEW_MARGIN, self.lifetime / 5)
        return now >= self.obtained_at + self.lifetime - margin

    def describe(self) -> str:
        """``as Ada Lovelace (user id 2), token valid for 3600 s`` -- no secret."""
        validity = "no expiry" if self.lifetime is None else f"token valid for {self.lifetime:g} s"
        granted = f", scope {self.scope}" if self.scope else ""
        return f"as {self.identity} ({validity}{granted})"


def parse_token_answer(
    credentials: Credentials,
    status: int,
    body: bytes,
    *,
    now: float,
    label: str = "The Canvas connection",
    location: str | None = None,
) -> AccessGrant:
    """Read the token endpoint's answer into an :class:`AccessGrant`, or raise why not.

    :param now: monotonic time the answer arrived.
    :param label: the connection, for messages.
    :param location: the ``Location`` header of a redirect (redirects are never followed: the
        form holds the secrets).
    :raises CanvasCredentialsError: Canvas refused the credentials (names the field to fix).
    :raises CanvasTokenUnavailableError: a transient failure (5xx, throttle, proxy page): retried.
    """
    where = f"Canvas's token endpoint ({credentials.token_url})"
    payload = _json_or_none(body)
    if 200 <= status < 300:
        return _grant_from(credentials, payload, now=now, where=where, label=label)
    if isinstance(payload, Mapping) and isinstance(payload.get("error"), str):
        description = payload.get("error_description")
        text = description if isinstance(description, str) else None
        return _raise_refusal(credentials, status, payload["error"], text, where=where, label=label)
    snippet = _snippet(body)
    said = f" It said: {shown(snippet, 500)}." if snippet else ""
    if status == 429 or status >= 500 or status == 408 or (status == 403 and b"rate limit" in body.lower()):
        raise CanvasTokenUnavailableError(
            f"{where} answered {status}: no access token for now.{said} The Canvas call was not sent; it is retried.",
            method="POST",
            path=urlsplit(credentials.token_url).path,
            status=status,
            canvas_message=snippet,
        )
    hint = f"{status}, a redirect to {_origin_of(location)}" if 300 <= status < 400 else f"{status}"
    raise CanvasCredentialsError(
        f"{where} answered {hint}, not a token.{said} Check {label}'s token_url extra: it must be Canvas's "
        f"{TOKEN_PATH} (default: on the connection's host; hosted Canvas LTI keys: "
        "https://sso.canvaslms.com/login/oauth2/token).",
        method="POST",
        path=urlsplit(credentials.token_url).path,
        status=status,
        canvas_message=snippet,
    )


def _grant_from(credentials: Credentials, payload: Any, *, now: float, where: str, label: str) -> AccessGrant:
    token = payload.get("access_token") if isinstance(payload, Mapping) else None
    token_type = payload.get("token_type", "Bearer") if isinstance(payload, Mapping) else None
    if not isinstance(token, str) or not token.strip() or not isinstance(token_type, str):
        raise CanvasTokenUnavailableError(
            f"{where} answered 200 without an access token: a proxy or an unexpected answer. "
            "The Canvas call was not sent; it is retried.",
            method="POST",
            path=urlsplit(credentials.token_url).path,
            status=200,
        )
    if token_type.lower() != "bearer":
        raise CanvasCredentialsError(
            f"{where} issued a {shown(token_type)} token; Canvas's API takes Bearer tokens. Check {label}'s "
            f"token_url extra points at Canvas's {TOKEN_PATH}.",
            method="POST",
            path=urlsplit(credentials.token_url).path,
            status=200,
        )
    assert isinstance(payload, Mapping)
    expires_in = payload.get("expires_in")
    lifetime = (
        max(0.0, float(expires_in))
        if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool)
        else None
    )
    scope = payload.get("scope")
    return AccessGrant(
        access_token=token.strip(),
        obtained_at=now,
        lifetime=lifetime,
        identity=_identity(credentials, payload.get("user")),
        scope=scope if isinstance(scope, str) and scope else None,
    )


def _identity(credentials: Credentials, user: Any) -> str:
    if isinstance(credentials, LtiAdvantageCredentials):
        return f"LTI tool {credentials.client_id}"
    if isinstance(user, Mapping):
        name = user.get("name") or "an unnamed user"
        return f"{name} (user id {user.get('id')})"
    return f"the user of developer key {credentials.client_id}"


def _raise_refusal(
    credentials: Credentials, status: int, error: str, text: str | None, *, where: str, label: str
) -> AccessGrant:
    said = f" Canvas says: {error}" + (f" ({shown(text, 500)})." if text else ".")
    described = (text or "").lower()
    client = f"client_id {shown(credentials.client_id)}"
    lti = isinstance(credentials, LtiAdvantageCredentials)
    if error == "invalid_client" and "unknown" in described:
        fix = (
            f"{where} does not know {client}.{said} Set {label}'s client_id extra to the developer key's ID "
            "(Admin > Developer Keys, the number under Details) and check the key is On."
        )
    elif error == "invalid_client":
        fix = (
            f"{where} refused the client_secret of {client}.{said} Copy the developer key's secret "
            f"(Admin > Developer Keys > Show Key) into {label}'s client_secret extra."
        )
    elif "refresh_token not found" in described:
        fix = (
            f"{where} does not know {label}'s refresh_token (revoked, the user's authorization deleted, "
            f"or issued by another Canvas).{said} Run the OAuth2 authorization flow again and put the new "
            "refresh_token in the connection."
        )
    elif error == "invalid_grant" and "incorrect client" in described:
        fix = (
            f"{label}'s refresh_token was issued to another developer key than {client}.{said} Use the "
            "client_id and client_secret of the key that issued it, or a refresh_token obtained with this key."
        )
    elif error == "invalid_scope":
        asked = " ".join(credentials.scopes) if isinstance(credentials, LtiAdvantageCredentials) else "the scopes"
        fix = (
            f"The LTI developer key {client} does not grant {asked}.{said} Enable 'Can view Progress records "
            "associated with the context the tool is installed in' on the developer key (LTI Advantage "
            "Services) and save it."
        )
    elif lti and ("signature" in described or "jwk" in described):
        fix = (
            f"{where} could not verify the client assertion signed with {label}'s private_key for {client}.{said} "
            "The private key must match the public JWK registered on that LTI developer key (and key_id its "
            "kid, for a JWK set URL); check client_id is the key's Client ID."
        )
    elif lti and "'aud'" in described:
        fix = (
            f"{where} refused the client assertion's audience {shown(credentials.token_url, 300)}.{said} Set {label}'s "
            "token_url extra to the token endpoint your Canvas expects (hosted Canvas: "
            "https://sso.canvaslms.com/login/oauth2/token)."
        )
    elif lti and ("expired" in described or "'iat'" in described or "'exp'" in described):
        fix = (
            f"{where} refused the client assertion's timestamps.{said} The assertion is stamped with this "
            "machine's clock: check it is synchronised (NTP)."
        )
    elif error == "unsupported_grant_type":
        fix = (
            f"{where} does not accept this grant.{said} Check {label}'s token_url extra points at Canvas's "
            f"{TOKEN_PATH}."
        )
    else:
        fields = "client_id and private_key" if lti else "client_id, client_secret and refresh_token"
        fix = f"{where} refused {label}'s credentials ({status}).{said} Check its {fields} extras."
    raise CanvasCredentialsError(
        fix,
        method="POST",
        path=urlsplit(credentials.token_url).path,
        status=status,
        canvas_message=f"{error}: {text}" if text else error,
    )


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _snippet(body: bytes) -> str | None:
    text = re.sub(r"\s+", " ", body[:2000].decode("utf-8", "replace")).strip()
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE)
    if title:
        text = title.group(1).strip()
    return (text[:120] + ("…" if len(text) > 120 else "")) or None


def _origin_of(location: str | None) -> str:
    """Scheme, host and port of a redirect target: its path and query may hold secrets."""
    try:
        parts = urlsplit((location or "").strip())
        port = parts.port
    except ValueError:
        return "an address that is not a valid URL"
    if not parts.hostname:
        return "an address it did not name" if not location else "a path on the same host"
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")
