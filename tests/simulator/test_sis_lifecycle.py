"""SIS imports over time: states, progress, the per-account strand, abort, restore, batch mode."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, ManualClock, SisScript, build_zip

from .simclient import Api

BASE = "/api/v1/accounts/1/sis_imports"
TERM = "term_id,name,status\nFA26,Fall 2026,active\n"
USERS = "user_id,login_id,first_name,last_name,status\n" + "".join(
    f"u{i},u{i}@example.edu,First{i},Last{i},active\n" for i in range(1, 6)
)


def courses(*ids: str) -> str:
    return "course_id,short_name,long_name,term_id,status\n" + "".join(f"{c},{c},Course {c},FA26,active\n" for c in ids)


def start(api: Api, files: dict[str, str] | None = None, data: dict[str, Any] | None = None) -> int:
    upload = build_zip(files or {"users.csv": USERS})
    response = api.post(BASE, data=data or {}, files={"attachment": ("sis.zip", upload, "application/zip")})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def show(api: Api, batch_id: int) -> dict[str, Any]:
    response = api.get(f"{BASE}/{batch_id}")
    assert response.status_code == 200
    return dict(response.json())


def states_over(api: Api, clock: ManualClock, batch_id: int, steps: list[float]) -> list[tuple[str, int]]:
    seen = []
    for step in steps:
        clock.advance(step)
        body = show(api, batch_id)
        seen.append((body["workflow_state"], body["progress"]))
    return seen


def test_import_moves_created_importing_imported_with_rising_progress(api: Api, clock: ManualClock) -> None:
    batch_id = start(api)
    assert states_over(api, clock, batch_id, [0.0, 0.5, 0.7, 0.7, 0.7]) == [
        ("created", 0),
        ("importing", 0),
        ("importing", 33),
        ("importing", 66),
        ("imported", 100),
    ]
    done = show(api, batch_id)
    assert done["data"]["counts"]["users"] == 5
    assert done["data"]["statistics"]["Pseudonym"]["created"] == 5
    assert done["started_at"] is not None
    assert done["ended_at"] is not None
    assert "errors_attachment" not in done
    assert "processing_warnings" not in done


def test_a_second_import_waits_in_created_behind_the_first(api: Api, clock: ManualClock) -> None:
    first, second = start(api), start(api)
    clock.advance(1.0)
    assert (show(api, first)["workflow_state"], show(api, second)["workflow_state"]) == ("importing", "created")
    importing = api.get(f"{BASE}/importing").json()["sis_imports"]
    assert [b["id"] for b in importing] == [first]
    clock.advance(1.6)  # the first ends at 2.5 and the strand takes the second at once
    assert (show(api, first)["workflow_state"], show(api, second)["workflow_state"]) == ("imported", "importing")


def test_abort_of_a_waiting_import_leaves_the_running_one_alone(api: Api, clock: ManualClock) -> None:
    first, second = start(api), start(api)
    clock.advance(1.0)
    aborted = api.put(f"{BASE}/{second}/abort").json()
    assert aborted["workflow_state"] == "aborted"
    clock.advance(5)
    assert show(api, first)["workflow_state"] == "imported"


def test_abort_of_a_finished_import_is_404(api: Api, clock: ManualClock) -> None:
    batch_id = start(api)
    clock.advance(10)
    assert api.put(f"{BASE}/{batch_id}/abort").status_code == 404


def test_after_aborting_the_running_import_the_next_waits_ten_minutes(api: Api, clock: ManualClock) -> None:
    first, second = start(api), start(api)
    clock.advance(1.0)
    body = api.put(f"{BASE}/{first}/abort").json()
    assert (body["workflow_state"], body["ended_at"]) == ("aborted", None)
    clock.advance(599)
    assert show(api, second)["workflow_state"] == "created"
    clock.advance(1)
    assert show(api, second)["workflow_state"] == "importing"


def test_abort_all_pending_aborts_only_waiting_imports_at_progress_100(api: Api, clock: ManualClock) -> None:
    first, second = start(api), start(api)
    clock.advance(1.0)
    assert api.put(f"{BASE}/abort_all_pending").json() == {"aborted": True}
    assert show(api, first)["workflow_state"] == "importing"
    assert (show(api, second)["workflow_state"], show(api, second)["progress"]) == ("aborted", 100)


def test_unknown_import_is_404(api: Api) -> None:
    assert api.get(f"{BASE}/404").status_code == 404
    assert api.get("/api/v1/accounts/1/sis_imports/404/errors").status_code == 404


def test_restore_states_answers_a_progress_and_the_import_reads_restoring_then_restored(
    api: Api, clock: ManualClock, sim: CanvasSimulator
) -> None:
    batch_id = start(api)
    clock.advance(10)
    progress = api.put(f"{BASE}/{batch_id}/restore_states").json()
    assert (progress["tag"], progress["context_type"], progress["context_id"]) == (
        "sis_batch_state_restore",
        "SisBatch",
        batch_id,
    )
    assert show(api, batch_id)["workflow_state"] == "restoring"
    clock.advance(10)
    assert api.get(f"/api/v1/progress/{progress['id']}").json()["workflow_state"] == "completed"
    assert show(api, batch_id)["workflow_state"] == "restored"
    assert sim.sis.import_json(batch_id)["workflow_state"] == "restored"


def test_filtered_restore_ends_partially_restored(api: Api, clock: ManualClock) -> None:
    batch_id = start(api)
    clock.advance(10)
    api.put(f"{BASE}/{batch_id}/restore_states", data={"undelete_only": "true"})
    clock.advance(10)
    assert show(api, batch_id)["workflow_state"] == "partially_restored"


def test_restore_needs_manage_sis_and_not_both_only_flags(api: Api, sim: CanvasSimulator) -> None:
    batch_id = start(api)
    both = api.put(f"{BASE}/{batch_id}/restore_states", data={"undelete_only": "1", "unconclude_only": "1"})
    assert (both.status_code, both.json()) == (400, "cannot set both undelete_only and unconclude_only")
    sim.sis.set_permissions(1, ["import_sis"])
    assert api.put(f"{BASE}/{batch_id}/restore_states").status_code == 403


def batch_import(api: Api, clock: ManualClock, ids: tuple[str, ...], **extra: str) -> int:
    data = {"batch_mode": "1", "batch_mode_term_id": "sis_term_id:FA26", **extra}
    batch_id = start(api, {"courses.csv": courses(*ids)}, data)
    return batch_id


def seed_term(api: Api, clock: ManualClock, ids: tuple[str, ...]) -> None:
    start(api, {"terms.csv": TERM, "courses.csv": courses(*ids)})
    clock.advance(10)


def test_batch_mode_deletes_the_courses_it_left_out_and_restarts_progress_in_cleanup(
    api: Api, clock: ManualClock
) -> None:
    seed_term(api, clock, ("c1", "c2", "c3", "c4"))
    batch_id = batch_import(api, clock, ("c1", "c2", "c3"))
    seen = states_over(api, clock, batch_id, [0.5, 2.0, 0.5, 0.5])
    assert seen == [("importing", 0), ("cleanup_batch", 0), ("cleanup_batch", 50), ("imported", 100)]
    counts = show(api, batch_id)["data"]["counts"]
    assert counts["batch_courses_deleted"] == 1
    assert show(api, batch_id)["data"]["statistics"]["Course"]["deleted"] == 1


def test_change_threshold_aborts_the_batch_with_its_warning_and_deletes_nothing(
    api: Api, clock: ManualClock, sim: CanvasSimulator
) -> None:
    seed_term(api, clock, ("c1", "c2", "c3", "c4"))
    batch_id = batch_import(api, clock, ("c1",), change_threshold="20")
    clock.advance(10)
    body = show(api, batch_id)
    assert (body["workflow_state"], body["progress"]) == ("aborted", 100)
    assert body["processing_warnings"] == [["", "3 courses would be deleted and exceeds the set threshold of 20%"]]
    assert sim.sis.registry().table("courses")["c4"].state == "active"


def test_skip_deletes_keeps_what_the_batch_left_out(api: Api, clock: ManualClock) -> None:
    seed_term(api, clock, ("c1", "c2"))
    batch_id = batch_import(api, clock, ("c1",), skip_deletes="true")
    clock.advance(10)
    assert show(api, batch_id)["data"]["counts"]["batch_courses_deleted"] == 0


@pytest.mark.parametrize(
    ("script", "state", "progress"),
    [
        (SisScript(outcome="imported_with_messages"), "imported_with_messages", 100),
        (SisScript(outcome="failed_with_messages"), "failed_with_messages", 66),
        (SisScript(outcome="failed", crash_message="boom"), "failed", 66),
        (SisScript(outcome="aborted"), "aborted", 100),
    ],
)
def test_scripted_outcomes(
    api: Api, clock: ManualClock, sim: CanvasSimulator, script: SisScript, state: str, progress: int
) -> None:
    sim.sis.script_next_import(script)
    batch_id = start(api)
    clock.advance(10)
    body = show(api, batch_id)
    assert (body["workflow_state"], body["progress"]) == (state, progress)
    if state == "failed":
        assert body["data"]["error_message"] == "boom"
    if state == "aborted":
        assert "threshold" in body["processing_warnings"][0][1]


def test_a_never_ending_import_blocks_the_strand(api: Api, clock: ManualClock, sim: CanvasSimulator) -> None:
    sim.sis.script_next_import(SisScript(outcome="never"))
    first, second = start(api), start(api)
    clock.advance(3600)
    assert (show(api, first)["workflow_state"], show(api, second)["workflow_state"]) == ("importing", "created")


def test_index_is_newest_first_paginated_and_filtered(api: Api, clock: ManualClock) -> None:
    ids = [start(api) for _ in range(3)]
    clock.advance(1.0)
    page = api.get(BASE, params={"per_page": 2})
    assert [b["id"] for b in page.json()["sis_imports"]] == [ids[2], ids[1]]
    assert 'rel="next"' in page.headers["Link"]
    nxt = api.get(BASE, params={"per_page": 2, "page": 2}).json()["sis_imports"]
    assert [b["id"] for b in nxt] == [ids[0]]
    only = api.get(BASE, params={"workflow_state[]": ["importing", "bogus"]}).json()["sis_imports"]
    assert [b["id"] for b in only] == [ids[0]]
    ignored = api.get(BASE, params={"workflow_state[]": "bogus", "created_since": "not a date"}).json()
    assert len(ignored["sis_imports"]) == 3
