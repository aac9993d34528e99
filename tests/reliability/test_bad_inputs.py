"""Bad input gets a clear error and nothing is sent: a table of malformed ids, URLs, messages and
connection settings, each with the error it must raise and the words that must explain it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_canvas_progress.core.errors import (
    CanvasConfigurationError,
    ForeignHostError,
    InvalidProgressIdError,
)
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.operators.jobs import (
    CanvasBulkGradeUpdateOperator,
    CanvasCourseBatchUpdateOperator,
)
from airflow_provider_canvas_progress.operators.progress import CancelProgressOperator, CanvasProgressBranchOperator
from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor
from airflow_provider_canvas_progress.testing import CanvasSimulator

FORMS = "Expected a Progress id"


@pytest.fixture
def canvas(monkeypatch: pytest.MonkeyPatch) -> Iterator[CanvasSimulator]:
    with CanvasSimulator() as sim:
        connect(monkeypatch, {"host": sim.base_url, "password": sim.token})
        yield sim


def connect(monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any]) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CANVAS_DEFAULT", json.dumps({"conn_type": "canvas", **fields}))


BAD_PROGRESS_IDS: list[tuple[Any, type[Exception], str]] = [
    ("", InvalidProgressIdError, "is empty"),
    ("   ", InvalidProgressIdError, "is empty"),
    ("abc", InvalidProgressIdError, FORMS),
    ("12a", InvalidProgressIdError, FORMS),
    ("-5", InvalidProgressIdError, FORMS),
    ("0", InvalidProgressIdError, FORMS),
    (0, InvalidProgressIdError, "ids are positive"),
    (-1, InvalidProgressIdError, "ids are positive"),
    (True, InvalidProgressIdError, FORMS),
    (None, InvalidProgressIdError, FORMS),
    (1.5, InvalidProgressIdError, "float"),
    ([1], InvalidProgressIdError, "list"),
    ({"no_id": 1}, InvalidProgressIdError, "without an 'id' key"),
    ("1~", InvalidProgressIdError, FORMS),
    ("~5", InvalidProgressIdError, FORMS),
    ("1~0", InvalidProgressIdError, FORMS),
    ("{{ ti.xcom_pull('start')['id'] }}", InvalidProgressIdError, FORMS),  # a template that was never rendered
    ("https://evil.example.com/api/v1/progress/5", ForeignHostError, "only ever sent to the connection's own host"),
    ("http://127.0.0.1:1/api/v1/progress/5", ForeignHostError, "points at http://127.0.0.1:1"),
    ("https://127.0.0.1/api/v1/progress/5", ForeignHostError, "points at https://127.0.0.1"),
    ("/api/v1/courses/5", InvalidProgressIdError, "not a Progress URL"),
    ("/api/v1/progress/abc", InvalidProgressIdError, "not a Progress URL"),
]


@pytest.mark.parametrize(("value", "error", "words"), BAD_PROGRESS_IDS, ids=[repr(r[0]) for r in BAD_PROGRESS_IDS])
def test_a_bad_progress_id_is_refused_before_anything_is_sent(
    canvas: CanvasSimulator, value: Any, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=_re(words)):
        CanvasHook().get_progress(value)
    assert canvas.requests == []


def _extra(**extra: Any) -> dict[str, Any]:
    return {"host": "canvas.example.edu", "password": "t", "extra": extra}


BAD_CONNECTIONS: list[tuple[str, dict[str, Any], str]] = [
    ("no host", {"password": "t"}, "has no host"),
    ("no token", {"host": "https://canvas.example.edu"}, "has no access token"),
    ("blank token", {"host": "https://canvas.example.edu", "password": "   "}, "has no access token"),
    ("ftp scheme", {"host": "ftp://canvas.example.edu", "password": "t"}, "scheme 'ftp'"),
    ("plain http", {"host": "http://canvas.example.edu", "password": "t"}, "allow_insecure_http"),
    ("path", {"host": "https://canvas.example.edu/canvas", "password": "t"}, "has the path '/canvas'"),
    ("query", {"host": "https://canvas.example.edu/?x=1", "password": "t"}, "query string"),
    ("credentials", {"host": "https://me:pw@canvas.example.edu", "password": "t"}, "contains credentials"),
    ("timeout text", _extra(timeout="soon"), "timeout='soon'"),
    ("timeout negative", _extra(timeout=-1), "timeout=-1"),
    ("attempts zero", _extra(max_attempts=0), "max_attempts"),
    ("attempts fraction", _extra(max_attempts=2.5), "whole"),
    ("bool text", _extra(allow_insecure_http="maybe"), "true or false"),
    ("auth type", _extra(auth_type="kerberos"), "auth_type='kerberos'"),
    ("in-flight zero", _extra(max_in_flight=0), "max_in_flight"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "words"), [r[1:] for r in BAD_CONNECTIONS], ids=[r[0] for r in BAD_CONNECTIONS])
def test_a_bad_connection_is_refused_with_the_field_and_the_fix(
    monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any], words: str
) -> None:
    connect(monkeypatch, fields)
    with pytest.raises(CanvasConfigurationError, match=_re(words)) as caught:
        CanvasHook().get_progress(1)
    assert "canvas_default" in str(caught.value)
    assert fields.get("password", "\0") not in str(caught.value) or fields.get("password") == "t"


def _batch(**kwargs: Any) -> Callable[[], Any]:
    arguments = {"task_id": "s", "account_id": 1, "course_ids": [1], "event": "offer", **kwargs}
    return lambda: CanvasCourseBatchUpdateOperator(**arguments)


def _sensor(**kwargs: Any) -> Callable[[], Any]:
    return lambda: CanvasProgressSensor(task_id="wait", progress_id="1", **kwargs)


BAD_TASK_ARGUMENTS: list[tuple[str, Callable[[], Any], str]] = [
    ("fail_on unknown", _sensor(fail_on=["failed", "exploded"]), "fail_on contains"),
    ("fail_on pending", _sensor(fail_on=["pending"]), "fail_on contains"),
    ("poke interval zero", _sensor(poke_interval=0), "poll_interval/poke_interval must be > 0"),
    ("start_from_trigger without deferrable", _sensor(start_from_trigger=True, deferrable=False), "needs deferrable"),
    ("if_finished", lambda: CancelProgressOperator(task_id="c", progress_id="1", if_finished="maybe"), "if_finished"),
    ("branch with both", lambda: CanvasProgressBranchOperator(task_id="b", progress={}, progress_id=1), "exactly one"),
    ("branch with none", lambda: CanvasProgressBranchOperator(task_id="b"), "exactly one"),
    ("batch event", _batch(event="publish"), "event='publish'"),
    ("batch too many", _batch(course_ids=list(range(1, 502))), "at most 500"),
    ("batch empty", _batch(course_ids=[]), "is empty"),
    ("batch bad id", _batch(course_ids=["abc"]), "'abc'"),
    ("grades empty", lambda: CanvasBulkGradeUpdateOperator(task_id="g", course_id=1, grade_data={}), "grade_data"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "words"), [r[1:] for r in BAD_TASK_ARGUMENTS], ids=[r[0] for r in BAD_TASK_ARGUMENTS]
)
def test_bad_task_arguments_fail_when_the_dag_is_parsed(build: Callable[[], Any], words: str) -> None:
    with pytest.raises(ValueError, match=_re(words)):
        build()


def test_the_table_has_at_least_thirty_rows() -> None:
    assert len(BAD_PROGRESS_IDS) + len(BAD_CONNECTIONS) + len(BAD_TASK_ARGUMENTS) >= 30


def _re(words: str) -> str:
    import re

    return re.escape(words)
