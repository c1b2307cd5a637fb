"""RecordWriter: order, upserts, and nothing lost while the database is locked or missing."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from acd.core.decisions import AgentStateChanged, CallRecord
from acd.records.migrate import upgrade_async
from acd.records.models import AgentStateRow, CallRow
from acd.records.writer import RecordWriter

T0 = 1_700_000_000.0


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "records.db"


@pytest.fixture
def url(db: Path) -> str:
    # A short busy timeout so a held lock surfaces as an error within the test's time.
    return f"sqlite+aiosqlite:///{db}?timeout=0.05"


@pytest.fixture
async def writer(url: str) -> AsyncIterator[RecordWriter]:
    w = RecordWriter(url, retry_initial=0.01, retry_max=0.05)
    await w.start()
    yield w
    await w.close(timeout=5)


@pytest.fixture
def session(db: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        yield s
    engine.dispose()


def _calls(session: Session) -> list[CallRow]:
    session.expire_all()
    return list(session.scalars(select(CallRow).order_by(CallRow.call_id)))


def _states(session: Session) -> list[AgentStateRow]:
    session.expire_all()
    return list(session.scalars(select(AgentStateRow).order_by(AgentStateRow.id)))


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
    db: Path, url: str, writer: RecordWriter, session: Session
) -> None:
    await upgrade_async(url)
    entry = _entry()
    ringing = replace(entry, agent="2001", disposition="ringing", offers=1)
    answered = replace(ringing, answered_at=T0 + 12.25, disposition="answered")
    ended = replace(answered, ended_at=T0 + 72.5, hangup_side="agent")

    writer.submit(entry)
    await _until(lambda: writer.pending == 0)
    (row,) = _calls(session)
    assert (row.disposition, row.agent, row.answered_at, row.wait_seconds) == (
        "waiting",
        None,
        None,
        None,
    )

    for record in (ringing, answered, ended):
        writer.submit(record)
    await _until(lambda: writer.pending == 0)

    (row,) = _calls(session)
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

    # SQLite holds UTC without an offset; the type adds it back on the way out.
    with sqlite3.connect(db) as raw:
        (stored,) = raw.execute("SELECT entered_at FROM calls").fetchone()
    assert stored == "2023-11-14 22:13:20.000000"


async def test_agent_state_changes_are_appended(
    url: str, writer: RecordWriter, session: Session
) -> None:
    await upgrade_async(url)
    writer.submit(AgentStateChanged("1001", "logged_out", "ready", "login", T0))
    writer.submit(AgentStateChanged("1001", "ready", "paused", None, T0 + 5))
    await _until(lambda: writer.pending == 0)
    rows = _states(session)
    assert [(r.agent, r.old_state, r.new_state, r.reason) for r in rows] == [
        ("1001", "logged_out", "ready", "login"),
        ("1001", "ready", "paused", None),
    ]
    assert rows[1].at == datetime.fromtimestamp(T0 + 5, tz=UTC)


async def test_many_items_keep_their_order(
    url: str, writer: RecordWriter, session: Session
) -> None:
    await upgrade_async(url)
    calls = {f"c{i}": _entry(f"c{i}", T0 + i) for i in range(5)}
    for n in range(1200):
        call_id = f"c{n % 5}"
        calls[call_id] = replace(calls[call_id], offers=n)
        writer.submit(calls[call_id])
        writer.submit(_state(n))
        if n % 97 == 0:
            await asyncio.sleep(0)  # let the writer start batches mid-stream
    await _until(lambda: writer.pending == 0)

    assert [(r.call_id, r.offers) for r in _calls(session)] == [
        (c.call_id, c.offers) for c in calls.values()
    ]
    states = _states(session)
    assert [r.old_state for r in states] == [f"s{n}" for n in range(1200)]


async def test_locked_database_delays_but_loses_nothing(
    db: Path,
    url: str,
    writer: RecordWriter,
    session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await upgrade_async(url)
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
    assert [r.old_state for r in _states(session)] == [f"s{n}" for n in range(50)]
    assert [r.call_id for r in _calls(session)] == ["c1"]


async def test_missing_schema_is_waited_for(
    url: str, writer: RecordWriter, session: Session
) -> None:
    writer.submit(_state(0))
    writer.submit(_entry())
    await asyncio.sleep(0.1)
    assert writer.pending == 2  # "no such table" is retried, not dropped
    await upgrade_async(url)
    await _until(lambda: writer.pending == 0)
    assert len(_states(session)) == 1
    assert len(_calls(session)) == 1


async def test_close_drains_everything_submitted(url: str, session: Session) -> None:
    await upgrade_async(url)
    w = RecordWriter(url)
    await w.start()
    for n in range(300):
        w.submit(_state(n))
    w.submit(_entry())
    await w.close()
    assert w.pending == 0
    assert len(_states(session)) == 300
    assert len(_calls(session)) == 1
    with pytest.raises(RuntimeError):
        w.submit(_state(0))
    await w.close()  # a second close is a no-op


async def test_close_writes_items_submitted_before_start(url: str, session: Session) -> None:
    await upgrade_async(url)
    w = RecordWriter(url)
    w.submit(_entry())
    await w.close()
    assert len(_calls(session)) == 1


async def test_close_gives_up_after_timeout(
    db: Path, url: str, caplog: pytest.LogCaptureFixture
) -> None:
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
    url: str, writer: RecordWriter, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    await upgrade_async(url)
    bad = AgentStateChanged(cast(Any, None), "ready", "paused", None, T0)  # NOT NULL violated
    with caplog.at_level(logging.ERROR, logger="acd.records.writer"):
        writer.submit(_state(0))
        writer.submit(bad)
        writer.submit(_state(1))
        await _until(lambda: writer.pending == 0)
    assert [r.old_state for r in _states(session)] == ["s0", "s1"]
    assert any("refused" in r.getMessage() for r in caplog.records)


def test_submit_rejects_other_decisions(url: str) -> None:
    with pytest.raises(TypeError):
        RecordWriter(url).submit(cast(Any, "not a record"))
