"""Operators for Canvas account reports: run one (wait, save its file), branch on how it ended, abort it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from airflow_provider_canvas_progress.compat import (
    AirflowFailException,
    BaseOperator,
    Context,
)
from airflow_provider_canvas_progress.core.arguments import (
    duration,
    flag,
    templated,
)
from airflow_provider_canvas_progress.core.durable import Action
from airflow_provider_canvas_progress.core.kinds.account_report import KIND as REPORT_KIND
from airflow_provider_canvas_progress.core.kinds.sis_import import account_segment
from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.core.report_parameters import build_report_parameters
from airflow_provider_canvas_progress.core.report_refs import ReportRef, check_report_name
from airflow_provider_canvas_progress.core.reports import AccountReport, ReportOutcome, ReportStatus, report_outcome
from airflow_provider_canvas_progress.exceptions import CanvasConfigurationError
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.operators.durable import DurableStart
from airflow_provider_canvas_progress.operators.job_controls import JobAbortOperatorBase, JobBranchOperatorBase
from airflow_provider_canvas_progress.operators.progress import _task_ids, check_if_finished
from airflow_provider_canvas_progress.rendered import native
from airflow_provider_canvas_progress.report_files import DEFAULT_MAX_BYTES
from airflow_provider_canvas_progress.reports_waiting import (
    DEFAULT_REPORT_FAIL_ON,
    REPORT_ID_XCOM_KEY,
    ReportPolicy,
    ReportWait,
)
from airflow_provider_canvas_progress.waiting import failing_fast, validate_timing

__all__ = ["CanvasAccountReportAbortOperator", "CanvasAccountReportBranchOperator", "CanvasAccountReportOperator"]


class CanvasAccountReportOperator(DurableStart, ReportWait, BaseOperator):  # type: ignore[misc]
    """Run a Canvas account report, wait for it, and save its file.

    Starts the report by name with its ``parameters`` (checked at DAG parse time where Canvas checks
    them; ``skip_message`` on by default so a nightly DAG does not message its user every night),
    pushes the report id to XCom (key ``report_id``), waits (poke, or deferrable in the triggerer),
    and, given ``output_path``, streams the file there: a local path, or an object storage URL through
    Airflow's ``ObjectStoragePath`` with your own storage connection (``output_conn_id``). A report
    of several parts is a zip of ``<part>.csv``, stored as is and, with ``extract=True``, unpacked too.

    The return value: the report (``report_id``, ``report``, ``status``, ``outcome``, ``message`` (its
    ``extra_text``), ``attachment_id``, ``filename``, ``size``, ``content_type``, times) and ``file``
    (``path``, ``bytes``, ``sha256``, ``parts``) when saved. Never a download link: Canvas's
    ``attachment.url`` needs no token and is read fresh by the task that downloads.

    A name the account does not offer fails at once, naming the reports it does. A retry of the
    task starts a new report.

    :param report: the report's name, e.g. ``provisioning_csv``. Templated.
    :param account_id: the account (an id, ``sis_account_id:…`` or ``self``; sub-accounts too). Templated.
    :param parameters: the report's parameters, e.g. ``{"users": True, "enrollment_term_id":
        "sis_term_id:2026FA"}``. Templated.
    :param skip_message: keep Canvas from messaging the connection's user when the report ends.
    :param output_path: where to save the file (a path, a folder ending in ``/``, or ``s3://…``). Templated.
    :param output_conn_id: the storage connection ``output_path`` is written with.
    :param extract: unpack a zip report into ``<file name without .zip>/`` beside it.
    :param max_bytes: the largest file accepted (default 2 GiB); larger fails without keeping a byte.
    :param download_timeout: seconds the download may take (default 1 hour).
    :param wait_for_completion: wait for the report (without waiting nothing is downloaded).
    :param deferrable: wait in the triggerer. Default: ``[operators] default_deferrable``.
    :param poll_interval: seconds between reads while waiting.
    :param timeout: longest wait (seconds or timedelta); default 6 hours.
    :param fail_on: outcomes that fail the task; default ``("error", "aborted", "stalled")``; ``[]`` to
        branch (``stalled`` then follows the branch operator's ``on_pending``).
    :param abort_on_kill: abort the report when the task is killed (Canvas aborts only a running one).
    :param abort_on_timeout: abort the report when the wait times out.
    :param max_consecutive_failures: transient read failures in a row tolerated while deferred.
    :param canvas_conn_id: the Airflow ``canvas`` connection (its user needs ``read_reports``).
    :param durable: a retry waits on the report an earlier try started while it runs, and uses it when
        it ended well, instead of starting another (Airflow >= 3.3; no effect below). See "Retries and
        stuck jobs".
    :param stalled_after: end the wait with the outcome ``stalled`` when the report stays pending with
        no change of status, progress or rows written (``current_line``) for this long (timedelta or
        seconds; at least 60 s and the poll interval). In ``fail_on`` (the default) it fails the task
        with ``CanvasJobStalled``, which Airflow retries (re-attaching with ``durable``). None (the
        default): no stall watch.
    :param cancel_on_stall: abort the report before ending the wait on a stall (Canvas aborts only a
        running report; a retry then starts a new one).
    """

    template_fields: Sequence[str] = ("report", "account_id", "parameters", "output_path")
    template_fields_renderers = {"parameters": "json"}
    ui_color = "#e5eef9"

    def __init__(
        self,
        *,
        report: str,
        account_id: Any = 1,
        parameters: Mapping[str, Any] | str | None = None,
        skip_message: bool = True,
        output_path: str | None = None,
        output_conn_id: str | None = None,
        extract: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
        download_timeout: float = 3600.0,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        poll_interval: float = 60.0,
        timeout: timedelta | float = timedelta(hours=6),
        fail_on: Sequence[str] = DEFAULT_REPORT_FAIL_ON,
        abort_on_kill: bool = False,
        abort_on_timeout: bool = False,
        max_consecutive_failures: int = 5,
        canvas_conn_id: str = CanvasHook.default_conn_name,
        durable: bool = True,
        stalled_after: timedelta | float | None = None,
        cancel_on_stall: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._take_starting_arguments(
            durable=durable,
            wait_for_completion=wait_for_completion,
            deferrable=deferrable,
            poll_interval=poll_interval,
            timeout=timeout,
            fail_on=fail_on,
            abort_on_kill=abort_on_kill,
            abort_on_timeout=abort_on_timeout,
            max_consecutive_failures=max_consecutive_failures,
            stalled_after=stalled_after,
            cancel_on_stall=cancel_on_stall,
        )
        self.report, self.account_id, self.parameters = report, account_id, parameters
        task = self.task_id
        self.skip_message = flag(skip_message, what="skip_message", task_id=task)
        self.output_path, self.output_conn_id = output_path, output_conn_id
        self.extract = flag(extract, what="extract", task_id=task)
        self.max_bytes = max_bytes
        self.download_timeout = duration(download_timeout, what="download_timeout", task_id=task)
        self.canvas_conn_id = canvas_conn_id
        # Parse-time checks of everything not templated.
        ReportPolicy.of(self.fail_on)
        validate_timing(self.poll_interval, self.wait_timeout)
        self._report_output().check()
        if not templated(account_id):
            account_segment(account_id)
        if not templated(report):
            check_report_name(report)
            if isinstance(parameters, Mapping) and not any(templated(v) for v in parameters.values()):
                build_report_parameters(report, parameters, skip_message=skip_message)

    def execute(self, context: Context) -> Any:
        """Start the report, push its id, then wait and save its file unless ``wait_for_completion=False``."""
        parameters = native(self.parameters)
        if parameters is not None and not isinstance(parameters, Mapping):
            raise AirflowFailException(
                f"{self.task_id}: parameters must render to a dict, got {shown(parameters, 200)}"
            )
        fail_on = ReportPolicy.of(self.fail_on).fail_on
        with failing_fast():
            action, ref, started = self._start_or_attach(
                context,
                kind=REPORT_KIND,
                ended_well=lambda report: (
                    report_outcome(report) not in fail_on and report.status is not ReportStatus.DELETED
                ),
                start=lambda: self._start_report(parameters),
            )
        self._job_ref = ref
        context["ti"].xcom_push(key=REPORT_ID_XCOM_KEY, value=started.id)
        self._job_last = started
        if action is Action.RETURN:
            return self._job_result(started, context)
        if not self.wait_for_completion:
            return {**started.result(), "outcome": None, "file": None}
        if not started.is_pending:
            return self._job_result(started, context)
        return self._wait_on(context, ref, started, interval=self.poll_interval, timeout=self.wait_timeout)

    def _start_report(self, parameters: Any) -> tuple[ReportRef, Any]:
        started = self.hook.start_report(self.account_id, self.report, parameters, skip_message=self.skip_message)
        ref = ReportRef.of(self.account_id, started.report, started.id)
        self.log.info("Started %s: %s", ref, started.describe())
        return ref, started

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        """Resume after the trigger fired: read the outcome, then save the file."""
        return self._resume(context, event)


class CanvasAccountReportBranchOperator(JobBranchOperatorBase):
    """Follow the branch for how an account report ended.

    Give ``account_report``, the result the operator or sensor returned (e.g.
    ``account_report=run.output``, with ``fail_on=[]`` on that task), or ``account_id``, ``report``
    and ``report_id`` to read the report.

    :param account_report: a result dict from XCom. Templated.
    :param account_id: the account, with ``report`` and ``report_id``. Templated.
    :param report: the report's name. Templated.
    :param report_id: the report to read instead of ``account_report``. Templated.
    :param on_complete: task id(s) for ``complete``.
    :param on_error: task id(s) for ``error``.
    :param on_aborted: task id(s) for ``aborted``.
    :param on_pending: task id(s) while it has not ended, or for a wait that ended ``stalled`` (the
        report has not ended either); without it, such a report fails the task.
    :param canvas_conn_id: the Airflow ``canvas`` connection, for ``report_id``.
    """

    template_fields: Sequence[str] = ("account_report", "account_id", "report", "report_id")
    ui_color = "#eef4fb"
    job_label = "Account report"

    def __init__(
        self,
        *,
        account_report: Any = None,
        account_id: Any = None,
        report: Any = None,
        report_id: Any = None,
        on_complete: str | Iterable[str] | None = None,
        on_error: str | Iterable[str] | None = None,
        on_aborted: str | Iterable[str] | None = None,
        on_pending: str | Iterable[str] | None = None,
        canvas_conn_id: str = CanvasHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        reading = report_id is not None
        if (account_report is None) != reading or (reading and (account_id is None or report is None)):
            raise CanvasConfigurationError(
                f"{self.task_id}: give account_report (a result dict), or account_id, report and report_id."
            )
        self.account_report, self.account_id, self.report, self.report_id = (
            account_report,
            account_id,
            report,
            report_id,
        )
        self.branches = {
            ReportOutcome.COMPLETE: _task_ids(on_complete, "on_complete"),
            ReportOutcome.ERROR: _task_ids(on_error, "on_error"),
            ReportOutcome.ABORTED: _task_ids(on_aborted, "on_aborted"),
        }
        self.on_pending = None if on_pending is None else _task_ids(on_pending, "on_pending")
        self.canvas_conn_id = canvas_conn_id

    def _read(self) -> tuple[str | None, str]:
        if self.report_id is not None:
            with failing_fast():
                found = CanvasHook(self.canvas_conn_id).get_report(self.account_id, self.report, self.report_id)
            status = found.status
            if status is ReportStatus.DELETED:
                raise AirflowFailException(f"{found.describe()}: it was deleted; there is nothing to branch on.")
            return (None if found.is_pending else status.value), found.describe()
        data = native(self.account_report)
        status_value = data.get("status") if isinstance(data, Mapping) else None
        known = [s.value for s in ReportStatus]
        if status_value not in known:
            raise CanvasConfigurationError(
                f"{self.task_id}: account_report must be the result of CanvasAccountReportOperator or "
                f"CanvasAccountReportSensor (a dict with a 'status'), got {type(data).__name__}: {shown(data, 200)}"
            )
        text = f"Account report {data.get('report_id')} ({data.get('report')}) is {status_value}"
        if ReportStatus(status_value).is_pending:
            # A wait that ended stalled (stalled_after) left a report that has not ended either.
            stalled = data.get("outcome") == ReportOutcome.STALLED.value
            return None, text + (" (its wait ended stalled)" if stalled else "")
        if status_value == ReportStatus.DELETED.value:
            raise AirflowFailException(f"{text}: it was deleted; there is nothing to branch on.")
        return status_value, text

    def _ending(self) -> tuple[str, str, list[str] | None]:
        outcome, text = self._read()
        if outcome is None:
            return "pending", text, None
        return outcome, text, self.branches[ReportOutcome(outcome)]


class CanvasAccountReportAbortOperator(JobAbortOperatorBase):
    """Abort a running account report.

    Canvas aborts only a ``running`` report: a finished one (or one still ``created`` or already
    ``compiling``) answers 404, which is reported as "already finished" (or "not running") and
    handled by ``if_finished``: ``ignore`` (log, succeed with the report), ``skip`` or ``fail``. A
    single-job report keeps writing after the abort and then ends ``aborted`` with its file.

    :param account_id: the account. Templated.
    :param report: the report's name. Templated.
    :param report_id: the report (templated), e.g. ``{{ ti.xcom_pull(task_ids='run', key='report_id') }}``.
    :param if_finished: what a report that is not running does to the task.
    :param canvas_conn_id: the Airflow ``canvas`` connection.
    """

    template_fields: Sequence[str] = ("account_id", "report", "report_id")

    def __init__(
        self,
        *,
        account_id: Any,
        report: Any,
        report_id: Any,
        if_finished: str = "ignore",
        canvas_conn_id: str = CanvasHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.account_id, self.report, self.report_id = account_id, report, report_id
        self.if_finished = check_if_finished(if_finished, task_id=self.task_id)
        self.canvas_conn_id = canvas_conn_id

    def _get(self, hook: CanvasHook) -> AccountReport:
        return hook.get_report(self.account_id, self.report, self.report_id)

    def _stoppable(self, job: AccountReport) -> bool:
        return job.status is ReportStatus.RUNNING

    def _stop(self, hook: CanvasHook) -> AccountReport:
        return hook.abort_report(self.account_id, self.report, self.report_id)

    def _result(self, job: AccountReport) -> dict[str, Any]:
        return job.result()

    def _not_stopped(self, job: AccountReport) -> str:
        return "already finished" if not job.is_pending else "not running (Canvas aborts only a running report)"
