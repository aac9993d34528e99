"""The SIS side of one simulator: account settings, SIS permissions, batches, the file store.

It extends :class:`~.state.SimulatorState` without changing it: :func:`sis_state` keeps one
:class:`SisState` per simulator state (weakly, so it goes when the simulator goes).

Permissions are Canvas's two SIS rights: ``import_sis`` (create) and ``manage_sis`` (restore);
show, index, abort and errors accept either. A user with no entry holds both, so the default admin
can do everything; :meth:`SisState.set_permissions` narrows a user.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from .filestore import FileStore, Verifiers
from .sis_store import SisStore
from .state import SimulatorState

__all__ = ["SIS_PERMISSIONS", "SisAccount", "SisState", "sis_state"]

SIS_PERMISSIONS = frozenset({"import_sis", "manage_sis"})


@dataclass(frozen=True)
class SisAccount:
    """What ``check_account`` looks at: is it a root account, is SIS import enabled on it."""

    root: bool = True
    allow_sis_import: bool = True


class SisState:
    """Settings, permissions, batches, verifiers and the storage host of one simulator."""

    def __init__(self, state: SimulatorState) -> None:
        self.store = SisStore(state.catalog)
        self._catalog = state.catalog
        self.filestore = FileStore(state.clock, state.wall)
        self.verifiers = Verifiers(state.wall, state.clock)
        self._accounts: dict[int, SisAccount] = {}
        self._permissions: dict[int, frozenset[str]] = {}
        self._errors_files: dict[int, bytes] = {}
        self._lock = threading.Lock()

    def account(self, account_id: int) -> SisAccount:
        """An account's SIS settings: as set, else the school's (a root account has no parent; SIS import on)."""
        with self._lock:
            found = self._accounts.get(account_id)
        if found is not None:
            return found
        account = self._catalog.account(account_id)
        return SisAccount(root=account is None or account.parent_account_id is None)

    def set_account(self, account_id: int, settings: SisAccount) -> None:
        """Change an account's SIS settings."""
        with self._lock:
            self._accounts[account_id] = settings

    def permissions(self, user_id: int) -> frozenset[str]:
        """The SIS rights a user holds on root accounts."""
        with self._lock:
            return self._permissions.get(user_id, SIS_PERMISSIONS)

    def set_permissions(self, user_id: int, permissions: frozenset[str]) -> None:
        """Give a user exactly these SIS rights.

        :raises ValueError: for a right other than ``import_sis`` and ``manage_sis``.
        """
        unknown = set(permissions) - SIS_PERMISSIONS
        if unknown:
            raise ValueError(f"unknown SIS permissions: {sorted(unknown)}")
        with self._lock:
            self._permissions[user_id] = frozenset(permissions)

    def errors_file_override(self, batch_id: int) -> bytes | None:
        """A replacement body for an import's errors file, if a test set one."""
        with self._lock:
            return self._errors_files.get(batch_id)

    def set_errors_file(self, batch_id: int, body: bytes) -> None:
        """Serve ``body`` as an import's errors file (e.g. an oversized one)."""
        with self._lock:
            self._errors_files[batch_id] = body


_STATES: weakref.WeakKeyDictionary[SimulatorState, SisState] = weakref.WeakKeyDictionary()
_STATES_LOCK = threading.Lock()


def sis_state(state: SimulatorState) -> SisState:
    """The SIS state of a simulator, created on first use."""
    with _STATES_LOCK:
        found = _STATES.get(state)
        if found is None:
            found = _STATES[state] = SisState(state)
        return found
