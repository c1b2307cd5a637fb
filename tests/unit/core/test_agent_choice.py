"""Which agent rings: skills with minimum levels, best match first, then the queue's strategy."""

from __future__ import annotations

import pytest

from acd.config import Config
from acd.config.queues import Strategy
from acd.core import events as ev
from acd.core.core import UnknownAgent
from agents.state import IllegalTransition
from tests.unit.core.conftest import Driver
from tests.unit.site import agent, configured, queue

TEAM = [agent(number, housekeeping=3) for number in ("2001", "2002", "2003")]


def team_driver(config: Config, strategy: Strategy, wrapup: float = 10) -> Driver:
    general = queue(strategy=strategy, wrapup_seconds=wrapup, announce_every_seconds=0)
    return Driver(configured(config, queues=[general], agents=TEAM))


def test_an_agent_below_the_minimum_level_is_not_offered_the_call(config: Config) -> None:
    strict = queue(skills={"housekeeping": 3})
    driver = Driver(configured(config, queues=[strict]))
    driver.ready("1004")  # housekeeping 2: a trainee for this queue
    driver.call("c1")
    assert driver.offers() == []
    driver.ready("1002")  # housekeeping 3
    assert driver.offered_to("c1") == "1002"


def test_the_best_skill_match_wins_over_any_strategy(config: Config) -> None:
    general = queue(strategy="fewest-calls", wrapup_seconds=0)
    driver = Driver(configured(config, queues=[general]))
    driver.ready("1001", "1002")  # housekeeping 5 and 3
    for n in range(3):
        driver.call(f"c{n}")
        assert driver.offered_to(f"c{n}") == "1001"  # more calls taken, still the best fit
        driver.talk(f"c{n}", "1001", 30)


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [("longest-idle", "2001"), ("fewest-calls", "2002"), ("least-occupied", "2002")],
)
def test_among_equal_skills_the_queue_strategy_decides(
    config: Config, strategy: Strategy, expected: str
) -> None:
    # 2001 logs in first, talks 100 s, wraps up 10 s and has been idle since; 2002 has been
    # logged in as long, on a break, and becomes ready later: idle for less time, but it has
    # taken no call and spent none of its time on calls.
    driver = team_driver(config, strategy)
    driver.ready("2001")
    driver.logged_in_paused("2002")
    driver.call("c1")
    assert driver.offered_to("c1") == "2001"
    driver.talk("c1", "2001", 100)
    driver.wait(10)  # wrap-up over: 2001 idle from now
    driver.wait(50)
    driver.send(ev.AgentReady("2002"))
    driver.wait(5)
    driver.call("c2")
    assert driver.offered_to("c2") == expected


def test_longest_idle_means_since_the_agent_last_became_ready(config: Config) -> None:
    driver = team_driver(config, "longest-idle")
    driver.ready("2003")
    driver.wait(1)
    driver.ready("2001")
    driver.wait(1)
    driver.ready("2002")
    for call_id in ("c1", "c2", "c3"):
        driver.call(call_id)
    assert [o.agent for o in driver.offers()] == ["2003", "2001", "2002"]


def test_round_robin_rotates_through_the_agents_in_a_stable_order(config: Config) -> None:
    driver = team_driver(config, "round-robin", wrapup=0)
    driver.ready("2003")
    driver.ready("2001")
    driver.ready("2002")
    for n in range(5):
        driver.call(f"c{n}")
        offer = driver.offers()[-1]
        driver.talk(offer.call_id, offer.agent, 20)
    assert [o.agent for o in driver.offers()] == ["2001", "2002", "2003", "2001", "2002"]


def test_round_robin_skips_an_agent_who_is_not_available(config: Config) -> None:
    driver = team_driver(config, "round-robin", wrapup=0)
    driver.ready("2001", "2002", "2003")
    driver.call("c1")
    driver.talk("c1", "2001", 20)
    driver.send(ev.AgentPause("2002", "lunch"))
    driver.call("c2")
    assert driver.offered_to("c2") == "2003"


def test_a_phone_never_heard_of_is_not_rung(driver: Driver) -> None:
    driver.send(ev.AgentLogin("1001"))  # device state UNKNOWN: counts as unreachable
    driver.call("c1")
    assert driver.offers() == []
    driver.send(ev.DeviceState("1001", "NOT_INUSE"))
    assert driver.offered_to("c1") == "1001"


def test_a_cancelled_ring_keeps_the_agent_place_in_line(config: Config) -> None:
    driver = team_driver(config, "longest-idle")
    driver.ready("2001")
    driver.wait(5)
    driver.ready("2002")
    driver.call("c1")
    assert driver.offered_to("c1") == "2001"
    driver.send(ev.CallerHungUp("c1"))  # the caller gave up while 2001's phone rang
    driver.call("c2")
    assert driver.offered_to("c2") == "2001"


# -- supervisors -------------------------------------------------------------------------


def test_a_supervisor_takes_calls_only_when_put_on_the_queues(driver: Driver) -> None:
    driver.ready("1090")
    driver.call("c1")
    assert driver.offers() == []
    driver.send(ev.TakeCalls("1090", True))  # e.g. 16 waiting for 30 minutes
    assert driver.offered_to("c1") == "1090"
    driver.talk("c1", "1090", 60)
    driver.send(ev.TakeCalls("1090", False))
    driver.wait(10)  # wrap-up over, ready again, but off the queues
    driver.call("c2")
    assert driver.offered_to("c2") is None


def test_take_calls_for_an_unknown_agent_is_an_error(driver: Driver) -> None:
    with pytest.raises(UnknownAgent):
        driver.send(ev.TakeCalls("9999", True))


def test_illegal_agent_commands_stay_errors(driver: Driver) -> None:
    with pytest.raises(IllegalTransition):
        driver.send(ev.AgentReady("1001"))  # not logged in
    driver.ready("1001")
    driver.call("c1")
    with pytest.raises(IllegalTransition):
        driver.send(ev.AgentLogout("1001"))  # its phone is ringing
    with pytest.raises(UnknownAgent):
        driver.send(ev.AgentLogin("9999"))


def test_agents_freed_at_the_same_moment_take_every_waiting_caller(config: Config) -> None:
    # Both wrap-ups end on the same tick; the first agent looked at is not the best fit for
    # the first caller, and must still get the second one.
    pair = [agent("2001", housekeeping=2), agent("2002", housekeeping=5)]
    general = queue(wrapup_seconds=10, announce_every_seconds=0)
    driver = Driver(configured(config, queues=[general], agents=pair))
    driver.ready("2001", "2002")
    driver.call("a")
    driver.call("b")
    driver.send(ev.OfferAnswered("a", "2002"))
    driver.send(ev.OfferAnswered("b", "2001"))
    driver.send(ev.AgentLegHungUp("a", "2002"))
    driver.send(ev.AgentLegHungUp("b", "2001"))
    driver.call("c1")
    driver.call("c2")
    driver.wait(10)
    assert (driver.offered_to("c1"), driver.offered_to("c2")) == ("2002", "2001")
