"""recent_calls / get_call / callbacks / messages: JSON-ready rows, newest first, filtered."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from acd.core.decisions import CallbackRequested, CallRecord
from acd.records.items import IvrPath, MessageLeft, SurveyScore
from acd.records.store import Records
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
    "kind",
    "survey_score",
    "survey_scale",
    "dissatisfied",
    "ivr_path",
}


@pytest.fixture
async def url(db_url: str) -> str:
    url = db_url
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
    writer.submit(IvrPath("c1", "061", "1900", "main:1>sales", T0 + 59))
    writer.submit(SurveyScore("c1", score=2, scale=5, dissatisfied=True, at=T0 + 130))
    writer.submit(IvrPath("g1", "069", "1900", "main:9>goodbye", T0 - 60))  # never queued
    for i in range(3):
        writer.submit(
            CallbackRequested(
                call_id=f"b{i}",
                caller=f"07{i}",
                hotline="1900",
                queue="sales",
                kind="after-hours" if i == 1 else "callback",
                requested_at=T0 + 10 * i,
                due_at=T0 + 3600 + 10 * i,
            )
        )
        writer.submit(MessageLeft(f"m{i}", f"08{i}", "1900", f"/var/msg/m{i}.wav", 4.5 + i, T0 + i))
    await writer.close()
    return url


async def test_recent_calls_newest_first_and_json_ready(url: str, records: Records) -> None:
    calls = await records.recent_calls()
    assert [c["call_id"] for c in calls] == ["c4", "c3", "c2", "c1", "c0", "g1"]
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
        "kind": "inbound",
        "survey_score": 2,
        "survey_scale": 5,
        "dissatisfied": True,
        "ivr_path": "main:1>sales",
    }
    assert datetime.fromisoformat(str(c1["entered_at"])).timestamp() == T0 + 60
    waiting = calls[0]
    assert (waiting["answered_at"], waiting["wait_seconds"], waiting["agent"]) == (None, None, None)
    assert (waiting["survey_score"], waiting["dissatisfied"], waiting["ivr_path"]) == (
        None,
        False,
        None,
    )


async def test_recent_calls_since_and_limit(url: str, records: Records) -> None:
    since = datetime.fromtimestamp(T0 + 120, tz=UTC)
    assert [c["call_id"] for c in await records.recent_calls(since=since)] == ["c4", "c3", "c2"]
    # The same instant in another zone selects the same calls.
    other_zone = since.astimezone(timezone(timedelta(hours=2)))
    assert [c["call_id"] for c in await records.recent_calls(since=other_zone)] == [
        "c4",
        "c3",
        "c2",
    ]
    assert [c["call_id"] for c in await records.recent_calls(limit=2)] == ["c4", "c3"]
    assert await records.recent_calls(since=since + timedelta(hours=1)) == []


async def test_recent_calls_rejects_naive_since_and_bad_limit(url: str, records: Records) -> None:
    with pytest.raises(ValueError):
        await records.recent_calls(since=datetime(2023, 11, 14))
    with pytest.raises(ValueError):
        await records.recent_calls(limit=0)


async def test_get_call(url: str, records: Records) -> None:
    call = await records.get_call("c1")
    assert call is not None and call["disposition"] == "answered"
    assert await records.get_call("nope") is None


async def test_callbacks_newest_first_and_json_ready(url: str, records: Records) -> None:
    rows = await records.callbacks()
    assert [r["call_id"] for r in rows] == ["b2", "b1", "b0"]
    json.dumps(rows)
    assert rows[2] == {
        "id": 1,
        "call_id": "b0",
        "caller": "070",
        "hotline": "1900",
        "queue": "sales",
        "kind": "callback",
        "requested_at": "2023-11-14T22:13:20+00:00",
        "due_at": "2023-11-14T23:13:20+00:00",
        "not_before": None,
        "status": "pending",
        "attempts": 0,
        "updated_at": rows[2]["updated_at"],
    }
    updated = datetime.fromisoformat(str(rows[2]["updated_at"]))
    assert updated.utcoffset() == timedelta(0)


async def test_callbacks_by_status_and_limit(url: str, records: Records) -> None:
    assert [r["call_id"] for r in await records.callbacks(status="pending", limit=2)] == [
        "b2",
        "b1",
    ]
    assert await records.callbacks(status="done") == []
    with pytest.raises(ValueError):
        await records.callbacks(limit=0)


async def test_messages_newest_first_since_and_limit(url: str, records: Records) -> None:
    rows = await records.messages()
    assert [r["call_id"] for r in rows] == ["m2", "m1", "m0"]
    json.dumps(rows)
    assert rows[0] == {
        "id": 3,
        "call_id": "m2",
        "caller": "082",
        "hotline": "1900",
        "path": "/var/msg/m2.wav",
        "seconds": 6.5,
        "created_at": "2023-11-14T22:13:22+00:00",
    }
    since = datetime.fromtimestamp(T0 + 1, tz=UTC).astimezone(timezone(timedelta(hours=-5)))
    assert [r["call_id"] for r in await records.messages(since=since)] == ["m2", "m1"]
    assert [r["call_id"] for r in await records.messages(limit=1)] == ["m2"]
    with pytest.raises(ValueError):
        await records.messages(since=datetime(2023, 11, 14))
    with pytest.raises(ValueError):
        await records.messages(limit=0)


async def test_get_call_for_a_call_that_never_queued(url: str, records: Records) -> None:
    assert await records.get_call("g1") == {
        "call_id": "g1",
        "caller": "069",
        "hotline": "1900",
        "queue": "",
        "agent": None,
        "entered_at": "2023-11-14T22:12:20+00:00",
        "answered_at": None,
        "ended_at": None,
        "wait_seconds": None,
        "talk_seconds": None,
        "disposition": "ivr",
        "hangup_side": None,
        "offers": 0,
        "kind": "inbound",
        "survey_score": None,
        "survey_scale": None,
        "dissatisfied": False,
        "ivr_path": "main:9>goodbye",
    }
    assert await records.get_call("m0") is None  # a message alone makes no call row
