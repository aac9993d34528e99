"""The account report kind: a report read at ``/api/v1/accounts/:id/reports/:report/:id``.

Pending: ``created``, ``running``, ``compiling``; terminal: ``complete``, ``error``, ``aborted``
(unknown states fail closed when parsed, and ``deleted`` fails closed when read as an outcome).
Stopped with ``PUT .../:id/abort``, which Canvas accepts only while the report is ``running``. The
outcome in the generic terms of the wait: ``complete`` is completed, ``error`` failed (its reason
is ``parameters.extra_text``), ``aborted`` cancelled.

The job travels in trigger events without its download links (``attachment.url`` needs no token,
``file_url`` needs a session): the task reads the report again when it needs the file.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_canvas_progress.core.kinds import JobClient, JobKind
from airflow_provider_canvas_progress.core.outcome import CancelMatcher, Outcome
from airflow_provider_canvas_progress.core.report_refs import ReportRef
from airflow_provider_canvas_progress.core.reports import AccountReport, ReportOutcome, parse_report, report_outcome
from airflow_provider_canvas_progress.core.stall import Observation
from airflow_provider_canvas_progress.exceptions import CanvasNotFoundError

_OUTCOMES = {
    ReportOutcome.COMPLETE: Outcome.COMPLETED,
    ReportOutcome.ERROR: Outcome.FAILED,
    ReportOutcome.ABORTED: Outcome.CANCELLED,
    ReportOutcome.STALLED: Outcome.STALLED,
}


class AccountReportKind(JobKind[ReportRef, AccountReport]):
    """A Canvas account report as a job kind."""

    name = ReportRef.KIND
    noun = "Canvas account report"

    def parse_ref(self, text: str) -> ReportRef:
        return ReportRef.parse(text)

    def job_id(self, job: AccountReport) -> str:
        return job.id

    def is_pending(self, job: AccountReport) -> bool:
        return job.is_pending

    def outcome(self, job: AccountReport, matcher: CancelMatcher) -> Outcome:
        ended = report_outcome(job)
        return Outcome.PENDING if ended is None else _OUTCOMES[ended]

    def fingerprint(self, job: AccountReport) -> tuple[object, ...]:
        return (job.status, job.progress)

    def observation(self, job: AccountReport) -> Observation:
        # A report has no updated_at; current_line moves as rows are written (ExtendedCSV, in
        # lib/account_reports/report_helper.rb) while progress may sit still on a long part, so rows
        # written count as a change too. No allowances: a report that moves nothing is stuck.
        state = job.status.value if job.current_line is None else f"{job.status.value}, line {job.current_line:,}"
        return Observation(state, None if job.progress is None else float(job.progress))

    def poll_line(self, job: AccountReport) -> str:
        line = job.describe()
        if job.current_line:
            line += f", {job.current_line:,} lines written"
        return line

    def describe(self, job: AccountReport) -> str:
        return job.describe()

    def to_dict(self, job: AccountReport) -> dict[str, Any]:
        return job.to_json()

    def from_dict(self, payload: object, *, source: str) -> AccountReport:
        return parse_report(payload, source=source)

    def read(self, client: JobClient, ref: ReportRef) -> AccountReport:
        return parse_report(client.request("GET", ref.api_path), source=f"GET {ref.api_path}")

    async def aread(self, client: JobClient, ref: ReportRef) -> AccountReport:
        return parse_report(await client.arequest("GET", ref.api_path), source=f"GET {ref.api_path}")

    def stop(self, client: JobClient, ref: ReportRef, message: str) -> AccountReport:
        # Canvas's abort takes no message. It finds only a running report: a created or compiling
        # one answers 404 like a finished one, so the report as it is now is the answer then.
        path = f"{ref.api_path}/abort"
        try:
            return parse_report(client.request("PUT", path), source=f"PUT {path}")
        except CanvasNotFoundError:
            return self.read(client, ref)

    async def astop(self, client: JobClient, ref: ReportRef, message: str) -> AccountReport:
        path = f"{ref.api_path}/abort"
        try:
            return parse_report(await client.arequest("PUT", path), source=f"PUT {path}")
        except CanvasNotFoundError:
            return await self.aread(client, ref)

    def api_path(self, ref: ReportRef) -> str:
        return ref.api_path


#: The instance :func:`~airflow_provider_canvas_progress.core.kinds.kind_named` returns.
KIND = AccountReportKind()
