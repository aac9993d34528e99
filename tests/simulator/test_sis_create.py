"""SIS import creation: the refusals and parameter rules of ``SisImportsApiController#create``."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, build_zip

from .simclient import Api

BASE = "/api/v1/accounts/1/sis_imports"
USERS = "user_id,login_id,first_name,last_name,status\nu1,u1@example.edu,Ada,Lovelace,active\n"
ZIP = build_zip({"users.csv": USERS})


def create(api: Api, data: dict[str, Any] | None = None, *, path: str = BASE, **kwargs: Any) -> Any:
    return api.post(path, data=data or {}, files={"attachment": ("nightly.zip", ZIP, "application/zip")}, **kwargs)


def test_multipart_upload_answers_a_created_import(api: Api) -> None:
    response = create(api)
    body = response.json()
    assert response.status_code == 200
    assert (body["workflow_state"], body["progress"], body["ended_at"]) == ("created", 0, None)
    assert body["data"] == {"import_type": "instructure_csv"}
    assert (body["batch_mode"], body["override_sis_stickiness"], body["skip_deletes"]) == (None, None, False)


def test_sub_account_is_refused_with_canvas_body(api: Api, sim: CanvasSimulator) -> None:
    sim.sis.set_account(2, root=False)
    response = create(api, path="/api/v1/accounts/2/sis_imports")
    assert (response.status_code, response.json()) == (
        400,
        {"errors": ["SIS imports can only be executed on root accounts"]},
    )


def test_account_without_sis_import_is_refused_403(api: Api, sim: CanvasSimulator) -> None:
    sim.sis.set_account(1, allow_sis_import=False)
    response = api.get(BASE)
    assert (response.status_code, response.json()) == (
        403,
        {"errors": ["SIS imports are not enabled for this account"]},
    )


def test_sub_account_check_comes_before_the_permission_check(api: Api, sim: CanvasSimulator) -> None:
    sim.sis.set_account(3, root=False)
    sim.sis.set_permissions(1, [])
    assert api.get("/api/v1/accounts/3/sis_imports").status_code == 400


def test_create_needs_import_sis_even_with_manage_sis(api: Api, sim: CanvasSimulator) -> None:
    sim.sis.set_permissions(1, ["manage_sis"])
    response = create(api)
    assert (response.status_code, response.json()["errors"][0]["message"]) == (
        403,
        "user not authorized to perform that action",
    )
    assert api.get(BASE).status_code == 200


def test_permission_error_is_401_on_older_instances(canvas_simulator_factory: Any, api_for: Any) -> None:
    sim = canvas_simulator_factory(permission_status=401)
    sim.sis.set_permissions(1, [])
    response = api_for(sim).get(BASE)
    assert (response.status_code, response.json()["status"]) == (401, "unauthorized")


def test_no_token_is_unauthenticated(api: Api) -> None:
    response = api.get(BASE, token=None)
    assert response.status_code == 401
    assert response.json()["status"] == "unauthenticated"
    assert "WWW-Authenticate" in response.headers


def test_unknown_account_is_404(api: Api) -> None:
    assert api.get("/api/v1/accounts/4040/sis_imports").status_code == 404


def test_multipart_without_attachment_is_refused(api: Api) -> None:
    response = api.post(BASE, files={"other": ("x.zip", ZIP)})
    assert (response.status_code, response.json()) == (400, {"error": True, "error_message": "Missing attachment"})


@pytest.mark.parametrize(
    ("content_type", "query", "imported_as"),
    [
        ("application/zip", "", "zip"),
        ("text/csv", "", "csv"),
        ("text/plain", "", "csv"),
        ("application/octet-stream", "", "zip"),
        ("application/octet-stream", "?extension=csv", "csv"),
    ],
)
def test_raw_body_is_named_by_extension_or_content_type(
    api: Api, sim: CanvasSimulator, content_type: str, query: str, imported_as: str
) -> None:
    body = USERS.encode() if imported_as == "csv" else ZIP
    response = api.post(BASE + query, data=body, headers={"Content-Type": content_type})
    assert response.status_code == 200
    sim.clock.advance(10)  # type: ignore[attr-defined]
    done = sim.sis.import_json(response.json()["id"])
    assert done["workflow_state"] == "imported"
    assert done["data"]["counts"]["users"] == 1


def test_raw_body_with_a_non_utf8_charset_is_refused(api: Api) -> None:
    response = api.post(BASE, data=USERS.encode("latin-1"), headers={"Content-Type": "text/csv; charset=ISO-8859-1"})
    assert (response.status_code, response.json()) == (400, {"error": "Invalid content type, UTF-8 required"})


def test_unknown_import_type_is_a_server_error(api: Api) -> None:
    assert create(api, {"import_type": "xml_magic"}).status_code == 500


def test_batch_mode_without_a_term_is_refused(api: Api) -> None:
    response = create(api, {"batch_mode": "true"})
    assert (response.status_code, response.json()) == (
        400,
        {"message": "Batch mode specified, but the given batch_mode_term_id cannot be found."},
    )


def test_batch_mode_with_a_term_that_does_not_exist_is_404(api: Api) -> None:
    assert create(api, {"batch_mode": "1", "batch_mode_term_id": "999"}).status_code == 404


def test_batch_mode_term_by_sis_id(api: Api, sim: CanvasSimulator) -> None:
    term_id = sim.sis.add_term("Fall 2026", sis_term_id="FA26")
    body = create(api, {"batch_mode": "1", "batch_mode_term_id": "sis_term_id:FA26"}).json()
    assert (body["batch_mode"], body["batch_mode_term_id"]) == (True, term_id)


def test_multi_term_batch_mode_needs_change_threshold_and_leaves_an_initializing_batch(api: Api) -> None:
    response = create(api, {"batch_mode": "1", "multi_term_batch_mode": "1"})
    assert (response.status_code, response.json()) == (
        400,
        {"message": "change_threshold is required to use multi term_batch mode."},
    )
    states = [b["workflow_state"] for b in api.get(BASE).json()["sis_imports"]]
    assert states == ["initializing"]


def test_multi_term_batch_mode_with_threshold(api: Api) -> None:
    body = create(api, {"batch_mode": "1", "multi_term_batch_mode": "1", "change_threshold": "10"}).json()
    assert (body["batch_mode"], body["multi_term_batch_mode"], body["change_threshold"]) == (True, True, 10)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("diffing_drop_status", "gone"),
        ("diffing_user_remove_status", "inactive"),
        ("batch_mode_enrollment_drop_status", "suspended"),
    ],
)
def test_enumerated_statuses_are_checked(api: Api, name: str, value: str) -> None:
    response = create(api, {name: value})
    assert (response.status_code, response.json()) == (400, {"message": f"Invalid {name}"})


@pytest.mark.parametrize("value", ["deleted", "inactive", "completed", "deleted_last_completed"])
def test_enrollment_drop_statuses_are_accepted(api: Api, value: str) -> None:
    assert create(api, {"diffing_drop_status": value}).json()["diffing_drop_status"] == value


def test_diff_row_count_threshold_is_kept_only_when_positive(api: Api) -> None:
    assert create(api, {"diff_row_count_threshold": "0"}).json()["diff_row_count_threshold"] is None
    assert create(api, {"diff_row_count_threshold": "250"}).json()["diff_row_count_threshold"] == 250


def test_stickiness_flags_need_override(api: Api) -> None:
    ignored = create(api, {"add_sis_stickiness": "1", "clear_sis_stickiness": "1"}).json()
    assert (ignored["add_sis_stickiness"], ignored["clear_sis_stickiness"]) == (None, None)
    kept = create(api, {"override_sis_stickiness": "1", "add_sis_stickiness": "1"}).json()
    assert (kept["override_sis_stickiness"], kept["add_sis_stickiness"], kept["clear_sis_stickiness"]) == (
        True,
        True,
        None,
    )


def test_diffing_is_ignored_in_batch_mode(api: Api) -> None:
    body = create(api, {"batch_mode": "1", "batch_mode_term_id": "1", "diffing_data_set_identifier": "nightly"}).json()
    assert body["diffing_data_set_identifier"] is None
    plain = create(api, {"diffing_data_set_identifier": "nightly", "diffing_remaster_data_set": "true"}).json()
    assert (plain["diffing_data_set_identifier"], plain["diffing_remaster"]) == ("nightly", True)


def test_the_school_sub_accounts_are_refused_and_its_terms_serve_batch_mode(api: Api) -> None:
    assert api.get("/api/v1/accounts/2/sis_imports").status_code == 400  # College of Science, under account 1
    body = create(api, {"batch_mode": "1", "batch_mode_term_id": "sis_term_id:2026FA"}).json()
    assert body["batch_mode_term_id"] == 1
