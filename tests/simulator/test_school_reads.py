"""The school DAG code reads: accounts, terms, courses, sections, assignments, in Canvas's shapes."""

from __future__ import annotations

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator

from .simclient import STRING_IDS, Api


def links(response_link: str) -> dict[str, str]:
    """``Link`` as ``{rel: url}``."""
    found = {}
    for part in response_link.split(","):
        url, rel = part.split(";")
        found[rel.strip().removeprefix('rel="').removesuffix('"')] = url.strip()[1:-1]
    return found


def test_root_account_has_no_root_and_sub_accounts_name_it(api: Api) -> None:
    root = api.get("/api/v1/accounts/1").json()
    science = api.get("/api/v1/accounts/2").json()
    assert (root["parent_account_id"], root["root_account_id"]) == (None, None)
    assert (science["parent_account_id"], science["root_account_id"]) == (1, 1)


def test_account_by_sis_id(api: Api) -> None:
    assert api.get("/api/v1/accounts/sis_account_id:SCI").json()["id"] == 2


def test_course_by_id_and_by_sis_course_id_are_the_same(api: Api) -> None:
    by_id = api.get("/api/v1/courses/1").json()
    assert by_id == api.get("/api/v1/courses/sis_course_id:BIO101-2026FA").json()
    assert (by_id["name"], by_id["enrollment_term_id"], by_id["workflow_state"]) == ("Biology 101", 1, "available")


def test_course_ids_become_strings_on_request(api: Api) -> None:
    body = api.get("/api/v1/courses/1", headers={"Accept": STRING_IDS}).json()
    assert (body["id"], body["account_id"], body["root_account_id"]) == ("1", "1", "1")


def test_deleted_course_is_not_found(sim: CanvasSimulator, api: Api) -> None:
    sim.add_course(7, workflow_state="deleted")
    assert api.get("/api/v1/courses/7").json() == {"errors": [{"message": "The specified resource does not exist."}]}


def test_unpublished_course_reads_unpublished(sim: CanvasSimulator, api: Api) -> None:
    sim.add_course(8, workflow_state="claimed")
    assert api.get("/api/v1/courses/8").json()["workflow_state"] == "unpublished"


def test_course_outside_a_tokens_contexts_is_a_permission_error(sim: CanvasSimulator, api: Api) -> None:
    token = sim.add_token(user_id=2, contexts=[("Course", 2)])
    assert api.get("/api/v1/courses/2", token=token).status_code == 200
    assert api.get("/api/v1/courses/1", token=token).status_code == 403
    assert [c["id"] for c in api.get("/api/v1/courses", token=token).json()] == [2]


def test_lists_are_paginated_ten_at_a_time_with_canvas_links(sim: CanvasSimulator, api: Api) -> None:
    # lib/api.rb: per_page defaults to 10; links current, next, (prev,) first, last, in that order.
    response = api.get("/api/v1/accounts/1/courses")
    assert len(response.json()) == 10
    rels = links(response.headers["Link"])
    assert list(rels) == ["current", "next", "first", "last"]
    assert rels["next"] == f"{sim.base_url}/api/v1/accounts/1/courses?page=2&per_page=10"
    assert rels["last"].endswith("page=10&per_page=10")


def test_middle_page_links_prev_and_keeps_other_parameters(sim: CanvasSimulator, api: Api) -> None:
    # lib/api.rb#build_links_hash: other parameters sorted by key, access_token and api_key dropped.
    response = api.get("/api/v1/accounts/1/courses?per_page=30&page=2&state[]=available&include[]=term&api_key=x")
    assert [c["id"] for c in response.json()] == list(range(31, 61))
    rels = links(response.headers["Link"])
    assert list(rels) == ["current", "next", "prev", "first", "last"]
    assert rels["prev"] == (
        f"{sim.base_url}/api/v1/accounts/1/courses?include%5B%5D=term&state%5B%5D=available&page=1&per_page=30"
    )


@pytest.mark.parametrize(("per_page", "size"), [("1000", 100), ("0", 10), ("x", 10)])
def test_per_page_is_clamped_to_canvas_bounds(api: Api, per_page: str, size: int) -> None:
    assert len(api.get(f"/api/v1/accounts/1/courses?per_page={per_page}").json()) == size


def test_last_page_has_no_next(api: Api) -> None:
    rels = links(api.get("/api/v1/accounts/1/courses?page=10").headers["Link"])
    assert "next" not in rels


def test_sub_accounts_and_recursive_sub_accounts(sim: CanvasSimulator, api: Api) -> None:
    sim.add_account(4, name="Biology Department", parent_account_id=2)
    assert [a["id"] for a in api.get("/api/v1/accounts/1/sub_accounts").json()] == [2, 3]
    assert [a["id"] for a in api.get("/api/v1/accounts/1/sub_accounts?recursive=true").json()] == [2, 3, 4]


def test_account_courses_of_one_term(sim: CanvasSimulator, api: Api) -> None:
    sim.add_course(300, name="Spring Seminar", enrollment_term_id=2)
    assert [c["id"] for c in api.get("/api/v1/accounts/1/courses?enrollment_term_id=2").json()] == [300]
    assert [c["id"] for c in api.get("/api/v1/accounts/1/courses?enrollment_term_id=sis_term_id:2027SP").json()] == [
        300
    ]
    assert api.get("/api/v1/accounts/1/courses?enrollment_term_id=99").json() == []


def test_terms_are_wrapped_in_enrollment_terms(api: Api) -> None:
    body = api.get("/api/v1/accounts/1/terms").json()
    assert [t["sis_term_id"] for t in body["enrollment_terms"]] == ["2026FA", "2027SP"]


def test_sections_by_course_and_by_id(api: Api) -> None:
    sections = api.get("/api/v1/courses/1/sections").json()
    assert [s["sis_section_id"] for s in sections] == ["BIO101-2026FA-1", "BIO101-2026FA-2"]
    assert api.get(f"/api/v1/sections/{sections[1]['id']}").json() == sections[1]
    assert api.get(f"/api/v1/courses/2/sections/{sections[1]['id']}").status_code == 404


def test_unnamed_course_has_its_default_section(api: Api) -> None:
    assert [s["id"] for s in api.get("/api/v1/courses/50/sections").json()] == [50]


def test_assignments_of_a_course(sim: CanvasSimulator, api: Api) -> None:
    sim.add_assignment(900, course_id=50, name="Essay")
    assert [a["name"] for a in api.get("/api/v1/courses/50/assignments").json()] == ["Essay"]
    assert api.get("/api/v1/courses/50/assignments/900").json()["course_id"] == 50
    assert api.get("/api/v1/courses/1/assignments/900").status_code == 404


def test_users_self_and_seeded_students(api: Api) -> None:
    assert api.get("/api/v1/users/self").json()["id"] == 1
    assert api.get("/api/v1/users/103").json()["sortable_name"] == "Hopper, Grace"


def test_control_api_adds_school_objects(sim: CanvasSimulator, api: Api) -> None:
    base = f"{sim.base_url}/__sim__"
    assert (
        api.session.post(f"{base}/accounts", json={"id": 5, "name": "Law", "parent_account_id": 1}).status_code == 201
    )
    course = {"id": 200, "account_id": 5, "name": "Torts", "sis_course_id": "LAW1"}
    assert api.session.post(f"{base}/courses", json=course).status_code == 201
    assert api.session.post(f"{base}/sections", json={"id": 2001, "course_id": 200}).status_code == 201
    assert api.session.post(f"{base}/assignments", json={"id": 2002, "course_id": 200}).status_code == 201
    assert api.session.post(f"{base}/users", json={"id": 300, "name": "Ruth Ginsburg"}).status_code == 201
    assert api.get("/api/v1/courses/sis_course_id:LAW1").json()["account_id"] == 5
    assert api.get("/api/v1/sections/2001").json()["course_id"] == 200
    assert api.get("/api/v1/courses/200/assignments/2002").status_code == 200
    assert api.get("/api/v1/users/300").json()["name"] == "Ruth Ginsburg"
    assert api.session.post(f"{base}/courses", json={"name": "no id"}).status_code == 400
