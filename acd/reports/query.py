"""Load what a report needs from the records database into plain dataclasses.

Everything after this module is pure, so the SQL stays small and portable (SQLite and
PostgreSQL): range filters, one groupwise-latest join, nothing dialect-specific.
`callback_attempts` (one row per callback dial) is read when the database has it and left out
otherwise; older databases report callbacks from the `callbacks` table alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import MetaData, Table, and_, func, inspect, select, type_coerce
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.records.models import AgentStateRow, CallbackRow, CallRow, UTCDateTime
from acd.records.store import Records

#: Agent states after the report's end are read this far on, so that the wrap-up of a call
#: that ended near the end is whole (QueueConfig.wrapup_seconds is at most an hour).
WRAPUP_LOOKAHEAD = timedelta(hours=1)
#: The table of callback dials, when the database has it (migration 0004 and later).
CALLBACK_ATTEMPTS = "callback_attempts"


@dataclass(frozen=True, slots=True)
class CallFact:
    """One call as the report sees it; times are aware UTC."""

    call_id: str
    queue: str
    agent: str | None
    entered_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    wait_seconds: float | None
    talk_seconds: float | None
    disposition: str
    survey_score: int | None = None
    dissatisfied: bool = False
    # "inbound", or the callback kind of a call the dialer placed (`calls.kind`, 0006 on).
    kind: str = "inbound"


@dataclass(frozen=True, slots=True)
class StateChange:
    """An agent entered `new_state` at `at` (from `agent_states`)."""

    agent: str
    old_state: str
    new_state: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CallbackFact:
    """A callback request whose status last moved at `updated_at`."""

    queue: str
    status: str
    attempts: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CallbackDial:
    """One dial of a callback (a `callback_attempts` row)."""

    queue: str
    agent: str | None
    outcome: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReportData:
    """Rows for one report range.

    `calls` entered in the range; `states` are every change before the range's end plus the
    lookahead, starting with each agent's last change before the range (its state at the start);
    `callbacks` moved in the range; `dials` made in the range, or None when the database has no
    `callback_attempts` table.
    """

    calls: tuple[CallFact, ...]
    states: tuple[StateChange, ...]
    callbacks: tuple[CallbackFact, ...]
    dials: tuple[CallbackDial, ...] | None


#: Only what the report reads: a database one migration behind the models still reports.
_CALL_COLUMNS = (
    "call_id",
    "queue",
    "agent",
    "entered_at",
    "answered_at",
    "ended_at",
    "wait_seconds",
    "talk_seconds",
    "disposition",
    "survey_score",
    "dissatisfied",
)


def _call(row: RowMapping) -> CallFact:
    return CallFact(
        call_id=row["call_id"],
        queue=row["queue"],
        agent=row["agent"],
        entered_at=row["entered_at"],
        answered_at=row["answered_at"],
        ended_at=row["ended_at"],
        wait_seconds=None if row["wait_seconds"] is None else float(row["wait_seconds"]),
        talk_seconds=None if row["talk_seconds"] is None else float(row["talk_seconds"]),
        disposition=row["disposition"],
        survey_score=row["survey_score"],
        dissatisfied=bool(row["dissatisfied"]),
        kind=row.get("kind") or "inbound",
    )


async def _calls(
    conn: AsyncConnection, start: datetime, end: datetime, queue: str | None, agent: str | None
) -> list[CallFact]:
    columns = [CallRow.__table__.c[name] for name in _CALL_COLUMNS]
    if await conn.run_sync(_has_column, "calls", "kind"):
        columns.append(CallRow.__table__.c["kind"])
    query = (
        select(*columns)
        .where(CallRow.entered_at >= start, CallRow.entered_at < end)
        .order_by(CallRow.entered_at, CallRow.call_id)
    )
    if queue is not None:
        query = query.where(CallRow.queue == queue)
    if agent is not None:
        query = query.where(CallRow.agent == agent)
    return [_call(row) for row in (await conn.execute(query)).mappings()]


async def _states(
    conn: AsyncConnection, start: datetime, until: datetime, agent: str | None
) -> list[StateChange]:
    states = AgentStateRow.__table__
    latest = (
        select(states.c.agent, func.max(states.c.at).label("at"))
        .where(states.c.at < start)
        .group_by(states.c.agent)
        .subquery()
    )
    before = select(states).join(
        latest, and_(states.c.agent == latest.c.agent, states.c.at == latest.c.at)
    )
    during = select(states).where(states.c.at >= start, states.c.at < until)
    if agent is not None:
        before = before.where(states.c.agent == agent)
        during = during.where(states.c.agent == agent)
    rows: list[RowMapping] = []
    # Several changes at the same instant before the range: the last written one holds.
    last_before: dict[str, RowMapping] = {}
    for row in (await conn.execute(before)).mappings():
        held = last_before.get(row["agent"])
        if held is None or row["id"] > held["id"]:
            last_before[row["agent"]] = row
    rows.extend(last_before.values())
    rows.extend((await conn.execute(during)).mappings())
    rows.sort(key=lambda row: (row["agent"], row["at"], row["id"]))
    return [StateChange(r["agent"], r["old_state"], r["new_state"], r["at"]) for r in rows]


async def _callbacks(
    conn: AsyncConnection, start: datetime, end: datetime, queue: str | None
) -> list[CallbackFact]:
    query = (
        select(CallbackRow.queue, CallbackRow.status, CallbackRow.attempts, CallbackRow.updated_at)
        .where(CallbackRow.updated_at >= start, CallbackRow.updated_at < end)
        .order_by(CallbackRow.updated_at, CallbackRow.id)
    )
    if queue is not None:
        query = query.where(CallbackRow.queue == queue)
    return [
        CallbackFact(r.queue, r.status, int(r.attempts or 0), r.updated_at)
        for r in await conn.execute(query)
    ]


def _has_column(sync_conn: Connection, table: str, column: str) -> bool:
    return any(c["name"] == column for c in inspect(sync_conn).get_columns(table))


def _attempts_table(sync_conn: Connection) -> Table | None:
    if not inspect(sync_conn).has_table(CALLBACK_ATTEMPTS):
        return None
    return Table(CALLBACK_ATTEMPTS, MetaData(), autoload_with=sync_conn)


async def _dials(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    queue: str | None,
    agent: str | None,
) -> list[CallbackDial] | None:
    table = await conn.run_sync(_attempts_table)
    if table is None:
        return None
    c = table.c
    # The reflected column is a plain DateTime: coerce it so SQLite binds and returns UTC.
    at = type_coerce(c["at"], UTCDateTime()).label("at")
    query = select(c["queue"], c["agent"], c["outcome"], at).where(at >= start, at < end)
    if queue is not None:
        query = query.where(c["queue"] == queue)
    if agent is not None:
        query = query.where(c["agent"] == agent)
    return [
        CallbackDial(r.queue, r.agent, r.outcome, r.at)
        for r in await conn.execute(query.order_by(at))
    ]


async def load(
    records: Records,
    start: datetime,
    end: datetime,
    queue: str | None = None,
    agent: str | None = None,
) -> ReportData:
    """The rows of the range [start, end) (aware datetimes), optionally of one queue or agent.

    With `agent`, calls are those whose record carries the agent (answered by them, or
    abandoned while ringing them) and callbacks come only from dials that name an agent.
    """
    for name, value in (("start", start), ("end", end)):
        if value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    async with records.reading() as conn:
        calls = await _calls(conn, start, end, queue, agent)
        last_end = max((c.ended_at for c in calls if c.ended_at is not None), default=end)
        states = await _states(conn, start, max(end, last_end) + WRAPUP_LOOKAHEAD, agent)
        dials = await _dials(conn, start, end, queue, agent)
        callbacks = [] if agent is not None else await _callbacks(conn, start, end, queue)
    return ReportData(
        tuple(calls), tuple(states), tuple(callbacks), None if dials is None else tuple(dials)
    )
