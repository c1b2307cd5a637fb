"""Offered traffic per interval: which calls count, their handle time, the centre's clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from acd.records.store import Records
from acd.staffing.load import OfferedCall, interval_bounds, interval_loads, offered_calls
from tests.unit.staffing.records import SHANGHAI, insert_calls, local, row, spread


async def offered_calls_in(url: str, *args: Any, **kw: Any) -> list[OfferedCall]:
    """`offered_calls` from the records at `url`, through one Records opened and closed here."""
    async with Records(url) as records:
        return await offered_calls(records, *args, **kw)


WRAPUP = {"general": 10.0, "repairs": 30.0}


def test_intervals_start_on_the_centres_half_hours() -> None:
    # 01:10 UTC is 09:10 in Shanghai: the first interval is the rest of 09:00-09:30.
    since = datetime(2026, 11, 24, 1, 10, tzinfo=UTC)
    until = datetime(2026, 11, 24, 2, 15, tzinfo=UTC)
    bounds = interval_bounds(since, until, 1800, SHANGHAI)
    assert [(f"{s:%H:%M}", f"{e:%H:%M}") for s, e in bounds] == [
        ("09:10", "09:30"),
        ("09:30", "10:00"),
        ("10:00", "10:15"),
    ]
    assert all(s.tzinfo == SHANGHAI for s, _ in bounds)


def test_a_day_of_hours_is_24_intervals() -> None:
    bounds = interval_bounds(local("2026-11-24T00:00"), local("2026-11-25T00:00"), 3600, SHANGHAI)
    assert len(bounds) == 24
    assert bounds[0][0] == local("2026-11-24T00:00")


@pytest.mark.parametrize(
    ("period", "message"), [(7 * 60, "divide a day"), (2 * 86400, "at most a day"), (0.5, "whole")]
)
def test_an_interval_must_tile_the_day(period: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        interval_bounds(local("2026-11-24T09:00"), local("2026-11-24T10:00"), period, SHANGHAI)


def test_the_range_must_be_aware_and_forward() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        interval_bounds(datetime(2026, 11, 24), local("2026-11-25T00:00"), 1800, SHANGHAI)
    with pytest.raises(ValueError, match="after it starts"):
        interval_bounds(local("2026-11-25T00:00"), local("2026-11-24T00:00"), 1800, SHANGHAI)


def call(at: str, queue: str = "general", talk: float | None = 170.0) -> OfferedCall:
    return OfferedCall(queue, local(at), talk is not None, talk)


def test_handle_time_is_talk_plus_the_queues_wrapup() -> None:
    calls = [call("2026-11-24T09:01", talk=170), call("2026-11-24T09:02", "repairs", talk=90)]
    bounds = interval_bounds(local("2026-11-24T09:00"), local("2026-11-24T09:30"), 1800, SHANGHAI)
    (load,) = interval_loads(calls, bounds, WRAPUP, 999)
    assert (load.calls, load.answered, load.aht, load.aht_source) == (2, 2, 150.0, "interval")
    assert load.seconds == 1800


def test_an_interval_without_answers_takes_the_ranges_handle_time() -> None:
    calls = [
        call("2026-11-24T09:01", talk=170),
        call("2026-11-24T09:02", talk=50),
        call("2026-11-24T09:31", talk=None),  # abandoned
    ]
    bounds = interval_bounds(local("2026-11-24T09:00"), local("2026-11-24T10:00"), 1800, SHANGHAI)
    first, second = interval_loads(calls, bounds, WRAPUP, 999)
    assert (first.aht, first.aht_source) == (120.0, "interval")
    assert (second.calls, second.answered, second.aht, second.aht_source) == (1, 0, 120.0, "range")


def test_with_no_answer_at_all_the_configured_handle_time_is_used() -> None:
    bounds = interval_bounds(local("2026-11-24T09:00"), local("2026-11-24T09:30"), 1800, SHANGHAI)
    (load,) = interval_loads([call("2026-11-24T09:01", talk=None)], bounds, WRAPUP, 180)
    assert (load.calls, load.aht, load.aht_source) == (1, 180, "config")


async def test_offered_calls_are_those_that_reached_a_queue(db_url: str) -> None:
    nine = local("2026-11-24T09:00")
    await insert_calls(
        db_url,
        [
            *spread("a", nine, 3, 1800),
            row("abandoned", local("2026-11-24T09:10"), disposition="abandoned"),
            row("ringing", local("2026-11-24T09:11"), disposition="ringing"),
            row("ivr-only", local("2026-11-24T09:12"), queue="", disposition="ivr"),
            row("repairs", local("2026-11-24T09:13"), queue="repairs"),
            row("too-early", local("2026-11-24T08:59:59")),
            row("too-late", local("2026-11-24T10:00")),
        ],
    )
    until = local("2026-11-24T10:00")
    calls = await offered_calls_in(db_url, nine, until)
    assert len(calls) == 6
    assert [c.entered_at for c in calls] == sorted(c.entered_at for c in calls)
    assert all(c.entered_at.utcoffset() is not None for c in calls)
    assert sum(c.answered for c in calls) == 4
    general = await offered_calls_in(db_url, nine, until, queue="general")
    assert {c.queue for c in general} == {"general"} and len(general) == 5
