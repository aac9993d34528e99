"""What ``test_connection`` says, from what Canvas answered: who the connection acts as, or why not.

Airflow's UI shows the text as is, so it is built only from the connection's public parts and
Canvas's answer (bounded), never from a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_canvas_progress.core.auth import AUTH_TOKEN, LTI_PROGRESS_SCOPE
from airflow_provider_canvas_progress.core.grants import AccessGrant
from airflow_provider_canvas_progress.core.settings import CanvasSettings

#: The endpoint that says whose token it is.
USERS_SELF = "/api/v1/users/self"


def user_check(settings: CanvasSettings, user: Any) -> tuple[bool, str]:
    """The verdict on ``GET /api/v1/users/self``'s answer."""
    if not isinstance(user, Mapping):
        return False, f"Canvas at {settings.base_url} answered users/self with {type(user).__name__}."
    name = str(user.get("name") or user.get("short_name") or "an unnamed user")[:200]
    via = ""
    if settings.auth_type != AUTH_TOKEN and settings.credentials is not None:
        via = f" through developer key {settings.credentials.client_id} (tokens renewed automatically)"
    return True, f"Connected to {settings.base_url} as {name} (user id {str(user.get('id'))[:40]}){via}."


def lti_grant_check(settings: CanvasSettings, grant: AccessGrant) -> tuple[bool, str]:
    """The verdict on an LTI tool's token: it must carry the progress scope."""
    if grant.scope is not None and LTI_PROGRESS_SCOPE not in grant.scope.split():
        client_id = settings.credentials.client_id if settings.credentials is not None else "?"
        return False, (
            f"Canvas granted LTI tool {client_id} the scopes {grant.scope[:500]!r}, without "
            f"{LTI_PROGRESS_SCOPE}: enable it on the LTI developer key."
        )
    return True, f"Connected to {settings.base_url} {grant.describe()}; it may read LTI progress."
