"""Job scripts: how a simulated Progress moves through its states over the simulator clock.

Every script compiles to a timeline of :class:`Step` s (time since creation -> state). The Progress
shows the last step whose time has come, so ``JobScript`` is pure data and pure logic: the same
script always gives the same answers for the same elapsed time.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

__all__ = [
    "PENDING_STATES",
    "TERMINAL_STATES",
    "WORKFLOW_STATES",
    "JobScript",
    "Outcome",
    "Step",
]

Outcome = Literal["completed", "failed", "canceled"]

#: The model's six states (``app/models/progress.rb``); the API docs only list four.
PENDING_STATES = frozenset({"queued", "running", "waiting_for_external_tool"})
TERMINAL_STATES = frozenset({"completed", "failed", "canceled"})
WORKFLOW_STATES = PENDING_STATES | TERMINAL_STATES

_OUTCOMES = ("completed", "failed", "canceled")


@dataclass(frozen=True)
class Step:
    """One point of a job's timeline.

    :param at: seconds after the Progress was created when this step takes effect.
    :param workflow_state: the state from then on. Any string is allowed on purpose, so tests can
        serve states Canvas may add later and check that clients fail closed.
    :param completion: percentage (int or float) or ``None`` (``null``, as while queued).
    :param message: the Progress message from then on.
    :param results: JSON-able results; served only once the state is no longer pending.
    """

    at: float
    workflow_state: str
    completion: float | int | None = None
    message: str | None = None
    results: Any = field(default=None, compare=False)

    @classmethod
    def coerce(cls, value: Step | Sequence[Any] | Mapping[str, Any]) -> Step:
        """Build a step from a ``Step``, a ``(at, state, completion, message[, results])`` tuple or a dict."""
        if isinstance(value, Step):
            return value
        if isinstance(value, Mapping):
            return cls(
                at=float(value["at"]),
                workflow_state=str(value["workflow_state"]),
                completion=value.get("completion"),
                message=value.get("message"),
                results=value.get("results"),
            )
        items = list(value)
        if not 2 <= len(items) <= 5:
            raise ValueError(f"a step is (at, state[, completion[, message[, results]]]), got {value!r}")
        items += [None] * (5 - len(items))
        at, state, completion, message, results = items
        return cls(float(at), str(state), completion, message, results)


@dataclass(frozen=True)
class JobScript:
    """How a Progress advances from its creation, on the simulator clock.

    The default is a job that is ``queued`` (completion ``null``) for ``queued_for`` seconds, then
    ``running`` for ``running_for`` seconds with completion rising in ``running_steps`` equal steps
    (``0.0, 33.333333333333336, 66.66666666666667`` for three: floats, never 100 before the end, as
    Canvas's ``calculate_completion!`` writes them), then its ``outcome``:

    * ``"completed"``: completion ``100.0``, ``message`` and ``results`` as given;
    * ``"failed"``: completion frozen where it was (or ``failed_completion``), ``message`` (e.g.
      ``"Unexpected error, ID: 42"``);
    * ``"canceled"``: Canvas only cancels a *queued* job (a newer singleton job superseded it), so
      the job stays queued for ``queued_for`` and then reads ``canceled``; ``running_for`` is unused;
    * ``None``: the job never ends; it keeps running at its last completion below 100.

    ``stall_at`` caps completion (e.g. ``99.0``) and the job then runs forever at that value.
    ``waiting_for_external_tool_for`` inserts a ``waiting_for_external_tool`` phase before the outcome.
    ``overwrites_cancel`` applies to course and conversation batches only: cancelled while running,
    such a batch finishes anyway and its ending replaces the cancel, as ``lib/progress_runner.rb``
    does; ``False`` keeps the cancel (a client's best case).
    For anything else (completion going backwards, unknown states...) use :meth:`steps`.

    A job-starting endpoint that knows its own result (``"3 courses processed"``, ``failed`` when no
    course was processed, with completion 100.0 either way as ``ProgressRunner#finish_update``
    writes it) applies it only while the script leaves the result open: default
    ``outcome="completed"``, ``message=None`` and no explicit steps. Any other script wins.
    """

    queued_for: float = 0.5
    running_for: float = 2.0
    outcome: Outcome | None = "completed"
    message: str | None = None
    results: Any = field(default=None, compare=False)
    running_steps: int = 3
    stall_at: float | None = None
    waiting_for_external_tool_for: float = 0.0
    queued_completion: float | None = None
    failed_completion: float | None = None
    overwrites_cancel: bool = True
    custom_steps: tuple[Step, ...] | None = None

    def __post_init__(self) -> None:
        if self.outcome is not None and self.outcome not in _OUTCOMES:
            raise ValueError(f"outcome must be one of {_OUTCOMES} or None, got {self.outcome!r}")
        if self.queued_for < 0 or self.running_for < 0 or self.waiting_for_external_tool_for < 0:
            raise ValueError("script durations cannot be negative")
        if self.running_steps < 1:
            raise ValueError("running_steps must be at least 1")
        if self.custom_steps is not None:
            if not self.custom_steps:
                raise ValueError("a stepped script needs at least one step")
            times = [step.at for step in self.custom_steps]
            if times != sorted(times):
                raise ValueError("steps must be in time order")

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def steps(cls, steps: Iterable[Step | Sequence[Any] | Mapping[str, Any]], *, results: Any = None) -> JobScript:
        """A script given as explicit steps: ``[(t_seconds, state, completion, message), ...]``.

        Before the first step's time the job reads ``queued`` with ``null`` completion. A fifth
        tuple item gives the results for that step; ``results`` applies to steps that give none.
        """
        compiled = tuple(Step.coerce(step) for step in steps)
        if results is not None:
            compiled = tuple(s if s.results is not None else replace(s, results=results) for s in compiled)
        return cls(custom_steps=compiled)

    @classmethod
    def instant(cls, outcome: Outcome = "completed", *, message: str | None = None, results: Any = None) -> JobScript:
        """A job that is already finished when it is first read."""
        return cls(queued_for=0.0, running_for=0.0, outcome=outcome, message=message, results=results)

    @classmethod
    def never_ending(cls, *, queued_for: float = 0.0, running_for: float = 1.0) -> JobScript:
        """A job that runs forever (completion stops below 100)."""
        return cls(queued_for=queued_for, running_for=running_for, outcome=None)

    @classmethod
    def failing(
        cls, message: str | None = "Unexpected error, ID: 4242", *, queued_for: float = 0.5, running_for: float = 2.0
    ) -> JobScript:
        """A job that fails the way Canvas's ``Progress::Work`` does on an unexpected error."""
        return cls(queued_for=queued_for, running_for=running_for, outcome="failed", message=message)

    @classmethod
    def stalled(cls, at: float = 99.0, *, queued_for: float = 0.0, running_for: float = 1.0) -> JobScript:
        """A job whose completion climbs to ``at`` and sticks there, running forever."""
        return cls(queued_for=queued_for, running_for=running_for, stall_at=at, outcome=None)

    @classmethod
    def superseded(cls, after: float = 0.5) -> JobScript:
        """A queued job that Canvas marks ``canceled`` after ``after`` seconds."""
        return cls(queued_for=after, outcome="canceled")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobScript:
        """Build a script from JSON (the control API and the CLI use this).

        Keys are this class's field names; ``steps`` (a list of lists or dicts) makes a stepped script.
        """
        data = dict(data)
        if "steps" in data:
            return cls.steps(cast(Iterable[Any], data.pop("steps")), results=data.pop("results", None))
        known = {f for f in cls.__dataclass_fields__ if f != "custom_steps"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown job script fields: {sorted(unknown)}")
        return cls(**data)

    # -- behaviour ----------------------------------------------------------------------------

    @property
    def leaves_result_open(self) -> bool:
        """Whether a job-starting endpoint may supply the outcome and message (see class doc)."""
        return self.custom_steps is None and self.outcome == "completed" and self.message is None

    def with_result(self, outcome: Outcome, message: str | None, results: Any = None) -> JobScript:
        """Return this script with the job's own result, if the script leaves it open."""
        if not self.leaves_result_open:
            return self
        # lib/progress_runner.rb#finish_update counts every item done before it fails the job.
        return replace(
            self,
            outcome=outcome,
            message=message,
            results=results if results is not None else self.results,
            failed_completion=100.0,
        )

    def timeline(self) -> tuple[Step, ...]:
        """Return the steps this script goes through, in time order."""
        if self.custom_steps is not None:
            first = self.custom_steps[0]
            if first.at > 0:
                return (Step(0.0, "queued", None), *self.custom_steps)
            return self.custom_steps
        steps = [Step(0.0, "queued", self.queued_completion)]
        if self.outcome == "canceled":
            steps.append(Step(self.queued_for, "canceled", self.queued_completion, self.message))
            return tuple(steps)
        start = self.queued_for
        completion: float | None = 0.0
        for k in range(self.running_steps):
            value = 100.0 * k / self.running_steps
            if self.stall_at is not None:
                value = min(value, self.stall_at)
            completion = value
            steps.append(Step(start + self.running_for * k / self.running_steps, "running", value))
        end = start + self.running_for
        if self.stall_at is not None:
            steps.append(Step(end, "running", self.stall_at))
            return tuple(steps)
        if self.outcome is None:
            return tuple(steps)
        if self.waiting_for_external_tool_for > 0:
            steps.append(Step(end, "waiting_for_external_tool", completion))
            end += self.waiting_for_external_tool_for
        if self.outcome == "completed":
            steps.append(Step(end, "completed", 100.0, self.message, self.results))
        else:
            final = completion if self.failed_completion is None else self.failed_completion
            steps.append(Step(end, "failed", final, self.message, self.results))
        return tuple(steps)

    def state_at(self, elapsed: float) -> Step:
        """Return the step in effect ``elapsed`` seconds after creation."""
        steps = self.timeline()
        times = [step.at for step in steps]
        index = bisect.bisect_right(times, max(elapsed, 0.0)) - 1
        return steps[max(index, 0)]

    @property
    def ends_at(self) -> float:
        """Seconds after creation when the script reaches a terminal state (``inf`` if never)."""
        last = self.timeline()[-1]
        return last.at if last.workflow_state in TERMINAL_STATES else math.inf
