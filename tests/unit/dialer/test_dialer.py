"""The callback dialer's adapters: scheduled callbacks reach the core only when due and inside
their hotline's business hours (the seeds: callbacks are placed while agents are in). The
dialplan's word on a dial is AMI, tested with the translator (tests/unit/engine). On the test
site (tests/unit/site.py), whose home line keeps the seeds' hours: an ops edit of the shipped
hours must not move these times."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from acd.clock import ManualClock
from acd.config import Config
from acd.core import events as ev
from acd.core.decisions import CallbackAttempt, CallbackRequested
from acd.dialer import CallbackPoller, add_callback
from acd.records.models import make_engine
from acd.records.store import Records, Row
from acd.records.writer import RecordWriter
from tests.unit.site import site

# A Tuesday: 10:00 and 20:00 in Shanghai, open and closed on the site's home line.
OPEN = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
CLOSED = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def config() -> Config:
    return site()


def poll(url: str, at: datetime) -> list[ev.Event]:
    seen: list[ev.Event] = []
    clock = ManualClock(at.timestamp())
    poller = CallbackPoller(config, url, seen.append, clock)

    async def once() -> None:
        engine = make_engine(url)
        try:
            await poller.poll(engine)
        finally:
            await engine.dispose()

    asyncio.run(once())
    return seen


def callbacks(url: str) -> list[Row]:
    """The callbacks in the records, as `acd callbacks` lists them."""

    async def read() -> list[Row]:
        async with Records(url) as records:
            return await records.callbacks()

    return asyncio.run(read())


def add(url: str, number: str, at: datetime, **kw: object) -> None:
    fields: dict[str, object] = {"queue": "general", "hotline": "home", "kind": "revisit"}
    fields.update(kw)
    asyncio.run(
        add_callback(url, config(), number=number, within_working_days=1, now=at, **fields)  # type: ignore[arg-type]
    )


def test_callbacks_are_handed_over_in_business_hours_oldest_request_first(db_url: str) -> None:
    add(db_url, "13900000002", OPEN)
    add(db_url, "13900000001", OPEN - timedelta(hours=1))
    assert poll(db_url, CLOSED) == []  # 20:00 in Shanghai: after hours
    due = poll(db_url, OPEN)
    assert [e.number for e in due if isinstance(e, ev.CallbackDue)] == [
        "13900000001",
        "13900000002",
    ]
    first = due[0]
    assert isinstance(first, ev.CallbackDue)
    # Not dialled once the morning's hours end (12:00 in Shanghai, 04:00 UTC: lunch).
    assert first.not_after == datetime(2026, 11, 24, 4, 0, tzinfo=UTC).timestamp()
    assert (first.kind, first.attempt, first.queue) == ("revisit", 0, "general")


async def write(url: str, *items: object) -> None:
    writer = RecordWriter(url)
    await writer.start()
    for item in items:
        writer.submit(item)  # type: ignore[arg-type]
    await writer.close()


def attempt(
    callback_id: int | None, call_id: str, outcome: str, retry_at: float | None, n: int = 1
) -> CallbackAttempt:
    return CallbackAttempt(
        callback_id=callback_id,
        call_id=call_id,
        number="13900000001",
        queue="general",
        kind="revisit" if callback_id else "virtual-hold",
        agent="1001",
        attempt=n,
        outcome=outcome,
        at=OPEN.timestamp(),
        retry_at=retry_at,
    )


def test_a_failed_dial_waits_for_its_gap_and_the_last_one_gives_up(db_url: str) -> None:
    add(db_url, "13900000001", OPEN)
    (row,) = callbacks(db_url)
    retry = OPEN + timedelta(minutes=30)
    asyncio.run(
        write(db_url, attempt(int(str(row["id"])), "cb1-1", "no-answer", retry.timestamp()))
    )
    (row,) = callbacks(db_url)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert poll(db_url, OPEN + timedelta(minutes=29)) == []  # not before the gap
    (again,) = poll(db_url, retry)
    assert isinstance(again, ev.CallbackDue) and again.attempt == 1
    asyncio.run(write(db_url, attempt(int(str(row["id"])), "cb1-2", "busy", None, n=2)))
    (row,) = callbacks(db_url)
    assert (row["status"], row["attempts"]) == ("failed", 2)
    assert poll(db_url, retry + timedelta(hours=1)) == []


def test_a_virtual_hold_caller_is_queued_not_polled_until_its_dial_fails(db_url: str) -> None:
    kept = CallbackRequested(
        call_id="c9",
        caller="13900000009",
        hotline="home",
        queue="general",
        kind="virtual-hold",
        requested_at=OPEN.timestamp(),
        due_at=OPEN.timestamp(),
        status="queued",
    )
    asyncio.run(write(db_url, kept))
    assert poll(db_url, OPEN) == []  # the caller's place is in the core's line
    asyncio.run(write(db_url, attempt(None, "c9", "no-answer", OPEN.timestamp() + 60)))
    (due,) = poll(db_url, OPEN + timedelta(minutes=1))
    assert isinstance(due, ev.CallbackDue) and (due.kind, due.number) == (
        "virtual-hold",
        "13900000009",
    )
    asyncio.run(write(db_url, attempt(None, "c9", "answered", None, n=2)))
    (row,) = callbacks(db_url)
    assert (row["status"], row["attempts"]) == ("done", 2)
