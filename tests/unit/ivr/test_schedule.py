"""Business hours: seasons, lunch, holidays, special days, midnight and DST, as callers meet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from acd.config.schedule import (
    SEEDS_SCHEDULE,
    WEEKDAYS,
    Period,
    ScheduleConfig,
    Season,
    SpecialDay,
    around_the_clock,
)
from ivr.schedule import (
    closes_at,
    describe_hours,
    due_by,
    hours_on,
    is_open,
    next_open,
    season_for,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
TICK = dt.timedelta(microseconds=1)


def just_before(instant: dt.datetime) -> dt.datetime:
    """One microsecond earlier, in UTC: arithmetic within one zone is wall-clock arithmetic."""
    return instant.astimezone(UTC) - TICK


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, s, us, tzinfo=SHANGHAI)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def p(start: str, end: str) -> Period:
    return Period(start=start, end=end)


def schedule(
    *periods: Period,
    timezone: str = "Asia/Shanghai",
    working_days: list[str] | None = None,
    holidays: list[dt.date] | None = None,
    special_days: list[SpecialDay] | None = None,
) -> ScheduleConfig:
    """One season all year: the simplest schedule that isolates one rule."""
    return ScheduleConfig.model_validate(
        {
            "timezone": timezone,
            "working_days": working_days or ["mon", "tue", "wed", "thu", "fri"],
            "seasons": [Season(name="all", from_date="01-01", open=list(periods))],
            "holidays": holidays or [],
            "special_days": special_days or [],
        }
    )


LONDON_OFFICE = schedule(p("09:00", "17:00"), timezone="Europe/London")


# --- the models -----------------------------------------------------------------------------


def test_period_accepts_24_00_only_as_end() -> None:
    assert p("20:00", "24:00").end_offset == dt.timedelta(days=1)
    with pytest.raises(ValidationError):
        p("24:00", "24:00")


@pytest.mark.parametrize(
    ("start", "end"),
    [("12:00", "12:00"), ("13:00", "12:00"), ("9:00", "12:00"), ("09:60", "10:00")],
)
def test_period_rejects_bad_or_backwards_times(start: str, end: str) -> None:
    with pytest.raises(ValidationError):
        p(start, end)


def test_models_forbid_unknown_keys_and_are_frozen() -> None:
    with pytest.raises(ValidationError):
        Period.model_validate({"start": "09:00", "end": "12:00", "lunch": "yes"})
    with pytest.raises(ValidationError):
        SEEDS_SCHEDULE.timezone = "UTC"  # type: ignore[misc]


def test_season_rejects_impossible_date_and_overlapping_periods() -> None:
    with pytest.raises(ValidationError):
        Season(name="x", from_date="02-30", open=[p("09:00", "12:00")])
    with pytest.raises(ValidationError):
        Season(name="x", from_date="01-01", open=[p("09:00", "12:30"), p("12:00", "18:00")])
    with pytest.raises(ValidationError):
        Season(name="x", from_date="01-01", open=[])
    touching = Season(name="x", from_date="02-29", open=[p("09:00", "12:00"), p("12:00", "13:00")])
    assert touching.month_day == (2, 29)


@pytest.mark.parametrize(
    "change",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": "../etc/passwd"},
        {"timezone": ""},
        {"working_days": []},
        {"working_days": ["mon", "mon"]},
        {"working_days": ["monday"]},
        {"seasons": []},
        {"holidays": ["2026-10-10"], "special_days": [{"date": "2026-10-10", "name": "swap"}]},
        {
            "special_days": [
                {"date": "2026-10-10", "name": "a"},
                {"date": "2026-10-10", "name": "b"},
            ]
        },
    ],
)
def test_schedule_rejects_ambiguous_or_unknown_settings(change: dict[str, object]) -> None:
    data = SEEDS_SCHEDULE.model_dump(mode="json") | change
    with pytest.raises(ValidationError):
        ScheduleConfig.model_validate(data)


def test_seasons_starting_on_the_same_day_are_rejected() -> None:
    data = SEEDS_SCHEDULE.model_dump(mode="json")
    data["seasons"][1]["from_date"] = "05-01"
    with pytest.raises(ValidationError):
        ScheduleConfig.model_validate(data)


def test_seeds_schedule_round_trips_through_yaml_shaped_data() -> None:
    data = SEEDS_SCHEDULE.model_dump(mode="json")
    assert data["holidays"][0] == "2026-01-01"
    assert ScheduleConfig.model_validate(data) == SEEDS_SCHEDULE


# --- seasons --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "season"),
    [
        (dt.date(2026, 1, 15), "winter"),  # before the first from_date: wraps to last year's
        (dt.date(2026, 4, 30), "winter"),
        (dt.date(2026, 5, 1), "summer"),
        (dt.date(2026, 9, 30), "summer"),
        (dt.date(2026, 10, 1), "winter"),
        (dt.date(2026, 12, 31), "winter"),
    ],
)
def test_season_is_the_latest_start_on_or_before_the_date(day: dt.date, season: str) -> None:
    assert season_for(SEEDS_SCHEDULE, day).name == season


def test_season_change_day_switches_the_afternoon_hours() -> None:
    # 2025 has no example holidays: 09-30 (Tue) is summer, 10-01 (Wed) is winter.
    assert is_open(SEEDS_SCHEDULE, sh(2025, 9, 30, 17, 45))
    assert not is_open(SEEDS_SCHEDULE, sh(2025, 10, 1, 17, 45))
    assert not is_open(SEEDS_SCHEDULE, sh(2025, 9, 30, 13, 15))  # summer lunch
    assert is_open(SEEDS_SCHEDULE, sh(2025, 10, 1, 13, 15))  # winter lunch is over
    assert closes_at(SEEDS_SCHEDULE, sh(2025, 9, 30, 17, 0)) == sh(2025, 9, 30, 18, 0)
    assert closes_at(SEEDS_SCHEDULE, sh(2025, 10, 1, 17, 0)) == sh(2025, 10, 1, 17, 30)


# --- is_open, next_open, closes_at ----------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (sh(2026, 6, 1, 8, 59, 59), False),
        (sh(2026, 6, 1, 9, 0), True),
        (sh(2026, 6, 1, 11, 59, 59), True),
        (sh(2026, 6, 1, 12, 0), False),  # lunch
        (sh(2026, 6, 1, 13, 29, 59), False),
        (sh(2026, 6, 1, 13, 30), True),
        (sh(2026, 6, 1, 17, 59, 59), True),
        (sh(2026, 6, 1, 18, 0), False),
        (sh(2026, 6, 6, 10, 0), False),  # Saturday
    ],
)
def test_summer_hours_with_lunch_break(when: dt.datetime, expected: bool) -> None:
    assert is_open(SEEDS_SCHEDULE, when) is expected


def test_next_open_and_closes_at_around_lunch() -> None:
    assert next_open(SEEDS_SCHEDULE, sh(2026, 6, 1, 12, 10)) == sh(2026, 6, 1, 13, 30)
    assert closes_at(SEEDS_SCHEDULE, sh(2026, 6, 1, 10, 0)) == sh(2026, 6, 1, 12, 0)
    assert closes_at(SEEDS_SCHEDULE, sh(2026, 6, 1, 14, 0)) == sh(2026, 6, 1, 18, 0)
    assert closes_at(SEEDS_SCHEDULE, sh(2026, 6, 1, 12, 10)) is None


def test_next_open_returns_when_itself_if_open() -> None:
    when = sh(2026, 6, 1, 10, 0, 0, 123)
    assert next_open(SEEDS_SCHEDULE, when) == when


def test_next_open_over_the_weekend() -> None:
    assert next_open(SEEDS_SCHEDULE, sh(2026, 6, 5, 18, 0)) == sh(2026, 6, 8, 9, 0)


def test_utc_when_is_judged_on_shanghai_clock() -> None:
    # 01:00 UTC is 09:00 in Shanghai; 00:59 UTC is 08:59.
    assert is_open(SEEDS_SCHEDULE, utc(2026, 6, 1, 1, 0))
    assert not is_open(SEEDS_SCHEDULE, utc(2026, 6, 1, 0, 59))
    # Sunday 23:00 UTC is already Monday 07:00 in Shanghai.
    opens = next_open(SEEDS_SCHEDULE, utc(2026, 5, 31, 23, 0))
    assert opens == utc(2026, 6, 1, 1, 0)
    assert opens.tzinfo == SHANGHAI and opens.hour == 9


def test_naive_datetimes_are_refused() -> None:
    naive = dt.datetime(2026, 6, 1, 10, 0)
    calls: list[Callable[[], object]] = [
        lambda: is_open(SEEDS_SCHEDULE, naive),
        lambda: next_open(SEEDS_SCHEDULE, naive),
        lambda: closes_at(SEEDS_SCHEDULE, naive),
        lambda: describe_hours(SEEDS_SCHEDULE, naive),
        lambda: due_by(SEEDS_SCHEDULE, naive, 5),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="naive"):
            call()


def test_next_open_across_national_day() -> None:
    assert not is_open(SEEDS_SCHEDULE, sh(2026, 10, 1, 10, 0))  # a Thursday, but a holiday
    assert next_open(SEEDS_SCHEDULE, sh(2026, 9, 30, 18, 30)) == sh(2026, 10, 8, 9, 0)
    # The same instant asked in UTC.
    assert next_open(SEEDS_SCHEDULE, utc(2026, 9, 30, 10, 30)) == sh(2026, 10, 8, 9, 0)


def test_special_working_saturday_and_special_closure() -> None:
    data = SEEDS_SCHEDULE.model_dump(mode="json")
    data["special_days"] = [
        {"date": "2026-10-10", "name": "make-up day", "open": [{"start": "09:00", "end": "12:00"}]},
        {"date": "2026-10-09", "name": "office move"},
    ]
    special = ScheduleConfig.model_validate(data)
    assert hours_on(special, dt.date(2026, 10, 9)) == ()
    assert not is_open(special, sh(2026, 10, 9, 10, 0))  # a Friday, closed for the move
    assert is_open(special, sh(2026, 10, 10, 10, 0))  # a Saturday, working
    assert not is_open(special, sh(2026, 10, 10, 14, 0))  # half day
    assert next_open(special, sh(2026, 10, 8, 17, 30)) == sh(2026, 10, 10, 9, 0)
    assert closes_at(special, sh(2026, 10, 10, 11, 0)) == sh(2026, 10, 10, 12, 0)
    assert describe_hours(special, sh(2026, 10, 10, 7, 0)) == "09:00-12:00"


def test_period_to_midnight_and_from_midnight_is_one_opening() -> None:
    night = schedule(p("00:00", "02:00"), p("20:00", "24:00"), working_days=list(WEEKDAYS))
    assert is_open(night, sh(2026, 6, 1, 23, 59, 59, 999_999))
    assert is_open(night, sh(2026, 6, 2, 0, 0))
    assert not is_open(night, sh(2026, 6, 2, 2, 0))
    assert closes_at(night, sh(2026, 6, 1, 21, 0)) == sh(2026, 6, 2, 2, 0)
    assert next_open(night, sh(2026, 6, 2, 3, 0)) == sh(2026, 6, 2, 20, 0)


def test_period_to_midnight_closes_at_midnight_when_tomorrow_is_closed() -> None:
    evening = schedule(p("18:00", "24:00"))
    assert closes_at(evening, sh(2026, 6, 5, 23, 0)) == sh(2026, 6, 6, 0, 0)  # Fri -> Sat
    assert not is_open(evening, sh(2026, 6, 6, 0, 0))
    assert next_open(evening, sh(2026, 6, 5, 17, 0)) == sh(2026, 6, 5, 18, 0)


def test_touching_periods_are_one_opening() -> None:
    split = schedule(p("09:00", "12:00"), p("12:00", "13:00"))
    assert is_open(split, sh(2026, 6, 1, 12, 0))
    assert closes_at(split, sh(2026, 6, 1, 11, 0)) == sh(2026, 6, 1, 13, 0)


def test_open_around_the_clock_has_no_closing_time() -> None:
    always = schedule(p("00:00", "24:00"), working_days=list(WEEKDAYS))
    assert closes_at(always, sh(2026, 6, 1, 3, 0)) is None
    assert next_open(always, sh(2026, 6, 1, 3, 0)) == sh(2026, 6, 1, 3, 0)


# --- DST (Europe/London: clocks go forward 2026-03-29 01:00 UTC, back 2026-10-25 01:00 UTC) ---


def test_london_opens_at_local_nine_across_spring_change() -> None:
    opens = next_open(LONDON_OFFICE, dt.datetime(2026, 3, 27, 17, 30, tzinfo=LONDON))
    assert opens.astimezone(UTC) == utc(2026, 3, 30, 8, 0)  # 09:00 BST
    assert (opens.hour, opens.utcoffset()) == (9, dt.timedelta(hours=1))
    assert is_open(LONDON_OFFICE, utc(2026, 3, 30, 8, 30))
    assert not is_open(LONDON_OFFICE, utc(2026, 3, 27, 8, 30))  # 08:30 GMT, before the change


def test_london_opens_at_local_nine_across_autumn_change() -> None:
    opens = next_open(LONDON_OFFICE, utc(2026, 10, 23, 16, 30))  # Fri 17:30 BST
    assert opens.astimezone(UTC) == utc(2026, 10, 26, 9, 0)  # 09:00 GMT
    assert closes_at(LONDON_OFFICE, opens) == dt.datetime(2026, 10, 26, 17, 0, tzinfo=LONDON)


def night_shift(*periods: Period, day: str) -> ScheduleConfig:
    return schedule(
        p("09:00", "17:00"),
        timezone="Europe/London",
        special_days=[SpecialDay.model_validate({"date": day, "name": "night", "open": periods})],
    )


def test_next_open_in_a_skipped_hour_opens_at_the_jump() -> None:
    # 01:30-05:00 on the spring-forward night: 01:00-02:00 GMT never shows on the clock,
    # so the line opens at the jump, 01:00 UTC, which reads 02:00 BST.
    shift = night_shift(p("01:30", "05:00"), day="2026-03-29")
    assert not is_open(shift, utc(2026, 3, 29, 0, 59, 59))
    opens = next_open(shift, utc(2026, 3, 29, 0, 30))
    assert opens.astimezone(UTC) == utc(2026, 3, 29, 1, 0)
    assert (opens.hour, opens.minute) == (2, 0)
    assert closes_at(shift, opens) == dt.datetime(2026, 3, 29, 5, 0, tzinfo=LONDON)


def test_period_entirely_in_a_skipped_hour_never_opens() -> None:
    shift = night_shift(p("01:10", "01:50"), day="2026-03-29")
    assert next_open(shift, utc(2026, 3, 29, 0, 30)).astimezone(UTC) == utc(2026, 3, 30, 8, 0)


def test_repeated_hour_follows_the_wall_clock() -> None:
    # 00:30-01:30 on the fall-back night: the clock reads 01:00-01:30 twice, so the line is
    # open twice; judged by the wall clock, as everywhere else.
    shift = night_shift(p("00:30", "01:30"), day="2026-10-25")
    first_close = closes_at(shift, utc(2026, 10, 24, 23, 45))  # 00:45 BST
    assert first_close is not None and first_close.astimezone(UTC) == utc(2026, 10, 25, 0, 30)
    assert first_close.fold == 0
    assert not is_open(shift, utc(2026, 10, 25, 0, 45))  # 01:45 BST
    reopens = next_open(shift, utc(2026, 10, 25, 0, 45))
    assert reopens.astimezone(UTC) == utc(2026, 10, 25, 1, 0)  # 01:00 GMT
    second_close = closes_at(shift, reopens)
    assert second_close is not None and second_close.astimezone(UTC) == utc(2026, 10, 25, 1, 30)
    assert second_close.fold == 1


# --- due_by -----------------------------------------------------------------------------------


def test_after_hours_booking_is_due_within_five_working_days() -> None:
    # The seeds: after hours, "call back within five working days". Booked Friday 09-25 at
    # 19:00: the weekend (26, 27) and National Day (Oct 1-7) do not count; Mon 28, Tue 29,
    # Wed 30, Thu 8, Fri 9; due at the close of Fri 10-09, on winter hours (from 10-01).
    assert due_by(SEEDS_SCHEDULE, sh(2026, 9, 25, 19, 0), 5) == sh(2026, 10, 9, 17, 30)


def test_booking_during_hours_does_not_count_its_own_day() -> None:
    # Thursday 10:00 and Thursday 17:59 are promised the same: the day of the call is not one.
    assert due_by(SEEDS_SCHEDULE, sh(2026, 6, 4, 10, 0), 1) == sh(2026, 6, 5, 18, 0)
    assert due_by(SEEDS_SCHEDULE, sh(2026, 6, 4, 17, 59), 1) == sh(2026, 6, 5, 18, 0)


def test_a_line_without_hours_counts_every_day_and_closes_at_midnight() -> None:
    always = around_the_clock("Asia/Shanghai")
    # Friday 10:00: Saturday is a working day for a line that is always open; it ends at the
    # midnight into Sunday, Shanghai time.
    assert due_by(always, sh(2026, 6, 5, 10, 0), 1) == sh(2026, 6, 7, 0, 0)
    assert due_by(always, sh(2026, 6, 5, 10, 0), 5) == sh(2026, 6, 11, 0, 0)
    # n=0: by the end of today, not "now" and not tomorrow.
    assert due_by(always, sh(2026, 6, 5, 23, 0), 0) == sh(2026, 6, 6, 0, 0)
    # The day is the zone's: Friday 20:00 UTC is Saturday 04:00 in Shanghai.
    assert due_by(always, utc(2026, 6, 5, 20, 0), 1) == sh(2026, 6, 8, 0, 0)


def test_around_the_clock_is_always_open() -> None:
    always = around_the_clock("Europe/London")
    assert is_open(always, utc(2026, 3, 29, 1, 30))  # the night the clocks go forward
    assert is_open(always, utc(2026, 12, 25, 23, 59))
    assert closes_at(always, utc(2026, 6, 1, 12, 0)) is None


def test_five_working_days_skip_the_weekend() -> None:
    # Friday: Mon..Fri of next week; the day of the call does not count.
    assert due_by(SEEDS_SCHEDULE, sh(2026, 6, 5, 20, 0), 5) == sh(2026, 6, 12, 18, 0)
    assert due_by(SEEDS_SCHEDULE, sh(2026, 6, 1, 8, 0), 1) == sh(2026, 6, 2, 18, 0)


def test_five_working_days_skip_national_day() -> None:
    # Mon 09-28: Tue 29, Wed 30, [Oct 1-7 holiday], Thu 8, Fri 9, Mon 12 (winter hours).
    due = due_by(SEEDS_SCHEDULE, sh(2026, 9, 28, 10, 0), 5)
    assert due == sh(2026, 10, 12, 17, 30)
    assert due.tzinfo == SHANGHAI


def test_special_working_day_counts_as_a_working_day() -> None:
    data = SEEDS_SCHEDULE.model_dump(mode="json")
    data["special_days"] = [
        {"date": "2026-10-10", "name": "make-up day", "open": [{"start": "09:00", "end": "12:00"}]}
    ]
    special = ScheduleConfig.model_validate(data)
    assert due_by(special, sh(2026, 9, 28, 10, 0), 5) == sh(2026, 10, 10, 12, 0)


def test_zero_working_days_is_today_or_the_next_working_day() -> None:
    assert due_by(SEEDS_SCHEDULE, sh(2026, 6, 1, 10, 0), 0) == sh(2026, 6, 1, 18, 0)
    assert due_by(SEEDS_SCHEDULE, sh(2026, 6, 6, 10, 0), 0) == sh(2026, 6, 8, 18, 0)
    with pytest.raises(ValueError):
        due_by(SEEDS_SCHEDULE, sh(2026, 6, 1, 10, 0), -1)


def test_working_days_count_from_the_local_date() -> None:
    # Friday 20:00 UTC is already Saturday 04:00 in Shanghai.
    assert due_by(SEEDS_SCHEDULE, utc(2026, 6, 5, 20, 0), 1) == sh(2026, 6, 8, 18, 0)


def test_due_time_in_london_uses_the_local_offset_of_that_day() -> None:
    due = due_by(LONDON_OFFICE, utc(2026, 3, 27, 10, 0), 1)  # Fri -> Mon after change
    assert due.astimezone(UTC) == utc(2026, 3, 30, 16, 0)  # 17:00 BST


# --- describe_hours -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "text"),
    [
        (sh(2026, 6, 1, 20, 0), "09:00-12:00, 13:30-18:00"),
        (sh(2026, 6, 6, 10, 0), "09:00-12:00, 13:30-18:00"),  # Saturday: the usual hours
        (sh(2026, 10, 2, 10, 0), "09:00-12:00, 13:00-17:30"),  # holiday: winter's usual hours
        (sh(2026, 1, 5, 10, 0), "09:00-12:00, 13:00-17:30"),
    ],
)
def test_describe_hours(when: dt.datetime, text: str) -> None:
    assert describe_hours(SEEDS_SCHEDULE, when) == text


# --- properties -----------------------------------------------------------------------------

ZONES = [
    "Asia/Shanghai",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST
    "America/Santiago",  # clocks change at midnight
    "America/Sao_Paulo",  # until 2019, autumn turned midnight back to 23:00 of the day before
]


@st.composite
def periods(draw: st.DrawFn) -> list[Period]:
    """Ordered, non-touching half-hour-grid periods, possibly from 00:00 or to 24:00."""
    bounds = sorted(draw(st.lists(st.integers(0, 48), min_size=2, max_size=6, unique=True)))
    if len(bounds) % 2:
        bounds = bounds[:-1]

    def hhmm(half_hours: int) -> str:
        return f"{half_hours // 2:02d}:{half_hours % 2 * 30:02d}"

    return [p(hhmm(a), hhmm(b)) for a, b in zip(bounds[::2], bounds[1::2], strict=True)]


@st.composite
def schedules(draw: st.DrawFn) -> ScheduleConfig:
    season_starts = st.sampled_from(["01-01", "03-29", "05-01", "10-01"])
    starts = draw(st.lists(season_starts, min_size=1, max_size=3, unique=True))
    days = st.dates(dt.date(2016, 1, 1), dt.date(2028, 12, 31))
    holidays = draw(st.lists(days, max_size=10, unique=True))
    special = draw(st.lists(days.filter(lambda d: d not in holidays), max_size=4, unique=True))
    return ScheduleConfig.model_validate(
        {
            "timezone": draw(st.sampled_from(ZONES)),
            "working_days": draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True)),
            "seasons": [
                Season(name=f"s{i}", from_date=start, open=draw(periods()))
                for i, start in enumerate(starts)
            ],
            "holidays": holidays,
            "special_days": [
                SpecialDay(date=day, name="special", open=draw(periods() | st.just([])))
                for day in special
            ],
        }
    )


instants = st.datetimes(dt.datetime(2016, 1, 1), dt.datetime(2028, 12, 31)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)
# Whole half-hours land exactly on period boundaries and DST changes, where bugs live.
on_the_grid = instants.map(lambda t: t.replace(minute=t.minute // 30 * 30, second=0, microsecond=0))
fixed = st.sampled_from([SEEDS_SCHEDULE, LONDON_OFFICE])
any_schedule = fixed | schedules()
any_instant = instants | on_the_grid


@settings(max_examples=300, deadline=None)
@given(any_schedule, any_instant)
def test_next_open_is_the_first_open_moment(s: ScheduleConfig, t: dt.datetime) -> None:
    opens = next_open(s, t)
    assert opens.astimezone(UTC) >= t  # compared in UTC: one tzinfo would compare wall times
    assert opens.tzinfo == s.zone
    assert is_open(s, opens)
    if is_open(s, t):
        assert opens.astimezone(UTC) == t
    else:
        assert not is_open(s, just_before(opens))


@settings(max_examples=300, deadline=None)
@given(any_schedule, any_instant)
def test_closes_at_is_the_first_closed_moment(s: ScheduleConfig, t: dt.datetime) -> None:
    closes = closes_at(s, t)
    if not is_open(s, t):
        assert closes is None
    elif closes is not None:
        assert closes.astimezone(UTC) > t
        assert not is_open(s, closes)
        assert is_open(s, just_before(closes))


@settings(max_examples=200, deadline=None)
@given(any_schedule, instants, st.integers(0, 12), st.integers(0, 12))
def test_due_by_is_monotonic(s: ScheduleConfig, t: dt.datetime, a: int, b: int) -> None:
    low, high = sorted((a, b))
    first = due_by(s, t, low).astimezone(UTC)
    second = due_by(s, t, high).astimezone(UTC)
    assert first <= second
    # n=0 on a closed day is the next working day, the same day as n=1; from 1 on it is strict.
    if 1 <= low < high:
        assert first < second


@settings(max_examples=200, deadline=None)
@given(fixed, instants, st.integers(1, 12))
def test_due_by_lands_at_a_close_after_the_call(s: ScheduleConfig, t: dt.datetime, n: int) -> None:
    due = due_by(s, t, n)
    assert due.date() > t.astimezone(s.zone).date()
    assert is_open(s, just_before(due)) and not is_open(s, due)


def _offset_changes(zone: ZoneInfo, year: int) -> list[dt.datetime]:
    """The zone's offset changes in a year (to the hour), so DST nights get tested on purpose."""
    found: list[dt.datetime] = []
    hour = utc(year, 1, 1)
    offset = hour.astimezone(zone).utcoffset()
    while hour.year == year:
        hour += dt.timedelta(hours=1)
        if hour.astimezone(zone).utcoffset() != offset:
            found.append(hour)
            offset = hour.astimezone(zone).utcoffset()
    return found


# 2018: Sao Paulo still had DST then.
DST_NIGHTS = {name: _offset_changes(ZoneInfo(name), 2018) for name in ZONES}


@settings(max_examples=300, deadline=None)
@given(schedules(), st.data())
def test_searches_hold_on_dst_nights(s: ScheduleConfig, data: st.DataObject) -> None:
    changes = DST_NIGHTS[s.timezone]
    if not changes:  # Shanghai has no DST
        return
    change = data.draw(st.sampled_from(changes))
    t = change + data.draw(st.integers(-48, 48)) * dt.timedelta(minutes=15)
    t -= data.draw(st.sampled_from([dt.timedelta(0), TICK]))
    test_next_open_is_the_first_open_moment.hypothesis.inner_test(s, t)  # type: ignore[attr-defined]
    test_closes_at_is_the_first_closed_moment.hypothesis.inner_test(s, t)  # type: ignore[attr-defined]
