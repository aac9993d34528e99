"""SIS import errors: the inline cap, the paginated errors list, the errors file on the storage host, bad files."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import requests

from airflow_provider_canvas_progress.testing import CanvasSimulator, ManualClock, SisScript, build_zip

from .simclient import Api

BASE = "/api/v1/accounts/1/sis_imports"


def users_without_logins(count: int) -> str:
    return "user_id,login_id,first_name,last_name,status\n" + "".join(f"u{i},,F,L,active\n" for i in range(count))


def finished(api: Api, clock: ManualClock, upload: bytes, filename: str = "sis.zip") -> dict[str, Any]:
    response = api.post(BASE, files={"attachment": (filename, upload)})
    assert response.status_code == 200
    clock.advance(10)
    return dict(api.get(f"{BASE}/{response.json()['id']}").json())


def test_24_warnings_are_inlined_then_the_and_n_more_pair(api: Api, clock: ManualClock) -> None:
    body = finished(api, clock, build_zip({"users.csv": users_without_logins(30)}))
    warnings = body["processing_warnings"]
    assert body["workflow_state"] == "imported_with_messages"
    assert len(warnings) == 25
    assert warnings[0] == ["users.csv", "No login_id given for user u0"]
    assert warnings[-1] == ["and 6 more warnings that were not included", "Download the error file to see all errors."]
    assert body["data"]["counts"]["warning_count"] == 30


def test_errors_list_is_paginated_and_holds_every_error(api: Api, clock: ManualClock) -> None:
    body = finished(api, clock, build_zip({"users.csv": users_without_logins(30)}))
    first = api.get(f"{BASE}/{body['id']}/errors", params={"per_page": 25})
    assert len(first.json()["sis_import_errors"]) == 25
    assert first.json()["sis_import_errors"][0] == {
        "sis_import_id": body["id"],
        "file": "users.csv",
        "message": "No login_id given for user u0",
        "row": 2,
    }
    assert 'rel="next"' in first.headers["Link"]
    second = api.get(f"{BASE}/{body['id']}/errors", params={"per_page": 25, "page": 2}).json()["sis_import_errors"]
    assert len(second) == 5
    account_wide = api.get("/api/v1/accounts/1/sis_import_errors", params={"per_page": 100}).json()
    assert len(account_wide["sis_import_errors"]) == 30


def test_failure_true_keeps_only_failures(api: Api, clock: ManualClock, sim: CanvasSimulator) -> None:
    sim.sis.script_next_import(SisScript(errors=(("courses.csv", "Malformed CSV"),)))
    body = finished(api, clock, build_zip({"users.csv": users_without_logins(3)}))
    assert body["workflow_state"] == "failed_with_messages"
    every = api.get(f"{BASE}/{body['id']}/errors").json()["sis_import_errors"]
    failures = api.get(f"{BASE}/{body['id']}/errors", params={"failure": "true"}).json()["sis_import_errors"]
    assert len(every) == 4
    assert [e["message"] for e in failures] == ["Malformed CSV"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"people.csv": "name,email\nAda,ada@example.edu\n"}, "Couldn't find Canvas CSV import headers"),
        ({"users.csv": b"user_id,login_id\nu1,\xff\xfe\n"}, "Invalid UTF-8"),
    ],
)
def test_a_bad_file_fails_the_import(api: Api, clock: ManualClock, files: dict[str, Any], message: str) -> None:
    body = finished(api, clock, build_zip(files))
    assert body["workflow_state"] == "failed_with_messages"
    assert body["processing_errors"][0][1] == message
    assert body["data"]["counts"]["users"] == 0


def test_a_zip_that_is_not_an_archive_fails_the_import(api: Api, clock: ManualClock) -> None:
    body = finished(api, clock, b"this is not a zip", "sis.zip")
    assert body["workflow_state"] == "failed_with_messages"
    assert "not a valid zip" in body["processing_errors"][0][1]


def test_errors_file_is_served_from_the_storage_host_without_a_token(
    api: Api, clock: ManualClock, sim: CanvasSimulator
) -> None:
    body = finished(api, clock, build_zip({"users.csv": users_without_logins(30)}))
    attachment = body["errors_attachment"]
    assert attachment["display_name"] == f"sis_errors_attachment_{body['id']}.csv"
    assert "verifier=" in attachment["url"]
    first = requests.get(attachment["url"], allow_redirects=False, timeout=10)
    assert first.status_code == 302
    assert first.headers["Location"].startswith(sim.sis.filestore.base_url)
    download = requests.get(first.headers["Location"], timeout=10)
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0] == ["sis_import_id", "file", "message", "row"]
    assert len(rows) == 31
    assert all(r.header("Authorization") is None for r in sim.sis.filestore.requests)


def test_storage_host_rejects_a_request_carrying_authorization(
    api: Api, clock: ManualClock, sim: CanvasSimulator
) -> None:
    body = finished(api, clock, build_zip({"users.csv": users_without_logins(1)}))
    location = requests.get(body["errors_attachment"]["url"], allow_redirects=False, timeout=10).headers["Location"]
    refused = requests.get(location, headers={"Authorization": f"Bearer {sim.token}"}, timeout=10)
    assert refused.status_code == 400
    assert "Only one auth mechanism allowed" in refused.text


def test_storage_url_and_verifier_expire(api: Api, clock: ManualClock) -> None:
    body = finished(api, clock, build_zip({"users.csv": users_without_logins(1)}))
    url = body["errors_attachment"]["url"]
    location = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
    clock.advance(301)
    assert requests.get(location, timeout=10).status_code == 403
    clock.advance(3300)
    assert requests.get(url, allow_redirects=False, timeout=10).status_code == 401
    fresh = api.get(f"{BASE}/{body['id']}").json()["errors_attachment"]["url"]
    assert requests.get(fresh, allow_redirects=False, timeout=10).status_code == 302


def test_errors_file_can_appear_after_the_import_ended(api: Api, clock: ManualClock, sim: CanvasSimulator) -> None:
    sim.sis.script_next_import(SisScript(errors_file_delay=30))
    body = finished(api, clock, build_zip({"users.csv": users_without_logins(2)}))
    assert body["workflow_state"] == "imported_with_messages"
    assert "errors_attachment" not in body
    clock.advance(30)
    assert "errors_attachment" in api.get(f"{BASE}/{body['id']}").json()


def test_set_errors_file_replaces_the_body(api: Api, clock: ManualClock, sim: CanvasSimulator) -> None:
    body = finished(api, clock, build_zip({"users.csv": users_without_logins(1)}))
    sim.sis.set_errors_file(body["id"], b"x" * 1000)
    assert requests.get(body["errors_attachment"]["url"], timeout=10).content == b"x" * 1000
