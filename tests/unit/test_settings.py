"""Specification of connection settings: the base URL, the token and the extras, validated up front."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError, ForeignHostError
from airflow_provider_canvas_progress.core.settings import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_RATE_LIMIT_LOW_WATER,
    DEFAULT_RETRY_WAIT_INITIAL,
    DEFAULT_RETRY_WAIT_MAX,
    DEFAULT_TIMEOUT,
    CanvasSettings,
    Origin,
    is_loopback,
    normalise_base_url,
    settings_from_connection,
)


def connect(host: str | None = "school.instructure.com", password: str | None = "tok", **kwargs: Any) -> CanvasSettings:
    return settings_from_connection(conn_id="canvas_default", host=host, password=password, **kwargs)


# -- the base URL --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("school.instructure.com", "https://school.instructure.com"),
        ("https://school.instructure.com", "https://school.instructure.com"),
        ("  https://School.Instructure.COM  ", "https://school.instructure.com"),
        ("HTTPS://school.instructure.com", "https://school.instructure.com"),
        ("https://school.instructure.com/", "https://school.instructure.com"),
        ("https://school.instructure.com/api/v1", "https://school.instructure.com"),
        ("https://school.instructure.com/api/v1/", "https://school.instructure.com"),
        ("https://school.instructure.com/api", "https://school.instructure.com"),
        ("https://school.instructure.com:443", "https://school.instructure.com"),
        ("https://school.instructure.com:8443", "https://school.instructure.com:8443"),
        ("school.instructure.com:8443", "https://school.instructure.com:8443"),
    ],
)
def test_host_is_normalised_to_scheme_host_and_port(host: str, expected: str) -> None:
    assert normalise_base_url(host) == expected


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (None, "https://localhost"),
        ("", "https://localhost"),
        ("https", "https://localhost"),
        ("HTTP", "http://localhost"),
        ("canvas_db", "https://localhost"),
    ],
)
def test_schema_field_gives_the_scheme_when_the_host_has_none(schema: str | None, expected: str) -> None:
    assert normalise_base_url("localhost", schema=schema) == expected


def test_scheme_in_host_wins_over_schema_field() -> None:
    assert normalise_base_url("https://localhost", schema="http") == "https://localhost"


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("school.instructure.com", 8443, "https://school.instructure.com:8443"),
        ("school.instructure.com", 443, "https://school.instructure.com"),
        ("school.instructure.com:9000", 8443, "https://school.instructure.com:9000"),
        ("http://localhost", 80, "http://localhost"),
        ("http://localhost", 3000, "http://localhost:3000"),
    ],
)
def test_port_field_applies_unless_the_host_names_one(host: str, port: int, expected: str) -> None:
    assert normalise_base_url(host, port=port) == expected


@pytest.mark.parametrize(
    "host",
    ["https://school.instructure.com/canvas", "https://school.instructure.com/api/v1/courses", "school.com/login"],
)
def test_host_with_a_path_is_refused(host: str) -> None:
    with pytest.raises(CanvasConfigurationError, match="give only the base URL"):
        normalise_base_url(host)


@pytest.mark.parametrize("host", ["https://school.instructure.com?x=1", "https://school.instructure.com#top"])
def test_host_with_query_or_fragment_is_refused(host: str) -> None:
    with pytest.raises(CanvasConfigurationError, match="query string or fragment"):
        normalise_base_url(host)


@pytest.mark.parametrize("host", [None, "", "   "])
def test_missing_host_is_refused(host: str | None) -> None:
    with pytest.raises(CanvasConfigurationError, match="has no host"):
        normalise_base_url(host)


@pytest.mark.parametrize("host", ["ftp://school.instructure.com", "file:///etc/passwd"])
def test_scheme_other_than_http_or_https_is_refused(host: str) -> None:
    with pytest.raises(CanvasConfigurationError, match="scheme"):
        normalise_base_url(host)


@pytest.mark.parametrize(
    "host",
    ["https://school.instructure.com:99999", "https://school.instructure.com:abc", "https://[::1", "https://"],
)
def test_unparseable_host_is_a_configuration_error(host: str) -> None:
    with pytest.raises(CanvasConfigurationError):
        normalise_base_url(host)


@pytest.mark.parametrize(
    "host",
    [
        "https://admin:s3cr3t-pw@school.instructure.com",
        "https://admin@school.instructure.com",
        "https://:s3cr3t-pw@school.instructure.com",
        "https://admin:s3cr3t-pw@",
        "admin:s3cr3t-pw@school.instructure.com",
    ],
)
def test_credentials_in_the_host_are_refused_without_being_repeated(host: str) -> None:
    with pytest.raises(CanvasConfigurationError, match="contains credentials") as caught:
        connect(host=host)

    assert "s3cr3t-pw" not in str(caught.value)


@pytest.mark.parametrize("host", ["http://school.instructure.com", "school.instructure.com", "http://10.0.0.5"])
def test_plain_http_to_a_remote_host_is_refused(host: str) -> None:
    with pytest.raises(CanvasConfigurationError, match="allow_insecure_http") as caught:
        connect(host=host, schema="http")

    assert "unencrypted" in str(caught.value)
    assert "'canvas_default'" in str(caught.value)


@pytest.mark.parametrize("flag", [True, "true", "True", "1", "yes"])
def test_plain_http_to_a_remote_host_is_allowed_when_the_extra_says_so(flag: object) -> None:
    settings = connect(host="http://canvas.test.internal", extras={"allow_insecure_http": flag})

    assert settings.base_url == "http://canvas.test.internal"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        ("http://127.5.0.1", "http://127.5.0.1"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://LOCALHOST", "http://localhost"),
    ],
)
def test_plain_http_to_loopback_is_allowed(host: str, expected: str) -> None:
    assert connect(host=host).base_url == expected


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("localhost.evil.example.com", False),
        ("127.0.0.1.nip.io", False),
    ],
)
def test_is_loopback_only_trusts_the_machine_itself(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


# -- the token -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", [None, "", "   \n"])
def test_missing_token_is_refused_with_where_to_put_it(password: str | None) -> None:
    with pytest.raises(CanvasConfigurationError, match="no access token") as caught:
        connect(password=password)

    assert "Password field" in str(caught.value)
    assert "'canvas_default'" in str(caught.value)


def test_token_is_stripped_of_surrounding_whitespace() -> None:
    assert connect(password="  tok\n").token == "tok"


def test_repr_and_str_never_show_the_token(token: str) -> None:
    settings = connect(password=token)

    for text in (repr(settings), str(settings), f"{settings}", f"{settings!r}"):
        assert token not in text
        assert "https://school.instructure.com" in text
        assert "token=***" in text


def test_connection_errors_never_show_the_token(token: str) -> None:
    with pytest.raises(CanvasConfigurationError) as caught:
        connect(host="http://school.instructure.com", password=token)

    assert token not in str(caught.value)


# -- extras ----------------------------------------------------------------------------------------------


def test_defaults_apply_without_extras() -> None:
    settings = connect()

    assert settings.timeout == DEFAULT_TIMEOUT
    assert settings.max_attempts == DEFAULT_MAX_ATTEMPTS
    assert settings.retry_wait_initial == DEFAULT_RETRY_WAIT_INITIAL
    assert settings.retry_wait_max == DEFAULT_RETRY_WAIT_MAX
    assert settings.verify is True
    assert settings.max_in_flight == DEFAULT_MAX_IN_FLIGHT
    assert settings.rate_limit_low_water == DEFAULT_RATE_LIMIT_LOW_WATER
    assert settings.unknown_extras == ()
    assert settings.conn_id == "canvas_default"


@pytest.mark.parametrize(
    ("extras", "field", "expected"),
    [
        ({"timeout": 12}, "timeout", 12.0),
        ({"timeout": "12.5"}, "timeout", 12.5),
        ({"timeout": " 7 "}, "timeout", 7.0),
        ({"max_attempts": "3"}, "max_attempts", 3),
        ({"max_attempts": 1.0}, "max_attempts", 1),
        ({"retry_wait_initial": "0"}, "retry_wait_initial", 0.0),
        ({"retry_wait_max": 5}, "retry_wait_max", 5.0),
        ({"max_in_flight": "8"}, "max_in_flight", 8),
        ({"rate_limit_low_water": "150.5"}, "rate_limit_low_water", 150.5),
        ({"verify": False}, "verify", False),
        ({"verify": "false"}, "verify", False),
        ({"verify": "No"}, "verify", False),
        ({"verify": "TRUE"}, "verify", True),
        ({"verify": "1"}, "verify", True),
        ({"verify": " /etc/ssl/school-ca.pem "}, "verify", "/etc/ssl/school-ca.pem"),
        ({"auth_type": " token "}, "timeout", DEFAULT_TIMEOUT),
    ],
)
def test_extras_accept_native_and_string_values(extras: dict[str, Any], field: str, expected: object) -> None:
    value = getattr(connect(extras=extras), field)

    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("extras", "field", "expected"),
    [
        ({"extra__canvas__timeout": "12"}, "timeout", 12.0),
        ({"extra__canvas__max_attempts": 2}, "max_attempts", 2),
        ({"extra__canvas__verify": "false"}, "verify", False),
    ],
)
def test_legacy_prefixed_extras_are_read_like_plain_ones(extras: dict[str, Any], field: str, expected: object) -> None:
    assert getattr(connect(extras=extras), field) == expected


def test_legacy_prefixed_insecure_http_flag_is_honoured() -> None:
    settings = connect(host="http://canvas.test.internal", extras={"extra__canvas__allow_insecure_http": "true"})

    assert settings.base_url == "http://canvas.test.internal"


@pytest.mark.parametrize("empty", [None, ""])
def test_empty_extras_fall_back_to_defaults(empty: object) -> None:
    # Airflow's connection form saves untouched fields as empty strings.
    settings = connect(extras={"timeout": empty, "extra__canvas__max_attempts": empty, "verify": empty})

    assert settings.timeout == DEFAULT_TIMEOUT
    assert settings.max_attempts == DEFAULT_MAX_ATTEMPTS
    assert settings.verify is True
    assert settings.unknown_extras == ()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("timeout", "soon", "a number"),
        ("timeout", 0, "a number of at least 0.1"),
        ("timeout", -1, "a number of at least 0.1"),
        ("timeout", "nan", "a number of at least 0.1"),
        ("timeout", True, "a number"),
        ("timeout", [30], "a number"),
        ("max_attempts", 0, "a whole number of at least 1"),
        ("max_attempts", 2.5, "a whole number of at least 1"),
        ("max_attempts", "three", "a whole number"),
        ("max_attempts", "inf", "a whole number of at least 1"),
        ("retry_wait_initial", -0.5, "a number of at least 0"),
        ("retry_wait_max", "-1", "a number of at least 0"),
        ("max_in_flight", 0, "a whole number of at least 1"),
        ("rate_limit_low_water", -5, "a number of at least 0"),
        ("verify", 0, "true, false, or the path of a CA bundle"),
        ("verify", "   ", "true, false, or the path of a CA bundle"),
        ("allow_insecure_http", "maybe", "true or false"),
        ("allow_insecure_http", 1, "true or false"),
        ("auth_type", 5, "a string"),
    ],
)
def test_bad_extra_is_refused_naming_the_extra_its_value_and_what_is_expected(
    key: str, value: object, expected: str
) -> None:
    with pytest.raises(CanvasConfigurationError) as caught:
        connect(extras={key: value})

    message = str(caught.value)
    assert f"extra {key}={value!r}" in message
    assert f"expected {expected}" in message
    assert "'canvas_default'" in message


def test_bad_legacy_extra_is_named_without_its_prefix() -> None:
    with pytest.raises(CanvasConfigurationError, match="extra timeout='soon'"):
        connect(extras={"extra__canvas__timeout": "soon"})


@pytest.mark.parametrize("auth_type", ["oauth2", "basic", ""])
def test_auth_types_other_than_token_are_refused(auth_type: str) -> None:
    with pytest.raises(CanvasConfigurationError, match="supported values are 'token'"):
        connect(extras={"auth_type": auth_type or " "})


def test_unknown_extras_are_listed_sorted_and_without_prefix() -> None:
    settings = connect(extras={"timout": 5, "extra__canvas__max_atempts": 2, "timeout": 5, "zeta": 1})

    assert settings.unknown_extras == ("max_atempts", "timout", "zeta")


def test_message_without_conn_id_still_reads_well() -> None:
    with pytest.raises(CanvasConfigurationError, match=r"^The Canvas connection has no access token"):
        settings_from_connection(conn_id=None, host="school.instructure.com", password=None)


# -- same origin -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://school.instructure.com/api/v1/progress/1",
        "https://SCHOOL.instructure.com/x",
        "https://school.instructure.com:443/x",
        "https://school.instructure.com",
    ],
)
def test_check_same_origin_accepts_the_connections_origin(settings: CanvasSettings, url: str) -> None:
    settings.check_same_origin(url, what="url")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://evil.example.com/x", "https://evil.example.com"),
        ("http://school.instructure.com/x", "http://school.instructure.com"),
        ("https://school.instructure.com:8443/x", "https://school.instructure.com:8443"),
        ("https://[::1]:8443/x", "https://[::1]:8443"),
    ],
)
def test_check_same_origin_refuses_another_scheme_host_or_port_naming_both(
    settings: CanvasSettings, url: str, shown: str
) -> None:
    with pytest.raises(ForeignHostError) as caught:
        settings.check_same_origin(url, what="progress_url")

    message = str(caught.value)
    assert message.startswith(f"progress_url points at {shown}, ")
    assert "the Canvas connection 'canvas_default' is https://school.instructure.com" in message


def test_check_same_origin_refuses_an_unparseable_url(settings: CanvasSettings) -> None:
    with pytest.raises(CanvasConfigurationError, match="not a valid URL"):
        settings.check_same_origin("https://[school.instructure.com/x", what="url")


def test_foreign_host_error_reads_well_without_conn_id() -> None:
    settings = settings_from_connection(conn_id=None, host="school.instructure.com", password="tok")

    with pytest.raises(ForeignHostError, match=r"but the Canvas connection is https://school\.instructure\.com\."):
        settings.check_same_origin("https://evil.example.com", what="url")


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://school.instructure.com/x", Origin("https", "school.instructure.com", 443)),
        ("http://localhost/x", Origin("http", "localhost", 80)),
        ("HTTP://LocalHost:3000", Origin("http", "localhost", 3000)),
    ],
)
def test_origin_fills_in_the_default_port(url: str, origin: Origin) -> None:
    assert Origin.of(url) == origin


@pytest.mark.parametrize(
    ("origin", "text"),
    [
        (Origin("https", "school.instructure.com", 443), "https://school.instructure.com"),
        (Origin("http", "localhost", 80), "http://localhost"),
        (Origin("http", "localhost", 443), "http://localhost:443"),
        (Origin("https", "::1", 8443), "https://[::1]:8443"),
    ],
)
def test_origin_prints_the_port_only_when_not_the_default(origin: Origin, text: str) -> None:
    assert str(origin) == text


def test_settings_origin_is_the_base_urls(settings: CanvasSettings) -> None:
    assert settings.origin == Origin("https", "school.instructure.com", 443)
