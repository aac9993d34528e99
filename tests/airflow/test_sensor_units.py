"""CanvasProgressSensor pieces that dag.test() does not reach: start_from_trigger, trigger events,
extra links, on_kill, and where the token must never appear."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pendulum
import pytest
from airflow.providers.common.compat.sdk import AirflowSkipException, TaskDeferred

from airflow_provider_canvas_progress.compat import TRIGGER_RENDERS_TEMPLATES
from airflow_provider_canvas_progress.core.events import EVENT_VERSION, TriggerEventError
from airflow_provider_canvas_progress.sensors.progress import CanvasProgressSensor
from airflow_provider_canvas_progress.testing import CanvasSimulator, Fault, JobScript
from airflow_provider_canvas_progress.triggers.progress import CanvasProgressTrigger
from tests.airflow.runner import DagResult, load_dag, run_dag


class FakeTI:
    """Just enough of a task instance for execute_complete's XCom push."""

    dag_id, task_id, run_id = "d", "wait", "manual__1"

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def sensor(**kwargs: Any) -> CanvasProgressSensor:
    return CanvasProgressSensor(task_id="wait", **{"progress_id": "1", "deferrable": True, **kwargs})


def ended_event(progress_id: str, state: str = "completed", message: str | None = None) -> dict[str, Any]:
    progress = {"id": progress_id, "workflow_state": state, "completion": 100.0, "message": message}
    return {"version": EVENT_VERSION, "status": "ended", "progress_id": progress_id, "progress": progress}


def test_start_from_trigger_builds_a_trigger_that_waits_with_no_worker(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript(queued_for=0.1, running_for=0.3))
    task = sensor(progress_id=pid, start_from_trigger=True, poke_interval=0.1, timeout=30)
    args = task.start_trigger_args
    assert task.start_from_trigger is True
    assert args.next_method == "execute_complete"
    assert args.timeout == pendulum.duration(seconds=30)
    trigger = CanvasProgressTrigger(**args.trigger_kwargs)  # what the scheduler stores and the triggerer builds

    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    payload = asyncio.run(first())
    ti = FakeTI()
    result = task.execute_complete({"ti": ti}, event=payload)
    assert result["outcome"] == "completed"
    assert ti.pushed["progress"]["id"] == pid


@pytest.mark.skipif(not TRIGGER_RENDERS_TEMPLATES, reason="Airflow 2 triggers do not render templates")
def test_start_from_trigger_keeps_templates_for_the_triggerer_to_render() -> None:
    # The reference travels as one kwarg, ``ref``, which the triggerer renders (it used to be ``progress_id``).
    task = sensor(progress_id="{{ params.progress_id }}", start_from_trigger=True)
    assert task.start_trigger_args.trigger_kwargs["ref"] == "{{ params.progress_id }}"
    assert "ref" in CanvasProgressTrigger.template_fields


@pytest.mark.skipif(TRIGGER_RENDERS_TEMPLATES, reason="Airflow 3 renders templates in the triggerer")
def test_start_from_trigger_refuses_templates_where_the_triggerer_cannot_render_them() -> None:
    with pytest.raises(ValueError, match="does not render templates"):
        sensor(progress_id="{{ params.progress_id }}", start_from_trigger=True)


def test_start_from_trigger_needs_deferrable() -> None:
    with pytest.raises(ValueError, match="needs deferrable=True"):
        sensor(start_from_trigger=True, deferrable=False)


@pytest.mark.parametrize(
    ("event", "match"),
    [
        (None, "not an event dict"),
        ({"version": 99, "status": "ended", "progress_id": "1"}, "version 99"),
        ({"version": EVENT_VERSION, "status": "exploded", "progress_id": "1"}, "unknown status"),
        ({"version": EVENT_VERSION, "status": "ended", "progress_id": ""}, "progress_id"),
        ({**ended_event("1"), "progress": {"id": "1", "workflow_state": "running"}}, "no terminal Progress"),
        ({**ended_event("1"), "progress": {"id": "x", "workflow_state": "completed"}}, "expected an id"),
        ({**ended_event("1"), "elapsed": "long"}, "non-numeric elapsed"),
    ],
)
def test_execute_complete_rejects_a_malformed_event_clearly(event: Any, match: str) -> None:
    with pytest.raises(TriggerEventError, match=match):
        sensor().execute_complete({"ti": FakeTI()}, event=event)


def test_execute_complete_reads_a_valid_failed_event_as_a_failure() -> None:
    from airflow_provider_canvas_progress.waiting import CanvasJobFailed

    with pytest.raises(CanvasJobFailed, match="Unexpected error, ID: 9"):
        sensor().execute_complete({"ti": FakeTI()}, event=ended_event("1", "failed", "Unexpected error, ID: 9"))


# The poke a deferrable sensor makes before deferring treats errors as any poke does: dag.test()
# covers soft_fail with a job that failed before it; these cover the cases no DAG variant has.


def test_first_poke_with_never_fail_skips_on_an_unknown_progress(canvas: CanvasSimulator) -> None:
    with pytest.raises(AirflowSkipException, match=r"never_fail.*987654"):
        sensor(progress_id="987654", never_fail=True).execute({"ti": FakeTI()})


def test_first_poke_with_silent_fail_defers_through_an_outage(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.never_ending())
    canvas.inject(Fault.html(503), times=3, path=r"^/api/v1/progress/")  # every attempt of the first read
    with pytest.raises(TaskDeferred) as deferred:
        sensor(progress_id=pid, silent_fail=True).execute({"ti": FakeTI()})
    assert deferred.value.trigger.progress_id == pid


def test_first_poke_without_silent_fail_lets_an_outage_reach_airflow_retries(canvas: CanvasSimulator) -> None:
    from airflow_provider_canvas_progress.core.errors import CanvasError

    pid = canvas.create_progress(script=JobScript.never_ending())
    canvas.inject(Fault.html(503), times=3, path=r"^/api/v1/progress/")
    with pytest.raises(CanvasError) as raised:
        sensor(progress_id=pid).execute({"ti": FakeTI()})
    assert raised.value.retryable


def test_deferring_keeps_the_global_id_the_user_gave(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.never_ending())
    global_id = str(10_000_000_000_000 + int(pid))  # shard 1; Canvas answers with the local id
    with pytest.raises(TaskDeferred) as deferred:
        sensor(progress_id=global_id).execute({"ti": FakeTI()})
    assert deferred.value.trigger.progress_id == global_id


def test_fail_on_is_validated_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match="fail_on contains"):
        sensor(fail_on=["failed", "exploded"])


def test_on_kill_cancels_the_job_when_asked(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.never_ending())
    sensor(progress_id=pid, cancel_on_kill=True).on_kill()
    after = canvas.progress_json(pid)
    assert after["workflow_state"] == "failed"
    assert after["message"] == "Cancelled by Airflow: the task was killed"


def test_on_kill_leaves_the_job_alone_by_default(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.never_ending())
    sensor(progress_id=pid).on_kill()
    assert not [r for r in canvas.requests if r.path.endswith("/cancel")]


def test_links_and_xcom_carry_the_progress_but_never_the_token(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript(queued_for=0.1, running_for=0.3))
    result = run_dag(load_dag("canvas_sensor_dags", "sensor_poke_default"), progress_id=pid)
    assert result.states == {"wait": "success"}
    stored = json.dumps({f"{k[0]}/{k[1]}": v for k, v in result.xcoms.items()}, default=str)
    assert canvas.token not in stored
    progress = result.xcom("wait", "progress")
    assert progress["url"] == f"{canvas.base_url}/api/v1/progress/{pid}"
    assert links_of(result, "sensor_poke_default") == {
        "CanvasProgressLink": progress["url"],
        "CanvasContextLink": f"{canvas.base_url}/accounts/1",
    }


def links_of(result: DagResult, dag_id: str) -> dict[str, str]:
    """The task's extra links as the UI would show them."""
    from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_0_PLUS

    from airflow_provider_canvas_progress.links import CanvasContextLink, CanvasProgressLink

    if AIRFLOW_V_3_0_PLUS:  # resolved on the worker when the task ends, stored as XCom
        return {name: result.xcom("wait", f"_link_{name}") for name in ("CanvasProgressLink", "CanvasContextLink")}
    from airflow.models.taskinstancekey import TaskInstanceKey

    key = TaskInstanceKey(dag_id, "wait", result.run_id, try_number=1)
    task = load_dag("canvas_sensor_dags", dag_id).get_task("wait")
    return {
        type(link).__name__: link.get_link(task, ti_key=key) for link in (CanvasProgressLink(), CanvasContextLink())
    }


def test_rendered_fields_never_hold_the_token(canvas: CanvasSimulator) -> None:
    pid = canvas.create_progress(script=JobScript.instant("completed"))
    dag = load_dag("canvas_sensor_dags", "sensor_deferrable_default")
    run_dag(dag, progress_id=pid)
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(RenderedTaskInstanceFields).filter_by(dag_id=dag.dag_id).all()
        rendered = json.dumps([r.rendered_fields for r in rows], default=str)
    assert pid in rendered
    assert canvas.token not in rendered
