"""``/__sim__`` routes that add to the school: accounts, terms, courses, sections, assignments, users.

Each takes a JSON object whose keys are the matching ``CanvasSimulator.add_*`` parameters plus
``id``, and answers 201 with what a Canvas read would now serve (400 names a bad or missing key).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from .catalog import Catalog, Term
from .identity import User
from .pipeline import STATE_KEY
from .state import SimulatorState

__all__ = ["register"]

Adder = Callable[[SimulatorState, dict[str, Any]], None]


def _opt(data: dict[str, Any], key: str) -> str | None:
    return None if data.get(key) is None else str(data[key])


def _account(state: SimulatorState, data: dict[str, Any]) -> None:
    parent = data.get("parent_account_id")
    state.catalog.add_account(
        int(data["id"]),
        name=_opt(data, "name"),
        parent_account_id=None if parent is None else int(parent),
        sis_account_id=_opt(data, "sis_account_id"),
    )


def _term(state: SimulatorState, data: dict[str, Any]) -> None:
    state.catalog.add_term(
        Term(
            int(data["id"]),
            str(data.get("name") or f"Term {data['id']}"),
            int(data.get("account_id", 1)),
            _opt(data, "sis_term_id"),
            _opt(data, "start_at"),
            _opt(data, "end_at"),
        )
    )


def _course(state: SimulatorState, data: dict[str, Any]) -> None:
    state.catalog.add_course(
        int(data["id"]),
        account_id=int(data.get("account_id", 1)),
        workflow_state=str(data.get("workflow_state", "available")),
        name=str(data.get("name", "")),
        course_code=str(data.get("course_code", "")),
        sis_course_id=_opt(data, "sis_course_id"),
        enrollment_term_id=int(data.get("enrollment_term_id", 1)),
    )


def _section(state: SimulatorState, data: dict[str, Any]) -> None:
    catalog: Catalog = state.catalog
    catalog.add_section(
        int(data["id"]),
        course_id=int(data["course_id"]),
        name=_opt(data, "name"),
        sis_section_id=_opt(data, "sis_section_id"),
    )


def _assignment(state: SimulatorState, data: dict[str, Any]) -> None:
    state.catalog.add_assignment(
        int(data["id"]),
        course_id=int(data["course_id"]),
        name=_opt(data, "name"),
        points_possible=float(data.get("points_possible", 100.0)),
        due_at=_opt(data, "due_at"),
    )


def _user(state: SimulatorState, data: dict[str, Any]) -> None:
    user_id = int(data["id"])
    state.identity.add_user(User.named(user_id, str(data.get("name") or f"User {user_id}"), _opt(data, "login_id")))


def _route(add: Adder) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object")
            add(request.app[STATE_KEY], data)
        except KeyError as exc:
            return web.json_response({"error": f"missing {exc.args[0]!r}"}, status=400)
        except (TypeError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"added": int(data["id"])}, status=201)

    return handler


def register(app: web.Application) -> None:
    """Add the school control routes."""
    for name, add in (
        ("accounts", _account),
        ("terms", _term),
        ("courses", _course),
        ("sections", _section),
        ("assignments", _assignment),
        ("users", _user),
    ):
        app.router.add_post(f"/__sim__/{name}", _route(add))
