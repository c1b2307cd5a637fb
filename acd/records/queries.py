"""Read call records back in the shape the HTTP API and reports serve.

Each call opens and disposes its own engine: reads are rare (dashboards, reports) and this
keeps them free of any loop-bound state shared with the writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.pool import NullPool

from acd.records.models import CallRow, make_engine

_TIMES = ("entered_at", "answered_at", "ended_at")
_SECONDS = ("wait_seconds", "talk_seconds")
_FIELDS = (
    "call_id",
    "caller",
    "hotline",
    "queue",
    "agent",
    *_TIMES,
    *_SECONDS,
    "disposition",
    "hangup_side",
    "offers",
)


def call_to_dict(row: Mapping[str, Any]) -> dict[str, object]:
    """A `calls` row as JSON-ready values: ISO-8601 times with their offset, float seconds.

    `updated_at` is left out: it says when the row was written, not anything about the call.
    """
    out: dict[str, object] = {}
    for name in _FIELDS:
        value = row[name]
        if value is not None and name in _TIMES:
            value = value.isoformat()
        elif value is not None and name in _SECONDS:
            value = float(value)
        out[name] = value
    return out


async def _fetch(url: str, query: Select[Any]) -> list[dict[str, object]]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(query)
            return [call_to_dict(row) for row in result.mappings()]
    finally:
        await engine.dispose()


async def recent_calls(
    url: str, since: datetime | None = None, limit: int = 100
) -> list[dict[str, object]]:
    """Calls that entered at or after `since` (an aware datetime), newest first."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if since is not None and since.utcoffset() is None:
        raise ValueError("since must be timezone-aware")
    query = select(CallRow.__table__).order_by(CallRow.entered_at.desc(), CallRow.call_id.desc())
    if since is not None:
        query = query.where(CallRow.entered_at >= since)
    return await _fetch(url, query.limit(limit))


async def get_call(url: str, call_id: str) -> dict[str, object] | None:
    """One call by id, or None if it was never recorded."""
    rows = await _fetch(url, select(CallRow.__table__).where(CallRow.call_id == call_id))
    return rows[0] if rows else None
