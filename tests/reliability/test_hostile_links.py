"""Extra links from hostile answers: a link is shown only for an https URL (http on a loopback test
server) on the connection's own origin, rebuilt from that origin; a ``javascript:`` URL, another
host, a user-info trick, a backslash or an odd scheme gives no link at all."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_canvas_progress.core.settings import Origin
from airflow_provider_canvas_progress.links import MAX_LINK_LENGTH, context_link, safe_link
from tests.airflow.conftest import airflow_db  # noqa: F401  (a fixture: a migrated Airflow database)
from tests.airflow.runner import load_dag, run_dag
from tests.airflow.test_sensor_units import links_of
from tests.reliability.conftest import Connect
from tests.reliability.hostile import HostileServer, json_answer, progress_json

CANVAS = Origin.of("https://school.instructure.com")
LOCAL = Origin.of("http://127.0.0.1:8080")

NO_LINK = {
    "javascript scheme": "javascript:alert(document.cookie)",
    "javascript with slashes": "javascript://school.instructure.com/%0aalert(1)",
    "data scheme": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript scheme": "vbscript:msgbox(1)",
    "file scheme": "file:///etc/passwd",
    "ftp scheme": "ftp://school.instructure.com/api/v1/progress/5",
    "mixed-case scheme": "HTTPS://school.instructure.com/api/v1/progress/5",
    "mixed-case javascript": "JaVaScRiPt:alert(1)",
    "plain http to the https host": "http://school.instructure.com/api/v1/progress/5",
    "another host": "https://evil.example/api/v1/progress/5",
    "a look-alike suffix": "https://school.instructure.com.evil.example/api/v1/progress/5",
    "a look-alike prefix": "https://evilschool.instructure.com/api/v1/progress/5",
    "another port": "https://school.instructure.com:8443/api/v1/progress/5",
    "user-info before the host": "https://school.instructure.com@evil.example/api/v1/progress/5",
    "user-info with a port-like name": "https://school.instructure.com:443@evil.example/",
    "credentials on the right host": "https://user:pass@school.instructure.com/api/v1/progress/5",
    "backslash host trick": "https://evil.example\\@school.instructure.com/api/v1/progress/5",
    "backslash in the path": "https://school.instructure.com\\evil.example/x",
    "protocol-relative": "//evil.example/api/v1/progress/5",
    "path only": "/api/v1/progress/5",
    "leading space": " https://school.instructure.com/api/v1/progress/5",
    "tab inside the scheme": "ht\ttps://school.instructure.com/api/v1/progress/5",
    "newline inside": "https://school.instructure.com/api/v1/\nprogress/5",
    "control character": "https://school.instructure.com/\x00/progress/5",
    "percent-encoded host": "https://school%2Einstructure.com/api/v1/progress/5",
    "unicode look-alike host": "https://\u0455chool.instructure.com/api/v1/progress/5",  # Cyrillic dze
    "invalid port": "https://school.instructure.com:99999/api/v1/progress/5",
    "unclosed ipv6 bracket": "https://[school.instructure.com/api/v1/progress/5",
    "over-long url": "https://school.instructure.com/" + "a" * MAX_LINK_LENGTH,
    "empty": "",
}


@pytest.mark.parametrize("url", NO_LINK.values(), ids=NO_LINK.keys())
def test_a_hostile_progress_url_gives_no_link(url: str) -> None:
    assert safe_link(url, CANVAS) == ""


@pytest.mark.parametrize("value", [None, 5, ["https://school.instructure.com/"], {"url": "x"}, b"https://x"])
def test_a_progress_url_that_is_not_text_gives_no_link(value: object) -> None:
    assert safe_link(value, CANVAS) == ""


def test_an_https_url_on_the_connections_origin_is_linked() -> None:
    url = "https://school.instructure.com/api/v1/progress/5"
    assert safe_link(url, CANVAS) == url


def test_the_host_is_compared_case_insensitively_and_the_link_is_rebuilt_on_the_connections_spelling() -> None:
    assert safe_link("https://SCHOOL.Instructure.com/api/v1/progress/5", CANVAS) == (
        "https://school.instructure.com/api/v1/progress/5"
    )


def test_an_explicit_default_port_is_the_same_origin() -> None:
    assert safe_link("https://school.instructure.com:443/api/v1/progress/5", CANVAS) == (
        "https://school.instructure.com/api/v1/progress/5"
    )


def test_the_fragment_is_dropped_and_odd_path_characters_are_escaped() -> None:
    link = safe_link('https://school.instructure.com/a"<script>/progress?x=1#frag', CANVAS)
    assert link == "https://school.instructure.com/a%22%3Cscript%3E/progress?x=1"


def test_plain_http_is_linked_only_on_a_loopback_test_server() -> None:
    assert safe_link("http://127.0.0.1:8080/api/v1/progress/5", LOCAL) == "http://127.0.0.1:8080/api/v1/progress/5"
    insecure = Origin.of("http://canvas.example.edu")
    assert safe_link("http://canvas.example.edu/api/v1/progress/5", insecure) == ""


@pytest.mark.parametrize(
    ("context_type", "context_id", "expected"),
    [
        ("Course", 5, "https://school.instructure.com/courses/5"),
        ("Account", "1", "https://school.instructure.com/accounts/1"),
        ("User", 10000000000007, "https://school.instructure.com/users/10000000000007"),
        ("Course", "5/../../evil", ""),
        ("Course", "javascript:alert(1)", ""),
        ("Course", "5?x=1", ""),
        ("Course", -5, ""),
        ("Course", 0, ""),
        ("Course", True, ""),
        ("Course", None, ""),
        ("Course", 5.5, ""),
        ("Course", "9" * 40, ""),
        ("Assignment", 5, ""),
        (None, 5, ""),
    ],
)
def test_the_context_link_is_built_on_the_connections_origin_from_a_plain_id_only(
    context_type: object, context_id: object, expected: str
) -> None:
    assert context_link(CANVAS, context_type, context_id) == expected


def test_no_context_link_on_a_plain_http_connection_to_a_remote_host() -> None:
    assert context_link(Origin.of("http://canvas.example.edu"), "Course", 5) == ""


# -- through real Airflow: what the task page would show ---------------------------------------------------


HOSTILE_PROGRESS = {
    "a javascript url": {"url": "javascript:alert(document.cookie)"},
    "a url on another host": {"url": "https://evil.example/api/v1/progress/5"},
    "a user-info trick": {"url": "http://127.0.0.1@evil.example/api/v1/progress/5"},
}


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("fields", HOSTILE_PROGRESS.values(), ids=HOSTILE_PROGRESS.keys())
def test_a_task_that_read_a_hostile_progress_url_shows_no_progress_link_and_only_its_own_origin(
    server: HostileServer, connect: Connect, fields: dict[str, Any]
) -> None:
    server.on(r"^/api/v1/progress/", json_answer(progress_json(5, **fields)))
    connect()

    result = run_dag(load_dag("canvas_sensor_dags", "sensor_poke_default"), progress_id="5")

    links = links_of(result, "sensor_poke_default")
    assert result.states == {"wait": "success"}
    assert links["CanvasProgressLink"] in ("", None)
    assert links["CanvasContextLink"] == f"{server.base_url}/accounts/1"


@pytest.mark.usefixtures("airflow_db")
def test_a_task_that_read_a_progress_on_its_own_origin_shows_both_links(
    server: HostileServer, connect: Connect
) -> None:
    url = f"{server.base_url}/api/v1/progress/5"
    server.on(r"^/api/v1/progress/", json_answer(progress_json(5, url=url, context_type="Course", context_id=3)))
    connect()

    result = run_dag(load_dag("canvas_sensor_dags", "sensor_poke_default"), progress_id="5")

    assert links_of(result, "sensor_poke_default") == {
        "CanvasProgressLink": url,
        "CanvasContextLink": f"{server.base_url}/courses/3",
    }
