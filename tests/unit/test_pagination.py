"""Specification of following Canvas's ``Link`` pagination with no I/O: next links, origins, page bounds."""

from __future__ import annotations

import pytest

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError, CanvasResponseError
from airflow_provider_canvas_progress.core.pagination import Pages, next_link
from airflow_provider_canvas_progress.core.protocol import CanvasResponse, build_request
from airflow_provider_canvas_progress.core.settings import CanvasSettings

BASE = "https://school.instructure.com"


def linked(header: str | None) -> CanvasResponse:
    return CanvasResponse(200, {"Link": header} if header is not None else {}, b"[]")


def test_the_next_link_is_found_among_canvas_s_links(settings: CanvasSettings) -> None:
    header = (
        f'<{BASE}/api/v1/courses?page=1&per_page=10>; rel="current",'
        f'<{BASE}/api/v1/courses?page=2&per_page=10>; rel="next",'
        f'<{BASE}/api/v1/courses?page=1&per_page=10>; rel="first",'
        f'<{BASE}/api/v1/courses?page=5&per_page=10>; rel="last"'
    )
    call = build_request(settings, "GET", "courses")

    assert next_link(linked(header), settings, call) == f"{BASE}/api/v1/courses?page=2&per_page=10"


@pytest.mark.parametrize("header", [None, "", f'<{BASE}/api/v1/courses?page=1>; rel="first"'])
def test_the_last_page_has_no_next_link(settings: CanvasSettings, header: str | None) -> None:
    assert next_link(linked(header), settings, build_request(settings, "GET", "courses")) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/api/v1/courses?page=2",
        "http://school.instructure.com/api/v1/courses?page=2",
        "https://school.instructure.com:8443/api/v1/courses?page=2",
        "javascript://school.instructure.com/x",
    ],
)
def test_a_next_link_on_another_origin_is_refused(settings: CanvasSettings, url: str) -> None:
    call = build_request(settings, "GET", "courses")

    with pytest.raises(CanvasResponseError, match="not followed"):
        next_link(linked(f'<{url}>; rel="next"'), settings, call)


def test_pages_collect_items_in_order_and_stop_at_the_last_page(settings: CanvasSettings) -> None:
    pages = Pages(settings, "courses", {"per_page": 2})
    first = pages.next_call()
    assert first is not None
    assert first.params == [("per_page", "2")]
    pages.add(first, ([1, 2], f"{BASE}/api/v1/courses?page=2&per_page=2"))
    second = pages.next_call()
    assert second is not None
    assert second.url == f"{BASE}/api/v1/courses?page=2&per_page=2"
    pages.add(second, ([3], None))

    assert pages.next_call() is None
    assert pages.items == [1, 2, 3]


def test_more_pages_than_allowed_raise_instead_of_looping_forever(settings: CanvasSettings) -> None:
    pages = Pages(settings, "courses", max_pages=2)
    for _ in range(1):
        call = pages.next_call()
        assert call is not None
        pages.add(call, ([1], f"{BASE}/api/v1/courses?page=2"))
    call = pages.next_call()
    assert call is not None

    with pytest.raises(CanvasResponseError, match="more than 2 pages"):
        pages.add(call, ([1], f"{BASE}/api/v1/courses?page=3"))


def test_a_page_that_is_not_a_list_is_refused(settings: CanvasSettings) -> None:
    pages = Pages(settings, "courses")
    call = pages.next_call()
    assert call is not None

    with pytest.raises(CanvasResponseError, match="not a list"):
        pages.add(call, ({"id": 1}, None))


@pytest.mark.parametrize("max_pages", [0, -1, 10_001, True, 2.5])
def test_max_pages_is_bounded(settings: CanvasSettings, max_pages: object) -> None:
    with pytest.raises(CanvasConfigurationError, match="max_pages"):
        Pages(settings, "courses", max_pages=max_pages)  # type: ignore[arg-type]
