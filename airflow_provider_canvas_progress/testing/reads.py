"""Read endpoints for the school DAG code fetches before it starts jobs: accounts, terms, courses,
sections and assignments (users are in :mod:`.app`).

Objects are found by id or by SIS id (``sis_course_id:BIO101-2026FA``, as ``lib/api.rb``'s
``api_find`` accepts); an unknown or deleted object is the standard 404, one the token may not read
is the permission error. Lists are paginated with Canvas's ``Link`` header (:mod:`.paging`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from . import errors
from .catalog import Account, Course
from .paging import paginate
from .pipeline import STATE_KEY, Caller, add_api_route, base_url, reply
from .render import local_id_of
from .school_json import account_json, assignment_json, course_json, section_json, term_json
from .state import SimulatorState

__all__ = ["register"]

T = TypeVar("T")


def _lookup(raw: str, sis_prefix: str, by_id: Callable[[int], T | None], by_sis: Callable[[str], T | None]) -> T | None:
    """``api_find``: a local or global id, or ``<sis_prefix>:<value>``."""
    if raw.startswith(sis_prefix + ":"):
        return by_sis(raw[len(sis_prefix) + 1 :])
    local = local_id_of(raw)
    return by_id(local) if local is not None else None


def _paged(request: web.Request, items: Sequence[Any], wrap: str | None = None) -> web.Response:
    page = paginate(items, f"{base_url(request)}{request.path}", request.query.items())
    response = reply(request, {wrap: list(page.items)} if wrap else list(page.items))
    response.headers["Link"] = page.link
    return response


def _course(state: SimulatorState, raw: str) -> Course | None:
    course = _lookup(raw, "sis_course_id", state.catalog.course, state.catalog.course_by_sis_id)
    return course if course is not None and course.workflow_state != "deleted" else None


def _account(state: SimulatorState, raw: str) -> Account | None:
    def by_sis(sis_id: str) -> Account | None:
        return next((a for a in state.catalog.accounts() if a.sis_account_id == sis_id), None)

    return _lookup(raw, "sis_account_id", state.catalog.account, by_sis)


def _can_read_course(caller: Caller, course: Course) -> bool:
    return caller.token.can_access("Course", course.id, account_id=course.account_id)


def _course_body(request: web.Request, course: Course) -> dict[str, Any]:
    state = request.app[STATE_KEY]
    return course_json(
        course,
        root_account_id=state.catalog.root_of(course.account_id),
        created_at=state.wall.iso(state.started_at),
        base_url=base_url(request),
    )


def _readable_account(request: web.Request, caller: Caller) -> Account | web.Response:
    """The path's account, or Canvas's 404 (unknown) or permission error (not the caller's)."""
    state = request.app[STATE_KEY]
    account = _account(state, request.match_info["account_id"])
    if account is None:
        return errors.not_found()
    if not caller.token.can_access("Account", account.id):
        return errors.unauthorized(state.settings.permission_status)
    return account


def _account_body(state: SimulatorState, account: Account) -> dict[str, Any]:
    return account_json(account, root_account_id=state.catalog.root_of(account.id))


async def list_accounts(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/accounts``: the accounts the caller administers."""
    state = request.app[STATE_KEY]
    visible = [a for a in state.catalog.accounts() if caller.token.can_access("Account", a.id)]
    return _paged(request, [_account_body(state, a) for a in visible])


async def show_account(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/accounts/:id``."""
    state = request.app[STATE_KEY]
    account = _readable_account(request, caller)
    if isinstance(account, web.Response):
        return account
    return reply(request, _account_body(state, account))


async def list_sub_accounts(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/accounts/:id/sub_accounts`` (``recursive=true`` for every level)."""
    state = request.app[STATE_KEY]
    account = _readable_account(request, caller)
    if isinstance(account, web.Response):
        return account
    recursive = request.query.get("recursive", "").lower() in ("true", "1")
    found: list[Account] = []
    parents = {account.id}
    for candidate in state.catalog.accounts():
        if candidate.parent_account_id in parents:
            found.append(candidate)
            if recursive:
                parents.add(candidate.id)
    return _paged(request, [_account_body(state, a) for a in found])


async def list_account_courses(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/accounts/:id/courses``: the account's courses (not deleted), by id.

    ``enrollment_term_id`` (an id or ``sis_term_id:...``) keeps one term's courses.
    """
    state = request.app[STATE_KEY]
    account = _readable_account(request, caller)
    if isinstance(account, web.Response):
        return account
    courses = [c for c in state.catalog.courses() if c.account_id == account.id and c.workflow_state != "deleted"]
    term = request.query.get("enrollment_term_id")
    if term is not None:
        terms = state.catalog.terms(state.catalog.root_of(account.id))
        found = _lookup(
            term,
            "sis_term_id",
            lambda i: next((t for t in terms if t.id == i), None),
            lambda sis: next((t for t in terms if t.sis_term_id == sis), None),
        )
        courses = [c for c in courses if found is not None and c.enrollment_term_id == found.id]
    return _paged(request, [_course_body(request, c) for c in courses])


async def list_terms(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/accounts/:id/terms``: ``{"enrollment_terms": [...]}``, paginated."""
    state = request.app[STATE_KEY]
    account = _readable_account(request, caller)
    if isinstance(account, web.Response):
        return account
    created = state.wall.iso(state.started_at)
    terms = state.catalog.terms(state.catalog.root_of(account.id))
    return _paged(request, [term_json(t, created_at=created) for t in terms], wrap="enrollment_terms")


async def list_courses(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/courses``: the courses the caller can read."""
    state = request.app[STATE_KEY]
    courses = [c for c in state.catalog.courses() if c.workflow_state != "deleted" and _can_read_course(caller, c)]
    return _paged(request, [_course_body(request, c) for c in courses])


def _readable_course(request: web.Request, caller: Caller) -> Course | web.Response:
    state = request.app[STATE_KEY]
    course = _course(state, request.match_info["course_id"])
    if course is None:
        return errors.not_found()
    if not _can_read_course(caller, course):
        return errors.unauthorized(state.settings.permission_status)
    return course


async def show_course(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/courses/:id`` (or ``sis_course_id:...``)."""
    course = _readable_course(request, caller)
    return course if isinstance(course, web.Response) else reply(request, _course_body(request, course))


async def list_sections(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/courses/:course_id/sections``."""
    course = _readable_course(request, caller)
    if isinstance(course, web.Response):
        return course
    sections = request.app[STATE_KEY].catalog.sections(course.id)
    return _paged(request, [section_json(s, sis_course_id=course.sis_course_id) for s in sections])


async def show_section(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/sections/:id`` and ``/courses/:course_id/sections/:id``."""
    state = request.app[STATE_KEY]

    def by_sis(sis_id: str) -> Any:
        return next(
            (s for c in state.catalog.courses() for s in state.catalog.sections(c.id) if s.sis_section_id == sis_id),
            None,
        )

    section = _lookup(request.match_info["section_id"], "sis_section_id", state.catalog.section, by_sis)
    course = state.catalog.course(section.course_id) if section is not None else None
    in_course = request.match_info.get("course_id")
    if section is None or course is None or (in_course is not None and _course(state, in_course) is not course):
        return errors.not_found()
    if not _can_read_course(caller, course):
        return errors.unauthorized(state.settings.permission_status)
    return reply(request, section_json(section, sis_course_id=course.sis_course_id))


async def list_assignments(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/courses/:course_id/assignments``."""
    course = _readable_course(request, caller)
    if isinstance(course, web.Response):
        return course
    state = request.app[STATE_KEY]
    created = state.wall.iso(state.started_at)
    found = state.catalog.assignments(course.id)
    return _paged(request, [assignment_json(a, created_at=created, base_url=base_url(request)) for a in found])


async def show_assignment(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/courses/:course_id/assignments/:id``."""
    course = _readable_course(request, caller)
    if isinstance(course, web.Response):
        return course
    state = request.app[STATE_KEY]
    local = local_id_of(request.match_info["assignment_id"])
    assignment = state.catalog.assignment(local) if local is not None else None
    if assignment is None or assignment.course_id != course.id:
        return errors.not_found()
    created = state.wall.iso(state.started_at)
    return reply(request, assignment_json(assignment, created_at=created, base_url=base_url(request)))


def register(app: web.Application) -> None:
    """Add the read routes."""
    add_api_route(app, "GET", "/api/v1/accounts", list_accounts)
    add_api_route(app, "GET", "/api/v1/accounts/{account_id}", show_account)
    add_api_route(app, "GET", "/api/v1/accounts/{account_id}/sub_accounts", list_sub_accounts)
    add_api_route(app, "GET", "/api/v1/accounts/{account_id}/courses", list_account_courses)
    add_api_route(app, "GET", "/api/v1/accounts/{account_id}/terms", list_terms)
    add_api_route(app, "GET", "/api/v1/courses", list_courses)
    add_api_route(app, "GET", "/api/v1/courses/{course_id}", show_course)
    add_api_route(app, "GET", "/api/v1/courses/{course_id}/sections", list_sections)
    add_api_route(app, "GET", "/api/v1/courses/{course_id}/sections/{section_id}", show_section)
    add_api_route(app, "GET", "/api/v1/sections/{section_id}", show_section)
    add_api_route(app, "GET", "/api/v1/courses/{course_id}/assignments", list_assignments)
    add_api_route(app, "GET", "/api/v1/courses/{course_id}/assignments/{assignment_id}", show_assignment)
