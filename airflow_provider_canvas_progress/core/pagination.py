"""Following Canvas's paginated lists (``Link: <...>; rel="next"``), with no I/O and a bounded page count.

Canvas paginates every list endpoint and says where the next page is in the ``Link`` header
(``lib/api.rb``, ``Api.paginate``); the last page has no ``rel="next"``. The next link is only
followed on the connection's own origin -- the token goes nowhere else -- and at most ``max_pages``
pages are read, so a server that always answers with a next link cannot keep a task busy forever.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError, CanvasResponseError
from airflow_provider_canvas_progress.core.protocol import (
    CanvasRequest,
    CanvasResponse,
    build_request,
    interpret_response,
)
from airflow_provider_canvas_progress.core.settings import CanvasSettings, Origin

#: Pages read by default before giving up (at Canvas's usual 100 per page, 10,000 items).
DEFAULT_MAX_PAGES = 100
#: The most pages anyone may ask for.
MAX_PAGES_LIMIT = 10_000

_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]*)*)")
_REL_NEXT = re.compile(r";\s*rel\s*=\s*\"?([^\";]*)\"?", re.IGNORECASE)


def next_link(response: CanvasResponse, settings: CanvasSettings, call: CanvasRequest) -> str | None:
    """The URL of the next page, or None on the last page.

    :raises CanvasResponseError: the next link points at another origin (it is not followed).
    """
    header = response.header("Link")
    if not header:
        return None
    for match in _LINK.finditer(header[:8192]):
        rels = {rel.lower() for found in _REL_NEXT.findall(match.group(2)) for rel in found.split()}
        if "next" not in rels:
            continue
        url = match.group(1).strip()
        try:
            other = Origin.of(url)
        except ValueError:
            other = None
        if other != settings.origin:
            raise CanvasResponseError(
                f"Canvas's next-page link for {call.label} points at {other or 'an invalid URL'}, not at the "
                f"connection's {settings.origin}; it is not followed, so the token goes nowhere else.",
                method=call.method,
                path=call.path,
            )
        return url
    return None


class Pages:
    """The state of one paginated read: which page to ask for next, and the items so far.

    :param max_pages: pages to read at the most (1 to :data:`MAX_PAGES_LIMIT`).
    """

    def __init__(
        self,
        settings: CanvasSettings,
        endpoint: str,
        params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        *,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> None:
        if isinstance(max_pages, bool) or not isinstance(max_pages, int) or not 1 <= max_pages <= MAX_PAGES_LIMIT:
            raise CanvasConfigurationError(f"max_pages must be a whole number from 1 to {MAX_PAGES_LIMIT}.")
        self.settings = settings
        self.max_pages = max_pages
        self.items: list[Any] = []
        self.pages = 0
        self._next: CanvasRequest | None = build_request(settings, "GET", endpoint, params=params)

    def next_call(self) -> CanvasRequest | None:
        """The request for the next page, or None when the list is complete."""
        return self._next

    def read(self, call: CanvasRequest) -> Any:
        """The reader for the plan of ``call``: the page's items and the next link."""
        return lambda response: (interpret_response(call, response), next_link(response, self.settings, call))

    def add(self, call: CanvasRequest, page: tuple[Any, str | None]) -> None:
        """Record a page (as :meth:`read` returned it)."""
        items, link = page
        if not isinstance(items, list):
            raise CanvasResponseError(
                f"Canvas answered {call.label} with {type(items).__name__}, not a list; not a paginated endpoint?",
                method=call.method,
                path=call.path,
            )
        self.items.extend(items)
        self.pages += 1
        if link is not None and self.pages >= self.max_pages:
            raise CanvasResponseError(
                f"{call.label} has more than {self.max_pages} pages (max_pages); ask for fewer items or more pages.",
                method=call.method,
                path=call.path,
            )
        self._next = build_request(self.settings, "GET", link) if link is not None else None
