"""Canvas JSON: the Progress object, user JSON, and ``application/json+canvas-string-ids``.

Pure functions over plain data, so the shapes can be checked without a socket.
"""

from __future__ import annotations

import re
from typing import Any

from .clock import WallTime
from .identity import User
from .jobs import PENDING_STATES
from .store import ProgressView

__all__ = [
    "GLOBAL_ID_SHARD",
    "STRING_IDS_MEDIA_TYPE",
    "global_id",
    "local_id_of",
    "progress_json",
    "stringify_ids",
    "user_json",
]

STRING_IDS_MEDIA_TYPE = "application/json+canvas-string-ids"

#: Shard of simulated global ids: ``shard * 10**13 + local`` (``10000000000123``).
GLOBAL_ID_SHARD = 1
_SHARD_FACTOR = 10**13

_ID_KEY = re.compile(r"(^|_)id$")
_IDS_KEY = re.compile(r"(^|_)ids$")


def global_id(local_id: int, shard: int = GLOBAL_ID_SHARD) -> int:
    """Return the global form of a local id."""
    return shard * _SHARD_FACTOR + local_id


def local_id_of(raw: str) -> int | None:
    """Parse a path id, local or global (Canvas accepts both), into the local id.

    Returns ``None`` for text that is not an id, which the caller answers with 404.
    """
    if not raw.isdigit():
        return None
    value = int(raw)
    if value >= _SHARD_FACTOR:
        shard, local = divmod(value, _SHARD_FACTOR)
        return local if shard == GLOBAL_ID_SHARD else None
    return value


def progress_json(view: ProgressView, *, url: str, wall: WallTime, global_ids: bool = False) -> dict[str, Any]:
    """Render a Progress as ``lib/api/v1/progress.rb`` does.

    ``results`` is present only once the job is no longer pending and has results; otherwise the
    key is absent (never ``null``).
    """
    body: dict[str, Any] = {
        "id": global_id(view.local_id) if global_ids else view.local_id,
        "context_id": view.context_id,
        "context_type": view.context_type,
        "user_id": view.user_id,
        "tag": view.tag,
        "completion": view.completion,
        "workflow_state": view.workflow_state,
        "created_at": wall.iso(view.created_at),
        "updated_at": wall.iso(view.updated_at),
        "message": view.message,
        "url": url,
    }
    if view.workflow_state not in PENDING_STATES and view.results is not None:
        body["results"] = view.results
    return body


def user_json(user: User, *, wall: WallTime, created_at: float) -> dict[str, Any]:
    """Render ``GET /api/v1/users/self``."""
    return {
        "id": user.id,
        "name": user.name,
        "created_at": wall.iso(created_at),
        "sortable_name": user.sortable_name,
        "short_name": user.short_name,
        "sis_user_id": None,
        "integration_id": None,
        "sis_import_id": None,
        "login_id": user.login_id,
        "avatar_url": "https://canvas.instructure.com/images/messages/avatar-50.png",
        "locale": None,
        "effective_locale": "en",
    }


def stringify_ids(value: Any, key: str | None = None) -> Any:
    """Apply ``Accept: application/json+canvas-string-ids``.

    Every integer under a key matching ``(^|_)id$``, and every integer in an array under
    ``(^|_)ids$``, becomes a string, recursively (``results`` included). Booleans are not ids.
    """
    if isinstance(value, dict):
        return {k: stringify_ids(v, k) for k, v in value.items()}
    if isinstance(value, list):
        if key is not None and _IDS_KEY.search(key):
            return [str(v) if _is_int(v) else stringify_ids(v) for v in value]
        return [stringify_ids(v) for v in value]
    if key is not None and _is_int(value) and _ID_KEY.search(key):
        return str(value)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
