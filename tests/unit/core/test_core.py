"""The core's call handling, read as the hotline's rules."""

from __future__ import annotations

from acd.core import events as ev
from acd.core.decisions import AgentStateChanged, CallRecord, CancelOffer, Offer
from tests.unit.core.conftest import Driver


def offers(decisions: list[object]) -> list[Offer]:
    return [d for d in decisions if isinstance(d, Offer)]


def last_record(driver: Driver, call_id: str) -> CallRecord:
    return [d for d in driver.decisions if isinstance(d, CallRecord) and d.call_id == call_id][-1]


def test_a_caller_reaches_the_matching_ready_agent_with_caller_id(driver: Driver) -> None:
    driver.ready("1003")  # repairs, not housekeeping
    assert offers(driver.call("c1", "general")) == []
    driver.ready("1001")
    (offer,) = [d for d in driver.decisions if isinstance(d, Offer)]
    assert (offer.agent, offer.caller, offer.ring_timeout) == ("1001", "13800138000", 15)


def test_answered_call_record_has_wait_and_talk(driver: Driver) -> None:
    driver.ready("1001")
    driver.clock.advance(1)
    driver.call("c1")
    driver.wait(4)
    driver.send(ev.OfferAnswered("c1", "1001"))
    driver.wait(30)
    driver.send(ev.AgentLegHungUp("c1", "1001"))
    record = last_record(driver, "c1")
    assert (record.agent, record.disposition, record.hangup_side) == ("1001", "answered", "agent")
    assert record.wait_seconds == 4 and record.talk_seconds == 30


def test_wrap_up_delays_the_next_offer(driver: Driver) -> None:
    driver.ready("1001")
    driver.call("c1")
    driver.send(ev.OfferAnswered("c1", "1001"))
    driver.send(ev.AgentLegHungUp("c1", "1001"))
    assert offers(driver.call("c2")) == []
    assert offers(driver.wait(9.9)) == []
    (offer,) = offers(driver.wait(0.1))  # general queue: 10 s wrap-up
    assert offer.call_id == "c2"


def test_caller_hanging_up_while_waiting_is_abandoned(driver: Driver) -> None:
    driver.call("c1")
    driver.wait(12)
    driver.send(ev.CallerHungUp("c1"))
    record = last_record(driver, "c1")
    assert (record.disposition, record.hangup_side, record.wait_seconds) == (
        "abandoned",
        "caller",
        12,
    )
    assert driver.core.snapshot(driver.clock.now())["queues"][0]["waiting"] == []


def test_no_answer_pauses_the_agent_and_the_call_goes_to_the_next(driver: Driver) -> None:
    driver.ready("1001")
    driver.clock.advance(5)
    driver.ready("1002")
    driver.call("c1")
    (first,) = [d for d in driver.decisions if isinstance(d, Offer)]
    assert first.agent == "1001"  # higher housekeeping skill
    (second,) = offers(driver.send(ev.OfferFailed("c1", "1001", "no-answer")))
    assert second.agent == "1002"
    assert driver.core.agents["1001"].state.value == "not-ready"
    assert driver.core.agents["1001"].reason == "no-answer"
    assert last_record(driver, "c1").offers == 2


def test_caller_hanging_up_while_agent_rings_cancels_the_leg(driver: Driver) -> None:
    driver.ready("1001")
    driver.call("c1")
    out = driver.send(ev.CallerHungUp("c1"))
    assert CancelOffer("c1", "1001") in out
    assert driver.core.agents["1001"].state.value == "ready"
    assert last_record(driver, "c1").disposition == "abandoned"


def test_higher_priority_first_then_longest_waiting(driver: Driver) -> None:
    driver.call("old")
    driver.clock.advance(1)
    driver.call("new")
    driver.clock.advance(1)
    driver.call("vip", priority=5)
    driver.ready("1001")
    assert [o.call_id for o in offers(driver.decisions)] == ["vip"]
    order = driver.core.lines["general"].ordered()
    assert order == ["old", "new"]


def test_unregistered_or_busy_phone_is_never_rung(driver: Driver) -> None:
    driver.ready("1001")
    driver.send(ev.DeviceState("1001", "UNAVAILABLE"))
    assert offers(driver.call("c1")) == []
    driver.send(ev.DeviceState("1001", "INUSE"))  # on a call of its own
    assert offers(driver.wait(1)) == []
    (offer,) = offers(driver.send(ev.DeviceState("1001", "NOT_INUSE")))
    assert offer.call_id == "c1"


def test_supervisors_are_not_offered_calls(driver: Driver) -> None:
    driver.ready("1090")
    assert offers(driver.call("c1")) == []


def test_ring_safety_timer_when_asterisk_never_answers(driver: Driver) -> None:
    driver.ready("1001")
    driver.call("c1")
    driver.wait(25.1)  # ring timeout 15 s + grace
    assert driver.core.agents["1001"].state.value == "not-ready"
    assert driver.core.calls["c1"].status.value == "waiting"


def test_resync_ends_calls_asterisk_no_longer_has(driver: Driver) -> None:
    driver.call("c1")
    driver.call("c2")
    driver.send(ev.Resync(frozenset({"c2"})))
    assert set(driver.core.calls) == {"c2"}
    assert last_record(driver, "c1").hangup_side == "system"


def test_every_state_change_is_reported(driver: Driver) -> None:
    driver.ready("1001")
    changes = [d for d in driver.decisions if isinstance(d, AgentStateChanged)]
    assert [(c.old, c.new) for c in changes] == [("logged-out", "ready")]
