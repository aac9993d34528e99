"""The simulator's POST /login/oauth2/token, on the wire: Canvas's answers, spoken to with plain requests."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
import pytest
import requests

from airflow_provider_canvas_progress.testing import (
    LTI_PROGRESS_SCOPE,
    CanvasSimulator,
    LtiTool,
    ManualClock,
    OAuthClient,
)
from airflow_provider_canvas_progress.testing.developer_keys import generate_rsa_key

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: A symmetric key, for an assertion Canvas must refuse (it verifies RS256 only).
HMAC_KEY = "a-shared-secret-of-thirty-two-bytes!"


def post(sim: CanvasSimulator, data: dict[str, Any], **kwargs: Any) -> requests.Response:
    return requests.post(sim.token_url, data=data, timeout=10, **kwargs)


def refresh(sim: CanvasSimulator, client: OAuthClient, **overrides: Any) -> requests.Response:
    return post(sim, {**client.connection_extra(), "grant_type": "refresh_token", **overrides})


def assertion(tool: LtiTool, sim: CanvasSimulator, key: str | None = None, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": tool.client_id,
        "sub": tool.client_id,
        "aud": sim.token_url,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        **claims,
    }
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key or tool.private_key, algorithm="RS256")


def client_credentials(sim: CanvasSimulator, signed: str, scope: str = LTI_PROGRESS_SCOPE) -> requests.Response:
    return post(
        sim,
        {
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": signed,
            "scope": scope,
        },
    )


def oauth_error(response: requests.Response, status: int, error: str, description: str) -> None:
    assert response.status_code == status
    assert response.json() == {"error": error, "error_description": description}
    assert response.headers.get("WWW-Authenticate") == ("Canvas OAuth 2.0" if status == 401 else None)


@pytest.fixture
def sim(canvas_simulator_factory: Any) -> CanvasSimulator:
    started: CanvasSimulator = canvas_simulator_factory(clock=ManualClock())
    started.add_user(2, name="Ada Lovelace")
    return started


@pytest.fixture
def client(sim: CanvasSimulator) -> OAuthClient:
    return sim.add_oauth_client(user_id=2)


@pytest.fixture
def tool(sim: CanvasSimulator) -> LtiTool:
    return sim.add_lti_tool()


# -- refresh_token grant -------------------------------------------------------------------------


def test_refresh_grant_answers_token_user_and_expiry_like_canvas(sim: CanvasSimulator, client: OAuthClient) -> None:
    body = refresh(sim, client).json()

    assert set(body) == {"access_token", "token_type", "user", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["user"] == {"id": 2, "name": "Ada Lovelace", "global_id": "2", "effective_locale": "en"}
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body  # Canvas returns it only when it was just created


def test_refreshed_token_reads_the_api_and_the_previous_one_is_gone(sim: CanvasSimulator, client: OAuthClient) -> None:
    first = refresh(sim, client).json()["access_token"]
    second = refresh(sim, client).json()["access_token"]

    def whoami(token: str) -> requests.Response:
        return requests.get(
            f"{sim.base_url}/api/v1/users/self", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    assert whoami(second).json()["id"] == 2
    assert whoami(first).json() == {"errors": [{"message": "Invalid access token."}]}


def test_token_expires_on_the_simulator_clock_with_canvas_expired_body(
    sim: CanvasSimulator, client: OAuthClient
) -> None:
    token = refresh(sim, client).json()["access_token"]
    assert isinstance(sim.clock, ManualClock)
    sim.clock.advance(3600)

    answer = requests.get(f"{sim.base_url}/api/v1/users/self", headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert answer.status_code == 401
    assert answer.json()["errors"][0]["message"] == "Expired access token."
    assert answer.json()["errors"][0]["expired_at"].endswith("Z")


def test_client_credentials_may_come_as_http_basic(sim: CanvasSimulator, client: OAuthClient) -> None:
    answer = post(
        sim,
        {"grant_type": "refresh_token", "refresh_token": client.refresh_token},
        auth=(client.client_id, client.client_secret),
    )

    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("overrides", "status", "error", "description"),
    [
        ({"client_id": "999"}, 401, "invalid_client", "unknown client"),
        ({"client_secret": "wrong"}, 401, "invalid_client", "invalid client"),
        ({"refresh_token": ""}, 400, "invalid_request",
         "You must provide the refresh_token parameter when using the refresh_token grant type"),
        ({"refresh_token": "1~nope"}, 400, "invalid_request", "refresh_token not found"),
    ],
    ids=["unknown-client", "wrong-secret", "missing-refresh-token", "unknown-refresh-token"],
)  # fmt: skip
def test_refresh_refusals_are_canvas_request_errors(
    sim: CanvasSimulator, client: OAuthClient, overrides: dict[str, str], status: int, error: str, description: str
) -> None:
    oauth_error(refresh(sim, client, **overrides), status, error, description)


def test_another_keys_refresh_token_is_an_incorrect_client(sim: CanvasSimulator, client: OAuthClient) -> None:
    other = sim.add_oauth_client()

    oauth_error(refresh(sim, client, refresh_token=other.refresh_token), 400, "invalid_grant", "incorrect client")


def test_revoked_refresh_token_is_not_found_and_its_access_token_dies(
    sim: CanvasSimulator, client: OAuthClient
) -> None:
    token = refresh(sim, client).json()["access_token"]
    sim.revoke_refresh_token(client.refresh_token)

    oauth_error(refresh(sim, client), 400, "invalid_request", "refresh_token not found")
    answer = requests.get(f"{sim.base_url}/api/v1/users/self", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 401


def test_key_without_expiry_answers_no_expires_in(sim: CanvasSimulator) -> None:
    forever = sim.add_oauth_client(token_lifetime=None)

    assert "expires_in" not in refresh(sim, forever).json()


@pytest.mark.parametrize("grant_type", ["authorization_code", "password", None])
def test_other_grants_are_unsupported(sim: CanvasSimulator, grant_type: str | None) -> None:
    data = {"grant_type": grant_type} if grant_type else {}

    oauth_error(
        post(sim, data), 400, "unsupported_grant_type", "The grant_type you requested is not currently supported"
    )


# -- client_credentials with a JWT assertion ------------------------------------------------------


def test_signed_assertion_gets_an_lti_token_with_the_scope(sim: CanvasSimulator, tool: LtiTool) -> None:
    body = client_credentials(sim, assertion(tool, sim)).json()

    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, LTI_PROGRESS_SCOPE)
    assert sim.issued_tokens(tool.client_id) == [body["access_token"]]


def test_lti_token_is_refused_on_api_v1(sim: CanvasSimulator, tool: LtiTool) -> None:
    token = client_credentials(sim, assertion(tool, sim)).json()["access_token"]

    answer = requests.get(f"{sim.base_url}/api/v1/users/self", headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert answer.json() == {"errors": [{"message": "Invalid access token."}]}


def test_expired_lti_token_gets_the_lti_error_object(sim: CanvasSimulator, tool: LtiTool) -> None:
    token = client_credentials(sim, assertion(tool, sim)).json()["access_token"]
    assert isinstance(sim.clock, ManualClock)
    sim.clock.advance(3600)

    answer = requests.get(
        f"{sim.base_url}/api/lti/courses/1/progress/1", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )

    assert answer.status_code == 401
    assert answer.json() == {"errors": {"type": "unauthorized", "message": "Access token expired"}}


@pytest.mark.parametrize(
    ("make", "description"),
    [
        (lambda tool, sim: assertion(tool, sim, key=generate_rsa_key()[0]), "JWS signature invalid."),
        (lambda tool, sim: jwt.encode({"sub": tool.client_id}, HMAC_KEY, algorithm="HS256"), "JWS signature invalid."),
        (lambda tool, sim: "not-a-jwt", "JWS signature invalid."),
        (lambda tool, sim: assertion(tool, sim, iss=None, jti=None), "the following assertions are missing: jti,iss"),
        (lambda tool, sim: assertion(tool, sim, aud="https://elsewhere.example/login/oauth2/token"),
         "the 'aud' is invalid"),
        (lambda tool, sim: assertion(tool, sim, exp=int(time.time()) - 10), "the JWT has expired"),
        (lambda tool, sim: assertion(tool, sim, iat=int(time.time()) - 301),
         "the 'iat' must be less than 300 seconds old"),
        (lambda tool, sim: assertion(tool, sim, iat=int(time.time()) + 60), "the 'iat' must not be in the future"),
        (lambda tool, sim: assertion(tool, sim, aud="x", exp=int(time.time()) - 10),
         "the 'aud' is invalid | the JWT has expired"),
    ],
    ids=["other-key", "hs256", "garbage", "missing-claims", "aud", "expired", "old-iat", "future-iat", "several"],
)  # fmt: skip
def test_assertion_refusals_follow_canvas_jwt_validator(
    sim: CanvasSimulator, tool: LtiTool, make: Any, description: str
) -> None:
    oauth_error(client_credentials(sim, make(tool, sim)), 400, "invalid_request", description)


def test_unknown_tool_is_an_unknown_client(sim: CanvasSimulator, tool: LtiTool) -> None:
    oauth_error(client_credentials(sim, assertion(tool, sim, sub="424242")), 401, "invalid_client", "unknown client")


def test_scope_the_key_lacks_is_an_invalid_scope(sim: CanvasSimulator, tool: LtiTool) -> None:
    answer = client_credentials(sim, assertion(tool, sim), scope=f"{LTI_PROGRESS_SCOPE} https://x/a https://x/b")

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"
    assert answer.json()["error_description"].endswith("not granted: https://x/a and https://x/b")


def test_client_credentials_without_an_assertion_are_refused(sim: CanvasSimulator, client: OAuthClient) -> None:
    data = {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": client.client_secret}

    oauth_error(post(sim, data), 400, "invalid_request", "assertion method not supported for this grant_type")


def test_registered_public_jwk_is_what_verifies(sim: CanvasSimulator) -> None:
    private, public = generate_rsa_key("k7")
    tool = sim.add_lti_tool(public_jwk=public)

    assert tool.key_id == "k7"
    assert tool.private_key is None
    assert client_credentials(sim, assertion(tool, sim, key=private)).status_code == 200
    with pytest.raises(ValueError, match="your private key"):
        tool.connection_extra()


# -- control API ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["oauth", "lti"])
def test_control_api_adds_a_developer_key_and_answers_connection_extras(sim: CanvasSimulator, kind: str) -> None:
    answer = requests.post(
        f"{sim.base_url}/__sim__/developer_keys", json={"kind": kind, "token_lifetime": 60}, timeout=10
    )

    assert answer.status_code == 201
    extra = answer.json()["extra"]
    assert extra["auth_type"] == {"oauth": "oauth2_refresh", "lti": "lti_advantage"}[kind]
    if kind == "oauth":
        assert (
            refresh(sim, OAuthClient(extra["client_id"], extra["client_secret"], extra["refresh_token"])).json()[
                "expires_in"
            ]
            == 60
        )
    else:
        assert "BEGIN PRIVATE KEY" in extra["private_key"]
        assert json.loads(json.dumps(answer.json()["public_jwk"]))["kty"] == "RSA"


def test_control_api_refuses_an_unknown_kind(sim: CanvasSimulator) -> None:
    answer = requests.post(f"{sim.base_url}/__sim__/developer_keys", json={"kind": "saml"}, timeout=10)

    assert answer.status_code == 400
