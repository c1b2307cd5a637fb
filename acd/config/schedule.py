"""The shape of business hours in `dialplans/`: seasons (with their lunch breaks), holidays and
special days, in a time zone.

Only what ops may write and what makes it valid lives here; what the hours mean at a given
instant (open? next opening? a callback's due date?) is `ivr.schedule`, pure functions over
these shapes. Config never imports the IVR.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from acd.config.base import Strict

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# Index = `date.weekday()`.
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_HHMM = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"


def _offset(hhmm: str) -> dt.timedelta:
    hours, minutes = hhmm.split(":")
    return dt.timedelta(hours=int(hours), minutes=int(minutes))


class Period(Strict):
    """One opening interval of a day, `start` included, `end` excluded.

    `end` may be "24:00" so a period can run to midnight: "23:59" would leave the last minute
    closed, and an end of "00:00" would read as before the start. A lunch break is the gap
    between two periods of a day ("09:00-12:00", "13:30-18:00").
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


def around_the_clock(timezone: str) -> ScheduleConfig:
    """Every day a working day, open 00:00-24:00: what a hotline without a schedule means.

    Written as a schedule, so a line that is always open is reasoned about by the same rules as
    any other (a working day closes at midnight) instead of by a special case at each caller.
    """
    return ScheduleConfig(
        timezone=timezone,
        working_days=list(WEEKDAYS),
        seasons=[
            Season(name="all year", from_date="01-01", open=[Period(start="00:00", end="24:00")])
        ],
    )


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
