"""CanvasProgressSensor: block a DAG until a Canvas Progress ends, and say how it ended."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow_provider_canvas_progress.compat import (
    TRIGGER_RENDERS_TEMPLATES,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    AirflowTaskTimeout,
    BaseSensorOperator,
    Context,
    PokeReturnValue,
    StartTriggerArgs,
    default_deferrable,
)
from airflow_provider_canvas_progress.core.arguments import (
    duration,
    failure_budget,
    flag,
    listed,
    optional_duration,
    templated,
)
from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.core.ids import ProgressRef
from airflow_provider_canvas_progress.core.outcome import CANCEL_MESSAGE_PREFIX, poll_line
from airflow_provider_canvas_progress.core.progress import Progress, shown
from airflow_provider_canvas_progress.core.stall import stall_message
from airflow_provider_canvas_progress.core.timing import check_interval
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.links import CanvasContextLink, CanvasProgressLink
from airflow_provider_canvas_progress.stalling import TaskStallWatch, check_stalled_after, task_stall_watch
from airflow_provider_canvas_progress.triggers.job import CanvasJobTrigger
from airflow_provider_canvas_progress.triggers.progress import progress_ref_text
from airflow_provider_canvas_progress.waiting import (
    DEFAULT_FAIL_ON,
    PROGRESS_XCOM_KEY,
    DeferredWait,
    WaitPolicy,
    build_trigger,
    check_sensor_arguments,
    failing_fast,
    validate_timing,
)


class CanvasProgressSensor(DeferredWait, BaseSensorOperator):  # type: ignore[misc]
    """Wait until a Canvas Progress ends: ``completed``, ``failed`` or cancelled.

    Works in ``poke`` and ``reschedule`` mode and, with ``deferrable=True``, in the triggerer
    (no worker slot held while waiting). The task's return value (XCom ``return_value``) is the
    final Progress as a dict plus ``outcome`` (``completed``, ``failed`` or ``cancelled``).

    Canvas's cancel marks a Progress ``failed`` and stores a message, so a ``failed`` Progress whose
    message equals or starts with one of ``cancel_messages`` is read as *cancelled*; Canvas's own
    ``canceled`` state is too. An outcome in ``fail_on`` fails the task without retry (re-watching
    the same Progress cannot change it); any other outcome ends the task successfully so that a
    downstream branch can route on it. ``soft_fail`` turns those failures and timeouts into skips.

    :param progress_id: the Progress: an id, a numeric string, a global id (``10000000000123`` or
        ``1~123``), a Progress dict from XCom or a Progress URL on the connection's host, e.g. a
        content migration's ``progress_url``. Templated.
    :param canvas_conn_id: the Airflow ``canvas`` connection.
    :param deferrable: wait in the triggerer. Default: ``[operators] default_deferrable``.
    :param cancel_messages: messages (exact or prefix) that mark a ``failed`` Progress as
        cancelled. Default: the prefix :class:`CancelProgressOperator` writes. Templated.
    :param fail_on: outcomes that fail the task; default ``("failed", "cancelled", "stalled")``. ``[]`` never
        fails on the outcome, for branching.
    :param lti_course_id: read through ``/api/lti/courses/:course_id/progress/:id``. Templated.
    :param cancel_on_kill: cancel the Canvas job when the task is killed.
    :param cancel_on_timeout: cancel the Canvas job when the wait times out.
    :param start_from_trigger: start the wait in the triggerer with no worker at all (deferrable
        only; Airflow's own trigger timeout then applies).
    :param max_consecutive_failures: transient read failures in a row tolerated while deferred.
    :param stalled_after: end the wait with the outcome ``stalled`` when the job stays pending with
        no change of state, completion or ``updated_at`` for this long (timedelta or seconds; at
        least 60 s and the poke interval). None (the default): no stall watch. See "Retries and
        stuck jobs" in the docs.
    :param cancel_on_stall: cancel the Canvas job before ending the wait on a stall.
    """

    template_fields: Sequence[str] = ("progress_id", "cancel_messages", "lti_course_id")
    template_fields_renderers = {"cancel_messages": "json"}
    ui_color = "#e5eef9"
    operator_extra_links = (CanvasProgressLink(), CanvasContextLink())

    def __init__(
        self,
        *,
        progress_id: Any,
        canvas_conn_id: str = CanvasHook.default_conn_name,
        deferrable: bool | None = None,
        cancel_messages: Sequence[str] | str = (CANCEL_MESSAGE_PREFIX,),
        fail_on: Sequence[str] = DEFAULT_FAIL_ON,
        lti_course_id: str | int | None = None,
        cancel_on_kill: bool = False,
        cancel_on_timeout: bool = False,
        start_from_trigger: bool = False,
        max_consecutive_failures: int = 5,
        stalled_after: timedelta | float | None = None,
        cancel_on_stall: bool = False,
        **kwargs: Any,
    ) -> None:
        check_sensor_arguments(kwargs)
        super().__init__(**kwargs)
        task = self.task_id
        self.progress_id = progress_id
        self.canvas_conn_id = canvas_conn_id
        self.deferrable = flag(
            default_deferrable() if deferrable is None else deferrable, what="deferrable", task_id=task
        )
        self.cancel_messages = listed(cancel_messages, what="cancel_messages", task_id=task)
        self.fail_on = listed(fail_on, what="fail_on", task_id=task)
        self.lti_course_id = lti_course_id
        self.cancel_on_kill = flag(cancel_on_kill, what="cancel_on_kill", task_id=task)
        self.cancel_on_timeout = flag(cancel_on_timeout, what="cancel_on_timeout", task_id=task)
        self.max_consecutive_failures = failure_budget(max_consecutive_failures, task_id=task)
        self.stalled_after = check_stalled_after(stalled_after, poll_interval=float(self.poke_interval), task_id=task)
        self.cancel_on_stall = flag(cancel_on_stall, what="cancel_on_stall", task_id=task)
        self._stall_watch: TaskStallWatch | None = None
        # Parse-time checks for what is not templated; cancel_messages is checked when rendered.
        WaitPolicy.of(None, self.fail_on)
        validate_timing(float(self.poke_interval), float(self.timeout) if self.timeout is not None else None)
        if self.exponential_backoff and self.max_wait is not None:
            # max_wait=0 with a back-off would otherwise poll as fast as the loop can.
            check_interval(duration(self.max_wait, what="max_wait", task_id=task), what="max_wait")
        self._last: Progress | None = None
        self._ref: ProgressRef | None = None
        if flag(start_from_trigger, what="start_from_trigger", task_id=task):
            if not self.deferrable:
                raise CanvasConfigurationError(
                    f"{self.task_id}: start_from_trigger=True needs deferrable=True (the wait runs in the triggerer)."
                )
            if not TRIGGER_RENDERS_TEMPLATES and any(templated(v) for v in (progress_id, lti_course_id)):
                raise CanvasConfigurationError(
                    f"{self.task_id}: with start_from_trigger=True this Airflow version does not render templates "
                    f"(progress_id={shown(progress_id)} would reach Canvas as written). Give a literal progress_id, "
                    "or drop start_from_trigger (the task then polls once on a worker before deferring)."
                )
            self.start_from_trigger = True
            # The same builder as a deferred wait; the reference is rendered by Airflow in the
            # triggerer when templated, and read there with the connection (URLs need its host).
            _, trigger_kwargs = build_trigger(
                progress_ref_text(str(progress_id), None if lti_course_id is None else str(lti_course_id)),
                canvas_conn_id=canvas_conn_id,
                poll_interval=float(self.poke_interval),
                timeout=None,
                max_consecutive_failures=max_consecutive_failures,
                cancel_on_kill=cancel_on_kill,
                exponential_backoff=bool(self.exponential_backoff),
                max_wait=optional_duration(self.max_wait, what="max_wait"),
                stalled_after=self.stalled_after,
            ).serialize()
            trigger_kwargs["started_at"] = None  # set by the trigger when it starts, not at parse time
            self.start_trigger_args = StartTriggerArgs(
                trigger_cls=f"{CanvasJobTrigger.__module__}.{CanvasJobTrigger.__qualname__}",
                trigger_kwargs=trigger_kwargs,
                next_method="execute_complete",
                next_kwargs=None,
                timeout=timedelta(seconds=float(self.timeout)) if self.timeout is not None else None,
            )

    # -- shared --------------------------------------------------------------------------------

    def _policy(self) -> WaitPolicy:
        return WaitPolicy.of(self.cancel_messages, self.fail_on)

    def _progress_ref(self) -> ProgressRef:
        """The rendered reference, parsed once per try; it travels as this object from here on
        (an LTI progress URL keeps its LTI route, a global id stays global)."""
        if self._ref is None:
            ref = self.hook.parse_ref(self.progress_id)
            if self.lti_course_id is not None:
                ref = ProgressRef(
                    ref.id, lti_course_id=self.hook.parse_ref(self.lti_course_id, what="lti_course_id").id
                )
            self._ref = ref
        return self._ref

    def _read(self, context: Context) -> Progress:
        with failing_fast():
            progress = self.hook.get_progress(self._progress_ref())
        self._last = progress
        self.log.info("%s", poll_line(progress))
        return progress

    def _remember_pending(self, progress: Progress, context: Context) -> None:
        # Once per process: the extra links and alert tasks need the Progress, not every poll of it.
        if not getattr(self, "_pushed", False):
            context["ti"].xcom_push(key=PROGRESS_XCOM_KEY, value={**progress.to_dict(), "outcome": "pending"})
            self._pushed = True

    # -- poke and reschedule -------------------------------------------------------------------

    def poke(self, context: Context) -> PokeReturnValue:
        """One read: done with the final Progress dict (or the stalled one), or not yet."""
        progress = self._read(context)
        if progress.is_pending:
            self._remember_pending(progress, context)
            stall = self._watch(context).check(self._policy().kind, self.hook, self._progress_ref(), progress)
            if stall is None:
                return PokeReturnValue(is_done=False)
            self._cancel(context, "the job stalled", enabled=self.cancel_on_stall)
            message = stall_message(self._policy().kind.noun, progress.id, stall)
            return PokeReturnValue(is_done=True, xcom_value=self._policy().stalled(progress, message, context))
        return PokeReturnValue(is_done=True, xcom_value=self._policy().result(progress, context))

    def _watch(self, context: Context) -> TaskStallWatch:
        """The stall watch of this try; in reschedule mode its record lives in the task state store,
        as each poke is a new process."""
        if self._stall_watch is None:
            self._stall_watch = task_stall_watch(self.stalled_after, context, reschedule=self.reschedule, log=self.log)
        return self._stall_watch

    def execute(self, context: Context) -> Any:
        """Poke (or reschedule) as usual; when deferrable, poke once and defer if still pending."""
        self._policy()  # validates templated cancel_messages / fail_on now, before any wait
        if self.deferrable:
            return self._execute_deferrable(context)
        try:
            return super().execute(context)
        except (AirflowSensorTimeout, AirflowSkipException):
            # The base class raises its timeout (a skip with soft_fail) right after a pending poke;
            # a skip after an ended Progress is soft_fail on the outcome, not a timeout.
            if self._last is not None and self._last.is_pending:
                self._cancel(context, "the wait timed out", enabled=self.cancel_on_timeout)
            raise

    def _execute_deferrable(self, context: Context) -> Any:
        first = self._first_poke(context)
        if first.is_done:
            return first.xcom_value
        with failing_fast():
            ref = self._progress_ref()
        self._defer_wait(
            context,
            ref=ref,
            poll_interval=float(self.poke_interval),
            timeout=float(self.timeout) if self.timeout is not None else None,
            exponential_backoff=bool(self.exponential_backoff),
            max_wait=optional_duration(self.max_wait, what="max_wait"),
            last_change=self._watch(context).record(),
        )

    def _first_poke(self, context: Context) -> PokeReturnValue:
        """The poke made on the worker before deferring, with the base class's error handling.

        Deferring skips the base class's poke loop, which is where ``soft_fail``, ``never_fail`` and
        ``silent_fail`` act. Without this, a job that had already failed by the first poke would fail
        a ``soft_fail`` task that skips when the same failure arrives through the trigger.
        """
        try:
            return self.poke(context)
        except AirflowSkipException:
            raise
        except (AirflowSensorTimeout, AirflowTaskTimeout, AirflowFailException) as error:
            if self.soft_fail or self.never_fail:
                flag = "soft_fail" if self.soft_fail else "never_fail"
                raise AirflowSkipException(f"Skipped ({flag}): {error}") from error
            raise
        except Exception as error:
            if self.never_fail:
                raise AirflowSkipException(f"Skipped (never_fail): {error}") from error
            if self.silent_fail:
                # As a silent_fail poke: logged, and the wait goes on (in the triggerer, which has its
                # own tolerance for transient errors).
                self.log.error("First poke failed, deferring anyway (silent_fail): %s", error)
                return PokeReturnValue(is_done=False)
            raise

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        """Resume after the trigger fired: validate its event and read the outcome."""
        return self._resume(context, event)

    def _cancel_target(self) -> Any:
        return self._progress_ref()
