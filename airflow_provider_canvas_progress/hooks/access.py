"""The access token a Canvas call sends: the connection's own, or its developer key's current one.

For developer-key connections the token comes from the process's
:class:`~airflow_provider_canvas_progress.hooks.tokens.TokenSource`, which asks Canvas's token
endpoint for a new one when due -- through the same drivers and limits as every other call
(:func:`~airflow_provider_canvas_progress.hooks.plans.token_plan`). The sync and async variants
differ only in the driver and the source's lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import requests

from airflow_provider_canvas_progress.core.grants import AccessGrant
from airflow_provider_canvas_progress.core.plan import NeedToken
from airflow_provider_canvas_progress.core.settings import CanvasSettings
from airflow_provider_canvas_progress.hooks import drivers
from airflow_provider_canvas_progress.hooks.plans import token_plan
from airflow_provider_canvas_progress.hooks.tokens import TokenSource, token_source_for


@dataclass(frozen=True)
class Voice:
    """Where a hook reports: its logger, and the secrets masker each new token is registered with."""

    log: Any
    mask: Callable[[str], None]


def source_for(settings: CanvasSettings, step: NeedToken | None, voice: Voice) -> TokenSource:
    """The connection's token source, having forgotten the token Canvas just refused (if any)."""
    source = token_source_for(settings)
    refusal = step.refusal if step is not None else None
    if step is not None and step.refused is not None and refusal is not None:
        source.invalidate(step.refused)
        voice.log.info(
            "Canvas refused the access token for %s %s (%s); getting a new one and trying once more.",
            refusal.method,
            refusal.path,
            refusal.canvas_message,
        )
    return source


def grant(
    settings: CanvasSettings, session: requests.Session, voice: Voice, step: NeedToken | None = None
) -> AccessGrant:
    """The current grant of a developer-key connection, obtained with requests when due."""
    return source_for(settings, step, voice).get(
        lambda src: granted(
            drivers.run(token_plan(settings, src), session, settings.verify, None, voice.log), src, voice
        )
    )


async def agrant(
    settings: CanvasSettings, session: aiohttp.ClientSession, voice: Voice, step: NeedToken | None = None
) -> AccessGrant:
    """:func:`grant` with aiohttp, on the caller's session."""

    async def fetch(src: TokenSource) -> AccessGrant:
        return granted(await drivers.arun(token_plan(settings, src), session, None, None, voice.log), src, voice)

    return await source_for(settings, step, voice).aget(fetch)


def token(settings: CanvasSettings, session: requests.Session, voice: Voice, step: NeedToken) -> str:
    """The token to send (sync)."""
    return settings.token if settings.credentials is None else grant(settings, session, voice, step).access_token


async def atoken(settings: CanvasSettings, session: aiohttp.ClientSession, voice: Voice, step: NeedToken) -> str:
    """The token to send (async)."""
    if settings.credentials is None:
        return settings.token
    return (await agrant(settings, session, voice, step)).access_token


def granted(new: AccessGrant, source: TokenSource, voice: Voice) -> AccessGrant:
    """Register a new token with Airflow's secrets masker and say where it came from."""
    voice.mask(new.access_token)
    voice.log.info(
        "Obtained a Canvas access token from %s %s (#%d in this process).",
        source.credentials.token_url,
        new.describe(),
        source.issued + 1,
    )
    return new
