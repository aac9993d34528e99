"""CanvasSisImportSensor: block a DAG until a Canvas SIS import ends, and say how it ended."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow_provider_canvas_progress.core.kinds.sis_import import SisImportRef
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.sensors.job import CanvasJobSensorBase
from airflow_provider_canvas_progress.sis_waiting import DEFAULT_SIS_FAIL_ON, SisImportWait

__all__ = ["CanvasSisImportSensor"]


class CanvasSisImportSensor(SisImportWait, CanvasJobSensorBase):
    """Wait until an SIS import ends: ``imported``, ``imported_with_messages``, ``failed`` or ``aborted``.

    Works in ``poke`` and ``reschedule`` mode and, with ``deferrable=True``, in the triggerer. The
    return value is the import as a DAG needs it (``outcome``, ``counts``, ``statistics``, the first
    ``errors`` and ``warnings`` with their totals, ``errors_attachment_id``, ``threshold_abort``),
    never the errors file's signed link. ``imported_with_messages`` succeeds, its warnings logged.
    An import waiting behind another of the same account stays ``created``: the wait goes on.

    :param account_id: the root account (an id, ``sis_account_id:…`` or ``self``). Templated.
    :param sis_import_id: the import's id (templated), e.g.
        ``{{ ti.xcom_pull(task_ids='upload', key='sis_import_id') }}``.
    :param canvas_conn_id: the Airflow ``canvas`` connection.
    :param deferrable: wait in the triggerer. Default: ``[operators] default_deferrable``.
    :param fail_on: outcomes that fail the task; default ``("failed", "aborted", "stalled")``; ``[]``
        to branch on every ending. ``failed`` and ``aborted`` are not retried (the same import cannot
        change); ``stalled`` is (``CanvasJobStalled``).
    :param abort_on_kill: abort the import when the task is killed (only while it is pending).
    :param abort_on_timeout: abort the import when the wait times out.
    :param max_consecutive_failures: transient read failures in a row tolerated while deferred.
    :param stalled_after: end the wait with the outcome ``stalled`` when the import stays pending
        with no change of state, progress or ``updated_at`` for this long (timedelta or seconds; at
        least 60 s and the poke interval); an import in ``created`` queued behind another of the
        account is not stalled. None (the default): no stall watch. See "Retries and stuck jobs".
    :param cancel_on_stall: abort the import before ending the wait on a stall.
    """

    template_fields: Sequence[str] = ("account_id", "sis_import_id")
    ui_color = "#e8f4e5"
    ref_type = SisImportRef

    def __init__(
        self,
        *,
        account_id: Any,
        sis_import_id: Any,
        canvas_conn_id: str = CanvasHook.default_conn_name,
        deferrable: bool | None = None,
        fail_on: Sequence[str] = DEFAULT_SIS_FAIL_ON,
        abort_on_kill: bool = False,
        abort_on_timeout: bool = False,
        max_consecutive_failures: int = 5,
        stalled_after: timedelta | float | None = None,
        cancel_on_stall: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            canvas_conn_id=canvas_conn_id,
            deferrable=deferrable,
            fail_on=fail_on,
            abort_on_kill=abort_on_kill,
            abort_on_timeout=abort_on_timeout,
            max_consecutive_failures=max_consecutive_failures,
            stalled_after=stalled_after,
            cancel_on_stall=cancel_on_stall,
            **kwargs,
        )
        self.account_id = account_id
        self.sis_import_id = sis_import_id
        self._check_arguments()

    def _ref_args(self) -> tuple[Any, ...]:
        return (self.account_id, self.sis_import_id)
