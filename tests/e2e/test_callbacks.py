"""Callbacks with real phones: a caller who presses 1 while waiting is called back in turn,
with an agent on the line first; scheduled callbacks go out only in business hours, and the
cap on agents doing callbacks holds (issue: queue-depth rules and callbacks)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from tests.e2e.conftest import EngineProcess, eventually
from tests.e2e.sipp.agent import SippAgent
from tests.e2e.sipp.calls import place_call
from tests.e2e.test_first_call import password, record_of
from tests.e2e.test_routing import registered

pytestmark = pytest.mark.e2e

#: The lab's outbound trunk (sip.outbound_trunk): customers' phones answer here.
TRUNK_PORT = 5098


def customers(talk_ms: int = 2000, **kw: Any) -> SippAgent:
    """The public network as the callback dialer sees it: every number answers here."""
    return SippAgent(
        "customers",
        "",
        register=False,
        uas_port=TRUNK_PORT,
        answer_delay_ms=500,
        talk_ms=talk_ms,
        **kw,
    )


def waiting(engine: EngineProcess) -> list[dict[str, Any]]:
    return [w for q in engine.status()["queues"] for w in q["waiting"]]


async def test_a_caller_who_presses_1_is_called_back_in_turn_with_the_agent_on_the_line(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    caller = "13800138301"
    async with customers() as phones:
        # Nobody can answer yet: 1 for home services, then 1 again while holding.
        call = await place_call("100", caller, dtmf="11", dtmf_gap_ms=7000, max_ms=30000)
        assert call.ended_by == "remote", call.run.describe()  # told, then hung up on
        (kept,) = await eventually(lambda: waiting(engine) or None)
        assert kept["caller"] == caller  # still in line without a phone line
        callbacks = engine.cli("callbacks")
        assert [(c["kind"], c["status"]) for c in callbacks] == [("virtual-hold", "queued")]
        async with SippAgent(
            "1001", password(secrets, "1001"), answer_delay_ms=300, talk_ms=None
        ) as agent:
            await registered(engine, "1001")
            await agent.wait_for("ANSWERED", timeout_s=15)
            # The agent first, told whom they call back; then the customer's phone rings.
            assert agent.offered_names() == [f"callback {caller}"]
            await phones.wait_for("ANSWERED", timeout_s=15)
            await phones.wait_for("LOCAL_BYE", timeout_s=15)
            await agent.wait_for("REMOTE_BYE", timeout_s=15)
    row = await eventually(lambda: record_of(engine, caller))
    assert (row["kind"], row["disposition"], row["agent"], row["hangup_side"]) == (
        "virtual-hold",
        "answered",
        "1001",
        "caller",
    )
    assert 1.5 <= row["talk_seconds"] <= 4.0, row
    done = await eventually(lambda: [c for c in engine.cli("callbacks") if c["status"] == "done"])
    assert done[0]["attempts"] == 1


async def test_scheduled_callbacks_go_out_in_business_hours_one_agent_at_a_time(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    open_line = ["13900000011", "13900000012"]
    for number in open_line:
        engine.cli("callbacks", "add", number, "--hotline", "home", "--kind", "revisit")
    # Line 101 ("closed") is closed all day: its callback waits for opening hours.
    engine.cli("callbacks", "add", "13900000013", "--hotline", "closed")
    on_callbacks: list[int] = []

    async def watch() -> None:
        while True:
            agents = engine.status()["agents"]
            on_callbacks.append(sum(1 for a in agents if (a["call_id"] or "").startswith("cb")))
            await asyncio.sleep(0.2)

    async with (
        customers(talk_ms=2500) as phones,
        SippAgent("1001", password(secrets, "1001"), answer_delay_ms=300, talk_ms=None),
        SippAgent("1002", password(secrets, "1002"), answer_delay_ms=300, talk_ms=None),
    ):
        watcher = asyncio.create_task(watch())
        try:
            await registered(engine, "1001", "1002")
            await phones.wait_for("LOCAL_BYE", 2, timeout_s=40)
            await asyncio.sleep(3)  # time for a third dial, which must not come
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        assert phones.offered_count() == 2
    assert max(on_callbacks) == 1, on_callbacks  # two agents free, cap 1
    rows = {c["caller"]: c for c in engine.cli("callbacks")}
    assert [rows[n]["status"] for n in open_line] == ["done", "done"]
    assert (rows["13900000013"]["status"], rows["13900000013"]["attempts"]) == ("pending", 0)
    calls = {r["caller"]: r for r in engine.calls()}
    assert [(calls[n]["kind"], calls[n]["disposition"]) for n in open_line] == [
        ("revisit", "answered"),
        ("revisit", "answered"),
    ]


async def test_an_unanswered_callback_is_tried_again_after_the_gap(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    number = "13900000021"
    engine.cli("callbacks", "add", number, "--hotline", "home")
    async with (
        customers(never_answer=True) as phones,
        SippAgent("1001", password(secrets, "1001"), answer_delay_ms=300, talk_ms=None),
    ):
        await registered(engine, "1001")
        # The customer's phone rings 4 s (callbacks.ring_seconds), then Dial gives up.
        await phones.wait_for("CANCELLED", 1, timeout_s=20)
        row = await eventually(
            lambda: next(
                (c for c in engine.cli("callbacks") if c["caller"] == number and c["attempts"]),
                None,
            )
        )
        assert row["status"] == "pending" and row["not_before"] is not None
        # ... and it is dialled again once the 3 s gap has passed.
        await phones.wait_for("OFFERED", 2, timeout_s=20)
    attempts = [r for r in engine.calls() if r["caller"] == number]
    assert {r["disposition"] for r in attempts} == {"callback-failed"}
