"""The plans of the two kinds of call a hook makes: a Canvas API call and a token-endpoint call.

Both run on the same drivers (:mod:`airflow_provider_canvas_progress.hooks.drivers`); they differ
only in what the plan is told: the API call is paced, authenticated, retried and renewable; the
token call carries the credentials in its form, is neither paced nor retried itself (the API call
it serves retries it, as one of its attempts) and reads the answer as a grant.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from airflow_provider_canvas_progress.core.auth import (
    CanvasTokenUnavailableError,
    check_token_reaches,
    refused_after_renewal,
    token_request,
)
from airflow_provider_canvas_progress.core.errors import CanvasError
from airflow_provider_canvas_progress.core.grants import AccessGrant, parse_token_answer
from airflow_provider_canvas_progress.core.plan import CallPlan, Limits
from airflow_provider_canvas_progress.core.protocol import CanvasRequest, CanvasResponse, interpret_response
from airflow_provider_canvas_progress.core.retry import RetryPolicy
from airflow_provider_canvas_progress.core.settings import CanvasSettings
from airflow_provider_canvas_progress.hooks.gates import TokenGate
from airflow_provider_canvas_progress.hooks.tokens import TokenSource
from airflow_provider_canvas_progress.hooks.transport import transport_error

Reader = Callable[[CanvasResponse], Any]


def label_of(settings: CanvasSettings) -> str:
    """``Canvas connection 'id'`` for messages."""
    return f"Canvas connection {settings.conn_id!r}" if settings.conn_id else "The Canvas connection"


def api_plan(
    settings: CanvasSettings,
    call: CanvasRequest,
    gate: TokenGate,
    *,
    read: Reader | None = None,
    max_attempts: int | None = None,
) -> CallPlan:
    """The plan of one Canvas API call on this connection (``read`` defaults to the decoded JSON).

    :raises CanvasConfigurationError: the connection's kind of token cannot reach this endpoint.
    """
    check_token_reaches(settings.auth_type, call.path, label=label_of(settings), call=call.label)
    policy = RetryPolicy.from_settings(settings)
    if max_attempts is not None:
        policy = replace(policy, max_attempts=max_attempts)
    credentials = settings.credentials
    refused_again = (
        partial(refused_after_renewal, label=label_of(settings), client_id=credentials.client_id)
        if credentials is not None
        else None
    )
    return CallPlan(
        call,
        policy=policy,
        limits=Limits.of(settings),
        read=read if read is not None else partial(interpret_response, call),
        no_answer=partial(transport_error, call, settings),
        pacer=gate.pacer,
        renewable=credentials is not None,
        refused_again=refused_again,
        redactor=settings.redactor,
    )


def token_plan(settings: CanvasSettings, source: TokenSource) -> CallPlan:
    """The plan of one token-endpoint call for ``source``'s credentials: no token, no pacing, one attempt."""
    request = token_request(source.credentials, now=time.time(), jti=uuid.uuid4().hex, signing_key=source.signing_key)
    call = CanvasRequest(
        method="POST",
        url=request.url,
        path=request.path,
        data=list(request.form),
        headers=dict(request.headers),
        idempotent=False,  # a refresh may invalidate the token before it; never sent twice blindly
    )

    def unavailable(reason: str, connected: bool) -> CanvasError:
        return CanvasTokenUnavailableError(
            f"{request.label} to {request.url} got no answer ({reason}): no access token, so the Canvas call "
            "was not sent. Retried; if it persists, check the token_url, the network and Canvas's status page.",
            method="POST",
            path=request.path,
        )

    def grant(response: CanvasResponse) -> AccessGrant:
        return parse_token_answer(
            source.credentials,
            response.status,
            response.body,
            now=source.clock(),
            label=label_of(settings),
            location=response.header("Location"),
        )

    return CallPlan(
        call,
        policy=RetryPolicy(1, 0.0, 0.0),
        limits=Limits.of(settings),
        read=grant,
        no_answer=unavailable,
        authenticated=False,
        redactor=settings.redactor,
    )
