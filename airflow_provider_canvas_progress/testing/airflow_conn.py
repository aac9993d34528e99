"""Airflow connections to a simulator: the JSON and URI forms, with the CA bundle under HTTPS.

The hook reads ``host`` as the full base URL, ``password`` as the token and the ``verify`` extra
as ``True``, ``False`` or a CA bundle path: under HTTPS the connection names the simulator's CA,
so the hook verifies TLS exactly as it does against real Canvas.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from .developer_keys import LtiTool, OAuthClient

__all__ = ["connection_json", "connection_uri"]


def connection_json(
    base_url: str, token: str, *, credentials: OAuthClient | LtiTool | None = None, ca_bundle: str | None = None
) -> str:
    """``AIRFLOW_CONN_<ID>``'s JSON: the admin token, or a developer key's ``auth_type`` extras."""
    body: dict[str, Any] = {"conn_type": "canvas", "host": base_url}
    extra: dict[str, Any] = {}
    if credentials is not None:
        extra.update(credentials.connection_extra())
    else:
        body["password"] = token
    if ca_bundle is not None:
        extra["verify"] = ca_bundle
    if extra:
        body["extra"] = extra
    return json.dumps(body)


def connection_uri(base_url: str, token: str, *, ca_bundle: str | None = None) -> str:
    """``canvas://:<token>@<url-encoded base URL>[?verify=<CA bundle>]``.

    The host is URL-encoded because it carries a scheme and port, as Airflow's docs advise.
    """
    uri = f"canvas://:{quote(token, safe='')}@{quote(base_url, safe='')}"
    return uri if ca_bundle is None else f"{uri}?verify={quote(ca_bundle, safe='')}"
