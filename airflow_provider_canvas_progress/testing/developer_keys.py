"""Developer keys: OAuth2 clients with users' refresh tokens, and LTI Advantage tools with public keys.

What the token endpoint (:mod:`.oauth`) checks credentials against. An :class:`OAuthClient` is a
developer key plus one user's refresh token (what an institution stores after the OAuth2
authorization flow); an :class:`LtiTool` is an LTI developer key with the tool's public JWK (and,
when the simulator made the key pair, the private key, so a test can configure a connection).
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .identity import LTI_PROGRESS_SCOPE

__all__ = ["DEFAULT_TOKEN_LIFETIME", "DeveloperKeys", "LtiTool", "OAuthClient", "RefreshGrant", "generate_rsa_key"]

#: Canvas expires a developer key's access tokens an hour after issue (``AccessToken#generate_token``).
DEFAULT_TOKEN_LIFETIME = 3600.0
#: Developer key ids are global ids on shard 1, like hosted Canvas's ``10000000000001``.
_FIRST_KEY_ID = 10000000000001


@dataclass(frozen=True)
class OAuthClient:
    """A developer key and one user's refresh token.

    :param client_id: the key's id (``client_id``).
    :param client_secret: the key's secret.
    :param refresh_token: the user's refresh token.
    :param user_id: whom the access tokens act as.
    :param token_lifetime: seconds (simulator clock) each access token lives; ``None`` never expires
        and the answer carries no ``expires_in``.
    :param contexts: what the user's tokens may read (see :class:`~.identity.AccessToken`).
    """

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    user_id: int = 1
    token_lifetime: float | None = DEFAULT_TOKEN_LIFETIME
    contexts: frozenset[tuple[str, int]] | None = None

    def connection_extra(self) -> dict[str, Any]:
        """The extras of an ``auth_type=oauth2_refresh`` Airflow connection using this client."""
        return {
            "auth_type": "oauth2_refresh",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
        }


@dataclass(frozen=True)
class LtiTool:
    """An LTI Advantage developer key.

    :param client_id: the key's Client ID (the assertion's ``sub``).
    :param public_jwk: the registered public JWK that verifies client assertions.
    :param private_key: the matching private key (PKCS#8 PEM), only when the simulator generated it.
    :param key_id: the JWK's ``kid``.
    :param scopes: the scopes the key may grant.
    :param courses: the courses the tool is installed in; ``None``: every course.
    :param token_lifetime: seconds (simulator clock) each access token lives (Canvas: 3600).
    """

    client_id: str
    public_jwk: Mapping[str, Any]
    private_key: str | None = field(default=None, repr=False)
    key_id: str | None = None
    scopes: frozenset[str] = frozenset({LTI_PROGRESS_SCOPE})
    courses: frozenset[int] | None = None
    token_lifetime: float | None = DEFAULT_TOKEN_LIFETIME

    def connection_extra(self) -> dict[str, Any]:
        """The extras of an ``auth_type=lti_advantage`` Airflow connection using this tool.

        :raises ValueError: the private key was yours (``public_jwk`` given): add it yourself.
        """
        if self.private_key is None:
            raise ValueError("this tool was registered with your public key; put your private key in the extras")
        extra: dict[str, Any] = {
            "auth_type": "lti_advantage",
            "client_id": self.client_id,
            "private_key": self.private_key,
        }
        if self.key_id:
            extra["key_id"] = self.key_id
        return extra


@dataclass
class RefreshGrant:
    """A refresh token and the one access token it currently backs (Canvas regenerates it in place)."""

    client_id: str
    user_id: int
    access_token: str | None = None


def generate_rsa_key(key_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """A fresh 2048-bit RSA key pair: ``(private PKCS#8 PEM, public JWK)``."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    jwk: dict[str, Any] = dict(RSAAlgorithm.to_jwk(private.public_key(), as_dict=True))
    jwk.update({"alg": "RS256", "use": "sig"})
    if key_id:
        jwk["kid"] = key_id
    return pem, jwk


class DeveloperKeys:
    """The simulator's developer keys and refresh tokens (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(_FIRST_KEY_ID)
        self._clients: dict[str, OAuthClient] = {}
        self._tools: dict[str, LtiTool] = {}
        self._refresh: dict[str, RefreshGrant] = {}
        self._issued: dict[str, list[str]] = {}

    def _new_id(self, client_id: str | None) -> str:
        with self._lock:
            return client_id if client_id is not None else str(next(self._ids))

    def add_oauth_client(
        self,
        client_id: str | None = None,
        *,
        client_secret: str | None = None,
        user_id: int = 1,
        token_lifetime: float | None = DEFAULT_TOKEN_LIFETIME,
        contexts: Iterable[tuple[str, int]] | None = None,
    ) -> OAuthClient:
        """Register a developer key with one refresh token for ``user_id``."""
        client = OAuthClient(
            client_id=self._new_id(client_id),
            client_secret=client_secret if client_secret is not None else secrets.token_urlsafe(48),
            refresh_token=f"1~{secrets.token_urlsafe(48)}",
            user_id=user_id,
            token_lifetime=token_lifetime,
            contexts=frozenset((str(t), int(i)) for t, i in contexts) if contexts is not None else None,
        )
        with self._lock:
            self._clients[client.client_id] = client
            self._refresh[client.refresh_token] = RefreshGrant(client.client_id, user_id)
        return client

    def issue_refresh_token(self, client_id: str, user_id: int) -> str:
        """Another refresh token of an OAuth client, for another user (or the same one again).

        :raises KeyError: unknown client.
        """
        with self._lock:
            if client_id not in self._clients:
                raise KeyError(f"no OAuth client {client_id!r}")
            token = f"1~{secrets.token_urlsafe(48)}"
            self._refresh[token] = RefreshGrant(client_id, user_id)
            return token

    def revoke_refresh_token(self, refresh_token: str) -> RefreshGrant | None:
        """Delete a refresh token (the user removed the authorization); returns what it was."""
        with self._lock:
            return self._refresh.pop(refresh_token, None)

    def add_lti_tool(
        self,
        client_id: str | None = None,
        *,
        public_jwk: Mapping[str, Any] | None = None,
        key_id: str | None = None,
        scopes: Iterable[str] = (LTI_PROGRESS_SCOPE,),
        courses: Iterable[int] | None = None,
        token_lifetime: float | None = DEFAULT_TOKEN_LIFETIME,
    ) -> LtiTool:
        """Register an LTI developer key; with no ``public_jwk``, a key pair is generated for it."""
        private_key: str | None = None
        if public_jwk is None:
            private_key, public_jwk = generate_rsa_key(key_id)
        tool = LtiTool(
            client_id=self._new_id(client_id),
            public_jwk=dict(public_jwk),
            private_key=private_key,
            key_id=key_id or public_jwk.get("kid"),
            scopes=frozenset(scopes),
            courses=frozenset(int(c) for c in courses) if courses is not None else None,
            token_lifetime=token_lifetime,
        )
        with self._lock:
            self._tools[tool.client_id] = tool
        return tool

    def set_lifetime(self, client_id: str, token_lifetime: float | None) -> None:
        """Change how long the tokens a key issues from now on live.

        :raises KeyError: unknown client.
        """
        with self._lock:
            if client_id in self._clients:
                self._clients[client_id] = replace(self._clients[client_id], token_lifetime=token_lifetime)
            elif client_id in self._tools:
                self._tools[client_id] = replace(self._tools[client_id], token_lifetime=token_lifetime)
            else:
                raise KeyError(f"no developer key {client_id!r}")

    def oauth_client(self, client_id: str) -> OAuthClient | None:
        """The OAuth client, or ``None``."""
        with self._lock:
            return self._clients.get(client_id)

    def lti_tool(self, client_id: str) -> LtiTool | None:
        """The LTI tool, or ``None``."""
        with self._lock:
            return self._tools.get(client_id)

    def refresh_grant(self, refresh_token: str) -> RefreshGrant | None:
        """The grant behind a refresh token, or ``None``."""
        with self._lock:
            return self._refresh.get(refresh_token)

    def record_issued(self, client_id: str, access_token: str) -> None:
        """Remember that the token endpoint issued ``access_token`` to ``client_id``."""
        with self._lock:
            self._issued.setdefault(client_id, []).append(access_token)

    def issued(self, client_id: str) -> list[str]:
        """Access tokens issued to a developer key, oldest first."""
        with self._lock:
            return list(self._issued.get(client_id, ()))

    def swap_access_token(self, refresh_token: str, new_token: str) -> str | None:
        """Record the refresh token's regenerated access token; return the one it replaces."""
        with self._lock:
            grant = self._refresh[refresh_token]
            old, grant.access_token = grant.access_token, new_token
            return old
