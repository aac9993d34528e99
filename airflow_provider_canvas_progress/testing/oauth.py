"""``POST /login/oauth2/token``: Canvas's token endpoint, for the refresh and LTI client-credentials grants.

Following ``app/controllers/oauth2_provider_controller.rb#token`` and ``lib/canvas/oauth``:

* ``refresh_token``: the client is checked first (``GrantTypes::BaseType#token``: unknown id -> 401
  ``invalid_client``/"unknown client", wrong secret -> 401 "invalid client"), then the refresh token
  (missing -> 400 ``invalid_request``, unknown -> 400 "refresh_token not found", another key's ->
  400 ``invalid_grant``/"incorrect client"). The user's access token is then *regenerated*: the old
  one is gone ("Invalid access token."), the new one lives ``token_lifetime`` simulator seconds.
* ``client_credentials`` with a JWT ``client_assertion`` (``AsymmetricClientCredentialsProvider``):
  the key is found by the assertion's ``sub`` (unknown -> 401 "unknown client"), the signature
  checked against its public JWK with RS256 only (else 400 "JWS signature invalid."), then
  ``Canvas::Security::JwtValidator``'s rules (``iss sub aud exp iat jti`` present, ``aud`` is this
  endpoint's URL, not expired, ``iat`` under 300 s old and at most 30 s ahead) and the scopes (400
  ``invalid_scope``). The assertion's times are checked against the real wall clock, since the client
  signs them with it; the access token's expiry follows the simulator clock.

401 answers carry ``WWW-Authenticate: Canvas OAuth 2.0``. Client id and secret may come as form
fields or HTTP Basic, as Canvas reads both. Not simulated: ``authorization_code`` (answered as an
unsupported grant) and symmetric client credentials (refused as Canvas refuses them for ordinary keys).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

import jwt
from aiohttp import web

from . import errors
from .developer_keys import LtiTool
from .pipeline import STATE_KEY, BadParams, base_url, params_of
from .state import SimulatorState

__all__ = ["TOKEN_PATH", "register"]

TOKEN_PATH = "/login/oauth2/token"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: ``Canvas::Security::JwtValidator``: ``iat`` at most 5 minutes old, at most 30 s in the future.
MAX_IAT_AGE = 300
IAT_FUTURE_BUFFER = 30
_REQUIRED_CLAIMS = ("sub", "aud", "exp", "iat", "jti", "iss")


def oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    """``Canvas::OAuth::RequestError#to_render_data``: ``{"error", "error_description"}``."""
    headers = {"WWW-Authenticate": "Canvas OAuth 2.0"} if status == 401 else None
    return errors.json_response({"error": error, "error_description": description}, status, headers)


def _unknown_client() -> web.Response:
    return oauth_error("invalid_client", "unknown client", 401)


def _client_credentials(request: web.Request, params: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``params[:client_id].presence || basic_user``, and the same for the secret."""
    basic_user = basic_pass = None
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        with contextlib.suppress(binascii.Error, UnicodeDecodeError):
            basic_user, _, basic_pass = base64.b64decode(encoded).decode().partition(":")
    client_id = params.get("client_id") or basic_user
    secret = params.get("client_secret") or basic_pass
    return (str(client_id) if client_id else None, str(secret) if secret else None)


async def token(request: web.Request) -> web.StreamResponse:
    """Answer a token request."""
    state = request.app[STATE_KEY]
    try:
        params = await params_of(request)
    except BadParams as exc:
        return errors.bad_request(str(exc))
    grant_type = params.get("grant_type")
    if grant_type == "refresh_token":
        return _refresh_grant(state, *_client_credentials(request, params), params.get("refresh_token"))
    if grant_type == "client_credentials":
        if params.get("client_assertion_type") != JWT_BEARER:
            return oauth_error("invalid_request", "assertion method not supported for this grant_type")
        scope = params.get("scope") or params.get("scopes") or ""
        return _assertion_grant(state, request, str(params.get("client_assertion") or ""), str(scope).split())
    return oauth_error("unsupported_grant_type", "The grant_type you requested is not currently supported")


def _refresh_grant(
    state: SimulatorState, client_id: str | None, secret: str | None, refresh_token: Any
) -> web.Response:
    keys = state.developer_keys
    client = keys.oauth_client(client_id) if client_id else None
    if client is None:
        # An LTI key is a developer key too, but it has no secret a client could present.
        return (
            oauth_error("invalid_client", "invalid client", 401)
            if client_id and keys.lti_tool(client_id)
            else (_unknown_client())
        )
    if not secret or not secrets.compare_digest(secret, client.client_secret):
        return oauth_error("invalid_client", "invalid client", 401)
    if not refresh_token:
        return oauth_error(
            "invalid_request", "You must provide the refresh_token parameter when using the refresh_token grant type"
        )
    grant = keys.refresh_grant(str(refresh_token))
    if grant is None:
        return oauth_error("invalid_request", "refresh_token not found")
    if grant.client_id != client.client_id:
        return oauth_error("invalid_grant", "incorrect client")
    now = state.now()
    contexts = client.contexts if client.contexts is not None else (None if grant.user_id == 1 else frozenset())
    issued = state.identity.add_token(
        user_id=grant.user_id,
        contexts=contexts,
        expires_at=None if client.token_lifetime is None else now + client.token_lifetime,
        client_id=client.client_id,
    )
    keys.record_issued(client.client_id, issued.token)
    replaced = keys.swap_access_token(str(refresh_token), issued.token)
    if replaced is not None:
        # AccessToken#regenerate_access_token overwrites the token: the old one is simply unknown now.
        state.identity.remove_token(replaced)
    user = state.identity.ensure_user(grant.user_id)
    body: dict[str, Any] = {
        "access_token": issued.token,
        "token_type": "Bearer",
        "user": {"id": user.id, "name": user.name, "global_id": str(user.id), "effective_locale": "en"},
    }
    if client.token_lifetime is not None:
        body["expires_in"] = client.token_lifetime
    return errors.json_response(body)


def _assertion_grant(state: SimulatorState, request: web.Request, assertion: str, requested: list[str]) -> web.Response:
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        # Canvas's JSON::JWT.decode refuses it before any key is looked up (status unconfirmed).
        return oauth_error("invalid_request", "JWS signature invalid.")
    tool = state.developer_keys.lti_tool(str(unverified.get("sub", "")))
    if tool is None:
        return _unknown_client()
    claims = _verified_claims(tool, assertion)
    if claims is None:
        return oauth_error("invalid_request", "JWS signature invalid.")
    problems = _claim_problems(claims, expected_aud=f"{base_url(request)}{TOKEN_PATH}")
    if problems:
        return oauth_error("invalid_request", " | ".join(problems))
    missing = [scope for scope in requested if scope not in tool.scopes]
    if missing:
        return oauth_error(
            "invalid_scope",
            "A requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource "
            f"owner. The following scopes were requested, but not granted: {_sentence(missing)}",
        )
    now = state.now()
    issued = state.identity.add_token(
        kind="lti",
        scopes=requested,
        contexts=None if tool.courses is None else [("Course", course) for course in tool.courses],
        expires_at=None if tool.token_lifetime is None else now + tool.token_lifetime,
        client_id=tool.client_id,
    )
    state.developer_keys.record_issued(tool.client_id, issued.token)
    body: dict[str, Any] = {"access_token": issued.token, "token_type": "Bearer", "scope": " ".join(requested)}
    if tool.token_lifetime is not None:
        body["expires_in"] = tool.token_lifetime
    return errors.json_response(body)


def _verified_claims(tool: LtiTool, assertion: str) -> dict[str, Any] | None:
    """The assertion's claims if the tool's public key signed it with RS256, else ``None``."""
    try:
        key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(dict(tool.public_jwk)))
        claims: dict[str, Any] = jwt.decode(
            assertion,
            key=key,  # type: ignore[arg-type]
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    return claims


def _claim_problems(claims: Mapping[str, Any], *, expected_aud: str) -> list[str]:
    """``Canvas::Security::JwtValidator`` with ``require_iss``, ``full_errors`` and no jti check."""
    missing = [name for name in _REQUIRED_CLAIMS if name not in claims]
    if missing:
        return [f"the following assertions are missing: {','.join(missing)}"]
    problems: list[str] = []
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if expected_aud not in audiences:
        problems.append("the 'aud' is invalid")
    now = time.time()
    exp, iat = claims["exp"], claims["iat"]
    if not _is_number(exp):
        problems.append("the 'exp' must be a number")
    elif exp < now:
        problems.append("the JWT has expired")
    if not _is_number(iat):
        problems.append("the 'iat' must be a number")
    else:
        if iat < now - MAX_IAT_AGE:
            problems.append(f"the 'iat' must be less than {MAX_IAT_AGE} seconds old")
        if iat > now + IAT_FUTURE_BUFFER:
            problems.append("the 'iat' must not be in the future")
    return problems


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _sentence(items: list[str]) -> str:
    """Rails' ``to_sentence``: ``a``, ``a and b``, ``a, b, and c``."""
    if len(items) <= 2:
        return " and ".join(items)
    return f"{', '.join(items[:-1])}, and {items[-1]}"


def register(app: web.Application) -> None:
    """Add the token endpoint."""
    app.router.add_post(TOKEN_PATH, token)
