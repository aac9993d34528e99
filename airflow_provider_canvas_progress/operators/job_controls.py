"""The branch and abort operators every job kind shares (SIS imports, account reports), written once.

A kind's operator says how it reads its job and what its endings are called; the decisions live
here: a job that has not ended follows ``on_pending`` or fails the task, and an abort reads first,
stops only a job Canvas can stop, takes a 404 race as "it ended meanwhile", and lets ``if_finished``
say what a job that could not be stopped does to the task.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.providers.common.compat.sdk import BaseBranchOperator

from airflow_provider_canvas_progress.compat import (
    AirflowException,
    AirflowFailException,
    AirflowSkipException,
    BaseOperator,
    Context,
)
from airflow_provider_canvas_progress.exceptions import CanvasNotFoundError
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
from airflow_provider_canvas_progress.waiting import failing_fast

__all__ = ["JobAbortOperatorBase", "JobBranchOperatorBase"]


class JobBranchOperatorBase(BaseBranchOperator):  # type: ignore[misc]
    """Follow the branch for how a job ended; a kind's subclass sets ``on_pending`` and reads the job.

    Not used on its own. :attr:`job_label` names the job in the log (``SIS import``).
    """

    job_label: ClassVar[str]
    #: The task ids for a job that has not ended; None fails the task instead.
    on_pending: list[str] | None

    def _ending(self) -> tuple[str, str, list[str] | None]:
        """The outcome's name, a description of the job, and its branch (None while it has not ended)."""
        raise NotImplementedError

    def choose_branch(self, context: Context) -> list[str]:
        """The task ids for the outcome."""
        outcome, text, branch = self._ending()
        self.log.info("%s outcome: %s (%s)", self.job_label, outcome, text)
        if branch is None:
            if self.on_pending is None:
                raise AirflowException(f"{text}: it has not ended and no on_pending branch is set; wait for it first.")
            return self.on_pending
        return branch


class JobAbortOperatorBase(BaseOperator):  # type: ignore[misc]
    """Abort a job Canvas can still stop, and return it as Canvas left it; a kind's subclass reads and stops it.

    Not used on its own; the subclass sets ``if_finished`` (``ignore``, ``skip`` or ``fail``) and
    ``canvas_conn_id``.
    """

    if_finished: str
    canvas_conn_id: str

    def _get(self, hook: CanvasHook) -> Any:
        """Read the job."""
        raise NotImplementedError

    def _stoppable(self, job: Any) -> bool:
        """Whether Canvas would stop the job now (it answers 404 otherwise)."""
        raise NotImplementedError

    def _stop(self, hook: CanvasHook) -> Any:
        """Ask Canvas to stop the job; the job as it answers."""
        raise NotImplementedError

    def _result(self, job: Any) -> dict[str, Any]:
        """The task's return value for the job."""
        raise NotImplementedError

    def _not_stopped(self, job: Any) -> str:
        """Why the job was not stopped, for the message (``already finished``)."""
        return "already finished"

    def execute(self, context: Context) -> Any:
        """Read, abort if Canvas can, and return the job as Canvas left it."""
        hook = CanvasHook(self.canvas_conn_id)
        with failing_fast():
            current = self._get(hook)
            if self._stoppable(current):
                try:
                    stopped = self._stop(hook)
                except CanvasNotFoundError:
                    # It ended between the read and the abort.
                    current = self._get(hook)
                else:
                    self.log.info("Aborted: %s", stopped.describe())
                    return self._result(stopped)
        text = f"Not aborted, {self._not_stopped(current)}: {current.describe()}"
        if self.if_finished == "fail":
            raise AirflowFailException(text)
        if self.if_finished == "skip":
            raise AirflowSkipException(text)
        self.log.info("%s", text)
        return self._result(current)
