"""A caller's history: every call from a number with its case notes and complaints, and the
totals a screen pop shows for a repeat caller.

A read of its own because it joins four tables and shapes a nested answer; it runs on a
connection it is given, like the reads in `acd.records.queries`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import case, func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.records.models import CallNoteRow, CallRow, ReviewRow
from acd.records.shapes import call_to_dict, check_limit, iso


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
        "at": iso(row["at"]),
    }


async def caller_history(conn: AsyncConnection, number: str, limit: int = 50) -> dict[str, object]:
    """Everything the records know about a caller's number, JSON-ready: for the screen pop of
    a repeat caller (the seeds: show their earlier records, how often and when they called and
    which agents took the calls) and `acd caller`.

    `calls`, `first_call`, `last_call` and `summary` cover every call from the number;
    `history` lists the latest `limit` of them, newest first, each with its case notes and
    complaints. The number is matched exactly, as the caller ID arrived.
    """
    check_limit(limit)
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
                        "at": iso(r["created_at"]),
                        "due_at": iso(r["due_at"]),
                        "done_at": iso(r["done_at"]),
                    }
                    for r in reviews_of
                    if r["call_id"] == call_id
                ],
            }
        )
    return {
        "number": number,
        "calls": int(count),
        "first_call": iso(first),
        "last_call": iso(last),
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
