"""Fixtures for the simulator's own spec: a simulator on a ManualClock and a thin HTTP client."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

from airflow_provider_canvas_progress.testing import CanvasSimulator, ManualClock, pytest_plugin

from .simclient import Api

# The plugin is a pytest11 entry point once the package is installed; binding its fixtures here
# keeps this suite runnable from a plain checkout (PYTHONPATH=src) too.
canvas_simulator = pytest_plugin.canvas_simulator
canvas_simulator_factory = pytest_plugin.canvas_simulator_factory
canvas_airflow_conn = pytest_plugin.canvas_airflow_conn


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(canvas_simulator_factory: Callable[..., CanvasSimulator], clock: ManualClock) -> CanvasSimulator:
    return canvas_simulator_factory(clock=clock)


@pytest.fixture
def api(sim: CanvasSimulator) -> Iterator[Api]:
    with requests.Session() as session:
        yield Api(sim, session, sim.token)


@pytest.fixture
def api_for(api: Api) -> Callable[[CanvasSimulator], Api]:
    """An :class:`Api` for another simulator, sharing the test's session."""

    def make(other: CanvasSimulator) -> Api:
        return Api(other, api.session, other.token)

    return make
