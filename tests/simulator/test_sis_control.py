"""Scripting SIS imports over ``/__sim__/sis`` and ``sim.sis``; the default import reads the real CSVs."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_canvas_progress.testing import CanvasSimulator, ManualClock, SisControl, SisScript, build_zip

from .simclient import Api

BASE = "/api/v1/accounts/1/sis_imports"
FULL = {
    "terms.csv": "term_id,name,status\nFA26,Fall 2026,active\n",
    "courses.csv": "course_id,short_name,long_name,term_id,status\nC1,Math,Math 101,FA26,active\n"
    "C2,Art,Art 101,FA26,active\n",
    "sections.csv": "section_id,course_id,name,status\nS1,C1,Math A,active\nS9,C404,Nowhere,active\n",
    "users.csv": "user_id,login_id,first_name,last_name,status\nU1,u1@x.edu,Ada,L,active\nU2,u2@x.edu,Bo,M,active\n",
    "enrollments.csv": "course_id,section_id,user_id,role,status\nC1,S1,U1,student,active\nC2,,U2,teacher,active\n"
    "C1,,U2,wizard,active\n",
}


def test_default_import_reads_every_csv_of_the_zip(api: Api, clock: ManualClock) -> None:
    batch_id = api.post(BASE, files={"attachment": ("nightly.zip", build_zip(FULL))}).json()["id"]
    clock.advance(10)
    body = api.get(f"{BASE}/{batch_id}").json()
    counts, stats = body["data"]["counts"], body["data"]["statistics"]
    assert (counts["terms"], counts["courses"], counts["sections"], counts["users"], counts["enrollments"]) == (
        1, 2, 1, 2, 2,
    )  # fmt: skip
    assert stats["total_state_changes"] == 8
    assert body["data"]["supplied_batches"] == ["term", "course", "section", "user", "enrollment"]
    assert [w[1] for w in body["processing_warnings"]] == [
        "Section S9 references course C404 which doesn't exist",
        'Improper role "wizard" for an enrollment',
    ]


def test_deleting_then_restoring_a_user_counts_as_deleted_then_restored(api: Api, clock: ManualClock) -> None:
    def run(status: str) -> dict[str, int]:
        users = f"user_id,login_id,first_name,last_name,status\nU1,u1@x.edu,Ada,L,{status}\n"
        batch_id = api.post(BASE, files={"attachment": ("u.zip", build_zip({"users.csv": users}))}).json()["id"]
        clock.advance(10)
        return dict(api.get(f"{BASE}/{batch_id}").json()["data"]["statistics"]["Pseudonym"])

    assert run("active")["created"] == 1
    assert run("deleted")["deleted"] == 1
    assert run("active")["restored"] == 1


def test_control_api_scripts_accounts_rights_terms_and_outcomes(sim: CanvasSimulator, api: Api) -> None:
    control = sim.base_url + "/__sim__/sis"
    assert requests.post(f"{control}/accounts/7", json={"root": False}, timeout=10).status_code == 200
    assert api.get("/api/v1/accounts/7/sis_imports").status_code == 400
    term = requests.post(f"{control}/terms", json={"name": "Spring", "sis_term_id": "SP27"}, timeout=10).json()
    listed = api.get("/api/v1/accounts/1/terms").json()["enrollment_terms"]
    assert {"id": term["id"], "sis_term_id": "SP27"}.items() <= next(t for t in listed if t["id"] == term["id"]).items()
    bad = requests.post(f"{control}/scripts", json={"script": {"outcome": "exploded"}}, timeout=10)
    assert bad.status_code == 400
    queued = requests.post(f"{control}/scripts", json={"script": {"outcome": "failed", "pickup": 0}}, timeout=10)
    assert queued.status_code == 201
    batch_id = api.post(BASE, files={"attachment": ("x.zip", build_zip({}))}).json()["id"]
    sim.clock.advance(10)  # type: ignore[attr-defined]
    shown = requests.get(f"{control}/imports/{batch_id}", timeout=10).json()
    assert shown["workflow_state"] == "failed"
    assert requests.post(f"{control}/permissions", json={"user_id": 1, "permissions": []}, timeout=10).ok
    assert api.get(BASE).status_code == 403
    assert requests.get(f"{control}/storage", timeout=10).json()["requests"] == []


def test_create_import_without_http(canvas_sis: SisControl) -> None:
    batch_id = canvas_sis.create_import({"users.csv": "user_id,login_id\nu1,u1\n"})
    assert canvas_sis.import_json(batch_id)["workflow_state"] == "created"


def test_an_import_that_has_not_started_can_be_scripted(canvas_sis: SisControl) -> None:
    batch_id = canvas_sis.create_import({"users.csv": "user_id,login_id\nu1,u1\n"})
    canvas_sis.script_import(batch_id, SisScript(outcome="failed_with_messages", pickup=0, importing_for=0))
    assert canvas_sis.import_json(batch_id)["workflow_state"] == "failed_with_messages"
    with pytest.raises(ValueError, match="already started"):
        canvas_sis.script_import(batch_id, SisScript())
