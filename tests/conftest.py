"""Suite-wide set-up: a throwaway Airflow home, configured before anything imports Airflow.

Tests never touch a developer's own ``AIRFLOW_HOME``, never read their connections, and run the
test DAGs (``tests/dags``) and the example DAGs (``example_dags``) from one dags folder, which
Airflow 3's ``dag.test()`` re-parses.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOME = Path(tempfile.mkdtemp(prefix="canvas-provider-airflow-"))
DAGS = HOME / "dags"
DAGS.mkdir()
for source in (ROOT / "tests" / "dags", ROOT / "example_dags"):
    for file in source.glob("*.py"):
        (DAGS / file.name).symlink_to(file)

for key in [k for k in os.environ if k.startswith(("AIRFLOW_CONN_", "AIRFLOW__", "AIRFLOW_VAR_"))]:
    del os.environ[key]
os.environ.update(
    {
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME}/airflow.db",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }
)
