"""Agents drive their own state from the softphone: *41 login (work number and PIN), *43
pause with a reason key, *44 ready, *42 logout."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import EngineProcess, eventually
from tests.e2e.sipp.agent import SippAgent
from tests.e2e.sipp.calls import agent_dial, place_call
from tests.e2e.test_first_call import password

pytestmark = pytest.mark.e2e


def state(engine: EngineProcess, agent: str) -> tuple[str, str | None]:
    found = engine.agent(agent)
    return found["state"], found["reason"]


async def dial(secrets: dict[str, Any], agent: str, code: str, dtmf: str | None = None) -> None:
    result = await agent_dial(agent, password(secrets, agent), code, dtmf=dtmf, max_ms=20000)
    assert result.answered and result.ended_by == "remote", result.run.describe()


async def test_login_pause_ready_and_logout_from_the_phone(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    agent, pin = "1003", secrets["pins"]["1003"]
    async with SippAgent(agent, password(secrets, agent), answer_delay_ms=300, talk_ms=1000):
        assert state(engine, agent) == ("logged-out", None)
        await dial(secrets, agent, "*41", f"{agent}#{pin}#")
        await eventually(lambda: state(engine, agent) == ("ready", None))
        await dial(secrets, agent, "*432")  # reason key 2: lunch
        await eventually(lambda: state(engine, agent) == ("not-ready", "lunch"))
        # A paused agent is not offered a repairs call (it waits, then the caller leaves).
        caller = "13800138201"
        call = await place_call("100", caller, dtmf="2", hangup_after_ms=2500, max_ms=10000)
        assert call.ended_by == "local"
        await dial(secrets, agent, "*44")
        await eventually(lambda: state(engine, agent) == ("ready", None))
        await dial(secrets, agent, "*42")
        await eventually(lambda: state(engine, agent) == ("logged-out", None))


async def test_a_wrong_pin_does_not_log_in(engine: EngineProcess, secrets: dict[str, Any]) -> None:
    agent = "1003"
    wrong = "000000" if secrets["pins"][agent] != "000000" else "111111"
    await dial(secrets, agent, "*41", f"{agent}#{wrong}#")
    assert "wrong PIN" in await eventually(lambda: "wrong PIN" in engine.log() and engine.log())
    assert state(engine, agent) == ("logged-out", None)
