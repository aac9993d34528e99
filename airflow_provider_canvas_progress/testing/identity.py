"""Users and access tokens: who is calling, and what they may see.

Permissions are modelled simply: a token either reads every context (``contexts=None``, the
default for the admin user) or only the contexts listed, plus its own user. That is enough to
produce Canvas's permission error for "authenticated, but not allowed".
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "LTI_PROGRESS_SCOPE",
    "AccessToken",
    "Identity",
    "TokenKind",
    "TokenState",
    "User",
]

TokenState = Literal["valid", "expired", "revoked"]
TokenKind = Literal["user", "lti"]

#: The scope an LTI Advantage token needs for ``GET /api/lti/courses/:course_id/progress/:id``.
LTI_PROGRESS_SCOPE = "https://canvas.instructure.com/lti-ags/progress/scope/show"

_STATES = ("valid", "expired", "revoked")
_KINDS = ("user", "lti")


@dataclass(frozen=True)
class User:
    """A Canvas user, as ``/api/v1/users/self`` shows it."""

    id: int
    name: str
    sortable_name: str
    short_name: str
    login_id: str

    @classmethod
    def named(cls, user_id: int, name: str, login_id: str | None = None) -> User:
        """Build a user the way Canvas derives ``sortable_name`` ("Last, First") from ``name``."""
        parts = name.split()
        sortable = f"{parts[-1]}, {' '.join(parts[:-1])}" if len(parts) > 1 else name
        return cls(user_id, name, sortable, name, login_id or f"user{user_id}@example.edu")


@dataclass(frozen=True)
class AccessToken:
    """An access token the simulator knows.

    :param token: the secret, as sent in ``Authorization: Bearer``.
    :param user_id: whose token it is.
    :param state: ``valid``, ``expired`` (401 with ``expired_at``) or ``revoked``.
    :param kind: ``user`` (a personal access token) or ``lti`` (an LTI Advantage token, only
        accepted on ``/api/lti/...``).
    :param scopes: developer-key scopes; ``None`` means unscoped. User-token scopes look like
        ``url:GET|/api/v1/progress/:id``; LTI scopes are IMS URLs.
    :param contexts: ``(context_type, context_id)`` pairs the token may read and act on; ``None``
        means every context. For LTI tokens, ``("Course", id)`` pairs name the courses the tool is
        installed in.
    :param expired_at: ISO 8601 text for the expired-token error.
    :param expires_at: the simulator-clock reading from which the token is expired (tokens issued
        by the token endpoint); ``None`` never expires by time.
    :param client_id: the developer key that issued it, if any.
    """

    token: str
    user_id: int
    state: TokenState = "valid"
    kind: TokenKind = "user"
    scopes: frozenset[str] | None = None
    contexts: frozenset[tuple[str, int]] | None = None
    expired_at: str | None = None
    expires_at: float | None = None
    client_id: str | None = None

    def is_expired(self, now: float) -> bool:
        """Whether Canvas would answer "expired" for this token at clock reading ``now``."""
        return self.state == "expired" or (self.expires_at is not None and now >= self.expires_at)

    def can_access(self, context_type: str, context_id: int, *, account_id: int | None = None) -> bool:
        """Whether this token may read (and start jobs on) the context.

        :param account_id: for a Course, its account: account access covers its courses.
        """
        if self.contexts is None:
            return True
        if (context_type, context_id) in self.contexts:
            return True
        if context_type == "User" and context_id == self.user_id:
            return True
        return account_id is not None and ("Account", account_id) in self.contexts


class Identity:
    """The simulator's users and tokens (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[int, User] = {}
        self._tokens: dict[str, AccessToken] = {}

    def add_user(self, user: User) -> User:
        """Register (or replace) a user."""
        with self._lock:
            self._users[user.id] = user
            return user

    def ensure_user(self, user_id: int) -> User:
        """Return the user, registering ``"User <id>"`` if unknown (tokens always belong to someone)."""
        with self._lock:
            if user_id not in self._users:
                self._users[user_id] = User.named(user_id, f"User {user_id}")
            return self._users[user_id]

    def user(self, user_id: int) -> User | None:
        """Return the user, or ``None``."""
        with self._lock:
            return self._users.get(user_id)

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
        expires_at: float | None = None,
        client_id: str | None = None,
    ) -> AccessToken:
        """Register a token (a random Canvas-looking one if ``token`` is ``None``) and return it.

        :raises ValueError: on an unknown state or kind.
        """
        if state not in _STATES:
            raise ValueError(f"token state must be one of {_STATES}, got {state!r}")
        if kind not in _KINDS:
            raise ValueError(f"token kind must be one of {_KINDS}, got {kind!r}")
        secret = token if token is not None else f"1~{secrets.token_urlsafe(48)}"
        record = AccessToken(
            token=secret,
            user_id=user_id,
            state=state,
            kind=kind,
            scopes=frozenset(scopes) if scopes is not None else None,
            contexts=frozenset((str(t), int(i)) for t, i in contexts) if contexts is not None else None,
            expired_at=expired_at,
            expires_at=expires_at,
            client_id=client_id,
        )
        with self._lock:
            self._tokens[secret] = record
        return record

    def remove_token(self, secret: str) -> None:
        """Forget a token: Canvas then answers ``Invalid access token.`` for it."""
        with self._lock:
            self._tokens.pop(secret, None)

    def token(self, secret: str) -> AccessToken | None:
        """Return the token record for a secret, or ``None`` if unknown."""
        with self._lock:
            return self._tokens.get(secret)
