"""Callers are told their place in line and the expected wait, every so often while waiting."""

from __future__ import annotations

import pytest

from acd.config import Config
from acd.core import events as ev
from acd.core.decisions import Announce
from acd.core.estimate import ALPHA, HandleTime, expected_wait
from tests.unit.core.conftest import Driver
from tests.unit.site import configured, queue


def announcing(config: Config, every: float = 60, initial: float = 180) -> Driver:
    general = queue(
        skills={"housekeeping": 1},
        announce_every_seconds=every,
        initial_handle_seconds=initial,
        wrapup_seconds=10,
    )
    return Driver(configured(config, queues=[general]))


def said(driver: Driver, call_id: str) -> list[tuple[int, int]]:
    return [(a.position, a.expected_wait) for a in driver.announcements() if a.call_id == call_id]


def test_every_60s_of_waiting_the_caller_hears_position_and_wait(config: Config) -> None:
    driver = announcing(config)
    driver.call("c1")
    assert driver.wait(59.9) == []
    (announce,) = driver.wait(0.1)
    assert announce == Announce("c1", "PJSIP/callers-c1", position=1, expected_wait=180)
    driver.wait(60)
    assert said(driver, "c1") == [(1, 180), (1, 180)]


def test_position_counts_callers_ahead_in_offer_order(config: Config) -> None:
    driver = announcing(config)
    driver.call("c1")
    driver.wait(10)
    driver.call("c2")
    driver.wait(10)
    driver.call("vip", priority=5)
    for _ in range(3):
        driver.wait(20)  # 60 s after each one's entry: c1, then c2, then the VIP
    assert [(a.call_id, a.position) for a in driver.announcements()] == [
        ("c1", 2),
        ("c2", 3),
        ("vip", 1),
    ]


def test_expected_wait_spreads_the_line_over_the_queues_staff(config: Config) -> None:
    driver = announcing(config)
    driver.logged_in_paused("1001", "1002")  # two agents on a break: staff all the same
    for n in range(3):
        driver.call(f"c{n}")
    driver.wait(60)
    assert [(a.position, a.expected_wait) for a in driver.announcements()] == [
        (1, 90),
        (2, 180),
        (3, 270),
    ]


def test_handle_time_learns_from_finished_calls(config: Config) -> None:
    driver = announcing(config)
    driver.ready("1001")
    driver.call("c1")
    driver.talk("c1", "1001", 100)
    driver.wait(10)  # wrap-up: handle time 110 s
    driver.send(ev.AgentPause("1001", "lunch"))
    driver.call("c2")
    driver.wait(60)
    handle = 180 + ALPHA * (110 - 180)
    assert said(driver, "c2") == [(1, round(handle))]


def test_no_announcements_when_the_queue_says_never(config: Config) -> None:
    driver = announcing(config, every=0)
    driver.call("c1")
    driver.wait(600)
    assert driver.announcements() == []
    assert driver.core.next_deadline() is None


def test_announcements_stop_once_an_agent_answers(config: Config) -> None:
    driver = announcing(config)
    driver.call("c1")
    driver.wait(60)
    driver.wait(60)
    driver.wait(10)
    driver.ready("1001")
    driver.send(ev.OfferAnswered("c1", "1001"))
    driver.wait(300)
    assert said(driver, "c1") == [(1, 180), (1, 180)]


def test_a_ringing_caller_hears_nothing_but_keeps_its_rhythm(config: Config) -> None:
    driver = announcing(config)
    driver.call("c1")
    driver.wait(50)
    driver.ready("1001")  # rings at 50 s, through the 60 s mark
    driver.wait(15)
    driver.send(ev.OfferFailed("c1", "1001", "no-answer"))
    driver.wait(55)  # 120 s of waiting
    assert said(driver, "c1") == [(1, 180)]


@pytest.mark.parametrize(
    ("position", "handle", "agents", "expected"),
    [(1, 180, 0, 180), (1, 180, 1, 180), (3, 180, 2, 270), (1, 100, 3, 34), (5, 60.5, 5, 61)],
)
def test_expected_wait_formula(position: int, handle: float, agents: int, expected: int) -> None:
    assert expected_wait(position, handle, agents) == expected


def test_handle_time_is_a_moving_average() -> None:
    average = HandleTime(180)
    average.add(80)
    assert average.seconds == pytest.approx(180 - ALPHA * 100)
    for _ in range(100):
        average.add(60)
    assert average.seconds == pytest.approx(60)
