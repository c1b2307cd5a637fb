"""Read records back in the shape the HTTP API and reports serve.

Each call opens and disposes its own engine: reads are rare (dashboards, reports) and this
keeps them free of any loop-bound state shared with the writer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, case, func, insert, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from acd.core.decisions import CaseNote
from acd.privacy import mask_number
from acd.records.models import (
    AgentStateRow,
    CallbackRow,
    CallEventRow,
    CallNoteRow,
    CallRow,
    MessageRow,
    RecordingRow,
    ReviewRow,
    make_engine,
)
from acd.records.writer import note_row

#: QA scores of recordings are percentages: finer than the caller's 1..5 survey, and never
#: mistaken for it.
QA_SCORE_MIN = 1
QA_SCORE_MAX = 100
#: Recording statuses that need no attention: "ok", and "purged" (retention deleted the file).
_UNFLAGGED_STATUSES = ("ok", "purged")

_TIMES = frozenset(
    {
        "entered_at",
        "answered_at",
        "ended_at",
        "requested_at",
        "due_at",
        "not_before",
        "updated_at",
        "created_at",
    }
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
    "kind",
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
    "not_before",
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


# Recordings and reviews.

_RECORDING_FIELDS = (
    "id",
    "call_id",
    "agent",
    "caller",
    "queue",
    "path",
    "started_at",
    "talk_seconds",
    "seconds",
    "size",
    "format",
    "sha256",
    "status",
    "qa_score",
    "qa_comment",
    "qa_reviewer",
    "qa_at",
    "purged_at",
)
_REVIEW_FIELDS = (
    "id",
    "call_id",
    "agent",
    "reason",
    "created_at",
    "due_at",
    "done_at",
    "note",
    "reviewer",
)
_RECORDING_TIMES = frozenset(
    {"started_at", "qa_at", "purged_at", "created_at", "due_at", "done_at"}
)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _pauses(raw: str | None) -> list[list[float]]:
    try:
        loaded = json.loads(raw or "[]")
    except ValueError:
        return []
    out: list[list[float]] = []
    for pause in loaded if isinstance(loaded, list) else []:
        try:
            start, end = pause
            out.append([float(start), float(end)])
        except (TypeError, ValueError):
            continue
    return out


def recording_to_dict(row: Mapping[str, Any]) -> dict[str, object]:
    """A `recordings` row (optionally joined with its call) as JSON-ready values.

    Besides the stored `caller` it carries `caller_masked` for listings; `dissatisfied` and
    `survey_score` come from the call's row (False / None without one).
    """
    out: dict[str, object] = {}
    for name in _RECORDING_FIELDS:
        value = row[name]
        if name in _RECORDING_TIMES:
            value = _iso(value)
        elif value is not None and name in ("talk_seconds", "seconds"):
            value = float(value)
        out[name] = value
        if name == "caller":
            out["caller_masked"] = mask_number(value)
    out["pauses"] = _pauses(row["pauses"])
    out["dissatisfied"] = bool(row.get("dissatisfied") or False)
    out["survey_score"] = row.get("survey_score")
    return out


def _recordings_query() -> Select[Any]:
    return select(
        RecordingRow.__table__,
        CallRow.dissatisfied.label("dissatisfied"),
        CallRow.survey_score.label("survey_score"),
    ).select_from(
        RecordingRow.__table__.outerjoin(CallRow.__table__, CallRow.call_id == RecordingRow.call_id)
    )


def _check_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


async def find_recordings(
    url: str,
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
    _check_limit(limit)
    _check_aware("since", since)
    _check_aware("until", until)
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
    return await _fetch(url, query.limit(limit), recording_to_dict)


async def get_recording(url: str, recording_id: int) -> dict[str, object] | None:
    """One recording by id (with `caller_masked`, `dissatisfied`), or None."""
    rows = await _fetch(
        url, _recordings_query().where(RecordingRow.id == recording_id), recording_to_dict
    )
    return rows[0] if rows else None


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    _check_aware("now", now)
    return now


async def reviews(
    url: str, open_only: bool = True, now: datetime | None = None, limit: int = 500
) -> list[dict[str, object]]:
    """Reviews the team lead owes (all of them with `open_only=False`), soonest due first.

    Each carries `overdue`: not done by its due time - still open after `due_at` at `now` (an
    aware datetime; default the current time), or done after it - and `recording_ids`, the
    call's recordings to listen to.
    """
    _check_limit(limit)
    now = _now(now)
    query = select(ReviewRow.__table__).order_by(ReviewRow.due_at, ReviewRow.id)
    if open_only:
        query = query.where(ReviewRow.done_at.is_(None))
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = list((await conn.execute(query.limit(limit))).mappings())
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
    finally:
        await engine.dispose()
    out = []
    for row in rows:
        item: dict[str, object] = {
            name: _iso(row[name]) if name in _RECORDING_TIMES else row[name]
            for name in _REVIEW_FIELDS
        }
        finished = row["done_at"] if row["done_at"] is not None else now
        item["overdue"] = finished > row["due_at"]
        item["recording_ids"] = recordings.get(row["call_id"], [])
        out.append(item)
    return out


async def _update_one(url: str, statement: Any) -> bool:
    engine: AsyncEngine = make_engine(url, immediate_writes=True, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(statement)
            return bool(result.rowcount == 1)
    finally:
        await engine.dispose()


async def review_done(
    url: str, review_id: int, note: str, reviewer: str | None, now: datetime | None = None
) -> bool:
    """Close an open review with the team lead's note; False if no open review has that id."""
    statement = (
        update(ReviewRow)
        .where(ReviewRow.id == review_id, ReviewRow.done_at.is_(None))
        .values(done_at=_now(now), note=note, reviewer=reviewer)
    )
    return await _update_one(url, statement)


def check_qa_score(score: int) -> int:
    """`score` if it is a whole number in QA_SCORE_MIN..QA_SCORE_MAX, else ValueError."""
    if isinstance(score, bool) or not isinstance(score, int):
        raise ValueError(f"QA score must be a whole number, not {score!r}")
    if not QA_SCORE_MIN <= score <= QA_SCORE_MAX:
        raise ValueError(f"QA score must be {QA_SCORE_MIN}..{QA_SCORE_MAX}, not {score}")
    return score


async def score_recording(
    url: str,
    recording_id: int,
    score: int,
    comment: str | None,
    reviewer: str,
    now: datetime | None = None,
) -> bool:
    """Set (or replace) a recording's QA score, 1..100, with comment and reviewer.

    ValueError for a score out of range or no reviewer; False if there is no such recording.
    """
    check_qa_score(score)
    if not reviewer or not reviewer.strip():
        raise ValueError("a QA score needs the reviewer's name")
    statement = (
        update(RecordingRow)
        .where(RecordingRow.id == recording_id)
        .values(qa_score=score, qa_comment=comment, qa_reviewer=reviewer, qa_at=_now(now))
    )
    return await _update_one(url, statement)


async def set_recording_status(url: str, recording_id: int, status: str) -> bool:
    """Record what a later check of the file found (e.g. "missing" after it was deleted)."""
    statement = update(RecordingRow).where(RecordingRow.id == recording_id).values(status=status)
    return await _update_one(url, statement)


# Caller history, call timelines, agent sessions, case notes and complaints.

#: A complaint's call back is due by the close of this many working days (the seeds: "team
#: lead calls back within 1 working day").
COMPLAINT_WORKING_DAYS = 1


def _mappings(result: Any) -> list[Mapping[str, Any]]:
    """A result's rows as mappings by column name."""
    return list(result.mappings())


def _note_dict(row: Mapping[str, Any]) -> dict[str, object]:
    return {
        "agent": row["agent"],
        "need": row["need"],
        "address": row["address"],
        "contact": row["contact"],
        "text": row["text"],
        "at": _iso(row["at"]),
    }


async def caller_history(url: str, number: str, limit: int = 50) -> dict[str, object]:
    """Everything the records know about a caller's number, JSON-ready: for the screen pop of
    a repeat caller (the seeds: show their earlier records, how often and when they called and
    which agents took the calls) and `acd caller`.

    `calls`, `first_call`, `last_call` and `summary` cover every call from the number;
    `history` lists the latest `limit` of them, newest first, each with its case notes and
    complaints. The number is matched exactly, as the caller ID arrived.
    """
    _check_limit(limit)
    answered = func.sum(case((CallRow.disposition == "answered", 1), else_=0))
    abandoned = func.sum(case((CallRow.disposition == "abandoned", 1), else_=0))
    unhappy = func.sum(case((CallRow.dissatisfied == true(), 1), else_=0))
    totals_query = select(
        func.count(),
        func.min(CallRow.entered_at),
        func.max(CallRow.entered_at),
        answered,
        abandoned,
        func.avg(CallRow.survey_score),
        func.count(CallRow.survey_score),
        unhappy,
    ).where(CallRow.caller == number)
    complaints_query = (
        select(func.count(ReviewRow.id))
        .select_from(
            ReviewRow.__table__.join(CallRow.__table__, CallRow.call_id == ReviewRow.call_id)
        )
        .where(CallRow.caller == number, ReviewRow.reason == "complaint")
    )
    calls_query = (
        select(CallRow.__table__)
        .where(CallRow.caller == number)
        .order_by(CallRow.entered_at.desc(), CallRow.call_id.desc())
        .limit(limit)
    )
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            totals = (await conn.execute(totals_query)).one()
            complaint_count = (await conn.execute(complaints_query)).scalar_one()
            calls = _mappings(await conn.execute(calls_query))
            ids = [row["call_id"] for row in calls]
            notes: list[Mapping[str, Any]] = []
            reviews_of: list[Mapping[str, Any]] = []
            if ids:  # at most `limit` ids; callers keep that far below any bind limit
                notes = _mappings(
                    await conn.execute(
                        select(CallNoteRow.__table__)
                        .where(CallNoteRow.call_id.in_(ids))
                        .order_by(CallNoteRow.at, CallNoteRow.id)
                    )
                )
                reviews_of = _mappings(
                    await conn.execute(
                        select(ReviewRow.__table__)
                        .where(ReviewRow.call_id.in_(ids), ReviewRow.reason == "complaint")
                        .order_by(ReviewRow.created_at, ReviewRow.id)
                    )
                )
    finally:
        await engine.dispose()
    count, first, last, n_answered, n_abandoned, average, rated, n_unhappy = totals
    complaint_texts = {
        (row["call_id"], row["agent"], row["at"]): row["text"]
        for row in notes
        if row["kind"] == "complaint"
    }
    history = []
    for row in calls:
        call = call_to_dict(row)
        call_id = row["call_id"]
        history.append(
            {
                "call_id": call_id,
                "when": call["entered_at"],
                "queue": row["queue"] or None,
                "agent": row["agent"],
                "disposition": row["disposition"],
                "hangup_side": row["hangup_side"],
                "wait_seconds": call["wait_seconds"],
                "talk_seconds": call["talk_seconds"],
                "survey_score": row["survey_score"],
                "survey_scale": row["survey_scale"],
                "dissatisfied": bool(row["dissatisfied"]),
                "ivr_path": row["ivr_path"],
                "notes": [
                    _note_dict(n) for n in notes if n["call_id"] == call_id and n["kind"] == "note"
                ],
                "complaints": [
                    {
                        "review_id": r["id"],
                        "agent": r["agent"],
                        "text": complaint_texts.get((call_id, r["agent"], r["created_at"])),
                        "at": _iso(r["created_at"]),
                        "due_at": _iso(r["due_at"]),
                        "done_at": _iso(r["done_at"]),
                    }
                    for r in reviews_of
                    if r["call_id"] == call_id
                ],
            }
        )
    return {
        "number": number,
        "calls": int(count),
        "first_call": _iso(first),
        "last_call": _iso(last),
        "summary": {
            "answered": int(n_answered or 0),
            "abandoned": int(n_abandoned or 0),
            "rated": int(rated or 0),
            "average_score": None if average is None else round(float(average), 2),
            "dissatisfied": int(n_unhappy or 0),
            "complaints": int(complaint_count or 0),
        },
        "history": history,
    }


async def call_timeline(url: str, call_id: str) -> list[dict[str, object]]:
    """A call's timeline (`call_events`), in the order it happened."""
    query = (
        select(CallEventRow.__table__)
        .where(CallEventRow.call_id == call_id)
        .order_by(CallEventRow.at, CallEventRow.id)
    )

    def convert(row: Mapping[str, Any]) -> dict[str, object]:
        try:
            data = json.loads(row["data"] or "{}")
        except ValueError:
            data = {}
        return {
            "at": _iso(row["at"]),
            "kind": row["kind"],
            "queue": row["queue"],
            "agent": row["agent"],
            "data": data if isinstance(data, dict) else {},
        }

    return await _fetch(url, query, convert)


async def agent_sessions(
    url: str,
    agent: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, object]]:
    """Agents' sessions from login to logout, built from the `agent_states` history: each
    with its state intervals and their reasons, and seconds per state. Oldest first.

    A session is kept if it overlaps [`since`, `until`) (aware datetimes). One still open has
    `logout_at` None and ends at the last change seen; one cut short by a login without a
    logout (the engine restarted) has `ended_by` "restart".
    """
    _check_aware("since", since)
    _check_aware("until", until)
    table = AgentStateRow.__table__
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            start = since
            if since is not None:
                # Sessions that began before `since` still count: read from their login.
                earliest = (await conn.execute(_earliest_logins(since, agent))).scalar_one()
                start = min(earliest, since) if earliest is not None else since
            query = select(table).order_by(AgentStateRow.agent, AgentStateRow.at, AgentStateRow.id)
            if agent is not None:
                query = query.where(AgentStateRow.agent == agent)
            if start is not None:
                query = query.where(AgentStateRow.at >= start)
            if until is not None:
                query = query.where(AgentStateRow.at < until)
            rows = _mappings(await conn.execute(query))
    finally:
        await engine.dispose()
    sessions = _sessions(rows)
    kept = []
    for session in sessions:
        begin, end = session.pop("_begin"), session.pop("_end")
        assert isinstance(begin, datetime) and isinstance(end, datetime)
        if since is not None and end < since and session["logout_at"] is not None:
            continue
        if until is not None and begin >= until:
            continue
        kept.append(session)
    kept.sort(key=lambda s: (str(s["login_at"]), str(s["agent"])))
    return kept


def _earliest_logins(since: datetime, agent: str | None) -> Select[Any]:
    """The earliest of each agent's last login at or before `since`."""
    last = select(AgentStateRow.agent.label("agent"), func.max(AgentStateRow.at).label("at")).where(
        AgentStateRow.old_state == "logged-out", AgentStateRow.at <= since
    )
    if agent is not None:
        last = last.where(AgentStateRow.agent == agent)
    sub = last.group_by(AgentStateRow.agent).subquery()
    return select(func.min(sub.c.at))


def _sessions(rows: list[Mapping[str, Any]]) -> list[dict[str, object]]:
    sessions: list[dict[str, object]] = []
    current: dict[str, object] | None = None
    intervals: list[dict[str, object]] = []

    def close(end: datetime, logout_at: datetime | None, ended_by: str | None) -> None:
        nonlocal current, intervals
        if current is None:
            return
        if intervals:
            last = intervals[-1]
            last["end"] = _iso(end)
            started = datetime.fromisoformat(str(last["start"]))
            last["seconds"] = round((end - started).total_seconds(), 3)
        totals: dict[str, float] = {}
        for interval in intervals:
            seconds = interval["seconds"]
            if isinstance(seconds, float):
                totals[str(interval["state"])] = round(
                    totals.get(str(interval["state"]), 0.0) + seconds, 3
                )
        begin = current["_begin"]
        assert isinstance(begin, datetime)
        current.update(
            logout_at=_iso(logout_at),
            ended_by=ended_by,
            seconds=round((end - begin).total_seconds(), 3),
            states=intervals,
            seconds_by_state=totals,
            _end=end,
        )
        sessions.append(current)
        current, intervals = None, []

    for row in rows:
        at: datetime = row["at"]
        if current is not None and row["agent"] != current["agent"]:
            previous = intervals[-1]["start"] if intervals else current["login_at"]
            close(datetime.fromisoformat(str(previous)), None, None)
        if row["old_state"] == "logged-out" and current is not None:
            close(at, None, "restart")
        if current is None:
            current = {
                "agent": row["agent"],
                "login_at": _iso(at),
                "partial": row["old_state"] != "logged-out",
                "_begin": at,
            }
        if intervals:
            last = intervals[-1]
            last["end"] = _iso(at)
            last["seconds"] = round(
                (at - datetime.fromisoformat(str(last["start"]))).total_seconds(), 3
            )
        if row["new_state"] == "logged-out":
            close(at, at, "logout")
            continue
        intervals.append(
            {
                "state": row["new_state"],
                "reason": row["reason"],
                "start": _iso(at),
                "end": None,
                "seconds": None,
            }
        )
    if current is not None:
        last_start = intervals[-1]["start"] if intervals else current["login_at"]
        close(datetime.fromisoformat(str(last_start)), None, None)
    return sessions


async def add_case_note(url: str, note: CaseNote) -> bool:
    """Store a case note for a recorded call; False (nothing stored) if the call is unknown."""
    engine: AsyncEngine = make_engine(url, immediate_writes=True, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            if not await _call_exists(conn, note.call_id):
                return False
            await conn.execute(insert(CallNoteRow).values(note_row(note)))
            return True
    finally:
        await engine.dispose()


async def open_complaint(
    url: str, call_id: str, agent: str, text: str, now: datetime, due_at: datetime
) -> int | None:
    """A complaint against `agent` on a recorded call: its text as a note and a review with
    reason "complaint" due at `due_at`, in one transaction. The review's id, or None if the
    call is unknown."""
    _check_aware("now", now)
    _check_aware("due_at", due_at)
    note = CaseNote(call_id, agent, None, None, None, text, now.timestamp(), kind="complaint")
    engine: AsyncEngine = make_engine(url, immediate_writes=True, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            if not await _call_exists(conn, call_id):
                return None
            await conn.execute(insert(CallNoteRow).values(note_row(note)))
            result = await conn.execute(
                insert(ReviewRow)
                .values(
                    call_id=call_id,
                    agent=agent,
                    reason="complaint",
                    created_at=now,
                    due_at=due_at,
                )
                .returning(ReviewRow.id)
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def _call_exists(conn: Any, call_id: str) -> bool:
    found = await conn.execute(select(CallRow.call_id).where(CallRow.call_id == call_id))
    return found.first() is not None
