"""``python -m benchmarks``: run the benchmarks, print the tables, write ``docs/benchmarks.md``.

``python -m benchmarks`` runs everything at full size (``make bench``); ``--quick`` is a smoke run
of under two minutes that writes under ``build/``; ``--only scale throttle`` picks benchmarks;
``--profile targets --only scale short`` measures only what issue 10's targets need.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ("scale", "sis", "short", "throttle", "slots", "hook")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of under two minutes")
    parser.add_argument(
        "--profile", choices=("full", "quick", "targets"), default=None, help="sizes (default: full; --quick: quick)"
    )
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS), help="benchmarks to run")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="Markdown results file (default: docs/benchmarks.md; with --quick: build/benchmarks-quick/benchmarks.md)",
    )
    parser.add_argument(
        "--from-raw",
        type=Path,
        default=None,
        help="measure nothing: rewrite the results page from the raw file an earlier run saved under build/",
    )
    parser.add_argument(
        "--images",
        type=Path,
        default=None,
        help="folder for the PNG figures (default: docs/_static/benchmarks next to docs/benchmarks.md)",
    )
    return parser


def _isolate_airflow() -> None:
    # Before anything imports Airflow: a throwaway AIRFLOW_HOME, no user connections, and quiet
    # logs for the benchmarks that run sensors and hooks in this process (their INFO lines would
    # otherwise flood the console).
    from benchmarks.simulator_process import isolated_airflow_env

    env = isolated_airflow_env()
    os.environ.clear()
    os.environ.update(env)
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"


def _write(results: Any, output: Path, images: Path) -> None:
    # A run of the SIS-import wait alone is merged into the page and results already there
    # (their other figures kept); any other run rewrites the page.
    from benchmarks import report

    others = (results.scale, results.short_waits, results.throttle, results.slots, results.hook)
    if results.sis_wait and not any(others):
        report.merge_sis(results, output, images)
    else:
        report.write(results, output, images)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.chdir(ROOT)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    _isolate_airflow()

    from benchmarks import hook_throughput, machine, report, scale, short_waits, throttle, worker_slots
    from benchmarks.profiles import PROFILES, QUICK
    from benchmarks.results import Results

    raw = json.loads(args.from_raw.read_text()) if args.from_raw is not None else None
    name = raw["profile"] if raw else (args.profile or ("quick" if args.quick else "full"))
    profile = PROFILES[name]
    if args.output is not None:
        output = args.output
    else:
        output = ROOT / ("build/benchmarks-quick/benchmarks.md" if profile is QUICK else "docs/benchmarks.md")
    images = args.images if args.images is not None else output.parent / "_static" / "benchmarks"

    def say(line: str) -> None:
        print(line, flush=True)

    raw_file = ROOT / "build" / f"benchmarks-raw-{profile.name}.json"
    if raw is not None:
        results = Results.from_raw(raw, profile)
        print(report.console(results))
        _write(results, output, images)
        print(f"\nWrote {output} and figures in {images} (from {args.from_raw}; nothing measured)")
        return 0

    results = Results(profile=profile, machine=machine.facts())
    meter = machine.LoadMeter()
    meter.start()
    print(f"Benchmarks, profile {profile.name}, on {results.machine['nproc']} CPUs", flush=True)
    steps = [
        ("scale", "triggerer scale", lambda: setattr(results, "scale", scale.run(profile, say))),
        ("sis", "SIS-import wait", lambda: setattr(results, "sis_wait", scale.run_sis(profile, say))),
        ("short", "short waits", lambda: setattr(results, "short_waits", short_waits.run(profile, say))),
        ("throttle", "throttle", lambda: setattr(results, "throttle", throttle.run(profile, say))),
        ("slots", "worker slots", lambda: setattr(results, "slots", worker_slots.run(profile, say))),
        ("hook", "hook throughput", lambda: setattr(results, "hook", hook_throughput.run(profile, say))),
    ]
    for key, name, step in steps:
        if key in args.only:
            began = time.monotonic()
            step()
            results.durations[name] = time.monotonic() - began
    results.load = meter.stop()
    raw_file.parent.mkdir(parents=True, exist_ok=True)
    raw_file.write_text(json.dumps(results.to_raw()))
    print()
    print(report.console(results))
    _write(results, output, images)
    print(f"\nWrote {output} and figures in {images}; raw measurements in {raw_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
