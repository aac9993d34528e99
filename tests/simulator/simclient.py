"""A thin ``requests`` client bound to one simulator, shared by the simulator's tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from airflow_provider_canvas_progress.testing import CanvasSimulator

STRING_IDS = "application/json+canvas-string-ids"


@dataclass
class Api:
    """``requests`` bound to one simulator and a token (``token=None`` sends no credentials)."""

    sim: CanvasSimulator
    session: requests.Session
    token: str | None

    def call(self, method: str, path: str, *, token: Any = "default", **kwargs: Any) -> requests.Response:
        secret = self.token if token == "default" else token
        headers = dict(kwargs.pop("headers", {}))
        if secret is not None:
            headers["Authorization"] = f"Bearer {secret}"
        return self.session.request(method, self.sim.base_url + path, headers=headers, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PUT", path, **kwargs)
