"""Injected faults: consumed in order, matched by path and method, /api only."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest
import requests

from airflow_provider_canvas_progress.testing import CanvasSimulator, Fault

from .simclient import Api

SELF = "/api/v1/users/self"


def test_status_fault_answers_canvas_500_body_by_default(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.status(500))
    response = api.get(SELF)
    assert response.status_code == 500
    assert response.json() == {"errors": [{"message": "An error occurred.", "error_code": "internal_server_error"}]}


def test_status_fault_sends_a_given_body(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.status(503, {"errors": [{"message": "busy"}]}))
    response = api.get(SELF)
    assert (response.status_code, response.json()) == (503, {"errors": [{"message": "busy"}]})


@pytest.mark.parametrize("code", [502, 503, 504])
def test_html_fault_is_a_maintenance_page(sim: CanvasSimulator, api: Api, code: int) -> None:
    sim.inject(Fault.html(code))
    response = api.get(SELF)
    assert response.status_code == code
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.lstrip().startswith("<!DOCTYPE html>")


def test_delay_fault_answers_normally_after_the_delay(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.delay(0.3))
    started = time.monotonic()
    response = api.get(SELF)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_drop_fault_closes_the_connection_without_a_response(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.drop())
    with pytest.raises(requests.ConnectionError):
        api.get(SELF)


def test_reset_fault_resets_the_connection(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.reset())
    with pytest.raises(requests.ConnectionError, match="reset"):
        api.get(SELF)


async def test_reset_fault_reaches_aiohttp_clients_as_a_client_error(sim: CanvasSimulator) -> None:
    # aiohttp silently retries an idempotent request once after a reset or disconnect, so it
    # takes two faults for the error to reach the caller.
    sim.inject(Fault.reset(), times=2)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError):
            async with session.get(sim.base_url + SELF, headers={"Authorization": f"Bearer {sim.token}"}) as r:
                await r.read()


def test_truncated_json_fault_promises_more_than_it_sends(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.truncated_json())
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.get(SELF)


async def test_truncated_json_fault_is_a_payload_error_for_aiohttp(sim: CanvasSimulator) -> None:
    sim.inject(Fault.truncated_json())
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientPayloadError):
            async with session.get(sim.base_url + SELF, headers={"Authorization": f"Bearer {sim.token}"}) as r:
                await r.read()


def test_malformed_json_fault_is_a_200_that_does_not_parse(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.malformed_json())
    response = api.get(SELF)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_body_fault_sends_anything(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.body(418, "short and stout", "text/plain"))
    response = api.get(SELF)
    assert (response.status_code, response.text, response.headers["Content-Type"]) == (
        418,
        "short and stout",
        "text/plain",
    )


def test_redirect_fault_points_elsewhere(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.redirect("https://sso.example.edu/login"))
    response = api.get(SELF, allow_redirects=False)
    assert (response.status_code, response.headers["Location"]) == (302, "https://sso.example.edu/login")


def test_fault_applies_the_given_number_of_times(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.status(503), times=2)
    assert [api.get(SELF).status_code for _ in range(3)] == [503, 503, 200]


def test_faults_are_consumed_in_order(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.status(502))
    sim.inject(Fault.status(504))
    assert [api.get(SELF).status_code for _ in range(3)] == [502, 504, 200]


def test_fault_matches_its_path_regex_only(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress()
    sim.inject(Fault.status(503), path=r"^/api/v1/progress/")
    assert api.get(SELF).status_code == 200
    assert api.get(f"/api/v1/progress/{pid}").status_code == 503


def test_fault_matches_its_method_only(sim: CanvasSimulator, api: Api) -> None:
    pid = sim.create_progress()
    sim.inject(Fault.status(500), method="POST")
    assert api.get(f"/api/v1/progress/{pid}").status_code == 200
    assert api.post(f"/api/v1/progress/{pid}/cancel").status_code == 500


def test_faults_leave_the_control_api_alone(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.status(503))
    assert api.session.get(f"{sim.base_url}/__sim__/stats").status_code == 200
    assert api.get(SELF).status_code == 503


def test_faulted_answer_is_not_throttle_accounted(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.status(503))
    assert "X-Request-Cost" not in api.get(SELF).headers


def test_cut_connection_is_recorded_with_no_status(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.drop())
    with pytest.raises(requests.ConnectionError):
        api.get(SELF)
    record = sim.requests[-1]
    assert (record.status, record.fault) == (None, "drop")


def test_clear_faults_drops_pending_faults(sim: CanvasSimulator, api: Api) -> None:
    sim.inject(Fault.status(503), times=5)
    sim.clear_faults()
    assert api.get(SELF).status_code == 200


def test_fault_from_dict_builds_each_kind() -> None:
    kinds = ["status", "html", "delay", "drop", "reset", "truncated_json", "malformed_json"]
    built = [Fault.from_dict({"kind": k}).kind.value for k in kinds]
    assert built == kinds
    assert Fault.from_dict({"kind": "redirect", "location": "/x"}).location == "/x"
    assert Fault.from_dict({"kind": "body", "status": 200, "text": "x"}).text == "x"


def test_fault_from_dict_refuses_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        Fault.from_dict({"kind": "gremlins"})
