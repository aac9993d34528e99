"""Canvas's pagination: ``page``/``per_page`` and the ``Link`` header of ``lib/api.rb``.

``Api.paginate`` reads ``per_page`` (default 10, at most 100; below 1 means the default) and
``page`` (from 1), and sends ``Link`` with the ``current``, ``next``, ``prev``, ``first`` and
``last`` relations, in that order, each the request's own URL with ``page`` and ``per_page`` set.
Pure functions, so the header can be checked without a socket.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

__all__ = ["DEFAULT_PER_PAGE", "MAX_PER_PAGE", "Page", "paginate"]

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


def paginate(items: Sequence[T], url: str, query: Mapping[str, str]) -> Page[T]:
    """Cut ``items`` to the requested page and build its ``Link`` header.

    :param url: ``scheme://host/path`` of the request, without the query.
    :param query: the request's query parameters; every one is kept in the links.
    """
    per_page = _number(query.get("per_page"), DEFAULT_PER_PAGE)
    per_page = DEFAULT_PER_PAGE if per_page < 1 else min(per_page, MAX_PER_PAGE)
    page = max(_number(query.get("page"), 1), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    kept = [(k, v) for k, v in query.items() if k not in ("page", "per_page")]

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
