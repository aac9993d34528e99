"""Run a DAG with ``dag.test()`` and read back what happened, the same way on every Airflow.

Task callbacks see the failure as a deployed worker shows it to them, on every version: Airflow's task
runner puts the error in the callback context (``context["exception"]``) before ``finalize`` runs the
callbacks, but the in-process runner that ``dag.test()`` uses on Airflow 3.0 to 3.2 calls
``finalize(ti, state, context, log, error)`` without doing so (Airflow 3.3 does it, Airflow 2 has its
own path). :func:`run_dag` is the one place that bridges it: while a DAG runs there, ``finalize`` puts
the error it is given into the context first, as the worker's ``main()`` does.

Airflow 3.0's in-process runner has a second gap of the same kind: it hands a reschedule-mode sensor
its first reschedule date as the API's JSON string (``model_construct`` skips the parsing a worker's
comms channel does), so the sensor's second poke fails with ``TypeError`` and the task is retried
instead of timing out. A deployed worker, and ``dag.test()`` from Airflow 3.1, get a datetime: while a
DAG runs here on 3.0, the date is parsed as they parse it.

And one cost, not a gap: on Airflow 3.0 to 3.2 the in-process runner builds a new Execution API app
(and its event-loop thread) for every task try it runs, and each spends one to two seconds of CPU
generating its versioned routes -- most of what a DAG test costs there. Airflow 3.3 builds it once per
process (``in_process_api_server`` is cached); while a DAG runs here on 3.0-3.2, so is it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
from dataclasses import dataclass
from typing import Any
from unittest import mock

from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_1_PLUS, AIRFLOW_V_3_3_PLUS
from airflow.utils.session import create_session

from tests.conftest import DAGS


@dataclass
class DagResult:
    """Task states and XComs of one finished DAG run."""

    state: str
    run_id: str
    states: dict[str, str | None]
    xcoms: dict[tuple[str, str], Any]

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        return self.xcoms.get((task_id, key))


def load_dag(module: str, dag_id: str) -> Any:
    """The DAG object from a file in the dags folder (imported, so tests share its module)."""
    import sys

    if str(DAGS) not in sys.path:
        sys.path.insert(0, str(DAGS))
    return importlib.import_module(module).DAGS[dag_id]


def run_with_params(module: str, dag_id: str, **conf: Any) -> DagResult:
    """Run a DAG of the dags folder with every param at its default but those ``conf`` names."""
    dag = load_dag(module, dag_id)
    defaults = copy.deepcopy({key: dag.params[key] for key in dag.params})
    return run_dag(dag, **{**defaults, **conf})


def run_dag(dag: Any, **conf: Any) -> DagResult:
    """``dag.test()`` with ``conf`` as run conf (read by the DAGs through ``params``)."""
    with _callbacks_see_the_error(), _reschedule_dates_parsed(), _one_execution_api():
        dag_run = dag.test(run_conf=conf or None)
    with create_session() as session:
        tis = session.query(_ti_class()).filter_by(dag_id=dag.dag_id, run_id=dag_run.run_id).all()
        states = {ti.task_id: (ti.state.value if hasattr(ti.state, "value") else ti.state) for ti in tis}
        xcoms = _xcoms(session, dag.dag_id, dag_run.run_id)
    state = dag_run.state.value if hasattr(dag_run.state, "value") else dag_run.state
    return DagResult(str(state), dag_run.run_id, states, xcoms)


def _callbacks_see_the_error() -> contextlib.AbstractContextManager[Any]:
    """On Airflow 3.0-3.2, give ``dag.test()``'s callbacks ``context["exception"]`` as a worker does."""
    if not AIRFLOW_V_3_0_PLUS or AIRFLOW_V_3_3_PLUS:
        return contextlib.nullcontext()
    # The in-process supervisor imports ``finalize`` from this module each time it runs a task.
    from airflow.sdk.execution_time import task_runner

    finalize = task_runner.finalize

    def finalize_with_the_error(ti: Any, state: Any, context: Any, log: Any, error: Any = None) -> Any:
        context["exception"] = error
        return finalize(ti, state, context, log, error)

    return mock.patch.object(task_runner, "finalize", finalize_with_the_error)


def _reschedule_dates_parsed() -> contextlib.AbstractContextManager[Any]:
    """On Airflow 3.0, give ``dag.test()``'s reschedule-mode sensors their first reschedule date as a datetime."""
    if not AIRFLOW_V_3_0_PLUS or AIRFLOW_V_3_1_PLUS:
        return contextlib.nullcontext()
    from airflow.sdk.api.client import TaskInstanceOperations
    from airflow.sdk.execution_time.comms import TaskRescheduleStartDate

    unparsed = TaskInstanceOperations.get_reschedule_start_date

    def parsed(self: Any, id: Any, try_number: int = 1) -> Any:
        answer = unparsed(self, id, try_number)
        return TaskRescheduleStartDate.model_validate({"start_date": answer.start_date})

    return mock.patch.object(TaskInstanceOperations, "get_reschedule_start_date", parsed)


def _one_execution_api() -> contextlib.AbstractContextManager[Any]:
    """On Airflow 3.0-3.2, one in-process Execution API app for every task try, as Airflow 3.3 has."""
    if not AIRFLOW_V_3_0_PLUS or AIRFLOW_V_3_3_PLUS:
        return contextlib.nullcontext()
    # The in-process supervisor calls this module-level function each time it makes an API client.
    from airflow.sdk.execution_time import supervisor

    return mock.patch.object(supervisor, "in_process_api_server", _shared_execution_api)


@functools.cache
def _shared_execution_api() -> Any:
    from airflow.api_fastapi.execution_api.app import InProcessExecutionAPI

    return InProcessExecutionAPI()


def _ti_class() -> Any:
    from airflow.models.taskinstance import TaskInstance

    return TaskInstance


def _xcoms(session: Any, dag_id: str, run_id: str) -> dict[tuple[str, str], Any]:
    if AIRFLOW_V_3_0_PLUS:
        from airflow.models.xcom import XComModel

        rows = session.query(XComModel).filter_by(dag_id=dag_id, run_id=run_id).all()
        return {(r.task_id, r.key): XComModel.deserialize_value(r) for r in rows}
    from airflow.models.xcom import XCom

    # Airflow 2's XCom model deserialises on load.
    rows = session.query(XCom).filter_by(dag_id=dag_id, run_id=run_id).all()
    return {(r.task_id, r.key): r.value for r in rows}


def task_log_text(caplog: Any, capfd: Any) -> str:
    """What the tasks of a ``dag.test()`` run logged, wherever this Airflow sends it.

    Airflow 2 and 3.3 log task lines through the standard ``logging`` module (``caplog`` sees them);
    Airflow 3.0 to 3.2's in-process runner prints them through structlog to the process's output
    (only ``capfd`` sees them). Reading both is the one way that reads the same on every version.
    """
    out, err = capfd.readouterr()
    return "\n".join((caplog.text, out, err))
