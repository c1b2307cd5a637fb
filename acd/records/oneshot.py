"""The records' reads and case work by URL, one `Records` per call: for the callers that do
not hold a `Records` yet (the CLI commands, the web app, the MQTT screen pop, exports).

Transitional: each function makes and closes a `Records`, which is what every read did before
`Records` existed. A caller that reads more than once should make one `Records` and keep it;
when none is left using these, this module goes.
"""

from __future__ import annotations

from datetime import datetime

from acd.records.items import CaseNote
from acd.records.store import Records, Row

__all__ = [
    "add_case_note",
    "agent_sessions",
    "call_timeline",
    "callbacks",
    "caller_history",
    "find_recordings",
    "get_call",
    "get_recording",
    "messages",
    "open_complaint",
    "recent_calls",
    "review_done",
    "reviews",
    "score_recording",
    "set_recording_status",
]


async def recent_calls(url: str, since: datetime | None = None, limit: int = 100) -> list[Row]:
    async with Records(url) as records:
        return await records.recent_calls(since, limit)


async def get_call(url: str, call_id: str) -> Row | None:
    async with Records(url) as records:
        return await records.get_call(call_id)


async def callbacks(url: str, status: str | None = None, limit: int = 100) -> list[Row]:
    async with Records(url) as records:
        return await records.callbacks(status, limit)


async def messages(url: str, since: datetime | None = None, limit: int = 100) -> list[Row]:
    async with Records(url) as records:
        return await records.messages(since, limit)


async def find_recordings(
    url: str,
    agent: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    queue: str | None = None,
    caller: str | None = None,
    flagged: bool = False,
    limit: int = 200,
) -> list[Row]:
    async with Records(url) as records:
        return await records.find_recordings(agent, since, until, queue, caller, flagged, limit)


async def get_recording(url: str, recording_id: int) -> Row | None:
    async with Records(url) as records:
        return await records.get_recording(recording_id)


async def reviews(
    url: str, open_only: bool = True, now: datetime | None = None, limit: int = 500
) -> list[Row]:
    async with Records(url) as records:
        return await records.reviews(open_only, now, limit)


async def call_timeline(url: str, call_id: str) -> list[Row]:
    async with Records(url) as records:
        return await records.call_timeline(call_id)


async def caller_history(url: str, number: str, limit: int = 50) -> Row:
    async with Records(url) as records:
        return await records.caller_history(number, limit)


async def agent_sessions(
    url: str,
    agent: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Row]:
    async with Records(url) as records:
        return await records.agent_sessions(agent, since, until)


async def review_done(
    url: str, review_id: int, note: str, reviewer: str | None, now: datetime | None = None
) -> bool:
    async with Records(url) as records:
        return await records.review_done(review_id, note, reviewer, now)


async def score_recording(
    url: str,
    recording_id: int,
    score: int,
    comment: str | None,
    reviewer: str,
    now: datetime | None = None,
) -> bool:
    async with Records(url) as records:
        return await records.score_recording(recording_id, score, comment, reviewer, now)


async def set_recording_status(url: str, recording_id: int, status: str) -> bool:
    async with Records(url) as records:
        return await records.set_recording_status(recording_id, status)


async def add_case_note(url: str, note: CaseNote) -> bool:
    async with Records(url) as records:
        return await records.add_case_note(note)


async def open_complaint(
    url: str, call_id: str, agent: str, text: str, now: datetime, due_at: datetime
) -> int | None:
    async with Records(url) as records:
        return await records.open_complaint(call_id, agent, text, now, due_at)
