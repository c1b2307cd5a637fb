"""find_recordings / get_recording / reviews / review_done / score_recording."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlalchemy.pool import NullPool

from acd.core.decisions import CallRecord
from acd.records.items import RecordingMade, SurveyScore
from acd.records.models import RecordingRow, make_engine
from acd.records.store import Records
from acd.records.writer import RecordWriter

T0 = 1_700_000_000.0
HOUR = 3600.0


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _recording(n: int, agent: str, caller: str, queue: str, status: str) -> RecordingMade:
    return RecordingMade(
        call_id=f"c{n}",
        agent=agent,
        caller=caller,
        queue=queue,
        path=f"/var/spool/asterisk/acd/recordings/c{n}.wav",
        started_at=T0 + n * HOUR,
        talk_seconds=60.0,
        seconds=60.0 if status == "ok" else 0.0,
        size=960_044,
        format="wav",
        sha256=f"{n:064d}",
        status=status,
        pauses=((1.0, 2.5),) if n == 1 else (),
    )


@pytest.fixture
async def url(db_url: str) -> str:
    url = db_url
    writer = RecordWriter(url)
    await writer.start()
    specs = [
        ("2001", "13800138000", "sales", "ok"),  # c0
        ("2001", "13800138000", "sales", "ok"),  # c1: rated dissatisfied
        ("2002", "13900139000", "support", "truncated"),  # c2
        ("2002", "0611", "sales", "missing"),  # c3
        ("2001", "13700137000", "support", "purged"),  # c4
        ("2003", "13600136000", "sales", "ok"),  # c5: no call row at all
    ]
    for n, (agent, caller, queue, status) in enumerate(specs):
        if n != 5:
            writer.submit(
                CallRecord(
                    f"c{n}",
                    caller,
                    "1900",
                    queue,
                    T0 + n * HOUR,
                    agent=agent,
                    disposition="answered",
                )
            )
        writer.submit(_recording(n, agent, caller, queue, status))
    writer.submit(_recording(1, "2001", "13800138000", "sales", "ok"))  # a second file for c1
    writer.submit(SurveyScore("c1", 1, 5, True, T0 + HOUR + 100, review_due_at=T0 + 3 * HOUR))
    writer.submit(SurveyScore("c3", 2, 5, True, T0 + 3 * HOUR + 100, review_due_at=T0 + 5 * HOUR))
    writer.submit(SurveyScore("c2", 2, 5, True, T0 + 2 * HOUR + 100))  # no review asked for
    await writer.close()
    return url


def _ids(rows: list[dict[str, object]]) -> list[object]:
    return [r["id"] for r in rows]


async def test_find_all_newest_first_json_ready_and_masked(url: str, records: Records) -> None:
    rows = await records.find_recordings()
    assert _ids(rows) == [6, 5, 4, 3, 7, 2, 1]
    json.dumps(rows)
    by_id = {r["id"]: r for r in rows}
    assert by_id[2] == {
        "id": 2,
        "call_id": "c1",
        "agent": "2001",
        "caller": "13800138000",
        "caller_masked": "138******00",
        "queue": "sales",
        "path": "/var/spool/asterisk/acd/recordings/c1.wav",
        "started_at": "2023-11-14T23:13:20+00:00",
        "talk_seconds": 60.0,
        "seconds": 60.0,
        "size": 960_044,
        "format": "wav",
        "sha256": f"{1:064d}",
        "status": "ok",
        "pauses": [[1.0, 2.5]],
        "qa_score": None,
        "qa_comment": None,
        "qa_reviewer": None,
        "qa_at": None,
        "purged_at": None,
        "dissatisfied": True,
        "survey_score": 1,
    }
    assert (by_id[6]["dissatisfied"], by_id[6]["survey_score"]) == (False, None)  # no call row
    assert (by_id[4]["caller"], by_id[4]["caller_masked"]) == ("0611", "****")
    assert await records.get_recording(2) == by_id[2]
    assert await records.get_recording(99) is None


async def test_find_by_agent_time_span_queue_and_caller(url: str, records: Records) -> None:
    assert _ids(await records.find_recordings(agent="2001")) == [5, 7, 2, 1]
    assert _ids(await records.find_recordings(agent="2002", queue="sales")) == [4]
    assert _ids(await records.find_recordings(caller="13800138000")) == [7, 2, 1]
    since, until = _at(T0 + HOUR), _at(T0 + 3 * HOUR)
    assert _ids(await records.find_recordings(since=since, until=until)) == [3, 7, 2]
    # The same instants in another zone select the same rows.
    zone = timezone(timedelta(hours=8))
    assert _ids(
        await records.find_recordings(since=since.astimezone(zone), until=until.astimezone(zone))
    ) == [3, 7, 2]
    assert _ids(await records.find_recordings(limit=2)) == [6, 5]
    assert await records.find_recordings(agent="9999") == []


async def test_flagged_means_bad_file_or_dissatisfied_caller(url: str, records: Records) -> None:
    rows = await records.find_recordings(flagged=True)
    # c3 missing (and dissatisfied), c1 dissatisfied (both files), c2 truncated (and rated
    # dissatisfied without a review); c4 purged and c0/c5 fine are left out.
    assert [(r["call_id"], r["status"]) for r in rows] == [
        ("c3", "missing"),
        ("c2", "truncated"),
        ("c1", "ok"),
        ("c1", "ok"),
    ]
    assert _ids(await records.find_recordings(flagged=True, agent="2001")) == [7, 2]


async def test_find_rejects_naive_times_and_bad_limits(url: str, records: Records) -> None:
    with pytest.raises(ValueError):
        await records.find_recordings(since=datetime(2023, 11, 14))
    with pytest.raises(ValueError):
        await records.find_recordings(until=datetime(2023, 11, 14))
    with pytest.raises(ValueError):
        await records.find_recordings(limit=0)


async def test_reviews_open_with_overdue_given_now(url: str, records: Records) -> None:
    now = _at(T0 + 4 * HOUR)  # c1's review was due an hour ago, c3's in an hour
    rows = await records.reviews(now=now)
    json.dumps(rows)
    assert rows == [
        {
            "id": 1,
            "call_id": "c1",
            "agent": "2001",
            "reason": "dissatisfied",
            "created_at": "2023-11-14T23:15:00+00:00",
            "due_at": "2023-11-15T01:13:20+00:00",
            "done_at": None,
            "note": None,
            "reviewer": None,
            "overdue": True,
            "recording_ids": [2, 7],
        },
        {
            "id": 2,
            "call_id": "c3",
            "agent": "2002",
            "reason": "dissatisfied",
            "created_at": "2023-11-15T01:15:00+00:00",
            "due_at": "2023-11-15T03:13:20+00:00",
            "done_at": None,
            "note": None,
            "reviewer": None,
            "overdue": False,
            "recording_ids": [4],
        },
    ]
    assert [r["overdue"] for r in await records.reviews(now=_at(T0))] == [False, False]
    assert [r["overdue"] for r in await records.reviews(now=_at(T0 + 6 * HOUR))] == [True, True]
    with pytest.raises(ValueError):
        await records.reviews(now=datetime(2023, 11, 14))


async def test_review_done_closes_once(url: str, records: Records) -> None:
    late = _at(T0 + 4 * HOUR)  # after review 1's due time, before review 2's
    assert await records.review_done(1, "agent was curt; coached", "wang", now=late)
    assert await records.review_done(2, "fine", None, now=late)
    assert not await records.review_done(1, "again", "li", now=late)  # already done
    assert not await records.review_done(99, "x", "li")
    assert await records.reviews(now=late) == []
    done = await records.reviews(open_only=False, now=_at(T0 + 10 * HOUR))
    assert [(r["id"], r["note"], r["reviewer"]) for r in done] == [
        (1, "agent was curt; coached", "wang"),
        (2, "fine", None),
    ]
    assert done[0]["done_at"] == late.isoformat()
    # Overdue for a done review: it was done after its due time.
    assert [r["overdue"] for r in done] == [True, False]


async def test_score_recording(url: str, records: Records) -> None:
    when = _at(T0 + 10 * HOUR)
    assert await records.score_recording(2, 85, "polite, solved it", "li", now=when)
    row = await records.get_recording(2)
    assert row is not None
    assert (row["qa_score"], row["qa_comment"], row["qa_reviewer"], row["qa_at"]) == (
        85,
        "polite, solved it",
        "li",
        when.isoformat(),
    )
    assert await records.score_recording(2, 60, None, "wang", now=when)  # a rescore replaces
    row = await records.get_recording(2)
    assert row is not None and (row["qa_score"], row["qa_comment"]) == (60, None)
    assert not await records.score_recording(99, 50, None, "li")
    for bad in (0, 101, -5, True):
        with pytest.raises(ValueError):
            await records.score_recording(2, bad, None, "li")
    with pytest.raises(ValueError):
        await records.score_recording(2, 2.5, None, "li")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await records.score_recording(2, 50, None, " ")
    for boundary in (1, 100):
        assert await records.score_recording(1, boundary, None, "li")


async def test_pauses_that_are_not_json_do_not_break_listing(url: str, records: Records) -> None:
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            for recording_id, pauses in ((1, "not json"), (3, '[[1, "x"], [2, 3]]')):
                await conn.execute(
                    update(RecordingRow)
                    .where(RecordingRow.id == recording_id)
                    .values(pauses=pauses)
                )
    finally:
        await engine.dispose()
    rows = {r["id"]: r for r in await records.find_recordings()}
    assert rows[1]["pauses"] == [] and rows[3]["pauses"] == [[2.0, 3.0]]
