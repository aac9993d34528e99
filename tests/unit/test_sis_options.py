"""Specification of SIS import parameters: Canvas's 400 rules and silent ignores, refused before any call."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.core.sis_options import (
    ENROLLMENT_DROP_STATUSES,
    SisImportOptions,
    UploadSource,
    parse_term_reference,
)


def test_defaults_send_only_the_import_type() -> None:
    assert SisImportOptions().to_params() == [("import_type", "instructure_csv")]


def test_batch_mode_with_a_term_sends_both() -> None:
    params = SisImportOptions(batch_mode=True, batch_mode_term_id="sis_term_id:FA26", change_threshold=10).to_params()
    assert ("batch_mode", "true") in params
    assert ("batch_mode_term_id", "sis_term_id:FA26") in params
    assert ("change_threshold", "10") in params


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"batch_mode": True}, "batch_mode_term_id cannot be found"),
        ({"batch_mode": True, "multi_term_batch_mode": True}, "change_threshold is required"),
        ({"multi_term_batch_mode": True}, "change_threshold is required"),
        ({"batch_mode_term_id": 4}, "only applies with batch_mode"),
        ({"batch_mode": True, "batch_mode_term_id": 4, "diffing_data_set_identifier": "x"}, "ignores diffing"),
        (
            {"batch_mode": True, "batch_mode_term_id": 4, "multi_term_batch_mode": True, "change_threshold": 5},
            "not both",
        ),
        ({"diffing_drop_status": "gone"}, "Invalid diffing_drop_status"),
        ({"diffing_user_remove_status": "inactive"}, "Invalid diffing_user_remove_status"),
        ({"batch_mode": True, "batch_mode_term_id": 1, "batch_mode_enrollment_drop_status": "x"}, "Invalid batch_mode"),
        ({"batch_mode_enrollment_drop_status": "inactive"}, "only applies with batch_mode"),
        ({"add_sis_stickiness": True}, "need override_sis_stickiness"),
        ({"clear_sis_stickiness": True}, "need override_sis_stickiness"),
        ({"diff_row_count_threshold": 0}, "positive"),
        ({"diff_row_count_threshold": -5}, "positive"),
        ({"change_threshold": 101}, "percentage"),
        ({"change_threshold": True}, "percentage"),
        ({"skip_deletes": "yes"}, "True or False"),
        ({"diffing_remaster_data_set": True}, "needs diffing_data_set_identifier"),
        ({"diffing_data_set_identifier": "  "}, "non-empty"),
    ],
)
def test_combinations_canvas_refuses_or_ignores_are_refused(options: dict[str, Any], says: str) -> None:
    with pytest.raises(CanvasConfigurationError, match=says):
        SisImportOptions(**options)


def test_multi_term_mode_turns_batch_mode_on_as_canvas_does() -> None:
    options = SisImportOptions(multi_term_batch_mode=True, change_threshold=10)
    assert options.batch_mode
    assert ("multi_term_batch_mode", "true") in options.to_params()


@pytest.mark.parametrize("status", ENROLLMENT_DROP_STATUSES)
def test_every_enrollment_drop_status_is_accepted(status: str) -> None:
    assert (
        SisImportOptions(diffing_data_set_identifier="nightly", diffing_drop_status=status).diffing_drop_status
        == status
    )


def test_stickiness_with_override_is_sent() -> None:
    params = SisImportOptions(override_sis_stickiness=True, clear_sis_stickiness=True).to_params()
    assert ("override_sis_stickiness", "true") in params
    assert ("clear_sis_stickiness", "true") in params


def test_from_mapping_refuses_unknown_parameters() -> None:
    with pytest.raises(CanvasConfigurationError, match="unknown SIS import parameters"):
        SisImportOptions.from_mapping({"batch_mod": True})


@given(st.integers(min_value=0, max_value=10**18))
def test_numeric_term_ids_are_accepted(term: int) -> None:
    assert parse_term_reference(term) == str(term)


@pytest.mark.parametrize("bad", ["", "FA26", "sis_term_id:", "sis_term_id:a/b", "1.5", True, None, "../1"])
def test_term_references_that_are_neither_ids_nor_sis_ids_are_refused(bad: Any) -> None:
    with pytest.raises(CanvasConfigurationError, match="batch_mode_term_id"):
        parse_term_reference(bad)


def test_upload_source_needs_exactly_one_input() -> None:
    assert UploadSource.choose(file="/data/sis.zip", directory=None, data=None).kind == "file"
    with pytest.raises(CanvasConfigurationError, match="exactly one"):
        UploadSource.choose(file="/data/sis.zip", directory="/data", data=None)
    with pytest.raises(CanvasConfigurationError, match="exactly one"):
        UploadSource.choose(file=None, directory=None, data=None)


@pytest.mark.parametrize("path", ["/data/sis.txt", "/data/sis", "/data/sis.xml"])
def test_a_file_that_is_neither_zip_nor_csv_is_refused(path: str) -> None:
    with pytest.raises(CanvasConfigurationError, match=r"\.zip or \.csv"):
        UploadSource("file", path)


def test_a_templated_file_path_waits_for_rendering() -> None:
    assert UploadSource("file", "/data/{{ ds }}").value == "/data/{{ ds }}"
