"""The benchmarks' own Airflow connection source, counting how often each connection is read.

Configured as Airflow's secrets backend (``[secrets] backend``, the public seam every deployment
uses for Vault, AWS and the like), so every client under test reads its connection through
Airflow as it would in production, and the benchmark learns how many reads each style made
without touching any client's code. In Airflow 3's triggerer each such read is a round trip to
the API server; here it is a dictionary look-up, so the count, not the CPU, is the figure to read.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

#: The environment variable holding the connections served: ``{"conn_id": {connection JSON}}``.
VARIABLE = "CANVAS_BENCH_CONNECTIONS"
#: This process's reads so far, per connection id.
READS: Counter[str] = Counter()


def environment(connections: dict[str, dict[str, object]]) -> dict[str, str]:
    """The environment that makes Airflow read ``connections`` from this source (and count them)."""
    return {
        "AIRFLOW__SECRETS__BACKEND": f"{__name__}.{CountingConnections.__name__}",
        VARIABLE: json.dumps(connections),
    }


class CountingConnections:
    """Serves the connections of :data:`VARIABLE` and counts each read in :data:`READS`.

    Shaped like Airflow's ``BaseSecretsBackend`` rather than derived from it: Airflow imports this
    class while ``airflow`` itself is still being imported, so the module must not import Airflow.
    """

    def __init__(self, **kwargs: object) -> None:
        self._connections: dict[str, object] = json.loads(os.environ.get(VARIABLE, "{}"))
        self._connection_class: Any = None

    def _set_connection_class(self, connection_class: Any) -> None:
        """Airflow says which ``Connection`` class its context uses (as for its own backends)."""
        self._connection_class = connection_class

    def get_conn_value(self, conn_id: str, team_name: str | None = None) -> str | None:
        value = self._connections.get(conn_id)
        if value is None:
            return None
        READS[conn_id] += 1
        return json.dumps(value)

    def get_connection(self, conn_id: str, team_name: str | None = None) -> Any:
        value = self.get_conn_value(conn_id)
        if value is None:
            return None
        if self._connection_class is None:
            from airflow.sdk import Connection

            self._connection_class = Connection
        return self._connection_class.from_json(value, conn_id=conn_id)

    def get_variable(self, key: str, team_name: str | None = None) -> str | None:
        return None

    def get_config(self, key: str) -> str | None:
        return None
