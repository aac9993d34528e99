"""What an SIS import does to an account's SIS data: counts, statistics, row errors, batch-mode deletes.

Pure logic over a :class:`SisRegistry` (the SIS objects one root account holds, keyed by SIS id).
Row messages follow the wording of ``lib/sis/*_importer.rb``; statistics and counts follow
``SisBatch#data`` (``statistics`` lives *inside* ``data``); batch mode deletes the term's courses,
sections and enrollments an earlier import made and this one left out, unless ``change_threshold``
(percent, per object type) would be exceeded: then nothing is deleted and the import is aborted
with "N courses would be deleted and exceeds the set threshold of t%".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .sis_csv import RUN_ORDER, CsvFile, Message, ParsedUpload

__all__ = ["BatchOptions", "Entry", "ImportPlan", "SisRegistry", "Term", "TermBook", "apply_deletions", "run_import"]

_MODELS = {
    "accounts": "Account",
    "terms": "EnrollmentTerm",
    "courses": "Course",
    "sections": "CourseSection",
    "users": "Pseudonym",
    "enrollments": "Enrollment",
    "group_categories": "GroupCategory",
    "groups": "Group",
    "group_memberships": "GroupMembership",
    "user_observers": "UserObserver",
}
_STATUSES = {
    "accounts": ("active", "deleted"),
    "terms": ("active", "deleted"),
    "courses": ("active", "deleted", "completed", "unpublished", "published"),
    "sections": ("active", "deleted"),
    "users": ("active", "deleted", "suspended"),
    "enrollments": ("active", "deleted", "completed", "inactive", "deleted_last_completed"),
}
_ROLES = ("student", "teacher", "ta", "observer", "designer")
#: Where each importer finds a row's SIS id, and the message when it is missing.
_KEYS = {
    "accounts": ("account_id", "No account_id given for an account"),
    "terms": ("term_id", "No term_id given for a term"),
    "courses": ("course_id", "No course_id given for a course"),
    "sections": ("section_id", "No section_id given for a section"),
    "users": ("user_id", "No user_id given for a user"),
}
_BATCH_OBJECTS = (("courses", "courses"), ("sections", "sections"), ("enrollments", "enrollments"))


@dataclass
class Term:
    """An enrollment term of the root account (``batch_mode_term_id`` names one)."""

    id: int
    name: str
    sis_id: str | None = None
    workflow_state: str = "active"


@dataclass
class Entry:
    """One SIS-created object: its state, the term it belongs to, and the import that last wrote it."""

    state: str
    term_id: int | None
    batch_id: int


class TermBook(Protocol):
    """Where a root account's terms live (the simulator's catalog): read and add."""

    def terms(self, account_id: int) -> list[Any]: ...
    def add_term(self, term: Any) -> Any: ...


@dataclass
class SisRegistry:
    """The SIS data of one root account (mutated by imports, in strand order).

    Terms are the account's terms in the simulator's catalog when one is given (so a terms.csv
    import shows in ``GET /accounts/:id/terms``, and the school's terms serve ``batch_mode_term_id``);
    without one, a local list starting with Canvas's "Default Term".
    """

    objects: dict[str, dict[str, Entry]] = field(default_factory=dict)
    book: TermBook | None = None
    account_id: int = 1
    local_terms: list[Term] = field(default_factory=lambda: [Term(1, "Default Term")])
    deleted_terms: set[int] = field(default_factory=set)

    @property
    def terms(self) -> list[Term]:
        """The account's terms, in id order (the first is the default term of rows naming none)."""
        listed = self.book.terms(self.account_id) if self.book is not None else []
        if not listed:
            return [t for t in self.local_terms if t.id not in self.deleted_terms] + [
                t for t in self.local_terms if t.id in self.deleted_terms
            ]
        return [
            Term(t.id, t.name, t.sis_term_id, "deleted" if t.id in self.deleted_terms else "active") for t in listed
        ]

    def add_term(self, name: str, sis_id: str | None, *, active: bool = True) -> Term:
        """Create a term (the catalog's when there is one) and return it."""
        term = Term(max((t.id for t in self.terms), default=0) + 1, name, sis_id, "active" if active else "deleted")
        if self.book is not None:
            self.book.add_term(_catalog_term(term.id, name, self.account_id, sis_id))
        else:
            self.local_terms.append(term)
        if not active:
            self.deleted_terms.add(term.id)
        return term

    def set_term(self, term: Term, name: str, state: str) -> None:
        """A terms.csv row for an existing term: its name and state."""
        if self.book is not None:
            self.book.add_term(_catalog_term(term.id, name, self.account_id, term.sis_id))
        else:
            term.name = name
        if state == "deleted":
            self.deleted_terms.add(term.id)
        else:
            self.deleted_terms.discard(term.id)

    def term(self, reference: str) -> Term | None:
        """An active term by id or ``sis_term_id:<id>`` (``api_find``)."""
        sis = reference.removeprefix("sis_term_id:") if reference.startswith("sis_term_id:") else None
        for term in self.terms:
            if term.workflow_state != "active":
                continue
            if (sis is not None and term.sis_id == sis) or (
                sis is None and reference.isdigit() and term.id == int(reference)
            ):
                return term
        return None

    def table(self, importer: str) -> dict[str, Entry]:
        """The objects one importer writes."""
        return self.objects.setdefault(importer, {})


def _catalog_term(term_id: int, name: str, account_id: int, sis_id: str | None) -> Any:
    from .catalog import Term as CatalogTerm

    return CatalogTerm(term_id, name, account_id, sis_id)


@dataclass(frozen=True)
class BatchOptions:
    """The create parameters the import itself reads."""

    batch_mode: bool = False
    batch_term_id: int | None = None
    multi_term: bool = False
    change_threshold: int | None = None
    skip_deletes: bool = False
    batch_enrollment_drop_status: str = "deleted"


@dataclass
class ImportPlan:
    """The result of running an import: applied to the registry except ``deletions``, kept for cleanup."""

    counts: dict[str, int]
    statistics: dict[str, Any]
    messages: list[Message]
    deletions: list[tuple[str, str, str]] = field(default_factory=list)
    threshold_abort: str | None = None
    supplied_batches: list[str] = field(default_factory=list)
    failed: bool = False
    rows: int = 0
    crash: str | None = None


def _blank_counts() -> dict[str, int]:
    counts = {name: 0 for name in RUN_ORDER}
    counts.update(
        abstract_courses=0,
        logins=0,
        grade_publishing_results=0,
        batch_courses_deleted=0,
        batch_sections_deleted=0,
        batch_enrollments_deleted=0,
        error_count=0,
        warning_count=0,
    )
    return counts


def _blank_statistics() -> dict[str, Any]:
    stats: dict[str, Any] = {"total_state_changes": 0}
    for model in _MODELS.values():
        stats[model] = {"created": 0, "restored": 0, "deleted": 0}
    stats["Course"]["concluded"] = 0
    stats["Enrollment"].update(concluded=0, deactivated=0)
    return stats


class _Run:
    def __init__(self, registry: SisRegistry, options: BatchOptions, batch_id: int) -> None:
        self.registry, self.options, self.batch_id = registry, options, batch_id
        self.counts = _blank_counts()
        self.stats = _blank_statistics()
        self.messages: list[Message] = []
        self.terms_seen: set[int] = set()

    def error(self, file: CsvFile, row: int, message: str) -> None:
        self.messages.append(Message(file.name, message, row))

    def change(self, importer: str, key: str, state: str, term_id: int | None) -> None:
        table = self.registry.table(importer)
        prior = table.get(key)
        model = self.stats.get(_MODELS.get(importer, ""))
        verb = None
        if state == "deleted" and prior is not None and prior.state != "deleted":
            verb = "deleted"
        elif state == "completed" and (prior is None or prior.state != "completed") and importer != "terms":
            verb = "concluded" if importer in ("courses", "enrollments") else None
        elif state == "inactive" and importer == "enrollments":
            verb = "deactivated"
        elif state not in ("deleted",) and prior is None:
            verb = "created"
        elif state not in ("deleted",) and prior is not None and prior.state == "deleted":
            verb = "restored"
        if model is not None and verb is not None:
            model[verb] += 1
            self.stats["total_state_changes"] += 1
        table[key] = Entry(state, term_id, self.batch_id)
        self.counts[importer] += 1

    def row(self, file: CsvFile, number: int, row: dict[str, str]) -> None:
        importer = file.importer
        status = row.get("status", "active").lower() or "active"
        allowed = _STATUSES.get(importer)
        if importer in _KEYS:
            column, missing = _KEYS[importer]
            key = row.get(column, "")
            if not key:
                return self.error(file, number, missing)
            if allowed is not None and status not in allowed:
                noun = importer.rstrip("s")
                return self.error(file, number, f'Improper status "{status}" for {noun} {key}')
            if importer == "users" and not row.get("login_id"):
                return self.error(file, number, f"No login_id given for user {key}")
            if importer == "terms":
                return self.term(file, number, key, row, status)
            if importer == "courses":
                return self.course(file, number, key, row, status)
            if importer == "sections":
                return self.section(file, number, key, row, status)
            return self.change(importer, key, status, None)
        if importer == "enrollments":
            return self.enrollment(file, number, row, status)
        self.counts[importer] += 1
        return None

    def term(self, file: CsvFile, number: int, key: str, row: dict[str, str], status: str) -> None:
        if not row.get("name"):
            return self.error(file, number, f"No name given for term {key}")
        term = next((t for t in self.registry.terms if t.sis_id == key), None)
        if term is None:
            term = self.registry.add_term(row["name"], key, active=status != "deleted")
        else:
            self.registry.set_term(term, row["name"], status)
        self.change("terms", key, status, term.id)
        return None

    def course(self, file: CsvFile, number: int, key: str, row: dict[str, str], status: str) -> None:
        if not row.get("short_name"):
            return self.error(file, number, f"No short_name given for course {key}")
        if not row.get("long_name"):
            return self.error(file, number, f"No long_name given for course {key}")
        term_ref = row.get("term_id", "")
        term = self.registry.term(f"sis_term_id:{term_ref}") if term_ref else self.registry.terms[0]
        if term is None:
            term = self.registry.terms[0]
            self.messages.append(
                Message(file.name, f"Course {key} references term {term_ref} which doesn't exist", number)
            )
        self.terms_seen.add(term.id)
        self.change("courses", key, "deleted" if status == "deleted" else status, term.id)
        return None

    def section(self, file: CsvFile, number: int, key: str, row: dict[str, str], status: str) -> None:
        course_id = row.get("course_id", "")
        if not course_id:
            return self.error(file, number, f"No course_id given for a section {key}")
        if not row.get("name"):
            return self.error(file, number, f"No name given for section {key} in course {course_id}")
        course = self.registry.table("courses").get(course_id)
        if course is None:
            return self.error(file, number, f"Section {key} references course {course_id} which doesn't exist")
        self.change("sections", key, status, course.term_id)
        return None

    def enrollment(self, file: CsvFile, number: int, row: dict[str, str], status: str) -> None:
        course_id, section_id, user_id = row.get("course_id", ""), row.get("section_id", ""), row.get("user_id", "")
        role = row.get("role", "").lower()
        if not course_id and not section_id:
            return self.error(file, number, "No course_id or section_id given for an enrollment")
        if not user_id:
            return self.error(file, number, "No user_id given for an enrollment")
        if role not in _ROLES:
            return self.error(file, number, f'Improper role "{role}" for an enrollment')
        if status not in _STATUSES["enrollments"]:
            return self.error(file, number, f'Improper status "{status}" for an enrollment')
        course = self.registry.table("courses").get(course_id) if course_id else None
        section = self.registry.table("sections").get(section_id) if section_id else None
        if course is None and section is None:
            return self.error(
                file,
                number,
                "Neither course nor section existed for user enrollment "
                f"(Course ID: {course_id}, Section ID: {section_id}, User ID: {user_id})",
            )
        if user_id not in self.registry.table("users"):
            return self.error(
                file,
                number,
                f"User not found for enrollment (User ID: {user_id}, Course ID: {course_id}, "
                f"Section ID: {section_id}, Role: {role})",
            )
        owner = course if course is not None else section
        term_id = owner.term_id if owner is not None else None
        self.change("enrollments", f"{course_id}|{section_id}|{user_id}|{role}", status, term_id)
        return None

    def cleanup(self, plan: ImportPlan) -> None:
        """Batch mode: what would be deleted, or the threshold abort that prevents it."""
        options = self.options
        if not options.batch_mode or options.skip_deletes:
            return
        terms = self.terms_seen if options.multi_term else {options.batch_term_id}
        for importer, noun in _BATCH_OBJECTS:
            table = self.registry.table(importer)
            active = [k for k, e in table.items() if e.term_id in terms and e.state != "deleted"]
            stale = [k for k in active if table[k].batch_id != self.batch_id]
            if not stale:
                continue
            threshold = options.change_threshold
            if threshold is not None and len(stale) * 100 > threshold * len(active):
                plan.threshold_abort = (
                    f"{len(stale)} {noun} would be deleted and exceeds the set threshold of {threshold}%"
                )
                plan.messages.append(Message("", plan.threshold_abort))
                plan.deletions.clear()
                return
            state = options.batch_enrollment_drop_status if importer == "enrollments" else "deleted"
            plan.deletions.extend((importer, key, state) for key in stale)


def run_import(parsed: ParsedUpload, registry: SisRegistry, options: BatchOptions, batch_id: int) -> ImportPlan:
    """Run an import's rows against ``registry`` (mutating it) and plan its batch-mode cleanup.

    A failure while reading (bad headers, invalid UTF-8, not a zip) imports nothing.
    """
    run = _Run(registry, options, batch_id)
    plan = ImportPlan(run.counts, run.stats, run.messages)
    plan.messages.extend(parsed.messages)
    if parsed.failed:
        plan.failed = True
    else:
        if options.multi_term and not any(f.importer == "courses" for f in parsed.files):
            plan.threshold_abort = "No terms present in this import for multi term batch mode"
        for file in parsed.files:
            plan.supplied_batches.append(file.importer.rstrip("s") if file.importer != "xlists" else "xlist")
            for index, row in enumerate(file.rows):
                plan.rows += 1
                run.row(file, index + 2, row)
        if plan.threshold_abort is None:
            run.cleanup(plan)
    # Row errors are warnings (failure: false); only failures are "errors" (processing_errors).
    plan.counts["error_count"] = sum(1 for m in plan.messages if m.failure)
    plan.counts["warning_count"] = len(plan.messages) - plan.counts["error_count"]
    return plan


def apply_deletions(registry: SisRegistry, plan: ImportPlan) -> None:
    """The cleanup_batch step: delete what the plan found stale, and count it."""
    for importer, key, state in plan.deletions:
        entry = registry.table(importer).get(key)
        if entry is None or entry.state == "deleted":
            continue
        entry.state = state
        verb = (
            "deleted"
            if state in ("deleted", "deleted_last_completed")
            else ("concluded" if state == "completed" else "deactivated")
        )
        plan.statistics[_MODELS[importer]][verb] += 1
        plan.statistics["total_state_changes"] += 1
        plan.counts[f"batch_{importer}_deleted"] += 1
