"""Agents' sessions from login to logout, rebuilt from the `agent_states` history.

The history holds state changes only; a session, its intervals and their seconds are derived
here, so every report and `acd agent sessions` count them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.records.models import AgentStateRow
from acd.records.shapes import check_aware, iso


async def agent_sessions(
    conn: AsyncConnection,
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
    check_aware("since", since)
    check_aware("until", until)
    table = AgentStateRow.__table__
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


def _mappings(result: Any) -> list[Mapping[str, Any]]:
    """A result's rows as mappings by column name."""
    return list(result.mappings())


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
            last["end"] = iso(end)
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
            logout_at=iso(logout_at),
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
                "login_at": iso(at),
                "partial": row["old_state"] != "logged-out",
                "_begin": at,
            }
        if intervals:
            last = intervals[-1]
            last["end"] = iso(at)
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
                "start": iso(at),
                "end": None,
                "seconds": None,
            }
        )
    if current is not None:
        last_start = intervals[-1]["start"] if intervals else current["login_at"]
        close(datetime.fromisoformat(str(last_start)), None, None)
    return sessions
