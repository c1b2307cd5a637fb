"""What reaches the engine from AMI is the caller's network's doing: the mapping to core events
must take any of it without raising, and never pass on what would poison later actions."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd.ami import Message, encode_action
from acd.core import events as ev
from acd.engine import Engine
from acd.settings import Paths
from tests.unit.site import centre_config


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    paths = Paths(
        tmp_path,
        tmp_path / "secrets.json",
        tmp_path / "acd.sock",
        f"sqlite+aiosqlite:///{tmp_path}/a.db",
    )
    return Engine(centre_config(), paths)


def enqueued(caller: str, queue: str = "general") -> Message:
    return Message(
        [
            ("Event", "UserEvent"),
            ("Channel", "PJSIP/trunk-00000001"),
            ("CallerIDNum", caller),
            ("Uniqueid", "1700000000.1"),
            ("ChanVariable", f"ACD_QUEUE={queue}"),
            ("ChanVariable", "ACD_PRIORITY=x"),
            ("ChanVariable", "ACD_HOTLINE=home"),
            ("UserEvent", "AcdEnqueued"),
        ]
    )


async def test_a_caller_number_with_control_characters_enters_without_them(engine: Engine) -> None:
    engine._on_ami_event(enqueued("138\r0013\x008000"))
    entered = engine.queue.get_nowait()
    assert isinstance(entered, ev.CallEntered)
    assert entered.caller == "13800138000"
    assert entered.priority == 0  # a junk ACD_PRIORITY is no priority, not an error
    # So the Originate that offers the call can be encoded (a CR would be refused).
    encode_action("Originate", "1", {"CallerID": f'"{entered.caller}" <{entered.caller}>'})


async def test_an_enqueue_without_a_queue_is_logged_without_the_callers_number(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="acd.engine")
    engine._on_ami_event(enqueued("13800138000", queue=""))
    assert engine.queue.empty()
    assert "AcdEnqueued without channel or queue" in caplog.text
    assert "13800138000" not in caplog.text


async def test_a_dtmf_flood_on_unknown_legs_costs_nothing(engine: Engine) -> None:
    for n in range(5_000):
        engine._on_ami_event(
            Message(
                [
                    ("Event", "DTMFEnd"),
                    ("Uniqueid", f"acd-{n % 7}"),
                    ("Digit", "0123456789*#"[n % 12]),
                    ("Direction", "Received"),
                ]
            )
        )
    assert engine.queue.empty() and not engine._tasks


_names = st.sampled_from(
    [
        "UserEvent",
        "Newchannel",
        "Hangup",
        "OriginateResponse",
        "DeviceStateChange",
        "DTMFEnd",
        "VarSet",
    ]
)
_keys = st.sampled_from(
    [
        "Uniqueid",
        "Channel",
        "CallerIDNum",
        "UserEvent",
        "ChanVariable",
        "Device",
        "State",
        "Digit",
        "Direction",
        "Response",
        "Reason",
        "CallId",
        "Status",
    ]
)
_values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["AcdEnqueued", "ACD_QUEUE=general", "PJSIP/1001", "Received", "Success"]),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    events=st.lists(st.tuples(_names, st.lists(st.tuples(_keys, _values), max_size=8)), max_size=20)
)
async def test_any_event_shape_maps_or_is_ignored_without_raising(
    engine: Engine, events: list[tuple[str, list[tuple[str, str]]]]
) -> None:
    for name, pairs in events:
        engine._on_ami_event(Message([("Event", name), *pairs]))
    while not engine.queue.empty():
        item = engine.queue.get_nowait()
        assert isinstance(item, ev.CallEntered | ev.CallerHungUp | ev.DeviceState | ev.Event)


class ListingAmi:
    """Stands in for the AMI client in a resync: a caller enters while Asterisk lists channels."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def action_list(self, name: str) -> tuple[Message, list[Message]]:
        if name == "CoreShowChannels":
            # The live event for a call entering now arrives before the list's reply.
            self.engine._on_ami_event(enqueued("13800138000"))
        return Message([("Response", "Success")]), []


async def test_a_call_entering_during_a_resync_is_not_taken_for_gone(engine: Engine) -> None:
    engine.ami = ListingAmi(engine)  # type: ignore[assignment]
    await engine._resync()
    entered, resync = engine.queue.get_nowait(), engine.queue.get_nowait()
    assert isinstance(entered, ev.CallEntered) and isinstance(resync, ev.Resync)
    assert entered.call_id in resync.live_calls
    engine.core.handle(entered, 1_700_000_000.0)
    engine.core.handle(resync, 1_700_000_000.0)
    assert entered.call_id in engine.core.calls  # still waiting, not hung up by the resync
    # And the bookkeeping ends with the resync: later calls are not remembered forever.
    engine._on_ami_event(enqueued("13800138000"))
    assert engine.resync.entered_during is None


async def test_the_consumer_stops_when_cancelled_even_with_a_busy_queue(engine: Engine) -> None:
    """Shutdown cancels the consumer while events keep arriving; the cancel must never be lost
    (asyncio.wait_for on Python 3.11 drops one that lands as its get completes)."""
    # A waiting call gives the core a deadline, so the consumer waits with a timeout.
    engine.core.handle(ev.CallEntered("c1", "PJSIP/t-1", "1", "home", "general"), time.time())
    assert engine.core.next_deadline() is not None
    for attempt in range(30):
        for _ in range(200):
            engine.queue.put_nowait(ev.Tick())
        consumer = asyncio.create_task(engine._consume())
        for _ in range(attempt % 7):
            await asyncio.sleep(0)
        consumer.cancel()
        done, _ = await asyncio.wait({consumer}, timeout=5)  # waits, never cancels again
        assert consumer in done, f"attempt {attempt}: the cancel was lost"
        assert consumer.cancelled()
