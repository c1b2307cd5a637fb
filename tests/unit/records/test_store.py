"""`Records`: one engine for the reads and the case work, made once from the URL; reads never
wait for SQLite's write lock, case work takes it up front."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from acd.records import store
from acd.records.store import Records


async def test_one_engine_serves_every_read_and_write(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[object] = []
    real = store.make_engine

    def counting(url: Any, **kwargs: Any) -> Any:
        made.append(url)
        return real(url, **kwargs)

    monkeypatch.setattr(store, "make_engine", counting)
    async with Records(db_url) as records:
        assert await records.recent_calls() == []
        assert await records.review_done(1, "fine", "wang") is False
        assert await records.caller_history("0611") is not None
        assert await records.agent_sessions() == []
    assert made == [db_url]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_reads_do_not_wait_for_the_write_lock_case_work_does(db_url: str) -> None:
    path = make_url(db_url).database
    assert path is not None
    async with Records(f"{db_url}?timeout=0.2") as records:
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
            assert await records.recent_calls() == []
            with pytest.raises(OperationalError, match="locked"):
                await records.review_done(1, "fine", "wang")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert await records.review_done(1, "fine", "wang") is False


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_modules_with_sql_of_their_own_get_the_same_rules(db_url: str) -> None:
    """Reports, staffing, web users and retention run their own SQL on `reading()` and
    `writing()`: a read still never waits for a writer, a write still locks up front."""
    path = make_url(db_url).database
    assert path is not None
    async with Records(f"{db_url}?timeout=0.2") as records:
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            async with records.reading() as conn:
                assert (await conn.exec_driver_sql("SELECT count(*) FROM calls")).scalar() == 0
            with pytest.raises(OperationalError, match="locked"):
                async with records.writing() as conn:
                    await conn.exec_driver_sql("SELECT 1")  # no write yet: the lock is taken first
        finally:
            holder.execute("ROLLBACK")
            holder.close()
