"""Callbacks in the core: virtual hold keeps the caller's place, scheduled callbacks wait for a
free agent, the seeds' cap on agents doing callbacks ("at most 2 agents on callbacks") holds,
and failed dials say when to try again."""

from __future__ import annotations

import pytest

from acd.config import Config
from acd.config.models import CallbackSettings
from acd.core import events as ev
from acd.core.core import Refused
from acd.core.decisions import CallbackAttempt, CallbackReleased, CallbackRequested, Offer
from tests.unit.core.conftest import Driver
from tests.unit.site import agent, configured, queue

NUMBER = "13800138000"


def offers(driver: Driver) -> list[Offer]:
    return driver.offers()


def attempts(driver: Driver) -> list[CallbackAttempt]:
    return [d for d in driver.decisions if isinstance(d, CallbackAttempt)]


def due(
    callback_id: int, requested_at: float = 0.0, not_after: float = 1e12, **kw: object
) -> ev.CallbackDue:
    fields: dict[str, object] = {
        "number": f"1390000{callback_id:04d}",
        "hotline": "home",
        "queue": "general",
        "kind": "after-hours",
        "attempt": 0,
    }
    fields.update(kw)
    return ev.CallbackDue(
        callback_id=callback_id,
        requested_at=requested_at,
        not_after=not_after,
        **fields,  # type: ignore[arg-type]
    )


def test_virtual_hold_caller_keeps_their_place_and_is_called_back_with_the_agent_first(
    driver: Driver,
) -> None:
    driver.call("c1")
    driver.wait(5)
    driver.call("c2")
    out = driver.send(ev.KeepCallback("c1"))
    (request,) = [d for d in out if isinstance(d, CallbackRequested)]
    assert (request.kind, request.status, request.caller) == ("virtual-hold", "queued", NUMBER)
    driver.send(ev.CallerHungUp("c1"))  # the caller hangs up after the confirmation
    assert [w["call_id"] for w in driver.core.snapshot(driver.now())["queues"][0]["waiting"]] == [
        "c1",
        "c2",
    ]
    driver.ready("1001")
    (offer,) = offers(driver)
    assert (offer.call_id, offer.agent, offer.callback_number, offer.kind) == (
        "c1",
        "1001",
        NUMBER,
        "virtual-hold",
    )
    driver.send(ev.OfferAnswered("c1", "1001"))  # the agent is on the line first
    assert driver.record("c1").disposition == "dialing"
    assert driver.record("c1").answered_at is None
    driver.clock.advance(6)
    driver.send(ev.CallbackAnswered("c1"))  # then the customer answers
    (attempt,) = attempts(driver)
    assert (attempt.outcome, attempt.attempt, attempt.retry_at) == ("answered", 1, None)
    driver.wait(60)
    driver.send(ev.CallerHungUp("c1"))
    record = driver.record("c1")
    assert (record.disposition, record.kind, record.hangup_side) == (
        "answered",
        "virtual-hold",
        "caller",
    )
    assert record.talk_seconds == 60
    assert driver.core.agents["1001"].state.value == "wrap-up"


def test_a_virtual_hold_caller_is_not_timed_out_or_announced(config: Config) -> None:
    driver = Driver(
        configured(
            config,
            queues=[queue(virtual_hold=True, max_wait_seconds=60, announce_every_seconds=30)],
        )
    )
    driver.call("c1")
    driver.send(ev.KeepCallback("c1"))
    driver.wait(600)
    assert driver.exits() == [] and driver.announcements() == []
    assert "c1" in driver.core.calls


def test_callbacks_are_refused_where_not_offered_or_while_suspended(config: Config) -> None:
    driver = Driver(configured(config, queues=[queue(virtual_hold=False)]))
    driver.call("c1")
    with pytest.raises(Refused, match="does not offer callbacks"):
        driver.send(ev.KeepCallback("c1"))
    driver = Driver(config)
    driver.call("c1")
    driver.core.callbacks_suspended = True
    with pytest.raises(Refused, match="suspended"):
        driver.send(ev.KeepCallback("c1"))
    assert driver.core.calls["c1"].kind == "inbound"


def test_a_customer_who_does_not_answer_is_tried_again_after_the_gap_until_the_last_attempt(
    config: Config,
) -> None:
    settings = CallbackSettings(max_attempts=2, retry_gap_seconds=900)
    driver = Driver(config.model_copy(update={"callbacks": settings}))
    driver.ready("1001")
    driver.send(due(7))
    (offer,) = offers(driver)
    assert offer.call_id == "cb7-1" and offer.callback_number == "13900000007"
    driver.send(ev.OfferAnswered("cb7-1", "1001"))
    driver.clock.advance(30)
    driver.send(ev.CallbackFailed("cb7-1", "no-answer"))
    (first,) = attempts(driver)
    assert (first.callback_id, first.outcome, first.retry_at) == (
        7,
        "no-answer",
        driver.now() + 900,
    )
    assert driver.record("cb7-1").disposition == "callback-failed"
    assert driver.core.agents["1001"].state.value == "wrap-up"
    driver.wait(10)
    driver.send(due(7, attempt=1))  # the records hand it back when it is due again
    driver.send(ev.OfferAnswered("cb7-2", "1001"))
    driver.send(ev.CallbackFailed("cb7-2", "busy"))
    assert attempts(driver)[-1].retry_at is None  # the second of two: given up


def test_waiting_callers_go_before_scheduled_callbacks(driver: Driver) -> None:
    driver.send(due(1))
    driver.call("c1")
    driver.ready("1001")
    assert [o.call_id for o in offers(driver)] == ["c1"]
    driver.ready("1002")
    assert [o.call_id for o in offers(driver)] == ["c1", "cb1-1"]


def test_scheduled_callbacks_are_dialled_oldest_request_first(driver: Driver) -> None:
    driver.send(due(1, requested_at=100))
    driver.send(due(2, requested_at=50))
    driver.ready("1001")
    assert [o.call_id for o in offers(driver)] == ["cb2-1"]


def test_at_most_the_capped_number_of_agents_do_callbacks(config: Config) -> None:
    agents = [agent(n, housekeeping=1) for n in ("2001", "2002", "2003", "2004")]
    settings = CallbackSettings(max_agents=2)
    driver = Driver(configured(config, agents=agents).model_copy(update={"callbacks": settings}))
    driver.ready("2001", "2002", "2003", "2004")
    for i in (1, 2, 3):
        driver.send(due(i, requested_at=i))
    assert [o.call_id for o in offers(driver)] == ["cb1-1", "cb2-1"]
    driver.send(ev.OfferAnswered("cb1-1", offers(driver)[0].agent))
    driver.send(ev.CallbackAnswered("cb1-1"))
    driver.send(ev.CallerHungUp("cb1-1"))
    assert [o.call_id for o in offers(driver)] == ["cb1-1", "cb2-1", "cb3-1"]


def test_a_rule_cap_below_the_config_cap_wins(driver: Driver) -> None:
    driver.core.rule_callback_cap = 0
    driver.send(due(1))
    driver.ready("1001")
    assert offers(driver) == []
    driver.core.rule_callback_cap = None
    driver.send(ev.Tick())
    assert [o.call_id for o in offers(driver)] == ["cb1-1"]


def test_no_callback_is_dialled_after_business_hours_end(driver: Driver) -> None:
    driver.send(due(1, not_after=driver.now() + 10))
    driver.wait(10)
    driver.ready("1001")
    assert offers(driver) == []
    assert [d for d in driver.decisions if isinstance(d, CallbackReleased)] == [
        CallbackReleased(1, "business hours ended")
    ]


def test_suspended_callbacks_are_not_dialled(driver: Driver) -> None:
    driver.core.callbacks_suspended = True
    driver.send(due(1))
    driver.ready("1001")
    assert offers(driver) == []


def test_an_agent_who_does_not_answer_a_callback_leaves_it_pending(driver: Driver) -> None:
    driver.ready("1001", "1002")
    driver.send(due(1))
    first = offers(driver)[0].agent
    driver.send(ev.OfferFailed("cb1-1", first, "no-answer"))
    assert [o.call_id for o in offers(driver)] == ["cb1-1", "cb1-1"]
    assert offers(driver)[1].agent != first
    assert attempts(driver) == []  # the customer was never dialled


def test_breaks_are_refused_while_suspended_but_training_is_not(driver: Driver) -> None:
    driver.ready("1001", "1002")
    driver.core.breaks_suspended = True
    with pytest.raises(Refused, match="breaks are suspended"):
        driver.send(ev.AgentPause("1001", "lunch"))
    driver.send(ev.AgentPause("1002", "training"))
    assert driver.core.agents["1001"].state.value == "ready"
    assert driver.core.agents["1002"].state.value == "not-ready"


def test_a_poll_that_lags_behind_a_dial_does_not_dial_the_customer_again(driver: Driver) -> None:
    driver.ready("1001")
    driver.send(due(3))
    driver.send(ev.OfferAnswered("cb3-1", "1001"))
    driver.send(ev.CallbackAnswered("cb3-1"))
    driver.send(ev.CallerHungUp("cb3-1"))
    driver.wait(30)
    driver.send(due(3))  # the records still said "pending, 0 attempts"
    assert [o.call_id for o in offers(driver)] == ["cb3-1"]
