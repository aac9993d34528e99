"""Durable start-then-wait for the job-starting operators: a retry re-attaches to its job.

The decision is :mod:`~airflow_provider_canvas_progress.core.durable`'s; this module is its driver:
it reads the task state store (Airflow >= 3.3 puts it in the task's context), reads the stored job
back from Canvas, starts a job only when the decision says so, and stores the new job's reference
**before any waiting** -- poke or deferred -- so that a try that dies anywhere in its wait leaves
the next try a job to find.

Airflow's ``ResumableJobMixin`` takes the same three branches, but its ``execute_resumable`` owns
the whole try (submit, store, poll) and its stand-in below 3.3 starts a job on every try without a
word. Here the decision is shared by the synchronous and the deferrable wait and by every job kind,
the retry's story is logged in one line, the attached job's reference goes to XCom, and below 3.3
each operator may still look for its job where Canvas can tell (SIS imports).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pendulum

from airflow_provider_canvas_progress.compat import Context, task_state_store
from airflow_provider_canvas_progress.core.durable import (
    STORE_KEY,
    Action,
    EarlierImportQuery,
    ReadBack,
    StartedRecord,
    decide,
    find_earlier_import,
    imports_listed,
    ref_to_read,
    without_store,
)
from airflow_provider_canvas_progress.core.kinds import JobKind
from airflow_provider_canvas_progress.exceptions import CanvasNotFoundError

#: XCom key of the job reference this try works on (``{"ref", "started_by_try", "attached_by_try"}``).
JOB_XCOM_KEY = "canvas_job"

#: Why ``durable`` can have no effect, for the one log line that says so.
NO_STORE = "this Airflow has no task state store (it arrived in Airflow 3.3)"


class DurableStart:
    """Mixed into a job-starting operator that has ``durable``, ``hook`` and ``log``."""

    durable: bool
    hook: Any
    log: Any

    def _start_or_attach(
        self,
        context: Context,
        *,
        kind: JobKind[Any, Any],
        ended_well: Callable[[Any], bool],
        start: Callable[[], tuple[Any, Any]],
        find_earlier: Callable[[], tuple[Any, Any] | None] | None = None,
    ) -> tuple[Action, Any, Any]:
        """Decide, and start a job only when the decision says so.

        :param ended_well: whether an ended job ended with an outcome the task does not fail on.
        :param start: starts a new job; returns its reference and the job as Canvas answered.
        :param find_earlier: where there is no store, looks for the job an earlier try started
            (returns its reference and the job, or None); only kinds that can tell give one.
        :returns: what was done, the job's reference and the job as last read.
        """
        try_number = int(getattr(context["ti"], "try_number", 1) or 1)
        store = task_state_store(context)
        if store is None:
            if find_earlier is None or not self.durable:
                self.log.info("%s", without_store(durable=self.durable, why=NO_STORE).line)
            found = find_earlier() if find_earlier is not None and self.durable else None
            if found is not None:
                ref, job = found
                action = Action.REATTACH if kind.is_pending(job) else Action.RETURN
                self._push_ref(context, StartedRecord(str(ref), 0), try_number)
                return action, ref, job
            ref, job = start()
            self._push_ref(context, StartedRecord(str(ref), try_number), try_number)
            return Action.START, ref, job

        stored = StartedRecord.from_dict(store.get(STORE_KEY))
        text = ref_to_read(stored, durable=self.durable)
        ref = job = read_back = None
        if text is not None:
            ref = kind.parse_ref(text)
            try:
                job = kind.read(self.hook, ref)
            except CanvasNotFoundError:
                job = None
            if job is not None:
                read_back = ReadBack(
                    kind.noun,
                    kind.job_id(job),
                    kind.observation(job),
                    pending=kind.is_pending(job),
                    ended_well=ended_well(job),
                )
        decision = decide(stored, read_back, durable=self.durable, try_number=try_number)
        self.log.info("%s", decision.line)
        if decision.action is not Action.START and decision.record is not None:
            self._push_ref(context, decision.record, try_number)
            return decision.action, ref, job
        ref, job = start()
        record = StartedRecord(str(ref), try_number)
        # Before any waiting: a try that dies from here on leaves the next try this job to find.
        store.set(STORE_KEY, record.to_dict())
        self._push_ref(context, record, try_number)
        return Action.START, ref, job

    @staticmethod
    def _push_ref(context: Context, record: StartedRecord, try_number: int) -> None:
        value = {"ref": record.ref, "started_by_try": record.try_number or None, "attached_by_try": try_number}
        context["ti"].xcom_push(key=JOB_XCOM_KEY, value=value)


def earlier_sis_import(
    hook: Any, context: Context, account_id: object, identifier: str | None, log: Any
) -> tuple[Any, Any] | None:
    """Without a task state store: the SIS import an earlier try of this DAG run created, where Canvas
    can tell (one page of ``GET /api/v1/accounts/:id/sis_imports`` since the run started; see
    :func:`~airflow_provider_canvas_progress.core.durable.find_earlier_import`). None on a first try."""
    from airflow_provider_canvas_progress.core.kinds.sis_import import KIND, SisImportRef, account_segment

    run_start = getattr(context.get("dag_run"), "start_date", None)
    if int(getattr(context["ti"], "try_number", 1) or 1) <= 1 or run_start is None:
        return None
    account = account_segment(account_id)
    # Whole seconds: Canvas writes created_at without fractions, so an import made in the run's first
    # second would otherwise read as older than the run.
    since = pendulum.instance(run_start).in_tz("UTC").replace(microsecond=0)
    payload = hook.request(
        "GET", f"/api/v1/accounts/{account}/sis_imports", params={"created_since": since.isoformat(), "per_page": 100}
    )
    query = EarlierImportQuery(since.timestamp(), time.time(), identifier, None)
    found = find_earlier_import(imports_listed(payload), query)
    log.info("%s", found.line)
    if found.found is None:
        return None
    ref = SisImportRef.of(account, found.found.id)
    return ref, KIND.read(hook, ref)
