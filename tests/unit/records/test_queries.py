"""recent_calls / get_call: JSON-ready rows, newest first, filtered by entry time."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from acd.core.decisions import CallRecord
from acd.records.migrate import upgrade_async
from acd.records.queries import get_call, recent_calls
from acd.records.writer import RecordWriter

T0 = 1_700_000_000.0
KEYS = {
    "call_id",
    "caller",
    "hotline",
    "queue",
    "agent",
    "entered_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "talk_seconds",
    "disposition",
    "hangup_side",
    "offers",
}


@pytest.fixture
async def url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"
    await upgrade_async(url)
    writer = RecordWriter(url)
    await writer.start()
    for i in range(5):
        writer.submit(
            CallRecord(
                call_id=f"c{i}",
                caller=f"06{i}",
                hotline="1900",
                queue="sales",
                entered_at=T0 + 60 * i,
            )
        )
    done = CallRecord("c1", "061", "1900", "sales", T0 + 60, agent="2001", offers=2)
    done = replace(done, answered_at=T0 + 70, ended_at=T0 + 100, disposition="answered")
    writer.submit(replace(done, hangup_side="caller"))
    await writer.close()
    return url


async def test_recent_calls_newest_first_and_json_ready(url: str) -> None:
    calls = await recent_calls(url)
    assert [c["call_id"] for c in calls] == ["c4", "c3", "c2", "c1", "c0"]
    assert all(set(c) == KEYS for c in calls)
    json.dumps(calls)  # nothing that needs a custom encoder

    c1 = calls[3]
    assert c1 == {
        "call_id": "c1",
        "caller": "061",
        "hotline": "1900",
        "queue": "sales",
        "agent": "2001",
        "entered_at": "2023-11-14T22:14:20+00:00",
        "answered_at": "2023-11-14T22:14:30+00:00",
        "ended_at": "2023-11-14T22:15:00+00:00",
        "wait_seconds": 10.0,
        "talk_seconds": 30.0,
        "disposition": "answered",
        "hangup_side": "caller",
        "offers": 2,
    }
    assert datetime.fromisoformat(str(c1["entered_at"])).timestamp() == T0 + 60
    waiting = calls[0]
    assert (waiting["answered_at"], waiting["wait_seconds"], waiting["agent"]) == (None, None, None)


async def test_recent_calls_since_and_limit(url: str) -> None:
    since = datetime.fromtimestamp(T0 + 120, tz=UTC)
    assert [c["call_id"] for c in await recent_calls(url, since=since)] == ["c4", "c3", "c2"]
    # The same instant in another zone selects the same calls.
    other_zone = since.astimezone(timezone(timedelta(hours=2)))
    assert [c["call_id"] for c in await recent_calls(url, since=other_zone)] == ["c4", "c3", "c2"]
    assert [c["call_id"] for c in await recent_calls(url, limit=2)] == ["c4", "c3"]
    assert await recent_calls(url, since=since + timedelta(hours=1)) == []


async def test_recent_calls_rejects_naive_since_and_bad_limit(url: str) -> None:
    with pytest.raises(ValueError):
        await recent_calls(url, since=datetime(2023, 11, 14))
    with pytest.raises(ValueError):
        await recent_calls(url, limit=0)


async def test_get_call(url: str) -> None:
    call = await get_call(url, "c1")
    assert call is not None and call["disposition"] == "answered"
    assert await get_call(url, "nope") is None
