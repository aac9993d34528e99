"""A report's ``parameters``, checked where Canvas checks them before a report is started.

``AccountReportsController#create`` refuses a term it cannot find (400); the exporters end a report
``error`` when no object flag is set (``sis_exporter.rb``); and Canvas sends its "report generated"
message unless ``parameters[skip_message]`` is *present and truthy in Ruby*
(``AccountReports.message_recipient``), where the string ``"false"`` is truthy: turning the message
back on means leaving the key out. Pure code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.core.report_refs import check_report_name

__all__ = ["OBJECT_FLAGS", "build_report_parameters"]

#: The object flags of ``provisioning_csv`` and ``sis_export_csv``
#: (``gems/plugins/account_reports/lib/account_reports/engine.rb``).
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
_EXPORTERS = ("provisioning_csv", "sis_export_csv")
_TERM_KEYS = ("enrollment_term_id", "enrollment_term")
#: ``api_find`` forms for terms (``lib/api.rb`` SIS_MAPPINGS ``enrollment_terms``), plus global ids.
_TERM_ITEM = re.compile(r"^(?:\d{1,20}|\d{1,10}~\d{1,15}|(?:sis_term_id|sis_integration_id):\S.{0,254})$")
_RUBY_TRUE = ("true", "1", "on", "yes", "t", "y")


def _value_to_boolean(value: object) -> bool:
    """Whether Canvas's ``value_to_boolean`` reads the value as true (how reports read their flags)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in _RUBY_TRUE


def _check_term(value: object, key: str) -> object:
    """``AccountReportsController#valid_enrollment_term_id?``'s forms, checked before Canvas looks them up."""
    if isinstance(value, bool) or value is None:
        raise CanvasConfigurationError(f"parameters[{shown(key)}] is {shown(value)}; give a term id, or leave it out.")
    if isinstance(value, int):
        if value <= 0:
            raise CanvasConfigurationError(f"parameters[{shown(key)}] is {shown(value)}; term ids are positive.")
        return value
    if not isinstance(value, str):
        raise CanvasConfigurationError(f"parameters[{shown(key)}] is a {type(value).__name__}; give a term id as text.")
    text = value.strip()
    if text == "active_terms":
        return text
    items = [item.strip() for item in text.split(",")]
    bad = [item for item in items if not _TERM_ITEM.fullmatch(item)]
    if bad or len(text) > 4000:
        raise CanvasConfigurationError(
            f"parameters[{shown(key)}] {shown(value)} is not a term reference (bad: {shown(bad)}). "
            "Canvas accepts a term id "
            "(123 or 1~123), 'sis_term_id:<sis id>', 'sis_integration_id:<id>', a comma-separated list of "
            "those, or 'active_terms'."
        )
    return text


def build_report_parameters(
    report: str, parameters: Mapping[str, Any] | None = None, *, skip_message: bool = True
) -> dict[str, Any]:
    """Check a report's ``parameters`` where Canvas checks them, and apply ``skip_message``.

    * ``enrollment_term_id`` (or ``enrollment_term``): a term id, ``sis_term_id:...``, a comma list
      or ``active_terms``; an empty value is dropped, as Canvas ignores it.
    * ``provisioning_csv`` and ``sis_export_csv`` need at least one object flag (``users``,
      ``courses``...): without one Canvas ends the report ``error`` with no file.
    * values are text, numbers, booleans or lists of those (Canvas stores them as given).

    :param report: the report's name (checked with :func:`check_report_name`).
    :param skip_message: on by default, so a nightly DAG does not mail the token's user every night.
        Off removes the key: Canvas reads any value of it, even ``"false"``, as "skip".
    :returns: the parameters to send as ``parameters[...]``.
    :raises CanvasConfigurationError: naming the parameter and the accepted forms.
    """
    name = check_report_name(report)
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, Mapping):
        raise CanvasConfigurationError(f"parameters must be a dict, got {type(parameters).__name__}.")
    result: dict[str, Any] = {}
    for key, value in parameters.items():
        if not isinstance(key, str) or not key.strip() or any(c in key for c in "[]&=#?"):
            raise CanvasConfigurationError(f"parameters has the key {shown(key)}; keys are names such as 'users'.")
        scalars = value if isinstance(value, list) else [value]
        if any(v is not None and not isinstance(v, (str, int, float, bool)) for v in scalars):
            raise CanvasConfigurationError(
                f"parameters[{shown(key)}] is a {type(value).__name__}; Canvas takes text, numbers, booleans "
                "or lists of those."
            )
        if key in _TERM_KEYS:
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            value = _check_term(value, key)
        result[key] = value
    if name in _EXPORTERS and not any(_value_to_boolean(result.get(flag)) for flag in OBJECT_FLAGS):
        raise CanvasConfigurationError(
            f"{name} needs at least one object flag set to true among {', '.join(OBJECT_FLAGS)} "
            f"(e.g. parameters={{'users': True, 'enrollments': True}}); without one Canvas ends the report "
            "in error with no file."
        )
    result.pop("skip_message", None)
    if _value_to_boolean(parameters.get("skip_message", skip_message)):
        result["skip_message"] = True
    return result
