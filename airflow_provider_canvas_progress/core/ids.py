"""Reading the many forms a Progress reference takes in users' DAGs.

A Progress id reaches an operator as an int, a templated string (``"{{ ti.xcom_pull(...)['id'] }}"``
renders to ``"123"``), a global id (``10000000000123`` or Canvas's ``1~123`` shorthand), a
Progress dict from XCom, or a URL such as a content migration's ``progress_url``. All of them are
reduced here to one :class:`ProgressRef`, and everything else is refused with a message that shows
the accepted forms.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from airflow_provider_canvas_progress.core.errors import InvalidProgressIdError
from airflow_provider_canvas_progress.core.progress import Progress, shown
from airflow_provider_canvas_progress.core.settings import CanvasSettings

#: Canvas global ids are ``shard * 10**13 + local``; ``"<shard>~<local>"`` is its short form.
SHARD_FACTOR = 10**13

_API_PATH = re.compile(r"^/api/v1/progress/(?P<id>\d+)/?$")
_LTI_PATH = re.compile(r"^/api/lti/courses/(?P<course>\d+(?:~\d+)?)/progress/(?P<id>\d+(?:~\d+)?)/?$")
_MAX_ID_TEXT = 64
_SHORT_GLOBAL = re.compile(r"^(?P<shard>\d+)~(?P<local>\d+)$")

_FORMS = (
    "a Progress id (123), a global id (10000000000123 or 1~123), a Progress dict from XCom, "
    "or a Progress URL on the connection's host (https://<school>.instructure.com/api/v1/progress/123)"
)


@dataclass(frozen=True)
class ProgressRef:
    """Which Progress to read, and through which endpoint.

    :param id: the Progress id as a decimal string.
    :param lti_course_id: set when the reference came from an LTI progress URL; the Progress is then
        read through ``/api/lti/courses/:course_id/progress/:id``.
    """

    id: str
    lti_course_id: str | None = None

    #: The kind prefix of the string form; the trigger reads it to pick the job kind.
    KIND = "progress"

    def __str__(self) -> str:
        """The serialised form, ``progress:123`` or ``progress:lti/7/123`` (see :meth:`parse`)."""
        if self.lti_course_id is not None:
            return f"{self.KIND}:lti/{self.lti_course_id}/{self.id}"
        return f"{self.KIND}:{self.id}"

    @classmethod
    def parse(cls, text: str, *, what: str = "progress reference") -> ProgressRef:
        """Read the string form back: ``parse(str(ref)) == ref``.

        Only the forms :meth:`__str__` writes are read (with or without the ``progress:`` prefix), so
        a reference stored in a trigger row is never re-interpreted as a URL or a dict.

        :raises InvalidProgressIdError: the text is not such a form.
        """
        if not isinstance(text, str):
            raise InvalidProgressIdError(f"{what} is a {type(text).__name__}, not a string like 'progress:123'.")
        body = text.strip()
        if body.startswith(f"{cls.KIND}:"):
            body = body[len(cls.KIND) + 1 :]
        if body.startswith("lti/"):
            course, sep, progress = body[4:].partition("/")
            if not sep:
                raise InvalidProgressIdError(f"{what} {shown(text)} is not of the form 'progress:lti/<course>/<id>'.")
            return cls(
                parse_id_text(progress, what=what), lti_course_id=parse_id_text(course, what=f"{what} (course id)")
            )
        return cls(parse_id_text(body, what=what))

    @property
    def api_path(self) -> str:
        if self.lti_course_id is not None:
            return f"/api/lti/courses/{self.lti_course_id}/progress/{self.id}"
        return f"/api/v1/progress/{self.id}"


def parse_id_text(text: str, *, what: str = "progress_id") -> str:
    """Read a decimal or ``shard~local`` id into its global decimal string form."""
    value = text.strip()
    # Canvas ids are 64-bit; the bound also keeps int() clear of Python's 4300-digit limit,
    # which would raise a bare ValueError instead of the message below.
    if len(value) <= _MAX_ID_TEXT and value.isascii() and value.isdigit():
        number = int(value)
        if number > 0:
            return str(number)
    match = _SHORT_GLOBAL.match(value) if len(value) <= _MAX_ID_TEXT else None
    if match:
        shard, local = int(match["shard"]), int(match["local"])
        if local > 0 and local < SHARD_FACTOR:
            return str(shard * SHARD_FACTOR + local)
    raise InvalidProgressIdError(f"{what} {shown(text)} is not a Canvas id. Expected {_FORMS}.")


def parse_progress_ref(
    value: object, settings: CanvasSettings | None = None, *, what: str = "progress_id"
) -> ProgressRef:
    """Reduce any accepted form of Progress reference to a :class:`ProgressRef`.

    :param value: the user's value (see the module docstring for the forms).
    :param settings: the connection; a URL must be on its host. Without it, URLs are refused,
        since there is nothing to check them against.
    :param what: the parameter's name, for messages.
    :raises InvalidProgressIdError: the value is none of the accepted forms.
    :raises ForeignHostError: a URL on a host other than the connection's.
    """
    if isinstance(value, ProgressRef):
        return value
    if isinstance(value, Progress):
        return ProgressRef(value.id)
    if isinstance(value, Mapping):
        if "id" not in value:
            raise InvalidProgressIdError(
                f"{what} is a dict without an 'id' key ({shown(sorted(map(str, value)))}). Expected {_FORMS}."
            )
        return parse_progress_ref(value["id"], settings, what=f"{what}['id']")
    if isinstance(value, bool) or value is None:
        raise InvalidProgressIdError(f"{what} is {shown(value)}. Expected {_FORMS}.")
    if isinstance(value, int):
        if value <= 0 or value >= 10**_MAX_ID_TEXT:
            raise InvalidProgressIdError(
                f"{what} {shown(value)} is not a Canvas id (ids are positive). Expected {_FORMS}."
            )
        return ProgressRef(str(value))
    if not isinstance(value, str):
        raise InvalidProgressIdError(f"{what} is a {type(value).__name__} ({shown(value)}). Expected {_FORMS}.")
    text = value.strip()
    if not text:
        raise InvalidProgressIdError(f"{what} is empty. Expected {_FORMS}.")
    if text.startswith("/") or "://" in text:
        return _parse_url(text, settings, what=what)
    return ProgressRef(parse_id_text(text, what=what))


def _parse_url(text: str, settings: CanvasSettings | None, *, what: str) -> ProgressRef:
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. an unclosed "[" in the host
        raise InvalidProgressIdError(f"{what} {shown(text)} is not a valid URL. Expected {_FORMS}.") from None
    if parts.scheme or parts.netloc:
        if settings is None:
            raise InvalidProgressIdError(
                f"{what} {shown(text)} is a URL, but there is no connection to check its host against."
            )
        settings.check_same_origin(text, what=f"{what} {shown(text)}")
    path = parts.path
    match = _API_PATH.match(path)
    if match:
        return ProgressRef(parse_id_text(match["id"], what=what))
    match = _LTI_PATH.match(path)
    if match:
        return ProgressRef(
            parse_id_text(match["id"], what=what),
            lti_course_id=parse_id_text(match["course"], what=f"{what} (course id)"),
        )
    raise InvalidProgressIdError(
        f"{what} {shown(text)} is a URL but not a Progress URL (expected a path like /api/v1/progress/123 "
        f"or /api/lti/courses/7/progress/123). Expected {_FORMS}."
    )
