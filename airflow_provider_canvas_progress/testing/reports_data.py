"""What account reports contain: the report types an account offers, and their CSV files.

The offered types, titles and parameters follow ``gems/plugins/account_reports/lib/account_reports/
engine.rb``; headers follow ``sis_exporter.rb`` (``sis_export_csv`` writes import-ready headers,
``provisioning_csv`` adds Canvas ids and ``created_by_sis``), ``grade_reports.rb`` and
``student_reports.rb``. Rows come from the simulator's own catalog (its courses and accounts) and
the root account's terms (shared with SIS imports), and a small deterministic school (students,
enrollments, scores, last logins), so a test can check that a course it added shows up in the
next provisioning report.

Pure functions over plain data: the HTTP side is :mod:`.reports`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .sis_import import Term

__all__ = [
    "OBJECT_FLAGS",
    "REPORT_TYPES",
    "Enrollment",
    "ReportFile",
    "ReportType",
    "School",
    "Student",
    "build_report_file",
    "value_to_boolean",
]


@dataclass(frozen=True)
class ReportType:
    """One report an account offers: ``GET /api/v1/accounts/:id/reports`` lists these.

    :param parallel: run by parallel runners (``write_report_in_batches``): such a report passes
        through ``compiling`` and stops at once when aborted; a single-job report runs on.
    """

    name: str
    title: str
    parameters: Mapping[str, tuple[bool, str]] = field(default_factory=dict)
    parallel: bool = False

    def listing(self) -> dict[str, Any] | None:
        """The ``parameters`` value of the listing: ``null`` when the report takes none."""
        if not self.parameters:
            return None
        return {name: {"required": required, "description": text} for name, (required, text) in self.parameters.items()}


_TERM = "The canvas id of the term of courses to report on"
#: The object flags of provisioning_csv and sis_export_csv, in the exporter's file order.
OBJECT_FLAGS = (
    "users",
    "accounts",
    "terms",
    "courses",
    "sections",
    "enrollments",
    "groups",
    "group_categories",
    "group_membership",
    "xlist",
    "user_observers",
    "admins",
)


def _exporter_parameters(noun: str) -> dict[str, tuple[bool, str]]:
    params: dict[str, tuple[bool, str]] = {"enrollment_term_id": (False, _TERM)}
    params.update({flag: (False, f"Get the {noun} file for {flag}") for flag in OBJECT_FLAGS})
    params["created_by_sis"] = (False, "Only include objects that were created by sis")
    params["include_deleted"] = (False, "Include deleted objects")
    return params


_PROVISIONING = _exporter_parameters("Provisioning")
_PROVISIONING["enrollment_filter"] = (False, "Include objects from the specified role types.")
_PROVISIONING["enrollment_states"] = (False, "Include objects from the specified states.")

#: The reports the simulated account offers, by name.
REPORT_TYPES: Mapping[str, ReportType] = {
    t.name: t
    for t in (
        ReportType(
            "grade_export_csv",
            "Grade Export",
            {
                "enrollment_term_id": (False, "The canvas id of the term to get grades from"),
                "include_deleted": (False, "Include deleted objects"),
            },
            parallel=True,
        ),
        ReportType(
            "last_user_access_csv",
            "Last User Access",
            {
                "enrollment_term_id": (False, "The canvas id of the term to get grades from"),
                "course_id": (False, "The course to report on"),
                "include_deleted": (False, "Include deleted objects"),
            },
        ),
        ReportType(
            "last_enrollment_activity_csv",
            "Last Enrollment Activity",
            {
                "enrollment_term_id": (False, "The canvas id of the term's courses to get activity from"),
                "course_id": (False, "The course's enrollments to report on"),
            },
        ),
        ReportType("provisioning_csv", "Provisioning", _PROVISIONING),
        ReportType("sis_export_csv", "SIS Export", _exporter_parameters("SIS")),
    )
}


def value_to_boolean(value: object) -> bool:
    """Canvas's ``value_to_boolean``: ``true``/``1``/``on``/``yes`` (any case) and ``True`` are true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in ("true", "1", "on", "yes", "t", "y")


@dataclass(frozen=True)
class Student:
    """A student with a SIS login, and when they last used Canvas."""

    id: int
    name: str
    sis_id: str
    last_access_days_ago: int


@dataclass(frozen=True)
class Enrollment:
    """A student enrollment in a course's default section, with its current score."""

    user_id: int
    course_id: int
    score: float


@dataclass(frozen=True)
class CourseRow:
    """A course as the reports see it (from the catalog, plus a term and SIS ids)."""

    id: int
    account_id: int
    workflow_state: str
    term_id: int

    @property
    def sis_id(self) -> str:
        return f"C{self.id:04d}"


class School:
    """The simulated school's students and enrollments, and which term each course is in (editable).

    Terms themselves are the root account's (the ones SIS imports use, :class:`.sis_import.SisRegistry`):
    a course is in term 1, "Default Term", unless :meth:`place_course` moved it, as a Canvas course
    with no term is. Forty students are each enrolled in three courses.
    """

    def __init__(self) -> None:
        self.students: dict[int, Student] = {
            uid: Student(uid, f"Student {uid - 1000:02d}", f"S{uid:05d}", (uid * 7) % 30) for uid in range(1001, 1041)
        }
        self.course_terms: dict[int, int] = {}

    def term_of(self, course_id: int) -> int:
        """The course's term id."""
        return self.course_terms.get(course_id, 1)

    def place_course(self, course_id: int, term_id: int) -> None:
        """Move a course into a term."""
        self.course_terms[course_id] = term_id

    def enrollments(self, course_ids: Sequence[int]) -> list[Enrollment]:
        """Three enrollments per student over the given courses, with deterministic scores."""
        if not course_ids:
            return []
        ordered = sorted(course_ids)
        rows: list[Enrollment] = []
        for student in self.students.values():
            picked = {ordered[(student.id * 7 + k * 13) % len(ordered)] for k in range(3)}
            for course_id in sorted(picked):
                rows.append(Enrollment(student.id, course_id, float(55 + (student.id * 31 + course_id * 17) % 45)))
        return rows


@dataclass(frozen=True)
class ReportFile:
    """The file a finished report attaches: Canvas names it ``<report>_<DD_Mon_YYYY>_<id>.<csv|zip>``."""

    filename: str
    content_type: str
    data: bytes


def _csv(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode()


@dataclass(frozen=True)
class ReportInput:
    """Everything a report's rows are built from, at the moment it ends."""

    account_id: int
    courses: Sequence[CourseRow]
    school: School
    terms: Mapping[int, Term]
    now: datetime
    parameters: Mapping[str, Any]
    term_ids: frozenset[int] | None = None

    def courses_in_scope(self, *, include_deleted: bool) -> list[CourseRow]:
        rows = [c for c in self.courses if self.term_ids is None or c.term_id in self.term_ids]
        if not include_deleted:
            rows = [c for c in rows if c.workflow_state not in ("deleted", "completed")]
        return rows


_COURSE_STATES = {"claimed": "unpublished", "created": "unpublished", "completed": "concluded", "deleted": "deleted"}


def _exporter_part(part: str, given: ReportInput, *, sis_format: bool) -> bytes:
    include_deleted = value_to_boolean(given.parameters.get("include_deleted"))
    courses = given.courses_in_scope(include_deleted=include_deleted)
    school = given.school
    if part == "users":
        if sis_format:
            headers = ["user_id", "login_id", "password", "first_name", "last_name", "full_name"]
            headers += ["sortable_name", "short_name", "email", "status"]
        else:
            headers = ["canvas_user_id", "user_id", "login_id", "first_name", "last_name", "full_name"]
            headers += ["sortable_name", "short_name", "email", "status", "created_by_sis"]
        rows: list[list[object]] = []
        for s in school.students.values():
            first, last = s.name.split(" ", 1)
            login = f"{s.sis_id.lower()}@example.edu"
            row: list[object] = [s.sis_id, login, None] if sis_format else [s.id, s.sis_id, login]
            row += [first, last, s.name, f"{last}, {first}", s.name, login, "active"]
            rows.append(row if sis_format else [*row, "true"])
        return _csv(headers, rows)
    if part == "terms":
        if sis_format:
            headers = ["term_id", "name", "status", "start_date", "end_date"]
        else:
            headers = ["canvas_term_id", "term_id", "name", "status", "start_date", "end_date", "created_by_sis"]
        terms = [t for t in given.terms.values() if not sis_format or t.sis_id is not None]
        rows = [
            [t.sis_id, t.name, t.workflow_state, None, None]
            if sis_format
            else [t.id, t.sis_id, t.name, t.workflow_state, None, None, str(t.sis_id is not None).lower()]
            for t in terms
        ]
        return _csv(headers, rows)
    if part == "courses":
        if sis_format:
            headers = ["course_id", "short_name", "long_name", "account_id", "term_id", "status", "start_date"]
            headers += ["end_date"]
        else:
            headers = ["canvas_course_id", "course_id", "short_name", "long_name", "canvas_account_id", "account_id"]
            headers += ["canvas_term_id", "term_id", "status", "start_date", "end_date", "created_by_sis"]
        rows = []
        for c in courses:
            term = given.terms.get(c.term_id)
            sis_term = term.sis_id if term is not None else None
            if sis_format:
                status = c.workflow_state if c.workflow_state in ("deleted", "completed") else "active"
                rows.append([c.sis_id, f"C{c.id}", f"Course {c.id}", None, sis_term, status, None, None])
            else:
                status = _COURSE_STATES.get(c.workflow_state, "active")
                row = [c.id, c.sis_id, f"C{c.id}", f"Course {c.id}", c.account_id, None, c.term_id, sis_term, status]
                rows.append([*row, None, None, "true"])
        return _csv(headers, rows)
    if part == "enrollments":
        if sis_format:
            headers = ["course_id", "user_id", "role", "role_id", "section_id", "status", "associated_user_id"]
        else:
            headers = ["canvas_course_id", "course_id", "canvas_user_id", "user_id", "role", "role_id"]
            headers += ["canvas_section_id", "section_id", "status", "canvas_associated_user_id"]
            headers += ["associated_user_id", "created_by_sis"]
        by_id = {c.id: c for c in courses}
        rows = []
        for e in school.enrollments(list(by_id)):
            student = school.students[e.user_id]
            course = by_id[e.course_id]
            if sis_format:
                rows.append([course.sis_id, student.sis_id, "student", 3, None, "active", None])
            else:
                row = [course.id, course.sis_id, student.id, student.sis_id, "student", 3, course.id, None, "active"]
                rows.append([*row, None, None, "true"])
        return _csv(headers, rows)
    if part == "accounts":
        headers = ["account_id", "parent_account_id", "name", "status"]
        if not sis_format:
            headers = ["canvas_account_id", "account_id", "canvas_parent_id", "parent_account_id", "name", "status"]
            headers += ["created_by_sis"]
        return _csv(headers, [])
    # Sections, groups and the rest: the simulated school keeps none, so only the header row.
    return _csv([f"{part}_id", "status"], [])


def _exporter(given: ReportInput, *, sis_format: bool) -> tuple[dict[str, bytes], str]:
    parts = [flag for flag in OBJECT_FLAGS if value_to_boolean(given.parameters.get(flag))]
    text = f"Term: {_term_text(given)};"
    if value_to_boolean(given.parameters.get("include_deleted")):
        text += " Include Deleted Objects;"
    text += " Reports: " + " ".join(parts)
    return {part: _exporter_part(part, given, sis_format=sis_format) for part in parts}, text


_GRADES = ((90.0, "A"), (80.0, "B"), (70.0, "C"), (60.0, "D"))


def _grade_export(given: ReportInput) -> tuple[dict[str, bytes], str]:
    include_deleted = value_to_boolean(given.parameters.get("include_deleted"))
    by_id = {c.id: c for c in given.courses_in_scope(include_deleted=include_deleted)}
    school = given.school
    headers = ["student name", "student id", "student sis", "course", "course id", "course sis", "section"]
    headers += ["section id", "section sis", "term", "term id", "term sis", "current score", "final score"]
    headers += ["enrollment state", "unposted current score", "unposted final score", "current grade"]
    headers += ["final grade", "unposted current grade", "unposted final grade"]
    rows = []
    for e in school.enrollments(list(by_id)):
        s, c = school.students[e.user_id], by_id[e.course_id]
        term = given.terms.get(c.term_id)
        grade = next((letter for floor, letter in _GRADES if e.score >= floor), "F")
        student = [s.name, s.id, s.sis_id, f"Course {c.id}", c.id, c.sis_id, f"Course {c.id}", c.id, None]
        term_cells = [term.name if term else None, c.term_id, term.sis_id if term else None]
        rows.append([*student, *term_cells, e.score, e.score, "active", e.score, e.score, grade, grade, grade, grade])
    return {"grade_export_csv": _csv(headers, rows)}, f"Term: {_term_text(given)};"


def _last_user_access(given: ReportInput) -> tuple[dict[str, bytes], str]:
    school = given.school
    students = list(school.students.values())
    course_id = given.parameters.get("course_id")
    if given.term_ids is not None or course_id not in (None, ""):
        courses = {c.id for c in given.courses_in_scope(include_deleted=True)}
        if course_id not in (None, ""):
            courses &= {int(str(course_id))} if str(course_id).isdigit() else set()
        enrolled = {e.user_id for e in school.enrollments([c.id for c in given.courses]) if e.course_id in courses}
        students = [s for s in students if s.id in enrolled]
    rows = []
    for s in students:
        first, last = s.name.split(" ", 1)
        seen = (given.now - timedelta(days=s.last_access_days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append([s.id, s.sis_id, f"{last}, {first}", seen, f"10.0.0.{s.id % 250}"])
    headers = ["user id", "user sis id", "user name", "last access at", "last ip"]
    return {"last_user_access_csv": _csv(headers, rows)}, f"Term: {_term_text(given)};"


def _last_enrollment_activity(given: ReportInput) -> tuple[dict[str, bytes], str]:
    rows = [
        [s.id, s.name, (given.now - timedelta(days=s.last_access_days_ago + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")]
        for s in given.school.students.values()
    ]
    return {"last_enrollment_activity_csv": _csv(["user id", "user name", "last activity at"], rows)}, (
        f"Term: {_term_text(given)};"
    )


def _term_text(given: ReportInput) -> str:
    if not given.term_ids:
        return "All Terms"
    return ", ".join(given.terms[t].name for t in sorted(given.term_ids) if t in given.terms)


def build_report_file(report: str, report_id: int, given: ReportInput) -> tuple[ReportFile | None, str]:
    """Build a finished report's file and its ``extra_text``.

    One part is a CSV, several are a zip of ``<part>.csv`` (``AccountReports.report_attachment``);
    none (provisioning or SIS export with no object flag) is no file, which Canvas ends ``error``.
    """
    if report == "provisioning_csv":
        parts, text = _exporter(given, sis_format=False)
    elif report == "sis_export_csv":
        parts, text = _exporter(given, sis_format=True)
    elif report == "grade_export_csv":
        parts, text = _grade_export(given)
    elif report == "last_user_access_csv":
        parts, text = _last_user_access(given)
    else:
        parts, text = _last_enrollment_activity(given)
    stem = f"{report}_{given.now.strftime('%d_%b_%Y')}_{report_id}"
    if not parts:
        return None, text
    if len(parts) == 1:
        return ReportFile(f"{stem}.csv", "text/csv", next(iter(parts.values()))), text
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(f"{name}.csv", data)
    return ReportFile(f"{stem}.zip", "application/zip", buffer.getvalue()), text
