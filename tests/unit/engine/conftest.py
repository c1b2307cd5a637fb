"""A small site and a recording stand-in for Asterisk, for the engine's pieces: no Engine,
no socket, no shipped dialplans/ (an ops edit there cannot break what these tests check)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from acd.ami import AmiError, FieldValue, Message
from acd.clock import ManualClock
from acd.config.models import Config
from acd.core import events as ev
from acd.core.entities import CallStatus
from acd.engine.effects import Effector
from acd.engine.translator import Translator
from acd.records.items import Record
from recordings.live import Recorder
from tests.unit.site import desk_site

PROMPTS = ("menu", "hello", "bye")


@pytest.fixture
def config() -> Config:
    """One English hotline in front of two queues, two agents and a supervisor; every call
    recorded."""
    return desk_site(PROMPTS, language="en")


class FakeAmi:
    """Records every action in the order Asterisk would receive it. An action can be made
    slow (`hold(name)`: it waits until `release(name)`) or refused (`refuse(name)`)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, FieldValue]]] = []
        self.values: dict[tuple[str, str], str] = {}  # (channel, variable) -> Getvar's Value
        self._gates: dict[str, asyncio.Event] = {}
        self._refused: set[str] = set()

    def hold(self, name: str) -> None:
        self._gates[name] = asyncio.Event()

    def release(self, name: str) -> None:
        self._gates.pop(name).set()

    def refuse(self, name: str) -> None:
        self._refused.add(name)

    async def action(self, name: str, /, **fields: FieldValue) -> Message:
        self.sent.append((name, fields))
        gate = self._gates.get(name)
        if gate is not None:
            await gate.wait()
        if name in self._refused:
            raise AmiError(Message([("Response", "Error"), ("Message", "refused")]))
        value = self.values.get((str(fields.get("Channel")), str(fields.get("Variable"))), "")
        return Message([("Response", "Success"), ("Value", value)])

    def names(self, channel: str | None = None) -> list[str]:
        """The actions sent, each as `Name` or `Name:context/variable`, for one channel."""
        out = []
        for name, fields in self.sent:
            if channel is not None and fields.get("Channel") != channel:
                continue
            detail = fields.get("Context") or fields.get("Variable") if name != "Originate" else ""
            out.append(f"{name}:{detail}" if detail else name)
        return out


class World:
    """The translator and the effector as the engine joins them, around a fake Asterisk."""

    def __init__(self, config: Config) -> None:
        self.clock = ManualClock()
        self.ami = FakeAmi()
        self.calls: dict[str, CallStatus] = {}
        self.put: list[ev.Event] = []
        self.records: list[Record] = []
        self.recorder = Recorder(config)
        self.translator = Translator(
            self.recorder,
            self.clock,
            knows_call=lambda call_id: call_id in self.calls,
            knows_agent=lambda agent: agent in ("1001", "1002"),
        )
        self.effector = Effector(
            lambda: self.ami,
            lambda: config,
            self.clock,
            self.translator,
            self.recorder,
            status_of=self.calls.get,
            put=self.put.append,
            record=self.records.append,
        )

    async def settle(self) -> None:
        """Until every effect started so far is done."""
        while self.effector.lanes.tasks:
            await asyncio.wait(set(self.effector.lanes.tasks))


@pytest.fixture
def world(config: Config) -> World:
    return World(config)


def msg(*pairs: tuple[str, str], **headers: Any) -> Message:
    return Message([*pairs, *((k, str(v)) for k, v in headers.items())])
