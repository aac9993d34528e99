"""Run a DAG with ``dag.test()`` and read back what happened, the same way on Airflow 2 and 3."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_0_PLUS
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


def run_dag(dag: Any, **conf: Any) -> DagResult:
    """``dag.test()`` with ``conf`` as run conf (read by the DAGs through ``params``)."""
    dag_run = dag.test(run_conf=conf or None)
    with create_session() as session:
        tis = session.query(_ti_class()).filter_by(dag_id=dag.dag_id, run_id=dag_run.run_id).all()
        states = {ti.task_id: (ti.state.value if hasattr(ti.state, "value") else ti.state) for ti in tis}
        xcoms = _xcoms(session, dag.dag_id, dag_run.run_id)
    state = dag_run.state.value if hasattr(dag_run.state, "value") else dag_run.state
    return DagResult(str(state), dag_run.run_id, states, xcoms)


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
