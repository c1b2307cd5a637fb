"""Routing AMI frames to the actions waiting for them, without a socket."""

from __future__ import annotations

import logging

import pytest

from acd.ami import AmiDisconnected, Message
from acd.ami.inflight import InFlight

LOG = logging.getLogger("acd.ami.test")


def frame(**fields: str) -> Message:
    return Message(fields.items())


class Events:
    def __init__(self) -> None:
        self.seen: list[Message] = []

    def __call__(self, msg: Message) -> None:
        self.seen.append(msg)


async def test_a_response_resolves_its_action_only() -> None:
    events = Events()
    inflight = InFlight(events, LOG)
    first, first_future = inflight.open(collect=False)
    _, second_future = inflight.open(collect=False)
    reply = frame(Response="Success", ActionID=first)

    inflight.dispatch(reply)

    assert first_future.result() == (reply, [])
    assert not second_future.done()
    assert events.seen == []


async def test_an_event_carrying_an_actions_id_is_still_an_event() -> None:
    # OriginateResponse has Event, Response and the Originate's ActionID.
    events = Events()
    inflight = InFlight(events, LOG)
    action_id, future = inflight.open(collect=False)
    originate = frame(Event="OriginateResponse", Response="Failure", ActionID=action_id)

    inflight.dispatch(originate)

    assert events.seen == [originate]
    assert not future.done()


async def test_a_list_collects_its_items_until_complete_without_the_terminator() -> None:
    events = Events()
    inflight = InFlight(events, LOG)
    action_id, future = inflight.open(collect=True)
    start = frame(Response="Success", EventList="start", ActionID=action_id)
    item = frame(Event="QueueMember", ActionID=action_id)

    inflight.dispatch(start)
    inflight.dispatch(item)
    assert not future.done()
    inflight.dispatch(frame(Event="QueueStatusComplete", EventList="Complete", ActionID=action_id))

    assert future.result() == (start, [item])
    assert events.seen == []


async def test_a_repeated_action_id_does_not_end_a_list_early() -> None:
    inflight = InFlight(Events(), LOG)
    action_id, future = inflight.open(collect=True)
    inflight.dispatch(frame(Response="Success", EventList="start", ActionID=action_id))
    inflight.dispatch(frame(Response="Success", ActionID=action_id))

    assert not future.done()


async def test_a_list_action_answered_without_a_list_resolves_at_once() -> None:
    inflight = InFlight(Events(), LOG)
    action_id, future = inflight.open(collect=True)
    reply = frame(Response="Success", ActionID=action_id)

    inflight.dispatch(reply)

    assert future.result() == (reply, [])


async def test_stragglers_after_a_closed_list_pass_on_as_events() -> None:
    events = Events()
    inflight = InFlight(events, LOG)
    action_id, _ = inflight.open(collect=True)
    inflight.close(action_id)
    late = frame(Event="QueueMember", ActionID=action_id)

    inflight.dispatch(late)

    assert events.seen == [late]


async def test_fail_all_fails_every_waiter_with_a_disconnect() -> None:
    inflight = InFlight(Events(), LOG)
    _, first = inflight.open(collect=False)
    _, second = inflight.open(collect=True)

    inflight.fail_all("link lost")

    for future in (first, second):
        with pytest.raises(AmiDisconnected, match="link lost"):
            future.result()


async def test_a_failing_event_callback_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(msg: Message) -> None:
        raise RuntimeError("bug in a consumer")

    inflight = InFlight(broken, LOG)

    inflight.dispatch(frame(Event="Newchannel"))

    assert "on_event callback failed for Newchannel" in caplog.text


async def test_action_ids_never_repeat() -> None:
    inflight = InFlight(Events(), LOG)
    ids = [inflight.open(collect=False)[0] for _ in range(100)]
    assert len(set(ids)) == 100


def test_a_frame_that_is_neither_event_nor_response_is_logged_by_its_keys_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Whatever Asterisk sends may carry a caller's number: the debug line names the keys."""
    inflight = InFlight(Events(), LOG)
    with caplog.at_level(logging.DEBUG, logger=LOG.name):
        inflight.dispatch(frame(CallerIDNum="13800138000", Channel="PJSIP/trunk-1"))
    [line] = [r.getMessage() for r in caplog.records]
    assert "CallerIDNum" in line and "13800138000" not in line
