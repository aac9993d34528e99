"""Run a standalone simulator: ``python -m airflow_provider_canvas_progress.testing --port 8765``.

It prints the base URL, the token and an ``export AIRFLOW_CONN_CANVAS_DEFAULT=...`` line (with
``--https`` also the CA bundle, named in the connection's ``verify`` extra, and an
``export REQUESTS_CA_BUNDLE=...`` line for canvasapi), then serves until Ctrl-C or SIGTERM.
``--ready-file`` gets the base URL once the port listens (a Makefile can wait for it) and is
removed on exit.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from .jobs import JobScript
from .simulator import CanvasSimulator

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_canvas_progress.testing",
        description="Run an embedded Canvas LMS simulator on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free one (default: 8765)")
    parser.add_argument("--token", default=None, help="the default user's access token (default: random)")
    parser.add_argument("--permission-status", type=int, choices=(401, 403), default=403)
    parser.add_argument("--throttle-status", type=int, choices=(403, 429), default=403)
    parser.add_argument("--no-throttle", action="store_true", help="never refuse requests (headers still sent)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each API request stays in flight")
    parser.add_argument("--queued-seconds", type=float, default=0.5, help="how long started jobs stay queued")
    parser.add_argument("--job-seconds", type=float, default=2.0, help="how long started jobs run")
    parser.add_argument(
        "--outcome",
        choices=("completed", "failed", "canceled", "never"),
        default="completed",
        help="how started jobs end",
    )
    parser.add_argument("--global-ids", action="store_true", help="serve Progress ids as shard*10**13+local")
    parser.add_argument(
        "--https",
        action="store_true",
        help="serve HTTPS with a certificate for 127.0.0.1 and localhost signed by a CA generated at start",
    )
    parser.add_argument("--ready-file", type=Path, default=None, help="write the base URL here once listening")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator until interrupted; return the exit status."""
    args = _parser().parse_args(argv)
    script = JobScript(
        queued_for=args.queued_seconds,
        running_for=args.job_seconds,
        outcome=None if args.outcome == "never" else args.outcome,
    )
    sim = CanvasSimulator(
        host=args.host,
        port=args.port,
        token=args.token,
        permission_status=args.permission_status,
        throttle=not args.no_throttle,
        throttle_status=args.throttle_status,
        latency=args.latency,
        global_ids=args.global_ids,
        default_job_script=script,
        https=args.https,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    sim.start()
    try:
        print(f"Canvas simulator listening on {sim.base_url}", flush=True)
        print(f"token: {sim.token}", flush=True)
        if sim.ca_bundle is not None:
            print(f"CA bundle: {sim.ca_bundle}", flush=True)
        print(f"export AIRFLOW_CONN_CANVAS_DEFAULT={shlex.quote(sim.airflow_conn_json())}", flush=True)
        if sim.ca_bundle is not None:
            # canvasapi (requests) reads its CA bundle from the environment.
            print(f"export REQUESTS_CA_BUNDLE={shlex.quote(sim.ca_bundle)}", flush=True)
        if args.ready_file is not None:
            partial = args.ready_file.with_name(args.ready_file.name + ".tmp")
            partial.write_text(sim.base_url + "\n")
            # A rename is atomic: a waiting Makefile never reads a half-written file.
            os.replace(partial, args.ready_file)
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
        if args.ready_file is not None:
            args.ready_file.unlink(missing_ok=True)
        print("Canvas simulator stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
