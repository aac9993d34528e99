"""Specification of the Redactor: every form in which a server may echo a secret back is hidden,
ordinary text is left alone, and the result is bounded."""

from __future__ import annotations

import base64
import html
import json
import time
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_canvas_progress.core.redact import MAX_DEPTH, REDACTED, TEXT_LIMIT, TOO_DEEP, Redactor
from airflow_provider_canvas_progress.core.settings import CanvasSettings, settings_from_connection

TOKEN = "7~AbCdEf0123456789/ghIJ+klmn=opQR"
SECRET = "dev-key-secret-Ü-ñ-42"


@pytest.fixture
def redactor() -> Redactor:
    return Redactor([TOKEN, SECRET])


ECHOES = {
    "verbatim": TOKEN,
    "in a sentence": f"Invalid access token {TOKEN} for user 5",
    "as a bearer header": f"Authorization: Bearer {TOKEN}",
    "url-encoded": quote(TOKEN, safe=""),
    "url-encoded with lower-case escapes": quote(TOKEN, safe="").replace("%2F", "%2f").replace("%7E", "%7e"),
    "form-encoded": quote_plus(TOKEN),
    "every character percent-encoded": "".join(f"%{b:02X}" for b in TOKEN.encode()),
    "in a query string": f"https://proxy.example/login?next=%2Fapi&access_token={quote(TOKEN, safe='')}&x=1",
    "json-escaped": json.dumps({"message": TOKEN}),
    "json-escaped with escaped slashes": json.dumps(TOKEN).replace("/", "\\/"),
    "json with ascii escapes of a non-ascii secret": json.dumps({"error": SECRET}),
    "html-escaped": f"<title>{html.escape(TOKEN)}</title>",
    "base64 of the token": base64.b64encode(TOKEN.encode()).decode(),
    "base64 of user:token (Basic header)": "Basic " + base64.b64encode(f"someone:{TOKEN}".encode()).decode(),
    "base64 of user:token, one-byte user": base64.b64encode(f"u:{TOKEN}".encode()).decode(),
    "base64 of user:token, two-byte user": base64.b64encode(f"us:{TOKEN}".encode()).decode(),
    "url-safe base64 without padding": base64.urlsafe_b64encode(f"x:{TOKEN}".encode()).decode().rstrip("="),
    "base64 glued to a word": "auth" + base64.b64encode(f"u:{TOKEN}".encode()).decode(),
    "the second secret verbatim": f"client_secret={SECRET}",
    "the second secret url-encoded": quote(SECRET),
}


@pytest.mark.parametrize("echo", ECHOES.values(), ids=ECHOES.keys())
def test_a_secret_echoed_in_any_usual_encoding_is_hidden(redactor: Redactor, echo: str) -> None:
    clean = redactor.text(echo)

    assert REDACTED in clean
    for secret in (TOKEN, SECRET):
        assert secret not in clean
        assert quote(secret, safe="") not in clean
        assert base64.b64encode(secret.encode()).decode()[:-4] not in clean


def test_ordinary_text_is_left_unchanged(redactor: Redactor) -> None:
    text = "Canvas refused GET /api/v1/progress/12 (401): the access token is not accepted. Q2VydGFpbmx5IG5vdA=="
    assert redactor.text(text) == text


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_text_without_the_secret_is_never_changed(text: str) -> None:
    redactor = Redactor(["zQ9#secret#Xy"])
    if "zQ9#secret#Xy" in text or "%" in text:
        return
    assert redactor.text(text, limit=1000) == text


@given(st.text(max_size=80), st.text(max_size=80))
@settings(max_examples=200, deadline=None)
def test_a_secret_anywhere_in_any_text_is_hidden(before: str, after: str) -> None:
    redactor = Redactor([TOKEN])
    assert TOKEN not in redactor.text(before + TOKEN + after)


def test_short_secrets_are_not_redacted_because_they_would_shred_every_message() -> None:
    assert Redactor(["abc"]).text("abcdef abc") == "abcdef abc"
    assert not Redactor(["abc", ""])


def test_texts_are_cut_to_the_limit_with_an_ellipsis(redactor: Redactor) -> None:
    clean = redactor.text("x" * 10_000_000)
    assert len(clean) == TEXT_LIMIT + 1
    assert clean.endswith("…")


def test_a_cut_never_leaves_the_beginning_of_a_secret(redactor: Redactor) -> None:
    for keep in range(3, len(TOKEN)):
        text = "y" * 90 + TOKEN
        clean = redactor.text(text, limit=90 + keep)
        assert TOKEN[:keep] not in clean, keep
        assert clean.startswith("y" * 90)


def test_a_secret_straddling_the_cut_is_hidden(redactor: Redactor) -> None:
    clean = redactor.text("y" * 95 + TOKEN + "z" * 100, limit=100)
    assert TOKEN[:5] not in clean
    assert clean.startswith("y" * 95)


def test_a_ten_megabyte_text_is_redacted_in_well_under_a_second(redactor: Redactor) -> None:
    blob = ("%41" * 1000 + "A" * 5000 + "/" * 1000) * 1000
    started = time.perf_counter()
    redactor.text(blob)
    redactor.value({"results": blob})
    assert time.perf_counter() - started < 5.0


def test_json_like_values_are_redacted_recursively_keys_included(redactor: Redactor) -> None:
    value = {
        "id": 5,
        "completion": 12.5,
        "ok": True,
        "none": None,
        "message": f"token {TOKEN}",
        TOKEN: [f"a {quote(TOKEN, safe='')}", ("t", SECRET)],
        "nested": {"deeper": [{"user": {"name": TOKEN}}]},
    }
    clean = redactor.value(value)

    assert TOKEN not in json.dumps(clean)
    assert SECRET not in json.dumps(clean, ensure_ascii=False)
    assert clean["id"] == 5
    assert clean["completion"] == 12.5
    assert clean["ok"] is True
    assert clean["none"] is None
    assert clean["message"] == f"token {REDACTED}"
    assert clean[REDACTED] == [f"a {REDACTED}", ("t", REDACTED)]
    assert clean["nested"]["deeper"][0]["user"]["name"] == REDACTED


def test_values_nested_deeper_than_the_bound_are_replaced_not_walked(redactor: Redactor) -> None:
    deep: object = TOKEN
    for _ in range(10_000):
        deep = [deep]
    clean = redactor.value(deep)
    depth = 0
    while isinstance(clean, list):
        clean, depth = clean[0], depth + 1
    assert depth == MAX_DEPTH
    assert clean == TOO_DEEP


def test_a_value_is_returned_unchanged_when_there_is_no_secret() -> None:
    value = {"id": "1", "message": TOKEN}
    assert Redactor().value(value) == value
    assert Redactor().text(TOKEN) == TOKEN


def test_secrets_added_later_are_hidden_too(redactor: Redactor) -> None:
    issued = "issued-access-token-000111"
    assert redactor.text(issued) == issued
    redactor.add(issued)
    assert redactor.text(f"x {issued}") == f"x {REDACTED}"
    assert TOKEN not in redactor.text(TOKEN)


def test_the_redactor_of_a_connection_hides_its_token() -> None:
    settings = settings_from_connection(conn_id="c", host="canvas.example.edu", password=TOKEN)
    assert Redactor.of(settings).text(f"echo {TOKEN}") == f"echo {REDACTED}"


def test_the_redactor_of_a_developer_key_connection_hides_secret_and_refresh_token() -> None:
    settings = settings_from_connection(
        conn_id="c",
        host="canvas.example.edu",
        password=None,
        extras={
            "auth_type": "oauth2_refresh",
            "client_id": "10000000000001",
            "client_secret": "the-client-secret-xyz",
            "refresh_token": "the-refresh-token-abc",
        },
    )
    redactor = Redactor.of(settings, "issued-token-12345")
    clean = redactor.text("the-client-secret-xyz the-refresh-token-abc issued-token-12345 10000000000001")
    assert clean == f"{REDACTED} {REDACTED} {REDACTED} 10000000000001"


def test_the_redactor_shows_no_secret_in_its_repr(redactor: Redactor) -> None:
    assert TOKEN not in repr(redactor)
    assert SECRET not in repr(redactor)


def test_a_settings_object_is_enough_to_build_one() -> None:
    settings = CanvasSettings(base_url="https://canvas.example.edu", token=TOKEN)
    assert TOKEN not in Redactor.of(settings).value({"m": [TOKEN]})["m"][0]


def test_an_error_built_from_an_echoing_answer_is_redacted_and_bounded_in_place(redactor: Redactor) -> None:
    from airflow_provider_canvas_progress.core.errors import CanvasAuthError

    error = CanvasAuthError(f"refused: {TOKEN} " + "x" * 10_000, status=401, canvas_message=f"bad {TOKEN}")

    same = redactor.error(error)

    assert same is error
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)
    assert error.canvas_message == f"bad {REDACTED}"
    assert len(str(error)) <= TEXT_LIMIT + 1
    assert error.status == 401


def test_errors_of_other_kinds_are_left_alone(redactor: Redactor) -> None:
    error = ValueError(TOKEN)
    assert redactor.error(error) is error


def test_a_redactor_extended_with_an_issued_token_hides_both_and_is_reused(redactor: Redactor) -> None:
    issued = "issued-token-for-this-call-777"

    extended = redactor.with_secret(issued)

    assert extended is redactor.with_secret(issued)
    assert redactor.with_secret(TOKEN) is redactor
    assert extended.text(f"{TOKEN} {issued}") == f"{REDACTED} {REDACTED}"
    assert redactor.text(issued) == issued


def test_an_error_raised_from_none_keeps_no_context_holding_the_answer(redactor: Redactor) -> None:
    from airflow_provider_canvas_progress.core.errors import CanvasResponseError

    def decode() -> None:
        try:
            json.loads(f"not json {TOKEN}")
        except ValueError:
            raise CanvasResponseError("Canvas answered a body that is not JSON.") from None

    with pytest.raises(CanvasResponseError) as raised:
        decode()

    assert redactor.error(raised.value).__context__ is None


def test_objects_that_are_not_json_like_are_returned_as_they_are(redactor: Redactor) -> None:
    grant = object()
    assert redactor.value(grant) is grant
    assert redactor.value({"grant": grant})["grant"] is grant
