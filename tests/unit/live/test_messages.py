"""Every state change of a call, an agent, a rule or a review becomes a documented message.

Driven through the real core: the messages are what the engine would publish for these events.
"""

from __future__ import annotations

import json
from typing import Any

from acd.config import Config
from acd.config.models import AgentConfig
from acd.config.queues import ExpansionStep, QueueConfig, QueueExit
from acd.core import events as ev
from acd.core.core import RING_GRACE
from acd.core.decisions import CallbackAttempt, RuleChanged
from acd.live.messages import MessageMapper
from acd.live.topics import Message, complete_screen_pop, iso, ivr_choices, level
from acd.records.items import SurveyScore
from acd.records.timeline import Timeline
from tests.unit.live.conftest import CALL, CALLER, Centre

T0 = 1_700_000_000.0  # ManualClock's start: 2023-11-14T22:13:20Z
MASKED = "138******00"


def at(seconds: float) -> str:
    return iso(T0 + seconds)


def call_fields(**extra: Any) -> dict[str, Any]:
    return {
        "call_id": CALL,
        "caller": MASKED,
        "hotline": "home",
        "queue": "general",
        "kind": "inbound",
        **extra,
    }


def topics_and_types(messages: list[Message]) -> list[tuple[str, str]]:
    return [(m.topic, m.payload["type"]) for m in messages]


def on(messages: list[Message], topic: str) -> list[dict[str, Any]]:
    return [m.payload for m in messages if m.topic == topic]


def test_a_full_call_entered_offered_answered_ended(centre: Centre) -> None:
    centre.ready("1001")
    centre.clock.advance(5)
    entered = centre.call()
    centre.clock.advance(2)
    answered = centre.send(ev.OfferAnswered(CALL, "1001"))
    centre.clock.advance(30)
    ended = centre.send(ev.AgentLegHungUp(CALL, "1001"))

    assert topics_and_types(entered) == [
        ("acd/calls/1700000000.1", "call.entered"),
        ("acd/queues/general", "call.entered"),
        ("acd/agents/1001/state", "agent.state"),
        ("acd/calls/1700000000.1", "call.offered"),
        ("acd/queues/general", "call.offered"),
        ("acd/agents/1001/offer", "offer"),
    ]
    assert topics_and_types(answered) == [
        ("acd/calls/1700000000.1", "call.answered"),
        ("acd/queues/general", "call.answered"),
        ("acd/agents/1001/state", "agent.state"),
    ]
    assert topics_and_types(ended) == [
        ("acd/calls/1700000000.1", "call.ended"),
        ("acd/queues/general", "call.ended"),
        ("acd/agents/1001/state", "agent.state"),
    ]
    call = on(centre.messages, "acd/calls/1700000000.1")
    assert call == [
        {
            "v": 1,
            "type": "call.entered",
            "at": at(5),
            **call_fields(entered_at=at(5), priority=0, requested_queue="general"),
        },
        {
            "v": 1,
            "type": "call.offered",
            "at": at(5),
            **call_fields(agent="1001", ring_timeout=15.0, offer=1, wait_seconds=0.0),
        },
        {
            "v": 1,
            "type": "call.answered",
            "at": at(7),
            **call_fields(agent="1001", wait_seconds=2.0),
        },
        {
            "v": 1,
            "type": "call.ended",
            "at": at(37),
            **call_fields(
                disposition="answered",
                hangup_side="agent",
                agent="1001",
                entered_at=at(5),
                answered_at=at(7),
                wait_seconds=2.0,
                talk_seconds=30.0,
                offers=1,
            ),
        },
    ]
    # The wallboard's queue topic carries the same payloads as the call's own.
    assert on(centre.messages, "acd/queues/general") == call
    assert [(p["old"], p["new"]) for p in on(centre.messages, "acd/agents/1001/state")] == [
        ("logged-out", "ready"),
        ("ready", "reserved"),
        ("reserved", "on-call"),
        ("on-call", "wrap-up"),
    ]


def test_the_screen_pop_carries_the_whole_number_and_broadcasts_only_the_masked_one(
    centre: Centre,
) -> None:
    centre.ready("1001")
    centre.clock.advance(5)
    messages = centre.call()
    (pop,) = [m for m in messages if m.topic == "acd/agents/1001/offer"]
    assert pop.screen_pop and not pop.retain
    assert pop.payload == {
        "v": 1,
        "type": "offer",
        "at": at(5),
        "call_id": CALL,
        "caller": CALLER,
        "hotline": "home",
        "queue": "general",
        "kind": "inbound",
        "callback_number": None,
        "agent": "1001",
        "ring_timeout": 15.0,
        "wait_seconds": 0.0,
        "ivr_path": None,
        "ivr_choices": [],
        "history": None,
    }
    broadcast = [m.encode() for m in messages if m is not pop]
    assert all(CALLER.encode() not in body for body in broadcast)
    assert all(MASKED.encode() in body for body in broadcast if b'"call.' in body)


def test_completing_the_screen_pop_adds_the_ivr_path_choices_and_history() -> None:
    pop = Message("acd/agents/1001/offer", {"type": "offer", "call_id": CALL}, screen_pop=True)
    history = {"calls": 1, "history": [{"call_id": "1699.9", "agent": "1002", "survey_score": 2}]}
    done = complete_screen_pop(pop, "main/1/services/2", history)
    assert not done.screen_pop
    assert done.payload == {
        "type": "offer",
        "call_id": CALL,
        "ivr_path": "main/1/services/2",
        "ivr_choices": ["1", "2"],
        "history": history,
    }
    # What the database did not answer in time stays None.
    assert complete_screen_pop(pop, None, None).payload["history"] is None


def test_the_screen_pop_history_lists_earlier_calls_not_this_one() -> None:
    pop = Message("acd/agents/1001/offer", {"type": "offer", "call_id": CALL}, screen_pop=True)
    history = {
        "calls": 2,
        "history": [{"call_id": CALL, "disposition": "ivr"}, {"call_id": "1699.9"}],
    }
    done = complete_screen_pop(pop, "main/1", history)
    assert done.payload["history"] == {"calls": 2, "history": [{"call_id": "1699.9"}]}


def test_ivr_choices_are_the_keys_pressed_in_order() -> None:
    assert ivr_choices("main/timeout/main/1/services/*/main/2") == ["1", "*", "2"]
    assert ivr_choices(None) == []


def test_a_caller_who_hangs_up_while_waiting_is_abandoned_then_ended(centre: Centre) -> None:
    centre.call()
    centre.clock.advance(40)
    messages = centre.send(ev.CallerHungUp(CALL))
    assert topics_and_types(messages) == [
        ("acd/calls/1700000000.1", "call.abandoned"),
        ("acd/queues/general", "call.abandoned"),
        ("acd/calls/1700000000.1", "call.ended"),
        ("acd/queues/general", "call.ended"),
    ]
    abandoned, ended = on(messages, "acd/calls/1700000000.1")
    assert abandoned["wait_seconds"] == 40.0 and abandoned["ringing_agent"] is None
    assert (ended["disposition"], ended["hangup_side"]) == ("abandoned", "caller")


def test_an_unanswered_offer_puts_the_call_back_and_the_next_agent_gets_it(
    centre: Centre,
) -> None:
    centre.ready("1001")
    centre.call()
    centre.ready("1002")  # 1001 rings; 1002 is free meanwhile
    centre.clock.advance(15)
    messages = centre.send(ev.OfferFailed(CALL, "1001", "no-answer"))
    types = [p["type"] for p in on(messages, "acd/calls/1700000000.1")]
    assert types == ["call.requeued", "call.offered"]
    requeued, offered = on(messages, "acd/calls/1700000000.1")
    assert (requeued["agent"], requeued["reason"], requeued["wait_seconds"]) == (
        "1001",
        "no-answer",
        15.0,
    )
    assert (offered["agent"], offered["offer"]) == ("1002", 2)
    paused = on(messages, "acd/agents/1001/state")[-1]
    assert (paused["new"], paused["reason"]) == ("not-ready", "no-answer")
    assert on(messages, "acd/agents/1002/offer")


def test_a_call_moved_by_overflow_is_told_to_both_queues(config: Config) -> None:
    general = config.queue("general").model_copy(
        update={"expansion": [ExpansionStep(after_seconds=30, overflow="jobs")]}
    )
    queues = [general if q.name == "general" else q for q in config.queues]
    centre = Centre(config.model_copy(update={"queues": queues}))
    centre.call()
    messages = centre.wait(30)
    assert topics_and_types(messages) == [
        ("acd/calls/1700000000.1", "call.moved"),
        ("acd/queues/general", "call.moved"),
        ("acd/queues/jobs", "call.moved"),
    ]
    moved = messages[0].payload
    assert (moved["from_queue"], moved["queue"], moved["wait_seconds"]) == ("general", "jobs", 30.0)


def test_a_caller_let_go_at_max_wait_left_with_the_reason_then_ended(config: Config) -> None:
    general = config.queue("general").model_copy(
        update={
            "max_wait_seconds": 60,
            "on_timeout": QueueExit(goodbye_prompt="queue_timeout"),
            "expansion": [],
        }
    )
    queues = [general if q.name == "general" else q for q in config.queues]
    centre = Centre(config.model_copy(update={"queues": queues}))
    centre.call()
    messages = on(centre.wait(60), "acd/calls/1700000000.1")
    assert [m["type"] for m in messages] == ["call.left", "call.ended"]
    assert (messages[0]["reason"], messages[0]["goodbye_prompt"]) == ("timeout", "queue_timeout")
    assert (messages[1]["disposition"], messages[1]["hangup_side"]) == ("timeout", "system")


def test_a_dissatisfied_score_opens_a_review_naming_the_agent(centre: Centre) -> None:
    centre.ready("1001")
    centre.call()
    centre.send(ev.OfferAnswered(CALL, "1001"))
    centre.clock.advance(60)
    centre.send(ev.AgentLegHungUp(CALL, "1001"))
    # The seeds: a "dissatisfied" rating -> the team lead listens within 2 hours.
    score = SurveyScore(CALL, 1, 5, True, T0 + 70, review_due_at=T0 + 70 + 7200)
    messages = centre.mapper(ev.Tick(), [score], T0 + 70)
    assert topics_and_types(messages) == [
        ("acd/calls/1700000000.1", "call.rated"),
        ("acd/reviews", "review.due"),
    ]
    assert messages[1].payload == {
        "v": 1,
        "type": "review.due",
        "at": at(70),
        "call_id": CALL,
        "agent": "1001",
        "queue": "general",
        "score": 1,
        "scale": 5,
        "dissatisfied": True,
        "due_at": at(7270),
    }


def test_a_satisfied_score_is_only_a_rating() -> None:
    messages = MessageMapper()(ev.Tick(), [SurveyScore(CALL, 5, 5, False, T0)], T0)
    assert topics_and_types(messages) == [("acd/calls/1700000000.1", "call.rated")]


def test_rules_firing_and_clearing_are_retained_on_the_rule_topic() -> None:
    # The seeds: 8 callers waiting, sustained for 30 minutes -> stop callbacks, suspend breaks.
    fired = RuleChanged(
        "peak-8",
        "fired",
        "*",
        (("waiting", 8.0),),
        ("suspend-callbacks", "suspend-breaks"),
        T0 + 1800,
    )
    (message,) = MessageMapper("centre-1/acd")(ev.Tick(), [fired], T0 + 1800)
    assert message.topic == "centre-1/acd/rules/peak-8" and message.retain
    assert message.payload == {
        "v": 1,
        "type": "rule.fired",
        "at": at(1800),
        "rule": "peak-8",
        "state": "fired",
        "scope": "*",
        "metrics": {"waiting": 8.0},
        "actions": ["suspend-callbacks", "suspend-breaks"],
        "alerts": [],
    }
    cleared = RuleChanged("peak-8", "cleared", "*", (("waiting", 3.0),), (), T0 + 2000)
    (message,) = MessageMapper()(ev.Tick(), [cleared], T0 + 2000)
    assert message.payload["type"] == "rule.cleared"


def test_callback_attempts_broadcast_the_number_masked() -> None:
    attempt = CallbackAttempt(
        7, "cb7-1", CALLER, "general", "after-hours", "1001", 1, "no-answer", T0, T0 + 600
    )
    (message,) = MessageMapper()(ev.Tick(), [attempt], T0)
    assert message.topic == "acd/callbacks"
    assert message.payload["number"] == MASKED
    assert message.payload["retry_at"] == at(600)
    assert CALLER.encode() not in message.encode()


def test_agent_states_are_retained_and_calls_are_not(centre: Centre) -> None:
    centre.ready("1001")
    centre.call()
    for message in centre.messages:
        assert message.retain == message.topic.endswith("/state"), message.topic


def test_names_cannot_change_the_topic_they_are_put_in() -> None:
    assert level("a/b+c#d e") == "a_b_c_d_e"
    assert level("") == "_"


def test_payloads_are_json_with_the_version_type_and_utc_time(centre: Centre) -> None:
    centre.ready("1001")
    centre.call()
    for message in centre.messages:
        payload = json.loads(message.encode())
        assert payload["v"] == 1 and payload["type"]
        assert payload["at"].endswith("+00:00")


def test_an_agent_on_a_break_is_asked_back_on_their_own_topic() -> None:
    from acd.core.decisions import AgentRecalled

    recall = AgentRecalled("1002", "lunch", "peak-8", 0.0)
    (message,) = MessageMapper("acd")(ev.Tick(), [recall], 0.0)
    assert message.topic == "acd/agents/1002/recall"
    assert (message.payload["type"], message.payload["reason"], message.payload["rule"]) == (
        "agent.recalled",
        "lunch",
        "peak-8",
    )


def test_a_ring_timeout_expiring_during_another_callers_event_is_a_no_answer_everywhere(
    config: Config,
) -> None:
    """The core's own ring timer (ring timeout + grace) can expire while the core handles
    some other caller's event, not a Tick. The MQTT `call.requeued` and the timeline's
    `offer-failed` both come from the core's one OfferEnded fact, so they give one reason."""
    config = config.model_copy(
        update={
            "queues": [QueueConfig(name="general", skills={"housekeeping": 1}, ring_timeout=15)],
            "agents": [AgentConfig(number="1001", skills={"housekeeping": 1})],
            "rules": [],
        }
    )
    centre = Centre(config)
    timeline = Timeline(lambda: config)
    centre.ready("1001")
    centre.call()  # 1001 rings; Asterisk never reports the ring's end
    centre.clock.advance(config.queue("general").ring_timeout + RING_GRACE)
    # Another caller arrives: the core settles the expired ring while handling this event.
    other = ev.CallEntered("1700000000.2", "PJSIP/callers-2", CALLER, "home", "general", 0)
    messages = centre.send(other)
    event, decisions, now = centre.steps[-1]
    step = timeline.feed(event, decisions, now)

    [requeued] = [p for p in on(messages, f"acd/calls/{CALL}") if p["type"] == "call.requeued"]
    [failed] = [e for e in step.events if e.kind == "offer-failed" and e.call_id == CALL]
    assert dict(failed.data)["reason"] == requeued["reason"] == "no-answer"
