"""Specification of the stall watch: when a still Canvas job counts as stuck.

Every test drives the watch with explicit wall times; nothing sleeps.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.core.stall import (
    MAX_STALLED_AFTER,
    MIN_STALLED_AFTER,
    NO_ALLOWANCES,
    LastChange,
    Observation,
    StallCheck,
    StallRules,
    Verdict,
    clamp_stalled_after,
    explained,
    observe,
    parse_stalled_after,
    stall_message,
)

T0 = 1_700_000_000.0
HOUR = 3600.0
RUNNING = Observation("running", 40.0, T0 - 10)
#: A SIS import's allowances, as the SIS kind states them: ``created`` may be queued on the strand.
SIS_RULES = StallRules(explainable_states=frozenset({"created"}))
PROGRESS_RULES = StallRules(updated_at_marks_every_change=True)


def _watch(reads: list[tuple[float, Observation]], rules: StallRules = NO_ALLOWANCES) -> list[StallCheck]:
    checks: list[StallCheck] = []
    last: LastChange | None = None
    for now, seen in reads:
        check = observe(last, seen, now, stalled_after=HOUR, rules=rules)
        checks.append(check)
        last = check.last
    return checks


# --- what counts as a change ----------------------------------------------------------------


def test_first_read_is_a_change_dated_at_the_read() -> None:
    check = observe(None, RUNNING, T0, stalled_after=HOUR)

    assert check.verdict is Verdict.MOVING
    assert check.last == LastChange(RUNNING, T0)


def test_unchanged_job_is_still_until_stalled_after_has_passed() -> None:
    checks = _watch([(T0, RUNNING), (T0 + HOUR - 1, RUNNING)])

    assert checks[-1].verdict is Verdict.STILL
    assert checks[-1].still_for == HOUR - 1


def test_unchanged_job_is_stalled_once_stalled_after_has_passed() -> None:
    checks = _watch([(T0, RUNNING), (T0 + 600, RUNNING), (T0 + HOUR, RUNNING)])

    assert [c.verdict for c in checks] == [Verdict.MOVING, Verdict.STILL, Verdict.STALLED]
    assert checks[-1].still_for == HOUR


@pytest.mark.parametrize(
    "changed",
    [
        Observation("queued", 40.0, T0 - 10),
        Observation("running", 41.0, T0 - 10),
        Observation("running", 40.0, T0 + 5),
    ],
    ids=["state", "completion", "updated_at"],
)
def test_a_change_of_any_one_field_restarts_the_clock(changed: Observation) -> None:
    checks = _watch([(T0, RUNNING), (T0 + 3000, changed), (T0 + HOUR, changed)])

    assert checks[1].verdict is Verdict.MOVING
    assert checks[1].last.changed_at == T0 + 3000
    assert checks[2].verdict is Verdict.STILL


def test_sis_progress_restarting_at_cleanup_batch_is_a_change_not_a_stall() -> None:
    importing = Observation("importing", 100.0, T0)
    cleanup = Observation("cleanup_batch", 0.0, T0)

    checks = _watch([(T0, importing), (T0 + 3000, cleanup), (T0 + 3000 + HOUR - 1, cleanup)], SIS_RULES)

    assert [c.verdict for c in checks] == [Verdict.MOVING, Verdict.MOVING, Verdict.STILL]


def test_progress_going_backwards_within_a_state_is_a_change() -> None:
    checks = _watch([(T0, Observation("cleanup_batch", 60.0)), (T0 + HOUR, Observation("cleanup_batch", 10.0))])

    assert checks[1].verdict is Verdict.MOVING


def test_a_clock_stepping_back_never_makes_a_job_stalled() -> None:
    checks = _watch([(T0, RUNNING), (T0 - 5 * HOUR, RUNNING)])

    assert checks[1].verdict is Verdict.STILL
    assert checks[1].still_for == 0.0


# --- waits the kind can explain ---------------------------------------------------------------


def test_still_job_in_an_explainable_state_is_not_called_stalled_without_asking_the_kind() -> None:
    created = Observation("created", 0.0, T0)

    checks = _watch([(T0, created), (T0 + HOUR, created)], SIS_RULES)

    assert checks[1].verdict is Verdict.EXPLAIN


def test_import_queued_behind_another_is_not_stalled_and_the_clock_restarts() -> None:
    created = Observation("created", 0.0, T0)
    asked = _watch([(T0, created), (T0 + HOUR, created)], SIS_RULES)[-1]

    check = explained(asked, T0 + HOUR, "queued behind SIS import 122 (importing, 30 %)")

    assert check.verdict is Verdict.STILL
    assert check.last == LastChange(created, T0 + HOUR, "queued behind SIS import 122 (importing, 30 %)")
    later = observe(check.last, created, T0 + 2 * HOUR - 1, stalled_after=HOUR, rules=SIS_RULES)
    assert later.verdict is Verdict.STILL


def test_kind_is_asked_at_most_once_per_stalled_after() -> None:
    created = Observation("created", 0.0, T0)
    last: LastChange | None = None
    asks = 0
    for minute in range(0, 4 * 60 + 1):
        check = observe(last, created, T0 + minute * 60, stalled_after=HOUR, rules=SIS_RULES)
        if check.verdict is Verdict.EXPLAIN:
            asks += 1
            check = explained(check, T0 + minute * 60, "queued behind SIS import 122")
        last = check.last

    assert asks == 4


def test_explainable_state_with_no_explanation_is_a_stall() -> None:
    created = Observation("created", 0.0, T0)
    asked = _watch([(T0, created), (T0 + HOUR, created)], SIS_RULES)[-1]

    assert explained(asked, T0 + HOUR, None).verdict is Verdict.STALLED


def test_states_the_kind_does_not_list_stall_without_asking() -> None:
    stuck = Observation("initializing", None, T0)

    checks = _watch([(T0, stuck), (T0 + HOUR, stuck)], SIS_RULES)

    assert checks[1].verdict is Verdict.STALLED


def test_an_explanation_is_ignored_unless_the_watch_asked_for_one() -> None:
    check = _watch([(T0, RUNNING), (T0 + 60, RUNNING)])[-1]

    assert explained(check, T0 + 60, "anything") is check


# --- dating the last change from Canvas's updated_at -------------------------------------------


def test_first_read_is_dated_from_updated_at_when_the_kind_says_it_marks_every_change() -> None:
    old = Observation("running", 40.0, T0 - 2 * HOUR)

    check = observe(None, old, T0, stalled_after=HOUR, rules=PROGRESS_RULES)

    assert check.verdict is Verdict.STALLED
    assert check.still_for == 2 * HOUR


def test_first_read_is_dated_at_the_read_for_kinds_whose_updated_at_lags() -> None:
    old = Observation("importing", 40.0, T0 - 2 * HOUR)

    assert observe(None, old, T0, stalled_after=HOUR, rules=SIS_RULES).verdict is Verdict.MOVING


def test_updated_at_ahead_of_our_clock_dates_the_change_at_the_read() -> None:
    ahead = Observation("running", 40.0, T0 + 300)

    check = observe(None, ahead, T0, stalled_after=HOUR, rules=PROGRESS_RULES)

    assert check.last.changed_at == T0


def test_first_read_in_an_explainable_state_dated_long_ago_asks_the_kind() -> None:
    rules = StallRules(explainable_states=frozenset({"created"}), updated_at_marks_every_change=True)

    check = observe(None, Observation("created", 0.0, T0 - 2 * HOUR), T0, stalled_after=HOUR, rules=rules)

    assert check.verdict is Verdict.EXPLAIN


# --- the record travels (trigger kwargs, task state store) -------------------------------------

observations = st.builds(
    Observation,
    st.sampled_from(["queued", "running", "created", "importing", "cleanup_batch"]),
    st.none() | st.floats(0, 100, allow_nan=False),
    st.none() | st.floats(T0 - 10 * HOUR, T0 + HOUR, allow_nan=False),
)


@given(observations, st.floats(0, 4e9, allow_nan=False), st.none() | st.text(max_size=40))
def test_last_change_round_trips_through_json(seen: Observation, changed_at: float, why: str | None) -> None:
    record = LastChange(seen, changed_at, why)

    assert LastChange.from_dict(json.loads(json.dumps(record.to_dict()))) == record


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_a_damaged_or_foreign_record_reads_as_no_record_and_never_raises(payload: object) -> None:
    record = LastChange.from_dict(payload)

    assert record is None or isinstance(record, LastChange)


@pytest.mark.parametrize(
    "payload",
    [
        {"v": 2, "observation": {"state": "running"}, "changed_at": T0},
        {"v": 1, "observation": {"state": "running", "completion": "40"}, "changed_at": T0},
        {"v": 1, "observation": {"state": "running"}, "changed_at": float("nan")},
        {"v": 1, "observation": {"state": "running"}, "changed_at": True},
        {"v": 1, "observation": {"state": 3}, "changed_at": T0},
    ],
    ids=["other-version", "string-completion", "nan-time", "bool-time", "non-string-state"],
)
def test_records_of_the_wrong_shape_are_refused_whole(payload: object) -> None:
    assert LastChange.from_dict(payload) is None


reads = st.lists(
    st.tuples(st.floats(0, 2 * HOUR, allow_nan=False), st.sampled_from([RUNNING, Observation("running", 50.0)])),
    min_size=1,
    max_size=30,
)


@given(reads)
def test_a_restart_between_any_two_reads_changes_no_verdict(steps: list[tuple[float, Observation]]) -> None:
    times = [T0 + sum(gap for gap, _ in steps[: i + 1]) for i in range(len(steps))]
    in_memory = _watch([(t, seen) for t, (_, seen) in zip(times, steps, strict=True)])
    restarted: list[Verdict] = []
    kept: object = None
    for t, (_, seen) in zip(times, steps, strict=True):
        # Each read starts from the record as the triggerer would find it in its kwargs after a restart.
        check = observe(LastChange.from_dict(json.loads(json.dumps(kept))), seen, t, stalled_after=HOUR)
        restarted.append(check.verdict)
        kept = check.last.to_dict()

    assert restarted == [c.verdict for c in in_memory]


@given(reads)
def test_a_stall_is_only_ever_reported_after_stalled_after_of_identical_reads(
    steps: list[tuple[float, Observation]],
) -> None:
    now = T0
    timeline: list[tuple[float, Observation]] = []
    for gap, seen in steps:
        now += gap
        timeline.append((now, seen))
    for i, check in enumerate(_watch(timeline)):
        if check.verdict is Verdict.STALLED:
            since = i
            while since > 0 and timeline[since - 1][1] == timeline[i][1]:
                since -= 1
            assert timeline[i][0] - timeline[since][0] >= HOUR


# --- stalled_after: parse-time checks and clamping ---------------------------------------------


def test_stalled_after_accepts_a_timedelta_or_seconds_or_none() -> None:
    assert parse_stalled_after(timedelta(minutes=45), poll_interval=60) == 2700.0
    assert parse_stalled_after(900, poll_interval=60) == 900.0
    assert parse_stalled_after(None, poll_interval=60) is None


@pytest.mark.parametrize(
    ("value", "poll_interval", "says"),
    [
        (30, 10, "between 60 s"),
        (timedelta(minutes=5), 600, "between 600 s"),
        (8 * 86_400, 60, "604800 s (a week)"),
        (float("nan"), 60, "got nan s"),
        (float("inf"), 60, "got inf s"),
        (-1, 60, "got -1 s"),
    ],
)
def test_stalled_after_outside_its_range_is_refused_at_parse_time(
    value: float | timedelta, poll_interval: float, says: str
) -> None:
    with pytest.raises(CanvasConfigurationError, match="stalled_after must be") as raised:
        parse_stalled_after(value, poll_interval=poll_interval)

    assert says in str(raised.value)


@pytest.mark.parametrize("value", [True, "1h", [60], object()])
def test_stalled_after_that_is_not_a_duration_is_refused(value: object) -> None:
    with pytest.raises(CanvasConfigurationError, match="timedelta or a number of seconds"):
        parse_stalled_after(value, poll_interval=60)  # type: ignore[arg-type]


def test_tests_with_an_injected_clock_may_lower_the_floor() -> None:
    assert parse_stalled_after(2, poll_interval=0.5, floor=1) == 2.0


@given(st.floats(allow_nan=True), st.floats(1, 86_400))
def test_clamped_stalled_after_is_always_in_range(seconds: float, poll_interval: float) -> None:
    clamped = clamp_stalled_after(seconds, poll_interval=poll_interval)

    assert max(MIN_STALLED_AFTER, poll_interval) <= clamped <= max(MAX_STALLED_AFTER, poll_interval)
    assert not math.isnan(clamped)


def test_stall_message_names_the_job_its_stillness_and_what_to_do() -> None:
    check = _watch([(T0, Observation("importing", 40.0)), (T0 + 5400, Observation("importing", 40.0))])[-1]

    message = stall_message("SIS import", "123", check)

    assert message.startswith("SIS import 123 has not changed for 1.5 h (still importing, 40 %)")
    assert "cancel_on_stall=True" in message
