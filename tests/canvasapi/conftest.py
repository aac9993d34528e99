"""canvasapi itself against the simulator over verified HTTPS, on a ManualClock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, ManualClock, pytest_plugin
from canvasapi import Canvas

# Bound here so the suite runs from a plain checkout too (the plugin is a pytest11 entry point).
canvas_simulator = pytest_plugin.canvas_simulator
canvas_simulator_factory = pytest_plugin.canvas_simulator_factory


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(
    canvas_simulator_factory: Callable[..., CanvasSimulator], clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> CanvasSimulator:
    simulator = canvas_simulator_factory(clock=clock, https=True)
    assert simulator.ca_bundle is not None
    # requests (under canvasapi) verifies against this CA bundle, as it would against real Canvas.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", simulator.ca_bundle)
    return simulator


@pytest.fixture
def canvas(sim: CanvasSimulator) -> Canvas:
    return Canvas(sim.base_url, sim.token)
