"""Operators for Canvas SIS imports: start one (and wait), branch on how it ended, abort a pending one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from airflow_provider_canvas_progress.compat import (
    BaseOperator,
    Context,
)
from airflow_provider_canvas_progress.core.arguments import (
    duration,
    flag,
    templated,
)
from airflow_provider_canvas_progress.core.durable import (
    Action,
)
from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError, CanvasError
from airflow_provider_canvas_progress.core.kinds.sis_import import KIND, SisImportRef, account_segment
from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.core.sis import SisImport, SisImportState, SisOutcome
from airflow_provider_canvas_progress.core.sis_options import SisImportOptions, UploadSource
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.operators.durable import DurableStart, earlier_sis_import
from airflow_provider_canvas_progress.operators.job_controls import JobAbortOperatorBase, JobBranchOperatorBase
from airflow_provider_canvas_progress.operators.progress import _task_ids, check_if_finished
from airflow_provider_canvas_progress.rendered import native
from airflow_provider_canvas_progress.sis_waiting import (
    DEFAULT_SIS_FAIL_ON,
    SIS_IMPORT_ID_XCOM_KEY,
    SisImportWait,
    SisWaitPolicy,
)
from airflow_provider_canvas_progress.waiting import failing_fast, validate_timing

__all__ = ["CanvasSisImportAbortOperator", "CanvasSisImportBranchOperator", "CanvasSisImportOperator"]

_OPTION_NAMES = tuple(SisImportOptions.__dataclass_fields__)
#: Stand-ins for templated options, so the rest of the combination is checked at parse time.
_PLACEHOLDERS = {"batch_mode_term_id": "1", "diffing_data_set_identifier": "templated"}


class CanvasSisImportOperator(DurableStart, SisImportWait, BaseOperator):  # type: ignore[misc]
    """Upload the night's SIS data to a root account, start the import, and (by default) wait for it.

    Give exactly one of ``sis_file`` (a ``.zip`` or ``.csv``, streamed), ``sis_directory`` (its CSV
    files, zipped to a temporary file at run time) or ``sis_data`` (bytes, or base64 text from
    XCom). Every create parameter of Canvas's API is accepted and checked at DAG parse time with
    Canvas's own rules (see :class:`~airflow_provider_canvas_progress.core.sis_options.SisImportOptions`).

    The import id goes to XCom (key ``sis_import_id``) as soon as Canvas accepts the upload, before
    any waiting. The return value is the import's result (see :class:`CanvasSisImportSensor
    <airflow_provider_canvas_progress.sensors.sis.CanvasSisImportSensor>`). A retry of the task
    re-attaches to the import an earlier try started (``durable``).

    :param account_id: the root account (an id, ``sis_account_id:…`` or ``self``). Templated.
    :param sis_file: path of a ``.zip`` or ``.csv``. Templated.
    :param sis_directory: a folder of CSV files. Templated.
    :param sis_data: the upload itself (bytes, or base64 text). Templated.
    :param canvas_conn_id: the Airflow ``canvas`` connection (its user needs ``import_sis``).
    :param wait_for_completion: wait until the import ends.
    :param deferrable: wait in the triggerer. Default: ``[operators] default_deferrable``.
    :param poll_interval: seconds between reads while waiting.
    :param timeout: longest wait (seconds or timedelta), queueing behind other imports included; 6 hours.
    :param fail_on: outcomes that fail the task; default ``("failed", "aborted", "stalled")``; ``[]``
        to branch on every ending (``stalled`` then follows the branch operator's ``on_pending``).
    :param abort_on_kill: abort the import when the task is killed.
    :param abort_on_timeout: abort the import when the wait times out.
    :param upload_timeout: seconds the upload may take (1 to 600).
    :param sis_options: the create parameters (``batch_mode``, ``batch_mode_term_id`` (templated),
        ``multi_term_batch_mode``, ``change_threshold``, ``diff_row_count_threshold``,
        ``diffing_data_set_identifier`` (templated), ``diffing_remaster_data_set``,
        ``diffing_drop_status``, ``diffing_user_remove_status``, ``batch_mode_enrollment_drop_status``,
        ``skip_deletes``, ``override_sis_stickiness``, ``add_sis_stickiness``, ``clear_sis_stickiness``,
        ``update_sis_id_if_login_claimed``), as keyword arguments.
    :param durable: a retry re-attaches to the import an earlier try started while it is pending,
        returns its result when it ended well, and uploads again only when it ended badly (Airflow
        >= 3.3, through the task state store). Below 3.3, a retry with a
        ``diffing_data_set_identifier`` looks for the one import with that identifier this DAG run
        created and re-attaches to it; without one, or when more than one matches, it uploads again.
        ``False``: every try uploads. See "Retries and stuck jobs".
    :param stalled_after: end the wait with the outcome ``stalled`` when the import stays pending
        with no change of state, progress or ``updated_at`` for this long (timedelta or seconds; at
        least 60 s and the poll interval); an import in ``created`` queued behind another of the
        account is not stalled. In ``fail_on`` (the default) it fails the task with
        ``CanvasJobStalled``, which Airflow retries (re-attaching with ``durable``). None (the
        default): no stall watch.
    :param cancel_on_stall: abort the import before ending the wait on a stall (a retry then uploads again).
    """

    template_fields: Sequence[str] = (
        "account_id",
        "sis_file",
        "sis_directory",
        "sis_data",
        "batch_mode_term_id",
        "diffing_data_set_identifier",
    )
    ui_color = "#e8f4e5"

    def __init__(
        self,
        *,
        account_id: Any,
        sis_file: str | None = None,
        sis_directory: str | None = None,
        sis_data: bytes | str | None = None,
        canvas_conn_id: str = CanvasHook.default_conn_name,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        poll_interval: float = 60.0,
        timeout: timedelta | float = timedelta(hours=6),
        fail_on: Sequence[str] = DEFAULT_SIS_FAIL_ON,
        abort_on_kill: bool = False,
        abort_on_timeout: bool = False,
        max_consecutive_failures: int = 5,
        upload_timeout: float = 600.0,
        batch_mode_term_id: str | int | None = None,
        diffing_data_set_identifier: str | None = None,
        durable: bool = True,
        stalled_after: timedelta | float | None = None,
        cancel_on_stall: bool = False,
        **kwargs: Any,
    ) -> None:
        options = {name: kwargs.pop(name) for name in _OPTION_NAMES if name in kwargs}
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
        task = self.task_id
        self.account_id = account_id
        self.sis_file, self.sis_directory, self.sis_data = sis_file, sis_directory, sis_data
        self.canvas_conn_id = canvas_conn_id
        self.upload_timeout = duration(upload_timeout, what="upload_timeout", task_id=task)
        if not 1 <= self.upload_timeout <= 600:
            raise CanvasConfigurationError(
                f"{task}: upload_timeout must be from 1 to 600 seconds, got {self.upload_timeout:g}."
            )
        self.batch_mode_term_id = batch_mode_term_id
        self.diffing_data_set_identifier = diffing_data_set_identifier
        self.sis_options = options
        # Parse-time checks, templated values standing in as placeholders until rendered.
        SisWaitPolicy.of(self.fail_on)
        validate_timing(self.poll_interval, self.wait_timeout)
        self._options(placeholders=True)
        UploadSource.choose(file=sis_file, directory=sis_directory, data=sis_data)
        if not templated(account_id):
            account_segment(account_id)

    def _options(self, *, placeholders: bool = False) -> SisImportOptions:
        values = {
            **self.sis_options,
            "batch_mode_term_id": self.batch_mode_term_id,
            "diffing_data_set_identifier": self.diffing_data_set_identifier,
        }
        if placeholders:
            values.update({k: v for k, v in _PLACEHOLDERS.items() if templated(values.get(k))})
        try:
            return SisImportOptions.from_mapping(values)
        except CanvasConfigurationError as error:
            raise CanvasConfigurationError(f"{self.task_id}: {error}") from None

    def execute(self, context: Context) -> Any:
        """Upload (or re-attach to an earlier try's import), push the import id, then wait (poll or
        defer) unless ``wait_for_completion=False``."""
        fail_on = SisWaitPolicy.of(self.fail_on).fail_on
        with failing_fast():
            options = self._options()
            action, ref, created = self._start_or_attach(
                context,
                kind=KIND,
                ended_well=lambda sis_import: sis_import.outcome not in fail_on,
                start=lambda: self._upload(options),
                find_earlier=lambda: earlier_sis_import(
                    self.hook, context, self.account_id, options.diffing_data_set_identifier, self.log
                ),
            )
        self._job_ref = ref
        context["ti"].xcom_push(key=SIS_IMPORT_ID_XCOM_KEY, value=created.id)
        self._job_last = created
        if action is Action.RETURN:
            return self._job_result(created, context)
        if not self.wait_for_completion:
            return created.to_result()
        if not created.is_pending:
            return self._job_result(created, context)
        self._explain_queue(ref, created)
        return self._wait_on(context, ref, created, interval=self.poll_interval, timeout=self.wait_timeout)

    def _upload(self, options: SisImportOptions) -> tuple[SisImportRef, SisImport]:
        source = UploadSource.choose(file=self.sis_file, directory=self.sis_directory, data=self.sis_data)
        created = self.hook.create_sis_import(self.account_id, source, options, upload_timeout=self.upload_timeout)
        ref = SisImportRef.of(self.account_id, created.id)
        self.log.info("Started %s: %s", ref, created.describe())
        return ref, created

    def _explain_queue(self, ref: SisImportRef, created: SisImport) -> None:
        """Say so when the import will wait behind another of the account (best effort, one call)."""
        if created.workflow_state is not SisImportState.CREATED:
            return
        try:
            running = [i for i in self.hook.get_running_sis_imports(ref.account) if i.id != created.id]
        except CanvasError as error:
            self.log.info("Could not list the account's running imports: %s", error)
            return
        for other in running:
            self.log.info(
                "SIS import %s waits behind %s: Canvas runs one import at a time per root account.",
                created.id,
                other.describe(),
            )

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        """Resume after the trigger fired."""
        return self._resume(context, event)


class CanvasSisImportBranchOperator(JobBranchOperatorBase):
    """Follow the branch for how an SIS import ended.

    Give ``sis_import``, the result the operator or sensor returned (e.g. ``sis_import=wait.output``),
    or ``account_id`` and ``sis_import_id`` to read the import. A ``change_threshold`` abort follows
    ``on_threshold_aborted`` when given, else ``on_aborted``.

    :param sis_import: a result dict from XCom. Templated.
    :param account_id: the root account, with ``sis_import_id``. Templated.
    :param sis_import_id: the import to read instead of ``sis_import``. Templated.
    :param on_imported: task id(s) for ``imported``.
    :param on_imported_with_messages: task id(s) for ``imported_with_messages``; default ``on_imported``.
    :param on_failed: task id(s) for ``failed`` and ``failed_with_messages``.
    :param on_aborted: task id(s) for ``aborted``.
    :param on_threshold_aborted: task id(s) for an abort by ``change_threshold``.
    :param on_restored: task id(s) once ``restore_states`` has run on it.
    :param on_pending: task id(s) while it has not ended, or for a wait that ended ``stalled`` (the
        import has not ended either); without it, such an import fails the task.
    :param canvas_conn_id: the Airflow ``canvas`` connection, for ``sis_import_id``.
    """

    template_fields: Sequence[str] = ("sis_import", "account_id", "sis_import_id")
    ui_color = "#eef9e5"
    job_label = "SIS import"

    def __init__(
        self,
        *,
        sis_import: Any = None,
        account_id: Any = None,
        sis_import_id: Any = None,
        on_imported: str | Iterable[str] | None = None,
        on_imported_with_messages: str | Iterable[str] | None = None,
        on_failed: str | Iterable[str] | None = None,
        on_aborted: str | Iterable[str] | None = None,
        on_threshold_aborted: str | Iterable[str] | None = None,
        on_restored: str | Iterable[str] | None = None,
        on_pending: str | Iterable[str] | None = None,
        canvas_conn_id: str = CanvasHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (sis_import is None) == (sis_import_id is None) or (sis_import_id is not None and account_id is None):
            raise CanvasConfigurationError(
                f"{self.task_id}: give sis_import (a result dict), or account_id and sis_import_id."
            )
        self.sis_import, self.account_id, self.sis_import_id = sis_import, account_id, sis_import_id
        imported = _task_ids(on_imported, "on_imported")
        self.branches = {
            SisOutcome.IMPORTED: imported,
            SisOutcome.IMPORTED_WITH_MESSAGES: _task_ids(on_imported_with_messages, "on_imported_with_messages")
            or imported,
            SisOutcome.FAILED: _task_ids(on_failed, "on_failed"),
            SisOutcome.ABORTED: _task_ids(on_aborted, "on_aborted"),
            SisOutcome.RESTORED: _task_ids(on_restored, "on_restored"),
        }
        self.on_threshold_aborted = _task_ids(on_threshold_aborted, "on_threshold_aborted")
        self.on_pending = None if on_pending is None else _task_ids(on_pending, "on_pending")
        self.canvas_conn_id = canvas_conn_id

    def _read(self) -> tuple[SisOutcome, bool, str]:
        if self.sis_import_id is not None:
            with failing_fast():
                found = CanvasHook(self.canvas_conn_id).get_sis_import(self.account_id, self.sis_import_id)
            return found.outcome, found.threshold_abort is not None, found.describe()
        data = native(self.sis_import)
        outcome = data.get("outcome") if isinstance(data, Mapping) else None
        if outcome not in SisOutcome._value2member_map_:
            raise CanvasConfigurationError(
                f"{self.task_id}: sis_import must be the result of CanvasSisImportOperator or CanvasSisImportSensor "
                f"(a dict with an 'outcome'), got {type(data).__name__}: {shown(data, 200)}"
            )
        threshold = data.get("threshold_abort")
        return SisOutcome(outcome), bool(threshold), f"SIS import {data.get('id')} is {data.get('workflow_state')}"

    def _ending(self) -> tuple[str, str, list[str] | None]:
        outcome, by_threshold, text = self._read()
        # A stalled import has not ended either: it routes as a pending one.
        if outcome in (SisOutcome.PENDING, SisOutcome.STALLED):
            return outcome.value, text, None
        if outcome is SisOutcome.ABORTED and by_threshold and self.on_threshold_aborted:
            return outcome.value, text, self.on_threshold_aborted
        return outcome.value, text, self.branches[outcome]


class CanvasSisImportAbortOperator(JobAbortOperatorBase):
    """Abort a pending SIS import, or every pending import of the account (``all_pending=True``).

    Canvas aborts only an import that has not completed; a finished one answers 404, which is
    reported as "already finished" and handled by ``if_finished``: ``ignore`` (log, succeed with the
    import), ``skip`` or ``fail``.

    :param account_id: the root account. Templated.
    :param sis_import_id: the import (templated), e.g.
        ``{{ ti.xcom_pull(task_ids='import_sis', key='sis_import_id') }}``.
    :param all_pending: abort every import not yet running instead (``abort_all_pending``).
    :param if_finished: what an already-finished import does to the task.
    :param canvas_conn_id: the Airflow ``canvas`` connection.
    """

    template_fields: Sequence[str] = ("account_id", "sis_import_id")

    def __init__(
        self,
        *,
        account_id: Any,
        sis_import_id: Any = None,
        all_pending: bool = False,
        if_finished: str = "ignore",
        canvas_conn_id: str = CanvasHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        all_pending = flag(all_pending, what="all_pending", task_id=self.task_id)
        if all_pending == (sis_import_id is not None):
            raise CanvasConfigurationError(f"{self.task_id}: give sis_import_id, or all_pending=True (not both).")
        self.account_id, self.sis_import_id = account_id, sis_import_id
        self.all_pending = all_pending
        self.if_finished = check_if_finished(if_finished, task_id=self.task_id)
        self.canvas_conn_id = canvas_conn_id

    def execute(self, context: Context) -> Any:
        """Read, abort if pending, and return the import as Canvas left it (or abort every pending one)."""
        if not self.all_pending:
            return super().execute(context)
        hook = CanvasHook(self.canvas_conn_id)
        with failing_fast():
            aborted = hook.abort_all_pending_sis_imports(self.account_id)
        self.log.info("abort_all_pending on account %s: aborted=%s", self.account_id, aborted)
        return {"aborted": aborted}

    def _get(self, hook: CanvasHook) -> SisImport:
        return hook.get_sis_import(self.account_id, self.sis_import_id)

    def _stoppable(self, job: SisImport) -> bool:
        return job.is_pending

    def _stop(self, hook: CanvasHook) -> SisImport:
        return hook.abort_sis_import(self.account_id, self.sis_import_id)

    def _result(self, job: SisImport) -> dict[str, Any]:
        return job.to_result()
