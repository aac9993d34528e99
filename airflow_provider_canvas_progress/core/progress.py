"""The Canvas Progress object: its states and a strict parser.

Canvas's documentation lists four ``workflow_state`` values, but the model
(``app/models/progress.rb``) has six; a client that only knows the documented four would read
``waiting_for_external_tool`` or ``canceled`` wrongly. Anything else fails closed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

import pendulum

from airflow_provider_canvas_progress.core.errors import CanvasResponseError, CanvasUnknownStateError


class WorkflowState(str, Enum):
    """A Progress's ``workflow_state``, knowing which states are still pending."""

    QUEUED = "queued"
    RUNNING = "running"
    WAITING_FOR_EXTERNAL_TOOL = "waiting_for_external_tool"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_pending(self) -> bool:
        """True while the job may still change state."""
        return self in _PENDING

    @property
    def is_terminal(self) -> bool:
        """True once the job has ended (Canvas never moves it again, except a cancel)."""
        return not self.is_pending

    @classmethod
    def parse(cls, value: object, *, progress_id: str | None = None) -> WorkflowState:
        """Read a state string, raising :class:`CanvasUnknownStateError` for anything unknown."""
        return parse_state(
            cls,
            value,
            subject=f"Progress {progress_id}" if progress_id else "A Progress",
            field="workflow_state",
            check="Check the job in Canvas",
            progress_id=progress_id,
        )


S = TypeVar("S", bound=Enum)


def parse_state(cls: type[S], value: object, *, subject: str, field: str, check: str, **details: Any) -> S:
    """One of a kind's states from what Canvas sent, failing closed: the rule every job kind follows.

    Anything this provider does not know -- a new Canvas state, a number, a 10 MB string -- raises
    :class:`CanvasUnknownStateError` naming it; it is never read as success, so a new state is
    noticed rather than silently taken for "done".

    :param subject: the job, for the message (``SIS import 42``).
    :param field: the attribute read (``workflow_state``, ``status``).
    :param check: where to look, as a sentence start (``Check the import in Canvas (Admin > SIS Import)``).
    :param details: keyword fields of the error (``progress_id``).
    """
    if isinstance(value, str):
        try:
            return cls(value)
        except ValueError:
            pass
    raise CanvasUnknownStateError(
        f"{subject} reports {field} {shown(value)}, which this provider does not know "
        f"(known: {', '.join(str(state.value) for state in cls)}). It is not treated as success. {check}, "
        "and upgrade airflow-provider-canvas-progress if Canvas has added a state.",
        **details,
    )


#: Canvas ids are 64-bit; this leaves room for any id form while refusing a 5,000-digit "id".
_MAX_ID_DIGITS = 64
#: How much of a Progress message ``describe`` quotes: enough for Canvas's messages, bounded for a hostile one.
MESSAGE_SHOWN = 500

_PENDING = frozenset({WorkflowState.QUEUED, WorkflowState.RUNNING, WorkflowState.WAITING_FOR_EXTERNAL_TOOL})


@dataclass(frozen=True)
class Progress:
    """One Canvas Progress, as read from ``GET /api/v1/progress/:id``.

    Ids are strings: Canvas's global ids (``shard * 10**13 + local``) and the
    ``application/json+canvas-string-ids`` form both arrive here, and an id is a name, not a number.

    ``results`` is only meaningful when ``has_results`` is true: Canvas omits the key while a job is
    pending or when it produced none, which is not the same as results that are ``null``.
    """

    id: str
    workflow_state: WorkflowState
    completion: float | None = None
    message: str | None = None
    tag: str | None = None
    context_type: str | None = None
    context_id: str | None = None
    user_id: str | None = None
    url: str | None = None
    created_at: pendulum.DateTime | None = None
    updated_at: pendulum.DateTime | None = None
    results: Any = None
    has_results: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_pending(self) -> bool:
        """True while Canvas may still change this Progress."""
        return self.workflow_state.is_pending

    @property
    def is_terminal(self) -> bool:
        """True once the job has ended."""
        return self.workflow_state.is_terminal

    def describe(self) -> str:
        """One line for logs and error messages: id, tag, state, completion and Canvas's message."""
        parts = [f"Progress {self.id}"]
        if self.tag:
            parts.append(f"({self.tag})")
        parts.append(f"is {self.workflow_state.value}")
        if self.completion is not None:
            parts.append(f"at {self.completion:.1f}%")
        text = " ".join(parts)
        if self.message:
            text += f"; Canvas says: {shown(self.message, MESSAGE_SHOWN)}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict for XCom, the inverse of :func:`parse_progress`."""
        data: dict[str, Any] = {
            "id": self.id,
            "context_id": self.context_id,
            "context_type": self.context_type,
            "user_id": self.user_id,
            "tag": self.tag,
            "completion": self.completion,
            "workflow_state": self.workflow_state.value,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "message": self.message,
            "url": self.url,
        }
        if self.has_results:
            data["results"] = self.results
        return data


def parse_progress(payload: object, *, source: str = "Canvas") -> Progress:
    """Validate a Progress JSON object and build a :class:`Progress`.

    :param payload: the decoded JSON.
    :param source: where it came from, for error messages (e.g. ``"GET /api/v1/progress/5"``).
    :raises CanvasResponseError: the payload is not a Progress; the message names the field.
    :raises CanvasUnknownStateError: the state is not one Canvas is known to use.
    """
    if not isinstance(payload, Mapping):
        raise CanvasResponseError(f"{source} answered {type(payload).__name__} where a Progress object was expected.")
    progress_id = _id(payload, "id", source, required=True)
    assert progress_id is not None

    def bad(key: str, expected: str) -> CanvasResponseError:
        return CanvasResponseError(
            f"{source} answered a Progress whose {key!r} is {shown(payload.get(key))}; expected {expected}.",
            progress_id=progress_id,
        )

    if "workflow_state" not in payload:
        raise bad("workflow_state", "a state such as 'running'")
    state = WorkflowState.parse(payload["workflow_state"], progress_id=progress_id)

    completion = payload.get("completion")
    if completion is not None:
        if isinstance(completion, bool) or not isinstance(completion, (int, float)):
            raise bad("completion", "a number from 0 to 100 or null")
        # Compare before float() (a huge JSON integer overflows it); NaN fails the comparison too.
        if not 0 <= completion <= 100:
            raise bad("completion", "a number from 0 to 100 or null")
        completion = float(completion)

    texts: dict[str, str | None] = {}
    for key in ("message", "tag", "context_type", "url"):
        value = payload.get(key)
        if value is not None and not isinstance(value, str):
            raise bad(key, "a string or null")
        texts[key] = value

    times: dict[str, pendulum.DateTime | None] = {}
    for key in ("created_at", "updated_at"):
        value = payload.get(key)
        if value is None:
            times[key] = None
            continue
        try:
            times[key] = parse_timestamp(value)
        except ValueError as expected:
            raise bad(key, str(expected)) from None

    known = _KNOWN_KEYS
    return Progress(
        id=progress_id,
        workflow_state=state,
        completion=completion,
        message=texts["message"],
        tag=texts["tag"],
        context_type=texts["context_type"],
        context_id=_id(payload, "context_id", source),
        user_id=_id(payload, "user_id", source),
        url=texts["url"],
        created_at=times["created_at"],
        updated_at=times["updated_at"],
        results=payload.get("results"),
        has_results="results" in payload,
        extra={k: v for k, v in payload.items() if k not in known},
    )


_KNOWN_KEYS = frozenset(
    {
        "id", "workflow_state", "completion", "message", "tag", "context_type", "context_id",
        "user_id", "url", "created_at", "updated_at", "results",
    }
)  # fmt: skip


#: How Canvas writes timestamps (ISO 8601 from Rails' JSON encoder): ``Z`` or an offset, optional fraction.
_CANVAS_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})")


def parse_timestamp(value: object) -> pendulum.DateTime:
    """Read a Canvas timestamp (Canvas's own form fast, other ISO 8601 through pendulum).

    :raises ValueError: naming what was expected (``an ISO 8601 timestamp``...), for messages.
    """
    if not isinstance(value, str):
        raise ValueError("an ISO 8601 timestamp")
    fast = _canvas_timestamp(value)
    if fast is not None:
        return fast
    try:
        # exact=True: without it pendulum silently turns "2013-01-15" or "15:00" into a
        # DateTime (the latter on today's date), which Canvas never sends.
        parsed = pendulum.parse(value, exact=True)
    except (ValueError, pendulum.parsing.exceptions.ParserError):
        raise ValueError("an ISO 8601 timestamp") from None
    if not isinstance(parsed, pendulum.DateTime):
        raise ValueError("an ISO 8601 timestamp with a date and a time")
    return parsed


def _canvas_timestamp(value: str) -> pendulum.DateTime | None:
    """Read a timestamp in Canvas's own form, or None to leave it to ``pendulum.parse``.

    Every poll parses two timestamps; ``pendulum.parse`` takes about 6 µs for one, this path about
    1 µs, with the same result (same value, same ``Timezone``/``FixedTimezone``), which matters when a
    triggerer polls thousands of Progress objects a minute.
    """
    if _CANVAS_TIME.fullmatch(value) is None:
        return None
    zulu = value.endswith("Z")
    try:
        # Python 3.10's fromisoformat does not read "Z".
        read = datetime.fromisoformat(value[:-1] + "+00:00" if zulu else value)
    except ValueError:
        return None  # e.g. month 13: pendulum's parser words the error
    offset = read.utcoffset()
    # As pendulum.parse does: "Z" is the UTC zone, "+00:00" a fixed offset of zero.
    zone = pendulum.UTC if zulu or offset is None else pendulum.FixedTimezone(int(offset.total_seconds()))
    return pendulum.DateTime(
        read.year, read.month, read.day, read.hour, read.minute, read.second, read.microsecond, tzinfo=zone
    )


def _id(payload: Mapping[str, Any], key: str, source: str, *, required: bool = False) -> str | None:
    """Read an id that may be an integer or (with string ids on) a numeric string."""
    value = payload.get(key)
    if value is None:
        if required:
            raise CanvasResponseError(f"{source} answered a Progress without {key!r}.")
        return None
    if isinstance(value, bool):
        pass
    elif isinstance(value, int) and 0 <= value < 10**_MAX_ID_DIGITS:
        return str(value)
    elif isinstance(value, str) and len(value) <= _MAX_ID_DIGITS and value.isascii() and value.isdigit():
        return value
    raise CanvasResponseError(f"{source} answered a Progress whose {key!r} is {shown(value)}; expected an id.")


def shown(value: object, limit: int = 100) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters.

    What Canvas sent is quoted in messages, and a hostile answer can make it a 10 MB string or a
    5,000-digit number (whose ``repr`` raises ``ValueError`` past Python's 4,300-digit limit).
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"a number of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    try:
        text = repr(value if not isinstance(value, str) else value[: limit + 1])
    except ValueError:  # a huge number inside a list or dict
        return f"a {type(value).__name__} holding a number too long to show"
    return text if len(text) <= limit else text[:limit] + "…"
