"""Case work on the records, done on request by team leads and agents: closing reviews, QA
scores of recordings, a recording's later status, case notes and complaints.

These are the only writes outside the record writer. They are short, answer whether they
found their row, and run in a write transaction they are given (`Records` opens it), so a
complaint's note and review are stored together or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.config.models import Config
from acd.records.items import CaseNote
from acd.records.models import CallNoteRow, CallRow, RecordingRow, ReviewRow
from acd.records.rows import note_row
from acd.records.shapes import aware_now, check_aware
from ivr.schedule import due_by

#: QA scores of recordings are percentages: finer than the caller's 1..5 survey, and never
#: mistaken for it.
QA_SCORE_MIN = 1
QA_SCORE_MAX = 100

#: A complaint's call back is due by the close of this many working days (the seeds: "team
#: lead calls back within 1 working day").
COMPLAINT_WORKING_DAYS = 1


def complaint_due(config: Config, hotline: str, now: datetime) -> datetime:
    """When the team lead's call back is due: close of the next working day on the call's
    hotline's calendar (the seeds: within 1 working day); see `Config.calendar_for` for a
    hotline without a schedule or no longer in the config."""
    return due_by(config.calendar_for(hotline), now, COMPLAINT_WORKING_DAYS)


async def _update_one(conn: AsyncConnection, statement: Any) -> bool:
    result = await conn.execute(statement)
    return bool(result.rowcount == 1)


async def review_done(
    conn: AsyncConnection,
    review_id: int,
    note: str,
    reviewer: str | None,
    now: datetime | None = None,
) -> bool:
    """Close an open review with the team lead's note; False if no open review has that id."""
    statement = (
        update(ReviewRow)
        .where(ReviewRow.id == review_id, ReviewRow.done_at.is_(None))
        .values(done_at=aware_now(now), note=note, reviewer=reviewer)
    )
    return await _update_one(conn, statement)


def check_qa_score(score: int) -> int:
    """`score` if it is a whole number in QA_SCORE_MIN..QA_SCORE_MAX, else ValueError."""
    if isinstance(score, bool) or not isinstance(score, int):
        raise ValueError(f"QA score must be a whole number, not {score!r}")
    if not QA_SCORE_MIN <= score <= QA_SCORE_MAX:
        raise ValueError(f"QA score must be {QA_SCORE_MIN}..{QA_SCORE_MAX}, not {score}")
    return score


def check_reviewer(reviewer: str) -> str:
    """`reviewer` if it names someone, else ValueError: a QA score is always someone's."""
    if not reviewer or not reviewer.strip():
        raise ValueError("a QA score needs the reviewer's name")
    return reviewer


async def score_recording(
    conn: AsyncConnection,
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
    check_reviewer(reviewer)
    statement = (
        update(RecordingRow)
        .where(RecordingRow.id == recording_id)
        .values(qa_score=score, qa_comment=comment, qa_reviewer=reviewer, qa_at=aware_now(now))
    )
    return await _update_one(conn, statement)


async def set_recording_status(conn: AsyncConnection, recording_id: int, status: str) -> bool:
    """Record what a later check of the file found (e.g. "missing" after it was deleted)."""
    statement = update(RecordingRow).where(RecordingRow.id == recording_id).values(status=status)
    return await _update_one(conn, statement)


async def add_case_note(conn: AsyncConnection, note: CaseNote) -> bool:
    """Store a case note for a recorded call; False (nothing stored) if the call is unknown."""
    if not await _call_exists(conn, note.call_id):
        return False
    await conn.execute(insert(CallNoteRow).values(note_row(note)))
    return True


async def open_complaint(
    conn: AsyncConnection, call_id: str, agent: str, text: str, now: datetime, due_at: datetime
) -> int | None:
    """A complaint against `agent` on a recorded call: its text as a note and a review with
    reason "complaint" due at `due_at`, in `conn`'s transaction. The review's id, or None if
    the call is unknown."""
    check_aware("now", now)
    check_aware("due_at", due_at)
    if not await _call_exists(conn, call_id):
        return None
    note = CaseNote(call_id, agent, None, None, None, text, now.timestamp(), kind="complaint")
    await conn.execute(insert(CallNoteRow).values(note_row(note)))
    result = await conn.execute(
        insert(ReviewRow)
        .values(call_id=call_id, agent=agent, reason="complaint", created_at=now, due_at=due_at)
        .returning(ReviewRow.id)
    )
    return int(result.scalar_one())


async def _call_exists(conn: AsyncConnection, call_id: str) -> bool:
    found = await conn.execute(select(CallRow.call_id).where(CallRow.call_id == call_id))
    return found.first() is not None
