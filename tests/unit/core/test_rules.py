"""The seeds' peak plan, replayed over hours of queue history on a clock of our own.

"8 callers waiting, sustained for 30 minutes: stop callbacks and suspend agents' breaks; 16
waiting sustained for 30 minutes: supervisors and all agents take calls"; "in predictable
peaks at most 2 agents on callbacks". The rules tested are the shipped dialplans/rules.yaml:
these tests are about that file (and a few rules built here for the rule machinery).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.config.rules import RuleConfig
from acd.core.decisions import RuleChanged
from acd.core.metrics import CENTRE, QueueMetrics, ServiceLevels
from acd.core.rules import CLEARED, FIRED, Effects, RuleBook
from tests.unit.core.conftest import shipped_rules

RULES = {rule.name: rule for rule in shipped_rules()}
T0 = 1_700_000_000.0
MINUTE = 60.0
HOUR = 3600.0
TICK = 5.0  # the queue is looked at every few seconds


def rule(**fields: Any) -> RuleConfig:
    fields.setdefault("name", "test")
    fields.setdefault("actions", [{"kind": "alert", "message": "look"}])
    return RuleConfig.model_validate(fields)


def waiting(count: int, oldest: float | None = None) -> dict[str, QueueMetrics]:
    return {CENTRE: QueueMetrics(waiting=count, oldest_entered_at=oldest)}


def history(*runs: tuple[int, float]) -> list[int]:
    """(callers waiting, for seconds) runs as one sample every TICK seconds."""
    return [count for count, seconds in runs for _ in range(round(seconds / TICK))]


def replay(
    book: RuleBook, samples: Sequence[int], start: float = T0, *, deadlines: bool = True
) -> list[RuleChanged]:
    """Drive the book like the core: at every change of the queue (an event) and, when
    `deadlines`, at each deadline it asks for in between; then once at the end."""
    changes: list[RuleChanged] = []
    last: dict[str, QueueMetrics] | None = None
    previous: int | None = None
    for index, count in enumerate([*samples, -1]):
        now = start + index * TICK
        if deadlines and last is not None:
            while (due := book.next_deadline()) is not None and due < now:
                changes += book.evaluate(last, due)
        if count == -1:
            changes += book.evaluate(last or waiting(0), now)
        elif count != previous:
            last = waiting(count)
            changes += book.evaluate(last, now)
            previous = count
    return changes


def seen(changes: Iterable[RuleChanged], name: str) -> list[tuple[str, float]]:
    return [(c.state, c.at - T0) for c in changes if c.rule == name]


def book(*names: str) -> RuleBook:
    return RuleBook([RULES[name] for name in names or RULES])


# -- peak-8: 8 waiting sustained for 30 minutes -----------------------------------------------


def test_seven_waiting_for_two_hours_never_fires_peak_8() -> None:
    assert seen(replay(book(), history((7, 2 * HOUR))), "peak-8") == []


def test_eight_waiting_for_29_59_does_not_fire() -> None:
    rules = book()
    changes = rules.evaluate(waiting(8), T0)
    changes += rules.evaluate(waiting(7), T0 + 29 * MINUTE + 59)
    changes += rules.evaluate(waiting(7), T0 + 2 * HOUR)
    assert seen(changes, "peak-8") == []


def test_eight_waiting_for_30_minutes_fires_at_exactly_t0_plus_1800() -> None:
    rules = book("peak-8")
    assert rules.evaluate(waiting(8), T0) == []
    assert rules.next_deadline() == T0 + 1800
    assert rules.evaluate(waiting(8), T0 + 1800 - 0.001) == []
    (fired,) = rules.evaluate(waiting(8), T0 + 1800)
    assert fired == RuleChanged(
        rule="peak-8",
        state=FIRED,
        scope="*",
        metrics=(("waiting", 8.0),),
        actions=("suspend-callbacks", "suspend-breaks"),
        at=T0 + 1800,
    )
    assert rules.effects().callbacks_suspended and rules.effects().breaks_suspended


def test_the_core_learning_late_still_gets_the_exact_moment() -> None:
    # No event for an hour: the next evaluation reports the firing at its true time.
    rules = book("peak-8")
    rules.evaluate(waiting(9), T0)
    (fired,) = rules.evaluate(waiting(3), T0 + HOUR)
    assert (fired.state, fired.at, fired.metrics) == (FIRED, T0 + 1800, (("waiting", 9.0),))


def test_a_dip_to_seven_at_minute_20_restarts_the_clock() -> None:
    samples = history((8, 20 * MINUTE), (7, TICK), (8, HOUR))
    assert seen(replay(book("peak-8"), samples), "peak-8") == [(FIRED, 20 * MINUTE + TICK + 1800)]


def test_more_callers_do_not_restart_the_clock() -> None:
    samples = history((8, 10 * MINUTE), (12, 10 * MINUTE), (9, HOUR))
    assert seen(replay(book("peak-8"), samples), "peak-8") == [(FIRED, 1800)]


def test_it_clears_only_after_four_or_fewer_wait_for_five_minutes() -> None:
    samples = history(
        (8, 30 * MINUTE),  # fires at 30:00
        (5, 20 * MINUTE),  # fewer, but not few enough
        (4, 4 * MINUTE + 55),  # 4:55 of calm, then one more caller
        (5, TICK),
        (4, 5 * MINUTE),  # five minutes of calm: clears
        (0, 10 * MINUTE),
    )
    calm_from = 30 * MINUTE + 20 * MINUTE + 4 * MINUTE + 55 + TICK
    assert seen(replay(book("peak-8"), samples), "peak-8") == [
        (FIRED, 1800),
        (CLEARED, calm_from + 300),
    ]


def test_no_flapping_when_waiting_oscillates_seven_eight_after_firing() -> None:
    samples = history((8, 30 * MINUTE)) + [7, 8] * round(2 * HOUR / (2 * TICK))
    rules = book("peak-8")
    assert seen(replay(rules, samples), "peak-8") == [(FIRED, 1800)]
    assert rules.active()[0]["since"] == T0 + 1800


# -- peak-16: supervisors and all agents take calls -------------------------------------------


def test_sixteen_waiting_for_30_minutes_calls_in_supervisors_and_everyone() -> None:
    rules = book()
    changes = replay(rules, history((16, 30 * MINUTE), (20, 10 * MINUTE)))
    # 16 waiting is also 8 waiting: both fire at the same instant; the cap came at once.
    assert seen(changes, "peak-16") == [(FIRED, 1800)]
    assert seen(changes, "peak-8") == [(FIRED, 1800)]
    assert seen(changes, "callback-cap") == [(FIRED, 0)]
    effects = rules.effects()
    assert effects.supervisors_called_in
    assert effects.callbacks_suspended and effects.breaks_suspended
    assert effects.callback_agent_cap == 2
    assert effects.alerts == (RULES["peak-16"].actions[-1].message,)
    assert effects.caused_by("suspend-callbacks") == ("peak-8", "peak-16")
    assert effects.caused_by("call-in-supervisors") == ("peak-16",)


def test_fifteen_waiting_never_calls_in_supervisors() -> None:
    changes = replay(book(), history((15, 3 * HOUR)))
    assert seen(changes, "peak-16") == []
    assert seen(changes, "peak-8") == [(FIRED, 1800)]


def test_peak_16_stands_down_at_eight_for_five_minutes_while_peak_8_holds() -> None:
    rules = book()
    changes = replay(rules, history((16, 30 * MINUTE), (8, 5 * MINUTE), (6, HOUR)))
    assert seen(changes, "peak-16") == [(FIRED, 1800), (CLEARED, 1800 + 300)]
    assert seen(changes, "peak-8") == [(FIRED, 1800)]  # 6 waiting is not 4
    effects = rules.effects()
    assert not effects.supervisors_called_in and effects.alerts == ()
    assert effects.callbacks_suspended and effects.caused_by("suspend-callbacks") == ("peak-8",)


# -- predictable peaks: at most 2 agents on callbacks -----------------------------------------


def test_the_callback_cap_holds_while_anyone_waits_and_two_minutes_after() -> None:
    rules = book("callback-cap")
    changes = replay(rules, history((0, 10 * MINUTE), (1, MINUTE), (0, MINUTE), (2, MINUTE)))
    assert seen(changes, "callback-cap") == [(FIRED, 10 * MINUTE)]  # one minute empty: kept
    assert rules.effects().callback_agent_cap == 2
    changes = replay(rules, history((0, 3 * MINUTE)), start=T0 + 13 * MINUTE)
    assert seen(changes, "callback-cap") == [(CLEARED, 13 * MINUTE + 120)]
    assert rules.effects() == Effects()


# -- the whole shipped plan against its definition, over four-hour histories ------------------

# What each shipped rule means, said once more in plain terms for the oracle below:
# (fires when, for seconds, clears when, for seconds).
Test = Callable[[int], bool]
MEANING: dict[str, tuple[Test, float, Test, float]] = {
    "peak-8": (lambda n: n >= 8, 1800, lambda n: n <= 4, 300),
    "peak-16": (lambda n: n >= 16, 1800, lambda n: n <= 8, 300),
    "callback-cap": (lambda n: n >= 1, 0, lambda n: n == 0, 120),
}


def oracle(name: str, samples: Sequence[int]) -> list[tuple[str, float]]:
    """The rule by its definition: it fires at the first instant its condition has held on
    every sample of the last `for` seconds (for 0: on the sample at that instant), and
    clears likewise. Sliding counts, nothing shared with the implementation."""
    fires, hold, clears, clear_hold = MEANING[name]
    firing = [0, *accumulate(int(fires(n)) for n in samples)]
    calm = [0, *accumulate(int(clears(n) and not fires(n)) for n in samples)]
    active, out = False, list[tuple[str, float]]()
    for i in range(len(samples) + 1):
        counts, need = (calm, clear_hold) if active else (firing, hold)
        k = round(need / TICK)
        if k and i >= k and counts[i] - counts[i - k] == k:
            active = not active
            out.append((CLEARED if not active else FIRED, i * TICK))
            counts, need = (calm, clear_hold) if active else (firing, hold)
            k = round(need / TICK)
        if not k and i < len(samples) and counts[i + 1] - counts[i] == 1:
            active = not active
            out.append((CLEARED if not active else FIRED, i * TICK))
    return out


runs = st.lists(
    st.tuples(
        st.one_of(st.integers(0, 20), st.sampled_from([0, 4, 5, 7, 8, 9, 15, 16, 17])),
        st.integers(1, 60 * 12).map(lambda n: n * TICK),  # up to an hour
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=25, deadline=None)
@given(runs=runs)
def test_four_hours_of_history_fire_and_clear_exactly_as_defined(
    runs: list[tuple[int, float]],
) -> None:
    samples = (history(*runs) + history((0, 4 * HOUR)))[: round(4 * HOUR / TICK)]
    driven = replay(book(), samples)
    for name in RULES:
        assert seen(driven, name) == oracle(name, samples), name
    # Evaluating only at events gives the same changes at the same instants.
    assert replay(book(), samples, deadlines=False) == driven


def test_a_hand_written_busy_morning() -> None:
    samples = history(
        (2, 30 * MINUTE),
        (8, 25 * MINUTE),
        (7, TICK),  # one caller answered at 55:00: peak-8's clock starts again
        (9, 35 * MINUTE),  # peak-8 at 55:05 + 30:00
        (17, 30 * MINUTE),  # peak-16 at 1:30:00 + 30:00
        (8, 5 * MINUTE),  # peak-16 clears
        (3, 5 * MINUTE),  # peak-8 clears
        (0, 2 * MINUTE),  # the cap lifts
    )
    changes = replay(book(), samples)
    assert [(c.rule, c.state, c.at - T0) for c in changes] == [
        ("callback-cap", FIRED, 0),
        ("peak-8", FIRED, 55 * MINUTE + TICK + 1800),
        ("peak-16", FIRED, 90 * MINUTE + TICK + 1800),
        ("peak-16", CLEARED, 120 * MINUTE + TICK + 300),
        ("peak-8", CLEARED, 125 * MINUTE + TICK + 300),
        ("callback-cap", CLEARED, 130 * MINUTE + TICK + 120),
    ]
    # The records carry each rule's scope, its actions and the count it saw.
    for change in changes:
        shipped = RULES[change.rule]
        assert change.scope == shipped.scope
        assert change.actions == tuple(action.kind for action in shipped.actions)
        assert [name for name, _ in change.metrics] == ["waiting"]
    assert dict(changes[2].metrics) == {"waiting": 17.0}


# -- longest wait: grows between events -------------------------------------------------------


def test_a_longest_wait_threshold_is_crossed_between_events_and_sustained() -> None:
    rules = RuleBook(
        [rule(when=[{"metric": "longest_wait", "op": ">=", "value": 120}], sustained_seconds=60)]
    )
    oldest = T0 - 30
    assert rules.evaluate(waiting(1, oldest), T0) == []
    assert rules.next_deadline() == oldest + 120  # the crossing
    assert rules.evaluate(waiting(1, oldest), oldest + 120) == []
    assert rules.next_deadline() == oldest + 180  # then the duration
    (fired,) = rules.evaluate(waiting(1, oldest), oldest + 180)
    assert fired.at == oldest + 180
    assert fired.metrics == (("longest_wait", 180.0),)


def test_a_longest_wait_crossing_is_found_even_if_nobody_asks_at_the_deadline() -> None:
    rules = RuleBook(
        [
            rule(
                when=[{"metric": "longest_wait", "op": ">=", "value": 120}],
                sustained_seconds=60,
                clear_sustained_seconds=10,
            )
        ]
    )
    rules.evaluate(waiting(2, T0), T0)
    # At 10 minutes the oldest caller is answered; the next one came in at 9:00.
    changes = rules.evaluate(waiting(1, T0 + 9 * MINUTE), T0 + 10 * MINUTE)
    assert [(c.state, c.at) for c in changes] == [(FIRED, T0 + 180)]
    assert rules.next_deadline() == T0 + 10 * MINUTE + 10  # 60 s wait is short: clearing
    (cleared,) = rules.evaluate(waiting(1, T0 + 9 * MINUTE), T0 + 10 * MINUTE + 10)
    assert cleared.state == CLEARED


def test_strictly_more_than_a_wait_fires_just_after_it() -> None:
    rules = RuleBook([rule(when=[{"metric": "longest_wait", "op": ">", "value": 120}])])
    rules.evaluate(waiting(1, T0), T0)
    assert rules.evaluate(waiting(1, T0), T0 + 120) == []
    due = rules.next_deadline()
    assert due == math.nextafter(T0 + 120, math.inf)
    (fired,) = rules.evaluate(waiting(1, T0), due)
    assert fired.at == due


def test_with_nobody_waiting_the_longest_wait_is_zero() -> None:
    rules = RuleBook([rule(when=[{"metric": "longest_wait", "op": "<", "value": 60}])])
    (fired,) = rules.evaluate(waiting(0), T0)
    assert fired.state == FIRED and rules.next_deadline() is None


# -- service level and ready agents -----------------------------------------------------------


def service(levels: ServiceLevels, now: float, waiting: int = 0) -> dict[str, QueueMetrics]:
    return {"general": QueueMetrics(waiting=waiting, windows=levels.counts(now))}


def test_a_poor_service_level_fires_and_clears_as_late_calls_leave_the_window() -> None:
    low = rule(
        scope="general",
        when=[{"metric": "service_level", "op": "<", "value": 0.8, "window_seconds": 600}],
        clear_sustained_seconds=0,
    )
    rules = RuleBook([low])
    assert rules.service_windows() == (600.0,)
    levels = ServiceLevels(target_seconds=15, window_seconds=rules.service_windows())
    assert rules.evaluate(service(levels, T0), T0) == []  # no calls: nothing to judge
    levels.answered(wait=40, at=T0 + 10)
    (fired,) = rules.evaluate(service(levels, T0 + 10), T0 + 10)
    assert fired.metrics == (("service_level_600s", 0.0),)
    levels.answered(wait=5, at=T0 + 100)
    levels.answered(wait=5, at=T0 + 200)
    assert rules.evaluate(service(levels, T0 + 200), T0 + 200) == []  # 2 of 3 in target
    # The late call leaves the window at T0 + 610, with no event: the book asks for then.
    assert rules.next_deadline() == T0 + 610
    (cleared,) = rules.evaluate(service(levels, T0 + 610), T0 + 610)
    assert (cleared.state, cleared.at, cleared.metrics) == (
        CLEARED,
        T0 + 610,
        (("service_level_600s", 1.0),),
    )


def test_nobody_ready_while_callers_wait_needs_both_conditions() -> None:
    rules = RuleBook(
        [
            rule(
                scope="repairs",
                when=[
                    {"metric": "ready_agents", "op": "==", "value": 0},
                    {"metric": "waiting", "op": ">=", "value": 3},
                ],
                sustained_seconds=120,
            )
        ]
    )
    rules.evaluate({"repairs": QueueMetrics(waiting=3, ready_agents=1)}, T0)
    rules.evaluate({"repairs": QueueMetrics(waiting=3, ready_agents=0)}, T0 + 60)
    assert rules.pending() == [
        {"rule": "test", "scope": "repairs", "holding_since": T0 + 60, "fires_at": T0 + 180}
    ]
    (fired,) = rules.evaluate({"repairs": QueueMetrics(waiting=5, ready_agents=0)}, T0 + 180)
    # What held while it was due, not the news of the instant it fired.
    assert fired.metrics == (("ready_agents", 0.0), ("waiting", 3.0))


def test_a_scope_without_metrics_holds_no_condition() -> None:
    rules = RuleBook([rule(scope="jobs", when=[{"metric": "waiting", "op": ">=", "value": 0}])])
    assert rules.evaluate(waiting(30), T0) == []


# -- effects, caps and status -----------------------------------------------------------------


def test_the_lowest_active_callback_cap_wins() -> None:
    caps = [
        rule(
            name="two",
            when=[{"metric": "waiting", "op": ">=", "value": 1}],
            actions=[{"kind": "cap-callback-agents", "value": 2}],
        ),
        rule(
            name="none",
            when=[{"metric": "waiting", "op": ">=", "value": 10}],
            actions=[{"kind": "cap-callback-agents", "value": 0}],
        ),
    ]
    rules = RuleBook(caps)
    rules.evaluate(waiting(3), T0)
    assert rules.effects().callback_agent_cap == 2
    rules.evaluate(waiting(12), T0 + 1)
    assert rules.effects().callback_agent_cap == 0
    assert rules.effects().caused_by("cap-callback-agents") == ("two", "none")
    rules.evaluate(waiting(3), T0 + 2)
    assert rules.effects().callback_agent_cap == 2


def test_status_shows_active_rules_with_what_they_saw() -> None:
    rules = book("peak-8")
    rules.evaluate(waiting(11), T0)
    rules.evaluate(waiting(4), T0 + 2000)
    assert rules.active() == [
        {
            "rule": "peak-8",
            "description": RULES["peak-8"].description,
            "scope": "*",
            "since": T0 + 1800,
            "metrics": {"waiting": 11.0},
            "actions": ["suspend-callbacks", "suspend-breaks"],
            "clearing_since": T0 + 2000,
        }
    ]


def test_time_does_not_run_backwards() -> None:
    rules = book()
    rules.evaluate(waiting(1), T0)
    with pytest.raises(ValueError):
        rules.evaluate(waiting(1), T0 - 1)


# -- reloading the rules ----------------------------------------------------------------------


def test_an_unchanged_rule_keeps_its_clock_across_a_reload() -> None:
    rules = book("peak-8")
    rules.evaluate(waiting(8), T0)
    extra = rule(name="extra", when=[{"metric": "waiting", "op": ">=", "value": 100}])
    assert rules.reconfigure([RULES["peak-8"], extra], T0 + 20 * MINUTE) == []
    (fired,) = rules.evaluate(waiting(8), T0 + 1800)
    assert (fired.rule, fired.at) == ("peak-8", T0 + 1800)


def test_a_changed_rule_starts_again_and_an_active_removed_one_clears() -> None:
    rules = book("peak-8", "callback-cap")
    rules.evaluate(waiting(9), T0)
    rules.evaluate(waiting(9), T0 + 1800)
    assert rules.effects().callbacks_suspended
    stricter = RULES["peak-8"].model_copy(update={"sustained_seconds": 900.0})
    changes = rules.reconfigure([stricter], T0 + HOUR)
    assert {(c.rule, c.state, c.at) for c in changes} == {
        ("peak-8", CLEARED, T0 + HOUR),  # its definition changed: undone, then judged anew
        ("callback-cap", CLEARED, T0 + HOUR),  # removed
    }
    assert rules.effects() == Effects()
    (fired,) = rules.evaluate(waiting(9), T0 + HOUR + 900)
    assert (fired.rule, fired.state) == ("peak-8", FIRED)


def test_rule_names_are_unique() -> None:
    with pytest.raises(ValueError):
        RuleBook([RULES["peak-8"], RULES["peak-8"]])
    rules = book("peak-8")
    rules.evaluate(waiting(8), T0)
    with pytest.raises(ValueError):
        rules.reconfigure([RULES["peak-8"], RULES["peak-8"]], T0 + HOUR)
    # A refused reload changes nothing: the firing is still reported, at its time.
    (fired,) = rules.evaluate(waiting(8), T0 + HOUR)
    assert fired.at == T0 + 1800
