"""`Records`: the one handle on the records database for everything but the record writer.

It owns one engine, made from the URL when the object is made and disposed by `close` (or at
the end of `async with`), and offers the reads (`acd.records.queries`, `.history`,
`.sessions`) and the case-work writes (`acd.records.casework`), each on a connection of its
own from that engine: reads in a deferred transaction, writes in one that takes SQLite's write
lock up front. Make it where the event loop runs and use it only there (its pool's
connections belong to that loop).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from types import TracebackType

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from acd.records import casework, history, queries, sessions
from acd.records.items import CaseNote
from acd.records.models import for_writes, make_engine

Row = dict[str, object]


class Records:
    """Reads and case work on the records database at `url`, over one engine."""

    def __init__(self, url: str | URL) -> None:
        self._engine: AsyncEngine = make_engine(url)
        self._writes = for_writes(self._engine)

    async def close(self) -> None:
        """Release the engine's connections; the object is not used afterwards."""
        await self._engine.dispose()

    async def __aenter__(self) -> Records:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # Connections, for the modules that run SQL of their own on these records (reports,
    # staffing loads, web users, recording retention): the same engine, the same rules.

    def reading(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for reads, in a deferred transaction (never waits for a writer)."""
        return self._engine.connect()

    def writing(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A transaction that takes SQLite's write lock up front, committed on exit."""
        return self._writes.begin()

    # Reads.

    async def recent_calls(self, since: datetime | None = None, limit: int = 100) -> list[Row]:
        """See `acd.records.queries.recent_calls`."""
        async with self._engine.connect() as conn:
            return await queries.recent_calls(conn, since, limit)

    async def get_call(self, call_id: str) -> Row | None:
        """See `acd.records.queries.get_call`."""
        async with self._engine.connect() as conn:
            return await queries.get_call(conn, call_id)

    async def callbacks(self, status: str | None = None, limit: int = 100) -> list[Row]:
        """See `acd.records.queries.callbacks`."""
        async with self._engine.connect() as conn:
            return await queries.callbacks(conn, status, limit)

    async def messages(self, since: datetime | None = None, limit: int = 100) -> list[Row]:
        """See `acd.records.queries.messages`."""
        async with self._engine.connect() as conn:
            return await queries.messages(conn, since, limit)

    async def find_recordings(
        self,
        agent: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        queue: str | None = None,
        caller: str | None = None,
        flagged: bool = False,
        limit: int = 200,
    ) -> list[Row]:
        """See `acd.records.queries.find_recordings`."""
        async with self._engine.connect() as conn:
            return await queries.find_recordings(
                conn, agent, since, until, queue, caller, flagged, limit
            )

    async def get_recording(self, recording_id: int) -> Row | None:
        """See `acd.records.queries.get_recording`."""
        async with self._engine.connect() as conn:
            return await queries.get_recording(conn, recording_id)

    async def reviews(
        self, open_only: bool = True, now: datetime | None = None, limit: int = 500
    ) -> list[Row]:
        """See `acd.records.queries.reviews`."""
        async with self._engine.connect() as conn:
            return await queries.reviews(conn, open_only, now, limit)

    async def call_timeline(self, call_id: str) -> list[Row]:
        """See `acd.records.queries.call_timeline`."""
        async with self._engine.connect() as conn:
            return await queries.call_timeline(conn, call_id)

    async def caller_history(self, number: str, limit: int = 50) -> Row:
        """See `acd.records.history.caller_history`."""
        async with self._engine.connect() as conn:
            return await history.caller_history(conn, number, limit)

    async def agent_sessions(
        self,
        agent: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Row]:
        """See `acd.records.sessions.agent_sessions`."""
        async with self._engine.connect() as conn:
            return await sessions.agent_sessions(conn, agent, since, until)

    # Case work.

    async def review_done(
        self, review_id: int, note: str, reviewer: str | None, now: datetime | None = None
    ) -> bool:
        """See `acd.records.casework.review_done`."""
        async with self._writes.begin() as conn:
            return await casework.review_done(conn, review_id, note, reviewer, now)

    async def score_recording(
        self,
        recording_id: int,
        score: int,
        comment: str | None,
        reviewer: str,
        now: datetime | None = None,
    ) -> bool:
        """See `acd.records.casework.score_recording`; the score is checked before connecting."""
        casework.check_qa_score(score)
        casework.check_reviewer(reviewer)
        async with self._writes.begin() as conn:
            return await casework.score_recording(conn, recording_id, score, comment, reviewer, now)

    async def set_recording_status(self, recording_id: int, status: str) -> bool:
        """See `acd.records.casework.set_recording_status`."""
        async with self._writes.begin() as conn:
            return await casework.set_recording_status(conn, recording_id, status)

    async def add_case_note(self, note: CaseNote) -> bool:
        """See `acd.records.casework.add_case_note`."""
        async with self._writes.begin() as conn:
            return await casework.add_case_note(conn, note)

    async def open_complaint(
        self, call_id: str, agent: str, text: str, now: datetime, due_at: datetime
    ) -> int | None:
        """See `acd.records.casework.open_complaint`."""
        async with self._writes.begin() as conn:
            return await casework.open_complaint(conn, call_id, agent, text, now, due_at)
