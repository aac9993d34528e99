"""Specification of the sans-IO token core: requests, assertions, answers, errors, expiry. No sockets."""

from __future__ import annotations

import json
import pickle
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st
from jwt.algorithms import RSAAlgorithm

from airflow_provider_canvas_progress.core.auth import (
    ASSERTION_LIFETIME,
    JWT_BEARER,
    LTI_PROGRESS_SCOPE,
    AccessGrant,
    CanvasCredentialsError,
    CanvasTokenUnavailableError,
    LtiAdvantageCredentials,
    OAuth2RefreshCredentials,
    client_assertion,
    is_renewable,
    load_signing_key,
    normalise_private_key,
    parse_token_answer,
    token_request,
)
from airflow_provider_canvas_progress.core.errors import (
    CanvasAuthError,
    CanvasConfigurationError,
    CanvasConnectError,
    CanvasPermissionError,
    CanvasTokenExpiredError,
)
from airflow_provider_canvas_progress.core.retry import is_retryable
from airflow_provider_canvas_progress.testing.developer_keys import generate_rsa_key

TOKEN_URL = "https://school.instructure.com/login/oauth2/token"
SECRET = "SeCrEt-client-secret-3f9a"
REFRESH = "1~ReFrEsH-token-77c1d0"


@pytest.fixture(scope="session")
def key_pair() -> tuple[str, dict[str, Any]]:
    """An RSA key pair: (private PEM, public JWK)."""
    return generate_rsa_key("kid-1")


@pytest.fixture(scope="session")
def oauth() -> OAuth2RefreshCredentials:
    return OAuth2RefreshCredentials("10000000000001", SECRET, REFRESH, TOKEN_URL)


@pytest.fixture(scope="session")
def lti(key_pair: tuple[str, dict[str, Any]]) -> LtiAdvantageCredentials:
    return LtiAdvantageCredentials("10000000000002", key_pair[0], TOKEN_URL)


def answer(status: int, body: Any) -> tuple[int, bytes]:
    return status, (body if isinstance(body, bytes) else json.dumps(body).encode())


# -- the request ----------------------------------------------------------------------------------


def test_refresh_request_posts_the_refresh_grant_with_client_credentials(oauth: OAuth2RefreshCredentials) -> None:
    request = token_request(oauth, now=0, jti="x")

    assert request.url == TOKEN_URL
    assert request.label == "POST /login/oauth2/token"
    assert dict(request.form) == {
        "grant_type": "refresh_token",
        "client_id": "10000000000001",
        "client_secret": SECRET,
        "refresh_token": REFRESH,
    }


def test_lti_request_posts_client_credentials_with_a_jwt_assertion_and_the_progress_scope(
    lti: LtiAdvantageCredentials,
) -> None:
    form = dict(token_request(lti, now=time.time(), jti="nonce").form)

    assert form["grant_type"] == "client_credentials"
    assert form["client_assertion_type"] == JWT_BEARER == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert form["scope"] == LTI_PROGRESS_SCOPE == "https://canvas.instructure.com/lti-ags/progress/scope/show"
    assert form["client_assertion"].count(".") == 2


def test_assertion_is_rs256_with_the_claims_canvas_requires(
    lti: LtiAdvantageCredentials, key_pair: tuple[str, dict[str, Any]]
) -> None:
    now = time.time()
    token = client_assertion(lti, load_signing_key(lti.private_key), now=now, jti="nonce-1")

    public = RSAAlgorithm.from_jwk(json.dumps(key_pair[1]))
    claims = jwt.decode(token, public, algorithms=["RS256"], audience=TOKEN_URL)  # type: ignore[arg-type]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert claims == {
        "iss": "10000000000002",
        "sub": "10000000000002",
        "aud": TOKEN_URL,
        "iat": int(now),
        "exp": int(now) + ASSERTION_LIFETIME,
        "jti": "nonce-1",
    }


def test_assertion_lives_no_longer_than_canvas_accepts_an_iat() -> None:
    assert ASSERTION_LIFETIME <= 300


def test_assertion_carries_the_key_id_as_kid(lti: LtiAdvantageCredentials) -> None:
    token = client_assertion(lti, load_signing_key(lti.private_key, key_id="kid-9"), now=time.time(), jti="n")

    assert jwt.get_unverified_header(token)["kid"] == "kid-9"


def test_assertions_differ_by_jti(lti: LtiAdvantageCredentials) -> None:
    key = load_signing_key(lti.private_key)

    assert client_assertion(lti, key, now=1.0, jti="a") != client_assertion(lti, key, now=1.0, jti="b")


# -- the private key ------------------------------------------------------------------------------


def test_pem_key_loads(key_pair: tuple[str, dict[str, Any]]) -> None:
    assert load_signing_key(key_pair[0]).key.key_size == 2048


def test_private_jwk_loads_with_its_kid(key_pair: tuple[str, dict[str, Any]]) -> None:
    private_jwk = RSAAlgorithm.to_jwk(load_signing_key(key_pair[0]).key, as_dict=True)
    private_jwk["kid"] = "from-jwk"

    loaded = load_signing_key(json.dumps(private_jwk))

    assert loaded.key_id == "from-jwk"
    assert load_signing_key(json.dumps(private_jwk), key_id="extra-wins").key_id == "extra-wins"


def test_pkcs1_pem_loads(key_pair: tuple[str, dict[str, Any]]) -> None:
    key = load_signing_key(key_pair[0]).key
    pkcs1 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()

    assert "BEGIN RSA PRIVATE KEY" in pkcs1
    assert load_signing_key(pkcs1).key.private_numbers() == key.private_numbers()


def test_pem_pasted_into_a_one_line_field_is_restored(key_pair: tuple[str, dict[str, Any]]) -> None:
    flattened = key_pair[0].replace("\n", " ")

    assert normalise_private_key(flattened) == key_pair[0]
    assert load_signing_key(flattened).key.key_size == 2048


def test_pem_with_escaped_newlines_from_json_is_restored(key_pair: tuple[str, dict[str, Any]]) -> None:
    escaped = key_pair[0].replace("\n", "\\n")

    assert normalise_private_key(escaped) == key_pair[0]


@given(separators=st.lists(st.sampled_from(["\n", " ", "\r\n", "\t", "\\n", "  \n "]), min_size=1, max_size=40))
def test_any_whitespace_mangling_of_a_pem_normalises_to_the_same_key(separators: list[str]) -> None:
    pem = _PEM_FOR_PROPERTY
    lines = pem.strip().split("\n")
    mangled = "".join(line + separators[i % len(separators)] for i, line in enumerate(lines))

    assert normalise_private_key(mangled) == pem


_PEM_FOR_PROPERTY = generate_rsa_key()[0]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda pem, jwk: "not a key at all", "neither PEM nor a JWK"),
        (lambda pem, jwk: pem.replace(pem.splitlines()[3], "A" * 64), "does not decode"),
        (lambda pem, jwk: pem.replace("PRIVATE KEY", "PUBLIC KEY"), "public key"),
        (lambda pem, jwk: json.dumps(jwk), "public JWK"),
        (lambda pem, jwk: json.dumps({"keys": [jwk]}), "JWK set"),
        (lambda pem, jwk: "{not json", "not JSON"),
        (lambda pem, jwk: json.dumps({**jwk, "kty": "EC"}), "not RSA"),
        (lambda pem, jwk: _encrypted(pem), "passphrase"),
        (lambda pem, jwk: _ec_pem(), "not an RSA key"),
    ],
    ids=["garbage", "corrupt-pem", "public-pem", "public-jwk", "jwk-set", "bad-json", "ec-jwk", "encrypted", "ec-pem"],
)
def test_bad_private_keys_are_refused_naming_the_field_without_quoting_it(
    key_pair: tuple[str, dict[str, Any]], make: Any, expected: str
) -> None:
    text = make(*key_pair)

    with pytest.raises(CanvasConfigurationError) as raised:
        load_signing_key(text, label="Canvas connection 'canvas_lti'")

    message = str(raised.value)
    assert expected in message
    assert "private_key" in message
    assert "'canvas_lti'" in message
    body_lines = [line for line in key_pair[0].splitlines() if "-----" not in line]
    assert not [line for line in body_lines if line in message]
    # No chained cryptography/JSON error that could carry bytes of the key.
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None or raised.value.__suppress_context__


def _encrypted(pem: str) -> str:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()


def _ec_pem() -> str:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )


def test_credentials_reprs_hold_no_secret(oauth: OAuth2RefreshCredentials, lti: LtiAdvantageCredentials) -> None:
    shown = repr(oauth) + repr(lti) + repr(token_request(oauth, now=0, jti="x"))

    assert SECRET not in shown
    assert REFRESH not in shown
    assert "PRIVATE KEY" not in shown


def test_lti_secrets_are_the_key_and_its_body_on_one_line(lti: LtiAdvantageCredentials) -> None:
    body = "".join(line for line in lti.private_key.splitlines() if "-----" not in line)

    assert lti.secrets() == (lti.private_key, body)


def test_fingerprint_changes_with_a_rotated_secret(oauth: OAuth2RefreshCredentials) -> None:
    rotated = OAuth2RefreshCredentials(oauth.client_id, "another", oauth.refresh_token, oauth.token_url)

    assert rotated.fingerprint != oauth.fingerprint
    assert SECRET not in oauth.fingerprint


# -- the answer -----------------------------------------------------------------------------------


def test_refresh_answer_gives_a_grant_acting_as_the_user(oauth: OAuth2RefreshCredentials) -> None:
    body = {
        "access_token": "1~new",
        "token_type": "Bearer",
        "user": {"id": 2, "name": "Ada Lovelace", "global_id": "10000000000002", "effective_locale": "en"},
        "expires_in": 3600,
    }

    grant = parse_token_answer(oauth, *answer(200, body), now=100.0)

    assert (grant.access_token, grant.lifetime, grant.expires_at) == ("1~new", 3600.0, 3700.0)
    assert grant.identity == "Ada Lovelace (user id 2)"
    assert "1~new" not in repr(grant)
    assert grant.describe() == "as Ada Lovelace (user id 2) (token valid for 3600 s)"


def test_lti_answer_gives_a_grant_naming_the_tool_and_scope(lti: LtiAdvantageCredentials) -> None:
    body = {"access_token": "eyJ.x.y", "token_type": "Bearer", "expires_in": 3600, "scope": LTI_PROGRESS_SCOPE}

    grant = parse_token_answer(lti, *answer(200, body), now=0.0)

    assert grant.identity == "LTI tool 10000000000002"
    assert grant.scope == LTI_PROGRESS_SCOPE


def test_answer_without_expires_in_never_expires_by_time(oauth: OAuth2RefreshCredentials) -> None:
    # Canvas omits expires_in when the developer key does not expire its tokens.
    grant = parse_token_answer(oauth, *answer(200, {"access_token": "t", "user": {"id": 1}}), now=0.0)

    assert grant.lifetime is None
    assert not grant.needs_renewal(10**9)


@pytest.mark.parametrize(
    ("lifetime", "fresh_until"),
    [(3600.0, 3540.0), (10.0, 8.0), (0.5, 0.4), (0.0, 0.0)],
)
def test_grant_is_renewed_a_minute_before_expiry_or_a_fifth_of_a_short_lifetime(
    lifetime: float, fresh_until: float
) -> None:
    grant = AccessGrant("t", obtained_at=0.0, lifetime=lifetime, identity="x")

    if fresh_until > 0:
        assert not grant.needs_renewal(fresh_until - 0.01)
    assert grant.needs_renewal(fresh_until)


@pytest.mark.parametrize(
    "body",
    [{}, {"access_token": ""}, {"access_token": 5}, [], b"<html>ok</html>"],
    ids=["empty", "blank-token", "number-token", "list", "html"],
)
def test_200_without_a_token_is_transient(oauth: OAuth2RefreshCredentials, body: Any) -> None:
    with pytest.raises(CanvasTokenUnavailableError):
        parse_token_answer(oauth, *answer(200, body), now=0.0)


def test_non_bearer_token_is_refused(oauth: OAuth2RefreshCredentials) -> None:
    with pytest.raises(CanvasCredentialsError, match="token_url"):
        parse_token_answer(oauth, *answer(200, {"access_token": "t", "token_type": "mac"}), now=0.0)


# Canvas's error bodies, from lib/canvas/oauth/request_error.rb and the JWT validator.
NO_REFRESH = "You must provide the refresh_token parameter when using the refresh_token grant type"
SCOPE_REFUSED = f"A requested scope is invalid, ... not granted: {LTI_PROGRESS_SCOPE}"
UNSUPPORTED = "The grant_type you requested is not currently supported"
REFUSALS = [
    ("unknown client", 401, "invalid_client", "unknown client", "oauth", ["client_id", "Developer Keys"]),
    ("wrong secret", 401, "invalid_client", "invalid client", "oauth", ["client_secret", "Show Key"]),
    ("unknown refresh", 400, "invalid_request", "refresh_token not found", "oauth", ["refresh_token", "authorization"]),
    ("other key's refresh", 400, "invalid_grant", "incorrect client", "oauth", ["refresh_token", "another"]),
    ("no refresh", 400, "invalid_request", NO_REFRESH, "oauth", ["client_secret and refresh_token"]),
    ("bad signature", 400, "invalid_request", "JWS signature invalid.", "lti", ["private_key", "public JWK"]),
    ("jwk url error", 400, "invalid_request", "JWK Error: something", "lti", ["private_key"]),
    ("bad aud", 400, "invalid_request", "the 'aud' is invalid", "lti", ["token_url", "sso.canvaslms.com"]),
    ("expired assertion", 400, "invalid_request", "the JWT has expired", "lti", ["clock", "NTP"]),
    ("old iat", 400, "invalid_request", "the 'iat' must be less than 300 seconds old", "lti", ["clock"]),
    ("scope", 400, "invalid_scope", SCOPE_REFUSED, "lti", ["Can view Progress records", LTI_PROGRESS_SCOPE]),
    ("grant type", 400, "unsupported_grant_type", UNSUPPORTED, "oauth", ["token_url"]),
    ("other", 400, "invalid_request", "something new", "lti", ["client_id and private_key"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("status", "error", "description", "mode", "names"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_canvas_refusals_name_the_field_to_fix_and_quote_canvas(
    oauth: OAuth2RefreshCredentials,
    lti: LtiAdvantageCredentials,
    status: int,
    error: str,
    description: str,
    mode: str,
    names: list[str],
) -> None:
    credentials = oauth if mode == "oauth" else lti

    with pytest.raises(CanvasCredentialsError) as raised:
        parse_token_answer(
            credentials,
            *answer(status, {"error": error, "error_description": description}),
            now=0.0,
            label="Canvas connection 'c'",
        )

    refusal = raised.value
    assert isinstance(refusal, CanvasAuthError)
    assert not refusal.retryable
    assert (refusal.status, refusal.method, refusal.path) == (status, "POST", "/login/oauth2/token")
    assert refusal.canvas_message == f"{error}: {description}"
    for name in names:
        assert name in str(refusal)
    assert description in str(refusal)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"errors": [{"message": "An error occurred."}]}),
        (502, b"<html><title>502 Bad Gateway</title></html>"),
        (503, b"<!DOCTYPE html><html><title>Maintenance</title></html>"),
        (429, b"429 Too Many Requests (Rate Limit Exceeded)"),
        (403, b"403 Forbidden (Rate Limit Exceeded)"),
    ],
)
def test_server_errors_and_throttles_are_transient_and_safe_to_retry(
    oauth: OAuth2RefreshCredentials, status: int, body: Any
) -> None:
    with pytest.raises(CanvasTokenUnavailableError) as raised:
        parse_token_answer(oauth, *answer(status, body), now=0.0)

    error = raised.value
    assert isinstance(error, CanvasConnectError)
    # The API call was never sent: even a job-starting call may be retried.
    assert is_retryable(error, idempotent=False)
    assert "not sent" in str(error)


@pytest.mark.parametrize(("status", "location"), [(404, None), (302, "https://sso.example.edu/login?secret=x")])
def test_not_a_token_endpoint_points_at_token_url(
    oauth: OAuth2RefreshCredentials, status: int, location: str | None
) -> None:
    with pytest.raises(CanvasCredentialsError, match="token_url") as raised:
        parse_token_answer(oauth, *answer(status, b"<html>Page not found</html>"), now=0.0, location=location)

    assert "secret=x" not in str(raised.value)
    if location:
        assert "https://sso.example.edu" in str(raised.value)


def test_refusals_survive_pickling_as_the_triggerer_does(oauth: OAuth2RefreshCredentials) -> None:
    refused = answer(401, {"error": "invalid_client", "error_description": "invalid client"})
    with pytest.raises(CanvasCredentialsError) as raised:
        parse_token_answer(oauth, *refused, now=0)

    copy = pickle.loads(pickle.dumps(raised.value))

    assert type(copy) is CanvasCredentialsError
    assert (str(copy), copy.status) == (str(raised.value), 401)


# -- renewal --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "renewable"),
    [
        (CanvasTokenExpiredError("x", canvas_message="Expired access token."), True),
        (CanvasTokenExpiredError("x", canvas_message="Access token expired"), True),
        (CanvasAuthError("x", canvas_message="Invalid access token."), True),
        (CanvasAuthError("x", canvas_message="Revoked access token."), False),
        (CanvasAuthError("x", canvas_message="Insufficient scopes on access token."), False),
        (CanvasAuthError("x", canvas_message="Invalid access token format"), False),
        (CanvasAuthError("x", canvas_message="Access Token not linked to a Tool associated with this Context"), False),
        (CanvasPermissionError("x", canvas_message="user not authorized to perform that action"), False),
        (CanvasCredentialsError("x", canvas_message="invalid_client: invalid client"), False),
    ],
    ids=["expired", "lti-expired", "invalid", "revoked", "scopes", "lti-format", "lti-unlinked", "permission", "creds"],
)
def test_only_expired_or_regenerated_tokens_are_worth_renewing(error: Any, renewable: bool) -> None:
    assert is_renewable(error) is renewable
