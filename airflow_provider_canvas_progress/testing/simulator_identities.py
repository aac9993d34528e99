"""The part of :class:`~.simulator.CanvasSimulator`'s API that registers users, tokens and developer keys."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .clock import Clock
from .developer_keys import DEFAULT_TOKEN_LIFETIME, LtiTool, OAuthClient
from .identity import LTI_PROGRESS_SCOPE, TokenKind, TokenState, User
from .state import SimulatorState

__all__ = ["IdentityMethods"]


class IdentityMethods:
    """Users, access tokens and developer keys of a simulator (mixed into ``CanvasSimulator``)."""

    _state: SimulatorState
    clock: Clock

    def add_user(self, user_id: int, *, name: str | None = None, login_id: str | None = None) -> None:
        """Register a user (for ``/users/self`` and as a token owner)."""
        self._state.identity.add_user(User.named(user_id, name or f"User {user_id}", login_id))

    def add_token(
        self,
        token: str | None = None,
        *,
        user_id: int = 1,
        state: TokenState = "valid",
        kind: TokenKind = "user",
        scopes: Iterable[str] | None = None,
        contexts: Iterable[tuple[str, int]] | None = None,
        expired_at: str | None = None,
    ) -> str:
        """Register an access token and return its secret.

        :param token: the secret; random if ``None``.
        :param user_id: its owner (registered as "User <id>" if unknown).
        :param state: ``valid``, ``expired`` or ``revoked``.
        :param kind: ``user`` or ``lti`` (LTI Advantage; accepted only on ``/api/lti``).
        :param scopes: developer-key scopes (``url:GET|/api/v1/progress/:id``; for LTI, IMS scope URLs);
            ``None`` is unscoped for user tokens and no scope at all for LTI tokens.
        :param contexts: ``(context_type, id)`` pairs it may read; default: every context for user 1,
            only its own User context for anyone else; for LTI tokens, the courses its tool is in
            (default: all).
        :param expired_at: the ``expired_at`` of the expired-token error (default: the clock's now).
        """
        self._state.identity.ensure_user(user_id)
        if contexts is None and kind == "user" and user_id != 1:
            contexts = ()
        if state == "expired" and expired_at is None:
            expired_at = self._state.wall.iso(self.clock.now())
        return self._state.identity.add_token(
            token, user_id=user_id, state=state, kind=kind, scopes=scopes, contexts=contexts, expired_at=expired_at
        ).token

    def add_oauth_client(
        self,
        client_id: str | None = None,
        *,
        client_secret: str | None = None,
        user_id: int = 1,
        token_lifetime: float | None = DEFAULT_TOKEN_LIFETIME,
        contexts: Iterable[tuple[str, int]] | None = None,
    ) -> OAuthClient:
        """Register a developer key and a refresh token of ``user_id``, for ``auth_type=oauth2_refresh``.

        :param client_id: the key's id; a Canvas-like global id if ``None``.
        :param client_secret: the key's secret; random if ``None``.
        :param user_id: whom its access tokens act as (registered as "User <id>" if unknown).
        :param token_lifetime: seconds on the simulator clock each access token lives (Canvas: an
            hour); short ones make tokens expire during a test's wait. ``None``: never, and the
            answer carries no ``expires_in``.
        :param contexts: what its tokens may read; default as for :meth:`add_token`.
        :returns: the client, with ``connection_extra()`` for an Airflow connection.
        """
        self._state.identity.ensure_user(user_id)
        return self._state.developer_keys.add_oauth_client(
            client_id, client_secret=client_secret, user_id=user_id, token_lifetime=token_lifetime, contexts=contexts
        )

    def issue_refresh_token(self, client_id: str, *, user_id: int = 1) -> str:
        """Another refresh token of an OAuth client (another user's, or a second one of the same user).

        :raises KeyError: unknown client.
        """
        self._state.identity.ensure_user(user_id)
        return self._state.developer_keys.issue_refresh_token(client_id, user_id)

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """Delete a user's authorization: the refresh token and its current access token stop working."""
        grant = self._state.developer_keys.revoke_refresh_token(refresh_token)
        if grant is not None and grant.access_token is not None:
            self._state.identity.remove_token(grant.access_token)

    def add_lti_tool(
        self,
        client_id: str | None = None,
        *,
        public_jwk: dict[str, Any] | None = None,
        key_id: str | None = None,
        scopes: Iterable[str] = (LTI_PROGRESS_SCOPE,),
        courses: Iterable[int] | None = None,
        token_lifetime: float | None = DEFAULT_TOKEN_LIFETIME,
    ) -> LtiTool:
        """Register an LTI Advantage developer key, for ``auth_type=lti_advantage``.

        :param public_jwk: the tool's public RSA JWK; if ``None`` a key pair is generated and the
            private key is on the returned tool (``tool.private_key``, ``tool.connection_extra()``).
        :param key_id: the key's ``kid``.
        :param scopes: what the key may grant (default: the LTI progress scope only).
        :param courses: the courses the tool is installed in; ``None``: all.
        :param token_lifetime: seconds on the simulator clock each access token lives (Canvas: an hour).
        """
        return self._state.developer_keys.add_lti_tool(
            client_id,
            public_jwk=public_jwk,
            key_id=key_id,
            scopes=scopes,
            courses=courses,
            token_lifetime=token_lifetime,
        )

    def set_token_lifetime(self, client_id: str, seconds: float | None) -> None:
        """Change how long the access tokens a developer key issues from now on live.

        :raises KeyError: unknown developer key.
        """
        self._state.developer_keys.set_lifetime(client_id, seconds)

    def issued_tokens(self, client_id: str) -> list[str]:
        """The access tokens the token endpoint issued to a developer key, oldest first."""
        return self._state.developer_keys.issued(client_id)
