"""Operators that act on an existing Progress: cancel it safely, or branch on how it ended."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow.providers.common.compat.sdk import BaseBranchOperator

from airflow_provider_canvas_progress.compat import (
    AirflowException,
    AirflowFailException,
    AirflowSkipException,
    BaseOperator,
    Context,
)
from airflow_provider_canvas_progress.core.arguments import listed
from airflow_provider_canvas_progress.core.errors import (
    CanvasAuthError,
    CanvasConfigurationError,
    CanvasPermissionError,
    CanvasResponseError,
)
from airflow_provider_canvas_progress.core.outcome import (
    CANCEL_MESSAGE_PREFIX,
    CancelMatcher,
    Outcome,
    cancel_message,
    outcome_of,
)
from airflow_provider_canvas_progress.core.progress import Progress, parse_progress, shown
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.links import CanvasContextLink, CanvasProgressLink
from airflow_provider_canvas_progress.rendered import native
from airflow_provider_canvas_progress.waiting import PROGRESS_XCOM_KEY, failing_fast

IF_FINISHED = ("ignore", "skip", "fail")


def check_if_finished(value: object, *, task_id: str) -> str:
    """``if_finished`` of the cancel and abort operators: what to do when the job already ended."""
    if not isinstance(value, str) or value not in IF_FINISHED:
        raise CanvasConfigurationError(
            f"{task_id}: if_finished must be one of {', '.join(IF_FINISHED)}, got {shown(value)}: 'ignore' "
            "succeeds, 'skip' skips the task, 'fail' fails it when the job had already ended."
        )
    return value


class CancelProgressOperator(BaseOperator):  # type: ignore[misc]
    """Cancel a Canvas job, safely and idempotently.

    Canvas's cancel endpoint has sharp edges: it marks *any* Progress ``failed``, a completed one
    included (rewriting the job's history), and it erases the Progress's message when no message
    is posted. So this operator reads the Progress first and only cancels a pending one, always with
    a message. On a Progress that has already ended it does not call cancel and does what
    ``if_finished`` says. Under Airflow retries it is idempotent: a Progress already cancelled with
    this task's message is taken as done.

    Only the user who started a job may cancel it, and most Canvas jobs have no starter; Canvas
    then refuses (401/403) and this operator fails with an explanation, without retry.

    :param progress_id: the Progress (same forms as the sensor). Templated.
    :param message: the cancel message. Default: ``Cancelled by Airflow (dag …, task …, run …)``,
        which :class:`~airflow_provider_canvas_progress.sensors.progress.CanvasProgressSensor`
        recognises as a cancel by default. Templated.
    :param canvas_conn_id: the Airflow ``canvas`` connection.
    :param if_finished: when the job has already ended: ``"ignore"`` (log and succeed),
        ``"skip"`` or ``"fail"``.
    :return: the Progress (as a dict, with ``outcome``) as it stands after the task.
    """

    template_fields: Sequence[str] = ("progress_id", "message")
    ui_color = "#f9e5e5"
    operator_extra_links = (CanvasProgressLink(), CanvasContextLink())

    def __init__(
        self,
        *,
        progress_id: Any,
        message: str | None = None,
        canvas_conn_id: str = CanvasHook.default_conn_name,
        if_finished: str = "ignore",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.progress_id = progress_id
        self.message = message
        self.canvas_conn_id = canvas_conn_id
        self.if_finished = check_if_finished(if_finished, task_id=self.task_id)

    def execute(self, context: Context) -> dict[str, Any]:
        hook = CanvasHook(self.canvas_conn_id)
        ti = context["ti"]
        message = self.message or cancel_message(ti.dag_id, ti.task_id, ti.run_id)
        with failing_fast():
            if not message.strip():
                raise CanvasConfigurationError(f"{self.task_id}: message rendered empty; give a cancel message.")
            progress = hook.get_progress(self.progress_id)
        outcome = outcome_of(progress, CancelMatcher((message,)))
        if progress.is_terminal:
            return self._already_finished(progress, outcome, message, context)
        try:
            cancelled = hook.cancel_progress(progress.id, message)
        except (CanvasPermissionError, CanvasAuthError) as error:
            raise AirflowFailException(
                f"Canvas refused to cancel Progress {progress.id} ({progress.tag or 'unknown job type'}, "
                f"started by user {progress.user_id or 'nobody'}): only the user who started a job may cancel "
                "it, and most job types (everything but course_batch_update and conversation_batch_update) "
                "have no starter, so nobody can cancel them through the API. Use a token of the user who "
                f"started it. Canvas said: {error.canvas_message or error}"
            ) from error
        self.log.info("Cancelled: %s", cancelled.describe())
        return self._push(cancelled, Outcome.CANCELLED, context)

    def _already_finished(self, progress: Progress, outcome: Outcome, message: str, context: Context) -> dict[str, Any]:
        if outcome is Outcome.CANCELLED and progress.message == message:
            # An earlier try of this very task cancelled it, then died before finishing.
            self.log.info("Already cancelled by this task: %s", progress.describe())
            return self._push(progress, outcome, context)
        result = self._push(progress, outcome, context)
        text = (
            f"Not cancelling: {progress.describe()}. Canvas would mark an ended job 'failed' and overwrite "
            "its message, so ended jobs are left alone."
        )
        if self.if_finished == "skip":
            raise AirflowSkipException(text)
        if self.if_finished == "fail":
            raise AirflowFailException(text)
        self.log.info("%s", text)
        return result

    @staticmethod
    def _push(progress: Progress, outcome: Outcome, context: Context) -> dict[str, Any]:
        result = {**progress.to_dict(), "outcome": outcome.value}
        context["ti"].xcom_push(key=PROGRESS_XCOM_KEY, value=result)
        return result


def _task_ids(value: str | Iterable[str] | None, name: str) -> list[str]:
    if value is None:
        return []
    items = listed(value, what=name)
    if not all(isinstance(item, str) and item for item in items):
        raise CanvasConfigurationError(f"{name} must be a task id or a list of task ids, got {shown(value, 200)}.")
    return items


class CanvasProgressBranchOperator(BaseBranchOperator):  # type: ignore[misc]
    """Follow the branch for how a Canvas job ended: completed, failed, cancelled or still pending.

    Give either ``progress``, the dict a sensor or job operator returned (e.g.
    ``progress=wait.output``), or ``progress_id``, and the operator reads the Progress itself.
    Downstream tasks not chosen are skipped, with Airflow's usual branching semantics.

    :param progress: a Progress dict from XCom (with or without ``outcome``). Templated.
    :param progress_id: a Progress to read instead (same forms as the sensor). Templated.
    :param on_completed: task id(s) to follow when the job completed.
    :param on_failed: task id(s) to follow when it failed.
    :param on_cancelled: task id(s) to follow when it was cancelled.
    :param on_pending: task id(s) to follow while it is still running; without it, a pending
        job fails the task (branching before the end is usually a missing wait).
    :param cancel_messages: messages that mark a failed Progress as cancelled (as the sensor's).
    :param canvas_conn_id: the Airflow ``canvas`` connection, for ``progress_id``.
    """

    template_fields: Sequence[str] = ("progress", "progress_id", "cancel_messages")
    ui_color = "#eef9e5"

    def __init__(
        self,
        *,
        progress: Any = None,
        progress_id: Any = None,
        on_completed: str | Iterable[str] | None = None,
        on_failed: str | Iterable[str] | None = None,
        on_cancelled: str | Iterable[str] | None = None,
        on_pending: str | Iterable[str] | None = None,
        cancel_messages: Sequence[str] | str = (CANCEL_MESSAGE_PREFIX,),
        canvas_conn_id: str = CanvasHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (progress is None) == (progress_id is None):
            raise CanvasConfigurationError(
                f"{self.task_id}: give exactly one of progress (a Progress dict) or progress_id."
            )
        self.progress = progress
        self.progress_id = progress_id
        self.branches = {
            Outcome.COMPLETED: _task_ids(on_completed, "on_completed"),
            Outcome.FAILED: _task_ids(on_failed, "on_failed"),
            Outcome.CANCELLED: _task_ids(on_cancelled, "on_cancelled"),
        }
        self.on_pending = None if on_pending is None else _task_ids(on_pending, "on_pending")
        self.cancel_messages = listed(cancel_messages, what="cancel_messages", task_id=self.task_id)
        self.canvas_conn_id = canvas_conn_id

    def choose_branch(self, context: Context) -> list[str]:
        with failing_fast():
            outcome, progress = self._outcome()
        self.log.info("Canvas job outcome: %s (%s)", outcome.value, progress.describe())
        # A stalled job has not ended either: it routes as a pending one.
        if outcome in (Outcome.PENDING, Outcome.STALLED):
            if self.on_pending is None:
                raise AirflowException(
                    f"{progress.describe()}: it has not ended and no on_pending branch is set. Wait for it "
                    "first (CanvasProgressSensor), or give on_pending."
                )
            return self.on_pending
        return self.branches[outcome]

    def _outcome(self) -> tuple[Outcome, Progress]:
        matcher = CancelMatcher.of(self.cancel_messages)
        if self.progress_id is not None:
            progress = CanvasHook(self.canvas_conn_id).get_progress(self.progress_id)
            return outcome_of(progress, matcher), progress
        data = _as_mapping(self.progress)
        try:
            progress = parse_progress(data, source=f"{self.task_id}'s progress")
        except CanvasResponseError as error:
            raise CanvasConfigurationError(f"{self.task_id}: progress is not a Progress dict: {error}") from None
        given = data.get("outcome")
        # A sensor's reading wins: it may have used its own cancel_messages.
        if isinstance(given, str) and given in Outcome._value2member_map_:
            return Outcome(given), progress
        return outcome_of(progress, matcher), progress


def _as_mapping(value: Any) -> Mapping[str, Any]:
    """Accept the dict itself, or its rendering as text (templates render to strings by default)."""
    parsed = native(value)
    if isinstance(parsed, Mapping):
        return parsed
    raise CanvasConfigurationError(
        f"progress must be a Progress dict (e.g. progress=wait.output), got {type(value).__name__}: {shown(value, 200)}"
    )
