"""Report intervals: aligned to midnight in the centre's time zone, computed in UTC.

Apart from the figures because the alignment rule (09:00, 09:30 ... local, one interval per
hour that exists on a day with a daylight-saving change) is calendar arithmetic that the CLI
also needs to validate `--interval` before any data is read.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo

DAY = timedelta(days=1)


def check_interval(interval: timedelta) -> None:
    """Intervals must tile a day, so that every day's intervals start at the same times."""
    seconds = interval.total_seconds()
    if seconds < 60 or seconds > DAY.total_seconds() or DAY.total_seconds() % seconds:
        raise ValueError(
            f"interval {interval} must be at least a minute and divide a day (15m, 30m, 1h, 1d)"
        )


def interval_start(when: datetime, zone: tzinfo, interval: timedelta) -> datetime:
    """The start (in UTC) of the interval holding `when`, counted from local midnight in `zone`.

    Arithmetic and comparisons are done in UTC: Python compares and subtracts two datetimes of
    the same zone by their wall clocks, which is wrong across a daylight-saving change.
    """
    when = when.astimezone(UTC)
    local = when.astimezone(zone)
    wall = local.replace(tzinfo=None)
    midnight = datetime.combine(wall.date(), time())
    steps = (wall - midnight) // interval
    start = (midnight + steps * interval).replace(tzinfo=zone, fold=local.fold).astimezone(UTC)
    # A wall time inside a daylight-saving gap maps past `when`; step back to cover it.
    while start > when:
        start -= interval
    return start


def interval_starts(
    start: datetime, end: datetime, zone: tzinfo, interval: timedelta
) -> list[datetime]:
    """Every interval start (UTC) from the one holding `start` up to, excluding, `end`."""
    check_interval(interval)
    end = end.astimezone(UTC)
    starts: list[datetime] = []
    current = interval_start(start, zone, interval)
    while current < end:
        starts.append(current)
        following = interval_start(current + interval, zone, interval)
        # Across a change from summer time the floor can fall back onto `current`.
        current = following if following > current else current + interval
    return starts
