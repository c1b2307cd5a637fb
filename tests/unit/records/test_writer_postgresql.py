"""RecordWriter on PostgreSQL: a server that goes away and comes back, and data it refuses.

The seeds' rule that a database outage must never lose a call's record is checked here with a
real server stopped under the writer: every record submitted before, during and after the
outage must arrive, in submission order, exactly once. The server is stopped with
`pg_ctl -m fast` (active transactions are rolled back, clients disconnected), as a restart by an
operator or a failover would; the test server runs with synchronous_commit=off, so an
"immediate" (crash) stop could lose commits it had acknowledged, which no writer can make up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from acd.core.decisions import AgentStateChanged, CallRecord
from acd.records.models import AgentStateRow, CallRow
from acd.records.writer import RecordWriter
from tests.pg_server import PgServer
from tests.unit.records.reading import rows, scalars

T0 = 1_700_000_000.0


def _state(n: int) -> AgentStateChanged:
    return AgentStateChanged(agent="1001", old=f"s{n}", new=f"s{n + 1}", reason=None, at=T0 + n)


def _call(n: int) -> CallRecord:
    return CallRecord("c1", "0611", "1900", "sales", T0, offers=n)


async def _until(condition: Callable[[], bool]) -> None:
    """Poll: the writer exposes progress only through `pending` and its log."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met within 20 s")


@pytest.fixture
def server(pg_server: PgServer) -> Iterator[PgServer]:
    """The session's server, running again after the test whatever happened in it."""
    yield pg_server
    if not pg_server.running():
        pg_server.start()


async def _history(url: str) -> list[str]:
    return await scalars(url, select(AgentStateRow.old_state).order_by(AgentStateRow.id))


async def test_records_submitted_around_an_outage_arrive_in_order_exactly_once(
    server: PgServer, postgresql_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = postgresql_url
    writer = RecordWriter(url, retry_initial=0.01, retry_max=0.1)
    await writer.start()
    submitted = 0

    def submit(count: int) -> None:
        nonlocal submitted
        for _ in range(count):
            writer.submit(_state(submitted))
            writer.submit(_call(submitted))
            submitted += 1

    try:
        submit(50)
        await _until(lambda: writer.pending == 0)
        with caplog.at_level(logging.INFO, logger="acd.records.writer"):
            # The server goes down while the writer is busy with a stream of records.
            stopping = asyncio.create_task(asyncio.to_thread(server.stop))
            while not stopping.done():
                submit(20)
                await asyncio.sleep(0.005)
            await stopping
            submit(100)  # and records keep coming while it is down
            await _until(lambda: any("retrying" in r.getMessage() for r in caplog.records))
            assert writer.pending > 0
            held = writer.pending
            await asyncio.sleep(0.3)
            assert writer.pending >= held  # nothing is dropped while the server is away

            starting = asyncio.create_task(asyncio.to_thread(server.start))
            while not starting.done():
                submit(20)
                await asyncio.sleep(0.005)
            await starting
            submit(50)
            await _until(lambda: writer.pending == 0)
    finally:
        await writer.close(timeout=10)

    assert await _history(url) == [f"s{n}" for n in range(submitted)]
    (call,) = await rows(url, select(CallRow.__table__))
    assert call.offers == submitted - 1  # the last record of the call is what the row holds
    assert any("written again" in r.getMessage() for r in caplog.records)


async def test_close_drains_what_was_pending_when_the_server_returns(
    server: PgServer, postgresql_url: str
) -> None:
    url = postgresql_url
    writer = RecordWriter(url, retry_initial=0.01, retry_max=0.1)
    await writer.start()
    writer.submit(_state(0))
    await _until(lambda: writer.pending == 0)

    await asyncio.to_thread(server.stop)
    for n in range(1, 300):
        writer.submit(_state(n))
    closing = asyncio.create_task(writer.close(timeout=20))
    await asyncio.sleep(0.3)
    assert not closing.done()  # close() waits for the records instead of dropping them
    assert writer.pending == 299
    await asyncio.to_thread(server.start)
    await closing

    assert writer.pending == 0
    assert await _history(url) == [f"s{n}" for n in range(300)]


async def test_a_value_the_server_refuses_is_skipped_not_retried_forever(
    postgresql_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL enforces VARCHAR lengths (SQLite does not); asyncpg reports the refusal as a
    plain DBAPIError, which must still count as a bad item rather than an outage."""
    url = postgresql_url
    too_long = CallRecord("c1", "1900", "h" * 65, "sales", T0)  # calls.hotline is VARCHAR(64)
    writer = RecordWriter(url, retry_initial=0.01, retry_max=0.05)
    await writer.start()
    try:
        with caplog.at_level(logging.ERROR, logger="acd.records.writer"):
            writer.submit(_state(0))
            writer.submit(too_long)
            writer.submit(_state(1))
            await _until(lambda: writer.pending == 0)
    finally:
        await writer.close(timeout=5)
    assert await _history(url) == ["s0", "s1"]
    assert await rows(url, select(CallRow.__table__)) == []
    assert any("refused" in r.getMessage() for r in caplog.records)
