"""A simulated report moves through Canvas's states on the simulator clock, and ends as Canvas ends it."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_canvas_progress.testing import CanvasSimulator, ManualClock
from airflow_provider_canvas_progress.testing.reports_control import reports_of
from airflow_provider_canvas_progress.testing.reports_store import ABORTED_TEXT, FAILED_TEXT, ReportScript

from .simclient import Api

BASE = "/api/v1/accounts/1/reports"


class Reports:
    def __init__(self, api: Api, clock: ManualClock) -> None:
        self.api, self.clock = api, clock

    def start(self, name: str, **parameters: str) -> int:
        answer = self.api.post(f"{BASE}/{name}", data={f"parameters[{k}]": v for k, v in parameters.items()})
        assert answer.status_code == 200, answer.text
        return int(answer.json()["id"])

    def show(self, name: str, report_id: int) -> dict[str, Any]:
        answer = self.api.get(f"{BASE}/{name}/{report_id}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def at(self, seconds: float, name: str, report_id: int) -> dict[str, Any]:
        self.clock.advance(seconds)
        return self.show(name, report_id)


@pytest.fixture
def reports(api: Api, clock: ManualClock) -> Reports:
    return Reports(api, clock)


def test_a_single_job_report_goes_created_running_complete(reports: Reports) -> None:
    report_id = reports.start("last_user_access_csv")

    seen = [reports.at(step, "last_user_access_csv", report_id) for step in (0.0, 0.6, 0.5, 0.5, 1.0)]

    assert [s["status"] for s in seen] == ["created", "running", "running", "running", "complete"]
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert seen[0]["started_at"] is None
    assert seen[1]["started_at"] is not None
    assert seen[1]["parameters"]["locale"] == "en"
    assert seen[-1]["ended_at"] is not None
    assert seen[-1]["attachment"]["filename"].startswith("last_user_access_csv_")


def test_a_parallel_report_compiles_at_99_before_it_completes(reports: Reports) -> None:
    report_id = reports.start("grade_export_csv")

    running = reports.at(2.0, "grade_export_csv", report_id)
    compiling = reports.at(0.6, "grade_export_csv", report_id)
    done = reports.at(0.5, "grade_export_csv", report_id)

    assert running["status"] == "running"
    assert running["progress"] < 100
    assert (compiling["status"], compiling["progress"]) == ("compiling", 99)
    assert (done["status"], done["progress"]) == ("complete", 100)


def test_an_error_report_says_progress_100_and_its_reason_in_extra_text(reports: Reports, sim: CanvasSimulator) -> None:
    reason = "Failed, please report the following error code to your system administrator: ErrorReport:42;"
    reports_of(sim).script_next(ReportScript.failing(reason))
    report_id = reports.start("last_user_access_csv")

    ended = reports.at(5.0, "last_user_access_csv", report_id)

    assert (ended["status"], ended["progress"]) == ("error", 100)
    assert ended["parameters"]["extra_text"] == reason
    assert ended["file_url"] is None
    assert "attachment" not in ended


def test_an_error_without_a_reason_gets_canvas_default_text(reports: Reports, sim: CanvasSimulator) -> None:
    reports_of(sim).script_next(ReportScript.failing())
    report_id = reports.start("last_user_access_csv")

    assert reports.at(5.0, "last_user_access_csv", report_id)["parameters"]["extra_text"] == FAILED_TEXT


def test_a_crashed_report_keeps_its_progress_and_writes_no_reason(reports: Reports, sim: CanvasSimulator) -> None:
    reports_of(sim).script_next(ReportScript.failing(keep_progress=True))
    report_id = reports.start("last_user_access_csv")

    ended = reports.at(5.0, "last_user_access_csv", report_id)

    assert ended["status"] == "error"
    assert ended["progress"] < 100
    assert "extra_text" not in ended["parameters"]


def test_provisioning_with_no_object_flag_ends_in_error_without_a_file(reports: Reports) -> None:
    report_id = reports.start("provisioning_csv", include_deleted="true")

    ended = reports.at(5.0, "provisioning_csv", report_id)

    assert (ended["status"], ended["progress"]) == ("error", 100)
    assert ended["parameters"]["extra_text"] == FAILED_TEXT


def test_an_aborted_single_job_report_runs_on_then_ends_aborted_with_its_file(reports: Reports, api: Api) -> None:
    report_id = reports.start("last_user_access_csv")
    reports.clock.advance(1.0)
    assert api.put(f"{BASE}/last_user_access_csv/{report_id}/abort").json()["status"] == "aborted"

    meanwhile = reports.at(0.6, "last_user_access_csv", report_id)
    ended = reports.at(5.0, "last_user_access_csv", report_id)

    assert meanwhile["status"] == "aborted"
    assert meanwhile["ended_at"] is None
    assert "attachment" not in meanwhile
    assert (ended["status"], ended["progress"]) == ("aborted", 100)
    assert ended["parameters"]["extra_text"] == ABORTED_TEXT
    assert ended["attachment"]["size"] > 0


def test_an_aborted_parallel_report_stops_where_it_was_without_a_file(reports: Reports, api: Api) -> None:
    report_id = reports.start("grade_export_csv")
    reports.clock.advance(1.1)
    at_abort = api.put(f"{BASE}/grade_export_csv/{report_id}/abort").json()

    later = reports.at(60.0, "grade_export_csv", report_id)

    assert later["status"] == "aborted"
    assert later["progress"] == at_abort["progress"] < 100
    assert later["ended_at"] is None
    assert later["file_url"] is None


def test_a_compiling_report_cannot_be_aborted(reports: Reports, api: Api) -> None:
    report_id = reports.start("grade_export_csv")
    assert reports.at(2.6, "grade_export_csv", report_id)["status"] == "compiling"

    assert api.put(f"{BASE}/grade_export_csv/{report_id}/abort").status_code == 404


def test_a_finished_report_cannot_be_aborted(reports: Reports, api: Api) -> None:
    report_id = reports.start("last_user_access_csv")
    reports.clock.advance(5.0)

    assert api.put(f"{BASE}/last_user_access_csv/{report_id}/abort").status_code == 404
    assert reports.show("last_user_access_csv", report_id)["status"] == "complete"


def test_a_never_ending_report_stays_running_below_100(reports: Reports, sim: CanvasSimulator) -> None:
    reports_of(sim).script_next(ReportScript.never_ending())
    report_id = reports.start("last_user_access_csv")

    later = reports.at(3600.0, "last_user_access_csv", report_id)

    assert later["status"] == "running"
    assert later["progress"] < 100


def test_scripts_can_be_queued_per_report_name(reports: Reports, sim: CanvasSimulator) -> None:
    reports_of(sim).script_next(ReportScript.failing("grades broke"), report="grade_export_csv")
    access = reports.start("last_user_access_csv")
    grades = reports.start("grade_export_csv")
    reports.clock.advance(10.0)

    assert reports.show("last_user_access_csv", access)["status"] == "complete"
    assert reports.show("grade_export_csv", grades)["parameters"]["extra_text"] == "grades broke"


def test_a_deleted_finished_report_still_names_its_file_in_the_delete_answer(reports: Reports, api: Api) -> None:
    report_id = reports.start("last_user_access_csv")
    reports.clock.advance(5.0)

    deleted = api.call("DELETE", f"{BASE}/last_user_access_csv/{report_id}").json()

    assert deleted["status"] == "deleted"
    assert deleted["file_url"] is not None
