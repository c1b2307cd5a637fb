"""The core's decisions carried out on Asterisk: what is sent, and in which order.

Effects for one call reach Asterisk in the order the core decided them, however long each
action takes; effects for different calls do not wait for each other. A fake AMI records
the actions; no Engine.
"""

from __future__ import annotations

import asyncio

import pytest

from acd.config.models import Config
from acd.core import events as ev
from acd.core.decisions import Announce, CallRecord, CancelOffer, ExitQueue, Offer
from acd.core.entities import CallStatus
from acd.core.facts import CallMoved
from acd.core.vocab import CallKind, ExitReason
from acd.engine import effects
from acd.engine.effects import caller_id
from acd.engine.translator import MuteRecording
from acd.prompts import sound_name
from acd.records.items import RecordingMade
from tests.unit.engine.conftest import World

CALLER = "PJSIP/trunk-00000001"
OTHER = "PJSIP/trunk-00000009"


def announce(call_id: str = "c1", channel: str = CALLER) -> Announce:
    return Announce(call_id, channel, position=3, expected_wait=150)


def exit_queue(call_id: str = "c1", channel: str = CALLER, prompt: str | None = "bye") -> ExitQueue:
    return ExitQueue(call_id, channel, "timeout", prompt, hotline="home")


def offer(caller: str = "13800138000") -> Offer:
    return Offer("c1", CALLER, caller, "1001", "1001", ring_timeout=15, queue="repairs")


async def test_an_exit_never_overtakes_the_announcement_before_it(world: World) -> None:
    world.calls["c1"] = CallStatus.WAITING
    world.ami.hold("Getvar")  # the announcement's first step is slow
    world.effector.run(announce())
    world.effector.run(exit_queue())
    await asyncio.sleep(0.01)
    assert world.ami.names(CALLER) == ["Getvar:ACD_ANNOUNCING"]  # the exit waits its turn
    world.ami.release("Getvar")
    await world.settle()
    assert world.ami.names(CALLER) == [
        "Getvar:ACD_ANNOUNCING",
        "Setvar:ACD_AHEAD",
        "Setvar:ACD_EWT_MIN",
        "Redirect:acd-announce",
        "Setvar:ACD_EXIT_SOUND",
        "Redirect:acd-exit",
    ]


async def test_one_call_s_slow_effect_does_not_hold_up_another_call(world: World) -> None:
    world.calls["c1"] = CallStatus.WAITING
    world.ami.hold("Getvar")
    world.effector.run(announce())
    world.effector.run(exit_queue("c2", OTHER))
    await asyncio.sleep(0.01)
    assert world.ami.names(OTHER) == ["Setvar:ACD_EXIT_SOUND", "Redirect:acd-exit"]
    world.ami.release("Getvar")
    await world.settle()
    assert world.effector.lanes.idle()


async def test_a_failed_effect_does_not_stop_the_call_s_next_one(world: World) -> None:
    world.calls["c1"] = CallStatus.WAITING
    world.ami.refuse("Getvar")
    world.effector.run(announce())
    world.effector.run(exit_queue())
    await world.settle()
    assert world.ami.names(CALLER) == [
        "Getvar:ACD_ANNOUNCING",
        "Setvar:ACD_EXIT_SOUND",
        "Redirect:acd-exit",
    ]


async def test_an_announcement_only_reaches_a_caller_still_on_hold(world: World) -> None:
    world.calls["c1"] = CallStatus.RINGING
    world.effector.run(announce())
    world.ami.values[(CALLER, "ACD_ANNOUNCING")] = "1"
    world.calls["c2"] = CallStatus.WAITING
    world.effector.run(announce("c2", CALLER))  # still hearing the last one
    await world.settle()
    assert world.ami.names() == ["Getvar:ACD_ANNOUNCING"]


async def test_the_goodbye_is_spoken_in_the_exit_s_hotline_language(
    world: World, config: Config
) -> None:
    world.effector.run(exit_queue())
    world.effector.run(exit_queue("c2", OTHER, prompt=None))
    await world.settle()
    sounds = {f["Channel"]: f["Value"] for n, f in world.ami.sent if n == "Setvar"}
    assert sounds[CALLER] == sound_name(config, "bye", "en") != sound_name(config, "bye", "zh")
    assert sounds[OTHER] == ""  # no goodbye prompt: no sound


async def test_a_moved_call_s_channel_names_its_new_queue(world: World) -> None:
    moved = CallMoved(
        "c1", CALLER, "repairs", "billing", ExitReason.TIMEOUT, 2, 2, 0.0, CallKind.INBOUND, 1.0
    )
    world.effector.run(moved)
    # A callback nobody holds for has no channel to set.
    world.effector.run(
        CallMoved(
            "c2", "", "repairs", "billing", ExitReason.EMPTY, 0, 1, 0.0, CallKind.CALLBACK, 1.0
        )
    )
    await world.settle()
    assert world.ami.sent == [
        ("Setvar", {"Channel": CALLER, "Variable": "ACD_QUEUE", "Value": "billing"})
    ]


async def test_an_offer_rings_the_agent_with_a_leg_the_translator_knows(world: World) -> None:
    world.effector.run(offer(caller='"><138'))
    await world.settle()
    [(name, fields)] = world.ami.sent
    assert name == "Originate" and fields["Channel"] == "PJSIP/1001"
    assert fields["CallerID"] == caller_id('"><138', '"><138') == '"138" <138>'
    assert fields["Async"] == "true" and fields["Timeout"] == "15000"
    assert world.translator.legs[str(fields["ChannelId"])].call_id == "c1"
    assert world.recorder.planned  # every call of the site is recorded


async def test_a_cancel_follows_its_offer_even_when_the_originate_is_slow(world: World) -> None:
    world.ami.hold("Originate")
    world.effector.run(offer())
    world.effector.run(CancelOffer("c1", "1001"))
    await asyncio.sleep(0.01)
    assert world.ami.names() == ["Originate"]
    world.ami.release("Originate")
    await world.settle()
    assert world.ami.sent[1] == ("Hangup", {"Channel": "/^PJSIP\\/1001-/", "Cause": "16"})
    assert world.translator.legs == {}


async def test_an_originate_asterisk_refuses_fails_the_offer(world: World) -> None:
    world.ami.refuse("Originate")
    world.effector.run(offer())
    await world.settle()
    assert world.put == [ev.OfferFailed("c1", "1001", "failed")]
    assert world.translator.legs == {} and world.recorder.planned == {}


async def test_the_agent_s_recording_keys_mute_and_unmute_the_leg(world: World) -> None:
    world.effector.run(MuteRecording("c1", "PJSIP/1001-00000002", True))
    world.effector.run(MuteRecording("c1", "PJSIP/1001-00000002", False))
    await world.settle()
    assert [f["State"] for n, f in world.ami.sent if n == "MixMonitorMute"] == ["1", "0"]


async def test_a_finished_call_s_recording_is_checked_and_recorded(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(effects, "RECORDING_SETTLE_SECONDS", 0.0)
    world.recorder.plan("leg1", "c1", "1001", "13800138000", "repairs", 0.0)
    world.recorder.answered("leg1", "PJSIP/1001-00000002", 2.0)
    ended = CallRecord("c1", "13800138000", "home", "repairs", 0.0, "1001", 2.0, 9.0)
    world.effector.run(CallRecord("c2", "1", "home", "repairs", 0.0))  # live: nothing to check
    world.effector.run(ended)
    await world.settle()
    [made] = world.records
    assert isinstance(made, RecordingMade)
    assert made.call_id == "c1" and made.status == "missing"  # no file in the test spool
    assert world.ami.sent == []


async def test_a_supervisor_is_rung_to_join_the_agent_s_talking_leg(world: World) -> None:
    with pytest.raises(ValueError, match="1002 is not a supervisor"):
        world.effector.spy_channel("1002", "1001")
    with pytest.raises(ValueError, match="agent 1001 is not on a call"):
        world.effector.spy_channel("1090", "1001")
    world.translator.expect("leg1", "c1", "1001", "1001")
    leg = world.translator.legs["leg1"]
    leg.channel, leg.answered = "PJSIP/1001-00000002", True
    await world.effector.supervise("whisper", "1001", "1090")
    [(name, fields)] = world.ami.sent
    assert name == "Originate" and fields["Channel"] == "PJSIP/1090"
    variables = fields["Variable"]
    assert isinstance(variables, list)
    assert "ACD_SPY_CHANNEL=PJSIP/1001-00000002" in variables and "ACD_SPY_MODES=w" in variables


def test_the_caller_id_an_agent_sees_cannot_be_garbled_by_the_caller() -> None:
    assert caller_id("callback 138", "138") == '"callback 138" <138>'
    assert caller_id('"><b', '"><b') == '"b" <b>'
