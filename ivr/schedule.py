"""Business hours: is the centre open, when does it open or close, when is a callback due.

Pure and synchronous on purpose: every function takes the moment it reasons about, so the IVR,
the callback scheduler and the tests get the same answer for the same instant, and no test has
to freeze a clock. The shapes these functions read (periods, seasons, holidays, special days)
are config, in `acd.config.schedule`; nothing here is a model of its own.

Hours are wall-clock times in the schedule's zone, as the seeds and ops write them ("9:00-18:00").
One rule defines "open": an instant is open when its local date's hours contain its local wall
time (`is_open`). Around DST changes the wall clock jumps or repeats, so the searches work on UTC
instants: every moment where the clock reads a period boundary, and every moment the zone's
offset changes, is a candidate, and each candidate is checked with that same rule. The searches
only find where "open" changes; they never define it a second time.

Aware datetimes sharing one tzinfo compare and subtract by wall time, ignoring `fold`, so every
comparison here is made in UTC. Callers comparing results across a repeated hour should do the
same.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from acd.config.schedule import WEEKDAYS, Period, ScheduleConfig, Season

_UTC = dt.UTC
_TICK = dt.timedelta(microseconds=1)
_DAY = dt.timedelta(days=1)


def season_for(schedule: ScheduleConfig, day: dt.date) -> Season:
    """The season in force on a local date: the latest `from_date` on or before it.

    Before the year's first `from_date` the last season of the previous year still holds, so
    with summer from 05-01 and winter from 10-01, January is winter.
    """
    ordered = sorted(schedule.seasons, key=lambda season: season.month_day)
    current = ordered[-1]
    for season in ordered:
        if season.month_day <= (day.month, day.day):
            current = season
    return current


def hours_on(schedule: ScheduleConfig, day: dt.date) -> tuple[Period, ...]:
    """The opening periods of a local date; empty when closed all day."""
    for special in schedule.special_days:
        if special.date == day:
            return tuple(special.open)
    if day in schedule.holidays or WEEKDAYS[day.weekday()] not in schedule.working_days:
        return ()
    return tuple(season_for(schedule, day).open)


def _aware(when: dt.datetime) -> dt.datetime:
    """`when` in UTC. A naive time is refused: guessing its zone is how callbacks land at 3 a.m."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{when!r} is naive: pass a timezone-aware datetime")
    return when.astimezone(_UTC)


def _open_at(schedule: ScheduleConfig, zone: ZoneInfo, instant: dt.datetime) -> bool:
    local = instant.astimezone(zone)
    wall = local - local.replace(hour=0, minute=0, second=0, microsecond=0)
    return any(p.start_offset <= wall < p.end_offset for p in hours_on(schedule, local.date()))


def _local_naive(zone: ZoneInfo, instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _readings(zone: ZoneInfo, naive: dt.datetime) -> list[dt.datetime]:
    """The UTC instants at which the local clock reads `naive`.

    One normally, two in an hour the clock repeats (autumn), none in an hour it skips (spring).
    """
    found: list[dt.datetime] = []
    for fold in (0, 1):
        instant = naive.replace(tzinfo=zone, fold=fold).astimezone(_UTC)
        if _local_naive(zone, instant) == naive and instant not in found:
            found.append(instant)
    return found


def _offset_changes(zone: ZoneInfo, day: dt.date) -> list[dt.datetime]:
    """UTC instants around a local date where the zone's offset changes.

    There the wall clock jumps, so "open" can start or stop without the clock ever reading a
    period boundary: a period starting in a skipped hour opens at the jump. Hourly samples over
    a generous window, then bisection to the microsecond.
    """
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(_UTC)
    start = midnight - dt.timedelta(hours=3)
    found: list[dt.datetime] = []
    before, before_offset = start, start.astimezone(zone).utcoffset()
    for hour in range(1, 31):
        after = start + dt.timedelta(hours=hour)
        after_offset = after.astimezone(zone).utcoffset()
        if after_offset != before_offset:
            low, high = before, after
            while high - low > _TICK:
                middle = low + (high - low) // 2
                if middle.astimezone(zone).utcoffset() == before_offset:
                    low = middle
                else:
                    high = middle
            found.append(high)
        before, before_offset = after, after_offset
    return found


def _horizon_days(schedule: ScheduleConfig) -> int:
    """How far the searches look: a year, plus a week for every dated exception.

    With at least one working weekday a schedule opens within a week unless holidays or special
    days close it, so this always reaches the next opening; it only bounds `closes_at` on a line
    that is open around the clock.
    """
    return 371 + 7 * (len(schedule.holidays) + len(schedule.special_days))


def _first_change(
    schedule: ScheduleConfig, zone: ZoneInfo, start: dt.datetime, *, opening: bool
) -> dt.datetime | None:
    """The first UTC instant at or after `start` where `is_open` equals `opening`.

    `start` must have the opposite state. The scan begins the local day before `start`, because
    a clock turned back at midnight reads yesterday's date for an hour.
    """
    first_day = _local_naive(zone, start).date() - _DAY
    best: dt.datetime | None = None
    best_day: dt.date | None = None
    for index in range(_horizon_days(schedule) + 2):
        day = first_day + index * _DAY
        if best_day is not None and day > best_day + _DAY:
            break
        midnight = dt.datetime.combine(day, dt.time())
        candidates = _offset_changes(zone, day)
        for period in hours_on(schedule, day):
            boundary = period.start_offset if opening else period.end_offset
            candidates.extend(_readings(zone, midnight + boundary))
        for candidate in candidates:
            if candidate < start or (best is not None and candidate >= best):
                continue
            if _open_at(schedule, zone, candidate) == opening:
                best, best_day = candidate, day
    return best


def is_open(schedule: ScheduleConfig, when: dt.datetime) -> bool:
    """Whether calls are taken at `when` (any zone; judged on the schedule's local clock)."""
    return _open_at(schedule, schedule.zone, _aware(when))


def next_open(schedule: ScheduleConfig, when: dt.datetime) -> dt.datetime:
    """The first moment at or after `when` that is open, in the schedule's zone.

    `when` itself (converted) when already open, so "call back at next_open" never waits for
    nothing. Raises ValueError only for a schedule with no opening within the search horizon.
    """
    zone = schedule.zone
    start = _aware(when)
    if _open_at(schedule, zone, start):
        return start.astimezone(zone)
    found = _first_change(schedule, zone, start, opening=True)
    if found is None:
        raise ValueError(f"no opening hours within {_horizon_days(schedule)} days of {when}")
    return found.astimezone(zone)


def closes_at(schedule: ScheduleConfig, when: dt.datetime) -> dt.datetime | None:
    """When the current opening ends, in the schedule's zone, so the IVR can say "until 18:00".

    Touching periods and a period to 24:00 followed by one from 00:00 count as one opening.
    None when closed at `when`, or when the line stays open past the search horizon (around the
    clock): either way there is no closing time worth announcing.
    """
    zone = schedule.zone
    start = _aware(when)
    if not _open_at(schedule, zone, start):
        return None
    found = _first_change(schedule, zone, start, opening=False)
    return None if found is None else found.astimezone(zone)


def _reached(zone: ZoneInfo, naive: dt.datetime) -> dt.datetime:
    """The last instant the local clock reaches `naive`: in a skipped hour, the jump past it."""
    readings = _readings(zone, naive)
    if readings:
        return max(readings)
    folds = [naive.replace(tzinfo=zone, fold=fold).astimezone(_UTC) for fold in (0, 1)]
    low, high = min(folds), max(folds)  # the clock reads before `naive` at low, after at high
    while high - low > _TICK:
        middle = low + (high - low) // 2
        if _local_naive(zone, middle) < naive:
            low = middle
        else:
            high = middle
    return high


def due_by(schedule: ScheduleConfig, when: dt.datetime, working_days: int) -> dt.datetime:
    """When a promise made at `when` to act "within `working_days` working days" falls due.

    The one due-date rule (IVR callbacks, `acd callback add`, complaints), in the schedule's zone:
    the close of business on the n-th working day after `when`'s local date. The day of the
    request does not count (a promise made at 17:59 must not fall due a minute later), holidays
    and non-working weekdays are skipped, a special day with hours (a working Saturday) counts,
    and the deadline is the end of that day's last period, since the work has to happen while
    agents are in. n=0 means the close of business today, or of the next working day when today
    is closed; after closing time that is already past, which is the truth about such a promise.

    A line without a schedule is open around the clock: pass `around_the_clock(zone)` (what
    `Config.calendar_for` gives such a hotline) and every day counts and closes at midnight, so
    the same promise is dated by the same rule whether the line keeps hours or not. (The copies
    this replaces fell back to "now + n days", or "now + max(n, 1) days", for such lines.)
    """
    if working_days < 0:
        raise ValueError(f"working_days must be >= 0, got {working_days}")
    zone = schedule.zone
    day = _local_naive(zone, _aware(when)).date()
    if working_days == 0:
        while not hours_on(schedule, day):
            day += _DAY
    else:
        counted = 0
        while counted < working_days:
            day += _DAY
            if hours_on(schedule, day):
                counted += 1
    last = hours_on(schedule, day)[-1]
    return _reached(zone, dt.datetime.combine(day, dt.time()) + last.end_offset).astimezone(zone)


def describe_hours(schedule: ScheduleConfig, when: dt.datetime) -> str:
    """Hours to read to a caller, e.g. "09:00-12:00, 13:30-18:00".

    Today's hours on a working or special day; on a closed day the season's usual hours, which
    is what a caller outside hours needs to know to call again.
    """
    day = _local_naive(schedule.zone, _aware(when)).date()
    periods = hours_on(schedule, day) or tuple(season_for(schedule, day).open)
    return ", ".join(str(period) for period in periods)
