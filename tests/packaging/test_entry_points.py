"""The installed distribution, not the checkout, is what Airflow and pytest find.

Airflow discovers providers through the ``apache_airflow_provider`` entry point and pytest loads the
simulator fixtures through ``pytest11``; both are read from the installed metadata, so a wrong path in
``pyproject.toml`` would pass every import test and still leave users without the provider.
"""

from __future__ import annotations

from importlib.metadata import distribution, entry_points
from pathlib import Path

import airflow_provider_canvas_progress

DIST = "airflow-provider-canvas-progress"


def _entry_point(group: str) -> object:
    (point,) = [ep for ep in entry_points(group=group) if ep.dist is not None and ep.dist.name == DIST]
    return point.load()


def test_provider_entry_point_resolves_to_provider_info_from_the_installation() -> None:
    get_provider_info = _entry_point("apache_airflow_provider")
    info = get_provider_info()  # type: ignore[operator]
    assert info["package-name"] == DIST
    assert any("CanvasHook" in hook["hook-class-name"] for hook in info["connection-types"])


def test_pytest11_entry_point_resolves_to_the_simulator_plugin() -> None:
    plugin = _entry_point("pytest11")
    assert getattr(plugin, "__name__", "") == "airflow_provider_canvas_progress.testing.pytest_plugin"


def test_the_installed_package_is_the_top_level_package_of_the_checkout() -> None:
    # An editable install must point at the repository root's package, not a leftover src/ layout.
    root = Path(__file__).resolve().parents[2]
    assert Path(airflow_provider_canvas_progress.__file__).resolve().parent == root / "airflow_provider_canvas_progress"
    assert distribution(DIST).version == airflow_provider_canvas_progress.__version__
