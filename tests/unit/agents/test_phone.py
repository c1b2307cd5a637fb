"""Feature codes from the agents' own phones: the phone is the identity, `agents.commands`
the policy, and the agent hears whether it worked."""

from __future__ import annotations

from typing import Any, cast

import pytest

from acd.agi import AgiSession
from acd.agi.environment import AgiRequest
from acd.config.models import Config
from acd.core import events as ev
from acd.prompts import sound_name
from agents.phone import make_phone_handler

PINS = {"1001": "4321", "1090": "9999"}


class FakeSession:
    """What the handler asks of an AGI session, answered from a script of keyed digits."""

    def __init__(self, phone: str, action: str, keyed: list[str], **params: str) -> None:
        env = {"agi_channel": f"PJSIP/{phone}-0000002a"}
        self.request = AgiRequest(
            env=env, script="agent", params={"action": action, **params}, args=[]
        )
        self.keyed = list(keyed)
        self.heard: list[str] = []
        self.executed: list[tuple[str, str]] = []

    async def answer(self) -> None:
        pass

    async def get_data(self, sound: str, timeout_ms: int, max_digits: int) -> tuple[str, bool]:
        self.heard.append(sound)
        return self.keyed.pop(0), False

    async def stream_file(self, sound: str) -> None:
        self.heard.append(sound)

    async def exec(self, app: str, args: str = "") -> None:
        self.executed.append((app, args))


class Phones:
    """The handler wired to a core stand-in that accepts everything and keeps it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.submitted: list[ev.Event] = []
        self.handler = make_phone_handler(
            lambda: config, lambda: dict(PINS), self.submit, self.spy_channel
        )

    async def submit(self, event: ev.Event) -> str | None:
        self.submitted.append(event)
        return None

    def spy_channel(self, supervisor: str, agent: str) -> str:
        if agent != "1001":
            raise ValueError(f"agent {agent} is not on a call")
        return "PJSIP/1001-00000001"

    async def dial(self, phone: str, action: str, *keyed: str, **params: str) -> FakeSession:
        session = FakeSession(phone, action, list(keyed), **params)
        await self.handler(cast(AgiSession, cast(Any, session)))
        return session

    def outcome(self, session: FakeSession) -> str:
        done = sound_name(self.config, "agent_done", self.config.centre.language)
        failed = sound_name(self.config, "agent_failed", self.config.centre.language)
        return {done: "done", failed: "failed"}[session.heard[-1]]


@pytest.fixture
def phones(config: Config) -> Phones:
    return Phones(config)


async def test_login_needs_the_phones_own_number_and_its_pin(phones: Phones) -> None:
    assert phones.outcome(await phones.dial("1001", "login", "1001", "4321")) == "done"
    assert phones.submitted == [ev.AgentLogin("1001")]
    assert phones.outcome(await phones.dial("1001", "login", "1002", "4321")) == "failed"
    assert phones.outcome(await phones.dial("1001", "login", "1001", "0000")) == "failed"
    assert phones.outcome(await phones.dial("1002", "login", "1002", "")) == "failed"  # no PIN set
    assert phones.submitted == [ev.AgentLogin("1001")]


async def test_a_pause_key_names_the_sites_reason(phones: Phones) -> None:
    await phones.dial("1001", "pause", reason="5")
    await phones.dial("1001", "pause")
    assert phones.submitted == [ev.AgentPause("1001", "coaching"), ev.AgentPause("1001", "break")]
    assert phones.outcome(await phones.dial("1001", "pause", reason="7")) == "failed"
    assert len(phones.submitted) == 2


async def test_a_phone_of_no_agent_or_an_unknown_code_does_nothing(phones: Phones) -> None:
    assert phones.outcome(await phones.dial("2001", "ready")) == "failed"
    assert phones.outcome(await phones.dial("1001", "dance")) == "failed"
    assert phones.submitted == []


async def test_only_a_supervisors_phone_joins_the_queues(phones: Phones) -> None:
    assert phones.outcome(await phones.dial("1001", "join")) == "failed"
    assert phones.outcome(await phones.dial("1090", "join")) == "done"
    assert phones.submitted == [ev.TakeCalls("1090", True)]


async def test_a_supervisor_whispers_to_an_agent_on_a_call(phones: Phones) -> None:
    session = await phones.dial("1090", "whisper", agent="1001")
    assert session.executed == [("ChanSpy", "PJSIP/1001-00000001,qEw")]
    idle = await phones.dial("1090", "listen", agent="1002")
    assert (idle.executed, phones.outcome(idle)) == ([], "failed")
    by_an_agent = await phones.dial("1002", "barge", agent="1001")
    assert (by_an_agent.executed, phones.outcome(by_an_agent)) == ([], "failed")
