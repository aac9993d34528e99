"""The report types a simulated account offers: names, titles, parameters, parallel or not.

From ``gems/plugins/account_reports/lib/account_reports/engine.rb``; what each contains is
:mod:`.reports_csv`'s, the HTTP side :mod:`.reports`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OBJECT_FLAGS", "REPORT_TYPES", "ReportType", "value_to_boolean"]


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
