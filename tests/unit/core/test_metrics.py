"""Queue metrics for the rules: service level over a sliding window, and the centre as a whole."""

from __future__ import annotations

import bisect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.core.metrics import (
    CENTRE,
    QueueMetrics,
    ServiceLevels,
    ServiceLevelWindow,
    WindowCounts,
    combine,
    with_centre,
)

T0 = 1_700_000_000.0
HALF_HOUR = 1800.0


def test_service_level_is_the_share_answered_within_the_target() -> None:
    # The seeds: answer within 3 rings, 15 s here.
    window = ServiceLevelWindow(target_seconds=15)
    window.answered(wait=10, at=T0)  # in target
    window.answered(wait=15, at=T0 + 1)  # at the target is still in it
    window.answered(wait=40, at=T0 + 2)  # late
    window.abandoned(wait=5, at=T0 + 3)  # gave up before the promise was broken: not counted
    window.abandoned(wait=60, at=T0 + 4)  # gave up after waiting too long: counts against
    counts = window.counts(T0 + 5)
    assert (counts.answered, counts.answered_in_target) == (3, 2)
    assert (counts.abandoned, counts.abandoned_in_target) == (2, 1)
    assert window.value(T0 + 5) == pytest.approx(2 / 4)


def test_no_calls_means_no_service_level_rather_than_a_perfect_one() -> None:
    window = ServiceLevelWindow(target_seconds=15)
    assert window.value(T0) is None
    window.abandoned(wait=3, at=T0)  # only a quick hang-up: still nothing to judge
    assert window.value(T0 + 1) is None


def test_a_call_counts_for_exactly_the_window_and_says_when_it_leaves() -> None:
    window = ServiceLevelWindow(target_seconds=15, window_seconds=HALF_HOUR)
    window.answered(wait=40, at=T0)
    window.answered(wait=5, at=T0 + 600)
    assert window.counts(T0 + 1).changes_at == T0 + HALF_HOUR
    assert window.value(T0 + HALF_HOUR - 0.001) == 0.5
    after = window.counts(T0 + HALF_HOUR)
    assert (after.answered, after.service_level, after.changes_at) == (
        1,
        1.0,
        T0 + 600 + HALF_HOUR,
    )
    assert window.counts(T0 + 600 + HALF_HOUR) == WindowCounts(HALF_HOUR)


def test_a_call_reported_out_of_order_is_kept_with_the_newest() -> None:
    window = ServiceLevelWindow(target_seconds=15)
    window.answered(wait=1, at=T0 + 100)
    window.answered(wait=1, at=T0 + 50)
    assert window.counts(T0 + 100 + HALF_HOUR - 1).answered == 2
    assert window.counts(T0 + 100 + HALF_HOUR).answered == 0


@settings(max_examples=40, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0, max_value=30), min_size=1, max_size=3000),
    resolution=st.sampled_from([0.0, 0.5, 1.0, 10.0]),
    probe=st.floats(min_value=0, max_value=4 * 3600),
)
def test_memory_is_bounded_and_counts_are_within_the_resolution(
    gaps: list[float], resolution: float, probe: float
) -> None:
    """Thousands of calls in four hours: the window holds at most window / resolution + 2
    buckets, and counts every call of the last half hour plus at most `resolution` more."""
    window = ServiceLevelWindow(15, HALF_HOUR, resolution)
    times: list[float] = []
    at = T0
    for gap in gaps:
        at += gap
        times.append(at)
        window.answered(wait=1, at=at)
        if resolution:
            assert len(window) <= HALF_HOUR / resolution + 2
    now = max(at, T0 + probe)
    counted = window.counts(now).answered
    exact = len(times) - bisect.bisect_right(times, now - HALF_HOUR)
    at_most = len(times) - bisect.bisect_right(times, now - HALF_HOUR - resolution)
    assert exact <= counted <= at_most
    if resolution == 0:
        assert counted == exact


def test_queue_metrics_derive_the_longest_wait_from_the_oldest_caller() -> None:
    metrics = QueueMetrics(waiting=3, oldest_entered_at=T0, ready_agents=1)
    assert metrics.longest_wait(T0 + 95) == 95
    assert QueueMetrics().longest_wait(T0) == 0
    assert (metrics.answered, metrics.abandoned, metrics.service_level) == (0, 0, None)


def test_service_levels_over_several_windows_for_one_queue() -> None:
    levels = ServiceLevels(target_seconds=15, window_seconds=(HALF_HOUR, 300.0, HALF_HOUR))
    levels.answered(wait=30, at=T0)
    levels.answered(wait=3, at=T0 + 400)
    half_hour, five_minutes = levels.counts(T0 + 401)
    assert (half_hour.window_seconds, half_hour.service_level) == (HALF_HOUR, 0.5)
    assert (five_minutes.window_seconds, five_minutes.service_level) == (300.0, 1.0)
    metrics = QueueMetrics(windows=levels.counts(T0 + 401))
    assert metrics.window(300.0) == five_minutes
    assert metrics.service_level == 0.5  # the first window
    assert metrics.window(60.0) is None


def test_the_centre_adds_queues_each_judged_by_its_own_target() -> None:
    # general answers within 15 s, repairs within 60 s: a 30 s answer is late in one only.
    general = ServiceLevels(target_seconds=15)
    repairs = ServiceLevels(target_seconds=60)
    general.answered(wait=30, at=T0)
    repairs.answered(wait=30, at=T0 + 10)
    repairs.abandoned(wait=90, at=T0 + 20)
    queues = {
        "general": QueueMetrics(3, T0 - 50, 2, general.counts(T0 + 30)),
        "repairs": QueueMetrics(6, T0 - 80, 1, repairs.counts(T0 + 30)),
        "jobs": QueueMetrics(),
    }
    centre = combine(queues.values(), ready_agents=2)
    assert (centre.waiting, centre.oldest_entered_at, centre.ready_agents) == (9, T0 - 80, 2)
    assert (centre.answered, centre.abandoned) == (2, 1)
    assert centre.service_level == pytest.approx(1 / 3)
    assert centre.windows[0].changes_at == T0 + HALF_HOUR
    everything = with_centre(queues, ready_agents=2)
    assert everything[CENTRE] == centre and everything["general"] is queues["general"]


def test_counts_over_different_windows_are_never_added() -> None:
    with pytest.raises(ValueError):
        WindowCounts(HALF_HOUR).plus(WindowCounts(300.0))
