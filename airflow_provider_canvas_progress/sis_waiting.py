"""What every task that waits on an SIS import does with it, shared by the sensor and the operator.

The wait itself (trigger, deadline, failed polls, abort on kill) is the generic one of
:mod:`~airflow_provider_canvas_progress.waiting`; this module reads an SIS import's ending: the
result a DAG keeps, the warnings logged for ``imported_with_messages``, the failure raised for an
outcome in ``fail_on``, and the one extra read a ``change_threshold`` abort may need (its warning
can sit past the 24 Canvas inlines).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import pendulum

from airflow_provider_canvas_progress.compat import Context
from airflow_provider_canvas_progress.core.kinds import JobKind
from airflow_provider_canvas_progress.core.kinds.sis_import import KIND, SisImportRef
from airflow_provider_canvas_progress.core.sis import SisImport, SisOutcome
from airflow_provider_canvas_progress.exceptions import (
    CanvasJobCancelled,
    CanvasJobFailed,
    CanvasWaitTimeout,
)
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.job_waiting import STALLED, JobWait
from airflow_provider_canvas_progress.waiting import failing_fast, task_failure

__all__ = [
    "DEFAULT_SIS_FAIL_ON",
    "SIS_IMPORT_ID_XCOM_KEY",
    "SIS_IMPORT_XCOM_KEY",
    "SisImportWait",
    "SisWaitPolicy",
]

#: XCom key of the import id, pushed before any waiting (abort and restore tasks read it).
SIS_IMPORT_ID_XCOM_KEY = "sis_import_id"
#: XCom key of the last import seen (the result, or the pending import while waiting).
SIS_IMPORT_XCOM_KEY = "sis_import"
#: ``stalled`` only ever happens with ``stalled_after`` set; then it fails the task by default.
DEFAULT_SIS_FAIL_ON = ("failed", "aborted", STALLED)
#: Warnings and errors written to the task log at the end (the result carries the first 24 too).
_LOGGED_MESSAGES = 10


@dataclass(frozen=True)
class SisWaitPolicy:
    """How a task reads an import's ending: ``fail_on`` outcomes fail it, others succeed with the result.

    ``stalled`` is an ending of the wait, not of the import:
    :class:`~airflow_provider_canvas_progress.job_waiting.JobWait` reads it against the same ``fail_on``.
    """

    fail_on: frozenset[SisOutcome]
    #: The kind the generic wait stops on kill or timeout (an abort, only while pending).
    kind: ClassVar[JobKind[Any, Any]] = KIND

    @classmethod
    def of(cls, fail_on: Iterable[str] | str) -> SisWaitPolicy:
        """Validate the user's ``fail_on``.

        :raises CanvasConfigurationError: an unknown outcome.
        """
        return cls(SisOutcome.parse_many(fail_on))

    def result(
        self, sis_import: SisImport, hook: CanvasHook, ref: SisImportRef, context: Context | None, log: Any
    ) -> dict[str, Any]:
        """The task's return value for an ended import, or the failure to raise."""
        if sis_import.abort_cause_hidden:
            # A change_threshold warning written after 24 row warnings is not inlined.
            with failing_fast():
                entries = hook.get_sis_import_errors(ref.account, ref.id)
            sis_import = sis_import.with_messages(entries)
        result = sis_import.to_result()
        if context is not None:
            context["ti"].xcom_push(key=SIS_IMPORT_XCOM_KEY, value=result)
        _log_messages(sis_import, log)
        outcome = sis_import.outcome
        if outcome not in self.fail_on:
            log.info("%s: %s", outcome.value, sis_import.describe())
            return result
        text = f"SIS import ended {outcome.value}: {sis_import.describe()}."
        if outcome is SisOutcome.ABORTED:
            threshold = sis_import.threshold_abort
            hint = (
                " Nothing was deleted; check the night's files, or raise change_threshold if the deletes are expected."
                if threshold is not None
                else " It was aborted in Canvas (a user, or abort_all_pending)."
            )
            raise CanvasJobCancelled(text + hint + " Not retried: start a new import.", progress_id=sis_import.id)
        raise CanvasJobFailed(
            text + " Not retried (the same import cannot change); fix the files and start a new import.",
            progress_id=sis_import.id,
            canvas_message=sis_import.errors[0][1] if sis_import.errors else sis_import.crash_message,
        )

    def timeout(self, ref: SisImportRef, waited: float, last: SisImport | None) -> CanvasWaitTimeout:
        """The timeout failure, naming the last state seen."""
        seen = last.describe() if last is not None else f"SIS import {ref.id} was never read successfully"
        return CanvasWaitTimeout(
            f"Timed out after {waited:.0f} s waiting on {ref}: {seen}. The import may still be running (or waiting "
            "behind another import of the account); raise the timeout, or abort it (abort_on_timeout=True).",
            progress_id=ref.id,
        )


def _log_messages(sis_import: SisImport, log: Any) -> None:
    for title, pairs, total, level in (
        ("error", sis_import.errors, sis_import.errors_total, log.error),
        ("warning", sis_import.warnings, sis_import.warnings_total, log.warning),
    ):
        for file, message in pairs[:_LOGGED_MESSAGES]:
            level("SIS import %s %s: %s%s", sis_import.id, title, f"{file}: " if file else "", message)
        if total > _LOGGED_MESSAGES:
            level(
                "SIS import %s: %d %ss in all (first %d above; all in the result's errors file %s)",
                sis_import.id,
                total,
                title,
                _LOGGED_MESSAGES,
                sis_import.errors_attachment_id,
            )


class SisImportWait(JobWait):
    """The sensor's and the operator's shared wait on an SIS import: poke, defer, resume, abort.

    Mixed into an operator with ``account_id``, ``fail_on``, ``abort_on_kill``/``abort_on_timeout``
    (as ``cancel_on_kill``/``cancel_on_timeout``), ``stalled_after``/``cancel_on_stall`` and
    ``max_consecutive_failures``. Aborting on kill, timeout or stall is the generic stop of
    :class:`~airflow_provider_canvas_progress.waiting.DeferredWait` (only a pending import), through
    the SIS kind; the stall watch is :class:`~airflow_provider_canvas_progress.job_waiting.JobWait`'s,
    with the kind's allowance (an import queued behind another of its account is not stalled).
    """

    job_kind = KIND
    job_xcom_key = SIS_IMPORT_XCOM_KEY

    def _policy(self) -> Any:
        return SisWaitPolicy.of(self.fail_on)

    def _fetch(self, ref: SisImportRef) -> SisImport:
        return self.hook.get_sis_import(ref.account, ref.id)

    def _read(self, ref: SisImportRef) -> SisImport:
        sis_import: SisImport = super()._read(ref)
        if sis_import.is_abandoned(pendulum.now("UTC")):
            raise task_failure(
                f"SIS import {ref.id} is still 'initializing' after 10 minutes: a create that Canvas refused left "
                "it behind, and it never runs. Start a new import.",
                False,
            )
        return sis_import

    def _pending_result(self, job: SisImport) -> dict[str, Any]:
        return job.to_result()

    def _job_result(self, job: SisImport, context: Context | None) -> dict[str, Any]:
        assert self._job_ref is not None
        return SisWaitPolicy.of(self.fail_on).result(job, self.hook, self._job_ref, context, self.log)
