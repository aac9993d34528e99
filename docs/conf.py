"""Sphinx configuration for the airflow-provider-canvas-progress documentation.

Built by ``make docs`` with warnings as errors. Pages are MyST Markdown; the API reference is
autodoc over the installed package, so the build imports Airflow: it gets a throwaway
``AIRFLOW_HOME`` below, and never reads or writes a developer's own.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# Before anything imports Airflow (autodoc does): no ~/airflow, no developer connections.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="canvas-provider-docs-airflow-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
for key in [k for k in os.environ if k.startswith("AIRFLOW_CONN_")]:
    del os.environ[key]
# The package is installed (editable) in the docs venv; the checkout root is a fallback for a bare checkout.
sys.path.insert(0, str(ROOT))

from airflow_provider_canvas_progress import __version__  # noqa: E402

project = "airflow-provider-canvas-progress"
author = "airflow-provider-canvas-progress maintainers"
copyright = "the airflow-provider-canvas-progress maintainers; Apache License 2.0"
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
# benchmarks.md is written by `make bench`; it is shown inside performance.md when present.
exclude_patterns = ["_build", "benchmarks.md", "benchmarks/**", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence", "deflist", "fieldlist"]
myst_heading_anchors = 3

autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autoclass_content = "class"

intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

html_theme = "furo"
html_title = f"Canvas Progress provider {release}"
html_static_path: list[str] = []

BENCHMARK_RESULTS = DOCS / "benchmarks.md"
RESULTS_MARKER = "<!-- benchmark-results -->"


def _benchmark_results(app: object, docname: str, source: list[str]) -> None:
    """Show ``docs/benchmarks.md`` (written by ``make bench``) on the benchmarks page, if present.

    An ``{include}`` of a missing file is a warning, and warnings fail the build; so the directive
    is only written into the page when the results exist, and a note is written otherwise.
    """
    if docname != "performance" or RESULTS_MARKER not in source[0]:
        return
    if BENCHMARK_RESULTS.exists():
        # Its own title becomes a section of this page.
        block = "```{include} benchmarks.md\n:heading-offset: 1\n:relative-images:\n```\n"
    else:
        block = (
            "## Results\n\n```{note}\nNo results in this build: `docs/benchmarks.md` has not been "
            "generated. Run `make bench`, then `make docs`.\n```\n"
        )
    source[0] = source[0].replace(RESULTS_MARKER, block)


def setup(app: object) -> None:
    app.connect("source-read", _benchmark_results)  # type: ignore[attr-defined]
