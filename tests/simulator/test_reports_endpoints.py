"""The account report endpoints answer with Canvas's codes and bodies (account_reports_controller.rb)."""

from __future__ import annotations

import re

import requests

from airflow_provider_canvas_progress.testing import CanvasSimulator, ManualClock
from airflow_provider_canvas_progress.testing.reports_control import reports_of
from airflow_provider_canvas_progress.testing.reports_store import ReportScript

from .simclient import STRING_IDS, Api

BASE = "/api/v1/accounts/1/reports"
NOT_FOUND = {"errors": [{"message": "The specified resource does not exist."}]}


def start(api: Api, name: str = "grade_export_csv", **parameters: str) -> requests.Response:
    return api.post(f"{BASE}/{name}", data={f"parameters[{k}]": v for k, v in parameters.items()})


def test_the_list_offers_every_report_by_title_with_its_parameters(api: Api) -> None:
    answer = api.get(BASE)

    assert answer.status_code == 200
    listing = answer.json()
    titles = [entry["title"] for entry in listing]
    assert titles == sorted(titles)
    provisioning = next(e for e in listing if e["report"] == "provisioning_csv")
    users = {"required": False, "description": "Get the Provisioning file for users"}
    assert provisioning["parameters"]["users"] == users
    assert provisioning["last_run"] is None


def test_the_list_shows_the_last_run_of_each_report(api: Api) -> None:
    start(api, "grade_export_csv")
    newest = start(api, "grade_export_csv").json()

    listing = api.get(BASE).json()

    grades = next(e for e in listing if e["report"] == "grade_export_csv")
    assert grades["last_run"]["id"] == newest["id"]
    assert grades["last_run"]["status"] == "created"


def test_a_started_report_is_created_at_progress_0_with_the_documented_keys(api: Api) -> None:
    answer = start(api, "provisioning_csv", users="true")

    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "created"
    assert body["progress"] == 0
    assert body["parameters"] == {"users": "true"}
    for key in ("id", "current_line", "report", "created_at", "started_at", "ended_at", "file_url"):
        assert key in body
    assert body["file_url"] is None


def test_parameters_sent_as_json_keep_their_types(api: Api) -> None:
    answer = api.post(f"{BASE}/grade_export_csv", json={"parameters": {"enrollment_term_id": 1, "skip_message": True}})

    assert answer.json()["parameters"] == {"enrollment_term_id": 1, "skip_message": True}


def test_an_unknown_report_name_is_404(api: Api) -> None:
    answer = start(api, "bad_report_csv")

    assert answer.status_code == 404
    assert answer.json() == NOT_FOUND


def test_a_term_that_names_no_term_is_400_with_canvas_body(api: Api) -> None:
    answer = start(api, "grade_export_csv", enrollment_term_id="sis_term_id:invalid")

    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid enrollment_term_id 'sis_term_id:invalid'"}


def test_a_term_canvas_finds_is_accepted_and_one_found_term_is_enough(api: Api, sim: CanvasSimulator) -> None:
    spring = sim.sis.add_term("Spring 2027", sis_term_id="T2027SP")

    for value in ("active_terms", f"1,{spring}", "999,sis_term_id:T2027SP", "", f"1~{spring}", str(spring)):
        assert start(api, "grade_export_csv", enrollment_term_id=value).status_code == 200, value


def test_the_index_is_newest_first_and_paginated_with_links(api: Api) -> None:
    ids = [start(api).json()["id"] for _ in range(3)]

    first = api.get(f"{BASE}/grade_export_csv", params={"per_page": 2})
    second = api.get(f"{BASE}/grade_export_csv", params={"per_page": 2, "page": 2})

    assert [r["id"] for r in first.json()] == ids[::-1][:2]
    assert [r["id"] for r in second.json()] == ids[:1]
    assert re.search(r'<[^>]+page=2&per_page=2>; rel="next"', first.headers["Link"])
    assert 'rel="next"' not in second.headers["Link"]


def test_the_index_of_an_unknown_report_is_empty(api: Api) -> None:
    answer = api.get(f"{BASE}/no_such_csv")

    assert answer.status_code == 200
    assert answer.json() == []


def test_show_finds_a_report_only_under_its_own_name(api: Api) -> None:
    report_id = start(api).json()["id"]

    assert api.get(f"{BASE}/grade_export_csv/{report_id}").json()["id"] == report_id
    other = api.get(f"{BASE}/provisioning_csv/{report_id}")
    assert other.status_code == 404
    assert other.json() == NOT_FOUND


def test_delete_is_soft_answers_deleted_and_hides_the_report(api: Api) -> None:
    report_id = start(api).json()["id"]

    answer = api.call("DELETE", f"{BASE}/grade_export_csv/{report_id}")

    assert answer.status_code == 200
    assert answer.json()["status"] == "deleted"
    assert api.get(f"{BASE}/grade_export_csv/{report_id}").status_code == 404
    assert api.get(f"{BASE}/grade_export_csv").json() == []
    assert api.call("DELETE", f"{BASE}/grade_export_csv/{report_id}").status_code == 404


def test_abort_of_a_report_not_running_is_404_and_leaves_it(api: Api) -> None:
    report_id = start(api).json()["id"]

    answer = api.put(f"{BASE}/grade_export_csv/{report_id}/abort")

    assert answer.status_code == 404
    assert answer.json() == NOT_FOUND
    assert api.get(f"{BASE}/grade_export_csv/{report_id}").json()["status"] == "created"


def test_abort_of_a_running_report_answers_aborted(api: Api, clock: ManualClock) -> None:
    report_id = start(api).json()["id"]
    clock.advance(1.0)

    answer = api.put(f"{BASE}/grade_export_csv/{report_id}/abort")

    assert answer.status_code == 200
    assert answer.json()["status"] == "aborted"


def test_an_unknown_account_is_404_and_no_permission_is_canvas_refusal(api: Api, sim: CanvasSimulator) -> None:
    assert api.get("/api/v1/accounts/77/reports").status_code == 404
    outsider = sim.add_token(user_id=5)

    refused = api.get(BASE, token=outsider)

    assert refused.status_code == 403
    assert refused.json()["errors"] == [{"message": "user not authorized to perform that action"}]


def test_no_token_is_unauthenticated(api: Api) -> None:
    answer = api.get(BASE, token=None)

    assert answer.status_code == 401
    assert answer.json()["status"] == "unauthenticated"


def test_string_ids_are_served_on_request(api: Api) -> None:
    body = api.post(f"{BASE}/grade_export_csv", headers={"Accept": STRING_IDS}).json()

    assert isinstance(body["id"], str)


def test_the_control_api_scripts_the_next_report(api: Api, sim: CanvasSimulator, clock: ManualClock) -> None:
    queued = requests.post(
        f"{sim.base_url}/__sim__/reports/scripts",
        json={"script": {"outcome": "error", "extra_text": "ErrorReport:7;", "created_for": 0, "running_for": 0}},
        timeout=10,
    )
    assert queued.status_code == 201
    report_id = start(api).json()["id"]
    clock.advance(1.0)

    shown = requests.get(f"{sim.base_url}/__sim__/reports/{report_id}", timeout=10).json()

    assert shown["status"] == "error"
    assert shown["parameters"]["extra_text"] == "ErrorReport:7;"


def test_the_control_api_refuses_unknown_script_fields(sim: CanvasSimulator) -> None:
    answer = requests.post(f"{sim.base_url}/__sim__/reports/scripts", json={"script": {"outcome_": "x"}}, timeout=10)

    assert answer.status_code == 400
    assert "outcome_" in answer.json()["error"]


def test_pinned_fields_freeze_a_report(api: Api, sim: CanvasSimulator, clock: ManualClock) -> None:
    reports_of(sim).script_next(ReportScript.never_ending())
    report_id = start(api).json()["id"]
    clock.advance(1.0)

    reports_of(sim).set_report(report_id, status="compiling", progress=99)
    clock.advance(60.0)

    body = api.get(f"{BASE}/grade_export_csv/{report_id}").json()
    assert (body["status"], body["progress"]) == ("compiling", 99)
