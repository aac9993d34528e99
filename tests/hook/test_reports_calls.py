"""CanvasHook's account report calls against the simulator: list, start, read, abort, delete, download."""

from __future__ import annotations

import json

import pytest

from airflow_provider_canvas_progress.core.kinds import parse_job_ref
from airflow_provider_canvas_progress.core.report_refs import ReportRef
from airflow_provider_canvas_progress.core.reports import ReportStatus
from airflow_provider_canvas_progress.exceptions import (
    CanvasConfigurationError,
    CanvasNotFoundError,
    CanvasResponseError,
    CanvasResponseTooLargeError,
    CanvasValidationError,
)
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.testing import CanvasSimulator, ManualClock

from .conftest import Connect


@pytest.fixture
def reports(manual_sim: CanvasSimulator, connect: Connect) -> CanvasHook:
    return connect(manual_sim)


def test_list_reports_names_each_report_with_its_parameters(reports: CanvasHook) -> None:
    offered = {r.report: r for r in reports.list_reports(1)}

    assert "provisioning_csv" in offered
    assert offered["grade_export_csv"].title == "Grade Export"
    assert offered["grade_export_csv"].parameters["enrollment_term_id"][0] is False
    assert offered["grade_export_csv"].last_run is None


def test_start_report_sends_checked_parameters_as_json_with_skip_message(
    reports: CanvasHook, manual_sim: CanvasSimulator
) -> None:
    started = reports.start_report(1, "provisioning_csv", {"users": True, "enrollment_term_id": ""})

    assert started.status is ReportStatus.CREATED
    sent = json.loads(manual_sim.requests[-1].body)
    assert sent == {"parameters": {"users": True, "skip_message": True}}


def test_a_report_the_account_does_not_offer_fails_at_once_naming_those_it_does(
    reports: CanvasHook,
) -> None:
    with pytest.raises(CanvasConfigurationError, match="does not offer the report 'provisioning'") as raised:
        reports.start_report(1, "provisioning", {"users": True})

    assert "provisioning_csv" in str(raised.value)
    assert "grade_export_csv" in str(raised.value)


def test_an_unknown_account_stays_a_not_found_error(reports: CanvasHook) -> None:
    with pytest.raises(CanvasNotFoundError):
        reports.start_report(404, "grade_export_csv")


def test_a_term_canvas_cannot_find_is_canvas_own_400(reports: CanvasHook) -> None:
    with pytest.raises(CanvasValidationError, match="invalid enrollment_term_id 'sis_term_id:nope'"):
        reports.start_report(1, "grade_export_csv", {"enrollment_term_id": "sis_term_id:nope"})


def test_bad_parameters_are_refused_before_any_request(reports: CanvasHook, manual_sim: CanvasSimulator) -> None:
    with pytest.raises(CanvasConfigurationError, match="object flag"):
        reports.start_report(1, "sis_export_csv", {"include_deleted": True})

    assert manual_sim.requests == []


def test_get_report_follows_the_report_to_its_end(reports: CanvasHook, clock: ManualClock) -> None:
    started = reports.start_report(1, "last_user_access_csv")
    clock.advance(10.0)

    ended = reports.get_report(1, "last_user_access_csv", started.id)

    assert ended.status is ReportStatus.COMPLETE
    assert ended.attachment is not None
    assert ended.attachment.size is not None
    assert ended.attachment.size > 0


async def test_aget_report_reads_the_same_report(reports: CanvasHook, clock: ManualClock) -> None:
    started = reports.start_report(1, "grade_export_csv")
    clock.advance(1.0)

    async with reports:
        running = await reports.aget_report(1, "grade_export_csv", started.id)

    assert running.status is ReportStatus.RUNNING


def test_abort_report_aborts_only_a_running_report(reports: CanvasHook, clock: ManualClock) -> None:
    started = reports.start_report(1, "grade_export_csv")
    with pytest.raises(CanvasNotFoundError):
        reports.abort_report(1, "grade_export_csv", started.id)
    clock.advance(1.0)

    assert reports.abort_report(1, "grade_export_csv", started.id).status is ReportStatus.ABORTED


def test_delete_report_answers_deleted_and_the_report_is_gone(reports: CanvasHook) -> None:
    started = reports.start_report(1, "grade_export_csv")

    assert reports.delete_report(1, "grade_export_csv", started.id).status is ReportStatus.DELETED
    with pytest.raises(CanvasNotFoundError):
        reports.get_report(1, "grade_export_csv", started.id)


@pytest.mark.parametrize(
    ("account", "name", "report_id"), [("1/../2", "x_csv", 1), (1, "../progress", 1), (1, "a", "1?x")]
)
def test_parts_that_are_not_ids_or_names_never_reach_a_path(
    reports: CanvasHook, manual_sim: CanvasSimulator, account: object, name: str, report_id: object
) -> None:
    with pytest.raises(CanvasConfigurationError):
        reports.get_report(account, name, report_id)

    assert manual_sim.requests == []


def test_the_token_is_not_in_the_hook_repr(reports: CanvasHook, manual_sim: CanvasSimulator) -> None:
    assert manual_sim.token not in repr(reports)


def finished(reports: CanvasHook, clock: ManualClock, name: str = "last_user_access_csv", **parameters: object) -> str:
    started = reports.start_report(1, name, parameters)
    clock.advance(10.0)
    return started.id


def test_the_file_streams_from_the_storage_host_without_the_token(
    reports: CanvasHook, manual_sim: CanvasSimulator, clock: ManualClock
) -> None:
    report_id = finished(reports, clock)

    found, chunks = reports.stream_report_file(1, "last_user_access_csv", report_id)
    data = b"".join(chunks)

    assert found.attachment is not None
    assert len(data) == found.attachment.size
    assert data.startswith(b"user id,user sis id")
    storage = manual_sim.sis.filestore.requests
    assert [r.status for r in storage] == [200]
    assert storage[0].header("Authorization") is None
    canvas_file = [r for r in manual_sim.requests if r.path.startswith("/files/")]
    assert canvas_file[0].header("Authorization") is None


def test_a_file_larger_than_max_bytes_is_refused_before_a_byte_is_read(
    reports: CanvasHook, manual_sim: CanvasSimulator, clock: ManualClock
) -> None:
    report_id = finished(reports, clock)

    with pytest.raises(CanvasResponseTooLargeError, match="max_bytes=100"):
        reports.stream_report_file(1, "last_user_access_csv", report_id, max_bytes=100)

    assert manual_sim.sis.filestore.requests == []


def test_a_report_without_a_file_is_a_clear_error(reports: CanvasHook, clock: ManualClock) -> None:
    started = reports.start_report(1, "grade_export_csv")

    with pytest.raises(CanvasResponseError, match="no file"):
        reports.stream_report_file(1, "grade_export_csv", started.id)


def test_the_kind_stops_a_running_report_and_reads_one_that_is_not(reports: CanvasHook, clock: ManualClock) -> None:
    started = reports.start_report(1, "grade_export_csv")
    kind, waiting = parse_job_ref(str(ReportRef.of(1, "grade_export_csv", started.id)))

    assert kind.stop(reports, waiting, "the task was killed").status is ReportStatus.CREATED
    clock.advance(1.0)
    assert kind.stop(reports, waiting, "the task was killed").status is ReportStatus.ABORTED


async def test_the_kind_reads_and_stops_in_the_triggerer_too(reports: CanvasHook, clock: ManualClock) -> None:
    started = reports.start_report(1, "grade_export_csv")
    kind, ref = parse_job_ref(f"account_report:1/grade_export_csv/{started.id}")
    clock.advance(1.0)

    async with reports:
        running = await kind.aread(reports, ref)
        stopped = await kind.astop(reports, ref, "the task was killed")

    assert (running.status, stopped.status) == (ReportStatus.RUNNING, ReportStatus.ABORTED)
