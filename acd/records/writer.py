"""Persist call records and everything else the core records, without holding up calls.

The engine must keep routing calls while the database is slow, locked or down, so `submit`
only queues; a single task writes in submission order and, when the database refuses, keeps
the items and retries with backoff. Order matters because a call's record is upserted several
times and the last write must be the latest state. What each item writes, and how a batch of
them becomes one transaction, is `acd.records.batch`'s business.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.privacy import masked_fields
from acd.records.batch import BUILDERS, Batch
from acd.records.items import Record
from acd.records.models import ensure_sqlite_dir, make_engine

_ITEM_TYPES = tuple(BUILDERS)

#: Items per transaction: enough to catch up quickly after an outage, small enough that the
#: SQLite write lock is never held for long.
BATCH_MAX = 200


def _is_bad_item(error: BaseException) -> bool:
    """True when retrying cannot help because the data itself is refused.

    Everything else - locks, lost connections, a schema not migrated yet, missing grants -
    is something an operator or time can fix, so those items are kept and retried.
    """
    if isinstance(error, sa_exc.IntegrityError | sa_exc.DataError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        # asyncpg's data errors ("value too long for type character varying(64)") reach
        # SQLAlchemy as a plain DBAPIError; without this they would be retried forever and
        # hold up every later record. SQLSTATE class 22 is data exceptions, 23 integrity.
        sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return isinstance(sqlstate, str) and sqlstate[:2] in ("22", "23")
    # A StatementError that is not a DBAPIError failed while binding parameters, before the
    # database was asked anything.
    return isinstance(error, sa_exc.StatementError)


def _short(error: BaseException) -> str:
    """The driver's message without SQLAlchemy's appended SQL and parameters (caller numbers)."""
    if isinstance(error, sa_exc.DBAPIError) and error.orig is not None:
        error = error.orig
    return f"{type(error).__name__}: {error}"


class RecordWriter:
    """Queue of records with one task draining it into the database.

    `submit` must be called from the event loop's thread. Items are written in submission
    order; several upserts of one call within a batch collapse to the last one, which is what
    the row would end up holding anyway. The same holds for surveys and IVR paths of one call,
    and since a `CallRecord` and those never write the same columns, writing a batch's call
    records before its annotations leaves the rows as strict submission order would.
    """

    def __init__(
        self,
        url: str,
        *,
        logger: logging.Logger | None = None,
        retry_initial: float = 0.2,
        retry_max: float = 5.0,
    ) -> None:
        if retry_initial <= 0 or retry_max < retry_initial:
            raise ValueError("need 0 < retry_initial <= retry_max")
        self._url = url
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._queue: asyncio.Queue[Record | None] = asyncio.Queue()
        self._buffer: list[Record] = []  # taken from the queue, not yet committed
        self._pending = 0
        self._engine: AsyncEngine | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def pending(self) -> int:
        """Items submitted but not yet committed (or given up on as unwritable)."""
        return self._pending

    async def start(self) -> None:
        """Create the engine and the writer task; items submitted earlier are kept."""
        if self._closed:
            raise RuntimeError("RecordWriter is closed")
        self._start()

    def _start(self) -> None:
        if self._task is not None:
            return
        ensure_sqlite_dir(self._url)
        self._engine = make_engine(self._url, immediate_writes=True)
        self._task = asyncio.create_task(self._run(self._engine), name="acd-record-writer")
        self._task.add_done_callback(self._on_task_done)

    def submit(self, item: Record) -> None:
        """Queue `item` for writing; never blocks and never drops."""
        if self._closed:
            raise RuntimeError("RecordWriter is closed")
        if not isinstance(item, _ITEM_TYPES):
            raise TypeError(f"cannot record {type(item).__name__}")
        self._queue.put_nowait(item)
        self._pending += 1

    async def close(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - public API
        """Write everything already submitted, then release the database.

        With a `timeout`, gives up after that many seconds (the database may be down for
        good at shutdown); whatever was not written is reported in the log.
        """
        if self._closed:
            return
        self._closed = True
        if self._task is None:
            if self._pending == 0:
                return
            self._start()  # items were submitted before start(); write them now
        task, engine = self._task, self._engine
        assert task is not None and engine is not None
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            self._log.error(
                "record writer closed after %.1fs with %d items unwritten", timeout, self._pending
            )
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await engine.dispose()

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._log.error("record writer task died", exc_info=task.exception())

    async def _run(self, engine: AsyncEngine) -> None:
        stopping = False
        while True:
            if not self._buffer:
                if stopping:
                    return
                first = await self._queue.get()
                if first is None:
                    return
                self._buffer.append(first)
            while not stopping and len(self._buffer) < BATCH_MAX:
                try:
                    item = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if item is None:
                    stopping = True
                else:
                    self._buffer.append(item)
            batch = self._buffer[:BATCH_MAX]
            await self._write_until_done(engine, batch)
            del self._buffer[: len(batch)]
            self._pending -= len(batch)

    async def _write_until_done(self, engine: AsyncEngine, batch: Sequence[Record]) -> None:
        delay = self._retry_initial
        attempt = 0
        while True:
            try:
                await self._write(engine, batch)
            except Exception as error:
                if _is_bad_item(error):
                    await self._isolate_bad_items(engine, batch, error)
                    return
                attempt += 1
                self._log.warning(
                    "records not written (attempt %d, %d pending), retrying in %.2fs: %s",
                    attempt,
                    self._pending,
                    delay,
                    _short(error),
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._retry_max)
            else:
                if attempt:
                    self._log.info("records written again after %d failed attempts", attempt)
                return

    async def _isolate_bad_items(
        self, engine: AsyncEngine, batch: Sequence[Record], error: Exception
    ) -> None:
        """Write a refused batch item by item so one bad record cannot block the rest.

        An item the database refuses on its own can never be written; it is logged field by
        field (the caller's number and name masked), so it can be recovered by hand, and
        skipped - the alternative is a queue stuck forever.
        """
        if len(batch) == 1:
            item = batch[0]
            fields = masked_fields(
                (f.name, getattr(item, f.name)) for f in dataclasses.fields(item)
            )
            kind = type(item).__name__
            self._log.error(
                "record refused by the database, skipped: %s %s (%s)", kind, fields, error
            )
            return
        for item in batch:
            await self._write_until_done(engine, [item])

    async def _write(self, engine: AsyncEngine, items: Sequence[Record]) -> None:
        batch = Batch(datetime.now(UTC))
        for item in items:
            batch.add(item)
        async with engine.begin() as conn:
            await batch.write(conn)
