"""An embedded Canvas LMS simulator: a real HTTP peer for testing Canvas Progress clients and DAGs.

>>> from airflow_provider_canvas_progress.testing import CanvasSimulator, JobScript, Fault
>>> with CanvasSimulator() as sim:  # doctest: +SKIP
...     pid = sim.create_progress(script=JobScript(queued_for=0, running_for=1))
...     sim.inject(Fault.status(503), times=2, path=r"^/api/v1/progress/")

It reproduces what the provider must survive (the docs' "Canvas behaviour" page,
``docs/canvas-behaviour.md``, cites Canvas's source for each): Progress JSON and its six states,
cancel semantics (a running batch overwriting a cancel included), auth and permission errors, the
OAuth2 token endpoint (refresh and LTI Advantage client-credentials grants, expiring tokens), LTI
Advantage rules, string and global ids, Canvas's leaky-bucket throttle, and network faults. It
serves the objects DAG code reads first (a seeded school of accounts, terms, courses, sections,
assignments and users, paginated as Canvas does) so canvasapi runs against it unmodified, over
HTTP or verified HTTPS. It imports nothing from the provider's hook or core, so a bug in the
client cannot hide behind shared code.
"""

from __future__ import annotations

from .catalog import Course
from .clock import Clock, ManualClock, MonotonicClock
from .developer_keys import LtiTool, OAuthClient
from .faults import Fault, FaultKind
from .identity import LTI_PROGRESS_SCOPE
from .jobs import PENDING_STATES, TERMINAL_STATES, JobScript, Step
from .recorder import RecordedRequest, SimulatorStats
from .simulator import CanvasSimulator
from .sis_control import SisControl
from .sis_csv import build_zip
from .sis_script import SisScript
from .store import UNSET

__all__ = [
    "LTI_PROGRESS_SCOPE",
    "PENDING_STATES",
    "TERMINAL_STATES",
    "UNSET",
    "CanvasSimulator",
    "Clock",
    "Course",
    "Fault",
    "FaultKind",
    "JobScript",
    "LtiTool",
    "ManualClock",
    "MonotonicClock",
    "OAuthClient",
    "RecordedRequest",
    "SimulatorStats",
    "SisControl",
    "SisScript",
    "Step",
    "build_zip",
]
