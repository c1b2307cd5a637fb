"""Read records back in the shape the HTTP API and reports serve.

Each call opens and disposes its own engine: reads are rare (dashboards, reports) and this
keeps them free of any loop-bound state shared with the writer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.pool import NullPool

from acd.records.models import CallbackRow, CallRow, MessageRow, make_engine

_TIMES = frozenset(
    {"entered_at", "answered_at", "ended_at", "requested_at", "due_at", "updated_at", "created_at"}
)
_SECONDS = frozenset({"wait_seconds", "talk_seconds", "seconds"})
_FIELDS = (
    "call_id",
    "caller",
    "hotline",
    "queue",
    "agent",
    "entered_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "talk_seconds",
    "disposition",
    "hangup_side",
    "offers",
    "survey_score",
    "survey_scale",
    "dissatisfied",
    "ivr_path",
)
_CALLBACK_FIELDS = (
    "id",
    "call_id",
    "caller",
    "hotline",
    "queue",
    "kind",
    "requested_at",
    "due_at",
    "status",
    "attempts",
    "updated_at",
)
_MESSAGE_FIELDS = ("id", "call_id", "caller", "hotline", "path", "seconds", "created_at")


def _to_dict(row: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in fields:
        value = row[name]
        if value is not None and name in _TIMES:
            value = value.isoformat()
        elif value is not None and name in _SECONDS:
            value = float(value)
        elif value is not None and name == "dissatisfied":
            value = bool(value)
        out[name] = value
    return out


def call_to_dict(row: Mapping[str, Any]) -> dict[str, object]:
    """A `calls` row as JSON-ready values: ISO-8601 times with their offset, float seconds.

    `updated_at` is left out: it says when the row was written, not anything about the call.
    """
    return _to_dict(row, _FIELDS)


def callback_to_dict(row: Mapping[str, Any]) -> dict[str, object]:
    """A `callbacks` row as JSON-ready values; `updated_at` is when its status last moved."""
    return _to_dict(row, _CALLBACK_FIELDS)


def message_to_dict(row: Mapping[str, Any]) -> dict[str, object]:
    """A `messages` row as JSON-ready values."""
    return _to_dict(row, _MESSAGE_FIELDS)


async def _fetch(
    url: str,
    query: Select[Any],
    convert: Callable[[Mapping[str, Any]], dict[str, object]] = call_to_dict,
) -> list[dict[str, object]]:
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(query)
            return [convert(row) for row in result.mappings()]
    finally:
        await engine.dispose()


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError("limit must be at least 1")


def _check_since(since: datetime | None) -> None:
    if since is not None and since.utcoffset() is None:
        raise ValueError("since must be timezone-aware")


async def recent_calls(
    url: str, since: datetime | None = None, limit: int = 100
) -> list[dict[str, object]]:
    """Calls that entered at or after `since` (an aware datetime), newest first."""
    _check_limit(limit)
    _check_since(since)
    query = select(CallRow.__table__).order_by(CallRow.entered_at.desc(), CallRow.call_id.desc())
    if since is not None:
        query = query.where(CallRow.entered_at >= since)
    return await _fetch(url, query.limit(limit))


async def get_call(url: str, call_id: str) -> dict[str, object] | None:
    """One call by id, or None if it was never recorded."""
    rows = await _fetch(url, select(CallRow.__table__).where(CallRow.call_id == call_id))
    return rows[0] if rows else None


async def callbacks(
    url: str, status: str | None = None, limit: int = 100
) -> list[dict[str, object]]:
    """Callback requests, optionally only those with `status`, newest request first."""
    _check_limit(limit)
    query = select(CallbackRow.__table__).order_by(
        CallbackRow.requested_at.desc(), CallbackRow.id.desc()
    )
    if status is not None:
        query = query.where(CallbackRow.status == status)
    return await _fetch(url, query.limit(limit), callback_to_dict)


async def messages(
    url: str, since: datetime | None = None, limit: int = 100
) -> list[dict[str, object]]:
    """Messages left at or after `since` (an aware datetime), newest first."""
    _check_limit(limit)
    _check_since(since)
    query = select(MessageRow.__table__).order_by(
        MessageRow.created_at.desc(), MessageRow.id.desc()
    )
    if since is not None:
        query = query.where(MessageRow.created_at >= since)
    return await _fetch(url, query.limit(limit), message_to_dict)
