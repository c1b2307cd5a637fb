"""`make_engine` on SQLite: plain transactions begin deferred, `for_writes` of the same engine
begins them IMMEDIATE (the write lock up front, so a read-then-write never fails on upgrade)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text

from acd.records.models import for_writes, make_engine


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_for_writes_begins_immediate_and_plain_transactions_do_not(db_url: str) -> None:
    engine = make_engine(db_url)
    begun: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("BEGIN"):
            begun.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        async with for_writes(engine).begin() as conn:
            await conn.execute(text("SELECT 1"))
        async with engine.begin() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert begun == ["BEGIN", "BEGIN IMMEDIATE", "BEGIN"]
