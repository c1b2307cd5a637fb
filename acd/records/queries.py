"""Read records back in the shape the HTTP API and reports serve: calls, callbacks, messages,
recordings for QA, the reviews the team lead owes, and a call's timeline.

Reads only; what changes rows on request (reviews, QA scores, notes, complaints) is case work,
in `acd.records.casework`. Each read runs on a connection it is given, so a `Records` object
(`acd.records.store`) owns the one engine they share.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.records.models import (
    CallbackRow,
    CallEventRow,
    CallRow,
    MessageRow,
    RecordingRow,
    ReviewRow,
)
from acd.records.shapes import (
    aware_now,
    call_to_dict,
    callback_to_dict,
    check_aware,
    check_limit,
    iso,
    message_to_dict,
    recording_to_dict,
    review_to_dict,
)

#: Recording statuses that need no attention: "ok", and "purged" (retention deleted the file).
_UNFLAGGED_STATUSES = ("ok", "purged")


async def _fetch(
    conn: AsyncConnection,
    query: Select[Any],
    convert: Callable[[Mapping[str, Any]], dict[str, object]] = call_to_dict,
) -> list[dict[str, object]]:
    result = await conn.execute(query)
    return [convert(row) for row in result.mappings()]


async def recent_calls(
    conn: AsyncConnection, since: datetime | None = None, limit: int = 100
) -> list[dict[str, object]]:
    """Calls that entered at or after `since` (an aware datetime), newest first."""
    check_limit(limit)
    check_aware("since", since)
    query = select(CallRow.__table__).order_by(CallRow.entered_at.desc(), CallRow.call_id.desc())
    if since is not None:
        query = query.where(CallRow.entered_at >= since)
    return await _fetch(conn, query.limit(limit))


async def get_call(conn: AsyncConnection, call_id: str) -> dict[str, object] | None:
    """One call by id, or None if it was never recorded."""
    rows = await _fetch(conn, select(CallRow.__table__).where(CallRow.call_id == call_id))
    return rows[0] if rows else None


async def callbacks(
    conn: AsyncConnection, status: str | None = None, limit: int = 100
) -> list[dict[str, object]]:
    """Callback requests, optionally only those with `status`, newest request first."""
    check_limit(limit)
    query = select(CallbackRow.__table__).order_by(
        CallbackRow.requested_at.desc(), CallbackRow.id.desc()
    )
    if status is not None:
        query = query.where(CallbackRow.status == status)
    return await _fetch(conn, query.limit(limit), callback_to_dict)


async def messages(
    conn: AsyncConnection, since: datetime | None = None, limit: int = 100
) -> list[dict[str, object]]:
    """Messages left at or after `since` (an aware datetime), newest first."""
    check_limit(limit)
    check_aware("since", since)
    query = select(MessageRow.__table__).order_by(
        MessageRow.created_at.desc(), MessageRow.id.desc()
    )
    if since is not None:
        query = query.where(MessageRow.created_at >= since)
    return await _fetch(conn, query.limit(limit), message_to_dict)


def _recordings_query() -> Select[Any]:
    return select(
        RecordingRow.__table__,
        CallRow.dissatisfied.label("dissatisfied"),
        CallRow.survey_score.label("survey_score"),
    ).select_from(
        RecordingRow.__table__.outerjoin(CallRow.__table__, CallRow.call_id == RecordingRow.call_id)
    )


async def find_recordings(
    conn: AsyncConnection,
    agent: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    queue: str | None = None,
    caller: str | None = None,
    flagged: bool = False,
    limit: int = 200,
) -> list[dict[str, object]]:
    """Recordings for QA, newest first: by agent, queue, caller number (exact), and a time span
    on the recording's start (`since` inclusive, `until` exclusive; aware datetimes).

    `flagged` keeps only those needing attention: a status other than "ok" and "purged" (the
    file was missing or shorter than the talk time), or a call the caller rated dissatisfied.
    """
    check_limit(limit)
    check_aware("since", since)
    check_aware("until", until)
    query = _recordings_query().order_by(RecordingRow.started_at.desc(), RecordingRow.id.desc())
    if agent is not None:
        query = query.where(RecordingRow.agent == agent)
    if since is not None:
        query = query.where(RecordingRow.started_at >= since)
    if until is not None:
        query = query.where(RecordingRow.started_at < until)
    if queue is not None:
        query = query.where(RecordingRow.queue == queue)
    if caller is not None:
        query = query.where(RecordingRow.caller == caller)
    if flagged:
        query = query.where(
            or_(
                RecordingRow.status.not_in(_UNFLAGGED_STATUSES),
                CallRow.dissatisfied == true(),
            )
        )
    return await _fetch(conn, query.limit(limit), recording_to_dict)


async def get_recording(conn: AsyncConnection, recording_id: int) -> dict[str, object] | None:
    """One recording by id (with `caller_masked`, `dissatisfied`), or None."""
    rows = await _fetch(
        conn, _recordings_query().where(RecordingRow.id == recording_id), recording_to_dict
    )
    return rows[0] if rows else None


async def reviews(
    conn: AsyncConnection, open_only: bool = True, now: datetime | None = None, limit: int = 500
) -> list[dict[str, object]]:
    """Reviews the team lead owes (all of them with `open_only=False`), soonest due first.

    Each carries `overdue`: not done by its due time - still open after `due_at` at `now` (an
    aware datetime; default the current time), or done after it - and `recording_ids`, the
    call's recordings to listen to.
    """
    check_limit(limit)
    now = aware_now(now)
    query = select(ReviewRow.__table__).order_by(ReviewRow.due_at, ReviewRow.id)
    if open_only:
        query = query.where(ReviewRow.done_at.is_(None))
    rows: list[Mapping[str, Any]] = [
        row._asdict() for row in await conn.execute(query.limit(limit))
    ]
    call_ids = sorted({row["call_id"] for row in rows})
    recordings: dict[str, list[int]] = {}
    for start in range(0, len(call_ids), 500):
        found = await conn.execute(
            select(RecordingRow.call_id, RecordingRow.id)
            .where(RecordingRow.call_id.in_(call_ids[start : start + 500]))
            .order_by(RecordingRow.id)
        )
        for call_id, recording_id in found.all():
            recordings.setdefault(call_id, []).append(recording_id)
    return [review_to_dict(row, now, recordings.get(row["call_id"], [])) for row in rows]


def _event_to_dict(row: Mapping[str, Any]) -> dict[str, object]:
    try:
        data = json.loads(row["data"] or "{}")
    except ValueError:
        data = {}
    return {
        "at": iso(row["at"]),
        "kind": row["kind"],
        "queue": row["queue"],
        "agent": row["agent"],
        "data": data if isinstance(data, dict) else {},
    }


async def call_timeline(conn: AsyncConnection, call_id: str) -> list[dict[str, object]]:
    """A call's timeline (`call_events`), in the order it happened."""
    query = (
        select(CallEventRow.__table__)
        .where(CallEventRow.call_id == call_id)
        .order_by(CallEventRow.at, CallEventRow.id)
    )
    return await _fetch(conn, query, _event_to_dict)
