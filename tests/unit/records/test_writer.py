"""RecordWriter: order, upserts, and nothing lost while the database is locked or missing.

Tests taking `url` (or `writer`) run on SQLite and PostgreSQL (see conftest.py); those about
SQLite's own locking and storage use `sqlite_url` and run on SQLite only.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Row, select, text

from acd.core.decisions import AgentStateChanged, CallbackRequested, CallRecord
from acd.records.items import IvrPath, MessageLeft, Record, SurveyScore
from acd.records.migrate import upgrade_async
from acd.records.models import AgentStateRow, CallbackRow, CallRow, MessageRow
from acd.records.writer import RecordWriter
from tests.unit.records.reading import rows, scalars

T0 = 1_700_000_000.0


@pytest.fixture
def url(db_url: str) -> str:
    """A database migrated to head, on each backend."""
    return db_url


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "records.db"


@pytest.fixture
def sqlite_url(db: Path) -> str:
    # A short busy timeout so a held lock surfaces as an error within the test's time.
    return f"sqlite+aiosqlite:///{db}?timeout=0.05"


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


async def _calls(url: str) -> list[Row[Any]]:
    return await rows(url, select(CallRow.__table__).order_by(CallRow.call_id))


async def _states(url: str) -> list[Row[Any]]:
    return await rows(url, select(AgentStateRow.__table__).order_by(AgentStateRow.id))


async def _until(condition: Callable[[], bool]) -> None:
    """Poll: the writer exposes progress only through `pending`."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met within 5 s")


def _entry(call_id: str = "c1", at: float = T0) -> CallRecord:
    return CallRecord(call_id=call_id, caller="0611", hotline="1900", queue="sales", entered_at=at)


def _state(n: int) -> AgentStateChanged:
    return AgentStateChanged(agent="1001", old=f"s{n}", new=f"s{n + 1}", reason=None, at=T0 + n)


async def test_call_record_upserted_through_entry_answer_end(
    url: str, writer: RecordWriter
) -> None:
    entry = _entry()
    ringing = replace(entry, agent="2001", disposition="ringing", offers=1)
    answered = replace(ringing, answered_at=T0 + 12.25, disposition="answered")
    ended = replace(answered, ended_at=T0 + 72.5, hangup_side="agent")

    writer.submit(entry)
    await _until(lambda: writer.pending == 0)
    (row,) = await _calls(url)
    assert (row.disposition, row.agent, row.answered_at, row.wait_seconds) == (
        "waiting",
        None,
        None,
        None,
    )

    for record in (ringing, answered, ended):
        writer.submit(record)
    await _until(lambda: writer.pending == 0)

    (row,) = await _calls(url)
    assert row.call_id == "c1"
    assert (row.caller, row.hotline, row.queue, row.agent) == ("0611", "1900", "sales", "2001")
    assert row.entered_at == datetime.fromtimestamp(T0, tz=UTC)
    assert row.answered_at == datetime.fromtimestamp(T0 + 12.25, tz=UTC)
    assert row.ended_at == datetime.fromtimestamp(T0 + 72.5, tz=UTC)
    for value in (row.entered_at, row.answered_at, row.ended_at, row.updated_at):
        assert value is not None and value.utcoffset() is not None
        assert value.tzinfo == UTC
    assert row.wait_seconds == pytest.approx(12.25)
    assert row.talk_seconds == pytest.approx(60.25)
    assert (row.disposition, row.hangup_side, row.offers) == ("answered", "agent", 1)


async def test_sqlite_stores_utc_without_an_offset(db: Path, sqlite_url: str) -> None:
    """SQLite only: it has no zone storage, so UTC is stored naive and the type adds it back."""
    await upgrade_async(sqlite_url)
    async with _running(sqlite_url) as writer:
        writer.submit(_entry())
    with sqlite3.connect(db) as raw:
        (stored,) = raw.execute("SELECT entered_at FROM calls").fetchone()
    assert stored == "2023-11-14 22:13:20.000000"


async def test_postgresql_stores_the_instant_whatever_the_server_zone(
    postgresql_url: str,
) -> None:
    """PostgreSQL only: timestamptz keeps the instant; the test server's zone is not UTC."""
    async with _running(postgresql_url) as writer:
        writer.submit(_entry())
    (stored,) = await rows(
        postgresql_url,
        select(
            text("current_setting('TimeZone')"),
            text("to_char(entered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"),
        ).select_from(CallRow.__table__),
    )
    assert tuple(stored) == ("Asia/Shanghai", "2023-11-14 22:13:20")


async def test_agent_state_changes_are_appended(url: str, writer: RecordWriter) -> None:
    writer.submit(AgentStateChanged("1001", "logged_out", "ready", "login", T0))
    writer.submit(AgentStateChanged("1001", "ready", "paused", None, T0 + 5))
    await _until(lambda: writer.pending == 0)
    states = await _states(url)
    assert [(r.agent, r.old_state, r.new_state, r.reason) for r in states] == [
        ("1001", "logged_out", "ready", "login"),
        ("1001", "ready", "paused", None),
    ]
    assert states[1].at == datetime.fromtimestamp(T0 + 5, tz=UTC)


async def test_many_items_keep_their_order(url: str, writer: RecordWriter) -> None:
    calls = {f"c{i}": _entry(f"c{i}", T0 + i) for i in range(5)}
    for n in range(1200):
        call_id = f"c{n % 5}"
        calls[call_id] = replace(calls[call_id], offers=n)
        writer.submit(calls[call_id])
        writer.submit(_state(n))
        if n % 97 == 0:
            await asyncio.sleep(0)  # let the writer start batches mid-stream
    await _until(lambda: writer.pending == 0)

    assert [(r.call_id, r.offers) for r in await _calls(url)] == [
        (c.call_id, c.offers) for c in calls.values()
    ]
    states = await _states(url)
    assert [r.old_state for r in states] == [f"s{n}" for n in range(1200)]


async def test_locked_database_delays_but_loses_nothing(
    db: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite only: another process holding the file's write lock."""
    url = sqlite_url
    await upgrade_async(url)
    async with _running(url) as writer:
        await _delayed_by_a_lock(db, url, writer, caplog)


async def _delayed_by_a_lock(
    db: Path, url: str, writer: RecordWriter, caplog: pytest.LogCaptureFixture
) -> None:
    locker = sqlite3.connect(db, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        with caplog.at_level(logging.WARNING, logger="acd.records.writer"):
            for n in range(50):
                writer.submit(_state(n))
            writer.submit(_entry())
            await asyncio.sleep(0.3)
        assert writer.pending == 51
        assert any("retrying" in r.getMessage() for r in caplog.records)
    finally:
        locker.rollback()
        locker.close()

    await _until(lambda: writer.pending == 0)
    assert [r.old_state for r in await _states(url)] == [f"s{n}" for n in range(50)]
    assert [r.call_id for r in await _calls(url)] == ["c1"]


async def test_missing_schema_is_waited_for(blank_db_url: str) -> None:
    url = blank_db_url
    async with _running(url) as writer:
        writer.submit(_state(0))
        writer.submit(_entry())
        await asyncio.sleep(0.1)
        assert writer.pending == 2  # "no such table" is retried, not dropped
        await upgrade_async(url)
        await _until(lambda: writer.pending == 0)
    assert len(await _states(url)) == 1
    assert len(await _calls(url)) == 1


async def test_close_drains_everything_submitted(url: str) -> None:
    w = RecordWriter(url)
    await w.start()
    for n in range(300):
        w.submit(_state(n))
    w.submit(_entry())
    await w.close()
    assert w.pending == 0
    assert len(await _states(url)) == 300
    assert len(await _calls(url)) == 1
    with pytest.raises(RuntimeError):
        w.submit(_state(0))
    await w.close()  # a second close is a no-op


async def test_close_writes_items_submitted_before_start(url: str) -> None:
    w = RecordWriter(url)
    w.submit(_entry())
    await w.close()
    assert len(await _calls(url)) == 1


async def test_close_gives_up_after_timeout(
    db: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite only (a held lock); tests/unit/records/test_writer_postgresql.py has the outage."""
    url = sqlite_url
    await upgrade_async(url)
    w = RecordWriter(url, retry_initial=0.01, retry_max=0.02)
    await w.start()
    locker = sqlite3.connect(db, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        w.submit(_entry())
        with caplog.at_level(logging.ERROR, logger="acd.records.writer"):
            async with asyncio.timeout(2):
                await w.close(timeout=0.2)
        assert w.pending == 1
        assert any("unwritten" in r.getMessage() for r in caplog.records)
    finally:
        locker.rollback()
        locker.close()


async def test_refused_item_is_logged_and_skipped_without_blocking_the_rest(
    url: str, writer: RecordWriter, caplog: pytest.LogCaptureFixture
) -> None:
    bad = AgentStateChanged(cast(Any, None), "ready", "paused", None, T0)  # NOT NULL violated
    with caplog.at_level(logging.ERROR, logger="acd.records.writer"):
        writer.submit(_state(0))
        writer.submit(bad)
        writer.submit(_state(1))
        await _until(lambda: writer.pending == 0)
    assert [r.old_state for r in await _states(url)] == ["s0", "s1"]
    assert any("refused" in r.getMessage() for r in caplog.records)


def test_submit_rejects_other_decisions(sqlite_url: str) -> None:
    url = sqlite_url
    with pytest.raises(TypeError):
        RecordWriter(url).submit(cast(Any, "not a record"))


# Surveys, IVR paths, callbacks and messages.


def _survey(call_id: str = "c1", score: int = 2, at: float = T0 + 300) -> SurveyScore:
    return SurveyScore(call_id, score=score, scale=5, dissatisfied=score <= 2, at=at)


def _ivr(call_id: str = "c1", path: str = "main:1>sales", at: float = T0 - 20) -> IvrPath:
    return IvrPath(call_id, caller="0611", hotline="1900", path=path, at=at)


def _callback(n: int) -> CallbackRequested:
    return CallbackRequested(f"b{n}", "0622", "1900", "sales", "callback", T0 + n, T0 + 3600)


def _message(n: int) -> MessageLeft:
    return MessageLeft(f"m{n}", "0633", "1900", f"/msg/m{n}.wav", 3.5 + n, T0 + n)


def _annotations(row: Row[Any]) -> tuple[object, ...]:
    return (row.survey_score, row.survey_scale, row.dissatisfied, row.ivr_path)


async def test_survey_after_the_call_record_only_sets_the_survey(
    url: str, writer: RecordWriter
) -> None:
    ended = replace(
        _entry(), agent="2001", answered_at=T0 + 5, ended_at=T0 + 65, disposition="answered"
    )
    writer.submit(ended)
    await _until(lambda: writer.pending == 0)
    writer.submit(_survey(score=2))
    await _until(lambda: writer.pending == 0)
    (row,) = await _calls(url)
    assert _annotations(row) == (2, 5, True, None)
    assert (row.caller, row.queue, row.agent, row.disposition) == (
        "0611",
        "sales",
        "2001",
        "answered",
    )
    assert row.entered_at == datetime.fromtimestamp(T0, tz=UTC)
    assert row.ended_at == datetime.fromtimestamp(T0 + 65, tz=UTC)


async def test_survey_before_the_call_record_makes_a_row_the_record_fills(
    url: str, writer: RecordWriter
) -> None:
    writer.submit(_survey(score=5, at=T0 + 300))
    await _until(lambda: writer.pending == 0)
    (row,) = await _calls(url)
    assert (row.call_id, row.caller, row.hotline, row.queue, row.disposition, row.offers) == (
        "c1",
        "",
        "",
        "",
        "ivr",
        0,
    )
    assert row.entered_at == datetime.fromtimestamp(T0 + 300, tz=UTC)
    assert _annotations(row) == (5, 5, False, None)

    writer.submit(replace(_entry(), agent="2001", disposition="answered", answered_at=T0 + 3))
    await _until(lambda: writer.pending == 0)
    (row,) = await _calls(url)
    assert (row.caller, row.hotline, row.queue, row.agent, row.disposition) == (
        "0611",
        "1900",
        "sales",
        "2001",
        "answered",
    )
    assert row.entered_at == datetime.fromtimestamp(T0, tz=UTC)
    assert _annotations(row) == (5, 5, False, None)


async def test_ivr_path_for_a_call_that_never_queued(url: str, writer: RecordWriter) -> None:
    writer.submit(_ivr("g1", "main:9>goodbye", at=T0 + 7))
    await _until(lambda: writer.pending == 0)
    (row,) = await _calls(url)
    assert (row.call_id, row.caller, row.hotline, row.queue, row.agent) == (
        "g1",
        "0611",
        "1900",
        "",
        None,
    )
    assert (row.disposition, row.offers, row.ended_at) == ("ivr", 0, None)
    assert row.entered_at == datetime.fromtimestamp(T0 + 7, tz=UTC)
    assert row.updated_at.tzinfo == UTC
    assert _annotations(row) == (None, None, False, "main:9>goodbye")


async def test_call_record_updates_keep_survey_and_ivr_path(url: str, writer: RecordWriter) -> None:
    entry = _entry()
    writer.submit(_ivr())
    writer.submit(entry)
    await _until(lambda: writer.pending == 0)
    writer.submit(_survey(score=1))
    await _until(lambda: writer.pending == 0)
    # Later records of the call, in a batch of their own and mixed with another survey.
    writer.submit(replace(entry, agent="2001", disposition="ringing", offers=1))
    await _until(lambda: writer.pending == 0)
    (row,) = await _calls(url)
    assert (row.disposition, row.offers) == ("ringing", 1)
    assert _annotations(row) == (1, 5, True, "main:1>sales")

    writer.submit(replace(entry, disposition="answered", answered_at=T0 + 9, offers=2))
    writer.submit(_survey(score=4))
    writer.submit(replace(entry, disposition="answered", ended_at=T0 + 99, offers=2))
    await _until(lambda: writer.pending == 0)
    (row,) = await _calls(url)
    assert (row.disposition, row.offers) == ("answered", 2)
    assert row.ended_at == datetime.fromtimestamp(T0 + 99, tz=UTC)
    assert _annotations(row) == (4, 5, False, "main:1>sales")


async def test_ivr_path_fills_in_the_caller_a_survey_did_not_know(
    url: str, writer: RecordWriter
) -> None:
    writer.submit(_survey("x1", at=T0 + 50))
    await _until(lambda: writer.pending == 0)
    writer.submit(_ivr("x1", "main:2", at=T0 + 10))
    await _until(lambda: writer.pending == 0)
    (row,) = await _calls(url)
    assert (row.caller, row.hotline, row.disposition) == ("0611", "1900", "ivr")
    assert _annotations(row) == (2, 5, True, "main:2")


async def test_first_annotation_in_a_batch_makes_the_row(url: str, writer: RecordWriter) -> None:
    # Submitted back to back, so each pair lands in one batch.
    writer.submit(_ivr("a", "main:1", at=T0 + 1))
    writer.submit(_survey("a", at=T0 + 50))
    writer.submit(_survey("b", at=T0 + 60))
    writer.submit(_ivr("b", "main:2", at=T0 + 2))
    await _until(lambda: writer.pending == 0)
    a, b = await _calls(url)
    assert a.entered_at == datetime.fromtimestamp(T0 + 1, tz=UTC)
    assert b.entered_at == datetime.fromtimestamp(T0 + 60, tz=UTC)
    for row in (a, b):
        assert (row.caller, row.hotline, row.disposition) == ("0611", "1900", "ivr")
        assert (row.survey_score, row.ivr_path is not None) == (2, True)


async def test_callbacks_and_messages_are_inserted(url: str, writer: RecordWriter) -> None:
    writer.submit(_callback(0))
    writer.submit(
        CallbackRequested("b1", "0622", "1900", "support", "after-hours", T0 + 1.5, T0 + 86400)
    )
    writer.submit(_message(0))
    await _until(lambda: writer.pending == 0)

    b0, b1 = await rows(url, select(CallbackRow.__table__).order_by(CallbackRow.id))
    assert (b0.call_id, b0.caller, b0.hotline, b0.queue, b0.kind) == (
        "b0",
        "0622",
        "1900",
        "sales",
        "callback",
    )
    assert (b0.status, b0.attempts) == ("pending", 0)
    assert b1.kind == "after-hours"
    assert b1.requested_at == datetime.fromtimestamp(T0 + 1.5, tz=UTC)
    assert b1.due_at == datetime.fromtimestamp(T0 + 86400, tz=UTC)
    assert b1.updated_at.tzinfo == UTC

    (m0,) = await rows(url, select(MessageRow.__table__))
    assert (m0.call_id, m0.caller, m0.hotline, m0.path, m0.seconds) == (
        "m0",
        "0633",
        "1900",
        "/msg/m0.wav",
        3.5,
    )
    assert m0.created_at == datetime.fromtimestamp(T0, tz=UTC)
    assert await _calls(url) == []  # neither makes a call row


def _sequential(items: list[Record]) -> dict[str, dict[str, object]]:
    """What the calls table holds if every item is applied alone, in order."""
    rows: dict[str, dict[str, object]] = {}
    for item in items:
        if isinstance(item, CallRecord):
            row = rows.setdefault(
                item.call_id, {"score": None, "scale": None, "dissatisfied": False, "path": None}
            )
            row.update(
                caller=item.caller,
                hotline=item.hotline,
                queue=item.queue,
                disposition=item.disposition,
                offers=item.offers,
                entered_at=item.entered_at,
            )
        elif isinstance(item, SurveyScore | IvrPath):
            row = rows.setdefault(
                item.call_id,
                {
                    "caller": "",
                    "hotline": "",
                    "queue": "",
                    "disposition": "ivr",
                    "offers": 0,
                    "entered_at": item.at,
                    "score": None,
                    "scale": None,
                    "dissatisfied": False,
                    "path": None,
                },
            )
            if isinstance(item, IvrPath):
                row["path"] = item.path
                if row["caller"] == "":
                    row["caller"] = item.caller
                if row["hotline"] == "":
                    row["hotline"] = item.hotline
            else:
                row.update(score=item.score, scale=item.scale, dissatisfied=item.dissatisfied)
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_mixed_items_land_as_if_written_one_by_one(
    url: str, writer: RecordWriter, seed: int
) -> None:
    rng = random.Random(seed)
    items: list[Record] = []
    for n in range(900):
        call_id = f"c{rng.randrange(40)}"
        kind = rng.randrange(6)
        at = T0 + n
        item: Record
        if kind == 0:
            item = CallRecord(call_id, f"06{n}", "1900", f"q{n}", at, offers=n)
        elif kind == 1:
            item = _survey(call_id, score=rng.randrange(1, 6), at=at)
        elif kind == 2:
            item = IvrPath(call_id, f"07{n}", f"h{n}", f"p{n}", at)
        elif kind == 3:
            item = _callback(n)
        elif kind == 4:
            item = _message(n)
        else:
            item = _state(n)
        items.append(item)
        writer.submit(item)
        if rng.random() < 0.02:
            await asyncio.sleep(0)  # let the writer start batches mid-stream
    await _until(lambda: writer.pending == 0)

    got = {
        row.call_id: {
            "caller": row.caller,
            "hotline": row.hotline,
            "queue": row.queue,
            "disposition": row.disposition,
            "offers": row.offers,
            "entered_at": row.entered_at.timestamp(),
            "score": row.survey_score,
            "scale": row.survey_scale,
            "dissatisfied": row.dissatisfied,
            "path": row.ivr_path,
        }
        for row in await _calls(url)
    }
    assert got == _sequential(items)

    callbacks = await scalars(url, select(CallbackRow.call_id).order_by(CallbackRow.id))
    assert callbacks == [i.call_id for i in items if isinstance(i, CallbackRequested)]
    messages = await scalars(url, select(MessageRow.call_id).order_by(MessageRow.id))
    assert messages == [i.call_id for i in items if isinstance(i, MessageLeft)]
    states = [r.old_state for r in await _states(url)]
    assert states == [i.old for i in items if isinstance(i, AgentStateChanged)]


async def test_new_items_wait_for_the_0002_schema(blank_db_url: str) -> None:
    url = blank_db_url
    await upgrade_async(url, "0001")
    async with _running(url) as writer:
        writer.submit(_ivr())
        writer.submit(_entry())
        writer.submit(_message(0))
        await asyncio.sleep(0.1)
        assert writer.pending == 3  # "no such column/table" is retried, not dropped
        await upgrade_async(url)
        await _until(lambda: writer.pending == 0)
    (row,) = await _calls(url)
    assert (row.queue, row.ivr_path) == ("sales", "main:1>sales")
    assert len(await rows(url, select(MessageRow.__table__))) == 1


async def test_refused_message_is_skipped_without_blocking_the_rest(
    url: str, writer: RecordWriter, caplog: pytest.LogCaptureFixture
) -> None:
    bad = replace(_message(1), path=cast(Any, None))  # NOT NULL violated
    with caplog.at_level(logging.ERROR, logger="acd.records.writer"):
        writer.submit(_message(0))
        writer.submit(bad)
        writer.submit(_survey())
        writer.submit(_message(2))
        await _until(lambda: writer.pending == 0)
    assert await scalars(url, select(MessageRow.call_id).order_by(MessageRow.id)) == [
        "m0",
        "m2",
    ]
    assert [_annotations(r) for r in await _calls(url)] == [(2, 5, True, None)]
    assert any("refused" in r.getMessage() for r in caplog.records)


def test_submit_accepts_every_record_type(sqlite_url: str) -> None:
    url = sqlite_url
    writer = RecordWriter(url)
    for item in (_entry(), _state(0), _survey(), _ivr(), _callback(0), _message(0)):
        writer.submit(item)
    assert writer.pending == 6


async def test_a_refused_record_is_logged_with_the_callers_number_masked(
    url: str, writer: RecordWriter, caplog: pytest.LogCaptureFixture
) -> None:
    """Logged field by field so it can be recovered by hand, but caller numbers are
    personal data: the log shows them masked, as every other log line does."""
    bad = CallRecord("c9", "13800138000", cast(Any, None), "general", T0)  # NOT NULL violated
    with caplog.at_level(logging.ERROR, logger="acd.records.writer"):
        writer.submit(bad)
        writer.submit(_state(0))
        await _until(lambda: writer.pending == 0)
    [line] = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert "call_id='c9'" in line and "caller=138******00" in line
    assert "13800138000" not in line
