"""Skill expansion: the longer a caller waits, the wider the circle of agents who may answer."""

from __future__ import annotations

from acd.config import Config
from acd.config.queues import ExpansionStep
from acd.core import events as ev
from tests.unit.core.conftest import Driver
from tests.unit.site import configured, queue

# Shipped agents: 1001 housekeeping 5; 1002 housekeeping 3, repairs 4; 1003 repairs 5, jobs 2;
# 1004 jobs 5, housekeeping 2 (trainee).


def expanding(config: Config, *steps: ExpansionStep) -> Driver:
    general = queue(skills={"housekeeping": 4}, expansion=list(steps), announce_every_seconds=0)
    jobs = queue("jobs", skills={"jobs": 1}, announce_every_seconds=0)
    repairs = queue("repairs", skills={"repairs": 1}, announce_every_seconds=0)
    return Driver(configured(config, queues=[general, repairs, jobs]))


def test_after_30s_a_lower_skill_level_is_accepted(config: Config) -> None:
    driver = expanding(config, ExpansionStep(after_seconds=30, min_level=3))
    driver.ready("1002")  # housekeeping 3: below the queue's 4
    driver.call("c1")
    driver.wait(29.9)
    assert driver.offers() == []
    driver.wait(0.1)
    assert driver.offered_to("c1") == "1002"


def test_a_repairs_agent_may_take_a_general_call_after_90s(config: Config) -> None:
    driver = expanding(config, ExpansionStep(after_seconds=90, also_skills={"repairs": 1}))
    driver.ready("1003")  # repairs only
    driver.call("c1")
    driver.wait(89)
    assert driver.offers() == []
    driver.wait(1)
    assert driver.offered_to("c1") == "1003"


def test_steps_accumulate(config: Config) -> None:
    driver = expanding(
        config,
        ExpansionStep(after_seconds=90, also_skills={"repairs": 1}),
        ExpansionStep(after_seconds=30, min_level=2),  # listed out of order on purpose
    )
    driver.call("c1")
    driver.call("c2")
    driver.wait(95)  # both steps passed: housekeeping >= 2, or repairs
    driver.ready("1004")  # housekeeping 2: let in by the lowered level
    driver.ready("1003")  # repairs: let in by the other skill
    assert (driver.offered_to("c1"), driver.offered_to("c2")) == ("1004", "1003")


def test_agents_of_the_queues_own_skill_come_before_those_let_in_by_other_skills(
    config: Config,
) -> None:
    driver = expanding(
        config,
        ExpansionStep(after_seconds=30, min_level=2),
        ExpansionStep(after_seconds=90, also_skills={"repairs": 1}),
    )
    driver.ready("1003", "1004")  # repairs 5; housekeeping 2
    # A caller rebuilt after an engine restart, already waiting 95 s: both steps apply.
    entered = driver.now() - 95
    driver.send(ev.CallEntered("c1", "PJSIP/c1", "139", "home", "general", entered_at=entered))
    assert driver.offered_to("c1") == "1004"


def test_an_agent_outside_every_step_never_gets_the_call(config: Config) -> None:
    driver = expanding(config, ExpansionStep(after_seconds=30, min_level=3))
    driver.ready("1003", "1004")  # no housekeeping at level 3
    driver.call("c1")
    driver.wait(600)
    assert driver.offers() == []


def test_overflow_moves_the_call_keeping_its_place(config: Config) -> None:
    driver = expanding(config, ExpansionStep(after_seconds=60, overflow="jobs"))
    driver.call("g1", "general", priority=2)
    entered = driver.now()
    driver.wait(10)
    driver.call("j1", "jobs", priority=2)
    driver.wait(50)
    moved = driver.record("g1")
    assert (moved.queue, moved.entered_at, moved.disposition) == ("jobs", entered, "waiting")
    assert driver.core.lines["jobs"].ordered() == ["g1", "j1"]  # it waited longer
    assert driver.core.lines["general"].ordered() == []
    driver.ready("1004")  # jobs 5
    assert [o.call_id for o in driver.offers()] == ["g1"]
    assert driver.offers()[0].queue == "jobs"


def test_a_step_due_while_the_agent_rings_applies_when_the_offer_fails(config: Config) -> None:
    driver = expanding(config, ExpansionStep(after_seconds=10, overflow="jobs"))
    driver.ready("1001")
    driver.call("c1")
    driver.wait(12)
    assert driver.record("c1").queue == "general"  # still ringing 1001: left alone
    driver.send(ev.OfferFailed("c1", "1001", "no-answer"))
    assert driver.record("c1").queue == "jobs"


def test_an_answered_call_is_not_moved(config: Config) -> None:
    driver = expanding(config, ExpansionStep(after_seconds=10, overflow="jobs"))
    driver.ready("1001")
    driver.call("c1")
    driver.send(ev.OfferAnswered("c1", "1001"))
    driver.wait(30)
    assert driver.record("c1").queue == "general"


def test_overflow_never_bounces_a_call_back(config: Config) -> None:
    general = queue(
        skills={"housekeeping": 4},
        expansion=[ExpansionStep(after_seconds=10, overflow="repairs")],
        announce_every_seconds=0,
    )
    repairs = queue(
        "repairs",
        skills={"repairs": 1},
        expansion=[ExpansionStep(after_seconds=20, overflow="general")],
        announce_every_seconds=0,
    )
    driver = Driver(configured(config, queues=[general, repairs]))
    driver.call("c1")
    driver.wait(30)
    assert driver.record("c1").queue == "repairs"
    assert driver.core.calls["c1"].status.value == "waiting"


def test_expansion_runs_on_the_timer_heap(config: Config) -> None:
    driver = expanding(
        config,
        ExpansionStep(after_seconds=30, min_level=3),
        ExpansionStep(after_seconds=90, also_skills={"repairs": 1}),
    )
    driver.call("c1")
    entered = driver.now()
    assert driver.core.next_deadline() == entered + 30
    driver.wait(30)
    assert driver.core.next_deadline() == entered + 90
    driver.wait(60)
    assert driver.core.next_deadline() is None
