"""The aiohttp application: Progress, LTI Progress and users/self routes, plus the wiring.

Job-starting calls live in :mod:`.starters`, the token endpoint in :mod:`.oauth`, the ``/__sim__``
control API in :mod:`.control`.
"""

from __future__ import annotations

from aiohttp import web

from . import control, errors, oauth, reads, reports, school_control, sis, sis_control, starters
from .pipeline import STATE_KEY, Caller, add_api_route, base_url, canvas_middleware, params_of, reply
from .render import local_id_of, user_json
from .state import SimulatorState

__all__ = ["build_app"]


async def show_progress(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/progress/:id`` (``progress_controller.rb#show``).

    The id is looked up first (unknown: 404 for everyone), then the caller needs read on the
    Progress's *context*; being its creator is neither needed nor enough.
    """
    state = request.app[STATE_KEY]
    local = local_id_of(request.match_info["id"])
    view = state.store.view(local, state.now()) if local is not None else None
    if local is None or view is None:
        return errors.not_found()
    if not _can_read(state, caller, view.context_type, view.context_id):
        return errors.unauthorized(state.settings.permission_status)
    return reply(request, state.progress_body(local, base_url(request)))


async def cancel_progress(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``POST /api/v1/progress/:id/cancel`` (``progress_controller.rb#cancel``).

    Only the user who started the job may cancel (``given { |user| self.user == user }``); a job
    with no user can be cancelled by nobody. Then ``failed`` with the posted message, or ``null``,
    whatever the state was.
    """
    state = request.app[STATE_KEY]
    local = local_id_of(request.match_info["id"])
    record = state.store.get(local) if local is not None else None
    if local is None or record is None:
        return errors.not_found()
    if record.user_id is None or record.user_id != caller.user.id:
        return errors.unauthorized(state.settings.permission_status)
    params = await params_of(request)
    message = params.get("message")
    state.store.cancel(local, state.now(), None if message is None else str(message))
    return reply(request, state.progress_body(local, base_url(request)))


async def show_lti_progress(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/lti/courses/:course_id/progress/:id`` (``lti/ims/progress_controller.rb``).

    After the token checks: the course must exist and not be concluded (``Course.not_completed
    .find``: the standard 404), the tool must be installed there, the Progress must exist (404),
    belong to an Assignment (403) of a course this tool is linked to (422). ``url`` is the LTI path.
    """
    state = request.app[STATE_KEY]
    course_id = local_id_of(request.match_info["course_id"])
    course = state.catalog.course(course_id) if course_id is not None else None
    if course_id is None or course is None or course.workflow_state in ("completed", "deleted"):
        return errors.not_found()
    if not caller.token.can_access("Course", course_id):
        return errors.lti_error(401, "Access Token not linked to a Tool associated with this Context")
    local = local_id_of(request.match_info["id"])
    view = state.store.view(local, state.now()) if local is not None else None
    if local is None or view is None:
        return errors.not_found()
    if view.context_type != "Assignment":
        return errors.lti_error(
            403, "Tool does not have permission to view a Progress not associated with an Assignment"
        )
    if state.catalog.assignment_course(view.context_id) != course_id:
        return errors.lti_error(422, "Progress associated with Assignment that isn't linked to this Tool")
    url = f"{base_url(request)}/api/lti/courses/{course_id}/progress/{state.public_id(local)}"
    return reply(request, state.progress_body(local, base_url(request), url=url))


async def show_user(request: web.Request, caller: Caller) -> web.StreamResponse:
    """``GET /api/v1/users/self`` (and ``/users/:id``): the caller, or a user an admin may see."""
    state = request.app[STATE_KEY]
    raw = request.match_info["id"]
    if raw == "self":
        user = caller.user
    else:
        user_id = local_id_of(raw)
        found = state.identity.user(user_id) if user_id is not None else None
        if found is None:
            return errors.not_found()
        if found.id != caller.user.id and caller.token.contexts is not None:
            return errors.unauthorized(state.settings.permission_status)
        user = found
    return reply(request, user_json(user, wall=state.wall, created_at=state.started_at))


def _progress_exists(request: web.Request) -> bool:
    state = request.app[STATE_KEY]
    local = local_id_of(request.match_info["id"])
    return local is not None and state.store.get(local) is not None


def _can_read(state: SimulatorState, caller: Caller, context_type: str, context_id: int) -> bool:
    account_id = None
    if context_type == "Course":
        course = state.catalog.course(context_id)
        account_id = course.account_id if course is not None else None
    return caller.token.can_access(context_type, context_id, account_id=account_id)


def build_app(state: SimulatorState) -> web.Application:
    """Build the application serving one simulator's state."""
    app = web.Application(middlewares=[canvas_middleware], client_max_size=16 * 1024**2)
    app[STATE_KEY] = state
    add_api_route(app, "GET", "/api/v1/progress/{id}", show_progress, exists=_progress_exists)
    add_api_route(app, "POST", "/api/v1/progress/{id}/cancel", cancel_progress, exists=_progress_exists)
    add_api_route(app, "GET", "/api/lti/courses/{course_id}/progress/{id}", show_lti_progress, auth="lti")
    add_api_route(app, "GET", "/api/v1/users/{id}", show_user)
    reads.register(app)
    starters.register(app)
    reports.register(app)
    oauth.register(app)
    control.register(app)
    school_control.register(app)
    sis.register(app)
    sis_control.register(app)
    return app
