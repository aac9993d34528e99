"""The two drivers of a :class:`~airflow_provider_canvas_progress.core.plan.CallPlan`: requests and aiohttp.

A driver does what the plan says -- sleep, get a token, send -- and reports back; it decides
nothing. Both log the same lines (the pacer's pauses, each retry with its attempt number) from
:func:`narrate`, and finish the same way (:func:`finish`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import requests

from airflow_provider_canvas_progress.core.errors import CanvasError
from airflow_provider_canvas_progress.core.plan import Backoff, CallPlan, Done, Fail, NeedToken, Outcome, Pause, Step
from airflow_provider_canvas_progress.hooks import transport
from airflow_provider_canvas_progress.hooks.gates import TokenGate

#: Gets the token a :class:`NeedToken` asks for (None for calls that carry no token).
TokenGetter = Callable[[NeedToken], str] | None
AsyncTokenGetter = Callable[[NeedToken], Awaitable[str]] | None


def run(plan: CallPlan, session: requests.Session, verify: bool | str, token: TokenGetter, log: Any) -> Any:
    """Run ``plan`` with requests (workers): the call's value, or its :class:`CanvasError` raised."""
    while not isinstance(step := plan.next_step(), (Done, Fail)):
        narrate(plan, step, log)
        outcome: Outcome = None
        if isinstance(step, (Pause, Backoff)):
            time.sleep(step.seconds)
        elif isinstance(step, NeedToken):
            outcome = _get(token, step)
        else:
            outcome = transport.send(session, step, verify)
        plan.feed(step, outcome)
    return finish(plan, step, log)


async def arun(
    plan: CallPlan, session: aiohttp.ClientSession, gate: TokenGate | None, token: AsyncTokenGetter, log: Any
) -> Any:
    """Run ``plan`` with aiohttp (triggerer); pauses and sends hold a place under the token's in-flight cap."""
    while not isinstance(step := plan.next_step(), (Done, Fail)):
        narrate(plan, step, log)
        outcome: Outcome = None
        if isinstance(step, Backoff):
            await asyncio.sleep(step.seconds)
        elif isinstance(step, NeedToken):
            outcome = await _aget(token, step)
        else:
            async with gate.semaphore() if gate is not None else contextlib.nullcontext():
                if isinstance(step, Pause):
                    await asyncio.sleep(step.seconds)
                else:
                    outcome = await transport.asend(session, step)
        plan.feed(step, outcome)
    return finish(plan, step, log)


def narrate(plan: CallPlan, step: Step, log: Any) -> None:
    """The log lines of a step, the same on both paths (and the plan's warnings about answers)."""
    while plan.warnings:
        log.warning("%s", plan.warnings.pop(0))
    if isinstance(step, Pause):
        log.info("Canvas rate limit is low; pausing %.1f s before %s.", step.seconds, plan.call.label)
    elif isinstance(step, Backoff):
        log.warning("%s: %s", plan.call.label, step.line)


def finish(plan: CallPlan, step: Step, log: Any) -> Any:
    """The value of a finished plan, or its error raised."""
    narrate(plan, step, log)
    assert isinstance(step, (Done, Fail))
    if isinstance(step, Fail):
        raise step.error
    return step.value


def _get(token: TokenGetter, step: NeedToken) -> str | CanvasError:
    assert token is not None, "a plan that sends no token never asks for one"
    try:
        return token(step)
    except CanvasError as error:  # no token for now: the plan decides whether to try again
        return error


async def _aget(token: AsyncTokenGetter, step: NeedToken) -> str | CanvasError:
    assert token is not None, "a plan that sends no token never asks for one"
    try:
        return await token(step)
    except CanvasError as error:
        return error
