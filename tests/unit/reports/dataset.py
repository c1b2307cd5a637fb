"""The fixed, hand-made day every report test reads: one hour, two queues, two agents.

The report covers 09:00-10:00 on Monday 2025-03-03 in Asia/Shanghai (01:00-02:00 UTC), in two
30-minute intervals. Times below are seconds after 09:00 local. `general` answers within 15 s
(the seeds' 3 rings), `repairs` within 20 s, so per-queue T matters for call c05.

    call  queue    entered answered ended agent disposition wait talk wrap survey
    c00   general      -10        -    -2 -     abandoned      8    -    -  -  before the range
    c01   general        0       10   130 1001  answered      10  120   20  5
    c02   general       60       80   260 1002  answered      20  180   30  2  dissatisfied
    c03   general      120        -   123 -     abandoned      3    -    -  -  short abandon
    c04   general      300        -   340 -     abandoned     40    -    -  -
    c05   repairs      400      418   658 1001  answered      18  240   10  4
    c06   repairs      600        -   900 -     timeout      300    -    -  -  exited
    g07   -            700        -     - -     ivr            -    -    -  -  never queued
    c08   general     1800     1805  1865 1002  answered       5   60   20  3
    c09   general     1900     1915  2095 1001  answered      15  180   30  -  wait == T
    c10   repairs     2000        -  2005 -     abandoned      5    -    -  -  not short (5 s)
    c11   repairs     2100     2130  2430 1002  answered      30  300   40  1  dissatisfied
    c13   general     2200     2208  2268 1001  answered       8   60   10  -
    c12   general     3500        -     - -     waiting        -    -    -  -  still waiting
    c14   general     3600        -  3610 -     abandoned     10    -    -  -  at the end: out

Agent 1001 logged in at -600 (before the range), took c01 (ringing 5-10), c05, c09 and c13,
was on lunch 1000-1600 and logged out at 3000. Agent 1002 logged in at -3600 (after an
earlier login and logout), took c02, c08 and c11 and stays logged in past 10:00. Agent 1003
logged out before the range and is not in it.

Callbacks, as dials (`callback_attempts`): 1001 on general at 500 (no answer) and 700
(answered), 1002 on repairs at 2500 (busy) and 2600 (answered), 1001 at 3700 (after the end).
As requests (`callbacks`, for databases without dials): general "done" after 2 attempts at
600, repairs "failed" after 3 at 2000, general "pending" at 100, general "done" at 4000.

`python -m tests.unit.reports.dataset docs/report-service-level.png` draws the README's chart.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import MetaData, Table, insert
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from acd.records.models import make_engine
from acd.reports.query import CallbackDial, CallbackFact, CallFact, ReportData, StateChange
from acd.reports.report import ReportSpec

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 3, 3, 9, 0, tzinfo=ZONE)
END = START + timedelta(hours=1)
THRESHOLDS = {"general": 15.0, "repairs": 20.0}


def at(seconds: float) -> datetime:
    """`seconds` after 09:00 local, as the aware UTC time the records hold."""
    return (START + timedelta(seconds=seconds)).astimezone(UTC)


def _call(
    call_id: str,
    queue: str,
    entered: float,
    disposition: str,
    agent: str | None = None,
    answered: float | None = None,
    ended: float | None = None,
    survey: int | None = None,
    dissatisfied: bool = False,
) -> CallFact:
    until = answered if answered is not None else ended
    return CallFact(
        call_id=call_id,
        queue=queue,
        agent=agent,
        entered_at=at(entered),
        answered_at=None if answered is None else at(answered),
        ended_at=None if ended is None else at(ended),
        wait_seconds=None if until is None else until - entered,
        talk_seconds=None if answered is None or ended is None else ended - answered,
        disposition=disposition,
        survey_score=survey,
        dissatisfied=dissatisfied,
    )


CALLS = (
    _call("c00", "general", -10, "abandoned", ended=-2),
    _call("c01", "general", 0, "answered", "1001", 10, 130, survey=5),
    _call("c02", "general", 60, "answered", "1002", 80, 260, survey=2, dissatisfied=True),
    _call("c03", "general", 120, "abandoned", ended=123),
    _call("c04", "general", 300, "abandoned", ended=340),
    _call("c05", "repairs", 400, "answered", "1001", 418, 658, survey=4),
    _call("c06", "repairs", 600, "timeout", ended=900),
    _call("g07", "", 700, "ivr"),
    _call("c08", "general", 1800, "answered", "1002", 1805, 1865, survey=3),
    _call("c09", "general", 1900, "answered", "1001", 1915, 2095),
    _call("c10", "repairs", 2000, "abandoned", ended=2005),
    _call("c11", "repairs", 2100, "answered", "1002", 2130, 2430, survey=1, dissatisfied=True),
    _call("c13", "general", 2200, "answered", "1001", 2208, 2268),
    _call("c12", "general", 3500, "waiting"),
    _call("c14", "general", 3600, "abandoned", ended=3610),
)


def _states(agent: str, *changes: tuple[float, str, str]) -> list[StateChange]:
    return [StateChange(agent, old, new, at(t)) for t, old, new in changes]


STATES = (
    *_states(
        "1001",
        (-600, "logged-out", "ready"),
        (5, "ready", "reserved"),
        (10, "reserved", "on-call"),
        (130, "on-call", "wrap-up"),
        (150, "wrap-up", "ready"),
        (418, "ready", "on-call"),
        (658, "on-call", "wrap-up"),
        (668, "wrap-up", "ready"),
        (1000, "ready", "not-ready"),
        (1600, "not-ready", "ready"),
        (1915, "ready", "on-call"),
        (2095, "on-call", "wrap-up"),
        (2125, "wrap-up", "ready"),
        (2208, "ready", "on-call"),
        (2268, "on-call", "wrap-up"),
        (2278, "wrap-up", "ready"),
        (3000, "ready", "logged-out"),
    ),
    *_states(
        "1002",
        (-7200, "logged-out", "ready"),
        (-5400, "ready", "logged-out"),
        (-3600, "logged-out", "ready"),
        (80, "ready", "on-call"),
        (260, "on-call", "wrap-up"),
        (290, "wrap-up", "ready"),
        (1805, "ready", "on-call"),
        (1865, "on-call", "wrap-up"),
        (1885, "wrap-up", "ready"),
        (2130, "ready", "on-call"),
        (2430, "on-call", "wrap-up"),
        (2470, "wrap-up", "ready"),
        (3700, "ready", "logged-out"),
    ),
    *_states("1003", (-1800, "logged-out", "ready"), (-100, "ready", "logged-out")),
)

DIALS = (
    CallbackDial("general", "1001", "no-answer", at(500)),
    CallbackDial("general", "1001", "answered", at(700)),
    CallbackDial("repairs", "1002", "busy", at(2500)),
    CallbackDial("repairs", "1002", "answered", at(2600)),
    CallbackDial("general", "1001", "answered", at(3700)),
)

CALLBACKS = (
    CallbackFact("general", "done", 2, at(600)),
    CallbackFact("repairs", "failed", 3, at(2000)),
    CallbackFact("general", "pending", 0, at(100)),
    CallbackFact("general", "done", 1, at(4000)),
)


def data(dials: bool = True) -> ReportData:
    """The whole data set, as `query.load` would hand it over (callbacks as dials or not)."""
    return ReportData(CALLS, STATES, CALLBACKS, DIALS if dials else None)


def spec(**changes: Any) -> ReportSpec:
    base: dict[str, Any] = {
        "start": START,
        "end": END,
        "timezone": ZONE,
        "interval": timedelta(minutes=30),
        "as_of": END,
        "service_level_seconds": THRESHOLDS,
    }
    return ReportSpec(**{**base, **changes})


# The same rows in a records database.


def _call_row(call: CallFact) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "caller": "13800000000",
        "hotline": "home",
        "queue": call.queue,
        "agent": call.agent,
        "entered_at": call.entered_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "wait_seconds": call.wait_seconds,
        "talk_seconds": call.talk_seconds,
        "disposition": call.disposition,
        "hangup_side": None,
        "offers": 1 if call.agent else 0,
        "updated_at": call.ended_at or call.entered_at,
        "survey_score": call.survey_score,
        "survey_scale": None if call.survey_score is None else 5,
        "dissatisfied": call.dissatisfied,
        "ivr_path": None,
        "kind": call.kind,
    }


def _callback_row(number: int, callback: CallbackFact) -> dict[str, Any]:
    return {
        "call_id": f"cb{number}",
        "caller": "13900000000",
        "hotline": "home",
        "queue": callback.queue,
        "kind": "callback",
        "requested_at": at(-3600),
        "due_at": at(0),
        "status": callback.status,
        "attempts": callback.attempts,
        "updated_at": callback.updated_at,
    }


async def store(url: str, dials: bool = True, calls: tuple[CallFact, ...] = CALLS) -> None:
    """Write the data set into the (migrated) database at `url`; dials need 0004 or later.

    Tables are reflected from the database rather than taken from the models, so the rows
    fit whatever revision it is at (columns added later keep their server defaults).
    """
    engine = make_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_store, dials, calls)
    finally:
        await engine.dispose()


def _store(sync_conn: Connection, dials: bool, calls: tuple[CallFact, ...]) -> None:
    sqlite = sync_conn.dialect.name == "sqlite"

    def put(name: str, rows: list[dict[str, Any]]) -> None:
        # Reflected columns have no UTCDateTime: SQLite gets naive UTC, as the models store it.
        if sqlite:
            rows = [
                {k: v.replace(tzinfo=None) if isinstance(v, datetime) else v for k, v in r.items()}
                for r in rows
            ]
        table = Table(name, MetaData(), autoload_with=sync_conn)
        # Columns of later migrations (calls.kind) are left out of older databases.
        rows = [{k: v for k, v in r.items() if k in table.c} for r in rows]
        sync_conn.execute(insert(table), rows)

    put("calls", [_call_row(c) for c in calls])
    put(
        "agent_states",
        [
            {"agent": s.agent, "old_state": s.old_state, "new_state": s.new_state, "at": s.at}
            for s in STATES
        ],
    )
    put("callbacks", [_callback_row(i, c) for i, c in enumerate(CALLBACKS)])
    if dials:
        put(
            "callback_attempts",
            [
                {
                    "callback_id": None,
                    "call_id": f"d{i}",
                    "number": "13900000000",
                    "queue": dial.queue,
                    "kind": "callback",
                    "agent": dial.agent,
                    "attempt": 1,
                    "outcome": dial.outcome,
                    "at": dial.at,
                }
                for i, dial in enumerate(DIALS)
            ],
        )


def main(argv: list[str]) -> int:
    """Draw the fixed day's chart into the file named by the one argument."""
    from acd.reports.charts import render_png
    from acd.reports.compute import compute

    if len(argv) != 1:
        print("usage: python -m tests.unit.reports.dataset OUT.png", file=sys.stderr)
        return 2
    Path(argv[0]).write_bytes(render_png(compute(data(), spec())))
    print(f"wrote {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
