"""Specification of the connection's numeric ranges and of secrets fit for a header, checked at read time."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.core.extras import EXTRA_RANGES
from airflow_provider_canvas_progress.core.settings import DEFAULT_MAX_RESPONSE_BYTES, settings_from_connection

TOKEN = "7~Extras0kEnZqXvW8yR3uJ6pLm2NbHgFdSa9KoIeUtYrEwQzXcVbNmLkJhGfDsAq"


def read(password: str = TOKEN, **extras: Any) -> Any:
    return settings_from_connection(conn_id="canvas_x", host="school.instructure.com", password=password, extras=extras)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("retry_wait_max", 1e300),
        ("retry_wait_max", "inf"),
        ("retry_wait_initial", 10_000),
        ("timeout", 1e9),
        ("max_attempts", 10**6),
        ("max_in_flight", 100_000),
        ("rate_limit_low_water", 1e6),
        ("max_response_bytes", 10**12),
    ],
)
def test_a_runaway_extra_is_refused_naming_the_extra_and_the_range(key: str, value: Any) -> None:
    low, high = EXTRA_RANGES[key]

    with pytest.raises(CanvasConfigurationError, match=rf"extra {key}.*from {low:.15g} to {high:.15g}"):
        read(**{key: value})


@pytest.mark.parametrize(("key", "value"), [("max_response_bytes", 10), ("max_response_bytes", -1)])
def test_a_tiny_body_cap_is_refused(key: str, value: Any) -> None:
    with pytest.raises(CanvasConfigurationError, match="at least 1024"):
        read(**{key: value})


def test_every_range_holds_its_default() -> None:
    settings = read()

    for key, (low, high) in EXTRA_RANGES.items():
        assert low <= getattr(settings, key) <= high


def test_the_body_cap_defaults_to_512_kib_and_follows_the_extra() -> None:
    assert read().max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES == 512 * 1024
    assert read(max_response_bytes="2097152").max_response_bytes == 2 * 1024 * 1024


@pytest.mark.parametrize(
    "bad",
    [TOKEN + "\r\nX-Injected: 1", "7~two\nlines", "7~tök€n", "7~token\x00", "7~tab\tinside", "7~snow☃"],
    ids=["crlf", "lf", "non-latin-1", "nul", "tab", "emoji"],
)
def test_a_token_that_cannot_go_in_a_header_is_refused_without_quoting_it(bad: str) -> None:
    refusal = r"Password \(the access token\) contains.*cannot be sent in an HTTP header"
    with pytest.raises(CanvasConfigurationError, match=refusal) as raised:
        read(password=bad)

    assert bad.strip() not in str(raised.value)
    assert "7~" not in str(raised.value)


@pytest.mark.parametrize("field", ["client_secret", "refresh_token"])
def test_developer_key_secrets_are_checked_too(field: str) -> None:
    extras = {
        "auth_type": "oauth2_refresh",
        "client_id": "10000000000001",
        "client_secret": "s" * 64,
        "refresh_token": "r" * 64,
    }
    extras[field] = "line\r\nbreak-secret-value"

    with pytest.raises(CanvasConfigurationError, match=field) as raised:
        read(password="", **extras)

    assert "break-secret-value" not in str(raised.value)


def test_a_latin_1_token_is_accepted() -> None:
    assert read(password="7~caf\u00e9").token == "7~caf\u00e9"
