"""Access tokens that renew themselves, with no I/O: OAuth2 refresh and LTI Advantage client credentials.

A personal access token is pasted once and used as is. Institutions mostly hold a *developer key*
instead, and then the access token is something this provider must obtain and renew itself, at
Canvas's token endpoint ``POST /login/oauth2/token`` (``app/controllers/oauth2_provider_controller.rb``):

* ``oauth2_refresh``: ``grant_type=refresh_token`` with the key's ``client_id``/``client_secret`` and a
  user's ``refresh_token``. Canvas answers ``{"access_token", "token_type": "Bearer", "user": {"id",
  "name", ...}, "expires_in"}`` (``lib/canvas/oauth/token.rb``; ``expires_in`` only when the key
  expires its tokens, an hour after issue). The refresh *regenerates* the user's access token
  (``AccessToken#regenerate_access_token``): the previous one stops working at once, answering 401
  ``Invalid access token.``, not ``Expired`` -- which is what another process holding the same
  refresh token sees after we refresh.
* ``lti_advantage``: ``grant_type=client_credentials`` with a JWT ``client_assertion`` signed RS256
  by the tool's private key (``lib/canvas/oauth/asymmetric_client_credentials_provider.rb``: the
  key's public JWK verifies it with ``:RS256`` only). ``Canvas::Security::JwtValidator`` requires
  ``iss sub aud exp iat jti``; ``aud`` must be the token endpoint's own URL, ``iat`` under five
  minutes old and not 30 s in the future. The answer is ``{"access_token", "token_type": "Bearer",
  "expires_in": 3600, "scope"}`` (``client_credentials_provider.rb``).

Errors come back as ``{"error": ..., "error_description": ...}`` (``lib/canvas/oauth/request_error.rb``):
401 ``invalid_client`` ("unknown client" / "invalid client"), 400 ``invalid_request`` ("refresh_token
not found", or the JWT validator's messages such as "JWS signature invalid."), 400 ``invalid_grant``
("incorrect client"), 400 ``invalid_scope``. They are turned here into errors that name the
connection field to fix.

Everything here is pure: the hook sends :class:`TokenRequest` and hands the answer to
:func:`parse_token_answer`; signing the assertion is CPU work, not I/O, so it lives here too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import jwt

from airflow_provider_canvas_progress.core.errors import (
    CanvasAuthError,
    CanvasConfigurationError,
    CanvasError,
    CanvasTokenExpiredError,
)
from airflow_provider_canvas_progress.core.keys import (
    PEM_BLOCK,
    SigningKey,
    load_signing_key,
    normalise_private_key,
)

# The token endpoint's errors live in the one exceptions module; re-exported here for old imports.
from airflow_provider_canvas_progress.exceptions import CanvasCredentialsError, CanvasTokenUnavailableError

__all__ = [
    "AUTH_LTI_ADVANTAGE",
    "AUTH_OAUTH2_REFRESH",
    "AUTH_TOKEN",
    "AUTH_TYPES",
    "JWT_BEARER",
    "LTI_PROGRESS_SCOPE",
    "TOKEN_PATH",
    "AccessGrant",
    "CanvasCredentialsError",
    "CanvasTokenUnavailableError",
    "Credentials",
    "LtiAdvantageCredentials",
    "OAuth2RefreshCredentials",
    "SigningKey",
    "TokenRequest",
    "check_token_reaches",
    "client_assertion",
    "is_renewable",
    "load_signing_key",
    "normalise_private_key",
    "parse_token_answer",
    "token_request",
]

AUTH_TOKEN = "token"
AUTH_OAUTH2_REFRESH = "oauth2_refresh"
AUTH_LTI_ADVANTAGE = "lti_advantage"
#: The values of the connection's ``auth_type`` extra.
AUTH_TYPES = (AUTH_TOKEN, AUTH_OAUTH2_REFRESH, AUTH_LTI_ADVANTAGE)

#: Canvas's token endpoint, on the Canvas host unless the ``token_url`` extra says otherwise.
TOKEN_PATH = "/login/oauth2/token"
#: RFC 7523 client authentication by a signed JWT, the only way Canvas accepts LTI client credentials.
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The scope ``GET /api/lti/courses/:course_id/progress/:id`` requires (``TokenScopes::LTI_AGS_SHOW_PROGRESS_SCOPE``).
LTI_PROGRESS_SCOPE = "https://canvas.instructure.com/lti-ags/progress/scope/show"
#: Canvas refuses an assertion whose ``iat`` is five minutes old; it is only used once, right away.
ASSERTION_LIFETIME = 300
#: Renew this long before Canvas says the token expires (or a fifth of its lifetime, if shorter),
#: so a request never leaves with a token that dies on the way.
RENEW_MARGIN = 60.0


# -- credentials ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OAuth2RefreshCredentials:
    """A developer key and a user's refresh token (``auth_type=oauth2_refresh``).

    :param client_id: the developer key's ID.
    :param client_secret: the developer key's secret ("Key"). Never shown by ``repr``.
    :param refresh_token: the user's refresh token from the OAuth2 authorization flow. Never shown.
    :param token_url: where to ask for access tokens.
    """

    kind: ClassVar[str] = AUTH_OAUTH2_REFRESH

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    token_url: str

    def secrets(self) -> tuple[str, ...]:
        """The values that must never be logged (for the secrets masker)."""
        return (self.client_secret, self.refresh_token)

    @property
    def fingerprint(self) -> str:
        """A digest of everything that identifies these credentials, for cache keys (no secret in it)."""
        return _digest(self.kind, self.client_id, self.token_url, *self.secrets())


@dataclass(frozen=True)
class LtiAdvantageCredentials:
    """An LTI Advantage developer key and the tool's private key (``auth_type=lti_advantage``).

    :param client_id: the LTI key's Client ID (also the assertion's ``iss`` and ``sub``).
    :param private_key: the RSA private key, as PEM or as a private JWK (JSON). Never shown.
    :param token_url: where to ask for access tokens; also the assertion's ``aud``.
    :param key_id: the ``kid`` header, for keys registered through a JWK set URL.
    :param scopes: the scopes asked for.
    """

    kind: ClassVar[str] = AUTH_LTI_ADVANTAGE

    client_id: str
    private_key: str = field(repr=False)
    token_url: str
    key_id: str | None = None
    scopes: tuple[str, ...] = (LTI_PROGRESS_SCOPE,)

    def secrets(self) -> tuple[str, ...]:
        """The key text, and its base64 body on one line (the form a one-line field or a log flattens it to).

        Not each line separately: Airflow's masker recompiles one regex of every secret for each
        new one, and a PEM has thirty lines.
        """
        match = PEM_BLOCK.search(self.private_key)
        body = re.sub(r"\s+", "", match["body"]) if match else ""
        return (self.private_key, body) if body else (self.private_key,)

    @property
    def fingerprint(self) -> str:
        """A digest of everything that identifies these credentials, for cache keys (no secret in it)."""
        return _digest(self.kind, self.client_id, self.token_url, self.key_id or "", *self.scopes, self.private_key)


Credentials = OAuth2RefreshCredentials | LtiAdvantageCredentials


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


# -- the request ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRequest:
    """One ``POST`` to the token endpoint, ready for any HTTP client.

    :param url: the token endpoint.
    :param form: the form fields; they hold the secrets, so ``repr`` never shows them.
    """

    url: str
    form: list[tuple[str, str]] = field(repr=False)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def label(self) -> str:
        """``POST /login/oauth2/token`` for messages: no host, no query, nothing secret."""
        return f"POST {self.path}"

    headers: ClassVar[Mapping[str, str]] = {
        "Accept": "application/json",
        "User-Agent": "airflow-provider-canvas-progress",
    }


def client_assertion(credentials: LtiAdvantageCredentials, key: SigningKey, *, now: float, jti: str) -> str:
    """The signed JWT that authenticates an LTI tool to Canvas's token endpoint.

    ``iss`` and ``sub`` are the client id (Canvas finds the developer key by ``sub``), ``aud`` the
    token URL (Canvas compares it with its own token URL), ``jti`` a fresh nonce.

    :param now: Unix time (wall clock: Canvas compares ``iat`` and ``exp`` with its own clock).
    """
    issued = int(now)
    claims = {
        "iss": credentials.client_id,
        "sub": credentials.client_id,
        "aud": credentials.token_url,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME,
        "jti": jti,
    }
    headers = {"kid": key.key_id} if key.key_id else None
    return jwt.encode(claims, key.key, algorithm="RS256", headers=headers)


def token_request(
    credentials: Credentials, *, now: float, jti: str, signing_key: SigningKey | None = None
) -> TokenRequest:
    """Build the token request for the credentials.

    :param now: Unix time, for the LTI assertion.
    :param jti: a fresh unique id, for the LTI assertion.
    :param signing_key: the loaded LTI key (:func:`load_signing_key`); loaded here if not given.
    """
    if isinstance(credentials, OAuth2RefreshCredentials):
        form = [
            ("grant_type", "refresh_token"),
            ("client_id", credentials.client_id),
            ("client_secret", credentials.client_secret),
            ("refresh_token", credentials.refresh_token),
        ]
        return TokenRequest(credentials.token_url, form)
    key = signing_key or load_signing_key(credentials.private_key, key_id=credentials.key_id)
    form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", client_assertion(credentials, key, now=now, jti=jti)),
        ("scope", " ".join(credentials.scopes)),
    ]
    return TokenRequest(credentials.token_url, form)


# -- the answer -----------------------------------------------------------------------------------


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
    said = f" It said: {snippet!r}." if snippet else ""
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
            f"{where} issued a {token_type!r} token; Canvas's API takes Bearer tokens. Check {label}'s "
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
    said = f" Canvas says: {error}" + (f" ({text!r})." if text else ".")
    described = (text or "").lower()
    client = f"client_id {credentials.client_id!r}"
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
            f"{where} refused the client assertion's audience {credentials.token_url!r}.{said} Set {label}'s "
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


def is_renewable(error: CanvasError) -> bool:
    """Whether a refused API call may succeed with a freshly obtained token.

    ``Expired access token.`` (``Access token expired`` on LTI routes) obviously; and ``Invalid
    access token.``, because a refresh by another process holding the same refresh token
    regenerates the user's token and so invalidates ours. Revoked tokens, missing scopes and
    permission errors are not: a new token would be refused the same way.
    """
    if isinstance(error, CanvasTokenExpiredError):
        return True
    return isinstance(error, CanvasAuthError) and (error.canvas_message or "").strip() == "Invalid access token."


def check_token_reaches(auth_type: str, path: str, *, label: str = "The Canvas connection", call: str = "") -> None:
    """Refuse, before any token is asked for, a call the connection's tokens cannot make.

    Canvas accepts LTI Advantage tokens on ``/api/lti/...`` only (``Lti::IMS::Concerns::LtiServices``);
    on ``/api/v1`` they are "Invalid access token.", which would look like a token to renew.

    :raises CanvasConfigurationError: an ``lti_advantage`` connection asked for anything else.
    """
    if auth_type == AUTH_LTI_ADVANTAGE and not path.startswith("/api/lti/"):
        raise CanvasConfigurationError(
            f"{label} uses auth_type=lti_advantage, and Canvas accepts LTI Advantage tokens on /api/lti/... "
            f"only, not on {call or path}. Read Progress with lti_course_id (or an LTI progress URL), or use a "
            "token or oauth2_refresh connection for this call."
        )


def refused_after_renewal(error: CanvasAuthError, *, label: str, client_id: str) -> CanvasAuthError:
    """The same error, explained for a token obtained just now (its own advice is about pasted tokens)."""
    said = f" Canvas says: {error.canvas_message!r}." if error.canvas_message else ""
    where = f"{error.method} {error.path}" if error.method and error.path else "the call"
    return type(error)(
        f"Canvas refused {where} ({error.status}) even with an access token obtained just now for {label}.{said} "
        f"Check that developer key {client_id} is On and allowed on this account, that its scopes include this "
        "endpoint, and that the token endpoint belongs to this Canvas.",
        method=error.method,
        path=error.path,
        status=error.status,
        canvas_message=error.canvas_message,
        progress_id=error.progress_id,
    )


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
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
