"""Canvas calls that start a background job and answer with its Progress.

Validation messages and statuses follow the controllers (``courses_controller.rb#batch_update``,
``conversations_controller.rb#batch_update``); batch results follow ``lib/progress_runner.rb``:
``"N courses processed"`` plus one ``"<error>: <ids>"`` line per distinct error, and ``failed``
when no item succeeded.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import errors
from .jobs import Outcome
from .pipeline import STATE_KEY, Caller, add_api_route, base_url, params_of, reply
from .render import local_id_of
from .state import SimulatorState

__all__ = ["batch_message", "register"]

_COURSE_EVENTS = ("offer", "conclude", "delete", "undelete")
_CONVERSATION_EVENTS = ("mark_as_read", "mark_as_unread", "star", "unstar", "archive", "destroy")
_MODULE_EVENTS = ("publish", "unpublish", "delete")


def batch_message(noun: str, processed: int, failures: dict[str, list[int]]) -> tuple[Outcome, str]:
    """``ProgressRunner#finish_update``: the message, and ``failed`` when nothing succeeded."""
    message = f"{processed} {noun if processed == 1 else noun + 's'} processed"
    for error, ids in failures.items():
        message += f"\n{error}: {', '.join(str(i) for i in ids)}"
    return ("completed" if processed > 0 else "failed"), message


def _ids(values: list[Any]) -> list[int]:
    return [int(v) for v in values if str(v).strip().isdigit()]


def _path_id(request: web.Request, name: str) -> int | None:
    return local_id_of(request.match_info[name])


def _course_or_error(
    state: SimulatorState, request: web.Request, caller: Caller, course_id: int | None = None
) -> tuple[int, web.Response | None]:
    if course_id is None:
        course_id = _path_id(request, "course_id")
    course = state.catalog.course(course_id) if course_id is not None else None
    if course_id is None or course is None:
        return 0, errors.not_found()
    if not caller.token.can_access("Course", course_id, account_id=course.account_id):
        return course_id, errors.unauthorized(state.settings.permission_status)
    return course_id, None


def _progress_reply(request: web.Request, local_id: int) -> web.Response:
    state = request.app[STATE_KEY]
    return reply(request, state.progress_body(local_id, base_url(request)))


async def course_batch_update(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``PUT /api/v1/accounts/:account_id/courses``: cancellable by its starter."""
    state = request.app[STATE_KEY]
    account_id = _path_id(request, "account_id")
    if account_id is None or not state.catalog.has_account(account_id):
        return errors.not_found()
    if not caller.token.can_access("Account", account_id):
        return errors.unauthorized(state.settings.permission_status)
    params = await params_of(request)
    if not isinstance(params.get("course_ids"), list):
        return errors.bad_request("must specify course_ids[]")
    course_ids = _ids(params["course_ids"])
    if len(course_ids) > 500:
        # Canvas answers this one 403, not 400: neither a permission error nor a rate limit.
        return errors.bad_request("course batch size limit (500) exceeded", 403)
    event = params.get("event")
    if not event:
        return errors.bad_request("need to specify event")
    if event not in _COURSE_EVENTS:
        return errors.bad_request("invalid event")
    processed, failures = state.catalog.batch_update_courses(account_id, course_ids, str(event))
    record = state.start_job(
        tag="course_batch_update",
        context_type="Account",
        context_id=account_id,
        user_id=caller.user.id,
        result=batch_message("course", processed, failures),
    )
    return _progress_reply(request, record.local_id)


async def conversation_batch_update(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``PUT /api/v1/conversations``: a User-context job, cancellable by its starter."""
    state = request.app[STATE_KEY]
    params = await params_of(request)
    conversation_ids = params.get("conversation_ids")
    if not isinstance(conversation_ids, list):
        return errors.bad_request("conversation_ids not specified")
    if len(conversation_ids) > 500:
        return errors.bad_request("conversation batch size limit (500) exceeded")
    event = params.get("event")
    if not event:
        return errors.bad_request("event not specified")
    if event not in _CONVERSATION_EVENTS:
        return errors.bad_request("invalid event")
    processed = 0
    failures: dict[str, list[int]] = {}
    for conversation_id in _ids(conversation_ids):
        if state.catalog.participates(caller.user.id, conversation_id):
            processed += 1
        else:
            failures.setdefault("The user is not participating in this conversation", []).append(conversation_id)
    record = state.start_job(
        tag="conversation_batch_update",
        context_type="User",
        context_id=caller.user.id,
        user_id=caller.user.id,
        result=batch_message("conversation", processed, failures),
    )
    return _progress_reply(request, record.local_id)


async def update_grades(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``POST .../submissions/update_grades`` (course, assignment or section): ``submissions_update``."""
    return await _update_grades(request, caller, None)


async def _update_grades(request: web.Request, caller: Caller, course_id: int | None) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    course_id, refusal = _course_or_error(state, request, caller, course_id)
    if refusal is not None:
        return refusal
    params = await params_of(request)
    grade_data = params.get("grade_data")
    if not isinstance(grade_data, dict) or not grade_data:
        return errors.bad_request("'grade_data' parameter required")
    record = state.start_job(tag="submissions_update", context_type="Course", context_id=course_id, user_id=None)
    return _progress_reply(request, record.local_id)


async def update_section_grades(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``POST /api/v1/sections/:section_id/submissions/update_grades``: the section's course."""
    state = request.app[STATE_KEY]
    section_id = _path_id(request, "section_id")
    course_id = state.catalog.section_course(section_id) if section_id is not None else None
    if course_id is None:
        return errors.not_found()
    return await _update_grades(request, caller, course_id)


async def assignment_bulk_update(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``PUT /api/v1/courses/:course_id/assignments/bulk_update`` (a JSON array of assignments)."""
    state = request.app[STATE_KEY]
    course_id, refusal = _course_or_error(state, request, caller)
    if refusal is not None:
        return refusal
    params = await params_of(request)
    if not isinstance(params.get("_json"), list):
        return errors.bad_request("expected array")
    record = state.start_job(tag="assignment_bulk_update", context_type="Course", context_id=course_id, user_id=None)
    return _progress_reply(request, record.local_id)


async def custom_column_data(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``PUT /api/v1/courses/:course_id/custom_gradebook_column_data``."""
    state = request.app[STATE_KEY]
    course_id, refusal = _course_or_error(state, request, caller)
    if refusal is not None:
        return refusal
    params = await params_of(request)
    if not isinstance(params.get("column_data"), list):
        return errors.bad_request("Missing column data parameters")
    record = state.start_job(
        tag="custom_columns_submissions_update", context_type="Course", context_id=course_id, user_id=None
    )
    return _progress_reply(request, record.local_id)


async def assign_unassigned_members(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``POST /api/v1/group_categories/:group_category_id/assign_unassigned_members``."""
    state = request.app[STATE_KEY]
    category_id = _path_id(request, "group_category_id")
    if category_id is None:
        return errors.not_found()
    if not caller.token.can_access("GroupCategory", category_id):
        return errors.unauthorized(state.settings.permission_status)
    record = state.start_job(
        tag="assign_unassigned_members", context_type="GroupCategory", context_id=category_id, user_id=None
    )
    return _progress_reply(request, record.local_id)


async def publish_course_pace(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``POST /api/v1/courses/:course_id/course_pacing/:id/publish``.

    A singleton job: a newer publish supersedes a still-queued one, which Canvas marks
    ``canceled`` (``Progress#cancel_orphaned_progresses``).
    """
    state = request.app[STATE_KEY]
    _, refusal = _course_or_error(state, request, caller)
    if refusal is not None:
        return refusal
    pace_id = _path_id(request, "id")
    if pace_id is None:
        return errors.not_found()
    state.store.supersede_queued("course_pace_publish", "CoursePace", pace_id, state.now())
    record = state.start_job(tag="course_pace_publish", context_type="CoursePace", context_id=pace_id, user_id=None)
    return _progress_reply(request, record.local_id)


async def batch_update_modules(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``PUT /api/v1/courses/:course_id/modules``: ``{"progress": {...}}`` with ``async=true``."""
    state = request.app[STATE_KEY]
    course_id, refusal = _course_or_error(state, request, caller)
    if refusal is not None:
        return refusal
    params = await params_of(request)
    module_ids = params.get("module_ids")
    if not isinstance(module_ids, list) or not module_ids:
        return errors.bad_request("must specify module_ids[]")
    event = params.get("event")
    if not event:
        return errors.bad_request("need to specify event")
    if event not in _MODULE_EVENTS:
        return errors.bad_request("invalid event")
    if str(params.get("async", "")).lower() not in ("true", "1"):
        return reply(request, {"completed": _ids(module_ids)})
    record = state.start_job(
        tag="context_module_batch_update", context_type="Course", context_id=course_id, user_id=None
    )
    return reply(request, {"progress": state.progress_body(record.local_id, base_url(request))})


async def create_content_migration(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``POST /api/v1/courses/:course_id/content_migrations``: the migration carries ``progress_url``."""
    state = request.app[STATE_KEY]
    _, refusal = _course_or_error(state, request, caller)
    if refusal is not None:
        return refusal
    params = await params_of(request)
    migration_type = params.get("migration_type")
    if not migration_type:
        return errors.bad_request("migration_type required")
    migration_id = state.next_object_id()
    record = state.start_job(
        tag="content_migration", context_type="ContentMigration", context_id=migration_id, user_id=None
    )
    now = state.wall.iso(state.now())
    body = {
        "id": migration_id,
        "migration_type": migration_type,
        "migration_type_title": str(migration_type).replace("_", " ").title(),
        "progress_url": f"{base_url(request)}/api/v1/progress/{state.public_id(record.local_id)}",
        "user_id": caller.user.id,
        "workflow_state": "running",
        "started_at": now,
        "finished_at": None,
        "created_at": now,
    }
    return reply(request, body)


async def create_content_export(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``POST /api/v1/courses/:course_id/content_exports``: the export carries ``progress_url``."""
    state = request.app[STATE_KEY]
    _, refusal = _course_or_error(state, request, caller)
    if refusal is not None:
        return refusal
    params = await params_of(request)
    export_type = params.get("export_type")
    if export_type not in ("common_cartridge", "qti", "zip"):
        return errors.bad_request("invalid export_type")
    export_id = state.next_object_id()
    record = state.start_job(tag="content_export", context_type="ContentExport", context_id=export_id, user_id=None)
    body = {
        "id": export_id,
        "created_at": state.wall.iso(state.now()),
        "export_type": export_type,
        "progress_url": f"{base_url(request)}/api/v1/progress/{state.public_id(record.local_id)}",
        "user_id": caller.user.id,
        "workflow_state": "created",
    }
    return reply(request, body)


def register(app: web.Application) -> None:
    """Add the job-starting routes."""
    add_api_route(app, "PUT", "/api/v1/accounts/{account_id}/courses", course_batch_update)
    add_api_route(app, "PUT", "/api/v1/conversations", conversation_batch_update)
    add_api_route(app, "POST", "/api/v1/courses/{course_id}/submissions/update_grades", update_grades)
    add_api_route(
        app,
        "POST",
        "/api/v1/courses/{course_id}/assignments/{assignment_id}/submissions/update_grades",
        update_grades,
    )
    add_api_route(app, "POST", "/api/v1/sections/{section_id}/submissions/update_grades", update_section_grades)
    add_api_route(
        app,
        "POST",
        "/api/v1/sections/{section_id}/assignments/{assignment_id}/submissions/update_grades",
        update_section_grades,
    )
    add_api_route(app, "PUT", "/api/v1/courses/{course_id}/assignments/bulk_update", assignment_bulk_update)
    add_api_route(app, "PUT", "/api/v1/courses/{course_id}/custom_gradebook_column_data", custom_column_data)
    add_api_route(
        app, "POST", "/api/v1/group_categories/{group_category_id}/assign_unassigned_members", assign_unassigned_members
    )
    add_api_route(app, "POST", "/api/v1/courses/{course_id}/course_pacing/{id}/publish", publish_course_pace)
    add_api_route(app, "PUT", "/api/v1/courses/{course_id}/modules", batch_update_modules)
    add_api_route(app, "POST", "/api/v1/courses/{course_id}/content_migrations", create_content_migration)
    add_api_route(app, "POST", "/api/v1/courses/{course_id}/content_exports", create_content_export)
