"""The seeds' peak plan with real callers, durations compressed to seconds: "8 callers
waiting, sustained for 30 minutes: stop callbacks and suspend agents' breaks" - here 4 waiting
for 3 s (tests/e2e/conftest.py) - and both come back when the queue drains."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from tests.e2e.conftest import EngineProcess, eventually
from tests.e2e.sipp.calls import place_call

pytestmark = pytest.mark.e2e


def rules(engine: EngineProcess) -> dict[str, Any]:
    status = engine.status()["rules"]
    assert isinstance(status, dict)
    return status


def active(engine: EngineProcess) -> list[str]:
    return [r["rule"] for r in rules(engine)["active"]]


def waiting(engine: EngineProcess) -> int:
    return sum(len(q["waiting"]) for q in engine.status()["queues"])


async def test_a_peak_stops_callbacks_and_breaks_until_the_queue_drains(
    engine: EngineProcess,
) -> None:
    # Nobody's phone is registered: every caller waits.
    callers = [f"1380013860{i}" for i in range(4)]
    holding = [asyncio.create_task(place_call("100", c, dtmf="1", max_ms=90000)) for c in callers]
    try:
        await eventually(lambda: waiting(engine) == 4, within=20)
        await eventually(lambda: active(engine) == ["peak"], within=10)
        fired = rules(engine)["active"][0]
        assert fired["metrics"]["waiting"] >= 4
        assert rules(engine)["effects"]["breaks_suspended"] is True
        # A break is refused, with the reason ...
        with pytest.raises(AssertionError, match="breaks are suspended"):
            engine.cli("agent", "pause", "1002", "--reason", "break")
        assert engine.agent("1002")["state"] == "ready"
        # ... and a caller who presses 1 on hold keeps waiting instead of being called back.
        refused = await place_call(
            "100", "13800138699", dtmf="11", dtmf_gap_ms=7000, hangup_after_ms=11000
        )
        assert refused.ended_by == "local", refused.run.describe()  # not hung up on
        assert engine.cli("callbacks") == []
    finally:
        for task in holding:
            task.cancel()  # the callers give up: the queue drains
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*holding, return_exceptions=True)
    await eventually(lambda: active(engine) == [], within=15)
    engine.cli("agent", "pause", "1002", "--reason", "break")  # allowed again
    assert engine.agent("1002")["reason"] == "break"
    kept = await place_call("100", "13800138698", dtmf="11", dtmf_gap_ms=7000, max_ms=20000)
    assert kept.ended_by == "remote", kept.run.describe()  # told, and hung up on
    assert [c["kind"] for c in engine.cli("callbacks")] == ["virtual-hold"]
    firings = [r for r in engine.calls() if r["caller"] in callers]
    assert len(firings) == 4 and all(r["disposition"] == "abandoned" for r in firings)
