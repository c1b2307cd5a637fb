"""Faults with real parts: the engine killed, Asterisk restarted or frozen under traffic.

The promise under test: a call that is talking never depends on the engine; a caller who
arrives while the engine is dead still reaches a person (the fallback ring group); a restarted
engine rebuilds its waiting line from Asterisk in the original order; after Asterisk comes
back nobody is stuck reserved or on-call and every call has exactly one finished record
(issue: benchmarks and resilience).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from acd import lab
from tests.e2e.conftest import EngineProcess, connected, eventually
from tests.e2e.sipp.agent import SippAgent
from tests.e2e.sipp.calls import place_call
from tests.e2e.test_first_call import password
from tests.e2e.test_routing import registered

pytestmark = pytest.mark.e2e


def waiting_callers(engine: EngineProcess) -> list[str]:
    return [w["caller"] for q in engine.status()["queues"] for w in q["waiting"]]


def asterisk_pid() -> int:
    """The lab Asterisk's main process (the one whose root is the lab's)."""
    root = lab.lab_root().resolve()
    found = subprocess.run(["pgrep", "-x", "asterisk"], capture_output=True, text=True)
    for pid in map(int, found.stdout.split()):
        if Path(f"/proc/{pid}/root").resolve() == root:
            return pid
    raise AssertionError("the lab Asterisk is not running")


async def test_a_killed_engine_leaves_talking_calls_alone_and_rebuilds_its_line_on_restart(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    talking, first, second, newcomer = "13800138501", "13800138502", "13800138503", "13800138504"
    # The busy agent answers slowly: the fallback ring group (every phone at once) then goes
    # to the free agent, who answers at once.
    async with SippAgent(
        "1001", password(secrets, "1001"), answer_delay_ms=2000, talk_ms=25000
    ) as busy:
        await registered(engine, "1001")
        talk = asyncio.create_task(place_call("100", talking, dtmf="1", max_ms=60000))
        await busy.wait_for("ANSWERED", timeout_s=15)
        waits = []
        for n, caller in enumerate((first, second), start=1):
            waits.append(asyncio.create_task(place_call("100", caller, dtmf="1", max_ms=120000)))
            await eventually(lambda n=n: len(waiting_callers(engine)) == n or None)
        assert waiting_callers(engine) == [first, second]

        assert engine.proc is not None
        engine.proc.kill()  # SIGKILL: no goodbye, no cleanup
        engine.proc.wait()

        # A new caller while the engine is dead: the IVR's AGI fails and the fallback ring
        # group rings every agent's phone; agent 1002 is free and takes it.
        async with SippAgent(
            "1002", password(secrets, "1002"), answer_delay_ms=100, talk_ms=1500
        ) as spare:
            fallback = await place_call("100", newcomer, dtmf="1", max_ms=30000)
            assert fallback.ended_by == "remote", fallback.run.describe()
            assert newcomer in spare.offered_callers()
        engine.start()  # same database; it learns the line from Asterisk
        await eventually(lambda: connected(engine), within=30)
        # Rebuilt from Asterisk alone, in the original order, while 1001 is still talking.
        assert waiting_callers(engine) == [first, second]
        # The talking call went on to its natural end (the agent hangs up after 25 s) ...
        result = await talk
        assert result.ended_by == "remote", result.run.describe()
        # ... and the agent, free again, gets the first of the rebuilt line, not the second.
        await eventually(lambda: first in busy.offered_callers(), within=20)
        assert waiting_callers(engine) == [second]
        assert second not in busy.offered_callers()
        for task in waits:
            task.cancel()
        await asyncio.gather(*waits, return_exceptions=True)


async def test_after_an_asterisk_restart_under_traffic_no_agent_is_stuck_and_no_record_is_lost(
    engine: EngineProcess, secrets: dict[str, Any]
) -> None:
    callers = ["13800138511", "13800138512", "13800138513"]
    async with SippAgent(
        "1001", password(secrets, "1001"), answer_delay_ms=300, talk_ms=None
    ) as agent:
        await registered(engine, "1001")
        calls = [asyncio.create_task(place_call("100", c, dtmf="1", max_ms=60000)) for c in callers]
        await agent.wait_for("ANSWERED", timeout_s=15)  # one talks, two wait
        await eventually(lambda: len(waiting_callers(engine)) == 2 or None)
        root = lab.lab_root()
        await asyncio.to_thread(lab.stop_asterisk, root)
        await asyncio.to_thread(lab.start_asterisk, root)
        # The engine notices, reconnects and resyncs on its own.
        await eventually(lambda: connected(engine), within=30)
        await asyncio.gather(*calls, return_exceptions=True)
    await eventually(
        lambda: all(a["state"] not in ("reserved", "on-call") for a in engine.status()["agents"]),
        within=20,
    )
    rows = await eventually(
        lambda: (
            (r := [c for c in engine.calls() if c["caller"] in callers])
            and all(c["ended_at"] for c in r)
            and r
        )
    )
    assert sorted(r["caller"] for r in rows) == sorted(callers)  # one record each, all ended
    assert engine.status()["queues"][0]["waiting"] == []
    assert "Traceback" not in engine.log()


async def test_an_asterisk_that_stops_answering_is_detected_and_nothing_hangs(
    engine: EngineProcess,
) -> None:
    pid = asterisk_pid()
    os.kill(pid, signal.SIGSTOP)  # alive, port open, answering nothing
    try:
        # Pings go unanswered: the engine drops the link within ping_interval + timeout.
        await eventually(lambda: engine.status().get("ami_connected") is False, within=15)
        # The engine itself stays responsive: its CLI answers, agent commands are handled.
        engine.cli("agent", "pause", "1002", "--reason", "meeting")
        assert engine.agent("1002")["state"] == "not-ready"
    finally:
        os.kill(pid, signal.SIGCONT)
    await eventually(lambda: connected(engine), within=30)
    log = engine.log()
    assert "Traceback" not in log
