"""The control socket's requests: agent actions by `agents.commands`' one policy (the operator
at the socket may act on anyone), what is wrong with a request answered, never raised."""

from __future__ import annotations

from typing import Any

import pytest

from acd.config.models import Config
from acd.core import events as ev
from acd.engine.control import Control


class Asked:
    """What reached the consumer and the supervisor's phone; the core refuses `refusal`."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self.supervised: list[tuple[str, str, str]] = []
        self.refusal: str | None = None

    async def command(self, event: ev.Event) -> str | None:
        self.events.append(event)
        return self.refusal

    async def supervise(self, mode: str, agent: str, supervisor: str) -> None:
        if agent == "1002":
            raise ValueError("agent 1002 is not on a call")
        self.supervised.append((mode, agent, supervisor))


@pytest.fixture
def asked() -> Asked:
    return Asked()


@pytest.fixture
def control(config: Config, asked: Asked) -> Control:
    return Control(
        lambda: config,
        lambda: {"waiting": 0},
        asked.command,
        lambda agent: "ready",
        asked.supervise,
    )


async def agent(control: Control, action: str, **more: Any) -> dict[str, Any]:
    return await control({"cmd": "agent", "action": action, "agent": "1001", **more})


async def test_an_agent_action_reaches_the_core_as_its_event(
    control: Control, asked: Asked
) -> None:
    assert await agent(control, "pause", reason="lunch") == {
        "ok": True,
        "agent": "1001",
        "state": "ready",
    }
    assert await agent(control, "pause") == {"ok": True, "agent": "1001", "state": "ready"}
    assert (await agent(control, "move", queues=["billing"]))["ok"]
    assert asked.events == [
        ev.AgentPause("1001", "lunch"),
        ev.AgentPause("1001", "break"),
        ev.SetQueues("1001", ("billing",)),
    ]


async def test_a_wrong_request_is_answered_before_the_core_sees_it(
    control: Control, asked: Asked
) -> None:
    assert (await agent(control, "dance"))["ok"] is False
    assert (await agent(control, "pause", reason="nap"))["error"].startswith("pause reason")
    assert (await agent(control, "move", queues=["nowhere"]))["error"] == "no queue nowhere"
    missing = await control({"cmd": "agent", "action": "login", "agent": "9999"})
    assert missing == {"ok": False, "error": "no agent 9999"}
    assert asked.events == []


async def test_what_the_core_refuses_is_answered_with_its_reason(
    control: Control, asked: Asked
) -> None:
    asked.refusal = "breaks are suspended"
    assert await agent(control, "pause") == {"ok": False, "error": "breaks are suspended"}


async def test_supervision_by_a_supervisor_only_and_of_an_agent_on_a_call(
    control: Control, asked: Asked
) -> None:
    ok = await control(
        {"cmd": "supervise", "mode": "listen", "agent": "1001", "supervisor": "1090"}
    )
    assert ok == {"ok": True, "mode": "listen", "agent": "1001"}
    assert asked.supervised == [("listen", "1001", "1090")]
    not_one = await control(
        {"cmd": "supervise", "mode": "listen", "agent": "1001", "supervisor": "1002"}
    )
    assert not_one == {"ok": False, "error": "1002 is not a supervisor"}
    odd = await control({"cmd": "supervise", "mode": "sing", "agent": "1001", "supervisor": "1090"})
    assert odd["ok"] is False
    idle = await control(
        {"cmd": "supervise", "mode": "barge", "agent": "1002", "supervisor": "1090"}
    )
    assert idle == {"ok": False, "error": "agent 1002 is not on a call"}


async def test_status_and_unknown_commands(control: Control) -> None:
    assert await control({"cmd": "status"}) == {"ok": True, "status": {"waiting": 0}}
    assert await control({"cmd": "reboot"}) == {"ok": False, "error": "unknown command 'reboot'"}
