"""Building URL path segments from ids that users (and their templates) give.

Ids from DAG arguments are pasted into Canvas API paths after templates are rendered, so one
rendered ``account_id="1/../../users/self"`` would send ``PUT /api/v1/users/self/courses`` and
``"1?as_user_id=5"`` would masquerade with the connection's token. Every segment is therefore
built by :func:`segment`, which accepts only the id forms Canvas's routes accept
(``app/controllers/application_controller.rb`` ``api_find`` and ``lib/api.rb`` ``ID_REGEX``,
``sis_*`` prefixes per object type) and refuses anything else before a byte is sent.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from airflow_provider_canvas_progress.exceptions import InvalidPathSegmentError

_DECIMAL = re.compile(r"^[1-9][0-9]{0,18}$")
_SHARD = re.compile(r"^[0-9]{1,6}~[1-9][0-9]{0,12}$")
#: ``sis_course_id:ABC`` style references: a known prefix, then any non-empty value (percent-encoded).
_SIS = re.compile(r"^(?P<prefix>sis_[a-z_]+_id|lti_[a-z_]+_id|uuid):(?P<value>.+)$", re.DOTALL)
_MAX_TEXT = 255

#: Which ``sis_*``-style prefixes Canvas accepts in place of an id, per kind of object.
SIS_PREFIXES: dict[str, frozenset[str]] = {
    "account": frozenset({"sis_account_id", "lti_context_id", "uuid"}),
    "course": frozenset({"sis_course_id", "lti_context_id", "sis_integration_id", "uuid"}),
    "section": frozenset({"sis_section_id", "sis_integration_id"}),
    "assignment": frozenset({"sis_assignment_id", "lti_context_id"}),
    "user": frozenset({"sis_user_id", "sis_login_id", "sis_integration_id", "lti_context_id", "lti_user_id", "uuid"}),
}


def segment(value: object, what: str, *, sis: str | None = None) -> str:
    """One path segment for an id: decimal ids, global ids, ``shard~id``, and, where ``sis`` names
    the kind of object (``"course"``...), the ``sis_*_id:`` forms Canvas accepts for it,
    percent-encoded.

    :param what: the parameter's name, for the message (``account_id``).
    :raises InvalidPathSegmentError: anything else (slashes, ``..``, ``?``, blanks, text).
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidPathSegmentError(f"{what} must be a Canvas id, got a {type(value).__name__}.")
    text = str(value).strip()
    if len(text) <= _MAX_TEXT and text.isascii() and (_DECIMAL.match(text) or _SHARD.match(text)):
        return text
    match = _SIS.match(text) if len(text) <= _MAX_TEXT else None
    allowed = SIS_PREFIXES.get(sis or "", frozenset())
    if match and match["prefix"] in allowed and match["value"].strip():
        # Canvas reads the value after the prefix verbatim; everything in it is escaped, "/" included.
        return f"{match['prefix']}:{quote(match['value'], safe='')}"
    forms = "a Canvas id (123), a global id (10000000000123 or 1~123)"
    if allowed:
        forms += f", or {' / '.join(sorted(f'{p}:…' for p in allowed))}"
    raise InvalidPathSegmentError(f"{what}={text[:100]!r} is not {forms}; refused before sending anything.")
