"""HTTPS: the simulator serves TLS that clients verify with the CA bundle it names, as with real Canvas."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from airflow_provider_canvas_progress.testing import CanvasSimulator

from .cli_run import running_cli

MakeSim = Callable[..., CanvasSimulator]


def test_https_simulator_verifies_with_its_ca_bundle(canvas_simulator_factory: MakeSim) -> None:
    sim = canvas_simulator_factory(https=True)
    assert sim.base_url.startswith("https://127.0.0.1:")
    assert sim.ca_bundle is not None
    response = requests.get(
        f"{sim.base_url}/api/v1/users/self",
        headers={"Authorization": f"Bearer {sim.token}"},
        verify=sim.ca_bundle,
        timeout=10,
    )
    assert response.json()["name"] == "Sim Admin"


def test_certificate_covers_localhost_too(canvas_simulator_factory: MakeSim) -> None:
    sim = canvas_simulator_factory(https=True)
    assert sim.ca_bundle is not None
    response = requests.get(f"https://localhost:{sim.port}/api/v1/progress/1", verify=sim.ca_bundle, timeout=10)
    assert response.status_code == 404


def test_a_client_without_the_ca_bundle_is_refused(canvas_simulator_factory: MakeSim) -> None:
    sim = canvas_simulator_factory(https=True)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{sim.base_url}/api/v1/users/self", timeout=10)


def test_progress_url_and_connection_name_https(canvas_simulator_factory: MakeSim) -> None:
    sim = canvas_simulator_factory(https=True)
    assert sim.progress_json(sim.create_progress())["url"].startswith(f"{sim.base_url}/api/v1/progress/")
    assert json.loads(sim.airflow_conn_json())["extra"] == {"verify": sim.ca_bundle}
    assert sim.airflow_conn_uri().endswith("?verify=" + requests.utils.quote(sim.ca_bundle or "", safe=""))


def test_plain_http_connection_has_no_verify_extra(canvas_simulator: CanvasSimulator) -> None:
    assert canvas_simulator.ca_bundle is None
    assert "extra" not in json.loads(canvas_simulator.airflow_conn_json())


def test_ca_bundle_is_removed_on_stop() -> None:
    sim = CanvasSimulator(https=True).start()
    bundle = Path(sim.ca_bundle or "")
    assert ssl.create_default_context(cafile=str(bundle))
    sim.stop()
    assert not bundle.exists()


@pytest.mark.canvas_simulator(https=True)
def test_fixture_marker_gives_options(canvas_simulator: CanvasSimulator) -> None:
    assert canvas_simulator.scheme == "https"


def test_hook_verifies_tls_with_the_connection_verify_extra(
    canvas_simulator_factory: MakeSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_canvas_progress.hooks.canvas import CanvasHook

    sim = canvas_simulator_factory(https=True)
    monkeypatch.setenv(*sim.airflow_conn_env("canvas_tls"))
    assert CanvasHook("canvas_tls").test_connection() == (
        True,
        f"Connected to {sim.base_url} as Sim Admin (user id 1).",
    )
    pid = sim.create_progress()
    assert CanvasHook("canvas_tls").get_progress(pid).id == pid


async def test_async_hook_verifies_tls_with_the_connection_verify_extra(
    canvas_simulator_factory: MakeSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_canvas_progress.hooks.canvas import CanvasHook

    sim = canvas_simulator_factory(https=True)
    monkeypatch.setenv(*sim.airflow_conn_env("canvas_tls"))
    pid = sim.create_progress()
    async with CanvasHook("canvas_tls") as hook:
        assert (await hook.aget_progress(pid)).id == pid


def test_cli_https_prints_the_ca_bundle_and_a_verifying_connection(tmp_path: Path) -> None:
    with running_cli(tmp_path, "--token", "7~tls", "--https") as run:
        assert run.base_url.startswith("https://")
    assert run.returncode == 0
    bundle = next(line.split(": ", 1)[1] for line in run.out.splitlines() if line.startswith("CA bundle: "))
    assert '"verify": "' + bundle + '"' in run.out
    assert "export REQUESTS_CA_BUNDLE=" in run.out
