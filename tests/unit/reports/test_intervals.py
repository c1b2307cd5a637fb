"""Report intervals start on the local clock of the centre, whatever UTC and daylight saving do."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from acd.reports.intervals import check_interval, interval_start, interval_starts

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def test_intervals_align_to_local_midnight_not_to_utc() -> None:
    # 09:47 in Shanghai is 01:47 UTC; hour intervals start at 09:00 local.
    when = datetime(2025, 3, 3, 1, 47, tzinfo=UTC)
    assert interval_start(when, SHANGHAI, timedelta(hours=1)) == datetime(
        2025, 3, 3, 9, 0, tzinfo=SHANGHAI
    )
    # India is UTC+5:30: half-hour intervals still start on the local half hour.
    kolkata = ZoneInfo("Asia/Kolkata")
    assert interval_start(when, kolkata, timedelta(minutes=30)) == datetime(
        2025, 3, 3, 7, 0, tzinfo=kolkata
    )


def test_a_range_that_starts_mid_interval_gets_the_whole_first_interval() -> None:
    start = datetime(2025, 3, 3, 9, 10, tzinfo=SHANGHAI)
    starts = interval_starts(start, start + timedelta(hours=1), SHANGHAI, timedelta(minutes=30))
    assert [s.astimezone(SHANGHAI).strftime("%H:%M") for s in starts] == [
        "09:00",
        "09:30",
        "10:00",
    ]


@pytest.mark.parametrize(
    ("day", "hours"),
    [(datetime(2025, 3, 30), 23), (datetime(2025, 10, 26), 25), (datetime(2025, 6, 1), 24)],
)
def test_a_day_with_a_dst_change_has_one_interval_per_hour_that_exists(
    day: datetime, hours: int
) -> None:
    # Berlin skips 02:00-03:00 on 2025-03-30 and has 02:00-03:00 twice on 2025-10-26.
    start = day.replace(tzinfo=BERLIN)
    end = (day + timedelta(days=1)).replace(tzinfo=BERLIN)
    starts = interval_starts(start, end, BERLIN, timedelta(hours=1))
    assert len(starts) == hours
    assert starts[0] == start
    steps = {b.astimezone(UTC) - a.astimezone(UTC) for a, b in itertools.pairwise(starts)}
    assert steps == {timedelta(hours=1)}


@pytest.mark.parametrize("good", [timedelta(minutes=15), timedelta(hours=1), timedelta(days=1)])
def test_intervals_that_tile_a_day_are_accepted(good: timedelta) -> None:
    check_interval(good)


@pytest.mark.parametrize("bad", [timedelta(seconds=30), timedelta(minutes=7), timedelta(days=2)])
def test_intervals_that_do_not_tile_a_day_are_refused(bad: timedelta) -> None:
    with pytest.raises(ValueError, match="divide a day"):
        check_interval(bad)
