"""Canvas JSON for the school's objects, with the fields canvasapi and DAG code read.

Shapes follow ``lib/api/v1/account.rb``, ``lib/api/v1/course_json.rb``, ``lib/api/v1/section.rb``,
``lib/api/v1/assignment.rb`` and ``lib/api/v1/enrollment_term.rb`` for their default fields
(no ``include[]``). Pure functions over catalog records.
"""

from __future__ import annotations

from typing import Any

from .catalog import Account, Assignment, Course, Section, Term

__all__ = ["account_json", "assignment_json", "course_json", "section_json", "term_json"]

#: The API shows a course that was never published (``created``/``claimed``) as ``unpublished``.
_COURSE_API_STATES = {"created": "unpublished", "claimed": "unpublished"}


def account_json(account: Account, *, root_account_id: int) -> dict[str, Any]:
    """An account; ``root_account_id`` is ``null`` for a root account."""
    return {
        "id": account.id,
        "name": account.name,
        "uuid": f"sim-account-{account.id:08d}",
        "parent_account_id": account.parent_account_id,
        "root_account_id": None if account.parent_account_id is None else root_account_id,
        "workflow_state": "active",
        "default_time_zone": "America/Denver",
        "sis_account_id": account.sis_account_id,
        "integration_id": None,
        "sis_import_id": None,
    }


def course_json(course: Course, *, root_account_id: int, created_at: str, base_url: str) -> dict[str, Any]:
    """A course as ``GET /api/v1/courses/:id`` shows it to an admin."""
    return {
        "id": course.id,
        "name": course.name,
        "account_id": course.account_id,
        "uuid": f"sim-course-{course.id:08d}",
        "start_at": None,
        "grading_standard_id": None,
        "is_public": False,
        "created_at": created_at,
        "course_code": course.course_code,
        "default_view": "modules",
        "root_account_id": root_account_id,
        "enrollment_term_id": course.enrollment_term_id,
        "license": "private",
        "grade_passback_setting": None,
        "end_at": None,
        "public_syllabus": False,
        "public_syllabus_to_auth": False,
        "storage_quota_mb": 500,
        "is_public_to_auth_users": False,
        "homeroom_course": False,
        "course_color": None,
        "friendly_name": None,
        "apply_assignment_group_weights": False,
        "calendar": {"ics": f"{base_url}/feeds/calendars/course_sim{course.id}.ics"},
        "time_zone": "America/Denver",
        "blueprint": False,
        "template": False,
        "sis_course_id": course.sis_course_id,
        "sis_import_id": None,
        "integration_id": None,
        "hide_final_grades": False,
        "workflow_state": _COURSE_API_STATES.get(course.workflow_state, course.workflow_state),
        "restrict_enrollments_to_course_dates": False,
    }


def section_json(section: Section, *, sis_course_id: str | None) -> dict[str, Any]:
    """A course section."""
    return {
        "id": section.id,
        "course_id": section.course_id,
        "name": section.name,
        "start_at": None,
        "end_at": None,
        "created_at": None,
        "restrict_enrollments_to_section_dates": None,
        "nonxlist_course_id": None,
        "sis_section_id": section.sis_section_id,
        "sis_course_id": sis_course_id,
        "integration_id": None,
        "sis_import_id": None,
    }


def assignment_json(assignment: Assignment, *, created_at: str, base_url: str) -> dict[str, Any]:
    """An assignment (the fields canvasapi's ``Assignment`` and grading code read)."""
    return {
        "id": assignment.id,
        "name": assignment.name,
        "description": None,
        "created_at": created_at,
        "updated_at": created_at,
        "due_at": assignment.due_at,
        "lock_at": None,
        "unlock_at": None,
        "course_id": assignment.course_id,
        "html_url": f"{base_url}/courses/{assignment.course_id}/assignments/{assignment.id}",
        "assignment_group_id": assignment.course_id,
        "points_possible": assignment.points_possible,
        "grading_type": "points",
        "submission_types": ["online_upload"],
        "position": assignment.id % 100,
        "published": True,
        "workflow_state": "published",
        "muted": False,
        "anonymous_grading": False,
        "moderated_grading": False,
        "omit_from_final_grade": False,
    }


def term_json(term: Term, *, created_at: str) -> dict[str, Any]:
    """An enrollment term."""
    return {
        "id": term.id,
        "name": term.name,
        "start_at": term.start_at,
        "end_at": term.end_at,
        "created_at": created_at,
        "workflow_state": "active",
        "grading_period_group_id": None,
        "sis_term_id": term.sis_term_id,
        "sis_import_id": None,
    }
