"""The Canvas objects DAG code reads and job-starting calls touch: accounts, terms, courses, sections,
assignments, conversations. Their JSON is :mod:`.school_json`'s job; the seeded school is :mod:`.school`.

Batch jobs decide their outcome from this catalog the way Canvas's ``ProgressRunner`` does: an
unknown course is an error line in the message, and a job where no item succeeded ends ``failed``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Account", "Assignment", "Catalog", "Course", "Section", "Term"]


@dataclass
class Course:
    """A course: its account and workflow state (``available``, ``claimed``, ``completed``, ``deleted``)."""

    id: int
    account_id: int
    workflow_state: str = "available"
    name: str = ""
    course_code: str = ""
    sis_course_id: str | None = None
    enrollment_term_id: int = 1

    def __post_init__(self) -> None:
        self.name = self.name or f"Course {self.id}"
        self.course_code = self.course_code or f"C{self.id}"


@dataclass(frozen=True)
class Account:
    """An account; ``parent_account_id`` is ``None`` for a root account."""

    id: int
    name: str
    parent_account_id: int | None = None
    sis_account_id: str | None = None


@dataclass(frozen=True)
class Term:
    """An enrollment term of a root account."""

    id: int
    name: str
    account_id: int = 1
    sis_term_id: str | None = None
    start_at: str | None = None
    end_at: str | None = None


@dataclass(frozen=True)
class Section:
    """A course section."""

    id: int
    course_id: int
    name: str
    sis_section_id: str | None = None


@dataclass(frozen=True)
class Assignment:
    """An assignment of a course."""

    id: int
    course_id: int
    name: str
    points_possible: float = 100.0
    due_at: str | None = None


class Catalog:
    """Accounts, courses, assignments and conversations known to the simulator (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[int, Account] = {}
        self._terms: dict[int, Term] = {}
        self._courses: dict[int, Course] = {}
        self._assignments: dict[int, Assignment] = {}
        self._conversations: dict[int, frozenset[int]] = {}
        self._sections: dict[int, Section] = {}

    def add_account(
        self,
        account_id: int,
        *,
        name: str | None = None,
        parent_account_id: int | None = None,
        sis_account_id: str | None = None,
    ) -> Account:
        """Register (or replace) an account; a sub-account names its parent."""
        account = Account(account_id, name or f"Account {account_id}", parent_account_id, sis_account_id)
        with self._lock:
            self._accounts[account_id] = account
            return account

    def _ensure_account(self, account_id: int) -> None:
        if account_id not in self._accounts:
            self._accounts[account_id] = Account(account_id, f"Account {account_id}")

    def account(self, account_id: int) -> Account | None:
        """Return the account, or ``None``."""
        with self._lock:
            return self._accounts.get(account_id)

    def accounts(self) -> list[Account]:
        """Every account, by id."""
        with self._lock:
            return sorted(self._accounts.values(), key=lambda a: a.id)

    def root_of(self, account_id: int) -> int:
        """The root account above an account (itself for a root)."""
        with self._lock:
            seen: set[int] = set()
            current = self._accounts.get(account_id)
            while current is not None and current.parent_account_id is not None and current.id not in seen:
                seen.add(current.id)
                parent = self._accounts.get(current.parent_account_id)
                if parent is None:
                    break
                current = parent
            return current.id if current is not None else account_id

    def add_term(self, term: Term) -> Term:
        """Register (or replace) an enrollment term."""
        with self._lock:
            self._terms[term.id] = term
            return term

    def terms(self, account_id: int) -> list[Term]:
        """The terms of a root account, by id."""
        with self._lock:
            return sorted((t for t in self._terms.values() if t.account_id == account_id), key=lambda t: t.id)

    def courses(self) -> list[Course]:
        """Every course, by id."""
        with self._lock:
            return sorted(self._courses.values(), key=lambda c: c.id)

    def course_by_sis_id(self, sis_course_id: str) -> Course | None:
        """The course with this ``sis_course_id``, or ``None``."""
        with self._lock:
            return next((c for c in self._courses.values() if c.sis_course_id == sis_course_id), None)

    def has_account(self, account_id: int) -> bool:
        """Whether the account exists."""
        with self._lock:
            return account_id in self._accounts

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
    ) -> Course:
        """Register (or replace) a course; its account is registered too."""
        with self._lock:
            self._ensure_account(account_id)
            course = Course(course_id, account_id, workflow_state, name, course_code, sis_course_id, enrollment_term_id)
            self._courses[course_id] = course
            return course

    def course(self, course_id: int) -> Course | None:
        """Return the course, or ``None``."""
        with self._lock:
            return self._courses.get(course_id)

    def add_assignment(
        self,
        assignment_id: int,
        *,
        course_id: int,
        name: str | None = None,
        points_possible: float = 100.0,
        due_at: str | None = None,
    ) -> Assignment:
        """Register an assignment (LTI progress lookups need the assignment's course)."""
        assignment = Assignment(
            assignment_id, course_id, name or f"Assignment {assignment_id}", points_possible, due_at
        )
        with self._lock:
            self._assignments[assignment_id] = assignment
            return assignment

    def assignment(self, assignment_id: int) -> Assignment | None:
        """Return the assignment, or ``None``."""
        with self._lock:
            return self._assignments.get(assignment_id)

    def assignments(self, course_id: int) -> list[Assignment]:
        """A course's assignments, by id."""
        with self._lock:
            return sorted((a for a in self._assignments.values() if a.course_id == course_id), key=lambda a: a.id)

    def assignment_course(self, assignment_id: int) -> int | None:
        """Return the course of an assignment, or ``None`` if unknown."""
        with self._lock:
            found = self._assignments.get(assignment_id)
            return found.course_id if found is not None else None

    def add_section(
        self, section_id: int, *, course_id: int, name: str | None = None, sis_section_id: str | None = None
    ) -> Section:
        """Register a course section."""
        section = Section(section_id, course_id, name or f"Section {section_id}", sis_section_id)
        with self._lock:
            self._sections[section_id] = section
            return section

    def section(self, section_id: int) -> Section | None:
        """Return a section; unregistered section ``N`` is the default section of course ``N``."""
        with self._lock:
            if section_id in self._sections:
                return self._sections[section_id]
            course = self._courses.get(section_id)
            return Section(section_id, section_id, course.name) if course is not None else None

    def sections(self, course_id: int) -> list[Section]:
        """A course's sections: the registered ones, else its default section."""
        with self._lock:
            found = sorted((s for s in self._sections.values() if s.course_id == course_id), key=lambda s: s.id)
        if found:
            return found
        default = self.section(course_id)
        return [default] if default is not None and default.course_id == course_id else []

    def section_course(self, section_id: int) -> int | None:
        """Return a section's course; unregistered section ``N`` is the default section of course ``N``."""
        section = self.section(section_id)
        return section.course_id if section is not None else None

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
