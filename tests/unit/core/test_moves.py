"""A team lead moves an agent between queues (the seeds: "the team lead watches live inbound
traffic and puts people on line at once")."""

from __future__ import annotations

import pytest

from acd.core import events as ev
from acd.core.core import Refused
from tests.unit.core.conftest import Driver


def test_a_moved_agent_takes_the_new_queue_and_not_the_old(driver: Driver) -> None:
    driver.ready("1001")  # housekeeping only: general, not repairs
    driver.send(ev.SetQueues("1001", ("repairs",)))
    driver.call("g1", "general")
    assert driver.offered_to("g1") is None
    driver.call("r1", "repairs")
    assert driver.offered_to("r1") == "1001"
    status = {a["number"]: a for a in driver.core.snapshot(driver.now())["agents"]}
    assert status["1001"]["moved_to"] == ["repairs"]


def test_moving_back_to_the_skills_restores_the_queues(driver: Driver) -> None:
    driver.ready("1001")
    driver.send(ev.SetQueues("1001", ("repairs",)))
    driver.call("g1", "general")
    driver.send(ev.SetQueues("1001", None))
    assert driver.offered_to("g1") == "1001"


def test_an_agent_with_the_skill_still_comes_first_in_the_new_queue(driver: Driver) -> None:
    driver.ready("1001", "1003")  # 1003 has repairs 5
    driver.send(ev.SetQueues("1001", ("repairs", "general")))
    driver.call("r1", "repairs")
    assert driver.offered_to("r1") == "1003"


def test_a_move_to_an_unknown_queue_is_refused(driver: Driver) -> None:
    with pytest.raises(Refused, match="no queue sales"):
        driver.send(ev.SetQueues("1001", ("sales",)))


def test_waiting_callers_keep_their_order_through_a_move(driver: Driver) -> None:
    driver.call("g1", "general")
    driver.wait(1)
    driver.call("g2", "general")
    driver.ready("1003")
    driver.send(ev.SetQueues("1003", ("general",)))
    assert driver.offered_to("g1") == "1003" and driver.offered_to("g2") is None
    assert driver.core.queues["general"].capable == 1
