"""Kinds of Canvas job: what the deferrable wait needs to know about each, and nothing else.

A Canvas background job is watched through an object that moves through states until a terminal
one: a Progress (``queued`` → ``running`` → ``completed``/``failed``), a SisImport (``created`` →
``importing`` → ``cleanup_batch`` → ``imported``/``failed``/``aborted``...), an AccountReport. The
wait around it -- trigger, deadline, tolerance of failed polls, cancel on kill or timeout, the
event sent back, the outcome read on resume -- is the same for all of them, so it is written once
against :class:`JobKind`, and each kind supplies only its pure model:

* how its reference is written and read back (``progress:123``, ``sis_import:1/456``): the
  trigger carries a job as that one string, and the kind is its prefix;
* how to read the job (which hook call) and how to stop it (cancel, abort);
* which states are pending and which terminal (unknown states fail closed when parsed);
* how a terminal state maps to an :class:`~airflow_provider_canvas_progress.core.outcome.Outcome`;
* how to describe it in one log line, and turn it into (and back from) a JSON-safe dict.

Adding a kind (e.g. SisImport, read with ``GET /api/v1/accounts/:account_id/sis_imports/:id``,
stopped with ``PUT .../sis_imports/:id/abort``):

1. write ``core/kinds/sis_import.py`` with a frozen ref dataclass (``account_id``, ``id``) whose
   ``str()`` is ``sis_import:<account>/<id>``, a state model (pending: created, importing,
   cleanup_batch; terminal: imported, imported_with_messages, failed, failed_with_messages,
   aborted) and a ``SisImportKind(JobKind)`` implementing the abstract methods below, reading and
   stopping through ``client.arequest``/``client.request`` with paths built by
   :func:`~airflow_provider_canvas_progress.core.paths.segment`;
2. add one line to :data:`KIND_MODULES` (``"sis_import": "...core.kinds.sis_import"``).

The trigger, the builder, the event and the task side then serve it unchanged. Nothing here does
I/O: a kind *says* which hook call reads it; the trigger and the tasks make the call.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from airflow_provider_canvas_progress.core.outcome import CancelMatcher, Outcome
from airflow_provider_canvas_progress.core.stall import NO_ALLOWANCES, Observation, StallRules
from airflow_provider_canvas_progress.exceptions import InvalidProgressIdError

RefT = TypeVar("RefT")
JobT = TypeVar("JobT")

#: Every kind, by the prefix of its reference's string form. A new kind is one module and one line.
KIND_MODULES: dict[str, str] = {
    "progress": "airflow_provider_canvas_progress.core.kinds.progress",
    "sis_import": "airflow_provider_canvas_progress.core.kinds.sis_import",
    "account_report": "airflow_provider_canvas_progress.core.kinds.account_report",
}


class JobClient(Protocol):
    """The part of the hook a kind uses to read and stop its jobs (the hook's public methods).

    A protocol, not an import: the core must not import the hook.
    """

    def get_progress(self, progress_id: object, *, lti_course_id: object | None = None) -> Any: ...
    async def aget_progress(self, progress_id: object, *, lti_course_id: object | None = None) -> Any: ...
    def cancel_progress(self, progress_id: object, message: str | None = None) -> Any: ...
    async def acancel_progress(self, progress_id: object, message: str | None = None) -> Any: ...
    def request(self, method: str, endpoint: str, *, params: Any = None, data: Any = None, json: Any = None) -> Any: ...
    async def arequest(
        self, method: str, endpoint: str, *, params: Any = None, data: Any = None, json: Any = None
    ) -> Any: ...


class JobKind(ABC, Generic[RefT, JobT]):
    """The pure model of one kind of Canvas job (see the module docstring)."""

    #: The reference's prefix, e.g. ``progress``; also the key in :data:`KIND_MODULES`.
    name: ClassVar[str]
    #: How messages name a job of this kind, e.g. ``Canvas Progress``.
    noun: ClassVar[str]
    #: The object's own name, e.g. ``Progress`` (``the same Progress cannot change``).
    label: ClassVar[str]

    @abstractmethod
    def parse_ref(self, text: str) -> RefT:
        """Read a reference's string form (``str(ref)``) back; raise a typed error otherwise."""

    @abstractmethod
    def job_id(self, job: JobT) -> str:
        """The job's own id, for messages and events."""

    @abstractmethod
    def is_pending(self, job: JobT) -> bool:
        """True while the job has not reached a terminal state."""

    @abstractmethod
    def outcome(self, job: JobT, matcher: CancelMatcher) -> Outcome:
        """How a job ended (or ``PENDING``), as the task's ``fail_on`` and branches read it."""

    @abstractmethod
    def fingerprint(self, job: JobT) -> tuple[object, ...]:
        """What must change for the trigger to log a new line (a line per change, not per poll)."""

    @abstractmethod
    def poll_line(self, job: JobT) -> str:
        """The one log line for a read of the job."""

    @abstractmethod
    def describe(self, job: JobT) -> str:
        """A short description for messages (state, id, Canvas's message)."""

    @abstractmethod
    def to_dict(self, job: JobT) -> dict[str, Any]:
        """The job as JSON primitives (trigger events, XCom)."""

    @abstractmethod
    def from_dict(self, payload: object, *, source: str) -> JobT:
        """Validate :meth:`to_dict`'s output back into a job; raise a typed response error otherwise."""

    @abstractmethod
    def read(self, client: JobClient, ref: RefT) -> JobT:
        """Read the job (sync, on a worker)."""

    @abstractmethod
    async def aread(self, client: JobClient, ref: RefT) -> JobT:
        """Read the job (async, in the triggerer)."""

    @abstractmethod
    def stop(self, client: JobClient, ref: RefT, message: str) -> JobT:
        """Stop a pending job (cancel, abort); callers check it is pending first."""

    @abstractmethod
    async def astop(self, client: JobClient, ref: RefT, message: str) -> JobT:
        """Async twin of :meth:`stop`."""

    @abstractmethod
    def api_path(self, ref: RefT) -> str:
        """The job's API path on the connection's host (links are built from it)."""

    # -- the stall watch (core/stall.py); defaults suit a kind with no allowances ---------------

    #: What the stall watch may allow this kind (explainable states, ``updated_at`` dating).
    stall_rules: ClassVar[StallRules] = NO_ALLOWANCES

    def observation(self, job: JobT) -> Observation:
        """What the stall watch compares between reads: state, completion, ``updated_at``.

        The default compares the :meth:`fingerprint`; kinds override it to add ``updated_at``.
        """
        return Observation(repr(self.fingerprint(job)))

    def explain_wait(self, client: JobClient, ref: RefT, job: JobT) -> str | None:
        """Why a still job in one of :attr:`stall_rules`' explainable states is not stuck, or None.

        Asked at most once per ``stalled_after``; may make one read (e.g. what runs ahead of it).
        """
        return None

    async def aexplain_wait(self, client: JobClient, ref: RefT, job: JobT) -> str | None:
        """Async twin of :meth:`explain_wait`."""
        return None


def kind_named(name: str) -> JobKind[Any, Any]:
    """The kind for a reference prefix.

    :raises InvalidProgressIdError: no such kind (e.g. a reference written by a newer provider).
    """
    module = KIND_MODULES.get(name)
    if module is None:
        raise InvalidProgressIdError(
            f"Unknown Canvas job kind {name!r}; this provider knows {sorted(KIND_MODULES)}. Was the reference "
            "written by a newer provider version?"
        )
    kind: JobKind[Any, Any] = importlib.import_module(module).KIND
    return kind


def parse_job_ref(text: str, *, what: str = "job reference") -> tuple[JobKind[Any, Any], Any]:
    """Split a reference's string form (``progress:123``) into its kind and the kind's reference.

    A reference without a prefix is a Progress, as every reference was before kinds existed.
    """
    if not isinstance(text, str):
        raise InvalidProgressIdError(f"{what} is a {type(text).__name__}, not a string like 'progress:123'.")
    prefix, sep, _ = text.strip().partition(":")
    kind = kind_named(prefix if sep else "progress")
    return kind, kind.parse_ref(text)
