"""The part of :class:`~.simulator.CanvasSimulator`'s API that adds to the school (:mod:`.school`)."""

from __future__ import annotations

from collections.abc import Iterable

from .catalog import Course, Term
from .state import SimulatorState

__all__ = ["SchoolMethods"]


class SchoolMethods:
    """Accounts, terms, courses, sections, assignments and conversations (mixed into ``CanvasSimulator``)."""

    _state: SimulatorState

    def add_account(
        self,
        account_id: int,
        *,
        name: str | None = None,
        parent_account_id: int | None = None,
        sis_account_id: str | None = None,
    ) -> None:
        """Register (or replace) an account; ``parent_account_id`` makes it a sub-account."""
        self._state.catalog.add_account(
            account_id, name=name, parent_account_id=parent_account_id, sis_account_id=sis_account_id
        )

    def add_term(
        self,
        term_id: int,
        *,
        name: str | None = None,
        account_id: int = 1,
        sis_term_id: str | None = None,
        start_at: str | None = None,
        end_at: str | None = None,
    ) -> None:
        """Register (or replace) an enrollment term of a root account (timestamps in ISO 8601)."""
        self._state.catalog.add_term(
            Term(term_id, name or f"Term {term_id}", account_id, sis_term_id, start_at, end_at)
        )

    def add_course(
        self,
        course_id: int,
        *,
        account_id: int = 1,
        workflow_state: str = "available",
        name: str = "",
        course_code: str = "",
        sis_course_id: str | None = None,
        enrollment_term_id: int = 1,
    ) -> None:
        """Register (or replace) a course; course batch jobs only succeed for known courses."""
        self._state.catalog.add_course(
            course_id,
            account_id=account_id,
            workflow_state=workflow_state,
            name=name,
            course_code=course_code,
            sis_course_id=sis_course_id,
            enrollment_term_id=enrollment_term_id,
        )

    def course(self, course_id: int) -> Course | None:
        """Return a course (to check what a batch update did), or ``None``."""
        return self._state.catalog.course(course_id)

    def add_assignment(
        self, assignment_id: int, *, course_id: int, name: str | None = None, points_possible: float = 100.0
    ) -> None:
        """Register an assignment; LTI Progress lookups need the Progress's assignment in the course."""
        self._state.catalog.add_assignment(
            assignment_id, course_id=course_id, name=name, points_possible=points_possible
        )

    def add_section(
        self, section_id: int, *, course_id: int, name: str | None = None, sis_section_id: str | None = None
    ) -> None:
        """Register a section (unregistered section N is the default section of course N)."""
        self._state.catalog.add_section(section_id, course_id=course_id, name=name, sis_section_id=sis_section_id)

    def add_conversation(self, conversation_id: int, *, participants: Iterable[int] = (1,)) -> None:
        """Register a conversation (1..100 exist by default, with user 1 in them)."""
        self._state.catalog.add_conversation(conversation_id, participants=participants)
