"""After a login, the line is rebuilt from Asterisk: phones' states, then the holding callers
in the order they entered, then one Resync naming every live channel."""

from __future__ import annotations

from acd.ami import FieldValue, Message
from acd.clock import ManualClock
from acd.core import events as ev
from acd.engine.resync import Resync


def chan(uid: str, context: str = "acd-hold", **more: str) -> Message:
    return Message(
        [
            ("Uniqueid", uid),
            ("Channel", f"PJSIP/trunk-{uid}"),
            ("Context", context),
            ("CallerIDNum", "138"),
            *more.items(),
        ]
    )


class Lister:
    """Asterisk's lists and each holding channel's variables."""

    def __init__(self, channels: list[Message], variables: dict[str, dict[str, str]]) -> None:
        self.channels = channels
        self.variables = variables
        self.on_channels: list[Message] = []

    async def action(self, name: str, /, **fields: FieldValue) -> Message:
        uid = str(fields["Channel"]).removeprefix("PJSIP/trunk-")
        return Message(
            [
                ("Response", "Success"),
                ("Value", self.variables[uid].get(str(fields["Variable"]), "")),
            ]
        )

    async def action_list(
        self, name: str, /, **fields: FieldValue
    ) -> tuple[Message, list[Message]]:
        if name == "PJSIPShowEndpoints":
            endpoints = [
                Message([("ObjectName", "1001"), ("DeviceState", "Not in use")]),
                Message([("ObjectName", "trunk"), ("DeviceState", "In use")]),
            ]
            return Message([("Response", "Success")]), endpoints
        return Message([("Response", "Success")]), self.channels


def resync(lister: Lister, known: set[str]) -> tuple[Resync, list[ev.Event]]:
    out: list[ev.Event] = []
    clock = ManualClock(1_700_000_100.0)
    return Resync(
        lambda: lister, clock, out.append, known.__contains__, lambda: ("1001", "1002")
    ), out


async def test_holding_callers_come_back_in_the_order_they_entered() -> None:
    lister = Lister(
        [
            chan("late"),
            chan("early"),
            chan("talking", BridgeId="b1"),  # pulled into its agent's bridge: not waiting
            chan("known"),  # the core still has it
            chan("ivr", context="acd-ivr"),
        ],
        {
            "late": {"ACD_QUEUE": "repairs", "ACD_ENTERED": "1700000050", "ACD_PRIORITY": "2"},
            "early": {"ACD_QUEUE": "billing", "ACD_ENTERED": "1700000010", "ACD_HOTLINE": "home"},
        },
    )
    sync, out = resync(lister, known={"known"})
    await sync.run()
    assert out[0] == ev.DeviceState("1001", "NOT_INUSE")  # only the core's agents
    entered = [e for e in out if isinstance(e, ev.CallEntered)]
    assert [(e.call_id, e.queue, e.entered_at, e.priority) for e in entered] == [
        ("early", "billing", 1_700_000_010.0, 0),
        ("late", "repairs", 1_700_000_050.0, 2),
    ]
    assert out[-1] == ev.Resync(frozenset({"late", "early", "talking", "known", "ivr"}))
    assert len(out) == 4 and sync.entered_during is None


async def test_a_lost_link_makes_every_phone_unknown_until_the_next_resync() -> None:
    sync, out = resync(Lister([], {}), known=set())
    sync.blind()
    assert out == [ev.DeviceState("1001", "UNKNOWN"), ev.DeviceState("1002", "UNKNOWN")]
