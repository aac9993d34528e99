"""Authentication errors: exact bodies, statuses and WWW-Authenticate headers."""

from __future__ import annotations

from airflow_provider_canvas_progress.testing import LTI_PROGRESS_SCOPE, CanvasSimulator

from .simclient import Api

REALM = 'Bearer realm="canvas-lms"'


def test_unknown_token_is_invalid_access_token(api: Api) -> None:
    response = api.get("/api/v1/users/self", token="1~nope")
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": "Invalid access token."}]}
    assert response.headers["WWW-Authenticate"] == REALM


def test_expired_token_names_when_it_expired(sim: CanvasSimulator, api: Api) -> None:
    token = sim.add_token(state="expired", expired_at="2024-05-01T00:00:00Z")
    response = api.get("/api/v1/users/self", token=token)
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": "Expired access token.", "expired_at": "2024-05-01T00:00:00Z"}]}
    assert response.headers["WWW-Authenticate"] == REALM


def test_expired_token_defaults_expired_at_to_a_timestamp(sim: CanvasSimulator, api: Api) -> None:
    body = api.get("/api/v1/users/self", token=sim.add_token(state="expired")).json()
    assert body["errors"][0]["expired_at"].endswith("Z")


def test_revoked_token_is_revoked_access_token(sim: CanvasSimulator, api: Api) -> None:
    response = api.get("/api/v1/users/self", token=sim.add_token(state="revoked"))
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": "Revoked access token."}]}
    assert response.headers["WWW-Authenticate"] == REALM


def test_missing_credentials_is_user_authorization_required(api: Api) -> None:
    response = api.get("/api/v1/users/self", token=None)
    assert response.status_code == 401
    assert response.json() == {"status": "unauthenticated", "errors": [{"message": "user authorization required"}]}
    assert response.headers["WWW-Authenticate"] == REALM


def test_token_in_the_query_string_is_not_accepted(sim: CanvasSimulator, api: Api) -> None:
    response = api.get(f"/api/v1/users/self?access_token={sim.token}", token=None)
    assert response.status_code == 401


def test_non_bearer_authorization_is_no_credentials(sim: CanvasSimulator, api: Api) -> None:
    response = api.get("/api/v1/users/self", token=None, headers={"Authorization": f"Token {sim.token}"})
    assert response.json()["status"] == "unauthenticated"


def test_lowercase_bearer_scheme_is_no_credentials(sim: CanvasSimulator, api: Api) -> None:
    # lib/authentication_methods.rb matches the scheme case-sensitively: only "Bearer" carries a token.
    response = api.get("/api/v1/users/self", token=None, headers={"Authorization": f"bearer {sim.token}"})
    assert response.status_code == 401
    assert response.json()["status"] == "unauthenticated"


def test_scoped_token_missing_the_route_scope_is_insufficient_scopes(sim: CanvasSimulator, api: Api) -> None:
    token = sim.add_token(scopes=["url:GET|/api/v1/users/:id"])
    response = api.get(f"/api/v1/progress/{sim.create_progress()}", token=token)
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": "Insufficient scopes on access token."}]}
    assert "WWW-Authenticate" not in response.headers


def test_scoped_token_with_the_route_scope_is_accepted(sim: CanvasSimulator, api: Api) -> None:
    token = sim.add_token(scopes=["url:GET|/api/v1/progress/:id"])
    assert api.get(f"/api/v1/progress/{sim.create_progress()}", token=token).status_code == 200


def test_lti_token_is_unknown_to_the_v1_api(sim: CanvasSimulator, api: Api) -> None:
    token = sim.add_token(kind="lti", scopes=[LTI_PROGRESS_SCOPE])
    response = api.get(f"/api/v1/progress/{sim.create_progress()}", token=token)
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": "Invalid access token."}]}


def test_users_self_returns_the_token_owner(api: Api) -> None:
    body = api.get("/api/v1/users/self").json()
    assert (body["id"], body["name"], body["sortable_name"], body["short_name"]) == (
        1,
        "Sim Admin",
        "Admin, Sim",
        "Sim Admin",
    )
    assert "login_id" in body


def test_users_self_of_another_token_is_that_user(sim: CanvasSimulator, api: Api) -> None:
    sim.add_user(7, name="Grace Hopper")
    body = api.get("/api/v1/users/self", token=sim.add_token(user_id=7)).json()
    assert (body["id"], body["sortable_name"]) == (7, "Hopper, Grace")


def test_users_self_honours_string_ids(api: Api) -> None:
    assert api.get("/api/v1/users/self", headers={"Accept": "application/json+canvas-string-ids"}).json()["id"] == "1"


def test_default_token_is_created_with_the_simulator(sim: CanvasSimulator) -> None:
    assert sim.token.startswith("1~")
    assert len(sim.token) > 40


def test_given_token_becomes_the_default_token(canvas_simulator_factory, api_for) -> None:
    fixed = canvas_simulator_factory(token="7~fixed")
    assert fixed.token == "7~fixed"
    assert api_for(fixed).get("/api/v1/users/self").status_code == 200


def test_unknown_api_route_is_canvas_404(api: Api) -> None:
    response = api.get("/api/v1/no/such/thing")
    assert response.status_code == 404
    assert response.json() == {"errors": [{"message": "The specified resource does not exist."}]}
