"""Fixtures of the end-to-end tests: a simulator for the cluster to talk to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator


@pytest.fixture
def simulator() -> Iterator[CanvasSimulator]:
    """A simulator on the real clock: the cluster's processes poll it over real sockets."""
    with CanvasSimulator() as sim:
        yield sim
