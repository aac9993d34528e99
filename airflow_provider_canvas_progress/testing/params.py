"""Rails-style request parameters: query string, form body and JSON body merged into one dict.

Canvas clients send ``course_ids[]=1&course_ids[]=2`` and ``grade_data[5][posted_grade]=A`` as
form fields, or the same structure as JSON; both must reach the handler as the same nested data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["ParamsError", "parse_params", "parse_rails_pairs"]

_KEY_PART = re.compile(r"\[([^\]]*)\]")


class ParamsError(ValueError):
    """The body could not be parsed."""


def parse_rails_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest ``a[b][]=1`` style pairs: ``{"a": {"b": ["1"]}}``."""
    result: dict[str, Any] = {}
    for raw_key, value in pairs:
        head, _, rest = raw_key.partition("[")
        parts = [head, *_KEY_PART.findall("[" + rest)] if rest else [head]
        _assign(result, parts, value)
    return result


def _assign(target: dict[str, Any], parts: list[str], value: str) -> None:
    node: Any = target
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        following = None if last else parts[index + 1]
        if isinstance(node, list):
            # ``x[][k]`` appends a new hash unless the last one lacks that key (Rails' rule).
            if last:
                node.append(value)
                return
            if not node or not isinstance(node[-1], dict) or following in node[-1]:
                node.append({})
            node = node[-1]
            continue
        if last:
            node[part] = value
            return
        if following == "":
            child = node.get(part)
            if not isinstance(child, list):
                child = node[part] = []
            if len(parts) == index + 2:
                child.append(value)
                return
            node = child
            continue
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child


def parse_params(query_string: str, body: bytes, content_type: str) -> dict[str, Any]:
    """Merge query and body parameters as Rails does (body keys win).

    A JSON array body (``assignments/bulk_update``) is returned under the key ``_json``, as Rails
    wraps it.

    :raises ParamsError: if a JSON body does not parse.
    """
    params = parse_rails_pairs(parse_qsl(query_string, keep_blank_values=True))
    if not body:
        return params
    if "json" in content_type:
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise ParamsError(f"invalid JSON body: {exc}") from exc
        if isinstance(parsed, dict):
            params.update(parsed)
        else:
            params["_json"] = parsed
        return params
    if "multipart" in content_type:
        return params
    text = body.decode("utf-8", errors="replace")
    params.update(parse_rails_pairs(parse_qsl(text, keep_blank_values=True)))
    return params
