"""Report files go through Airflow's ``ObjectStoragePath`` on every supported Airflow.

Airflow 2.11 and 3.0 accept any universal-pathlib from 0.2.2 on, yet their ``ObjectStoragePath`` refuses
every path with 0.3; each Airflow's constraints file (constraints/) pins a version that works. These specs
run in every matrix environment, so a pin that breaks writing files fails here first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_canvas_progress import compat
from airflow_provider_canvas_progress.compat import IncompatibleStorageLibrary, object_storage_path
from airflow_provider_canvas_progress.exceptions import CanvasConfigurationError
from airflow_provider_canvas_progress.report_files import target_for


@pytest.mark.parametrize("form", ["plain path", "file URL"])
def test_a_local_folder_is_written_through_object_storage(tmp_path: Path, form: str) -> None:
    url = str(tmp_path) if form == "plain path" else f"file://{tmp_path}"

    path = object_storage_path(url) / "report.csv"
    path.write_bytes(b"id\n1\n")

    assert (tmp_path / "report.csv").read_bytes() == b"id\n1\n"


class RefusingPath:
    """What ``ObjectStoragePath`` raises on Airflow 2.11/3.0 with universal-pathlib 0.3."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise TypeError("ObjectStoragePath(...) detected protocol file which is incompatible with ObjectStoragePath.")


def test_a_storage_library_too_new_for_this_airflow_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compat, "ObjectStoragePath", RefusingPath)

    with pytest.raises(IncompatibleStorageLibrary, match=r"pip install 'universal-pathlib<0.3'"):
        object_storage_path("/tmp/reports")


def test_the_report_operator_turns_that_refusal_into_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compat, "ObjectStoragePath", RefusingPath)

    refusal = r"Cannot write the report file to '/tmp/reports/'.*universal-pathlib"
    with pytest.raises(CanvasConfigurationError, match=refusal):
        target_for("/tmp/reports/", "a.csv")


def test_other_type_errors_are_not_mistaken_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise TypeError("something else")

    monkeypatch.setattr(compat, "ObjectStoragePath", broken)

    with pytest.raises(TypeError, match="something else"):
        object_storage_path("/tmp/reports")
