"""Operators that start a Canvas background job and, optionally, wait for it.

Unlike the sensor, these own the job: an Airflow retry of a failed try starts a *fresh* job, which
is what "retry the nightly batch" means. A cancelled job is not retried: someone stopped it on
purpose.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from airflow_provider_canvas_progress.compat import BaseOperator, Context, default_deferrable
from airflow_provider_canvas_progress.core.arguments import (
    duration,
    failure_budget,
    flag,
    listed,
    optional_duration,
    templated,
)
from airflow_provider_canvas_progress.core.durable import Action
from airflow_provider_canvas_progress.core.ids import ProgressRef
from airflow_provider_canvas_progress.core.outcome import CANCEL_MESSAGE_PREFIX, Outcome, poll_line
from airflow_provider_canvas_progress.core.paths import segment
from airflow_provider_canvas_progress.core.progress import Progress, shown
from airflow_provider_canvas_progress.core.request import flatten
from airflow_provider_canvas_progress.core.stall import stall_message
from airflow_provider_canvas_progress.core.timing import clamp_interval
from airflow_provider_canvas_progress.exceptions import CanvasConfigurationError
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.links import CanvasContextLink, CanvasProgressLink
from airflow_provider_canvas_progress.operators.durable import DurableStart
from airflow_provider_canvas_progress.rendered import native, native_values
from airflow_provider_canvas_progress.stalling import TaskStallWatch, check_stalled_after
from airflow_provider_canvas_progress.waiting import (
    DEFAULT_FAIL_ON,
    PROGRESS_XCOM_KEY,
    DeferredWait,
    WaitPolicy,
    failing_fast,
    validate_timing,
)

#: Canvas refuses course batch updates of more than this many courses.
COURSE_BATCH_LIMIT = 500
COURSE_EVENTS = ("offer", "conclude", "delete", "undelete")
DEFAULT_TIMEOUT = timedelta(hours=6)


class CanvasStartJobOperator(DurableStart, DeferredWait, BaseOperator):  # type: ignore[misc]
    """Call a Canvas endpoint that starts a background job, and optionally wait for the job.

    The Progress is found in the answer whatever its shape (a Progress, ``{"progress": {...}}``,
    or a ``progress_url``) and pushed to XCom: the return value is the Progress dict plus
    ``outcome`` (``pending`` when not waiting). With ``wait_for_completion=True`` the task waits
    like :class:`~airflow_provider_canvas_progress.sensors.progress.CanvasProgressSensor` (same
    outcomes, ``fail_on``, ``cancel_messages``, deferrable, timeout, ``cancel_on_kill``).

    The call that starts the job is never repeated within a try when it may have reached Canvas
    (see :func:`~airflow_provider_canvas_progress.core.retry.is_retryable`); a failed job fails the
    try, and an Airflow retry starts a fresh job. A retry after a try that died while its job ran
    re-attaches to that job instead (``durable``).

    :param endpoint: the Canvas API path, e.g. ``/api/v1/accounts/1/courses``. Templated.
    :param method: HTTP method (``PUT``, ``POST``…). Templated.
    :param data: form fields (Canvas's usual encoding; lists and nested dicts in bracket style). Templated.
    :param json: a JSON body instead (e.g. assignments ``bulk_update``). Templated.
    :param query: query-string parameters. Templated.
    :param canvas_conn_id: the Airflow ``canvas`` connection.
    :param wait_for_completion: wait until the job ends.
    :param deferrable: wait in the triggerer. Default: ``[operators] default_deferrable``.
    :param poll_interval: seconds between reads of the Progress while waiting.
    :param timeout: longest wait (seconds or timedelta); default 6 hours.
    :param fail_on: outcomes that fail the task (default failed, cancelled and stalled).
    :param cancel_messages: messages marking a failed Progress as cancelled. Templated.
    :param cancel_on_kill: cancel the job when the task is killed.
    :param cancel_on_timeout: cancel the job when the wait times out.
    :param durable: a retry of this task re-attaches to the job an earlier try started while it is
        pending, returns its result when it ended well, and starts a new one only when it ended
        badly (Airflow >= 3.3, through the task state store). ``False``: every try starts a new job.
        Accepted on older Airflow, where it has no effect (one log line says so). See "Retries and
        stuck jobs" in the docs.
    :param stalled_after: end the wait with the outcome ``stalled`` when the job stays pending with
        no change of state, completion or ``updated_at`` for this long (timedelta or seconds; at
        least 60 s and the poll interval). None (the default): no stall watch.
    :param cancel_on_stall: cancel the Canvas job before ending the wait on a stall.
    """

    template_fields: Sequence[str] = ("endpoint", "method", "data", "json", "query", "cancel_messages")
    template_fields_renderers = {"data": "json", "json": "json", "query": "json"}
    ui_color = "#e5f4f9"
    operator_extra_links = (CanvasProgressLink(), CanvasContextLink())

    def __init__(
        self,
        *,
        endpoint: str,
        method: str = "POST",
        data: Any = None,
        json: Any = None,
        query: Any = None,
        canvas_conn_id: str = CanvasHook.default_conn_name,
        wait_for_completion: bool = False,
        deferrable: bool | None = None,
        poll_interval: float = 30.0,
        timeout: float | timedelta | None = DEFAULT_TIMEOUT,
        fail_on: Sequence[str] = DEFAULT_FAIL_ON,
        cancel_messages: Sequence[str] | str = (CANCEL_MESSAGE_PREFIX,),
        cancel_on_kill: bool = False,
        cancel_on_timeout: bool = False,
        max_consecutive_failures: int = 5,
        durable: bool = True,
        stalled_after: timedelta | float | None = None,
        cancel_on_stall: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if data is not None and json is not None:
            raise CanvasConfigurationError(f"{self.task_id}: give either data (form fields) or json, not both.")
        self.endpoint = endpoint
        self.method = method
        self.data = data
        self.json = json
        self.query = query
        task = self.task_id
        self.canvas_conn_id = canvas_conn_id
        self.wait_for_completion = flag(wait_for_completion, what="wait_for_completion", task_id=task)
        self.deferrable = flag(
            default_deferrable() if deferrable is None else deferrable, what="deferrable", task_id=task
        )
        self.poll_interval = duration(poll_interval, what="poll_interval", task_id=task)
        self.wait_timeout = optional_duration(timeout, what="timeout", task_id=task)
        self.fail_on = listed(fail_on, what="fail_on", task_id=task)
        self.cancel_messages = listed(cancel_messages, what="cancel_messages", task_id=task)
        self.cancel_on_kill = flag(cancel_on_kill, what="cancel_on_kill", task_id=task)
        self.cancel_on_timeout = flag(cancel_on_timeout, what="cancel_on_timeout", task_id=task)
        self.max_consecutive_failures = failure_budget(max_consecutive_failures, task_id=task)
        self.durable = flag(durable, what="durable", task_id=task)
        self.stalled_after = check_stalled_after(stalled_after, poll_interval=self.poll_interval, task_id=task)
        self.cancel_on_stall = flag(cancel_on_stall, what="cancel_on_stall", task_id=task)
        WaitPolicy.of(None, self.fail_on)
        validate_timing(self.poll_interval, self.wait_timeout)
        self._progress_id: str | None = None

    def _policy(self) -> WaitPolicy:
        return WaitPolicy.of(self.cancel_messages, self.fail_on, retry_failed_jobs=True)

    def prepare(self) -> None:
        """Check rendered arguments before anything is sent; subclasses validate their own here."""

    def execute(self, context: Context) -> dict[str, Any]:
        self.json, self.data, self.query = native(self.json), native_values(self.data), native_values(self.query)
        with failing_fast():
            self.prepare()
            policy = self._policy()
            action, _, progress = self._start_or_attach(
                context, kind=policy.kind, ended_well=policy.ended_well, start=self._start
            )
        self._progress_id = progress.id
        if action is Action.RETURN or not self.wait_for_completion:
            return self._pending_or_result(progress, policy, context)
        if progress.is_terminal:
            return policy.result(progress, context)
        self._push_pending(progress, context)
        watch = TaskStallWatch(self.stalled_after, log=self.log)
        watch.check(policy.kind, self.hook, ProgressRef(progress.id), progress)
        if self.deferrable:
            self._defer_wait(
                context,
                ref=ProgressRef(progress.id),
                poll_interval=self.poll_interval,
                timeout=self.wait_timeout,
                kwargs={"progress_id": progress.id},
                last_change=watch.record(),
            )
        return self._wait(progress, policy, context, watch)

    def _start(self) -> tuple[ProgressRef, Progress]:
        progress = self.hook.start_job(self.method, self.endpoint, params=self.query, data=self.data, json=self.json)
        self.log.info("Started Canvas job: %s", poll_line(progress))
        return ProgressRef(progress.id), progress

    def _pending_or_result(self, progress: Progress, policy: WaitPolicy, context: Context) -> dict[str, Any]:
        if progress.is_terminal:
            return policy.result(progress, context)
        return self._push_pending(progress, context)

    @staticmethod
    def _push_pending(progress: Progress, context: Context) -> dict[str, Any]:
        value = {**progress.to_dict(), "outcome": Outcome.PENDING.value}
        context["ti"].xcom_push(key=PROGRESS_XCOM_KEY, value=value)
        return value

    def _wait(self, progress: Progress, policy: WaitPolicy, context: Context, watch: TaskStallWatch) -> dict[str, Any]:
        deadline = None if self.wait_timeout is None else time.monotonic() + self.wait_timeout
        started = time.monotonic()
        while progress.is_pending:
            if deadline is not None and time.monotonic() >= deadline:
                self._cancel(context, "the wait timed out", enabled=self.cancel_on_timeout)
                raise policy.timeout(progress.id, time.monotonic() - started, progress)
            left = None if deadline is None else deadline - time.monotonic()
            interval = clamp_interval(self.poll_interval)  # the floor, as in the trigger: no hot loop
            time.sleep(interval if left is None else max(0.0, min(interval, left)))
            with failing_fast():
                progress = self.hook.get_progress(progress.id)
            self.log.info("%s", poll_line(progress))
            stall = (
                None
                if progress.is_terminal
                else watch.check(policy.kind, self.hook, ProgressRef(progress.id), progress)
            )
            if stall is not None:
                self._cancel(context, "the job stalled", enabled=self.cancel_on_stall)
                return policy.stalled(progress, stall_message(policy.kind.noun, progress.id, stall), context)
        return policy.result(progress, context)

    def execute_complete(self, context: Context, event: Any = None, progress_id: str | None = None) -> Any:
        """Resume after the trigger fired: validate its event and read the outcome."""
        # The event names the Progress too: ``dag.test()`` passes only the event, not the defer kwargs.
        event_id = event.get("progress_id") if isinstance(event, dict) else None
        self._progress_id = progress_id or (event_id if isinstance(event_id, str) else None)
        return self._resume(context, event)

    def _cancel_target(self) -> Any:
        return None if self._progress_id is None else ProgressRef(self._progress_id)


def _course_ids(value: Any, task_id: str) -> list[str]:
    """Validate course ids: Canvas ids, or SIS references such as ``sis_course_id:ABC``."""
    value = native(value)
    if isinstance(value, (str, int)):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise CanvasConfigurationError(f"{task_id}: course_ids must be a list of course ids, got {shown(value, 200)}.")
    if not value:
        raise CanvasConfigurationError(f"{task_id}: course_ids is empty; give at least one course id.")
    if len(value) > COURSE_BATCH_LIMIT:
        raise CanvasConfigurationError(
            f"{task_id}: course_ids has {len(value)} ids; Canvas accepts at most {COURSE_BATCH_LIMIT} per batch "
            "update. Split the list across several tasks (e.g. with .expand())."
        )
    ids: list[str] = []
    for item in value:
        # Canvas ids are 64-bit; str() of a 5,000-digit int would raise a bare ValueError.
        too_big = isinstance(item, int) and item.bit_length() > 64
        text = str(item).strip() if not isinstance(item, bool) and not too_big else ""
        if not (text.isdigit() and int(text) > 0) and not (":" in text and text.split(":", 1)[1]):
            raise CanvasConfigurationError(
                f"{task_id}: course_ids contains {shown(item)}, which is not a course id (123) or an SIS reference "
                "(sis_course_id:ABC)."
            )
        ids.append(text)
    return ids


class CanvasCourseBatchUpdateOperator(CanvasStartJobOperator):
    """Offer, conclude, delete or undelete up to 500 courses of an account in one Canvas job.

    ``PUT /api/v1/accounts/:account_id/courses`` (tag ``course_batch_update``). The event and the
    ids are checked when the DAG is parsed where they are not templated.

    :param account_id: the account holding the courses. Templated.
    :param course_ids: course ids or SIS references (``sis_course_id:ABC``), at most 500. Templated.
    :param event: ``offer``, ``conclude``, ``delete`` or ``undelete``. Templated.
    """

    template_fields: Sequence[str] = (*CanvasStartJobOperator.template_fields, "account_id", "course_ids", "event")

    def __init__(self, *, account_id: int | str, course_ids: Any, event: str, method: str = "PUT", **kwargs: Any):
        super().__init__(endpoint="/api/v1/accounts/{account_id}/courses", method=method, **kwargs)
        self.account_id = account_id
        self.course_ids = course_ids
        self.event = event
        if not templated(event):
            self._check_event(event)
        if not templated(course_ids):
            _course_ids(course_ids, self.task_id)

    def _check_event(self, event: Any) -> str:
        if event not in COURSE_EVENTS:
            raise CanvasConfigurationError(
                f"{self.task_id}: event={shown(event)}; Canvas's course batch update accepts "
                f"{', '.join(COURSE_EVENTS)}."
            )
        return str(event)

    def prepare(self) -> None:
        account = segment(native(self.account_id), f"{self.task_id}: account_id", sis="account")
        self.endpoint = f"/api/v1/accounts/{account}/courses"
        self.data = {"event": self._check_event(self.event), "course_ids[]": _course_ids(self.course_ids, self.task_id)}


class CanvasBulkGradeUpdateOperator(CanvasStartJobOperator):
    """Post many grades in one Canvas job (``submissions/update_grades``, tag ``submissions_update``).

    The endpoint follows the arguments: course-wide, one assignment, or a section (with or without
    an assignment). ``grade_data`` is nested as Canvas expects for that endpoint, e.g. for one
    assignment ``{"<student_id>": {"posted_grade": "A"}}``, course-wide
    ``{"<assignment_id>": {"<student_id>": {"posted_grade": "88"}}}``.

    :param course_id: the course. Templated.
    :param grade_data: the grades, nested as above. Templated.
    :param assignment_id: limit to one assignment. Templated.
    :param section_id: post through a section instead of the course. Templated.
    """

    template_fields: Sequence[str] = (
        *CanvasStartJobOperator.template_fields,
        "course_id",
        "grade_data",
        "assignment_id",
        "section_id",
    )

    def __init__(
        self,
        *,
        course_id: int | str,
        grade_data: Mapping[str, Any] | str,
        assignment_id: int | str | None = None,
        section_id: int | str | None = None,
        method: str = "POST",
        **kwargs: Any,
    ) -> None:
        super().__init__(endpoint="/api/v1/courses/{course_id}/submissions/update_grades", method=method, **kwargs)
        self.course_id = course_id
        self.grade_data = grade_data
        self.assignment_id = assignment_id
        self.section_id = section_id
        if not templated(grade_data):
            self._check_grades(grade_data)

    def _check_grades(self, grade_data: Any) -> Mapping[str, Any]:
        grade_data = native(grade_data)
        if not isinstance(grade_data, Mapping) or not grade_data:
            raise CanvasConfigurationError(
                f"{self.task_id}: grade_data must be a non-empty dict such as "
                '{"<student_id>": {"posted_grade": "A"}}, got ' + f"{shown(grade_data, 200)}."
            )
        flatten({"grade_data": grade_data})  # refuses nesting far deeper than Canvas's, before Airflow walks it
        return grade_data

    def prepare(self) -> None:
        section, assignment_id = native(self.section_id), native(self.assignment_id)
        if section not in (None, ""):
            scope = f"sections/{segment(section, f'{self.task_id}: section_id', sis='section')}"
        else:
            scope = f"courses/{segment(native(self.course_id), f'{self.task_id}: course_id', sis='course')}"
        assignment = ""
        if assignment_id not in (None, ""):
            assignment = f"/assignments/{segment(assignment_id, f'{self.task_id}: assignment_id', sis='assignment')}"
        self.endpoint = f"/api/v1/{scope}{assignment}/submissions/update_grades"
        self.data = {"grade_data": self._check_grades(self.grade_data)}
