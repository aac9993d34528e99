"""Specification of one Canvas call's life (:class:`CallPlan`), with no network and no sleeps.

Each test plays a driver: it asks the plan for its next step, performs it by hand (an answer, a
missing answer, a token) and checks what the plan decides next.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_canvas_progress.core.errors import (
    CanvasAuthError,
    CanvasConnectError,
    CanvasError,
    CanvasNotFoundError,
    CanvasServerError,
    CanvasTransportError,
)
from airflow_provider_canvas_progress.core.plan import (
    Backoff,
    CallPlan,
    Done,
    Fail,
    Limits,
    NeedToken,
    NoAnswer,
    Pause,
    Send,
)
from airflow_provider_canvas_progress.core.protocol import (
    CanvasRequest,
    CanvasResponse,
    build_request,
    interpret_response,
)
from airflow_provider_canvas_progress.core.retry import THROTTLE_MIN_WAIT, RatePacer, RetryPolicy
from airflow_provider_canvas_progress.core.settings import CanvasSettings

TOKEN = "7~plan-token"
WWW = {"WWW-Authenticate": 'Bearer realm="canvas-lms"'}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> CanvasResponse:
    raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    return CanvasResponse(status, headers or {}, raw)


def no_answer(call: CanvasRequest) -> Any:
    def build(reason: str, connected: bool) -> CanvasError:
        kind = CanvasTransportError if connected else CanvasConnectError
        return kind(f"{call.label} got no answer ({reason}).", method=call.method, path=call.path)

    return build


def make_plan(
    settings: CanvasSettings,
    method: str = "GET",
    *,
    attempts: int = 4,
    pacer: RatePacer | None = None,
    renewable: bool = False,
    refused_again: Any = None,
) -> CallPlan:
    call = build_request(settings, method, "/api/v1/progress/1")
    return CallPlan(
        call,
        policy=RetryPolicy(attempts, 1.0, 8.0),
        limits=Limits(5.0, 1024),
        read=lambda response: interpret_response(call, response),
        no_answer=no_answer(call),
        pacer=pacer if pacer is not None else RatePacer(200, clock=Clock()),
        renewable=renewable,
        refused_again=refused_again,
        jitter=lambda: 0.0,
    )


def to_send(plan: CallPlan) -> Send:
    """Play the steps up to the next send: give the token, skip pauses."""
    while True:
        step = plan.next_step()
        if isinstance(step, NeedToken):
            plan.feed(step, TOKEN)
        elif isinstance(step, (Pause, Backoff)):
            plan.feed(step, None)
        else:
            assert isinstance(step, Send), step
            return step


def test_a_successful_call_asks_for_the_token_sends_once_and_is_done(settings: CanvasSettings) -> None:
    plan = make_plan(settings)

    assert plan.next_step() == NeedToken()
    plan.token_ready(TOKEN)
    send = plan.next_step()
    assert isinstance(send, Send)
    assert send.token == TOKEN
    assert send.limits == Limits(5.0, 1024)
    plan.answered(answer(200, {"id": 1}))

    assert plan.next_step() == Done({"id": 1})


def test_a_transient_failure_backs_off_on_the_capped_doubling_schedule_then_gives_up(settings: CanvasSettings) -> None:
    plan = make_plan(settings, attempts=5)
    waits = []
    for _ in range(4):
        to_send(plan)
        plan.answered(answer(503))
        step = plan.next_step()
        assert isinstance(step, Backoff)
        waits.append(step.seconds)

    to_send(plan)
    plan.answered(answer(503))
    final = plan.next_step()

    assert waits == [1.0, 2.0, 4.0, 8.0]  # initial 1 s doubling, capped at 8 s (jitter 0 here)
    assert isinstance(final, Fail)
    assert isinstance(final.error, CanvasServerError)
    assert plan.attempt == 5


def test_each_backoff_carries_the_log_line_with_attempt_number_and_wait(settings: CanvasSettings) -> None:
    plan = make_plan(settings, attempts=3)
    to_send(plan)
    plan.answered(answer(503))

    step = plan.next_step()

    assert isinstance(step, Backoff)
    assert step.line.startswith("Attempt 1/3 failed: Canvas answered GET /api/v1/progress/1 with 503")
    assert step.line.endswith("Trying again in 1.0 s.")


def test_a_backoff_is_handed_out_once(settings: CanvasSettings) -> None:
    plan = make_plan(settings)
    to_send(plan)
    plan.answered(answer(503))

    assert isinstance(plan.next_step(), Backoff)
    assert isinstance(plan.next_step(), NeedToken)  # each attempt asks for the (maybe renewed) token again


def test_a_throttled_answer_waits_at_least_the_drain_floor_and_holds_the_pacer(settings: CanvasSettings) -> None:
    clock = Clock()
    pacer = RatePacer(200, clock=clock)
    plan = make_plan(settings, pacer=pacer)
    to_send(plan)
    plan.answered(answer(403, {"errors": [{"message": "Rate Limit Exceeded"}]}))

    step = plan.next_step()

    assert isinstance(step, Backoff)
    assert step.seconds == THROTTLE_MIN_WAIT == 10.0
    assert pacer.delay() == THROTTLE_MIN_WAIT


def test_a_low_bucket_makes_the_next_send_pause_first(settings: CanvasSettings) -> None:
    clock = Clock()
    pacer = RatePacer(200, clock=clock)
    pacer.observe(100)  # 100 below the low water: (200 - 100) / 10 = 10 s
    plan = make_plan(settings, pacer=pacer)
    plan.feed(plan.next_step(), TOKEN)

    assert plan.next_step() == Pause(10.0)
    assert isinstance(plan.next_step(), Send)  # one look at the pacer per send


@pytest.mark.parametrize(("header", "longest"), [("-1000000", 40.0), ("-1e308", 40.0), ("-200", 40.0)])
def test_a_hostile_rate_limit_header_never_pauses_beyond_the_physical_range(
    settings: CanvasSettings, header: str, longest: float
) -> None:
    pacer = RatePacer(200, clock=Clock())
    plan = make_plan(settings, pacer=pacer)
    to_send(plan)
    plan.answered(answer(200, {"id": 1}, {"X-Rate-Limit-Remaining": header}))

    assert pacer.delay() <= longest  # (200 + 200) / 10 at the very most
    assert plan.next_step() == Done({"id": 1})


def test_an_out_of_range_rate_limit_header_is_warned_about(settings: CanvasSettings) -> None:
    plan = make_plan(settings)
    to_send(plan)
    plan.answered(answer(200, {}, {"X-Rate-Limit-Remaining": "-1000000"}))

    assert len(plan.warnings) == 1
    assert "outside Canvas's range; read as -200" in plan.warnings[0]


def test_a_job_starting_call_is_not_sent_again_once_it_may_have_reached_canvas(settings: CanvasSettings) -> None:
    plan = make_plan(settings, "POST")
    to_send(plan)
    plan.no_answer("timed out after 5 s", connected=True)

    step = plan.next_step()

    assert isinstance(step, Fail)
    assert isinstance(step.error, CanvasTransportError)


@pytest.mark.parametrize("failure", ["no connection", "throttled"])
def test_a_job_starting_call_is_retried_when_canvas_cannot_have_run_it(settings: CanvasSettings, failure: str) -> None:
    plan = make_plan(settings, "POST")
    send = to_send(plan)
    if failure == "no connection":
        plan.feed(send, NoAnswer("ConnectionRefusedError", connected=False))
    else:
        plan.answered(answer(429, {"errors": [{"message": "Rate Limit Exceeded"}]}))

    assert isinstance(plan.next_step(), Backoff)


def test_a_job_starting_call_is_not_retried_after_a_server_error(settings: CanvasSettings) -> None:
    plan = make_plan(settings, "PUT")
    to_send(plan)
    plan.answered(answer(502))

    assert isinstance(plan.next_step(), Fail)


def test_client_errors_fail_at_once(settings: CanvasSettings) -> None:
    plan = make_plan(settings)
    to_send(plan)
    plan.answered(answer(404, {"errors": [{"message": "The specified resource does not exist."}]}))

    step = plan.next_step()
    assert isinstance(step, Fail)
    assert isinstance(step.error, CanvasNotFoundError)
    assert plan.attempt == 1


def test_a_refused_token_is_renewed_once_and_resent_within_the_same_attempt(settings: CanvasSettings) -> None:
    plan = make_plan(settings, "POST", renewable=True)
    to_send(plan)
    plan.answered(answer(401, {"errors": [{"message": "Invalid access token."}]}, WWW))

    step = plan.next_step()
    assert isinstance(step, NeedToken)
    assert step.refused == TOKEN
    assert isinstance(step.refusal, CanvasAuthError)
    plan.token_ready("7~new")
    resend = plan.next_step()
    assert isinstance(resend, Send)
    assert resend.token == "7~new"
    assert plan.attempt == 1


def test_a_second_refusal_right_after_renewal_is_explained_and_final(settings: CanvasSettings) -> None:
    explained = CanvasAuthError("refused even with a new token")
    plan = make_plan(settings, renewable=True, refused_again=lambda error: explained)
    refusal = answer(401, {"errors": [{"message": "Invalid access token."}]}, WWW)
    to_send(plan)
    plan.answered(refusal)
    to_send(plan)
    plan.answered(refusal)

    assert plan.next_step() == Fail(explained)


def test_a_plain_token_connection_never_renews(settings: CanvasSettings) -> None:
    plan = make_plan(settings, renewable=False)
    to_send(plan)
    plan.answered(answer(401, {"errors": [{"message": "Invalid access token."}]}, WWW))

    step = plan.next_step()
    assert isinstance(step, Fail)
    assert isinstance(step.error, CanvasAuthError)


def test_no_token_for_now_is_a_failed_attempt_like_any_other(settings: CanvasSettings) -> None:
    plan = make_plan(settings)
    plan.feed(plan.next_step(), CanvasConnectError("token endpoint down"))

    assert isinstance(plan.next_step(), Backoff)


def test_a_plan_without_authentication_sends_no_token(settings: CanvasSettings) -> None:
    call = build_request(settings, "GET", "/login/oauth2/token")
    plan = CallPlan(
        call, policy=RetryPolicy(1, 0, 0), limits=Limits(1.0), no_answer=no_answer(call), authenticated=False
    )

    step = plan.next_step()

    assert isinstance(step, Send)
    assert step.token is None
