"""Specification of reading the auth modes from a connection: what each needs, and what a mistake says."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_canvas_progress.core.auth import (
    LTI_PROGRESS_SCOPE,
    LtiAdvantageCredentials,
    OAuth2RefreshCredentials,
)
from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.core.settings import CanvasSettings, settings_from_connection
from airflow_provider_canvas_progress.testing.developer_keys import generate_rsa_key

PEM, PUBLIC_JWK = generate_rsa_key()
OAUTH = {
    "auth_type": "oauth2_refresh",
    "client_id": "10000000000001",
    "client_secret": "s3cr3t",
    "refresh_token": "1~r",
}
LTI = {"auth_type": "lti_advantage", "client_id": "10000000000002", "private_key": PEM}


def connect(
    extras: dict[str, Any], host: str = "school.instructure.com", password: str | None = None
) -> CanvasSettings:
    return settings_from_connection(conn_id="canvas_default", host=host, password=password, extras=extras)


def test_oauth2_refresh_reads_the_developer_key_and_refresh_token() -> None:
    settings = connect(OAUTH)

    assert settings.auth_type == "oauth2_refresh"
    assert settings.token == ""
    assert settings.credentials == OAuth2RefreshCredentials(
        "10000000000001", "s3cr3t", "1~r", "https://school.instructure.com/login/oauth2/token"
    )


def test_lti_advantage_reads_the_client_id_and_key_and_asks_for_the_progress_scope() -> None:
    settings = connect(LTI)

    assert settings.auth_type == "lti_advantage"
    assert isinstance(settings.credentials, LtiAdvantageCredentials)
    assert settings.credentials.scopes == (LTI_PROGRESS_SCOPE,)
    assert settings.credentials.token_url == "https://school.instructure.com/login/oauth2/token"
    assert settings.credentials.private_key == PEM


def test_token_mode_is_the_default_and_unchanged() -> None:
    settings = connect({}, password="7~tok")

    assert (settings.auth_type, settings.token, settings.credentials) == ("token", "7~tok", None)


@pytest.mark.parametrize("auth_type", ["OAuth2_Refresh", " oauth2_refresh "])
def test_auth_type_is_read_case_and_space_insensitively(auth_type: str) -> None:
    assert connect({**OAUTH, "auth_type": auth_type}).auth_type == "oauth2_refresh"


def test_token_url_extra_overrides_the_default() -> None:
    settings = connect({**LTI, "token_url": "https://sso.canvaslms.com/login/oauth2/token"})

    assert settings.credentials is not None
    assert settings.credentials.token_url == "https://sso.canvaslms.com/login/oauth2/token"


def test_numeric_client_id_from_json_is_accepted() -> None:
    settings = connect({**OAUTH, "client_id": 10000000000001})

    assert settings.credentials is not None
    assert settings.credentials.client_id == "10000000000001"


def test_key_pasted_on_one_line_through_the_legacy_form_is_restored() -> None:
    settings = connect({"extra__canvas__auth_type": "lti_advantage", "extra__canvas__client_id": "2",
                        "extra__canvas__private_key": PEM.replace("\n", " ")})  # fmt: skip

    assert isinstance(settings.credentials, LtiAdvantageCredentials)
    assert settings.credentials.private_key == PEM


def test_private_jwk_and_key_id_are_accepted() -> None:
    from jwt.algorithms import RSAAlgorithm

    from airflow_provider_canvas_progress.core.auth import load_signing_key

    private_jwk = RSAAlgorithm.to_jwk(load_signing_key(PEM).key, as_dict=True)
    settings = connect({**LTI, "private_key": json.dumps(private_jwk), "key_id": "k1"})

    assert isinstance(settings.credentials, LtiAdvantageCredentials)
    assert settings.credentials.key_id == "k1"


@pytest.mark.parametrize(
    ("extras", "field", "advice"),
    [
        ({**OAUTH, "client_id": None}, "client_id", "Developer Keys"),
        ({**OAUTH, "client_secret": "   "}, "client_secret", "Show Key"),
        ({**OAUTH, "refresh_token": None}, "refresh_token", "authorization flow"),
        ({**LTI, "client_id": None}, "client_id", "Client ID"),
        ({**LTI, "private_key": None}, "private_key", "public JWK"),
        ({**LTI, "private_key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}, "private_key", "public"),
        ({**OAUTH, "client_secret": 42}, "client_secret", "not a string"),
    ],
    ids=["oauth-client-id", "oauth-secret", "oauth-refresh", "lti-client-id", "lti-key", "lti-public-key", "not-str"],
)
def test_missing_or_bad_credentials_name_the_field_and_the_fix(extras: dict[str, Any], field: str, advice: str) -> None:
    with pytest.raises(CanvasConfigurationError) as raised:
        connect({k: v for k, v in extras.items() if v is not None})

    message = str(raised.value)
    assert field in message
    assert advice in message
    assert "'canvas_default'" in message


@pytest.mark.parametrize(
    ("token_url", "expected"),
    [
        ("http://canvas.example.edu/login/oauth2/token", "unencrypted"),
        ("https://user:pw@canvas.example.edu/login/oauth2/token", "no credentials"),
        ("ftp://canvas.example.edu/token", "http\\(s\\) URL"),
        ("login/oauth2/token", "with a host"),
        ("https://[::1/login/oauth2/token", "not a valid URL"),
    ],
)
def test_token_url_must_be_a_safe_absolute_url(token_url: str, expected: str) -> None:
    with pytest.raises(CanvasConfigurationError, match=expected) as raised:
        connect({**OAUTH, "token_url": token_url})

    assert "pw" not in str(raised.value)


def test_plain_http_token_url_is_allowed_on_loopback_or_when_allowed() -> None:
    assert connect({**OAUTH, "token_url": "http://127.0.0.1:9/login/oauth2/token"}).credentials is not None
    allowed = {**OAUTH, "token_url": "http://canvas.test/login/oauth2/token", "allow_insecure_http": True}
    assert connect(allowed, host="http://canvas.test").credentials is not None


def test_token_mode_without_password_suggests_the_developer_key_modes() -> None:
    with pytest.raises(CanvasConfigurationError, match="oauth2_refresh or lti_advantage"):
        connect({})


def test_password_is_not_needed_in_the_developer_key_modes() -> None:
    assert connect(OAUTH, password=None).credentials is not None


def test_extras_of_another_auth_mode_are_listed_as_unused_not_unknown() -> None:
    settings = connect({"client_id": "1", "refresh_token": "1~r", "private_key": "x"}, password="7~tok")

    assert settings.unused_extras == ("client_id", "private_key", "refresh_token")
    assert settings.unknown_extras == ()


def test_settings_repr_names_the_mode_and_holds_no_secret() -> None:
    shown = repr(connect(OAUTH)) + repr(connect(LTI))

    assert "auth_type='oauth2_refresh'" in shown
    for secret in ("s3cr3t", "1~r", PEM.splitlines()[1]):
        assert secret not in shown


def test_secrets_lists_every_secret_of_the_mode() -> None:
    assert set(connect(OAUTH).secrets) == {"s3cr3t", "1~r"}
    assert PEM in connect(LTI).secrets
    assert connect({}, password="7~tok").secrets == ("7~tok",)
