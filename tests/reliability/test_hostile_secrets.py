"""Secrets echoed back: whatever Canvas or a proxy sends back with the token in it -- verbatim,
URL-encoded, as base64 of ``user:token``, JSON-escaped -- in an error body, an HTML title, a
Progress message or results, a user name or a token endpoint's error, none of it reaches
exception text, trigger events, XCom values, ``test_connection`` messages or logs."""

from __future__ import annotations

import asyncio
import json
import pickle
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest

from airflow_provider_canvas_progress.core.events import WaitStatus
from airflow_provider_canvas_progress.operators.jobs import CanvasStartJobOperator
from airflow_provider_canvas_progress.operators.progress import CancelProgressOperator
from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor
from airflow_provider_canvas_progress.sensors.reports import CanvasAccountReportSensor
from airflow_provider_canvas_progress.sensors.sis import CanvasSisImportSensor
from airflow_provider_canvas_progress.triggers.progress import CanvasProgressTrigger
from tests.reliability.conftest import Connect, set_connection
from tests.reliability.hostile import (
    PATHS,
    FakeTI,
    HostileServer,
    Reply,
    Seen,
    airflow_masks,
    echo,
    echo_forms,
    failure_of,
    json_answer,
    leaks,
    progress_json,
    raw,
    read_progress,
    redirect,
    texts_of,
)

PROGRESS = r"^/api/v1/progress/"
FORMS = list(echo_forms("x"))


def error_texts(call: Callable[[], Any]) -> list[str]:
    error, _ = failure_of(call)
    assert error is not None, "the call was expected to fail"
    return [*texts_of(error), pickle.dumps(error).decode("latin-1")]


def payload_text(value: Any) -> str:
    return json.dumps(value, default=str)


async def first_event(trigger: CanvasProgressTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


# -- error text -----------------------------------------------------------------------------------


ERROR_ECHOES = [("sync", 401, form) for form in FORMS] + [("async", 403, "verbatim"), ("async", 403, "basic header")]


@pytest.mark.parametrize(("path", "status", "form"), ERROR_ECHOES, ids=[f"{p}-{s}-{f}" for p, s, f in ERROR_ECHOES])
def test_a_token_echoed_in_an_error_body_stays_out_of_the_exception(
    server: HostileServer, connect: Connect, token: str, path: str, status: int, form: str
) -> None:
    message = lambda t: {"errors": [{"message": f"Invalid access token: {echo_forms(t)[form]}"}]}  # noqa: E731
    server.on(PROGRESS, echo(message, status=status))

    texts = error_texts(lambda: read_progress(path, connect()))

    assert leaks(texts, token) == []


@pytest.mark.parametrize("path", PATHS)
def test_a_token_echoed_in_a_proxys_html_title_stays_out_of_the_exception(
    server: HostileServer, connect: Connect, token: str, path: str
) -> None:
    page = lambda t: f"<html><head><title>502 for Bearer {t}</title></head><body>{t}</body></html>"  # noqa: E731
    server.on(PROGRESS, echo(page, status=502, content_type="text/html"))

    texts = error_texts(lambda: read_progress(path, connect()))

    assert leaks(texts, token) == []


@pytest.mark.parametrize("path", PATHS)
def test_a_token_echoed_in_a_200_body_that_is_not_json_stays_out_of_the_exception(
    server: HostileServer, connect: Connect, token: str, path: str
) -> None:
    server.on(PROGRESS, echo(lambda t: f"debug: Authorization=Bearer {t}", content_type="text/plain"))

    texts = error_texts(lambda: read_progress(path, connect()))

    assert leaks(texts, token) == []


def test_a_token_echoed_url_encoded_in_a_validation_message_stays_out_of_the_exception(
    server: HostileServer, connect: Connect, token: str
) -> None:
    server.on(PROGRESS, echo(lambda t: {"message": f"bad param {echo_forms(t)['url-encoded']}"}, status=422))

    texts = error_texts(lambda: read_progress("sync", connect()))

    assert leaks(texts, token) == []


def test_a_token_echoed_in_the_canvas_message_attribute_is_redacted_there_too(
    server: HostileServer, connect: Connect, token: str
) -> None:
    server.on(PROGRESS, echo(lambda t: {"errors": [{"message": t}]}, status=404))

    error, _ = failure_of(lambda: read_progress("sync", connect()))

    assert token not in str(getattr(error, "canvas_message", ""))


def test_a_token_in_a_redirects_location_is_not_quoted(server: HostileServer, connect: Connect, token: str) -> None:
    server.on(PROGRESS, redirect(f"https://sso.example/login?access_token={token}"))

    texts = error_texts(lambda: read_progress("sync", connect()))

    assert leaks(texts, token) == []


def test_a_token_echoed_by_a_retried_5xx_stays_out_of_the_retry_log_lines(
    server: HostileServer, connect: Connect, token: str, emitted: Callable[[], str]
) -> None:
    # The base64 form: Airflow's masker knows the token verbatim only, so this tests our own redaction.
    body = lambda t: {"errors": [{"message": f"upstream said {echo_forms(t)['basic header']}"}]}  # noqa: E731
    server.on(PROGRESS, echo(body, status=503))

    texts = error_texts(lambda: read_progress("sync", connect(max_attempts=2)))

    assert leaks([*texts, emitted()], token) == []


# -- Progress messages, results and user names ----------------------------------------------------------


def test_a_token_in_a_failed_progress_message_stays_out_of_the_task_failure_and_its_xcom(
    server: HostileServer, connect: Connect, token: str
) -> None:
    server.on(PROGRESS, echo(lambda t: progress_json(5, "failed", message=f"job died: {t}")))
    connect()
    ti = FakeTI()

    texts = error_texts(lambda: CanvasProgressSensor(task_id="wait", progress_id=5).poke({"ti": ti}))

    assert leaks([*texts, payload_text(ti.pushed)], token) == []


@pytest.mark.parametrize("form", ["verbatim", "basic header"])
def test_a_token_in_a_completed_progress_message_stays_out_of_the_sensors_return_value(
    server: HostileServer, connect: Connect, token: str, form: str
) -> None:
    server.on(PROGRESS, echo(lambda t: progress_json(5, message=f"done for {echo_forms(t)[form]}")))
    connect()
    ti = FakeTI()

    done = CanvasProgressSensor(task_id="wait", progress_id=5).poke({"ti": ti})

    assert done.is_done
    assert leaks([payload_text(done.xcom_value), payload_text(ti.pushed)], token) == []


def test_a_token_in_progress_results_stays_out_of_the_xcom(server: HostileServer, connect: Connect, token: str) -> None:
    server.on(PROGRESS, echo(lambda t: progress_json(5, results={"echo": {"headers": [f"Bearer {t}"]}})))
    connect()
    ti = FakeTI()

    done = CanvasProgressSensor(task_id="wait", progress_id=5).poke({"ti": ti})

    assert leaks([payload_text(done.xcom_value), payload_text(ti.pushed)], token) == []


def test_a_token_in_a_started_jobs_progress_stays_out_of_the_operators_xcom(
    server: HostileServer, connect: Connect, token: str
) -> None:
    server.on(r"^/api/v1/accounts/1/courses", echo(lambda t: progress_json(9, "queued", message=t)))
    connect()
    ti = FakeTI()
    task = CanvasStartJobOperator(task_id="start", endpoint="/api/v1/accounts/1/courses", method="PUT", data={"x": 1})

    returned = task.execute({"ti": ti})

    assert leaks([payload_text(returned), payload_text(ti.pushed)], token) == []


def test_a_token_echoed_by_a_refused_cancel_stays_out_of_the_cancel_operators_failure(
    server: HostileServer, connect: Connect, token: str
) -> None:
    server.on(PROGRESS, json_answer(progress_json(5, "running")))
    server.on(r"/cancel$", echo(lambda t: {"errors": [{"message": f"user not authorized for {t}"}]}, status=401))
    connect()

    texts = error_texts(lambda: CancelProgressOperator(task_id="cancel", progress_id=5).execute({"ti": FakeTI()}))

    assert leaks(texts, token) == []


@pytest.mark.parametrize("form", ["verbatim", "url-encoded", "basic header", "json-escaped"])
def test_a_token_as_the_users_name_stays_out_of_the_test_connection_message(
    server: HostileServer, connect: Connect, token: str, form: str
) -> None:
    server.on(r"^/api/v1/users/self", echo(lambda t: {"id": 1, "name": echo_forms(t)[form]}))

    ok, message = connect().test_connection()

    assert ok is True
    assert leaks([message], token) == []


def test_a_token_echoed_by_a_refusal_stays_out_of_the_test_connection_message(
    server: HostileServer, connect: Connect, token: str
) -> None:
    server.on(r"^/api/v1/users/self", echo(lambda t: {"errors": [{"message": f"bad token {t}"}]}, status=401))

    ok, message = connect().test_connection()

    assert ok is False
    assert leaks([message], token) == []


# -- developer-key secrets at the token endpoint ---------------------------------------------------------


@pytest.mark.parametrize("field", ["client_secret", "refresh_token"])
def test_a_developer_key_secret_echoed_by_the_token_endpoint_stays_out_of_the_exception(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    secrets = {"client_secret": "cs-" + "s" * 40, "refresh_token": "rt-" + "r" * 40}

    async def refuse(seen: Seen, reply: Reply) -> bool:
        sent = dict(parse_qsl(seen.body.decode()))
        body = {"error": "invalid_grant", "error_description": f"{field} {sent.get(field)} is not valid"}
        return await raw(400, json.dumps(body))(seen, reply)

    server.on(r"^/login/oauth2/token", refuse)
    extras = {"auth_type": "oauth2_refresh", "client_id": "10000000000001", **secrets, "max_attempts": 1}
    set_connection(monkeypatch, "canvas_default", host=server.base_url, password=None, extras=extras)
    from airflow_provider_canvas_progress.hooks.canvas import CanvasHook

    texts = error_texts(lambda: CanvasHook().request("GET", "users/self"))

    assert leaks(texts, secrets[field]) == []


# -- trigger events --------------------------------------------------------------------------------------


def test_a_token_in_the_final_progress_message_stays_out_of_the_trigger_event(
    server: HostileServer, connect: Connect, token: str
) -> None:
    server.on(PROGRESS, echo(lambda t: progress_json(5, "failed", message=f"crashed with {t}")))
    connect()

    payload = asyncio.run(first_event(CanvasProgressTrigger(progress_id="5", poll_interval=1.0)))

    assert payload["status"] == WaitStatus.ENDED.value
    assert leaks([payload_text(payload)], token) == []


@pytest.mark.parametrize("form", ["verbatim", "url-encoded", "basic header"])
def test_a_token_echoed_by_a_refusal_stays_out_of_the_trigger_error_event(
    server: HostileServer, connect: Connect, token: str, form: str
) -> None:
    server.on(PROGRESS, echo(lambda t: {"errors": [{"message": f"no: {echo_forms(t)[form]}"}]}, status=401))
    connect()

    payload = asyncio.run(first_event(CanvasProgressTrigger(progress_id="5", poll_interval=1.0)))

    assert payload["status"] == WaitStatus.ERROR.value
    assert leaks([payload_text(payload)], token) == []


def test_a_token_echoed_by_a_failing_poll_stays_out_of_the_triggers_warning_lines(
    server: HostileServer, connect: Connect, token: str, emitted: Callable[[], str]
) -> None:
    server.on(PROGRESS, echo(lambda t: {"errors": [{"message": echo_forms(t)["basic header"]}]}, status=500))
    connect()
    trigger = CanvasProgressTrigger(progress_id="5", poll_interval=1.0, max_consecutive_failures=2)

    payload = asyncio.run(first_event(trigger))

    assert leaks([payload_text(payload), emitted()], token) == []


# -- the masker on the worker that resumes after a deferral -----------------------------------------------


def ended_event(progress_id: str) -> dict[str, Any]:
    progress = progress_json(progress_id)
    return {
        "version": 1,
        "status": "ended",
        "progress_id": str(progress_id),
        "progress": {**progress, "id": str(progress_id)},
        "message": "",
        "error_type": None,
        "elapsed": 1.0,
        "retryable": False,
    }


def test_the_sensor_resuming_after_a_deferral_registers_the_token_with_airflows_masker(
    connect: Connect, token: str
) -> None:
    connect()
    assert not airflow_masks(token)

    CanvasProgressSensor(task_id="wait", progress_id=5, deferrable=True).execute_complete(
        {"ti": FakeTI()}, event=ended_event("5")
    )

    assert airflow_masks(token)


def test_the_job_operator_resuming_after_a_deferral_registers_the_token_with_airflows_masker(
    connect: Connect, token: str
) -> None:
    connect()
    assert not airflow_masks(token)
    task = CanvasStartJobOperator(task_id="start", endpoint="/api/v1/accounts/1/courses", wait_for_completion=True)

    task.execute_complete({"ti": FakeTI()}, event=ended_event("5"), progress_id="5")

    assert airflow_masks(token)


def test_a_trigger_error_event_written_by_an_older_triggerer_is_redacted_when_the_task_resumes(
    connect: Connect, token: str
) -> None:
    connect()
    event = {**ended_event("5"), "status": "error", "progress": None, "message": f"Canvas said {token}"}
    started = time.monotonic()

    texts = error_texts(
        lambda: CanvasProgressSensor(task_id="wait", progress_id=5, deferrable=True).execute_complete(
            {"ti": FakeTI()}, event=event
        )
    )

    assert time.monotonic() - started < 30
    assert leaks(texts, token) == []


@pytest.mark.parametrize(
    ("make_sensor", "ref"),
    [
        (
            lambda: CanvasSisImportSensor(task_id="wait", account_id=1, sis_import_id=7, deferrable=True),
            "sis_import:1/7",
        ),
        (
            lambda: CanvasAccountReportSensor(
                task_id="wait", account_id=1, report="provisioning_csv", report_id=7, deferrable=True
            ),
            "account_report:1/provisioning_csv/7",
        ),
    ],
    ids=["SIS import sensor", "account report sensor"],
)
def test_a_job_sensor_resuming_registers_the_token_and_redacts_an_error_event_that_carries_it(
    connect: Connect, token: str, make_sensor: Callable[[], Any], ref: str
) -> None:
    connect()
    assert not airflow_masks(token)
    event = {**ended_event("7"), "ref": ref, "status": "error", "progress": None, "message": f"Canvas said {token}"}

    texts = error_texts(lambda: make_sensor().execute_complete({"ti": FakeTI()}, event=event))

    assert airflow_masks(token)
    assert leaks(texts, token) == []
