"""The records of real calls: complete and consistent (issue: call records and reports).

A call where the first agent does not answer and the second does leaves a timeline whose
intervals add up to the record's wait and talk, and the Asterisk-format queue_log lines that
queue-reporting tools read (ENTERQUEUE, RINGNOANSWER, CONNECT, COMPLETE*)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import EngineProcess, eventually
from tests.e2e.sipp.agent import SippAgent
from tests.e2e.sipp.calls import place_call
from tests.e2e.test_first_call import password, record_of
from tests.e2e.test_routing import registered

pytestmark = pytest.mark.e2e


def at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["at"])


async def test_a_call_leaves_a_timeline_that_adds_up_and_queue_log_lines(
    engine: EngineProcess, secrets: dict[str, Any], lab_dir: Path
) -> None:
    caller = "13800138701"
    async with (
        SippAgent("1001", password(secrets, "1001"), never_answer=True),
        SippAgent("1002", password(secrets, "1002"), answer_delay_ms=400, talk_ms=2000),
    ):
        await registered(engine, "1001", "1002")
        call = await place_call("100", caller, dtmf="1", max_ms=40000)
        assert call.ended_by == "remote", call.run.describe()
    row = await eventually(lambda: record_of(engine, caller))
    timeline = await eventually(
        lambda: (
            (t := engine.cli("timeline", row["call_id"]))
            and any(e["kind"] == "hangup" for e in t)
            and t
        )
    )
    kinds = [e["kind"] for e in timeline]
    assert kinds[0] == "ivr" and "enter" in kinds and kinds[-1] == "hangup", kinds
    offers = [e for e in timeline if e["kind"] == "offer"]
    assert [o["agent"] for o in offers][-1] == "1002"
    if len(offers) == 2:  # 1001 (longest idle) first: rang 5 s and did not answer
        (failed,) = [e for e in timeline if e["kind"] == "offer-failed"]
        assert (failed["agent"], failed["data"]["reason"]) == ("1001", "no-answer")
        assert 4.5 <= failed["data"]["ring_seconds"] <= 7.0
    enter = next(e for e in timeline if e["kind"] == "enter")
    connect = next(e for e in timeline if e["kind"] == "connect")
    hangup = timeline[-1]
    # The timeline adds up to the record: enter -> connect is the wait, connect -> end the talk.
    assert abs((at(connect) - at(enter)).total_seconds() - row["wait_seconds"]) < 0.01
    assert abs((at(hangup) - at(connect)).total_seconds() - row["talk_seconds"]) < 0.01
    assert row["offers"] == len(offers)

    queue_log = lab_dir.parent / "state" / "queue_log"
    lines = await eventually(
        lambda: (
            [
                line.split("|")
                for line in queue_log.read_text().splitlines()
                if line.split("|")[1:2] == [row["call_id"]]
            ]
            if queue_log.exists()
            else None
        )
    )
    events = [fields[4] for fields in lines]
    assert events[0] == "ENTERQUEUE" and events[-1] in ("COMPLETECALLER", "COMPLETEAGENT")
    assert "CONNECT" in events
    assert events.count("RINGNOANSWER") == len(offers) - 1
    assert all(fields[2] == "general" for fields in lines)
    assert queue_log.stat().st_mode & 0o077 == 0  # owner-only: it holds callers' numbers
