"""RecordWriter: recordings rows, and reviews opened by dissatisfied ratings (every backend)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Row, select

from acd.core.decisions import CallRecord
from acd.records.items import RecordingMade, SurveyScore
from acd.records.migrate import upgrade_async
from acd.records.models import CallRow, RecordingRow, ReviewRow
from acd.records.writer import RecordWriter
from tests.unit.records.reading import rows, scalars

T0 = 1_700_000_000.0


@pytest.fixture
def url(db_url: str) -> str:
    """A database migrated to head, on each backend."""
    return db_url


@asynccontextmanager
async def _running(url: str) -> AsyncIterator[RecordWriter]:
    w = RecordWriter(url, retry_initial=0.01, retry_max=0.05)
    await w.start()
    try:
        yield w
    finally:
        await w.close(timeout=5)


@pytest.fixture
async def writer(url: str) -> AsyncIterator[RecordWriter]:
    async with _running(url) as w:
        yield w


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met within 5 s")


def _recording(call_id: str = "c1", **changes: Any) -> RecordingMade:
    made = RecordingMade(
        call_id=call_id,
        agent="2001",
        caller="13800138000",
        queue="sales",
        path=f"/var/spool/asterisk/acd/recordings/2023/11/14/x_{call_id}.wav",
        started_at=T0 + 5,
        talk_seconds=60.25,
        seconds=60.5,
        size=968_044,
        format="wav",
        sha256="ab" * 32,
        status="ok",
        pauses=((10.0, 12.5), (30.25, 31.0)),
    )
    return replace(made, **changes)


def _call(call_id: str = "c1", agent: str | None = "2001") -> CallRecord:
    return CallRecord(
        call_id, "13800138000", "1900", "sales", T0, agent=agent, disposition="answered"
    )


def _rating(call_id: str = "c1", score: int = 1, due: float | None = T0 + 7300) -> SurveyScore:
    return SurveyScore(
        call_id, score=score, scale=5, dissatisfied=score <= 2, at=T0 + 100, review_due_at=due
    )


async def _reviews(url: str) -> list[Row[Any]]:
    return await rows(url, select(ReviewRow.__table__).order_by(ReviewRow.id))


async def test_recording_round_trip(url: str, writer: RecordWriter) -> None:
    made = _recording()
    writer.submit(made)
    writer.submit(_recording("c2", pauses=(), status="truncated", seconds=3.0))
    await _until(lambda: writer.pending == 0)
    first, second = await rows(url, select(RecordingRow.__table__).order_by(RecordingRow.id))
    assert (first.id, second.id) == (1, 2)
    assert (first.call_id, first.agent, first.caller, first.queue, first.path) == (
        made.call_id,
        made.agent,
        made.caller,
        made.queue,
        made.path,
    )
    assert first.started_at == datetime.fromtimestamp(T0 + 5, tz=UTC)
    assert (first.talk_seconds, first.seconds, first.size) == (60.25, 60.5, 968_044)
    assert (first.format, first.sha256, first.status) == ("wav", "ab" * 32, "ok")
    assert json.loads(first.pauses) == [[10.0, 12.5], [30.25, 31.0]]
    assert (first.qa_score, first.qa_comment, first.qa_reviewer, first.qa_at) == (
        None,
        None,
        None,
        None,
    )
    assert first.purged_at is None
    assert (second.status, second.seconds, json.loads(second.pauses)) == ("truncated", 3.0, [])
    assert await rows(url, select(CallRow.__table__)) == []  # a recording makes no call row


async def test_dissatisfied_rating_opens_a_review_for_the_calls_agent(
    url: str, writer: RecordWriter
) -> None:
    writer.submit(_call())
    await _until(lambda: writer.pending == 0)
    writer.submit(_rating())
    await _until(lambda: writer.pending == 0)
    (review,) = await _reviews(url)
    assert (review.id, review.call_id, review.agent, review.reason) == (
        1,
        "c1",
        "2001",
        "dissatisfied",
    )
    assert review.created_at == datetime.fromtimestamp(T0 + 100, tz=UTC)
    assert review.due_at == datetime.fromtimestamp(T0 + 7300, tz=UTC)
    assert (review.done_at, review.note, review.reviewer) == (None, None, None)
    (call,) = await rows(url, select(CallRow.__table__))
    assert (call.survey_score, call.dissatisfied) == (1, True)


async def test_no_review_without_a_due_time_or_when_satisfied(
    url: str, writer: RecordWriter
) -> None:
    writer.submit(_call())
    writer.submit(_rating(due=None))  # dissatisfied, but no review asked for
    writer.submit(_rating(score=5))
    writer.submit(replace(_rating(score=4), review_due_at=T0 + 9000))  # not dissatisfied
    await _until(lambda: writer.pending == 0)
    assert await _reviews(url) == []


async def test_review_for_an_unknown_call_has_no_agent(url: str, writer: RecordWriter) -> None:
    writer.submit(_rating("ghost"))
    await _until(lambda: writer.pending == 0)
    (review,) = await _reviews(url)
    assert (review.call_id, review.agent) == ("ghost", None)
    (call,) = await rows(url, select(CallRow.__table__))  # the survey's minimal row, as before
    assert (call.call_id, call.disposition, call.agent) == ("ghost", "ivr", None)


async def test_the_agent_is_the_one_the_row_holds_at_the_ratings_place_in_order(
    url: str, writer: RecordWriter
) -> None:
    """Within one batch, as if every item were written alone in submission order."""
    writer.submit(_call("a", agent="1111"))
    writer.submit(_call("b", agent="3333"))
    await _until(lambda: writer.pending == 0)
    # Submitted back to back: one batch.
    writer.submit(_call("a", agent="2222"))
    writer.submit(_rating("a"))  # after the record naming 2222
    writer.submit(_rating("b"))  # before the record naming 4444: still 3333
    writer.submit(_call("b", agent="4444"))
    writer.submit(_rating("n"))  # a new call: its record comes later
    writer.submit(_call("n", agent="5555"))
    writer.submit(_rating("n"))
    await _until(lambda: writer.pending == 0)
    assert [(r.call_id, r.agent) for r in await _reviews(url)] == [
        ("a", "2222"),
        ("b", "3333"),
        ("n", None),
        ("n", "5555"),
    ]
    agents = {r.call_id: r.agent for r in await rows(url, select(CallRow.__table__))}
    assert agents == {"a": "2222", "b": "4444", "n": "5555"}


async def test_reviews_and_recordings_wait_for_the_0003_schema(blank_db_url: str) -> None:
    url = blank_db_url
    await upgrade_async(url, "0002")
    async with _running(url) as writer:
        writer.submit(_call())
        writer.submit(_rating())
        writer.submit(_recording())
        await asyncio.sleep(0.1)
        assert writer.pending == 3  # "no such table" is retried, not dropped
        await upgrade_async(url)
        await _until(lambda: writer.pending == 0)
    assert [(r.call_id, r.agent) for r in await _reviews(url)] == [("c1", "2001")]
    assert len(await rows(url, select(RecordingRow.__table__))) == 1


async def test_refused_recording_is_skipped_without_blocking_the_rest(
    url: str, writer: RecordWriter, caplog: pytest.LogCaptureFixture
) -> None:
    bad = _recording("bad", path=cast(Any, None))  # NOT NULL violated
    with caplog.at_level(logging.ERROR, logger="acd.records.writer"):
        writer.submit(_recording("r0"))
        writer.submit(bad)
        writer.submit(_call())
        writer.submit(_rating())
        writer.submit(_recording("r2"))
        await _until(lambda: writer.pending == 0)
    ids = await scalars(url, select(RecordingRow.call_id).order_by(RecordingRow.id))
    assert ids == ["r0", "r2"]
    assert [(r.call_id, r.agent) for r in await _reviews(url)] == [("c1", "2001")]
    assert any("refused" in r.getMessage() for r in caplog.records)


async def test_odd_pauses_cannot_make_a_recording_unwritable(
    url: str, writer: RecordWriter
) -> None:
    writer.submit(_recording(pauses=cast(Any, ((1, datetime(2024, 1, 1)),))))
    await _until(lambda: writer.pending == 0)
    (row,) = await rows(url, select(RecordingRow.__table__))
    assert json.loads(row.pauses) == [[1, "2024-01-01 00:00:00"]]


def test_submit_accepts_recordings() -> None:
    writer = RecordWriter("sqlite+aiosqlite:///never-opened.db")
    writer.submit(_recording())
    assert writer.pending == 1
