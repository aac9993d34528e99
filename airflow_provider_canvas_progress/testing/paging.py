"""Canvas's pagination: ``page``/``per_page`` and the ``Link`` header of ``lib/api.rb``.

``Api.paginate`` reads ``per_page`` (default 10, at most 100; below 1 means the default) and
``page`` (from 1), and sends ``Link`` with the ``current``, ``next``, ``prev``, ``first`` and
``last`` relations, in that order (``build_links_from_hash``), each the request's own URL with
its other query parameters sorted as Rails' ``to_query`` does (``access_token`` and ``api_key``
left out), then ``page`` and ``per_page``.
Pure functions, so the header can be checked without a socket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

__all__ = ["DEFAULT_PER_PAGE", "MAX_PER_PAGE", "Page", "paginate"]

#: ``EXCLUDE_IN_PAGINATION_LINKS``: never echoed into links.
_EXCLUDED = frozenset({"page", "per_page", "access_token", "api_key"})
DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Sequence[T]):
    """One page of a list and the ``Link`` header that goes with it."""

    items: Sequence[T]
    link: str

    def __getitem__(self, index: int) -> T:  # type: ignore[override]
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)


def _number(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


def paginate(items: Sequence[T], url: str, query: Iterable[tuple[str, str]]) -> Page[T]:
    """Cut ``items`` to the requested page and build its ``Link`` header.

    :param url: ``scheme://host/path`` of the request, without the query.
    :param query: the request's query parameters (repeated keys allowed); kept in the links.
    """
    pairs = list(query)
    given = dict(pairs)
    per_page = _number(given.get("per_page"), DEFAULT_PER_PAGE)
    per_page = DEFAULT_PER_PAGE if per_page < 1 else min(per_page, MAX_PER_PAGE)
    page = max(_number(given.get("page"), 1), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    kept = sorted(((k, v) for k, v in pairs if k not in _EXCLUDED), key=lambda pair: pair[0])

    def link(number: int, rel: str) -> str:
        return f'<{url}?{urlencode([*kept, ("page", str(number)), ("per_page", str(per_page))])}>; rel="{rel}"'

    relations = [link(page, "current")]
    if page < last:
        relations.append(link(page + 1, "next"))
    if page > 1:
        relations.append(link(page - 1, "prev"))
    relations += [link(1, "first"), link(last, "last")]
    start = (page - 1) * per_page
    return Page(items[start : start + per_page], ",".join(relations))
