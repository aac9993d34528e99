"""Specification of finding the Progress in the answer of a call that starts a Canvas job."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_canvas_progress.core.errors import (
    CanvasResponseError,
    CanvasUnknownStateError,
    ForeignHostError,
    InvalidProgressIdError,
)
from airflow_provider_canvas_progress.core.ids import ProgressRef
from airflow_provider_canvas_progress.core.progress import WorkflowState, parse_progress
from airflow_provider_canvas_progress.core.settings import CanvasSettings
from airflow_provider_canvas_progress.core.started import StartedJob, find_progress

SOURCE = "PUT /api/v1/accounts/1/courses"
PROGRESS_URL = "https://school.instructure.com/api/v1/progress/77"


def test_bare_progress_is_taken_as_the_jobs_progress(
    settings: CanvasSettings, progress_payload: dict[str, Any]
) -> None:
    started = find_progress(progress_payload, settings, source=SOURCE)

    assert started == StartedJob(ProgressRef("123"), parse_progress(progress_payload))


def test_bare_progress_with_string_ids_is_read_the_same(
    settings: CanvasSettings, progress_payload: dict[str, Any]
) -> None:
    progress_payload.update(id="10000000000123", context_id="10000000000001", user_id=None)

    started = find_progress(progress_payload, settings, source=SOURCE)

    assert started.ref == ProgressRef("10000000000123")
    assert started.progress is not None
    assert started.progress.workflow_state is WorkflowState.RUNNING


def test_progress_nested_under_progress_key_is_found(
    settings: CanvasSettings, progress_payload: dict[str, Any]
) -> None:
    # PUT /api/v1/courses/:id/modules with async=true
    started = find_progress({"progress": progress_payload}, settings, source="PUT /api/v1/courses/1/modules")

    assert started == StartedJob(ProgressRef("123"), parse_progress(progress_payload))


@pytest.mark.parametrize("url", [PROGRESS_URL, "/api/v1/progress/77"])
def test_progress_url_on_the_connections_host_gives_only_the_reference(settings: CanvasSettings, url: str) -> None:
    started = find_progress({"id": 9, "progress_url": url}, settings, source=SOURCE)

    assert started == StartedJob(ProgressRef("77"), None)


@pytest.mark.parametrize(
    "answer",
    [
        {"id": 9, "workflow_state": "running", "migration_type": "course_copy_importer", "progress_url": PROGRESS_URL},
        {"id": 9, "workflow_state": "pre_processing", "migration_type": "zip_importer", "progress_url": PROGRESS_URL},
        {"id": 9, "workflow_state": "created", "export_type": "common_cartridge", "progress_url": PROGRESS_URL},
    ],
    ids=["content migration, running", "content migration, pre_processing", "content export, created"],
)  # fmt: skip
def test_content_migration_or_export_is_not_mistaken_for_its_progress(
    settings: CanvasSettings, answer: dict[str, Any]
) -> None:
    # These carry their own id and workflow_state next to progress_url (lib/api/v1/content_*.rb).
    started = find_progress(answer, settings, source="POST /api/v1/courses/1/content_migrations")

    assert started == StartedJob(ProgressRef("77"), None)


@pytest.mark.parametrize(
    "url",
    ["https://evil.example.com/api/v1/progress/77", "http://school.instructure.com/api/v1/progress/77"],
)
def test_progress_url_on_another_host_is_refused(settings: CanvasSettings, url: str) -> None:
    with pytest.raises(ForeignHostError) as caught:
        find_progress({"progress_url": url}, settings, source=SOURCE)

    assert f"progress_url in the answer of {SOURCE}" in str(caught.value)


def test_progress_url_that_is_not_a_progress_url_is_refused(settings: CanvasSettings) -> None:
    with pytest.raises(InvalidProgressIdError, match="not a Progress URL"):
        find_progress({"progress_url": "https://school.instructure.com/api/v1/courses/1"}, settings, source=SOURCE)


@pytest.mark.parametrize(
    ("answer", "listed"),
    [
        ({"id": 5, "name": "Course"}, "['id', 'name']"),
        ({"workflow_state": "running"}, "['workflow_state']"),
        ({"progress": None, "progress_url": ""}, "['progress', 'progress_url']"),
        ({"progress": "77"}, "['progress']"),
        ({}, "[]"),
        ([{"id": 1}], "'list'"),
        (None, "'NoneType'"),
        ("queued", "'str'"),
    ],
)
def test_answer_without_a_progress_is_refused_listing_what_it_had(
    settings: CanvasSettings, answer: object, listed: str
) -> None:
    with pytest.raises(CanvasResponseError) as caught:
        find_progress(answer, settings, source=SOURCE)

    message = str(caught.value)
    assert message.startswith(f"{SOURCE} answered without a Progress")
    assert f"got {listed}" in message
    assert "'progress_url'" in message


def test_malformed_bare_progress_is_refused_naming_the_field_and_the_call(
    settings: CanvasSettings, progress_payload: dict[str, Any]
) -> None:
    progress_payload["completion"] = "half"

    with pytest.raises(CanvasResponseError, match="'completion'") as caught:
        find_progress(progress_payload, settings, source=SOURCE)

    assert SOURCE in str(caught.value)


def test_malformed_nested_progress_is_refused(settings: CanvasSettings) -> None:
    with pytest.raises(CanvasResponseError, match="without 'id'"):
        find_progress({"progress": {"workflow_state": "queued"}}, settings, source=SOURCE)


def test_bare_progress_in_an_unknown_state_fails_closed(
    settings: CanvasSettings, progress_payload: dict[str, Any]
) -> None:
    progress_payload["workflow_state"] = "paused"

    with pytest.raises(CanvasUnknownStateError, match="'paused'"):
        find_progress(progress_payload, settings, source=SOURCE)
