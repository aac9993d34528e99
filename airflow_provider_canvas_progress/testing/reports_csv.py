"""What a finished report contains: CSVs (a zip of ``<part>.csv`` for several parts) from the school.

Headers follow ``gems/plugins/account_reports/lib/account_reports/sis_exporter.rb`` (``sis_export_csv``
writes import-ready headers and only objects SIS created; ``provisioning_csv`` adds Canvas ids and
``created_by_sis``), ``grade_reports.rb`` and ``student_reports.rb``. Rows come from the simulator's
school: its catalog's courses and terms and its students, plus enrollments, scores and last logins
derived from their ids (the catalog keeps none), so the same school always gives the same files and
a course a test adds shows up in the next provisioning report.

Pure functions over plain data.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .catalog import Course, Term
from .reports_data import OBJECT_FLAGS, value_to_boolean

__all__ = ["Enrollment", "ReportFile", "ReportInput", "Student", "build_report_file", "enrollments"]


@dataclass(frozen=True)
class Student:
    """A student as reports see one: Canvas id, name, SIS id and login, and when they last used Canvas."""

    id: int
    name: str
    sis_id: str
    login_id: str

    @property
    def last_access_days_ago(self) -> int:
        return (self.id * 7) % 30


@dataclass(frozen=True)
class Enrollment:
    """A student enrollment in a course's default section, with its current score."""

    user_id: int
    course_id: int
    score: float


def enrollments(students: Sequence[Student], course_ids: Sequence[int]) -> list[Enrollment]:
    """Up to three enrollments per student over the given courses, with scores from 55 to 99."""
    if not course_ids:
        return []
    ordered = sorted(course_ids)
    rows: list[Enrollment] = []
    for student in students:
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


@dataclass(frozen=True)
class ReportInput:
    """Everything a report's rows are built from, at the moment it ends.

    :param term_ids: the terms ``enrollment_term_id`` named; ``None`` for every term.
    """

    courses: Sequence[Course]
    students: Sequence[Student]
    terms: Mapping[int, Term]
    now: datetime
    parameters: Mapping[str, Any]
    term_ids: frozenset[int] | None = None

    def courses_in_scope(self, *, include_deleted: bool) -> list[Course]:
        rows = [c for c in self.courses if self.term_ids is None or c.enrollment_term_id in self.term_ids]
        if not include_deleted:
            rows = [c for c in rows if c.workflow_state not in ("deleted", "completed")]
        return rows

    def term_text(self) -> str:
        if not self.term_ids:
            return "All Terms"
        return ", ".join(self.terms[t].name for t in sorted(self.term_ids) if t in self.terms)


def _csv(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        # Ruby writes booleans lower case.
        writer.writerow(["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in row])
    return out.getvalue().encode()


def _names(student: Student) -> tuple[str, str]:
    first, _, last = student.name.partition(" ")
    return first, last


_COURSE_STATES = {"claimed": "unpublished", "created": "unpublished", "completed": "concluded", "deleted": "deleted"}
_SIS_HEADERS = {
    "users": "user_id login_id password first_name last_name full_name sortable_name short_name email status",
    "terms": "term_id name status start_date end_date",
    "courses": "course_id short_name long_name account_id term_id status start_date end_date",
    "enrollments": "course_id user_id role role_id section_id status associated_user_id",
    "accounts": "account_id parent_account_id name status",
}
_PROVISIONING_HEADERS = {
    "users": "canvas_user_id user_id login_id first_name last_name full_name sortable_name short_name email status "
    "created_by_sis",
    "terms": "canvas_term_id term_id name status start_date end_date created_by_sis",
    "courses": "canvas_course_id course_id short_name long_name canvas_account_id account_id canvas_term_id term_id "
    "status start_date end_date created_by_sis",
    "enrollments": "canvas_course_id course_id canvas_user_id user_id role role_id canvas_section_id section_id status "
    "canvas_associated_user_id associated_user_id created_by_sis",
    "accounts": "canvas_account_id account_id canvas_parent_id parent_account_id name status created_by_sis",
}


def _rows(part: str, given: ReportInput, *, sis_format: bool) -> list[list[object]]:
    """One part's rows; ``sis_format`` keeps only what SIS created, without Canvas ids."""
    courses = given.courses_in_scope(include_deleted=value_to_boolean(given.parameters.get("include_deleted")))
    if sis_format:
        courses = [c for c in courses if c.sis_course_id]
    rows: list[list[object]] = []
    if part == "users":
        for s in given.students:
            first, last = _names(s)
            names = [first, last, s.name, f"{last}, {first}", s.name, s.login_id, "active"]
            rows.append(
                [s.sis_id, s.login_id, None, *names] if sis_format else [s.id, s.sis_id, s.login_id, *names, True]
            )
    elif part == "terms":
        for t in given.terms.values():
            cells: list[object] = [t.sis_term_id, t.name, "active", t.start_at, t.end_at]
            if sis_format and t.sis_term_id:
                rows.append(cells)
            elif not sis_format:
                rows.append([t.id, *cells, bool(t.sis_term_id)])
    elif part == "courses":
        for c in courses:
            term = given.terms.get(c.enrollment_term_id)
            sis_term = term.sis_term_id if term is not None else None
            if sis_format:
                status = c.workflow_state if c.workflow_state in ("deleted", "completed") else "active"
                rows.append([c.sis_course_id, c.course_code, c.name, None, sis_term, status, None, None])
            else:
                status = _COURSE_STATES.get(c.workflow_state, "active")
                ids = [c.id, c.sis_course_id, c.course_code, c.name, c.account_id, None, c.enrollment_term_id]
                rows.append([*ids, sis_term, status, None, None, bool(c.sis_course_id)])
    elif part == "enrollments":
        by_id = {c.id: c for c in courses}
        by_user = {s.id: s for s in given.students}
        for e in enrollments(given.students, list(by_id)):
            s, c = by_user[e.user_id], by_id[e.course_id]
            if sis_format:
                rows.append([c.sis_course_id, s.sis_id, "student", 3, None, "active", None])
            else:
                rows.append([c.id, c.sis_course_id, s.id, s.sis_id, "student", 3, None, None, "active", None, None])
                rows[-1].append(bool(c.sis_course_id))
    return rows


def _exporter(given: ReportInput, *, sis_format: bool) -> tuple[dict[str, bytes], str]:
    parts = [flag for flag in OBJECT_FLAGS if value_to_boolean(given.parameters.get(flag))]
    text = f"Term: {given.term_text()};"
    if value_to_boolean(given.parameters.get("include_deleted")):
        text += " Include Deleted Objects;"
    text += " Reports: " + " ".join(parts)
    headers = _SIS_HEADERS if sis_format else _PROVISIONING_HEADERS
    files = {
        # Sections, groups and the rest: the simulated school keeps none, so only a header row.
        part: _csv(headers.get(part, f"{part}_id status").split(), _rows(part, given, sis_format=sis_format))
        for part in parts
    }
    return files, text


_GRADES = ((90.0, "A"), (80.0, "B"), (70.0, "C"), (60.0, "D"))
_GRADE_HEADERS = [
    *("student name", "student id", "student sis", "course", "course id", "course sis", "section", "section id"),
    *("section sis", "term", "term id", "term sis", "current score", "final score", "enrollment state"),
    *("unposted current score", "unposted final score", "current grade", "final grade", "unposted current grade"),
    "unposted final grade",
]


def _grade_export(given: ReportInput) -> tuple[dict[str, bytes], str]:
    include_deleted = value_to_boolean(given.parameters.get("include_deleted"))
    by_id = {c.id: c for c in given.courses_in_scope(include_deleted=include_deleted)}
    by_user = {s.id: s for s in given.students}
    rows = []
    for e in enrollments(given.students, list(by_id)):
        s, c = by_user[e.user_id], by_id[e.course_id]
        term = given.terms.get(c.enrollment_term_id)
        grade = next((letter for floor, letter in _GRADES if e.score >= floor), "F")
        who = [s.name, s.id, s.sis_id, c.name, c.id, c.sis_course_id, c.name, None, None]
        when = [term.name if term else None, c.enrollment_term_id, term.sis_term_id if term else None]
        rows.append([*who, *when, e.score, e.score, "active", e.score, e.score, grade, grade, grade, grade])
    return {"grade_export_csv": _csv(_GRADE_HEADERS, rows)}, f"Term: {given.term_text()};"


def _stamp(given: ReportInput, days_ago: int) -> str:
    return (given.now - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _last_user_access(given: ReportInput) -> tuple[dict[str, bytes], str]:
    students = list(given.students)
    course_id = str(given.parameters.get("course_id") or "").strip()
    if given.term_ids is not None or course_id:
        scope = {c.id for c in given.courses_in_scope(include_deleted=True)}
        if course_id:
            scope &= {int(course_id)} if course_id.isdigit() else set()
        every = [c.id for c in given.courses]
        enrolled = {e.user_id for e in enrollments(given.students, every) if e.course_id in scope}
        students = [s for s in students if s.id in enrolled]
    rows = []
    for s in students:
        first, last = _names(s)
        rows.append([s.id, s.sis_id, f"{last}, {first}", _stamp(given, s.last_access_days_ago), f"10.0.0.{s.id % 250}"])
    headers = ["user id", "user sis id", "user name", "last access at", "last ip"]
    return {"last_user_access_csv": _csv(headers, rows)}, f"Term: {given.term_text()};"


def _last_enrollment_activity(given: ReportInput) -> tuple[dict[str, bytes], str]:
    rows = [[s.id, s.name, _stamp(given, s.last_access_days_ago + 1)] for s in given.students]
    headers = ["user id", "user name", "last activity at"]
    return {"last_enrollment_activity_csv": _csv(headers, rows)}, f"Term: {given.term_text()};"


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
