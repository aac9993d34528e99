"""Fixtures shared by the specification tests of the sans-IO core.

Settings are immutable, so they are session-scoped: hypothesis tests may use them safely.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_canvas_progress.core.settings import CanvasSettings, settings_from_connection


@pytest.fixture(scope="session")
def token() -> str:
    """Shaped like a real Canvas token (``<shard>~<64 chars>``), and unlike any text Canvas sends back."""
    return "7~SeCrEtT0kEnZqXvW8yR3uJ6pLm2NbHgFdSa9KoIeUtYrEwQzXcVbNmLkJhGfDsAq"


@pytest.fixture(scope="session")
def settings(token: str) -> CanvasSettings:
    """A valid connection ``canvas_default`` to ``https://school.instructure.com`` holding ``token``."""
    return settings_from_connection(conn_id="canvas_default", host="school.instructure.com", password=token)


@pytest.fixture
def progress_payload() -> dict[str, Any]:
    """A running Progress exactly as ``GET /api/v1/progress/:id`` renders it (no ``results`` key)."""
    return {
        "id": 123,
        "context_id": 1,
        "context_type": "Account",
        "user_id": 5,
        "tag": "course_batch_update",
        "completion": 55.0,
        "workflow_state": "running",
        "created_at": "2013-01-15T15:00:00Z",
        "updated_at": "2013-01-15T15:04:00Z",
        "message": None,
        "url": "https://school.instructure.com/api/v1/progress/123",
    }
