"""The consumer in miniature: each step at the clock's time, observers told after the core,
decisions kept unless told not to, and refusals answered as the engine answers them."""

from __future__ import annotations

import pytest

from acd.clock import ManualClock, SystemClock
from acd.config import Config
from acd.core import events as ev
from acd.core.decisions import AgentStateChanged, Decision, Offer
from acd.core.driver import Driver


def test_observers_see_each_step_with_its_decisions_and_time(config: Config) -> None:
    seen: list[tuple[ev.Event, list[Decision], float]] = []
    clock = ManualClock(100.0)
    driver = Driver(config, clock, [lambda e, d, now: seen.append((e, d, now))])
    login = ev.AgentLogin("1001")
    out = driver.send(login)
    assert seen == [(login, out, 100.0)]
    assert [type(d) for d in out] == [AgentStateChanged]
    driver.wait(5)
    assert seen[-1][0] == ev.Tick() and seen[-1][2] == 105.0


def test_every_decision_is_kept_in_order_unless_keep_is_off(config: Config) -> None:
    kept, forgetful = Driver(config), Driver(config, keep=False)
    for driver in (kept, forgetful):
        driver.send(ev.DeviceState("1001", "NOT_INUSE"))
        driver.send(ev.AgentLogin("1001"))
        driver.send(ev.CallEntered("c1", "PJSIP/c1", "13800138000", "home", "general"))
    assert [o.agent for o in kept.of(Offer)] == ["1001"]
    assert forgetful.decisions == []


def test_an_explicit_time_is_used_instead_of_the_clock(config: Config) -> None:
    driver = Driver(config, ManualClock(100.0))
    (changed,) = driver.send(ev.AgentLogin("1001"), now=250.0)
    assert isinstance(changed, AgentStateChanged) and changed.at == 250.0


def test_a_refused_command_is_answered_with_the_reason(config: Config) -> None:
    driver = Driver(config)
    assert driver.command(ev.AgentLogin("1001")) is None
    assert driver.command(ev.AgentLogin("9999")) == "unknown agent 9999"
    assert driver.command(ev.SetQueues("1001", ("nowhere",))) == "no queue nowhere"


def test_only_a_manual_clock_is_moved_on_by_hand(config: Config) -> None:
    with pytest.raises(TypeError):
        Driver(config, SystemClock()).wait(1)
