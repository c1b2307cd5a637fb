"""Rows in the `calls` table as the engine leaves them, for staffing from history."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.pool import NullPool

from acd.records.models import CallRow, make_engine

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """A centre-local time (Asia/Shanghai, the shipped config's zone)."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def row(
    call_id: str,
    entered_at: datetime,
    queue: str = "general",
    disposition: str = "answered",
    talk: float | None = 170.0,
) -> dict[str, object]:
    answered = disposition == "answered"
    return {
        "call_id": call_id,
        "caller": "13800138000",
        "hotline": "home",
        "queue": queue,
        "agent": "1001" if answered else None,
        "entered_at": entered_at,
        "answered_at": entered_at + timedelta(seconds=5) if answered else None,
        "ended_at": None,
        "wait_seconds": 5.0 if answered else None,
        "talk_seconds": talk if answered else None,
        "disposition": disposition,
        "hangup_side": None,
        "offers": 1,
        "updated_at": entered_at,
        "dissatisfied": False,
    }


def spread(
    prefix: str, start: datetime, count: int, seconds: float, disposition: str = "answered"
) -> list[dict[str, object]]:
    """`count` calls evenly over `seconds` from `start`."""
    step = seconds / count
    return [
        row(f"{prefix}{i}", start + timedelta(seconds=i * step), disposition=disposition)
        for i in range(count)
    ]


async def insert_calls(url: str, rows: list[dict[str, object]]) -> None:
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(CallRow), rows)
    finally:
        await engine.dispose()
