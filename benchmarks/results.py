"""Everything one ``python -m benchmarks`` run measured, and its raw form on disk."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from benchmarks.hook_throughput import ClientResult
from benchmarks.profiles import Profile
from benchmarks.wait_run import WaitRun
from benchmarks.worker_slots import ModeResult, SlotUse


@dataclass
class Results:
    """Everything one ``python -m benchmarks`` run measured."""

    profile: Profile
    machine: dict[str, Any]
    load: dict[str, Any] = field(default_factory=dict)
    scale: list[WaitRun] = field(default_factory=list)
    sis_wait: list[WaitRun] = field(default_factory=list)
    short_waits: list[WaitRun] = field(default_factory=list)
    throttle: list[WaitRun] = field(default_factory=list)
    slots: list[ModeResult] = field(default_factory=list)
    hook: list[ClientResult] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)
    started: str = field(
        default_factory=lambda: datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    )

    def to_raw(self) -> dict[str, Any]:
        """Everything measured, raw samples included, so the page can be rewritten without re-running."""
        return {
            "profile": self.profile.name,
            "started": self.started,
            "machine": self.machine,
            "load": self.load,
            "durations": self.durations,
            "scale": [_raw_run(r) for r in self.scale],
            "sis_wait": [_raw_run(r) for r in self.sis_wait],
            "short_waits": [_raw_run(r) for r in self.short_waits],
            "throttle": [_raw_run(r) for r in self.throttle],
            "slots": [
                {
                    "mode": r.mode,
                    "waits": r.waits,
                    "wall_seconds": r.wall_seconds,
                    "uses": [[u.intervals, u.worker_calls, u.busy, u.ended] for u in r.uses],
                }
                for r in self.slots
            ],
            "hook": [[r.client, r.calls_per_second, r.cpu_ms_per_call] for r in self.hook],
        }

    @classmethod
    def from_raw(cls, raw: dict[str, Any], profile: Profile) -> Results:
        """The inverse of :meth:`to_raw`."""
        return cls(
            profile=profile,
            machine=raw["machine"],
            load=raw["load"],
            durations=raw["durations"],
            started=raw["started"],
            scale=[WaitRun(**r) for r in raw["scale"]],
            sis_wait=[WaitRun(**r) for r in raw.get("sis_wait", [])],
            short_waits=[WaitRun(**r) for r in raw.get("short_waits", [])],
            throttle=[WaitRun(**r) for r in raw["throttle"]],
            slots=[
                ModeResult(
                    s["mode"],
                    s["waits"],
                    [SlotUse([tuple(i) for i in u[0]], u[1], u[2], u[3]) for u in s["uses"]],
                    s["wall_seconds"],
                )
                for s in raw["slots"]
            ],
            hook=[ClientResult(c, list(rates), list(cpus)) for c, rates, cpus in raw["hook"]],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile.name,
            "started": self.started,
            "machine": self.machine,
            "load": self.load,
            "durations": self.durations,
            "scale": [r.to_dict() for r in self.scale],
            "short_waits": [r.to_dict() for r in self.short_waits],
            "throttle": [r.to_dict() for r in self.throttle],
            "worker_slots": [r.to_dict() for r in self.slots],
            "hook_throughput": [r.to_dict() for r in self.hook],
        }


def _raw_run(run: WaitRun) -> dict[str, Any]:
    return {
        "style": run.style,
        "n": run.n,
        "poll_interval": run.poll_interval,
        "transport": run.transport,
        "raw": run.raw,
        "server_cpu": run.server_cpu,
    }
