"""The SIS-import wait on the benchmark page: its table, its verdict, and merging it into a saved page.

Issue 12 asks that the generic trigger (``CanvasJobTrigger`` on a ``sis_import:<account>/<id>``
reference) cost no more per poll than the Progress trigger. Both are measured in the same run, one
after the other, at the same N and poll interval, under the same machine load, with the floor
beside them; the verdict compares their steady-state CPU per poll within :data:`TOLERANCE`.

``python -m benchmarks --only sis`` measures only this; its section then replaces the one on the
existing page (or is inserted before section 2) and its figures are added to the saved
``results.json`` under ``sis_wait``, so the other figures already there are kept.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.figures import fmt, ratio
from benchmarks.plots import TRANSPORTS
from benchmarks.tables import markdown_table, scale_table
from benchmarks.wait_run import WaitRun

#: The SIS wait "costs no more" when its mean steady CPU per poll is at most this multiple of the
#: Progress wait's. The page shows the same-trigger spread between rounds next to the verdict, so
#: a reader can see whether 10 % is above the noise of that run.
TOLERANCE = 1.10

BEGIN, END = "<!-- sis-wait:begin -->", "<!-- sis-wait:end -->"


def _round(run: WaitRun) -> int:
    return int(run.raw.get("round", 1))


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def _spread(values: Sequence[float]) -> float:
    """(max - min) / mean of one trigger's figure over the rounds: what the machine's noise does to it."""
    return ratio(max(values) - min(values), _mean(values)) if len(values) > 1 else math.nan


def verdict(runs: Sequence[WaitRun]) -> dict[str, Any]:
    """SIS versus Progress at the largest N: mean ratios over the rounds, same-trigger spread, within tolerance."""
    if not runs:
        return {}
    largest = max(r.n for r in runs)
    at = [r for r in runs if r.n == largest]
    sis = [r for r in at if r.style == "ours_sis"]
    progress = [r for r in at if r.style == "ours"]
    floor = [r for r in at if r.style == "keepalive_floor"]
    if not sis or not progress:
        return {}
    sis_cpu = [r.steady_cpu_ms_per_poll for r in sis]
    progress_cpu = [r.steady_cpu_ms_per_poll for r in progress]
    cpu = ratio(_mean(sis_cpu), _mean(progress_cpu))
    all_ended = all(r.completed == r.n for r in sis)
    return {
        "n": largest,
        "transport": sis[0].transport,
        "poll_interval": sis[0].poll_interval,
        "rounds": len(sis),
        "sis_cpu_ms_per_poll": _mean(sis_cpu),
        "progress_cpu_ms_per_poll": _mean(progress_cpu),
        "floor_cpu_ms_per_poll": _mean([r.steady_cpu_ms_per_poll for r in floor]),
        "cpu_ratio": cpu,
        "cpu_ratio_per_round": [
            ratio(s.steady_cpu_ms_per_poll, p.steady_cpu_ms_per_poll)
            for s in sis
            for p in progress
            if _round(s) == _round(p)
        ],
        "progress_cpu_spread": _spread(progress_cpu),
        "sis_cpu_spread": _spread(sis_cpu),
        "sis_rss_kb_per_wait": _mean([r.rss_kb_per_wait for r in sis]),
        "progress_rss_kb_per_wait": _mean([r.rss_kb_per_wait for r in progress]),
        "rss_ratio": ratio(_mean([r.rss_kb_per_wait for r in sis]), _mean([r.rss_kb_per_wait for r in progress])),
        "tolerance": TOLERANCE,
        "sis_all_ended": all_ended,
        "no_more_per_poll": bool(cpu <= TOLERANCE) and all_ended,
    }


def table(runs: Sequence[WaitRun], transport: str) -> tuple[list[str], list[list[str]]]:
    """The triggerer-scale table's columns, one row per run, with the round first."""
    headers: list[str] = []
    rows: list[list[str]] = []
    for number in sorted({_round(r) for r in runs}):
        headers, body = scale_table([r for r in runs if _round(r) == number], transport)
        rows += [[str(number), *row] for row in body]
    return ["round", *headers], rows


def _load_sentence(load: dict[str, Any], nproc: int) -> str:
    if not load:
        return ""
    return (
        f" The machine was busy on {load['machine_busy_cores']:.2f} of its {nproc} cores on average during this "
        f"run ({load['benchmark_cores']:.2f} for the benchmark's processes, {load['other_cores']:.2f} other load; "
        f"load average {load['loadavg_before'][0]:.2f} before, {load['loadavg_after'][0]:.2f} after)."
    )


def section(runs: Sequence[WaitRun], *, started: str, profile: str, load: dict[str, Any], nproc: int) -> str:
    """The Markdown section, between markers so that a later ``--only sis`` run can replace it."""
    v = verdict(runs)
    out = [
        BEGIN,
        "### SIS-import wait (the generic trigger, issue 12)",
        "",
        "The same N waits in one event loop, each a `CanvasJobTrigger` on a `sis_import:<account>/<id>` reference "
        "(`triggers/job.py`, kind `core/kinds/sis_import.py`), against imports the simulator keeps `importing` "
        "until their scripted end (`/__sim__/sis/scripts`; one root account per import, as imports run one at a "
        "time per root account), measured in the same run as the Progress trigger and the floor (which wait on "
        f"Progress objects), one fresh worker and simulator each. Measured {started} "
        f"(`python -m benchmarks --profile {profile} --only sis`).{_load_sentence(load, nproc)}",
        "",
    ]
    for transport in ("tls", "http"):
        if any(r.transport == transport for r in runs):
            out += [f"{TRANSPORTS[transport]}:", "", markdown_table(*table(runs, transport)), ""]
    if v:
        holds = "holds" if v["no_more_per_poll"] else "does **not** hold"
        per_round = ", ".join(f"{fmt(x, 2)}x" for x in v["cpu_ratio_per_round"])
        out.append(
            f"At N = {v['n']:,} ({TRANSPORTS[v['transport']]}, a poll every {v['poll_interval']:g} s), over "
            f"{v['rounds']} round(s), the SIS wait costs {fmt(v['sis_cpu_ms_per_poll'], 3)} ms CPU per poll "
            f"(steady, mean) against {fmt(v['progress_cpu_ms_per_poll'], 3)} ms for the Progress wait: "
            f"**{fmt(v['cpu_ratio'], 2)}x** (per round: {per_round}; floor {fmt(v['floor_cpu_ms_per_poll'], 3)} ms), "
            f"and {fmt(v['sis_rss_kb_per_wait'], 1)} KB RSS per wait against "
            f"{fmt(v['progress_rss_kb_per_wait'], 1)} KB ({fmt(v['rss_ratio'], 2)}x). The Progress wait's own "
            f"figure moved by {fmt(100 * v['progress_cpu_spread'], 0)} % between rounds (the SIS wait's by "
            f"{fmt(100 * v['sis_cpu_spread'], 0)} %), which is the noise the tolerance has to cover. "
            f'"The generic trigger costs no more per poll than the Progress trigger" {holds}, judged at '
            f"<= {TOLERANCE:.2f}x mean steady CPU per poll: above that run-to-run noise, yet below what real extra "
            "work per poll (a second request, a second parse of the body) would add."
        )
        out.append("")
    out.append(END)
    return "\n".join(out)


def insert(page: str, text: str) -> str:
    """``page`` with ``text`` in place of an earlier SIS section, else before section 2, else at the end."""
    if BEGIN in page and END in page:
        head, rest = page.split(BEGIN, 1)
        return head + text + rest.split(END, 1)[1]
    marker = "\n## 2."
    if marker in page:
        head, tail = page.split(marker, 1)
        return head.rstrip("\n") + "\n\n" + text + "\n" + marker + tail
    return page.rstrip("\n") + "\n\n" + text + "\n"


def figures(runs: Sequence[WaitRun], *, started: str, profile: str, load: dict[str, Any]) -> dict[str, Any]:
    """The ``sis_wait`` entry of ``results.json``."""
    return {
        "started": started,
        "profile": profile,
        "load": load,
        "runs": [r.to_dict() for r in runs],
        "verdict": verdict(runs),
    }


def merge(
    runs: Sequence[WaitRun],
    markdown_path: Path,
    json_path: Path,
    *,
    started: str,
    profile: str,
    load: dict[str, Any],
    nproc: int,
) -> None:
    """Put this run's SIS section into the saved page and its figures into the saved JSON, keeping the rest."""
    page = markdown_path.read_text() if markdown_path.exists() else "# Benchmark results\n"
    text = section(runs, started=started, profile=profile, load=load, nproc=nproc)
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.write_text(insert(page, text))
    saved = json.loads(json_path.read_text()) if json_path.exists() else {}
    saved["sis_wait"] = figures(runs, started=started, profile=profile, load=load)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(saved, indent=1, default=str) + "\n")
