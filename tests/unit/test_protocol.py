"""Specification of Canvas's HTTP protocol with no I/O: building requests and reading every answer.

The error table mirrors the one in ``docs/canvas-behaviour.md`` row for row (Canvas:
``app/controllers/application_controller.rb``, ``lib/canvas/request_throttle.rb``).
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_canvas_progress.core.errors import (
    CanvasAuthError,
    CanvasConfigurationError,
    CanvasError,
    CanvasHTTPError,
    CanvasNotFoundError,
    CanvasPermissionError,
    CanvasResponseError,
    CanvasServerError,
    CanvasThrottledError,
    CanvasTokenExpiredError,
    CanvasUnreadableResponseError,
    CanvasValidationError,
    ForeignHostError,
)
from airflow_provider_canvas_progress.core.protocol import (
    USER_AGENT,
    CanvasRequest,
    CanvasResponse,
    auth_headers,
    build_request,
    canvas_error_text,
    endpoint_path,
    flatten,
    interpret_response,
    rate_limit_remaining,
)
from airflow_provider_canvas_progress.core.settings import CanvasSettings, settings_from_connection

WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="canvas-lms"'}
HTML = {"Content-Type": "text/html; charset=utf-8"}


def respond(status: int, body: object = b"", headers: dict[str, str] | None = None) -> CanvasResponse:
    """A CanvasResponse; dicts and lists are sent as JSON, text as UTF-8."""
    if isinstance(body, (dict, list)):
        raw = json.dumps(body).encode()
    elif isinstance(body, str):
        raw = body.encode()
    else:
        assert isinstance(body, bytes)
        raw = body
    return CanvasResponse(status, headers or {}, raw)


@pytest.fixture(scope="module")
def call(settings: CanvasSettings) -> CanvasRequest:
    """The call every answer below is an answer to."""
    return build_request(settings, "GET", "/api/v1/progress/123")


def fail(call: CanvasRequest, response: CanvasResponse) -> CanvasError:
    with pytest.raises(CanvasError) as caught:
        interpret_response(call, response)
    return caught.value


# -- endpoint_path -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("/api/v1/courses/1", "/api/v1/courses/1"),
        ("api/v1/courses/1", "/api/v1/courses/1"),
        ("courses/1", "/api/v1/courses/1"),
        ("  courses/1/modules  ", "/api/v1/courses/1/modules"),
        ("users/self", "/api/v1/users/self"),
        ("api/lti/courses/7/progress/1", "/api/lti/courses/7/progress/1"),
        ("https://school.instructure.com/api/v1/progress/5", "/api/v1/progress/5"),
        ("https://school.instructure.com/api/v1/courses?per_page=10", "/api/v1/courses?per_page=10"),
        ("courses/1/modules?next=https://school.instructure.com/x", "/api/v1/courses/1/modules?next=https://school.instructure.com/x"),
    ],
)  # fmt: skip
def test_endpoint_path_resolves_every_form_to_a_path_on_the_host(
    settings: CanvasSettings, endpoint: str, expected: str
) -> None:
    assert endpoint_path(endpoint, settings) == expected


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://evil.example.com/api/v1/courses",
        "http://school.instructure.com/api/v1/courses",
        "https://school.instructure.com:8443/api/v1/courses",
    ],
)
def test_endpoint_url_on_another_origin_is_refused(settings: CanvasSettings, endpoint: str) -> None:
    with pytest.raises(ForeignHostError, match="endpoint"):
        endpoint_path(endpoint, settings)


@pytest.mark.parametrize("endpoint", ["", "   "])
def test_empty_endpoint_is_refused(settings: CanvasSettings, endpoint: str) -> None:
    with pytest.raises(CanvasConfigurationError, match="endpoint is empty"):
        endpoint_path(endpoint, settings)


# -- flatten ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "pairs"),
    [
        (None, []),
        ({}, []),
        ({"event": "offer"}, [("event", "offer")]),
        ({"per_page": 50}, [("per_page", "50")]),
        ({"course_ids": [1, 2]}, [("course_ids[]", "1"), ("course_ids[]", "2")]),
        ({"course_ids[]": [1, 2]}, [("course_ids[]", "1"), ("course_ids[]", "2")]),
        ({"ids": (3,)}, [("ids[]", "3")]),
        ({"ids": []}, []),
        ({"async": True, "notify": False}, [("async", "true"), ("notify", "false")]),
        ({"message": None, "event": "offer"}, [("event", "offer")]),
        ({"ids": [1, None, 2]}, [("ids[]", "1"), ("ids[]", "2")]),
        (
            {"grade_data": {"5": {"posted_grade": "A"}, 6: {"posted_grade": 90, "excuse": None}}},
            [("grade_data[5][posted_grade]", "A"), ("grade_data[6][posted_grade]", "90")],
        ),
        ({"module": {"published": True}}, [("module[published]", "true")]),
        ({"include": [["a"]]}, [("include[]", "a")]),
        ({"items": [{"id": 1}]}, [("items[][id]", "1")]),
        ([("a", 1), ("a", 2)], [("a", "1"), ("a", "2")]),
        ({10: 1.5}, [("10", "1.5")]),
    ],
)
def test_flatten_writes_canvas_style_parameters(values: Any, pairs: list[tuple[str, str]]) -> None:
    assert flatten(values) == pairs


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
_params = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(min_size=1, max_size=4), inner, max_size=3),
    max_leaves=10,
)


@given(st.dictionaries(st.text(min_size=1, max_size=4), _params, max_size=4))
def test_property_flatten_gives_only_string_pairs_and_never_none(values: dict[str, Any]) -> None:
    pairs = flatten(values)
    assert all(isinstance(name, str) and isinstance(value, str) for name, value in pairs)
    # None values are dropped, never sent as the text "None"; a literal "None" string passes through.
    assert sum(value == "None" for _, value in pairs) == sum(leaf == "None" for leaf in _leaves(values))


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


# -- build_request ---------------------------------------------------------------------------------------


def test_build_request_targets_the_connections_host(settings: CanvasSettings) -> None:
    request = build_request(settings, "put", "accounts/1/courses", data={"event": "offer", "course_ids": [1, 2]})

    assert request.method == "PUT"
    assert request.url == "https://school.instructure.com/api/v1/accounts/1/courses"
    assert request.path == "/api/v1/accounts/1/courses"
    assert request.data == [("event", "offer"), ("course_ids[]", "1"), ("course_ids[]", "2")]
    assert request.params == []
    assert request.json is None
    assert request.label == "PUT /api/v1/accounts/1/courses"


def test_build_request_keeps_the_query_in_the_url_but_not_in_the_path_or_label(settings: CanvasSettings) -> None:
    request = build_request(settings, "GET", "courses?per_page=10#top", params={"include": ["term"]})

    assert request.url == "https://school.instructure.com/api/v1/courses?per_page=10#top"
    assert request.path == "/api/v1/courses"
    assert request.label == "GET /api/v1/courses"
    assert request.params == [("include[]", "term")]


def test_build_request_sends_json_bodies_as_given(settings: CanvasSettings) -> None:
    body = [{"id": 1, "all_dates": [{"due_at": None}]}]

    request = build_request(settings, "PUT", "courses/1/assignments/bulk_update", json_body=body)

    assert request.json == body
    assert request.data is None


def test_build_request_asks_for_json_and_names_itself(settings: CanvasSettings) -> None:
    headers = build_request(settings, "GET", "users/self").headers

    assert headers == {"Accept": "application/json", "User-Agent": USER_AGENT}


def test_build_request_never_carries_the_token(settings: CanvasSettings, token: str) -> None:
    request = build_request(settings, "POST", "progress/1/cancel", data={"message": "stop"}, params={"a": 1})

    assert not any(name.lower() == "authorization" for name in request.headers)
    assert token not in repr(request)
    assert token not in str(request)


def test_auth_headers_are_the_only_place_the_token_enters(token: str) -> None:
    assert auth_headers(token) == {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("method", ["CONNECT", "TRACE", "FETCH", ""])
def test_build_request_refuses_methods_canvas_does_not_use(settings: CanvasSettings, method: str) -> None:
    with pytest.raises(CanvasConfigurationError, match="not an HTTP method"):
        build_request(settings, method, "users/self")


def test_build_request_refuses_form_data_and_json_together(settings: CanvasSettings) -> None:
    with pytest.raises(CanvasConfigurationError, match="not both"):
        build_request(settings, "PUT", "courses/1", data={"a": 1}, json_body={"a": 1})


def test_build_request_refuses_an_endpoint_on_another_host(settings: CanvasSettings) -> None:
    with pytest.raises(ForeignHostError):
        build_request(settings, "GET", "https://evil.example.com/api/v1/users/self")


# -- CanvasResponse and X-Rate-Limit-Remaining ----------------------------------------------------------------


def test_response_headers_are_read_case_insensitively() -> None:
    response = respond(200, b"", {"x-rate-limit-remaining": "42.5"})

    assert response.header("X-Rate-Limit-Remaining") == "42.5"
    assert response.header("Location") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("600.0", 600.0),
        ("0.0", 0.0),
        ("123", 123.0),
        ("-25.5", -25.5),  # the bucket may overfill up to 800, so the remainder can go negative
        (None, None),
        ("", None),
        ("lots", None),
        ("nan", None),
        ("inf", None),
        ("-inf", None),
    ],
)
def test_rate_limit_remaining_is_a_finite_float_or_none(value: str | None, expected: float | None) -> None:
    headers = {} if value is None else {"X-Rate-Limit-Remaining": value}

    assert rate_limit_remaining(respond(200, b"{}", headers)) == expected


# -- interpret_response: success --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, {"id": 1, "workflow_state": "queued"}, {"id": 1, "workflow_state": "queued"}),
        (200, [1, 2], [1, 2]),
        (201, {"id": 2}, {"id": 2}),
        (200, "null", None),
        (200, b"", None),
        (200, b"  \n", None),
        (204, b"", None),
    ],
)
def test_success_answer_gives_its_decoded_json(
    call: CanvasRequest, status: int, body: object, expected: object
) -> None:
    assert interpret_response(call, respond(status, body)) == expected


@pytest.mark.parametrize(
    ("body", "headers", "kind"),
    [
        (b'{"id": 1, "workflow_st', {}, "a body that is not JSON"),
        (b"\xff\xfe\x00garbage", {}, "a body that is not JSON"),
        (b"<!DOCTYPE html><html><title>Login</title></html>", {}, "an HTML page"),
        (b"Service temporarily unavailable", HTML, "an HTML page"),
    ],
)
def test_success_answer_that_is_not_json_is_retryable_and_says_what_it_was(
    call: CanvasRequest, body: bytes, headers: dict[str, str], kind: str
) -> None:
    error = fail(call, respond(200, body, headers))

    assert type(error) is CanvasUnreadableResponseError
    assert error.retryable
    assert kind in str(error)
    assert "GET /api/v1/progress/123" in str(error)
    assert (error.method, error.path, error.status) == ("GET", "/api/v1/progress/123", 200)


def test_unreadable_answer_shows_only_a_short_snippet(call: CanvasRequest) -> None:
    error = fail(call, respond(200, "x" * 5000))

    assert "x" * 120 + "…" in str(error)
    assert "x" * 121 not in str(error)


# -- interpret_response: the error table of canvas-api.md -------------------------------------------------------

UNAUTHORIZED = {"status": "unauthorized", "errors": [{"message": "user not authorized to perform that action"}]}

ERROR_TABLE: list[tuple[str, int, object, dict[str, str], type[CanvasError], str | None]] = [
    ("invalid token", 401, {"errors": [{"message": "Invalid access token."}]}, WWW_AUTHENTICATE,
     CanvasAuthError, "Invalid access token."),
    ("expired token", 401, {"errors": [{"message": "Expired access token.", "expired_at": "2025-01-01T00:00:00Z"}]},
     WWW_AUTHENTICATE, CanvasTokenExpiredError, "Expired access token."),
    ("revoked token", 401, {"errors": [{"message": "Revoked access token."}]}, WWW_AUTHENTICATE,
     CanvasAuthError, "Revoked access token."),
    ("insufficient scopes", 401, {"errors": [{"message": "Insufficient scopes on access token."}]}, {},
     CanvasAuthError, "Insufficient scopes on access token."),
    ("no credentials", 401, {"status": "unauthenticated", "errors": [{"message": "user authorization required"}]},
     WWW_AUTHENTICATE, CanvasAuthError, "user authorization required"),
    ("not permitted, older canvas", 401, UNAUTHORIZED, {},
     CanvasPermissionError, "user not authorized to perform that action"),
    ("not permitted", 403, UNAUTHORIZED, {}, CanvasPermissionError, "user not authorized to perform that action"),
    ("throttled, older canvas", 403, "403 Forbidden (Rate Limit Exceeded)\n",
     {"Content-Type": "text/plain", "X-Rate-Limit-Remaining": "0.0"},
     CanvasThrottledError, "403 Forbidden (Rate Limit Exceeded)"),
    ("throttled", 429, "429 Too Many Requests (Rate Limit Exceeded)", {"X-Rate-Limit-Remaining": "0.0"},
     CanvasThrottledError, "429 Too Many Requests (Rate Limit Exceeded)"),
    ("throttled, empty body", 429, b"", {}, CanvasThrottledError, None),
    ("not found", 404, {"errors": [{"message": "The specified resource does not exist."}]}, {},
     CanvasNotFoundError, "The specified resource does not exist."),
    ("validation", 400, {"message": "need to specify event"}, {}, CanvasValidationError, "need to specify event"),
    ("validation 422", 422, {"message": "course_ids is too long"}, {}, CanvasValidationError, "course_ids is too long"),
    ("model errors", 400, {"errors": {"event": [{"attribute": "event", "type": "invalid", "message": "is invalid"}]}},
     {}, CanvasValidationError, "is invalid"),
    ("server error", 500, {"errors": [{"message": "An error occurred.", "error_code": "internal_server_error"}]}, {},
     CanvasServerError, "An error occurred."),
    ("bad gateway", 502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", HTML,
     CanvasServerError, "502 Bad Gateway"),
    ("maintenance", 503, "<!DOCTYPE html>\n<html><head><TITLE>\n  Canvas is down for maintenance\n</TITLE>",
     {}, CanvasServerError, "Canvas is down for maintenance"),
    ("gateway timeout", 504, "<html><body><h1>504 Gateway Time-out</h1></body></html>", HTML,
     CanvasServerError, None),
    ("lti unauthorized", 401, {"errors": {"type": "unauthorized", "message": "Invalid access token format"}}, {},
     CanvasAuthError, "Invalid access token format"),
    ("lti forbidden", 403, {"errors": {"type": "forbidden", "message": "Tool is not linked to this course"}}, {},
     CanvasPermissionError, "Tool is not linked to this course"),
    ("lti not found", 404, {"errors": {"type": "not_found", "message": "Progress not found"}}, {},
     CanvasNotFoundError, "Progress not found"),
    ("lti unprocessable", 422, {"errors": {"type": "bad_request", "message": "Course id is invalid"}}, {},
     CanvasValidationError, "Course id is invalid"),
]  # fmt: skip

ERROR_ROWS = [pytest.param(*row[1:], id=row[0]) for row in ERROR_TABLE]


@pytest.mark.parametrize(("status", "body", "headers", "expected", "text"), ERROR_ROWS)
def test_error_answer_maps_to_its_error_class(
    call: CanvasRequest,
    status: int,
    body: object,
    headers: dict[str, str],
    expected: type[CanvasError],
    text: str | None,
) -> None:
    assert type(fail(call, respond(status, body, headers))) is expected


@pytest.mark.parametrize(("status", "body", "headers", "expected", "text"), ERROR_ROWS)
def test_error_message_carries_canvas_text_and_the_call(
    call: CanvasRequest,
    status: int,
    body: object,
    headers: dict[str, str],
    expected: type[CanvasError],
    text: str | None,
) -> None:
    error = fail(call, respond(status, body, headers))

    assert "GET /api/v1/progress/123" in str(error)
    assert str(status) in str(error)
    assert error.canvas_message == text
    if text is not None:
        assert text in str(error)
    assert (error.method, error.path, error.status) == ("GET", "/api/v1/progress/123", status)


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(401, False), (403, False), (404, False), (400, False), (422, False), (429, True), (500, True), (503, True)],
)
def test_only_throttles_and_server_errors_are_retryable(call: CanvasRequest, status: int, retryable: bool) -> None:
    assert fail(call, respond(status, {"errors": [{"message": "x"}]})).retryable is retryable


def test_throttled_403_is_retryable_but_plain_403_is_not(call: CanvasRequest) -> None:
    throttled = fail(call, respond(403, "403 Forbidden (Rate Limit Exceeded)"))
    forbidden = fail(call, respond(403, UNAUTHORIZED))

    assert isinstance(throttled, CanvasThrottledError)
    assert throttled.retryable
    assert isinstance(forbidden, CanvasPermissionError)
    assert not forbidden.retryable


def test_throttle_marker_is_matched_case_insensitively(call: CanvasRequest) -> None:
    assert isinstance(fail(call, respond(403, "rate limit exceeded")), CanvasThrottledError)


def test_401_not_authorized_text_without_www_authenticate_is_a_permission_error(call: CanvasRequest) -> None:
    body = {"errors": [{"message": "user not authorized to perform that action"}]}

    assert type(fail(call, respond(401, body))) is CanvasPermissionError
    assert type(fail(call, respond(401, body, WWW_AUTHENTICATE))) is CanvasAuthError


@pytest.mark.parametrize(
    ("status", "expected"),
    [(408, CanvasServerError), (501, CanvasHTTPError), (418, CanvasHTTPError), (599, CanvasServerError)],
)
def test_other_statuses_fall_back_to_a_general_class(
    call: CanvasRequest, status: int, expected: type[CanvasError]
) -> None:
    assert type(fail(call, respond(status))) is expected


@pytest.mark.parametrize(
    ("status", "advice"),
    [
        (401, "Check the connection's Password"),
        (403, "Use a token of a user with the needed permission"),
        (404, "Check the id"),
        (400, "Fix the request's parameters"),
        (429, "fewer tasks should share this token"),
        (500, "retried"),
    ],
)
def test_error_message_says_what_to_do_next(call: CanvasRequest, status: int, advice: str) -> None:
    assert advice in str(fail(call, respond(status)))


def test_expired_token_message_says_to_renew_it(call: CanvasRequest) -> None:
    error = fail(call, respond(401, {"errors": [{"message": "Expired access token."}]}, WWW_AUTHENTICATE))

    assert "Renew the token" in str(error)


def test_html_server_error_says_it_was_a_proxy_page(call: CanvasRequest) -> None:
    error = fail(call, respond(502, "<html><title>502 Bad Gateway</title></html>", HTML))

    assert "with 502 with an HTML page (a proxy or maintenance window)" in str(error)


def test_errors_survive_pickling_with_every_field(call: CanvasRequest) -> None:
    # The triggerer and task processes pass exceptions around pickled.
    error = fail(call, respond(404, {"errors": [{"message": "The specified resource does not exist."}]}))

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is CanvasNotFoundError
    assert str(copy) == str(error)
    assert (copy.method, copy.path, copy.status, copy.canvas_message) == (
        "GET",
        "/api/v1/progress/123",
        404,
        "The specified resource does not exist.",
    )


# -- redirects --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("https://sso.example.com/login?session=s3cr3t&next=/api/v1/progress/123", "https://sso.example.com"),
        ("https://sso.example.com:8443/saml/s3cr3t", "https://sso.example.com:8443"),
        ("https://user:s3cr3t@sso.example.com/x", "https://sso.example.com"),
        ("https://[2001:db8::1]:8443/s3cr3t", "https://[2001:db8::1]:8443"),
        ("https://sso.example.com:99999/s3cr3t", "https://sso.example.com"),
        ("https://[sso.example.com/s3cr3t", "an address that is not a valid URL"),
        ("//sso.example.com/s3cr3t", "//sso.example.com"),
        ("/login?token=s3cr3t", "a path on the same host"),
        ("login?token=s3cr3t", "a path on the same host"),
    ],
)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_refused_naming_only_the_target_origin(
    call: CanvasRequest, status: int, location: str, shown: str
) -> None:
    error = fail(call, respond(status, b"", {"Location": location}))

    assert type(error) is CanvasResponseError
    assert not error.retryable
    assert f"with a {status} redirect to {shown}. " in str(error)
    assert "s3cr3t" not in str(error)
    assert "Redirects are not followed" in str(error)


def test_redirect_without_location_says_so(call: CanvasRequest) -> None:
    assert "no Location header" in str(fail(call, respond(302)))


# -- canvas_error_text -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "text"),
    [
        ({"errors": [{"message": "Invalid access token."}]}, {}, "Invalid access token."),
        ({"errors": [{"message": "a"}, {"message": "b"}]}, {}, "a; b"),
        ({"errors": [{"message": "same"}, {"message": "same"}]}, {}, "same"),
        ({"errors": {"type": "unauthorized", "message": "lti says no"}}, {}, "lti says no"),
        ({"errors": {"name": [{"message": "is too long"}], "code": [{"message": "is taken"}]}}, {},
         "is too long; is taken"),
        ({"errors": ["plain string error"]}, {}, "plain string error"),
        ({"message": "need to specify event"}, {}, "need to specify event"),
        ({"error": "invalid_grant"}, {}, "invalid_grant"),
        ({"id": 1}, {}, None),
        ("just a JSON string", {}, None),
        (b"", {}, None),
        (b"403 Forbidden (Rate Limit Exceeded)", {}, "403 Forbidden (Rate Limit Exceeded)"),
        (b"  two\n\n lines  ", {}, "two lines"),
        (b"<html><head><title> Bad\nGateway </title></head></html>", {}, "Bad\nGateway"),
        (b"<html><body>no title</body></html>", HTML, None),
    ],
)  # fmt: skip
def test_canvas_error_text_reads_every_body_shape(body: object, headers: dict[str, str], text: str | None) -> None:
    if isinstance(body, str):
        body = json.dumps(body)
    assert canvas_error_text(respond(400, body, headers)) == text


def test_canvas_error_text_is_bounded() -> None:
    body = {"errors": [{"message": "m" * 5000}]}

    text = canvas_error_text(respond(400, body))

    assert text is not None
    assert len(text) == 1000


# -- the token never leaks ------------------------------------------------------------------------------------------

_tokens = st.from_regex(r"[0-9]{1,5}~[A-Za-z0-9]{64}", fullmatch=True)
_answers = st.one_of(
    st.sampled_from([(row[1], row[2], row[3]) for row in ERROR_TABLE]),
    st.tuples(
        st.sampled_from([301, 302, 307, 308]),
        st.just(b""),
        st.sampled_from(
            [
                {"Location": "https://sso.example.com/login?return=/api/v1/progress/1"},
                {"Location": "/login"},
                {},
            ]
        ),
    ),
    st.tuples(st.just(200), st.sampled_from([b"<html>oops</html>", b'{"trunc']), st.just({})),
)


@given(
    token=_tokens,
    answer=_answers,
    method=st.sampled_from(["GET", "POST", "PUT"]),
    endpoint=st.sampled_from(
        ["/api/v1/progress/1", "progress/1/cancel", "https://school.instructure.com/api/v1/accounts/1/courses"]
    ),
)
def test_property_the_token_never_appears_in_any_error(
    token: str, answer: tuple[int, object, dict[str, str]], method: str, endpoint: str
) -> None:
    settings = settings_from_connection(conn_id="canvas_default", host="school.instructure.com", password=token)
    request = build_request(settings, method, endpoint)
    status, body, headers = answer

    with pytest.raises(CanvasError) as caught:
        interpret_response(request, respond(status, body, headers))

    error = caught.value
    assert token not in str(error)
    assert token not in repr(error)
    assert all(token not in str(arg) for arg in error.args)
    assert all(token not in str(value) for value in vars(error).values())
    assert token not in repr(request)
