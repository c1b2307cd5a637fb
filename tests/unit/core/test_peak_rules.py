"""The seeds' peak plan, as the core applies it: "8 callers waiting, sustained for 30 minutes:
stop callbacks and suspend agents' breaks; 16 waiting sustained for 30 minutes: supervisors and
all agents take calls"; "at most 2 agents on callbacks". Hours of queue history run here in
well under a second on the injected clock. These tests are about the shipped plan, so they read
dialplans/rules.yaml; the queues and agents are the tests' own (`centre_config`)."""

from __future__ import annotations

import pytest

from acd.config import Config
from acd.core import events as ev
from acd.core.core import Refused
from acd.core.decisions import AgentRecalled, CallbackRequested, RuleChanged
from tests.unit.core.conftest import Driver, shipped_rules
from tests.unit.site import agent, centre_config, configured

MINUTE = 60.0


@pytest.fixture(scope="module")
def config() -> Config:
    """The test centre under the shipped queue-depth rules."""
    return centre_config(shipped_rules())


def changes(driver: Driver) -> list[RuleChanged]:
    return [d for d in driver.decisions if isinstance(d, RuleChanged)]


def fill(driver: Driver, n: int, prefix: str = "c") -> list[str]:
    ids = [f"{prefix}{i}" for i in range(n)]
    for call_id in ids:
        driver.call(call_id)
    return ids


def run_for(driver: Driver, seconds: float) -> None:
    """Time passes as it does for the engine: it wakes only at the core's next deadline."""
    end = driver.now() + seconds
    while driver.now() < end:
        deadline = driver.core.next_deadline()
        target = end if deadline is None else min(end, max(deadline, driver.now()))
        driver.wait(target - driver.now())


def test_seven_waiting_for_two_hours_changes_nothing(driver: Driver) -> None:
    fill(driver, 7)
    run_for(driver, 2 * 3600)
    assert [c.rule for c in changes(driver)] == ["callback-cap"]  # anyone waiting: the cap
    assert not driver.core.callbacks_suspended and not driver.core.breaks_suspended


def test_eight_waiting_for_thirty_minutes_stops_callbacks_and_breaks(driver: Driver) -> None:
    driver.ready("1002")
    driver.send(ev.AgentPause("1002", "lunch"))  # already on a break
    fill(driver, 8)
    t0 = driver.now()
    run_for(driver, 30 * MINUTE - 1)
    assert "peak-8" not in [c.rule for c in changes(driver)]
    run_for(driver, 1)
    (fired,) = [c for c in changes(driver) if c.rule == "peak-8"]
    assert (fired.state, fired.at, fired.scope) == ("fired", t0 + 1800, "*")
    assert dict(fired.metrics)["waiting"] == 8
    assert set(fired.actions) == {"suspend-callbacks", "suspend-breaks"}
    # Agents on a break are asked back; new breaks are refused with the reason.
    assert [d for d in driver.decisions if isinstance(d, AgentRecalled)] == [
        AgentRecalled("1002", "lunch", "peak-8", t0 + 1800)
    ]
    driver.ready("1003")  # repairs: no general caller for them
    driver.send(ev.AgentPause("1003", "training"))  # not a break
    driver.send(ev.AgentReady("1003"))
    with pytest.raises(Refused, match="breaks are suspended"):
        driver.send(ev.AgentPause("1003", "break"))
    with pytest.raises(Refused, match="callbacks are suspended"):
        driver.send(ev.KeepCallback("c7"))
    status = driver.core.snapshot(driver.now())["rules"]
    assert [r["rule"] for r in status["active"]] == ["peak-8", "callback-cap"]
    assert status["effects"]["breaks_suspended"] is True


def test_a_dip_to_seven_restarts_the_thirty_minutes(driver: Driver) -> None:
    ids = fill(driver, 8)
    run_for(driver, 20 * MINUTE)
    driver.send(ev.CallerHungUp(ids[0]))  # 7 waiting
    driver.call("again")  # 8 again
    t1 = driver.now()
    run_for(driver, 29 * MINUTE)
    assert "peak-8" not in [c.rule for c in changes(driver)]
    run_for(driver, 1 * MINUTE)
    (fired,) = [c for c in changes(driver) if c.rule == "peak-8"]
    assert fired.at == t1 + 1800


def test_peak_eight_clears_after_five_quiet_minutes_and_breaks_come_back(driver: Driver) -> None:
    ids = fill(driver, 8)
    run_for(driver, 30 * MINUTE)
    for call_id in ids[:4]:
        driver.send(ev.CallerHungUp(call_id))  # 4 left: the clear condition
    t1 = driver.now()
    run_for(driver, 5 * MINUTE)
    cleared = [c for c in changes(driver) if c.rule == "peak-8" and c.state == "cleared"]
    assert [c.at for c in cleared] == [t1 + 300]
    driver.ready("1003")
    driver.send(ev.AgentPause("1003", "break"))  # allowed again
    assert driver.core.agents["1003"].reason == "break"
    driver.send(ev.KeepCallback(ids[5]))
    assert any(isinstance(d, CallbackRequested) for d in driver.decisions)


def test_no_flapping_around_the_threshold_once_fired(driver: Driver) -> None:
    ids = fill(driver, 8)
    run_for(driver, 30 * MINUTE)
    for i in range(20):  # 7, 8, 7, 8 ... for over an hour
        driver.send(ev.CallerHungUp(ids[-1]))
        run_for(driver, 2 * MINUTE)
        ids[-1] = f"back{i}"
        driver.call(ids[-1])
        run_for(driver, 2 * MINUTE)
    assert [(c.rule, c.state) for c in changes(driver) if c.rule == "peak-8"] == [
        ("peak-8", "fired")
    ]


def test_sixteen_waiting_for_thirty_minutes_puts_supervisors_on_the_queues(driver: Driver) -> None:
    driver.send(ev.DeviceState("1090", "NOT_INUSE"))
    driver.send(ev.AgentLogin("1090"))  # the supervisor, at their desk, not taking calls
    ids = fill(driver, 16)
    run_for(driver, 30 * MINUTE)
    assert "peak-16" in [c.rule for c in changes(driver) if c.state == "fired"]
    assert driver.offered_to(ids[0]) == "1090"  # called in, and given the oldest caller
    driver.send(ev.OfferAnswered(ids[0], "1090"))
    driver.send(ev.AgentLegHungUp(ids[0], "1090"))
    driver.send(ev.AgentPause("1090", "meeting"))
    for call_id in ids[1:10]:
        driver.send(ev.CallerHungUp(call_id))  # 6 left
    run_for(driver, 5 * MINUTE)
    assert "peak-16" in [c.rule for c in changes(driver) if c.state == "cleared"]
    assert driver.core.agents["1090"].on_queues is False
    driver.send(ev.AgentReady("1090"))
    assert driver.offered_to(ids[10]) is None  # the supervisor is off the queues again


def test_while_anyone_waits_at_most_two_agents_do_callbacks(config: Config) -> None:
    staff = [agent(n, housekeeping=1) for n in ("2001", "2002", "2003", "2004")]
    driver = Driver(configured(config, agents=staff))
    for i in range(1, 5):
        driver.send(
            ev.CallbackDue(i, f"1390000000{i}", "home", "general", "revisit", float(i), 0, 1e12)
        )
    driver.call("c0", "repairs")  # a repairs caller nobody here can take: the cap holds
    driver.ready("2001", "2002", "2003", "2004")
    assert len(driver.offers()) == 2
    assert driver.core.snapshot(driver.now())["rules"]["effects"]["callback_agent_cap"] == 2
