"""Every figure of the fixed day (tests/unit/reports/dataset.py), computed by hand.

Conventions under test: short abandons (wait < 5 s) are left out of service level and the
rates; service level = answered within the queue's T / (offered - short abandons); AHT = talk
+ wrap-up; occupancy = (on-call + wrap-up) / logged-in time inside the range.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from acd.reports.compute import compute
from acd.reports.query import CallFact, ReportData, StateChange
from acd.reports.report import Figures, Report
from tests.unit.reports import dataset as d


def approx(value: float) -> object:
    return pytest.approx(value, abs=1e-9)


@pytest.fixture
def report() -> Report:
    return compute(d.data(), d.spec())


def test_intervals_are_the_two_half_hours_in_the_centres_time_zone(report: Report) -> None:
    assert [(r.start, r.end) for r in report.intervals] == [
        (d.START, d.START + timedelta(minutes=30)),
        (d.START + timedelta(minutes=30), d.END),
    ]
    assert report.intervals[0].start is not None
    assert report.intervals[0].start.utcoffset() == timedelta(hours=8)


def test_first_interval(report: Report) -> None:
    f = report.intervals[0].figures
    # c01-c06 entered 09:00-09:30; c00 entered before 09:00 and g07 never reached a queue.
    assert (f.offered, f.answered, f.abandoned, f.short_abandoned, f.exited) == (6, 3, 2, 1, 1)
    # In service level: c01 (10 s <= 15) and c05 (18 s <= repairs' 20), not c02 (20 s > 15).
    assert f.answered_in_sl == 2
    assert f.service_level == approx(2 / 5)  # 6 offered - 1 short abandon (c03, 3 s)
    assert f.answer_rate == approx(3 / 5)
    assert f.abandon_rate == approx(1 / 5)  # c04 only: c03 is a short abandon
    assert f.asa_seconds == approx((10 + 20 + 18) / 3)  # 16
    assert f.handled == 3
    assert f.avg_talk_seconds == approx((120 + 180 + 240) / 3)  # 180
    assert f.avg_wrapup_seconds == approx((20 + 30 + 10) / 3)  # 20
    assert f.aht_seconds == approx(200)
    assert (f.surveys, f.dissatisfied) == (3, 1)  # c01 5, c02 2 (dissatisfied), c05 4
    assert f.survey_average == approx(11 / 3)
    assert f.dissatisfied_rate == approx(1 / 3)
    # Dials at 500 (no answer) and 700 (answered).
    assert (f.callbacks_made, f.callbacks_succeeded) == (2, 1)
    # Both agents logged in the whole half hour (1800 s each). On call: 1001 c01 120 + c05
    # 240, 1002 c02 180; wrap-up: 20 + 10 and 30. (1001's 5 s ringing is logged in, not busy.)
    assert f.logged_in_seconds == approx(3600)
    assert f.on_call_seconds == approx(540)
    assert f.wrapup_state_seconds == approx(60)
    assert f.occupancy == approx(600 / 3600)


def test_second_interval(report: Report) -> None:
    f = report.intervals[1].figures
    # c08, c09, c10, c11, c13, and c12 still waiting at 10:00; c14 entered at 10:00 exactly.
    assert (f.offered, f.answered, f.abandoned, f.short_abandoned, f.exited) == (6, 4, 1, 0, 0)
    # In: c08 (5 s), c09 (15 s: "within 15" includes 15), c13 (8 s); out: c11 (30 s > 20).
    # c10 waited exactly 5 s: not a short abandon (short is < 5 s), so it counts against SL.
    # c12, still waiting, counts too: it has not been answered within T.
    assert f.answered_in_sl == 3
    assert f.service_level == approx(3 / 6)
    assert f.answer_rate == approx(4 / 6)
    assert f.abandon_rate == approx(1 / 6)
    assert f.asa_seconds == approx((5 + 15 + 30 + 8) / 4)  # 14.5
    assert f.avg_talk_seconds == approx((60 + 180 + 300 + 60) / 4)  # 150
    assert f.avg_wrapup_seconds == approx((20 + 30 + 40 + 10) / 4)  # 25
    assert f.aht_seconds == approx(175)
    assert f.survey_average == approx((3 + 1) / 2)
    assert f.dissatisfied_rate == approx(1 / 2)
    assert (f.callbacks_made, f.callbacks_succeeded) == (2, 1)  # 2500 busy, 2600 answered
    # 1001 logged out at 3000: 1200 s logged in; 1002 all 1800 s.
    # On call: 1001 c09 180 + c13 60, 1002 c08 60 + c11 300; wrap-up 30 + 10, 20 + 40.
    assert f.logged_in_seconds == approx(3000)
    assert f.on_call_seconds == approx(600)
    assert f.wrapup_state_seconds == approx(100)
    assert f.occupancy == approx(700 / 3000)


def test_queues(report: Report) -> None:
    assert [r.queue for r in report.queues] == ["general", "repairs"]
    general, repairs = (r.figures for r in report.queues)
    # general: c01 c02 c03 c04 c08 c09 c12 c13; in SL c01 c08 c09 c13.
    assert (general.offered, general.answered, general.abandoned) == (8, 5, 2)
    assert general.short_abandoned == 1
    assert general.service_level == approx(4 / 7)
    assert general.answer_rate == approx(5 / 7)
    assert general.abandon_rate == approx(1 / 7)
    assert general.asa_seconds == approx((10 + 20 + 5 + 15 + 8) / 5)  # 11.6
    assert general.avg_talk_seconds == approx((120 + 180 + 60 + 180 + 60) / 5)  # 120
    assert general.avg_wrapup_seconds == approx((20 + 30 + 20 + 30 + 10) / 5)  # 22
    assert general.aht_seconds == approx(142)
    assert general.survey_average == approx((5 + 2 + 3) / 3)
    assert (general.callbacks_made, general.callbacks_succeeded) == (2, 1)
    # repairs: c05 (18 s, in its 20 s), c06 timeout, c10 abandoned at 5 s, c11 (30 s).
    assert (repairs.offered, repairs.answered, repairs.abandoned, repairs.exited) == (4, 2, 1, 1)
    assert repairs.service_level == approx(1 / 4)
    assert repairs.abandon_rate == approx(1 / 4)
    assert repairs.asa_seconds == approx(24)
    assert repairs.aht_seconds == approx((240 + 300) / 2 + (10 + 40) / 2)  # 270 + 25
    assert repairs.dissatisfied_rate == approx(1 / 2)
    # Agents serve several queues at once: queues have no agent time.
    assert repairs.logged_in_seconds is None
    assert repairs.occupancy is None


def test_agents(report: Report) -> None:
    # 1003 was logged out all along: not in the report.
    assert [r.agent for r in report.agents] == ["1001", "1002"]
    a1001, a1002 = (r.figures for r in report.agents)
    # 1001: c01 c05 c09 c13, all within their queue's T.
    assert (a1001.answered, a1001.answered_in_sl) == (4, 4)
    assert a1001.asa_seconds == approx((10 + 18 + 15 + 8) / 4)
    assert a1001.avg_talk_seconds == approx(150)  # (120 + 240 + 180 + 60) / 4
    assert a1001.avg_wrapup_seconds == approx(17.5)  # (20 + 10 + 30 + 10) / 4
    assert a1001.aht_seconds == approx(167.5)
    # Logged in 09:00 (before the range: clipped) to 09:50, lunch included.
    assert a1001.logged_in_seconds == approx(3000)
    assert a1001.on_call_seconds == approx(600)
    assert a1001.wrapup_state_seconds == approx(70)
    assert a1001.occupancy == approx(670 / 3000)
    assert (a1001.callbacks_made, a1001.callbacks_succeeded) == (2, 1)
    assert a1001.survey_average == approx(4.5)
    assert a1001.dissatisfied_rate == approx(0)
    # 1002: c02 c08 c11; logged in the whole hour (its login at 08:00 is the state at 09:00,
    # its logout at 10:01:40 is after the range).
    assert a1002.answered == 3
    assert a1002.aht_seconds == approx(180 + 30)
    assert a1002.logged_in_seconds == approx(3600)
    assert a1002.occupancy == approx((540 + 90) / 3600)
    assert a1002.dissatisfied_rate == approx(2 / 3)


def test_totals(report: Report) -> None:
    f = report.total.figures
    assert (f.offered, f.answered, f.abandoned, f.short_abandoned, f.exited) == (12, 7, 3, 1, 1)
    assert f.service_level == approx(5 / 11)
    assert f.answer_rate == approx(7 / 11)
    assert f.abandon_rate == approx(2 / 11)
    assert f.asa_seconds == approx(106 / 7)
    assert f.avg_talk_seconds == approx(1140 / 7)
    assert f.avg_wrapup_seconds == approx(160 / 7)
    assert f.aht_seconds == approx(1300 / 7)
    assert f.survey_average == approx(3)  # (5 + 2 + 4 + 3 + 1) / 5
    assert f.dissatisfied_rate == approx(2 / 5)
    assert (f.callbacks_made, f.callbacks_succeeded) == (4, 2)  # the dial at 3700 is after
    assert f.logged_in_seconds == approx(6600)
    assert f.occupancy == approx(1300 / 6600)


def test_totals_are_the_sum_of_the_intervals_and_of_the_queues(report: Report) -> None:
    for name in ("offered", "answered", "abandoned", "short_abandoned", "answered_in_sl"):
        total = getattr(report.total.figures, name)
        assert sum(getattr(r.figures, name) for r in report.intervals) == total
        assert sum(getattr(r.figures, name) for r in report.queues) == total


def test_one_t_for_all_queues_moves_c05_out_of_service_level() -> None:
    uniform = compute(d.data(), d.spec(service_level_seconds={}))  # both at the default 15 s
    assert uniform.total.figures.answered_in_sl == 4
    assert uniform.total.figures.service_level == approx(4 / 11)


def test_a_longer_short_abandon_threshold_takes_c10_out_of_the_rates() -> None:
    f = compute(d.data(), d.spec(short_abandon_seconds=6)).total.figures
    assert f.short_abandoned == 2  # c03 (3 s) and c10 (5 s)
    assert f.service_level == approx(5 / 10)
    assert f.abandon_rate == approx(1 / 10)  # c04 only


def test_callbacks_without_dials_come_from_the_requests_that_moved() -> None:
    report = compute(d.data(dials=False), d.spec())
    # general "done" after 2 attempts at 600; repairs "failed" after 3 at 2000; the pending
    # one has no attempts; the one at 4000 is after the range.
    assert (report.total.figures.callbacks_made, report.total.figures.callbacks_succeeded) == (
        5,
        1,
    )
    first, second = (r.figures for r in report.intervals)
    assert (first.callbacks_made, first.callbacks_succeeded) == (2, 1)
    assert (second.callbacks_made, second.callbacks_succeeded) == (3, 0)
    # Requests do not say which agent dialled.
    assert all(r.figures.callbacks_made == 0 for r in report.agents)


def test_agent_time_stops_at_as_of() -> None:
    # Asked at 09:45 for the whole hour: nothing is known after 09:45.
    report = compute(d.data(), d.spec(as_of=d.START + timedelta(minutes=45)))
    assert report.total.figures.logged_in_seconds == approx(2 * 2700)
    assert report.intervals[1].figures.logged_in_seconds == approx(2 * 900)


def test_an_interval_without_calls_has_no_rates_rather_than_zero() -> None:
    empty = compute(ReportData((), (), (), None), d.spec())
    f = empty.total.figures
    assert f == Figures(logged_in_seconds=0.0, on_call_seconds=0.0, wrapup_state_seconds=0.0)
    assert f.service_level is None and f.asa_seconds is None and f.occupancy is None
    assert len(empty.intervals) == 2
    assert empty.queues == () and empty.agents == ()


def test_a_call_still_talking_counts_as_answered_but_not_in_handle_time() -> None:
    talking = CallFact("t1", "general", "1001", d.at(0), d.at(4), None, 4.0, None, "answered")
    f = compute(ReportData((talking,), (), (), None), d.spec()).total.figures
    assert (f.answered, f.handled, f.answered_in_sl) == (1, 0, 1)
    assert f.asa_seconds == approx(4)
    assert f.avg_talk_seconds is None and f.aht_seconds is None


def test_wrap_up_goes_to_the_call_that_ended_when_it_began() -> None:
    calls = (
        CallFact("a", "general", "1001", d.at(0), d.at(1), d.at(61), 1.0, 60.0, "answered"),
        CallFact("b", "general", "1001", d.at(100), d.at(101), d.at(161), 1.0, 60.0, "answered"),
    )
    states = (
        StateChange("1001", "ready", "on-call", d.at(1)),
        StateChange("1001", "on-call", "ready", d.at(61)),  # no wrap-up after a
        StateChange("1001", "ready", "on-call", d.at(101)),
        StateChange("1001", "on-call", "wrap-up", d.at(161)),
        StateChange("1001", "wrap-up", "ready", d.at(201)),
    )
    f = compute(ReportData(calls, states, (), None), d.spec()).total.figures
    assert f.avg_wrapup_seconds == approx((0 + 40) / 2)
    assert f.aht_seconds == approx(60 + 20)


def test_agent_filter_leaves_other_queues_rows_of_that_agent_only() -> None:
    calls = tuple(c for c in d.CALLS if c.agent == "1002")
    states = tuple(s for s in d.STATES if s.agent == "1002")
    report = compute(ReportData(calls, states, (), None), d.spec(agent="1002"))
    assert [r.agent for r in report.agents] == ["1002"]
    assert report.total.figures.offered == 3
    assert report.total.figures.occupancy == approx(630 / 3600)


def test_calls_the_dialer_placed_are_not_offered_and_virtual_hold_left_the_queue() -> None:
    callback = replace(d.CALLS[1], call_id="o1", kind="after-hours")  # an outbound call
    virtual_hold = replace(d.CALLS[1], call_id="v1", kind="virtual-hold")
    f = compute(ReportData((callback, virtual_hold), (), (), None), d.spec()).total.figures
    # The caller who chose a callback reached the queue and left it unanswered: offered and
    # exited, counting against service level; the outbound call is no offered call at all.
    assert (f.offered, f.answered, f.exited) == (1, 0, 1)
    assert f.service_level == approx(0)


@pytest.mark.parametrize("bad", [timedelta(seconds=30), timedelta(minutes=7), timedelta(days=2)])
def test_intervals_must_tile_a_day(bad: timedelta) -> None:
    with pytest.raises(ValueError, match="divide a day"):
        compute(d.data(), d.spec(interval=bad))


def test_a_report_of_one_queue_names_only_that_queue() -> None:
    calls = tuple(c for c in d.CALLS if c.queue == "repairs")
    report = compute(ReportData(calls, d.STATES, (), None), replace(d.spec(), queue="repairs"))
    assert [r.queue for r in report.queues] == ["repairs"]
    assert report.total.figures.offered == 4
