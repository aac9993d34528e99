"""Provider metadata that Airflow's ProvidersManager reads through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_canvas_progress import __version__
from airflow_provider_canvas_progress.connection_form import provider_info_connection_type

PACKAGE = "airflow_provider_canvas_progress"


def get_provider_info() -> dict[str, Any]:
    """Describe the provider: its hooks, sensors, operators, triggers, connection type and links.

    The connection type carries the connection form (``conn-fields``, ``ui-field-behaviour``), which
    Airflow >= 3.2 reads from here instead of calling the hook; older Airflow ignores those keys.
    """
    return {
        "package-name": "airflow-provider-canvas-progress",
        "name": "Canvas LMS Progress",
        "description": "Wait on, cancel and branch on Canvas LMS background jobs (Progress objects).",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Canvas LMS",
                "external-doc-url": "https://canvas.instructure.com/doc/api/progress.html",
                "tags": ["software"],
            }
        ],
        "hooks": [{"integration-name": "Canvas LMS", "python-modules": [f"{PACKAGE}.hooks.canvas"]}],
        "sensors": [
            {
                "integration-name": "Canvas LMS",
                "python-modules": [
                    f"{PACKAGE}.sensors.progress",
                    f"{PACKAGE}.sensors.sis",
                    f"{PACKAGE}.sensors.reports",
                ],
            }
        ],
        "operators": [
            {
                "integration-name": "Canvas LMS",
                "python-modules": [
                    f"{PACKAGE}.operators.progress",
                    f"{PACKAGE}.operators.jobs",
                    f"{PACKAGE}.operators.sis",
                    f"{PACKAGE}.operators.reports",
                ],
            }
        ],
        "triggers": [{"integration-name": "Canvas LMS", "python-modules": [f"{PACKAGE}.triggers.progress"]}],
        "connection-types": [provider_info_connection_type()],
        "extra-links": [
            f"{PACKAGE}.links.CanvasProgressLink",
            f"{PACKAGE}.links.CanvasContextLink",
        ],
    }
