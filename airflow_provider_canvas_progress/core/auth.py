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


def __getattr__(name: str) -> Any:
    """``AccessGrant`` and ``parse_token_answer`` moved to :mod:`.grants`; still importable from here."""
    if name in ("AccessGrant", "parse_token_answer"):
        from airflow_provider_canvas_progress.core import grants

        return getattr(grants, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
