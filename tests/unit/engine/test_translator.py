"""AMI messages, as Asterisk sends them, become core events; nothing else reaches the core.

Fed recorded messages one by one, with the legs the effector would have registered: no
Engine, no socket.
"""

from __future__ import annotations

import pytest

from acd.core import events as ev
from acd.core.entities import CallStatus
from acd.engine.translator import MuteRecording, callback_event, endpoint_state
from tests.unit.engine.conftest import World, msg

LEG = "acd-0001"
AGENT_CHAN = "PJSIP/1001-00000002"


def enqueued(**variables: str) -> list[tuple[str, str]]:
    return [
        ("Event", "UserEvent"),
        ("UserEvent", "AcdEnqueued"),
        ("Channel", "PJSIP/trunk-00000001"),
        ("Uniqueid", "1700000000.1"),
        ("CallerIDNum", "138\r00138000"),
        *(("ChanVariable", f"{k}={v}") for k, v in variables.items()),
    ]


def ringing(world: World) -> None:
    """An offer of call c1 to agent 1001 whose leg Asterisk has created."""
    world.translator.expect(LEG, "c1", "1001", "1001")
    world.recorder.plan(LEG, "c1", "1001", "13800138000", "repairs", world.clock.now())
    assert (
        world.translator.feed(msg(("Event", "Newchannel"), Uniqueid=LEG, Channel=AGENT_CHAN)) == []
    )


def answered(world: World) -> list[object]:
    return list(
        world.translator.feed(msg(("Event", "OriginateResponse"), Uniqueid=LEG, Response="Success"))
    )


def test_a_caller_reaching_the_hold_enters_its_queue_with_a_clean_number(world: World) -> None:
    out = world.translator.feed(
        msg(*enqueued(ACD_QUEUE="billing", ACD_PRIORITY="5", ACD_HOTLINE="home"))
    )
    assert out == [
        ev.CallEntered("1700000000.1", "PJSIP/trunk-00000001", "13800138000", "home", "billing", 5)
    ]


def test_an_enqueue_without_a_queue_or_with_a_junk_priority(world: World) -> None:
    assert world.translator.feed(msg(*enqueued(ACD_HOTLINE="home"))) == []
    [entered] = world.translator.feed(msg(*enqueued(ACD_QUEUE="repairs", ACD_PRIORITY="high")))
    assert isinstance(entered, ev.CallEntered) and entered.priority == 0


def test_an_answered_leg_is_an_answered_offer_and_its_hang_up_ends_the_call_for_the_agent(
    world: World,
) -> None:
    ringing(world)
    assert answered(world) == [ev.OfferAnswered("c1", "1001", AGENT_CHAN)]
    assert world.translator.talking_channel("1001") == AGENT_CHAN
    assert world.translator.feed(msg(("Event", "Hangup"), Uniqueid=LEG)) == [
        ev.AgentLegHungUp("c1", "1001")
    ]
    assert world.translator.legs == {}


def test_a_leg_gone_before_its_answer_was_heard_is_answered_then_hung_up(world: World) -> None:
    ringing(world)
    assert world.translator.feed(msg(("Event", "Hangup"), Uniqueid=LEG)) == []
    assert answered(world) == [
        ev.OfferAnswered("c1", "1001", AGENT_CHAN),
        ev.AgentLegHungUp("c1", "1001"),
    ]


@pytest.mark.parametrize(
    ("reason", "failure"),
    [("3", "no-answer"), ("5", "busy"), ("1", "rejected"), ("0", "unavailable")],
)
def test_an_unanswered_leg_fails_the_offer_with_asterisks_reason(
    world: World, reason: str, failure: str
) -> None:
    ringing(world)
    out = world.translator.feed(
        msg(("Event", "OriginateResponse"), Uniqueid=LEG, Response="Failure", Reason=reason)
    )
    assert out == [ev.OfferFailed("c1", "1001", failure)]
    assert world.translator.legs == {} and world.recorder.planned == {}


def test_a_failed_originate_naming_no_leg_is_told_by_its_endpoint(world: World) -> None:
    world.translator.expect(LEG, "c1", "1001", "1001")
    out = world.translator.feed(
        msg(("Event", "OriginateResponse"), Channel="PJSIP/1001", Response="Failure", Reason="8")
    )
    assert out == [ev.OfferFailed("c1", "1001", "unavailable")]


def test_only_the_core_s_callers_and_agents_are_reported(world: World) -> None:
    world.calls["c9"] = CallStatus.WAITING
    assert world.translator.feed(msg(("Event", "Hangup"), Uniqueid="c9")) == [ev.CallerHungUp("c9")]
    assert world.translator.feed(msg(("Event", "Hangup"), Uniqueid="trunk-leg")) == []
    state = msg(("Event", "DeviceStateChange"), Device="PJSIP/1002", State="INUSE")
    assert world.translator.feed(state) == [ev.DeviceState("1002", "INUSE")]
    stranger = msg(("Event", "DeviceStateChange"), Device="PJSIP/trunk", State="INUSE")
    assert world.translator.feed(stranger) == []


def dtmf(world: World, digit: str, uid: str = LEG) -> list[object]:
    return list(
        world.translator.feed(
            msg(("Event", "DTMFEnd"), Uniqueid=uid, Digit=digit, Direction="Received")
        )
    )


def test_star_7_pauses_the_recording_and_star_8_resumes_it(world: World) -> None:
    ringing(world)
    answered(world)
    world.clock.advance(3)
    assert dtmf(world, "*") == []
    assert dtmf(world, "7") == [MuteRecording("c1", AGENT_CHAN, True)]
    assert dtmf(world, "*") == [] and dtmf(world, "7") == []  # already paused
    world.clock.advance(2)
    assert dtmf(world, "*") == [] and dtmf(world, "8") == [MuteRecording("c1", AGENT_CHAN, False)]
    assert world.recorder.live["c1"].pauses == [[3.0, 5.0]]


def test_keys_on_a_ringing_leg_or_a_caller_s_channel_do_nothing(world: World) -> None:
    ringing(world)
    assert dtmf(world, "*") == [] and dtmf(world, "7") == []
    world.calls["c1"] = CallStatus.TALKING
    assert dtmf(world, "*", uid="c1") == [] and dtmf(world, "7", uid="c1") == []


def user_event(name: str, **headers: str) -> object:
    return callback_event(msg(("Event", "UserEvent"), ("UserEvent", name), **headers))


def test_the_dialplan_s_word_on_a_callback_dial_becomes_a_core_event(world: World) -> None:
    assert user_event("AcdCallbackAnswered", CallId="c1") == ev.CallbackAnswered("c1")
    # Dial() returning ANSWER means the customer talked and hung up.
    assert user_event("AcdCallbackResult", CallId="c1", Status="ANSWER") == ev.CallerHungUp("c1")
    assert user_event("AcdCallbackResult", CallId="c1", Status="NOANSWER") == (
        ev.CallbackFailed("c1", "no-answer")
    )
    assert user_event("AcdCallbackResult", CallId="c1", Status="busy") == (
        ev.CallbackFailed("c1", "busy")
    )
    assert user_event("AcdCallbackResult", CallId="c1", Status="??") == (
        ev.CallbackFailed("c1", "failed")
    )
    assert user_event("AcdCallbackResult", Status="BUSY") is None
    assert user_event("AcdEnqueued", CallId="c1") is None
    # And through feed, like any other event.
    result = msg(("Event", "UserEvent"), UserEvent="AcdCallbackResult", CallId="c1", Status="BUSY")
    assert world.translator.feed(result) == [ev.CallbackFailed("c1", "busy")]


def test_endpoint_list_entries_carry_the_core_s_device_state_names() -> None:
    assert endpoint_state(msg(ObjectName="1001", DeviceState="Not in use")) == ("1001", "NOT_INUSE")
    assert endpoint_state(msg(ObjectName="1001", DeviceState="Ring+Inuse")) == ("1001", "RINGINUSE")
    assert endpoint_state(msg(ObjectName="1001", DeviceState="odd")) == ("1001", "UNKNOWN")
