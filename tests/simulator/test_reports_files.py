"""A finished report's file: where it is served, who may fetch it, and what it contains."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import requests

from airflow_provider_canvas_progress.testing import CanvasSimulator, ManualClock
from airflow_provider_canvas_progress.testing.sis_csv import read_upload

from .simclient import Api

BASE = "/api/v1/accounts/1/reports"


def finished(api: Api, clock: ManualClock, name: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    started = api.post(f"{BASE}/{name}", json={"parameters": parameters or {}})
    assert started.status_code == 200, started.text
    clock.advance(10.0)
    body = api.get(f"{BASE}/{name}/{started.json()['id']}").json()
    assert body["status"] == "complete", body
    return dict(body)


def fetch(body: dict[str, Any]) -> bytes:
    answer = requests.get(body["attachment"]["url"], timeout=10)
    assert answer.status_code == 200
    return answer.content


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def test_the_attachment_url_redirects_to_the_storage_host_and_needs_no_token(
    api: Api, clock: ManualClock, sim: CanvasSimulator
) -> None:
    body = finished(api, clock, "last_user_access_csv")

    first = requests.get(body["attachment"]["url"], allow_redirects=False, timeout=10)
    stored = requests.get(first.headers["Location"], timeout=10)

    assert first.status_code == 302
    assert first.headers["Location"].startswith(sim.sis.filestore.base_url)
    assert stored.status_code == 200
    assert stored.headers["Content-Type"].startswith("text/csv")
    assert len(stored.content) == body["attachment"]["size"]


def test_the_storage_host_refuses_a_token(api: Api, clock: ManualClock, sim: CanvasSimulator) -> None:
    body = finished(api, clock, "last_user_access_csv")
    location = requests.get(body["attachment"]["url"], allow_redirects=False, timeout=10).headers["Location"]

    refused = requests.get(location, headers={"Authorization": f"Bearer {sim.token}"}, timeout=10)

    assert refused.status_code == 400
    assert "Only one auth mechanism allowed" in refused.text


def test_a_wrong_verifier_is_sent_to_the_login_page(api: Api, clock: ManualClock) -> None:
    body = finished(api, clock, "last_user_access_csv")
    url = body["attachment"]["url"].replace("verifier=", "verifier=x")

    answer = requests.get(url, allow_redirects=False, timeout=10)

    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/login")


def test_file_url_needs_a_browser_session_even_with_a_token(api: Api, clock: ManualClock, sim: CanvasSimulator) -> None:
    body = finished(api, clock, "last_user_access_csv")

    redirected = requests.get(body["file_url"], headers={"Authorization": f"Bearer {sim.token}"}, timeout=10)

    assert redirected.history[0].status_code == 302
    assert redirected.headers["Content-Type"].startswith("text/html")
    assert "Log In to Canvas" in redirected.text


def test_a_report_of_one_part_is_a_csv_named_as_canvas_names_it(api: Api, clock: ManualClock) -> None:
    body = finished(api, clock, "sis_export_csv", {"users": True})

    assert body["attachment"]["filename"].startswith("sis_export_csv_")
    assert body["attachment"]["filename"].endswith(f"_{body['id']}.csv")
    assert body["attachment"]["content-type"] == "text/csv"
    assert [row["user_id"] for row in rows(fetch(body))] == ["S00101", "S00102", "S00103", "S00104", "S00105"]


def test_a_report_of_several_parts_is_a_zip_of_part_csvs(api: Api, clock: ManualClock) -> None:
    body = finished(api, clock, "provisioning_csv", {"users": True, "courses": True, "enrollments": "true"})

    archive = zipfile.ZipFile(io.BytesIO(fetch(body)))

    assert body["attachment"]["filename"].endswith(".zip")
    assert body["attachment"]["content-type"] == "application/zip"
    assert archive.namelist() == ["users.csv", "courses.csv", "enrollments.csv"]
    assert body["parameters"]["extra_text"] == "Term: All Terms; Reports: users courses enrollments"


def test_the_sis_export_reads_back_as_a_sis_import(api: Api, clock: ManualClock) -> None:
    # Only SIS-created objects are exported (the school's three named courses), with import headers.
    body = finished(api, clock, "sis_export_csv", {"users": True, "courses": True, "enrollments": True})

    parsed = read_upload(fetch(body), body["attachment"]["filename"])

    assert not parsed.failed
    assert [f.importer for f in parsed.files] == ["courses", "users", "enrollments"]


def test_provisioning_lists_the_catalog_courses(api: Api, clock: ManualClock, sim: CanvasSimulator) -> None:
    sim.add_course(4242, workflow_state="claimed")
    body = finished(api, clock, "provisioning_csv", {"courses": True})

    courses = {row["canvas_course_id"]: row for row in rows(fetch(body))}

    assert len(courses) == 101
    assert courses["4242"]["status"] == "unpublished"
    assert (courses["4242"]["course_id"], courses["4242"]["created_by_sis"]) == ("", "false")
    assert (courses["1"]["course_id"], courses["1"]["long_name"]) == ("BIO101-2026FA", "Biology 101")


def test_a_term_limits_the_courses_and_names_itself(api: Api, clock: ManualClock, sim: CanvasSimulator) -> None:
    sim.add_term(3, name="Summer 2027", sis_term_id="2027SU")
    for course in (501, 502):
        sim.add_course(course, enrollment_term_id=3)

    body = finished(api, clock, "provisioning_csv", {"courses": True, "enrollment_term_id": "sis_term_id:2027SU"})

    assert [row["canvas_course_id"] for row in rows(fetch(body))] == ["501", "502"]
    assert body["parameters"]["extra_text"].startswith("Term: Summer 2027;")


def test_the_grade_export_has_canvas_headers_and_a_row_per_enrollment(api: Api, clock: ManualClock) -> None:
    body = finished(api, clock, "grade_export_csv")

    graded = rows(fetch(body))

    assert list(graded[0])[:4] == ["student name", "student id", "student sis", "course"]
    assert "final grade" in graded[0]
    assert len(graded) >= 5
    assert all(55 <= float(row["current score"]) < 100 for row in graded)


def test_last_user_access_can_be_limited_to_a_course(api: Api, clock: ManualClock) -> None:
    everyone = rows(fetch(finished(api, clock, "last_user_access_csv")))
    one_course = rows(fetch(finished(api, clock, "last_user_access_csv", {"course_id": 8})))

    assert len(everyone) == 5
    assert 0 < len(one_course) < len(everyone)
    assert list(everyone[0]) == ["user id", "user sis id", "user name", "last access at", "last ip"]


def test_other_attachments_are_still_served_by_the_sis_side(clock: ManualClock, sim: CanvasSimulator) -> None:
    batch = sim.sis.create_import({"users.csv": "user_id,login_id,status\n,x,active\n"})
    clock.advance(600.0)
    errors_file = sim.sis.import_json(batch)["errors_attachment"]

    answer = requests.get(errors_file["url"], timeout=10)

    assert answer.status_code == 200
    assert answer.text.startswith("sis_import_id,file,message,row")
