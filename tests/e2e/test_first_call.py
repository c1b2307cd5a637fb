"""The hotline's first calls, placed for real: SIPp callers into the lab Asterisk, RFC 2833 DTMF
into our IVR, SIPp agents registered with digest auth, records read back from SQLite."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import EngineProcess, eventually
from tests.e2e.sipp.agent import SippAgent
from tests.e2e.sipp.calls import place_call

pytestmark = pytest.mark.e2e


def record_of(engine: EngineProcess, caller: str) -> dict[str, Any] | None:
    for row in engine.calls():
        if row["caller"] == caller and row["ended_at"]:
            return row
    return None


def password(secrets: dict[str, Any], agent: str) -> str:
    return str(secrets["agents"][agent])


async def test_caller_presses_1_waits_and_talks_to_the_agent(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    caller = "13800138001"
    async with SippAgent(
        "1001", password(secrets, "1001"), answer_delay_ms=1500, talk_ms=3000
    ) as agent:
        await eventually(lambda: engine.agent("1001")["device"] == "NOT_INUSE")
        call = await place_call("100", caller, dtmf="1", pre_dtmf_ms=1500, max_ms=30000)
        assert call.answered and call.dtmf_sent
        assert call.ended_by == "remote", call.run.describe()  # the agent hung up first
        # The agent's phone showed the caller's number.
        assert agent.offered_callers() == [caller]
        assert agent.answered_count() == 1
    row = await eventually(lambda: record_of(engine, caller))
    assert row["hotline"] == "home"
    assert row["queue"] == "general"
    assert row["agent"] == "1001"
    assert row["disposition"] == "answered"
    assert row["hangup_side"] == "agent"
    assert row["offers"] == 1
    # Ringing 1.5 s before the answer, plus the moment it takes to originate.
    assert 1.4 <= row["wait_seconds"] <= 4.0, row
    assert 2.5 <= row["talk_seconds"] <= 4.5, row


async def test_caller_hanging_up_while_waiting_is_abandoned(engine: EngineProcess) -> None:
    caller = "13800138002"
    # No agent phone is registered: the caller waits with music, then gives up.
    call = await place_call("100", caller, dtmf="1", pre_dtmf_ms=1000, hangup_after_ms=5000)
    assert call.answered and call.ended_by == "local"
    row = await eventually(lambda: record_of(engine, caller))
    assert row["disposition"] == "abandoned"
    assert row["hangup_side"] == "caller"
    assert row["agent"] is None
    assert 2.0 <= row["wait_seconds"] <= 5.0, row  # after the short "recorded" notice
    assert row["talk_seconds"] is None


async def test_agent_not_answering_loses_the_call_to_another_ready_agent(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    caller = "13800138003"
    # 1001 has the higher housekeeping skill, so it is offered first, and never answers.
    async with (
        SippAgent("1001", password(secrets, "1001"), never_answer=True) as sleepy,
        SippAgent("1002", password(secrets, "1002"), answer_delay_ms=500, talk_ms=2000) as awake,
    ):
        await eventually(
            lambda: all(engine.agent(a)["device"] == "NOT_INUSE" for a in ("1001", "1002"))
        )
        call = await place_call("100", caller, dtmf="1", pre_dtmf_ms=1000, max_ms=40000)
        assert call.ended_by == "remote", call.run.describe()
        assert sleepy.offered_callers() == [caller]
        assert awake.offered_callers() == [caller]
        paused = engine.agent("1001")
        assert (paused["state"], paused["reason"]) == ("not-ready", "no-answer")
    row = await eventually(lambda: record_of(engine, caller))
    assert (row["agent"], row["offers"], row["disposition"]) == ("1002", 2, "answered")
    # Five seconds of ring timeout on the first agent are part of the wait.
    assert 5.0 <= row["wait_seconds"] <= 9.0, row


async def test_status_lists_queues_and_agents(engine: EngineProcess) -> None:
    status = engine.status()
    assert {q["name"] for q in status["queues"]} == {"general", "repairs", "jobs"}
    states = {a["number"]: a["state"] for a in status["agents"]}
    assert states["1001"] == "ready" and states["1003"] == "logged-out"
