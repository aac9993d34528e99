"""The task side of the stall watch (:mod:`~airflow_provider_canvas_progress.stalling`), on an injected
clock and a task state store of our own: a reschedule-mode record belongs to the try that wrote it.

The store outlives a try (Airflow keeps it across a task instance's tries). Without the try in the
record, a retry of a sensor whose import stalled would read the first try's record at its first poke
and call the import stalled again at once, instead of giving it another ``stalled_after``.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_canvas_progress.core.kinds.sis_import import KIND, SisImportRef
from airflow_provider_canvas_progress.core.sis import SisImport, parse_sis_import
from airflow_provider_canvas_progress.stalling import STALL_STORE_KEY, TaskStallWatch

STALLED_AFTER = 600.0
T0 = 1_700_000_000.0
REF = SisImportRef.of(1, 7)
#: The client the kind would read through to explain a still ``created`` import; never asked here.
UNREAD: Any = None


class Store:
    """A task state store: what a try sets, a later process of the task instance gets back."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def importing(progress: int = 40) -> SisImport:
    return parse_sis_import({"id": 7, "workflow_state": "importing", "progress": progress, "data": {}})


def watch(store: Store, clock: Clock, try_number: int | None) -> TaskStallWatch:
    return TaskStallWatch(STALLED_AFTER, store=store, try_number=try_number, clock=clock)


def test_each_poke_of_one_try_carries_the_watch_on_through_the_store() -> None:
    store, clock = Store(), Clock(T0)
    assert watch(store, clock, 1).check(KIND, UNREAD, REF, importing()) is None

    clock.now = T0 + STALLED_AFTER  # a later poke: a fresh process, the same try
    stalled = watch(store, clock, 1).check(KIND, UNREAD, REF, importing())

    assert stalled is not None
    assert stalled.still_for == STALLED_AFTER
    assert store.values[STALL_STORE_KEY]["try"] == 1


def test_a_retry_starts_its_own_watch_and_gives_the_job_another_stalled_after() -> None:
    store, clock = Store(), Clock(T0)
    watch(store, clock, 1).check(KIND, UNREAD, REF, importing())
    clock.now = T0 + STALLED_AFTER
    assert watch(store, clock, 1).check(KIND, UNREAD, REF, importing()) is not None

    clock.now = T0 + STALLED_AFTER + 60  # try 2's first poke, the import still as it was
    assert watch(store, clock, 2).check(KIND, UNREAD, REF, importing()) is None
    clock.now = T0 + 2 * STALLED_AFTER + 59
    assert watch(store, clock, 2).check(KIND, UNREAD, REF, importing()) is None
    clock.now = T0 + 2 * STALLED_AFTER + 60
    assert watch(store, clock, 2).check(KIND, UNREAD, REF, importing()) is not None


def test_a_record_that_names_no_try_is_read_as_the_running_trys() -> None:
    store, clock = Store(), Clock(T0)
    TaskStallWatch(STALLED_AFTER, store=store, clock=clock).check(KIND, UNREAD, REF, importing())
    assert "try" not in store.values[STALL_STORE_KEY]

    clock.now = T0 + STALLED_AFTER
    assert watch(store, clock, 3).check(KIND, UNREAD, REF, importing()) is not None


def test_a_change_restarts_the_watch_whatever_try_sees_it() -> None:
    store, clock = Store(), Clock(T0)
    watch(store, clock, 1).check(KIND, UNREAD, REF, importing(40))

    clock.now = T0 + STALLED_AFTER
    assert watch(store, clock, 1).check(KIND, UNREAD, REF, importing(66)) is None
    assert store.values[STALL_STORE_KEY]["changed_at"] == T0 + STALLED_AFTER
