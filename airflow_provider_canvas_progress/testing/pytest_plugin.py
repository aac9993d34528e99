"""pytest fixtures for testing code against the Canvas simulator.

Active automatically once the package is installed (a ``pytest11`` entry point). Without
installing, list it in the root ``conftest.py``::

    pytest_plugins = ["airflow_provider_canvas_progress.testing.pytest_plugin"]

Fixtures:

* ``canvas_simulator``: a started simulator, stopped after the test; options come from the
  test's ``@pytest.mark.canvas_simulator(**options)`` marker (e.g. ``https=True``), default none;
* ``canvas_simulator_factory``: ``factory(**options)`` starts one with options (e.g.
  ``clock=ManualClock()``, ``throttle_status=429``); all are stopped after the test;
* ``canvas_sis``: the ``canvas_simulator``'s SIS control (``sim.sis``: accounts, rights, scripts);
* ``canvas_airflow_conn``: sets ``AIRFLOW_CONN_CANVAS_DEFAULT`` to the ``canvas_simulator`` and
  returns that simulator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .simulator import CanvasSimulator
from .sis_control import SisControl

__all__ = ["canvas_airflow_conn", "canvas_simulator", "canvas_simulator_factory", "canvas_sis", "pytest_configure"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker that gives ``canvas_simulator`` its options."""
    config.addinivalue_line(
        "markers", "canvas_simulator(**options): CanvasSimulator options for the canvas_simulator fixture"
    )


@pytest.fixture
def canvas_simulator(request: pytest.FixtureRequest) -> Iterator[CanvasSimulator]:
    """A started :class:`CanvasSimulator`, with the options of the test's ``canvas_simulator`` marker."""
    marker = request.node.get_closest_marker("canvas_simulator")
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    with CanvasSimulator(**options) as sim:
        yield sim


@pytest.fixture
def canvas_simulator_factory() -> Iterator[Callable[..., CanvasSimulator]]:
    """Build and start simulators with options; every one is stopped after the test."""
    started: list[CanvasSimulator] = []

    def factory(**options: Any) -> CanvasSimulator:
        sim = CanvasSimulator(**options).start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()


@pytest.fixture
def canvas_airflow_conn(canvas_simulator: CanvasSimulator, monkeypatch: pytest.MonkeyPatch) -> CanvasSimulator:
    """Point Airflow's ``canvas_default`` connection at the ``canvas_simulator``."""
    name, value = canvas_simulator.airflow_conn_env("canvas_default")
    monkeypatch.setenv(name, value)
    return canvas_simulator


@pytest.fixture
def canvas_sis(canvas_simulator: CanvasSimulator) -> SisControl:
    """The ``canvas_simulator``'s SIS imports: accounts, rights, terms, scripts, the storage host."""
    return canvas_simulator.sis
