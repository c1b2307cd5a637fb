"""Business hours: is the centre open, when does it open or close, when is a callback due.

Pure and synchronous on purpose: every function takes the moment it reasons about, so the IVR,
the callback scheduler and the tests get the same answer for the same instant, and no test has
to freeze a clock.

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
import itertools
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from acd.config.models import Strict

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# Index = `date.weekday()`.
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_HHMM = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"
_UTC = dt.UTC
_TICK = dt.timedelta(microseconds=1)
_DAY = dt.timedelta(days=1)


def _offset(hhmm: str) -> dt.timedelta:
    hours, minutes = hhmm.split(":")
    return dt.timedelta(hours=int(hours), minutes=int(minutes))


class Period(Strict):
    """One opening interval of a day, `start` included, `end` excluded.

    `end` may be "24:00" so a period can run to midnight: "23:59" would leave the last minute
    closed, and an end of "00:00" would read as before the start.
    """

    start: Annotated[str, Field(pattern=rf"^{_HHMM}$")]
    end: Annotated[str, Field(pattern=rf"^(?:{_HHMM}|24:00)$")]

    @model_validator(mode="after")
    def _start_before_end(self) -> Period:
        if self.start_offset >= self.end_offset:
            raise ValueError(f"period {self.start}-{self.end}: start must be before end")
        return self

    @property
    def start_offset(self) -> dt.timedelta:
        """Wall time of the start, as a time since local midnight."""
        return _offset(self.start)

    @property
    def end_offset(self) -> dt.timedelta:
        """Wall time of the end since local midnight; 24:00 is one day, the next midnight."""
        return _offset(self.end)

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


def _in_order(periods: list[Period]) -> list[Period]:
    """Periods must be written in order and not overlap (touching is fine).

    An overlap is almost always a typo, and ordered periods read back the way callers hear them.
    """
    for before, after in itertools.pairwise(periods):
        if after.start_offset < before.end_offset:
            raise ValueError(f"periods {before} and {after} overlap or are out of order")
    return periods


class Season(Strict):
    """The hours of every working day from `from_date` (MM-DD, inclusive) to the next season."""

    name: str = Field(min_length=1)
    from_date: Annotated[str, Field(pattern=r"^[0-9]{2}-[0-9]{2}$")]
    # A closed stretch of the year is written as holidays, so a season always has hours.
    open: list[Period] = Field(min_length=1)

    @field_validator("from_date")
    @classmethod
    def _real_day(cls, value: str) -> str:
        month, day = (int(part) for part in value.split("-"))
        dt.date(2000, month, day)  # a leap year, so 02-29 is accepted; raises on 02-30 or 13-01
        return value

    @field_validator("open")
    @classmethod
    def _ordered(cls, value: list[Period]) -> list[Period]:
        return _in_order(value)

    @property
    def month_day(self) -> tuple[int, int]:
        month, day = (int(part) for part in self.from_date.split("-"))
        return month, day


class SpecialDay(Strict):
    """A date whose hours replace everything else: a working Saturday, a half day, a closure.

    Empty `open` means closed all day (a closure that is not a public holiday, e.g. a move).
    """

    date: dt.date
    name: str = Field(min_length=1)
    open: list[Period] = Field(default_factory=list)

    @field_validator("open")
    @classmethod
    def _ordered(cls, value: list[Period]) -> list[Period]:
        return _in_order(value)


def _default_working_days() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


class ScheduleConfig(Strict):
    """When the centre takes calls: seasons for ordinary working days, dated exceptions on top.

    Precedence for a date: a special day's hours, else closed on a holiday or a non-working
    weekday, else the season's hours.
    """

    timezone: str = "Asia/Shanghai"
    # At least one: a schedule that never opens would make `next_open` search forever.
    working_days: list[Weekday] = Field(default_factory=_default_working_days, min_length=1)
    seasons: list[Season] = Field(min_length=1)
    holidays: list[dt.date] = Field(default_factory=list)
    special_days: list[SpecialDay] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("working_days")
    @classmethod
    def _unique_days(cls, value: list[Weekday]) -> list[Weekday]:
        if len(set(value)) != len(value):
            raise ValueError("working_days lists a day twice")
        return value

    @model_validator(mode="after")
    def _unambiguous(self) -> ScheduleConfig:
        starts = [season.month_day for season in self.seasons]
        if len(set(starts)) != len(starts):
            raise ValueError("two seasons start on the same day")
        special = [day.date for day in self.special_days]
        if len(set(special)) != len(special):
            raise ValueError("a special day is listed twice")
        both = set(special) & set(self.holidays)
        if both:
            # Which one wins would be a guess; make ops say what they mean.
            raise ValueError(f"both a holiday and a special day: {sorted(both)}")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances: cheap to call each time


def _summer() -> list[Period]:
    return [Period(start="09:00", end="12:00"), Period(start="13:30", end="18:00")]


def _winter() -> list[Period]:
    return [Period(start="09:00", end="12:00"), Period(start="13:00", end="17:30")]


# The seeds' hours ("Working hours"). The holidays are an example of how ops list them (New
# Year's Day and National Day 2026), not an official calendar: the real one comes from config.
SEEDS_SCHEDULE = ScheduleConfig(
    timezone="Asia/Shanghai",
    working_days=["mon", "tue", "wed", "thu", "fri"],
    seasons=[
        Season(name="summer", from_date="05-01", open=_summer()),
        Season(name="winter", from_date="10-01", open=_winter()),
    ],
    holidays=[dt.date(2026, 1, 1), *(dt.date(2026, 10, day) for day in range(1, 8))],
)


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


def add_working_days(schedule: ScheduleConfig, when: dt.datetime, n: int) -> dt.datetime:
    """The close of business on the n-th working day after `when`'s local date.

    A due time for promises like "we call back within five working days": the day of the call
    does not count, holidays and non-working weekdays are skipped, and a special day with hours
    (a working Saturday) counts. n=0 means the close of business today, or of the next working
    day when today is closed; it may already be past. The deadline is the end of the day's last
    period, since the callback has to happen while agents are in.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    zone = schedule.zone
    day = _local_naive(zone, _aware(when)).date()
    if n == 0:
        while not hours_on(schedule, day):
            day += _DAY
    else:
        counted = 0
        while counted < n:
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
