"""Caller IDs are whatever the caller's network presents: every record keeps them whole.

Empty, 400 characters long, full of SQL and shell metacharacters, or not ASCII at all: the
call's record, its IVR path, its callback request, its message and its dial attempts are
stored exactly as given, on SQLite and on PostgreSQL (which enforced VARCHAR(64) until 0007
and then skipped the whole record). A value a backend cannot hold at all (NUL, which
PostgreSQL's text refuses) is refused on its own, logged, and never holds up the records
after it.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select

from acd.core.decisions import CallbackAttempt, CallbackRequested, CallRecord
from acd.records.items import IvrPath, MessageLeft, Record
from acd.records.models import CallbackAttemptRow, CallbackRow, CallRow, MessageRow
from acd.records.writer import RecordWriter
from tests.unit.records.reading import rows, scalars

T0 = 1_700_000_000.0

HOSTILE = {
    "empty": "",
    "long": "8" * 400,
    "sql": "'); DROP TABLE calls; -- \" OR 1=1 /* %s %(x)s ? :caller",
    "shell": "$(reboot)`id`;|&><*?~ \\ ${IFS}'\"",
    "non-ascii": "张三☎️١٢٣ +86 (0)10 ‮4321",
    "long-non-ascii": "電" * 400,
}


def records_for(call_id: str, caller: str) -> list[Record]:
    return [
        IvrPath(call_id, caller, "home", "main/1", T0),
        CallRecord(call_id, caller, "home", "general", T0, disposition="abandoned"),
        CallbackRequested(call_id, caller, "home", "general", "callback", T0, T0 + 3600),
        MessageLeft(call_id, caller, "home", "/spool/messages/m.wav", 3.5, T0),
        CallbackAttempt(None, call_id, caller, "general", "virtual-hold", "1001", 1, "busy", T0),
    ]


async def write(url: str, items: list[Record]) -> None:
    writer = RecordWriter(url, retry_initial=0.01, retry_max=0.05)
    await writer.start()
    try:
        for item in items:
            writer.submit(item)
        async with asyncio.timeout(20):
            while writer.pending:  # noqa: ASYNC110 - a counter, nothing to await on
                await asyncio.sleep(0.01)
    finally:
        await writer.close(timeout=5)


async def stored(url: str, call_id: str) -> list[str]:
    """The caller as each table holds it for `call_id`."""
    found: list[str] = []
    for column, key in [
        (CallRow.caller, CallRow.call_id),
        (CallbackRow.caller, CallbackRow.call_id),
        (MessageRow.caller, MessageRow.call_id),
        (CallbackAttemptRow.number, CallbackAttemptRow.call_id),
    ]:
        found += await scalars(url, select(column).where(key == call_id))
    return found


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_any_caller_id_is_stored_as_given(db_url: str, name: str) -> None:
    caller = HOSTILE[name]
    await write(db_url, [*records_for("c1", caller), *records_for("after", "13800138000")])
    assert await stored(db_url, "c1") == [caller] * 4
    assert await stored(db_url, "after") == ["13800138000"] * 4
    (path,) = await scalars(db_url, select(CallRow.ivr_path).where(CallRow.call_id == "c1"))
    assert path == "main/1"


async def test_the_calls_tables_are_intact_after_sql_in_a_caller_id(db_url: str) -> None:
    await write(db_url, records_for("c1", HOSTILE["sql"]))
    assert len(await rows(db_url, select(CallRow.__table__))) == 1
    assert len(await rows(db_url, select(CallbackRow.__table__))) == 1


async def test_a_value_a_backend_cannot_hold_blocks_nothing_after_it(
    db_url: str, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """NUL never comes from the adapters (they strip control characters), but if a record
    ever holds one, PostgreSQL refuses that record alone and the writer moves on."""

    def call(call_id: str, caller: str = "010") -> CallRecord:
        return CallRecord(call_id, caller, "home", "general", T0)

    with caplog.at_level(logging.ERROR, logger="acd.records.writer"):
        await write(db_url, [call("before"), call("nul", "1\x002"), call("after")])
    kept = await scalars(db_url, select(CallRow.call_id).order_by(CallRow.call_id))
    if backend == "postgresql":
        assert kept == ["after", "before"]
        assert any("refused" in r.getMessage() for r in caplog.records)
    else:
        assert kept == ["after", "before", "nul"]
