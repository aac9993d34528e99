"""Reading templated values back into the lists and dicts they were.

Jinja renders ``"{{ params.course_ids }}"`` to the *text* ``"[1, 2]"`` unless the DAG sets
``render_template_as_native_obj=True``; operators taking lists or dicts accept both.
"""

from __future__ import annotations

import ast
import json
from typing import Any


def native(value: Any) -> Any:
    """The list or dict a rendered string spells (JSON or a Python literal); anything else as is."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text or text[0] not in "[{(":
        return value
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return value


def native_values(value: Any) -> Any:
    """:func:`native` on a value and, for a dict, on each of its values (``{"ids[]": "{{ ... }}"}``)."""
    value = native(value)
    if isinstance(value, dict):
        return {key: native(item) for key, item in value.items()}
    return value
