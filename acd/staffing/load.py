"""The offered traffic per interval, from the `calls` table, for staffing from history.

A call is offered to the centre when it reached a queue: every row but those the IVR alone
wrote (disposition "ivr"). Its handle time is its talk time plus its queue's wrap-up, since an
agent in wrap-up takes no call either. The query is plain SELECT with comparisons, the same on
SQLite and PostgreSQL; bucketing happens here in Python, where the centre's time zone is known.

Intervals are equal spans of `period_seconds` counted from the centre's local midnight of the
first day, so "09:00-09:30" means the centre's 09:00. Across a daylight-saving change they stay
equal in length (the Erlang maths needs the real duration) and are shown in the local time of
their start. The first and last ones are cut to the requested range, and their traffic is
measured over the part inside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from acd.records.models import CallRow
from acd.records.store import Records

#: The disposition of a row written for a call that never reached a queue.
IVR_ONLY = "ivr"
DAY_SECONDS = 86400

AhtSource = Literal["interval", "range", "config"]


@dataclass(frozen=True)
class OfferedCall:
    queue: str
    entered_at: datetime
    answered: bool
    talk_seconds: float | None


@dataclass(frozen=True)
class IntervalLoad:
    """One interval's offered calls and handle time.

    `aht` is the mean handle time of the interval's answered calls; with none, that of the
    whole range, and with none in the range either, the queues' configured
    `initial_handle_seconds` (`aht_source` says which).
    """

    start: datetime
    end: datetime
    calls: int
    answered: int
    aht: float
    aht_source: AhtSource

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


async def offered_calls(
    records: Records, since: datetime, until: datetime, queue: str | None = None
) -> list[OfferedCall]:
    """Calls that entered a queue in [since, until), oldest first."""
    _check_range(since, until)
    query = (
        select(CallRow.queue, CallRow.entered_at, CallRow.disposition, CallRow.talk_seconds)
        .where(CallRow.entered_at >= since)
        .where(CallRow.entered_at < until)
        .where(CallRow.disposition != IVR_ONLY)
        .order_by(CallRow.entered_at)
    )
    if queue is not None:
        query = query.where(CallRow.queue == queue)
    async with records.reading() as conn:
        rows = (await conn.execute(query)).all()
    return [
        OfferedCall(
            queue=row.queue,
            entered_at=row.entered_at,
            answered=row.disposition == "answered" and row.talk_seconds is not None,
            talk_seconds=row.talk_seconds,
        )
        for row in rows
    ]


def interval_bounds(
    since: datetime, until: datetime, period_seconds: float, timezone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """[start, end) pairs covering [since, until), aligned to the centre's local midnight."""
    _check_range(since, until)
    if not (float(period_seconds).is_integer() and 0 < period_seconds <= DAY_SECONDS):
        raise ValueError("the interval must be a whole number of seconds, at most a day")
    if DAY_SECONDS % int(period_seconds):
        raise ValueError("the interval must divide a day evenly (e.g. 15m, 30m, 1h)")
    period = timedelta(seconds=period_seconds)
    local = since.astimezone(timezone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight + period * ((local - midnight) // period)
    bounds = []
    while start < until:
        end = start + period
        bounds.append(
            (max(start, since).astimezone(timezone), min(end, until).astimezone(timezone))
        )
        start = end
    return bounds


def interval_loads(
    calls: Sequence[OfferedCall],
    bounds: Sequence[tuple[datetime, datetime]],
    wrapup: Mapping[str, float],
    default_aht: float,
) -> list[IntervalLoad]:
    """Bucket `calls` into `bounds`; a queue missing from `wrapup` adds no wrap-up."""

    def handle(call: OfferedCall) -> float:
        return (call.talk_seconds or 0.0) + wrapup.get(call.queue, 0.0)

    answered = [c for c in calls if c.answered]
    range_aht = fmean(handle(c) for c in answered) if answered else None
    loads = []
    position = 0
    ordered = sorted(calls, key=lambda c: c.entered_at)
    for start, end in bounds:
        while position < len(ordered) and ordered[position].entered_at < start:
            position += 1
        inside = []
        while position < len(ordered) and ordered[position].entered_at < end:
            inside.append(ordered[position])
            position += 1
        done = [c for c in inside if c.answered]
        aht: float
        source: AhtSource
        if done:
            aht, source = fmean(handle(c) for c in done), "interval"
        elif range_aht is not None:
            aht, source = range_aht, "range"
        else:
            aht, source = default_aht, "config"
        loads.append(IntervalLoad(start, end, len(inside), len(done), aht, source))
    return loads


def _check_range(since: datetime, until: datetime) -> None:
    if since.utcoffset() is None or until.utcoffset() is None:
        raise ValueError("the range must be timezone-aware")
    if since >= until:
        raise ValueError("the range must end after it starts (--to after --from)")
