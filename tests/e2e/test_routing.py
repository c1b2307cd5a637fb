"""Skill-based routing with real phones: who gets which call, and when (issue: routing)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from tests.e2e.conftest import AsteriskLog, EngineProcess, eventually
from tests.e2e.sipp.agent import SippAgent
from tests.e2e.sipp.calls import place_call
from tests.e2e.test_first_call import password, record_of

pytestmark = pytest.mark.e2e


async def registered(engine: EngineProcess, *agents: str) -> None:
    await eventually(lambda: all(engine.agent(a)["device"] == "NOT_INUSE" for a in agents))


def when(row: dict[str, Any], field: str) -> datetime:
    return datetime.fromisoformat(row[field])


async def test_calls_for_a_skill_reach_only_agents_with_it(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    engine.cli("agent", "login", "1003")  # repairs 5; 1001 has housekeeping only
    async with (
        SippAgent("1001", password(secrets, "1001"), answer_delay_ms=300, talk_ms=1000) as home,
        SippAgent("1003", password(secrets, "1003"), answer_delay_ms=300, talk_ms=1000) as fixer,
    ):
        await registered(engine, "1001", "1003")
        repairs, general = "13800138101", "13800138102"
        results = await asyncio.gather(
            place_call("100", repairs, dtmf="2", max_ms=20000),
            place_call("100", general, dtmf="1", pre_dtmf_ms=1200, max_ms=20000),
        )
        assert all(r.ended_by == "remote" for r in results), [r.run.describe() for r in results]
        assert fixer.offered_callers() == [repairs]
        assert home.offered_callers() == [general]
    assert (await eventually(lambda: record_of(engine, repairs)))["queue"] == "repairs"


async def test_expansion_lets_another_skill_take_the_call_after_the_wait(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    caller = "13800138103"
    # No repairs agent is on; after 4 s the repairs queue also accepts housekeeping agents.
    async with SippAgent(
        "1001", password(secrets, "1001"), answer_delay_ms=300, talk_ms=1000
    ) as home:
        await registered(engine, "1001")
        call = await place_call("100", caller, dtmf="2", max_ms=30000)
        assert call.ended_by == "remote", call.run.describe()
        assert home.offered_callers() == [caller]
    row = await eventually(lambda: record_of(engine, caller))
    assert (row["queue"], row["agent"]) == ("repairs", "1001")
    assert 4.0 <= row["wait_seconds"] <= 7.0, row


async def test_a_priority_caller_overtakes_and_wrap_up_delays_the_next_offer(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    first, vip = "13800138104", "13800138105"
    engine.cli("agent", "pause", "1001", "--reason", "meeting")
    async with SippAgent(
        "1001", password(secrets, "1001"), answer_delay_ms=300, talk_ms=1500
    ) as agent:
        await registered(engine, "1001")
        normal_call = asyncio.create_task(place_call("100", first, dtmf="1", max_ms=40000))
        await eventually(lambda: any(q["waiting"] for q in engine.status()["queues"]))
        vip_call = asyncio.create_task(place_call("100", vip, dtmf="0", max_ms=40000))
        await eventually(lambda: sum(len(q["waiting"]) for q in engine.status()["queues"]) == 2)
        engine.cli("agent", "ready", "1001")
        results = await asyncio.gather(normal_call, vip_call)
        assert all(r.ended_by == "remote" for r in results), [r.run.describe() for r in results]
        # Priority 5 (key 0) first, though the other caller waited longer.
        assert agent.offered_callers() == [vip, first]
    vip_row = await eventually(lambda: record_of(engine, vip))
    first_row = await eventually(lambda: record_of(engine, first))
    gap = (when(first_row, "answered_at") - when(vip_row, "ended_at")).total_seconds()
    assert gap >= 2.0, (vip_row, first_row)  # the general queue's 2 s wrap-up


async def test_an_unregistered_phone_is_never_rung(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    caller = "13800138106"
    # 1001 is ready and the better match, but its phone is not registered.
    assert engine.agent("1001")["state"] == "ready"
    async with SippAgent(
        "1002", password(secrets, "1002"), answer_delay_ms=300, talk_ms=1000
    ) as other:
        await registered(engine, "1002")
        assert engine.agent("1001")["device"] == "UNAVAILABLE"
        call = await place_call("100", caller, dtmf="1", max_ms=20000)
        assert call.ended_by == "remote", call.run.describe()
        assert other.offered_callers() == [caller]
    row = await eventually(lambda: record_of(engine, caller))
    assert (row["agent"], row["offers"]) == ("1002", 1)


async def test_waiting_callers_hear_position_and_expected_wait(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    caller = "13800138107"
    log = AsteriskLog()
    # Nobody takes jobs calls; the queue announces every 6 s. One announcement (callers
    # ahead, then expected minutes) takes about 7 s, so the 12 s one is skipped, not cut in.
    call = await place_call("100", caller, dtmf="3", hangup_after_ms=16000, max_ms=22000)
    assert call.ended_by == "local", call.run.describe()
    new = log.new()
    announced = [
        line for line in new.splitlines() if "SayNumber" in line and "acd-announce" in line
    ]
    assert len(announced) == 2, new[-3000:]
    assert '"0")' in announced[0]  # nobody ahead
    # After the announcement the caller is back on hold, with music.
    tail = new[new.index(announced[-1]) :]
    assert "Goto (acd-hold,s," in tail and "WaitExten(" in tail, tail[-2000:]
    assert "Started music on hold" in tail.split("WaitExten(", 1)[1], tail[-2000:]
    row = await eventually(lambda: record_of(engine, caller))
    assert (row["queue"], row["disposition"], row["hangup_side"]) == ("jobs", "abandoned", "caller")


async def test_max_wait_lets_the_caller_go_with_a_message(engine: EngineProcess) -> None:
    caller = "13800138108"
    # No phone is registered: nobody can take the repairs call within its 12 s.
    call = await place_call("100", caller, dtmf="2", max_ms=40000)
    assert call.ended_by == "remote", call.run.describe()  # the system hung up
    row = await eventually(lambda: record_of(engine, caller))
    assert (row["queue"], row["disposition"], row["hangup_side"]) == (
        "repairs",
        "timeout",
        "system",
    )
    assert 11.5 <= row["wait_seconds"] <= 14.0, row
