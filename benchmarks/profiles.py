"""Benchmark sizes: the full run (``make bench``) and ``--quick`` (a smoke run under two minutes)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ScaleSize:
    """One point of the triggerer-scale sweep.

    ``poll_interval`` grows with ``n`` so that the request rate stays within what one loaded
    2-core machine can serve to every style (the simulator and the TLS front share it).
    """

    n: int
    poll_interval: float


@dataclass(frozen=True)
class ShortWaits:
    """The short-wait benchmark's size: ``n`` waits of about three polls each, ``poll_interval`` apart."""

    n: int
    poll_interval: float


@dataclass(frozen=True)
class Profile:
    """How big each benchmark is."""

    name: str
    scale: tuple[ScaleSize, ...]
    #: ``tls`` (HTTPS through the TLS front, as Canvas is reached) and/or ``http`` (plain, loopback).
    transports: tuple[str, ...]
    throttle_waits: int
    throttle_poll_interval: float
    throttle_latency: float
    throttle_lead: float
    throttle_spread: float
    throttle_grace: float
    slot_waits: int
    slot_poll_interval: float
    slot_lead: float
    slot_spread: float
    hook_seconds: float
    hook_rounds: int
    short_waits: ShortWaits
    #: Sizes of the SIS-import wait (``--only sis``): the generic trigger beside the Progress one.
    sis_scale: tuple[ScaleSize, ...] = (ScaleSize(1000, 5.0),)
    #: Rounds of the three styles; two give a same-trigger spread to judge the SIS/Progress ratio by.
    sis_rounds: int = 2


FULL = Profile(
    name="full",
    scale=(ScaleSize(100, 2.0), ScaleSize(1000, 5.0), ScaleSize(5000, 20.0)),
    transports=("tls", "http"),
    throttle_waits=1000,
    throttle_poll_interval=10.0,
    throttle_latency=0.05,
    throttle_lead=15.0,
    throttle_spread=15.0,
    throttle_grace=30.0,
    slot_waits=200,
    slot_poll_interval=5.0,
    slot_lead=5.0,
    slot_spread=30.0,
    hook_seconds=5.0,
    hook_rounds=3,
    short_waits=ShortWaits(1000, 5.0),
)

QUICK = Profile(
    name="quick",
    scale=(ScaleSize(50, 1.0), ScaleSize(200, 1.0)),
    transports=("tls",),
    throttle_waits=100,
    throttle_poll_interval=2.0,
    throttle_latency=0.05,
    throttle_lead=2.0,
    throttle_spread=2.0,
    throttle_grace=6.0,
    slot_waits=20,
    slot_poll_interval=0.5,
    slot_lead=0.5,
    slot_spread=2.0,
    hook_seconds=1.0,
    hook_rounds=1,
    short_waits=ShortWaits(100, 1.0),
    sis_scale=(ScaleSize(50, 1.0),),
    sis_rounds=1,
)

#: Issue 10's figures only (``--profile targets --only scale short``): the steady state at the
#: largest size over HTTPS, and the short waits; the full sweep takes about 16 minutes.
TARGETS = replace(
    FULL, name="targets", scale=(ScaleSize(5000, 20.0),), transports=("tls",), sis_scale=(ScaleSize(5000, 20.0),)
)

PROFILES = {profile.name: profile for profile in (FULL, QUICK, TARGETS)}
