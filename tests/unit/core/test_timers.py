"""The core's timers: soonest first, ties in the order set, stale ones skipped, and what a
fired timer sets for now fires in the same pass."""

from __future__ import annotations

import itertools

from acd.core.timers import Timer, TimerKind, Timers


def test_due_timers_come_soonest_first_and_ties_in_the_order_they_were_set() -> None:
    timers = Timers(itertools.count(), lambda timer: True)
    timers.set(20.0, TimerKind.CHECK, "c1", 1)
    timers.set(10.0, TimerKind.WRAPUP, "1001", 1)
    timers.set(10.0, TimerKind.RING, "1002", 1)
    due = [(t.at, t.kind, t.subject) for t in timers.due(15.0)]
    assert due == [(10.0, TimerKind.WRAPUP, "1001"), (10.0, TimerKind.RING, "1002")]
    assert timers.next_at() == 20.0


def test_a_stale_timer_is_skipped_and_not_counted_as_next() -> None:
    live_tokens = {"c1": 2}
    timers = Timers(itertools.count(), lambda t: live_tokens.get(t.subject) == t.token)
    timers.set(5.0, TimerKind.CHECK, "c1", 1)  # set before the call was re-checked
    timers.set(8.0, TimerKind.CHECK, "c1", 2)
    assert timers.next_at() == 8.0
    assert [t.token for t in timers.due(10.0)] == [2]
    assert timers.next_at() is None


def test_a_timer_set_while_firing_and_due_now_fires_in_the_same_pass() -> None:
    timers = Timers(itertools.count(), lambda timer: True)
    timers.set(1.0, TimerKind.RING, "1001", 1)
    fired: list[Timer] = []
    for timer in timers.due(1.0):
        fired.append(timer)
        if timer.kind is TimerKind.RING:
            timers.set(1.0, TimerKind.WRAPUP, "1001", 2)  # a wrap-up of zero seconds
    assert [t.kind for t in fired] == [TimerKind.RING, TimerKind.WRAPUP]


def test_agent_timers_name_an_agent_and_call_timers_a_call() -> None:
    assert {k for k in TimerKind if k.of_agent} == {TimerKind.WRAPUP, TimerKind.RING}
