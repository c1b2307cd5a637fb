"""RecordWriter: order, upserts, and nothing lost while the database is locked or missing."""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from acd.core.decisions import (
    AgentStateChanged,
    CallbackRequested,
    CallRecord,
    IvrPath,
    MessageLeft,
    Record,
    SurveyScore,
)
from acd.records.migrate import upgrade_async
from acd.records.models import AgentStateRow, CallbackRow, CallRow, MessageRow
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


# Surveys, IVR paths, callbacks and messages.


def _survey(call_id: str = "c1", score: int = 2, at: float = T0 + 300) -> SurveyScore:
    return SurveyScore(call_id, score=score, scale=5, dissatisfied=score <= 2, at=at)


def _ivr(call_id: str = "c1", path: str = "main:1>sales", at: float = T0 - 20) -> IvrPath:
    return IvrPath(call_id, caller="0611", hotline="1900", path=path, at=at)


def _callback(n: int) -> CallbackRequested:
    return CallbackRequested(f"b{n}", "0622", "1900", "sales", "callback", T0 + n, T0 + 3600)


def _message(n: int) -> MessageLeft:
    return MessageLeft(f"m{n}", "0633", "1900", f"/msg/m{n}.wav", 3.5 + n, T0 + n)


def _annotations(row: CallRow) -> tuple[object, ...]:
    return (row.survey_score, row.survey_scale, row.dissatisfied, row.ivr_path)


async def test_survey_after_the_call_record_only_sets_the_survey(
    url: str, writer: RecordWriter, session: Session
) -> None:
    await upgrade_async(url)
    ended = replace(
        _entry(), agent="2001", answered_at=T0 + 5, ended_at=T0 + 65, disposition="answered"
    )
    writer.submit(ended)
    await _until(lambda: writer.pending == 0)
    writer.submit(_survey(score=2))
    await _until(lambda: writer.pending == 0)
    (row,) = _calls(session)
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
    url: str, writer: RecordWriter, session: Session
) -> None:
    await upgrade_async(url)
    writer.submit(_survey(score=5, at=T0 + 300))
    await _until(lambda: writer.pending == 0)
    (row,) = _calls(session)
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
    (row,) = _calls(session)
    assert (row.caller, row.hotline, row.queue, row.agent, row.disposition) == (
        "0611",
        "1900",
        "sales",
        "2001",
        "answered",
    )
    assert row.entered_at == datetime.fromtimestamp(T0, tz=UTC)
    assert _annotations(row) == (5, 5, False, None)


async def test_ivr_path_for_a_call_that_never_queued(
    url: str, writer: RecordWriter, session: Session
) -> None:
    await upgrade_async(url)
    writer.submit(_ivr("g1", "main:9>goodbye", at=T0 + 7))
    await _until(lambda: writer.pending == 0)
    (row,) = _calls(session)
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


async def test_call_record_updates_keep_survey_and_ivr_path(
    url: str, writer: RecordWriter, session: Session
) -> None:
    await upgrade_async(url)
    entry = _entry()
    writer.submit(_ivr())
    writer.submit(entry)
    await _until(lambda: writer.pending == 0)
    writer.submit(_survey(score=1))
    await _until(lambda: writer.pending == 0)
    # Later records of the call, in a batch of their own and mixed with another survey.
    writer.submit(replace(entry, agent="2001", disposition="ringing", offers=1))
    await _until(lambda: writer.pending == 0)
    (row,) = _calls(session)
    assert (row.disposition, row.offers) == ("ringing", 1)
    assert _annotations(row) == (1, 5, True, "main:1>sales")

    writer.submit(replace(entry, disposition="answered", answered_at=T0 + 9, offers=2))
    writer.submit(_survey(score=4))
    writer.submit(replace(entry, disposition="answered", ended_at=T0 + 99, offers=2))
    await _until(lambda: writer.pending == 0)
    (row,) = _calls(session)
    assert (row.disposition, row.offers) == ("answered", 2)
    assert row.ended_at == datetime.fromtimestamp(T0 + 99, tz=UTC)
    assert _annotations(row) == (4, 5, False, "main:1>sales")


async def test_ivr_path_fills_in_the_caller_a_survey_did_not_know(
    url: str, writer: RecordWriter, session: Session
) -> None:
    await upgrade_async(url)
    writer.submit(_survey("x1", at=T0 + 50))
    await _until(lambda: writer.pending == 0)
    writer.submit(_ivr("x1", "main:2", at=T0 + 10))
    await _until(lambda: writer.pending == 0)
    (row,) = _calls(session)
    assert (row.caller, row.hotline, row.disposition) == ("0611", "1900", "ivr")
    assert _annotations(row) == (2, 5, True, "main:2")


async def test_first_annotation_in_a_batch_makes_the_row(
    url: str, writer: RecordWriter, session: Session
) -> None:
    await upgrade_async(url)
    # Submitted back to back, so each pair lands in one batch.
    writer.submit(_ivr("a", "main:1", at=T0 + 1))
    writer.submit(_survey("a", at=T0 + 50))
    writer.submit(_survey("b", at=T0 + 60))
    writer.submit(_ivr("b", "main:2", at=T0 + 2))
    await _until(lambda: writer.pending == 0)
    a, b = _calls(session)
    assert a.entered_at == datetime.fromtimestamp(T0 + 1, tz=UTC)
    assert b.entered_at == datetime.fromtimestamp(T0 + 60, tz=UTC)
    for row in (a, b):
        assert (row.caller, row.hotline, row.disposition) == ("0611", "1900", "ivr")
        assert (row.survey_score, row.ivr_path is not None) == (2, True)


async def test_callbacks_and_messages_are_inserted(
    url: str, writer: RecordWriter, session: Session
) -> None:
    await upgrade_async(url)
    writer.submit(_callback(0))
    writer.submit(
        CallbackRequested("b1", "0622", "1900", "support", "after-hours", T0 + 1.5, T0 + 86400)
    )
    writer.submit(_message(0))
    await _until(lambda: writer.pending == 0)

    session.expire_all()
    b0, b1 = session.scalars(select(CallbackRow).order_by(CallbackRow.id))
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

    (m0,) = session.scalars(select(MessageRow))
    assert (m0.call_id, m0.caller, m0.hotline, m0.path, m0.seconds) == (
        "m0",
        "0633",
        "1900",
        "/msg/m0.wav",
        3.5,
    )
    assert m0.created_at == datetime.fromtimestamp(T0, tz=UTC)
    assert _calls(session) == []  # neither makes a call row


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
    url: str, writer: RecordWriter, session: Session, seed: int
) -> None:
    await upgrade_async(url)
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
        for row in _calls(session)
    }
    assert got == _sequential(items)

    session.expire_all()
    callbacks = session.scalars(select(CallbackRow.call_id).order_by(CallbackRow.id)).all()
    assert callbacks == [i.call_id for i in items if isinstance(i, CallbackRequested)]
    messages = session.scalars(select(MessageRow.call_id).order_by(MessageRow.id)).all()
    assert messages == [i.call_id for i in items if isinstance(i, MessageLeft)]
    states = [r.old_state for r in _states(session)]
    assert states == [i.old for i in items if isinstance(i, AgentStateChanged)]


async def test_new_items_wait_for_the_0002_schema(
    url: str, writer: RecordWriter, session: Session
) -> None:
    await upgrade_async(url, "0001")
    writer.submit(_ivr())
    writer.submit(_entry())
    writer.submit(_message(0))
    await asyncio.sleep(0.1)
    assert writer.pending == 3  # "no such column/table" is retried, not dropped
    await upgrade_async(url)
    await _until(lambda: writer.pending == 0)
    (row,) = _calls(session)
    assert (row.queue, row.ivr_path) == ("sales", "main:1>sales")
    session.expire_all()
    assert len(session.scalars(select(MessageRow)).all()) == 1


async def test_refused_message_is_skipped_without_blocking_the_rest(
    url: str, writer: RecordWriter, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    await upgrade_async(url)
    bad = replace(_message(1), path=cast(Any, None))  # NOT NULL violated
    with caplog.at_level(logging.ERROR, logger="acd.records.writer"):
        writer.submit(_message(0))
        writer.submit(bad)
        writer.submit(_survey())
        writer.submit(_message(2))
        await _until(lambda: writer.pending == 0)
    session.expire_all()
    assert session.scalars(select(MessageRow.call_id).order_by(MessageRow.id)).all() == [
        "m0",
        "m2",
    ]
    assert [_annotations(r) for r in _calls(session)] == [(2, 5, True, None)]
    assert any("refused" in r.getMessage() for r in caplog.records)


def test_submit_accepts_every_record_type(url: str) -> None:
    writer = RecordWriter(url)
    for item in (_entry(), _state(0), _survey(), _ivr(), _callback(0), _message(0)):
        writer.submit(item)
    assert writer.pending == 6
