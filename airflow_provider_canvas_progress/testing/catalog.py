"""The few Canvas objects job-starting calls touch: accounts, courses, assignments, conversations.

Batch jobs decide their outcome from this catalog the way Canvas's ``ProgressRunner`` does: an
unknown course is an error line in the message, and a job where no item succeeded ends ``failed``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Catalog", "Course"]


@dataclass
class Course:
    """A course: its account and workflow state (``available``, ``claimed``, ``completed``, ``deleted``)."""

    id: int
    account_id: int
    workflow_state: str = "available"


class Catalog:
    """Accounts, courses, assignments and conversations known to the simulator (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: set[int] = set()
        self._courses: dict[int, Course] = {}
        self._assignments: dict[int, int] = {}
        self._conversations: dict[int, frozenset[int]] = {}
        self._sections: dict[int, int] = {}

    def add_account(self, account_id: int) -> None:
        """Register an account."""
        with self._lock:
            self._accounts.add(account_id)

    def has_account(self, account_id: int) -> bool:
        """Whether the account exists."""
        with self._lock:
            return account_id in self._accounts

    def add_course(self, course_id: int, *, account_id: int = 1, workflow_state: str = "available") -> Course:
        """Register (or replace) a course; its account is registered too."""
        with self._lock:
            self._accounts.add(account_id)
            course = Course(course_id, account_id, workflow_state)
            self._courses[course_id] = course
            return course

    def course(self, course_id: int) -> Course | None:
        """Return the course, or ``None``."""
        with self._lock:
            return self._courses.get(course_id)

    def add_assignment(self, assignment_id: int, *, course_id: int) -> None:
        """Register an assignment (LTI progress lookups need the assignment's course)."""
        with self._lock:
            self._assignments[assignment_id] = course_id

    def assignment_course(self, assignment_id: int) -> int | None:
        """Return the course of an assignment, or ``None`` if unknown."""
        with self._lock:
            return self._assignments.get(assignment_id)

    def add_section(self, section_id: int, *, course_id: int) -> None:
        """Register a course section."""
        with self._lock:
            self._sections[section_id] = course_id

    def section_course(self, section_id: int) -> int | None:
        """Return a section's course; unregistered section ``N`` is the default section of course ``N``."""
        with self._lock:
            if section_id in self._sections:
                return self._sections[section_id]
            return section_id if section_id in self._courses else None

    def add_conversation(self, conversation_id: int, *, participants: Iterable[int] = (1,)) -> None:
        """Register a conversation and its participants."""
        with self._lock:
            self._conversations[conversation_id] = frozenset(participants)

    def participates(self, user_id: int, conversation_id: int) -> bool:
        """Whether the user is a participant of the conversation."""
        with self._lock:
            return user_id in self._conversations.get(conversation_id, frozenset())

    def batch_update_courses(
        self, account_id: int, course_ids: list[int], event: str
    ) -> tuple[int, dict[str, list[int]]]:
        """Apply a course batch event and return ``(processed, {error message: [course ids]})``.

        Mirrors ``Course.do_batch_update``: a course outside the account, or deleted (unless the
        event is ``undelete``), is "The course was not found"; offering a concluded course fails.
        """
        processed = 0
        errors: dict[str, list[int]] = {}
        with self._lock:
            for course_id in course_ids:
                course = self._courses.get(course_id)
                if (
                    course is None
                    or course.account_id != account_id
                    or (course.workflow_state == "deleted" and event != "undelete")
                ):
                    errors.setdefault("The course was not found", []).append(course_id)
                    continue
                if event == "offer" and course.workflow_state == "completed":
                    errors.setdefault("The course has already been concluded", []).append(course_id)
                    continue
                course.workflow_state = {
                    "offer": "available",
                    "conclude": "completed",
                    "delete": "deleted",
                    "undelete": "claimed",
                }[event]
                processed += 1
        return processed, errors
