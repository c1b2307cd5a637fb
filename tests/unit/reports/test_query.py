"""Loading the fixed day from a real records database, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from acd.records.migrate import upgrade_async
from acd.records.store import Records
from acd.reports.compute import compute
from acd.reports.query import ReportData, load
from tests.unit.reports import dataset as d


async def load_in(url: str, *args: Any, **kw: Any) -> ReportData:
    """`load` from the records at `url`, through one Records opened and closed here."""
    async with Records(url) as records:
        return await load(records, *args, **kw)


def _in_range(call_id: str) -> bool:
    # c00 entered before 09:00 and c14 at 10:00 exactly; g07 never queued but is a call row.
    return call_id not in ("c00", "c14")


async def test_calls_are_those_that_entered_in_the_range(db_url: str) -> None:
    await d.store(db_url)
    data = await load_in(db_url, d.START, d.END)
    expected = sorted((c for c in d.CALLS if _in_range(c.call_id)), key=lambda c: c.entered_at)
    assert list(data.calls) == expected
    assert all(c.entered_at.utcoffset() is not None for c in data.calls)


async def test_states_start_with_each_agents_state_before_the_range(db_url: str) -> None:
    await d.store(db_url)
    data = await load_in(db_url, d.START, d.END)
    first = {}
    for change in data.states:
        first.setdefault(change.agent, change)
    # 1001 logged in at 08:50; 1002's last change before 09:00 is its login at 08:00, not the
    # earlier login and logout; 1003 logged out at 08:58:20.
    assert first["1001"] == d.StateChange("1001", "logged-out", "ready", d.at(-600))
    assert first["1002"] == d.StateChange("1002", "logged-out", "ready", d.at(-3600))
    assert first["1003"] == d.StateChange("1003", "ready", "logged-out", d.at(-100))
    # Changes after 10:00 are read on (for the wrap-up of calls ending near the end).
    assert d.StateChange("1002", "ready", "logged-out", d.at(3700)) in data.states
    assert sum(1 for s in data.states if s.agent == "1002") == 11  # 13 - the 2 oldest


async def test_dials_and_callbacks_in_the_range(db_url: str) -> None:
    await d.store(db_url)
    data = await load_in(db_url, d.START, d.END)
    assert data.dials == d.DIALS[:4]  # the dial at 10:01:40 is after the range
    assert all(dial.at.utcoffset() is not None for dial in data.dials)
    assert sorted(c.updated_at for c in data.callbacks) == [d.at(100), d.at(600), d.at(2000)]


async def test_the_report_from_the_database_is_the_report_of_the_data_set(db_url: str) -> None:
    await d.store(db_url)
    from_db = compute(await load_in(db_url, d.START, d.END), d.spec())
    assert from_db == compute(d.data(), d.spec())


async def test_queue_and_agent_filters(db_url: str) -> None:
    await d.store(db_url)
    repairs = await load_in(db_url, d.START, d.END, queue="repairs")
    assert [c.call_id for c in repairs.calls] == ["c05", "c06", "c10", "c11"]
    assert [dial.outcome for dial in repairs.dials or ()] == ["busy", "answered"]
    assert {c.queue for c in repairs.callbacks} == {"repairs"}
    agent = await load_in(db_url, d.START, d.END, agent="1002")
    assert [c.call_id for c in agent.calls] == ["c02", "c08", "c11"]
    assert {s.agent for s in agent.states} == {"1002"}
    assert {dial.agent for dial in agent.dials or ()} == {"1002"}
    # Callback requests do not say who dialled them.
    assert agent.callbacks == ()


async def test_a_database_before_callback_attempts_reports_from_callbacks(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade_async(url, "0003")
    await d.store(url, dials=False)
    data = await load_in(url, d.START, d.END)
    assert data.dials is None
    report = compute(data, d.spec())
    assert (report.total.figures.callbacks_made, report.total.figures.callbacks_succeeded) == (
        5,
        1,
    )


async def test_the_kind_of_call_is_read_where_the_database_has_it(db_url: str) -> None:
    outbound = replace(d.CALLS[1], call_id="o1", kind="revisit")
    await d.store(db_url, calls=(*d.CALLS, outbound))
    data = await load_in(db_url, d.START, d.END)
    assert {c.call_id: c.kind for c in data.calls}["o1"] == "revisit"
    assert compute(data, d.spec()) == compute(d.data(), d.spec())  # not an offered call


async def test_naive_times_are_refused(db_url: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await load_in(db_url, d.START.replace(tzinfo=None), d.END)
