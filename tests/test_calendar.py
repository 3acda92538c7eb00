"""The business calendar: examples, validation, DST and odd zones, and properties.

The properties run over zones with DST gaps and folds at odd hours, half- and
three-quarter-hour offsets and a skipped day, and compare the calendar with a slow
reference that steps minute by minute, on minute-aligned inputs.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pendulum
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import servicekit.calendar as calendar_module
from servicekit.calendar import DAYS, HORIZON_DAYS, BusinessCalendar, parse_duration
from servicekit.errors import InvalidValue

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = {day: [("09:00", "17:30")] for day in ("mon", "tue", "wed", "thu", "fri")}
ONE_US = timedelta(microseconds=1)


@pytest.fixture(scope="module")
def office() -> BusinessCalendar:
    """Monday to Friday, 09:00-17:30, in Berlin."""
    return BusinessCalendar(timezone="Europe/Berlin", hours=WEEKDAYS)


def berlin(  # noqa: PLR0913, PLR0917 - the fields of a datetime
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    *,
    fold: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BERLIN, fold=fold)


def in_utc(moment: datetime) -> datetime:
    """The instant in UTC, for comparing instants.

    Datetimes sharing a tzinfo compare by wall clock, ignoring fold, and one in a
    fold never equals one in another zone (PEP 495).
    """
    return moment.astimezone(UTC)


# --- The examples ------------------------------------------------------------------------------


def test_sixty_minutes_from_an_hour_before_closing_end_at_closing(
    office: BusinessCalendar,
) -> None:
    assert office.add(berlin(2024, 7, 2, 16, 30), timedelta(minutes=60)) == berlin(
        2024, 7, 2, 17, 30
    )


def test_sixty_one_minutes_from_an_hour_before_closing_run_into_the_next_morning(
    office: BusinessCalendar,
) -> None:
    assert office.add(berlin(2024, 7, 2, 16, 30), timedelta(minutes=61)) == berlin(2024, 7, 3, 9, 1)


def test_adding_nothing_returns_the_start_even_when_closed(office: BusinessCalendar) -> None:
    assert office.add(berlin(2024, 7, 6, 10), timedelta(0)) == berlin(2024, 7, 6, 10)


def test_a_minute_from_saturday_morning_ends_at_monday_0901(office: BusinessCalendar) -> None:
    assert office.add(berlin(2024, 7, 6, 10), timedelta(minutes=1)) == berlin(2024, 7, 8, 9, 1)


def test_results_are_standard_datetimes_in_the_calendars_zone(office: BusinessCalendar) -> None:
    start = datetime(2024, 7, 2, 14, 30, tzinfo=UTC)
    results = [
        office.add(start, "1h"),
        office.next_open(start),
        office.add_business_days(start, 1),
        office.add(start, "0m"),
    ]
    assert all(type(result) is datetime and result.tzinfo is BERLIN for result in results)
    assert results[0] == berlin(2024, 7, 2, 17, 30)


def test_pendulum_datetimes_are_read_like_standard_ones(office: BusinessCalendar) -> None:
    start = pendulum.datetime(2024, 7, 2, 16, 30, tz="Europe/Berlin")
    assert office.add(start, "61m") == berlin(2024, 7, 3, 9, 1)
    assert office.elapsed(start, pendulum.datetime(2024, 7, 3, 7, 1, tz="UTC")) == timedelta(
        minutes=61
    )


def test_a_pendulum_start_in_a_fold_keeps_its_fold() -> None:
    second = pendulum.datetime(2024, 10, 27, 2, 30, tz="Europe/Berlin").replace(fold=1)
    calendar = BusinessCalendar.always_open("Europe/Berlin")
    assert in_utc(calendar.add(second, "0m")) == datetime(2024, 10, 27, 1, 30, tzinfo=UTC)


# --- Naive datetimes, bad durations and bad definitions are refused -----------------------------


QUESTIONS: dict[str, Callable[[BusinessCalendar, datetime], object]] = {
    "add": lambda calendar, moment: calendar.add(moment, "1h"),
    "elapsed from": lambda calendar, moment: calendar.elapsed(moment, berlin(2024, 7, 2)),
    "elapsed to": lambda calendar, moment: calendar.elapsed(berlin(2024, 7, 2), moment),
    "is_open": lambda calendar, moment: calendar.is_open(moment),
    "next_open": lambda calendar, moment: calendar.next_open(moment),
    "add_business_days": lambda calendar, moment: calendar.add_business_days(moment, 1),
}


@pytest.mark.parametrize("question", QUESTIONS.values(), ids=QUESTIONS.keys())
def test_a_naive_datetime_is_refused(
    office: BusinessCalendar, question: Callable[[BusinessCalendar, datetime], object]
) -> None:
    with pytest.raises(InvalidValue, match="naive datetime 2024-07-02T10:00:00"):
        question(office, datetime(2024, 7, 2, 10))  # noqa: DTZ001 - naive on purpose


ARGUMENTS = {
    "add": "the start",
    "elapsed from": "the start",
    "elapsed to": "the end",
    "is_open": "the moment",
    "next_open": "the moment",
    "add_business_days": "the start",
}


@pytest.mark.parametrize(
    ("question", "argument"),
    [(QUESTIONS[k], v) for k, v in ARGUMENTS.items()],
    ids=ARGUMENTS.keys(),
)
def test_a_naive_datetime_refusal_names_the_argument(
    office: BusinessCalendar,
    question: Callable[[BusinessCalendar, datetime], object],
    argument: str,
) -> None:
    """The refusal says which datetime was naive, so that the caller knows which to fix."""
    expected = f"{argument} must be timezone-aware, got the naive datetime 2024-07-02T10:00:00"
    with pytest.raises(InvalidValue) as refused:
        question(office, datetime(2024, 7, 2, 10))  # noqa: DTZ001 - naive on purpose
    assert str(refused.value) == expected


def test_a_naive_pendulum_datetime_is_refused(office: BusinessCalendar) -> None:
    with pytest.raises(InvalidValue, match="naive"):
        office.add(pendulum.naive(2024, 7, 2, 10), "1h")


def test_something_other_than_a_datetime_is_refused(office: BusinessCalendar) -> None:
    with pytest.raises(InvalidValue, match="timezone-aware datetime, got str"):
        office.add("2024-07-02T10:00:00+02:00", "1h")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4h", timedelta(hours=4)),
        ("90m", timedelta(minutes=90)),
        ("1d 2h 30m", timedelta(days=1, hours=2, minutes=30)),
        ("1d2h30m", timedelta(days=1, hours=2, minutes=30)),
        (" 2 hours 15 min ", timedelta(hours=2, minutes=15)),
        ("1.5h", timedelta(hours=1, minutes=30)),
        ("1w", timedelta(weeks=1)),
        ("45s", timedelta(seconds=45)),
        ("1H 1M", timedelta(hours=1, minutes=1)),
        ("0m", timedelta(0)),
        ("PT4H", timedelta(hours=4)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("P2W", timedelta(weeks=2)),
        ("PT1.5H", timedelta(hours=1, minutes=30)),
    ],
)
def test_duration_strings_are_read(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert type(parse_duration(text)) is timedelta


@pytest.mark.parametrize(
    "text", ["", "  ", "4", "4x", "h", "4h and", "1h 30", "PT", "P4H", "P", "2024-07-02", "4 h h"]
)
def test_an_unreadable_duration_string_is_refused_by_name(text: str) -> None:
    with pytest.raises(InvalidValue, match=f"duration {text!r}"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P1M", "P1Y", "P1Y2D"])
def test_a_duration_in_years_or_months_is_refused(text: str) -> None:
    with pytest.raises(InvalidValue, match="years or months"):
        parse_duration(text)


def test_a_pendulum_duration_with_months_is_refused(office: BusinessCalendar) -> None:
    with pytest.raises(InvalidValue, match="years or months"):
        office.add(berlin(2024, 7, 2, 10), pendulum.duration(months=1))
    assert office.add(berlin(2024, 7, 2, 10), pendulum.duration(hours=1)) == berlin(2024, 7, 2, 11)


def test_an_overlong_duration_is_refused() -> None:
    with pytest.raises(InvalidValue, match="too long"):
        parse_duration("99999999999d")


@pytest.mark.parametrize("duration", ["-4h", " -PT4H", timedelta(minutes=-1)])
def test_a_negative_duration_is_refused(office: BusinessCalendar, duration: object) -> None:
    with pytest.raises(InvalidValue, match="must not be negative"):
        office.add(berlin(2024, 7, 2, 10), duration)  # type: ignore[arg-type]


@pytest.mark.parametrize("duration", [4, 4.0, None])
def test_a_duration_must_be_a_timedelta_or_a_string(
    office: BusinessCalendar, duration: object
) -> None:
    with pytest.raises(InvalidValue, match="timedelta or a string"):
        office.add(berlin(2024, 7, 2, 10), duration)  # type: ignore[arg-type]


def test_parse_duration_wants_a_string() -> None:
    with pytest.raises(InvalidValue, match="duration string"):
        parse_duration(4)  # type: ignore[arg-type]


def test_parse_duration_says_what_it_wants_instead_of_a_non_string() -> None:
    """The refusal of a non-string gives an example of each form a duration takes."""
    with pytest.raises(InvalidValue) as refused:
        parse_duration(4)  # type: ignore[arg-type]
    assert str(refused.value) == "a duration string such as '4h' or 'PT4H' was expected, got 4"


def test_an_unreadable_duration_is_refused_with_examples_of_both_forms() -> None:
    """The refusal of an unreadable duration shows how to write one, in either form."""
    with pytest.raises(InvalidValue) as refused:
        parse_duration("4x")
    assert str(refused.value) == (
        "cannot read the duration '4x': write numbers with units such as '4h', "
        "'1d 2h 30m' or '90m', or an ISO 8601 duration such as 'PT4H'"
    )


def test_an_iso_duration_keeps_its_fractions_of_a_second() -> None:
    """PT0.5S is half a second: the microseconds pendulum reads are kept."""
    assert parse_duration("PT0.5S") == timedelta(milliseconds=500)
    assert parse_duration("P1DT0.000001S") == timedelta(days=1, microseconds=1)


def test_a_pendulum_duration_in_years_is_refused(office: BusinessCalendar) -> None:
    """A year has no fixed length of business time, even with no months beside it."""
    with pytest.raises(InvalidValue, match="years or months"):
        office.add(berlin(2024, 7, 2, 10), pendulum.duration(years=1))


def test_a_pendulum_duration_counts_its_days_and_microseconds() -> None:
    """A pendulum Duration is read as its whole length: days, seconds and microseconds."""
    always = BusinessCalendar.always_open("UTC")
    start = datetime(2024, 7, 2, 10, tzinfo=UTC)
    duration = pendulum.duration(days=2, hours=1, microseconds=7)
    assert always.add(start, duration) == start + timedelta(days=2, hours=1, microseconds=7)


class _Span(timedelta):
    """A host application's own timedelta subclass (not a pendulum Duration)."""


def test_a_timedelta_subclass_is_read_as_its_length() -> None:
    """Any timedelta is a duration: a subclass without years or months is not refused."""
    always = BusinessCalendar.always_open("UTC")
    start = datetime(2024, 7, 2, 10, tzinfo=UTC)
    span = _Span(days=1, hours=2, microseconds=3)
    assert always.add(start, span) == start + timedelta(days=1, hours=2, microseconds=3)


def test_an_unknown_weekday_is_refused() -> None:
    with pytest.raises(InvalidValue, match="unknown weekday 'monday' in hours: use mon, tue"):
        BusinessCalendar(timezone="UTC", hours={"monday": [("09:00", "17:00")]})


@pytest.mark.parametrize("time", ["9", "09:60", "25:00", "9.00", "09:00:00", "", "ab:cd", 900])
def test_a_malformed_time_is_refused(time: object) -> None:
    with pytest.raises(InvalidValue, match=f"malformed time {time!r} in the hours of tue"):
        BusinessCalendar(timezone="UTC", hours={"tue": [(time, "17:00")]})  # type: ignore[list-item]


def test_twenty_four_hundred_may_only_end_an_interval() -> None:
    until_midnight = BusinessCalendar(timezone="UTC", hours={"mon": [("18:00", "24:00")]})
    assert until_midnight.hours == (("mon", (("18:00", "24:00"),)),)
    with pytest.raises(InvalidValue, match="'24:00' may only end an interval"):
        BusinessCalendar(timezone="UTC", hours={"mon": [("24:00", "02:00")]})


def test_a_zero_length_interval_is_refused() -> None:
    with pytest.raises(InvalidValue, match=r"interval \('09:00', '9:00'\) of wed has zero length"):
        BusinessCalendar(timezone="UTC", hours={"wed": [("09:00", "9:00")]})


def test_overlapping_intervals_on_one_day_are_refused() -> None:
    with pytest.raises(InvalidValue, match="intervals 09:00-12:00 and 11:00-14:00 of thu overlap"):
        BusinessCalendar(timezone="UTC", hours={"thu": [("11:00", "14:00"), ("09:00", "12:00")]})


def test_touching_intervals_are_allowed() -> None:
    calendar = BusinessCalendar(
        timezone="UTC", hours={"thu": [("09:00", "12:00"), ("12:00", "14:00")]}
    )
    start = datetime(2024, 7, 4, 11, tzinfo=UTC)
    assert calendar.add(start, "2h") == datetime(2024, 7, 4, 13, tzinfo=UTC)


def test_an_interval_crossing_midnight_into_the_next_days_hours_is_refused() -> None:
    with pytest.raises(InvalidValue, match="22:00-06:00 of sun crosses midnight into the interval"):
        BusinessCalendar(
            timezone="UTC", hours={"sun": [("22:00", "06:00")], "mon": [("05:00", "09:00")]}
        )


def test_exception_hours_crossing_into_a_neighbours_hours_are_refused() -> None:
    with pytest.raises(InvalidValue, match="of 2024-07-05 crosses midnight into the interval"):
        BusinessCalendar(
            timezone="UTC",
            hours={"sat": [("05:00", "09:00")]},
            exceptions={date(2024, 7, 5): [("20:00", "06:00")]},
        )
    with pytest.raises(InvalidValue, match="of 2024-07-05 crosses midnight into the interval"):
        BusinessCalendar(
            timezone="UTC",
            hours={"fri": [("20:00", "06:00")]},
            exceptions={date(2024, 7, 6): [("05:00", "09:00")]},
        )


@pytest.mark.parametrize("zone", ["Nowhere/City", "", "Europe", "../etc/passwd", "utc"])
def test_an_unknown_time_zone_is_refused(zone: str) -> None:
    with pytest.raises(InvalidValue, match=f"unknown time zone {zone!r}"):
        BusinessCalendar(timezone=zone, hours=WEEKDAYS)


def test_a_time_zone_must_be_a_name_or_a_zoneinfo() -> None:
    with pytest.raises(InvalidValue, match="IANA time zone name"):
        BusinessCalendar(timezone=1, hours=WEEKDAYS)  # type: ignore[arg-type]
    assert BusinessCalendar(timezone=BERLIN, hours=WEEKDAYS).timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"hours": [("09:00", "17:00")]}, "hours must map weekdays"),
        ({"hours": {"mon": "09:00-17:00"}}, "hours of mon must be a list of"),
        ({"hours": {"mon": [("09:00", "12:00", "17:00")]}}, "must be a .start, end. pair"),
        ({"hours": {"mon": ["09:00"]}}, "must be a .start, end. pair"),
        ({"holidays": "2024-12-25"}, "holidays must be an iterable of dates"),
        (
            {"holidays": [datetime(2024, 12, 25, tzinfo=UTC)]},
            "each holiday must be a datetime.date",
        ),
        ({"holidays": ["2024-12-25"]}, "each holiday must be a datetime.date"),
        ({"exceptions": [date(2024, 12, 24)]}, "exceptions must map dates"),
        ({"exceptions": {"2024-12-24": []}}, "each date of exceptions must be a datetime.date"),
    ],
)
def test_a_malformed_definition_is_refused(definition: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        BusinessCalendar(**{"timezone": "UTC", "hours": WEEKDAYS, **definition})


@pytest.mark.parametrize(
    "definition",
    [{"hours": {}}, {"hours": {"mon": []}, "exceptions": {date(2024, 12, 24): []}}],
)
def test_a_calendar_that_is_never_open_is_refused_when_built(
    definition: dict[str, Any],
) -> None:
    with pytest.raises(InvalidValue, match="the calendar is never open"):
        BusinessCalendar(timezone="UTC", **definition)


def _refusal(**definition: Any) -> str:
    """The message of the `InvalidValue` that building a calendar from `definition` raises."""
    with pytest.raises(InvalidValue) as refused:
        BusinessCalendar(**{"timezone": "UTC", "hours": WEEKDAYS, **definition})
    return str(refused.value)


def test_a_time_zone_that_is_not_a_name_is_refused_with_an_example() -> None:
    """The refusal of a zone that is neither a name nor a ZoneInfo shows what to give."""
    assert _refusal(timezone=1) == (
        "timezone must be an IANA time zone name such as 'Europe/Berlin', got 1"
    )


def test_business_time_is_exact_to_the_microsecond_in_any_year() -> None:
    """Instants are whole microseconds: far in the future (past 2^53 of them) too."""
    always = BusinessCalendar.always_open("UTC")
    start = datetime(2300, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    assert always.add(start, timedelta(hours=1)) == start + timedelta(hours=1)


def test_opening_hours_in_a_zone_are_exact_to_the_microsecond_in_any_year() -> None:
    """A zone's opening instants are whole microseconds, in the year 2300 as today."""
    daily = BusinessCalendar(
        timezone="Europe/Berlin", hours={day: [("09:00", "17:00")] for day in DAYS}
    )
    opening = berlin(2300, 7, 2, 9)
    assert in_utc(daily.add(berlin(2300, 7, 2, 8), ONE_US)) == in_utc(opening) + ONE_US


def test_the_last_minute_of_an_hour_is_a_time() -> None:
    """Minutes run 00 to 59: '09:59' is a time like any other."""
    calendar = BusinessCalendar(timezone="UTC", hours={"tue": [("09:59", "17:59")]})
    assert calendar.hours == (("tue", (("09:59", "17:59"),)),)


@pytest.mark.parametrize(
    ("time", "why"),
    [
        ("25:00", "out of range"),
        ("09:60", "out of range"),
        ("24:00", "'24:00' may only end an interval"),
    ],
)
def test_a_time_out_of_range_is_refused_saying_why(time: str, why: str) -> None:
    """A time past the clock is out of range; '24:00' is refused only as a start."""
    assert _refusal(hours={"tue": [(time, "23:00")]}) == (
        f"malformed time {time!r} in the hours of tue: {why}"
    )


def test_a_malformed_end_time_names_its_day() -> None:
    """The refusal of an interval's end names the weekday, like that of its start."""
    assert _refusal(hours={"wed": [("09:00", "5pm")]}) == (
        "malformed time '5pm' in the hours of wed: write 'HH:MM', such as '09:00'"
    )


def test_a_malformed_exception_time_names_its_date() -> None:
    """The refusal of an exception's interval names the date it was given for."""
    assert _refusal(exceptions={date(2024, 12, 24): [("09:00", "noon")]}) == (
        "malformed time 'noon' in the hours of 2024-12-24: write 'HH:MM', such as '09:00'"
    )


@pytest.mark.parametrize("pair", ["09", 9])
def test_an_interval_that_is_not_a_tuple_or_list_is_refused_as_not_a_pair(pair: object) -> None:
    """Only a tuple or a list is a (start, end) pair: a two-letter string is not one."""
    assert _refusal(hours={"mon": [pair]}) == (
        f"each interval of mon must be a (start, end) pair such as ('09:00', '17:30'), got {pair!r}"
    )


def test_a_definition_that_is_not_a_mapping_or_an_iterable_is_refused_saying_what_it_must_be() -> (
    None
):
    """Each refusal of a malformed definition says what the argument must be, in full."""
    assert _refusal(hours=[("09:00", "17:00")]) == (
        "hours must map weekdays (mon, tue, wed, thu, fri, sat, sun) to lists of intervals, "
        "got [('09:00', '17:00')]"
    )
    assert _refusal(holidays="2024-12-25") == (
        "holidays must be an iterable of dates (or a mapping by date), got '2024-12-25'"
    )
    assert _refusal(exceptions=[date(2024, 12, 24)]) == (
        "exceptions must map dates to lists of intervals, got [datetime.date(2024, 12, 24)]"
    )


def test_a_never_open_calendar_says_what_it_was_given() -> None:
    """The refusal counts the closed exception dates given, or says there were none."""
    assert _refusal(hours={}) == (
        "the calendar is never open: give weekly hours, or exceptions with hours "
        "(got no weekly hours; exceptions: none)"
    )
    closed: dict[date, list[tuple[str, str]]] = {date(2024, 12, 24): [], date(2024, 12, 31): []}
    assert _refusal(hours={}, exceptions=closed) == (
        "the calendar is never open: give weekly hours, or exceptions with hours "
        "(got no weekly hours; exceptions: 2 closed exception date(s))"
    )


def test_an_exception_crossing_midnight_names_both_dates() -> None:
    """The refusal names the exception's date and the next date, whose hours it runs into."""
    assert _refusal(
        hours={"sat": [("05:00", "09:00")]}, exceptions={date(2024, 7, 5): [("20:00", "06:00")]}
    ) == (
        "the interval 20:00-06:00 of 2024-07-05 crosses midnight into "
        "the interval 05:00-09:00 of 2024-07-06: they overlap"
    )


def test_a_calendar_open_only_on_past_exception_dates_says_so_instead_of_searching() -> None:
    calendar = BusinessCalendar(
        timezone="UTC", hours={}, exceptions={date(2020, 1, 6): [("09:00", "17:00")]}
    )
    assert calendar.next_open(datetime(2019, 5, 1, tzinfo=UTC)) == datetime(
        2020, 1, 6, 9, tzinfo=UTC
    )
    assert calendar.add(datetime(2020, 1, 6, 16, tzinfo=UTC), "1h") == datetime(
        2020, 1, 6, 17, tzinfo=UTC
    )
    questions: list[Callable[[], object]] = [
        lambda: calendar.add(datetime(2024, 1, 1, tzinfo=UTC), "1h"),
        lambda: calendar.next_open(datetime(2020, 1, 6, 17, tzinfo=UTC)),
        lambda: calendar.add_business_days(datetime(2020, 1, 6, 10, tzinfo=UTC), 1),
    ]
    for question in questions:
        with pytest.raises(InvalidValue, match=r"open only on exception dates.* 2020-01-06"):
            question()


def test_a_search_gives_up_after_ten_years_without_open_time() -> None:
    first = date(2024, 1, 1)  # a Monday
    mondays = [first + timedelta(weeks=week) for week in range(HORIZON_DAYS // 7 + 2)]
    calendar = BusinessCalendar(
        timezone="UTC", hours={"mon": [("09:00", "17:00")]}, holidays=mondays
    )
    with pytest.raises(InvalidValue, match=f"no open time in the {HORIZON_DAYS} days from"):
        calendar.add(datetime(2024, 1, 1, tzinfo=UTC), "1h")


@pytest.mark.parametrize("days", [-1, 1.5, True, "2"])
def test_business_days_are_a_whole_number_zero_or_more(
    office: BusinessCalendar, days: object
) -> None:
    with pytest.raises(InvalidValue, match="number of business days must be a whole number"):
        office.add_business_days(berlin(2024, 7, 2, 10), days)  # type: ignore[arg-type]


# --- Weekends, holidays, exceptions, night shifts -----------------------------------------------


def test_elapsed_over_a_weekend_counts_only_open_time(office: BusinessCalendar) -> None:
    assert office.elapsed(berlin(2024, 7, 5, 17), berlin(2024, 7, 8, 9, 30)) == timedelta(hours=1)


def test_elapsed_backwards_is_negative(office: BusinessCalendar) -> None:
    assert office.elapsed(berlin(2024, 7, 8, 9, 30), berlin(2024, 7, 5, 17)) == -timedelta(hours=1)
    assert office.elapsed(berlin(2024, 7, 8, 9, 30), berlin(2024, 7, 8, 9, 30)) == timedelta(0)


def test_a_holiday_is_closed_all_day() -> None:
    calendar = BusinessCalendar(
        timezone="Europe/Berlin", hours=WEEKDAYS, holidays=[date(2024, 12, 25), date(2024, 12, 26)]
    )
    assert not calendar.is_open(berlin(2024, 12, 25, 12))
    assert calendar.add(berlin(2024, 12, 24, 17), "1h") == berlin(2024, 12, 27, 9, 30)
    assert calendar.elapsed(berlin(2024, 12, 24, 9), berlin(2024, 12, 27, 17, 30)) == timedelta(
        hours=17
    )


def test_holidays_may_be_a_mapping_keyed_by_date_like_the_holidays_package() -> None:
    table = {date(2024, 10, 3): "Tag der Deutschen Einheit", date(2024, 12, 25): "Weihnachten"}
    calendar = BusinessCalendar(timezone="Europe/Berlin", hours=WEEKDAYS, holidays=table)
    assert calendar.holidays == frozenset(table)
    assert calendar.add(berlin(2024, 10, 2, 17), "1h") == berlin(2024, 10, 4, 9, 30)


def test_holidays_may_be_any_iterable_of_dates() -> None:
    days = (date(2024, 10, 3) + timedelta(days=n) for n in range(2))
    calendar = BusinessCalendar(timezone="Europe/Berlin", hours=WEEKDAYS, holidays=days)
    assert calendar.next_open(berlin(2024, 10, 3, 8)) == berlin(2024, 10, 7, 9)


def test_an_exception_replaces_the_weekly_hours_of_its_date() -> None:
    calendar = BusinessCalendar(
        timezone="Europe/Berlin",
        hours=WEEKDAYS,
        exceptions={date(2024, 12, 23): [("10:00", "12:00"), ("13:00", "14:00")]},
    )
    assert calendar.elapsed(berlin(2024, 12, 23), berlin(2024, 12, 24)) == timedelta(hours=3)
    assert calendar.add(berlin(2024, 12, 23, 11), "90m") == berlin(2024, 12, 23, 13, 30)


def test_an_exception_overrides_a_holiday() -> None:
    calendar = BusinessCalendar(
        timezone="Europe/Berlin",
        hours=WEEKDAYS,
        holidays=[date(2024, 12, 24)],
        exceptions={date(2024, 12, 24): [("09:00", "12:00")]},
    )
    assert calendar.is_open(berlin(2024, 12, 24, 11))
    assert calendar.add(berlin(2024, 12, 24, 11), "2h") == berlin(2024, 12, 25, 10)


def test_an_empty_exception_closes_its_date() -> None:
    calendar = BusinessCalendar(
        timezone="Europe/Berlin", hours=WEEKDAYS, exceptions={date(2024, 7, 3): []}
    )
    assert calendar.add(berlin(2024, 7, 2, 17), "1h") == berlin(2024, 7, 4, 9, 30)


def test_an_exception_opens_a_weekend_date() -> None:
    calendar = BusinessCalendar(
        timezone="Europe/Berlin",
        hours=WEEKDAYS,
        exceptions={date(2024, 7, 6): [("10:00", "14:00")]},
    )
    assert calendar.add(berlin(2024, 7, 5, 17), "1h") == berlin(2024, 7, 6, 10, 30)
    assert calendar.add_business_days(berlin(2024, 7, 5, 15), 1) == berlin(2024, 7, 6, 15)


NIGHTS = {"fri": [("22:00", "06:00")]}


def test_a_night_shift_belongs_to_the_day_it_starts() -> None:
    calendar = BusinessCalendar(timezone="Europe/Berlin", hours=NIGHTS)
    assert calendar.is_open(berlin(2024, 7, 6, 5, 59))
    assert not calendar.is_open(berlin(2024, 7, 6, 22, 30))
    assert calendar.add(berlin(2024, 7, 5, 23), "7h") == berlin(2024, 7, 6, 6)
    assert calendar.add(berlin(2024, 7, 5, 23), "7h 1m") == berlin(2024, 7, 12, 22, 1)
    assert calendar.add_business_days(berlin(2024, 7, 6, 1), 1) == berlin(2024, 7, 12, 1)


def test_a_night_shift_runs_on_into_a_holiday() -> None:
    calendar = BusinessCalendar(timezone="Europe/Berlin", hours=NIGHTS, holidays=[date(2024, 7, 6)])
    assert calendar.elapsed(berlin(2024, 7, 5), berlin(2024, 7, 7)) == timedelta(hours=8)


def test_a_sunday_night_shift_runs_into_monday() -> None:
    calendar = BusinessCalendar(
        timezone="UTC", hours={"sun": [("20:00", "04:00")], "mon": [("04:00", "08:00")]}
    )
    start = datetime(2024, 7, 7, 23, tzinfo=UTC)
    assert calendar.add(start, "8h") == datetime(2024, 7, 8, 7, tzinfo=UTC)


def test_is_open_at_opening_time_and_closed_at_closing_time(office: BusinessCalendar) -> None:
    assert office.is_open(berlin(2024, 7, 2, 9))
    assert office.is_open(berlin(2024, 7, 2, 17, 29, 59))
    assert not office.is_open(berlin(2024, 7, 2, 17, 30))
    assert not office.is_open(berlin(2024, 7, 2, 8, 59))


def test_next_open_is_the_moment_itself_when_open(office: BusinessCalendar) -> None:
    moment = datetime(2024, 7, 2, 10, 15, tzinfo=UTC)
    assert in_utc(office.next_open(moment)) == moment


def test_next_open_skips_the_evening_weekend_and_holidays() -> None:
    calendar = BusinessCalendar(
        timezone="Europe/Berlin", hours=WEEKDAYS, holidays=[date(2024, 7, 8)]
    )
    assert calendar.next_open(berlin(2024, 7, 5, 17, 30)) == berlin(2024, 7, 9, 9)


LUNCH = BusinessCalendar(
    timezone="Europe/Berlin", hours={"tue": [("09:00", "12:00"), ("13:00", "17:00")]}
)
"""Tuesdays 09:00-12:00 and 13:00-17:00: a day with a break."""


@pytest.mark.parametrize("minute", [0, 30, 59])
def test_the_break_between_two_intervals_is_closed(minute: int) -> None:
    """Between a date's intervals the calendar is closed, and opens again after the break."""
    moment = berlin(2024, 7, 2, 12, minute)
    assert not LUNCH.is_open(moment)
    assert LUNCH.next_open(moment) == berlin(2024, 7, 2, 13)


def test_the_end_of_a_morning_interval_is_closed_until_the_afternoon() -> None:
    """Intervals are half-open: at 12:00 the morning is over; next_open is 13:00."""
    assert LUNCH.next_open(berlin(2024, 7, 2, 12)) == berlin(2024, 7, 2, 13)
    assert LUNCH.next_open(berlin(2024, 7, 2, 11, 59)) == berlin(2024, 7, 2, 11, 59)
    assert LUNCH.is_open(berlin(2024, 7, 2, 13))


def test_one_business_day_after_friday_is_monday_at_the_same_time(
    office: BusinessCalendar,
) -> None:
    assert office.add_business_days(berlin(2024, 7, 5, 10, 45), 1) == berlin(2024, 7, 8, 10, 45)
    assert office.add_business_days(berlin(2024, 7, 5, 10, 45), 6) == berlin(2024, 7, 15, 10, 45)


def test_one_business_day_after_saturday_is_monday(office: BusinessCalendar) -> None:
    assert office.add_business_days(berlin(2024, 7, 6, 10), 1) == berlin(2024, 7, 8, 10)


def test_business_days_keep_the_local_time_even_outside_the_hours(
    office: BusinessCalendar,
) -> None:
    assert office.add_business_days(berlin(2024, 7, 2, 20), 1) == berlin(2024, 7, 3, 20)


def test_zero_business_days_is_the_start(office: BusinessCalendar) -> None:
    assert office.add_business_days(berlin(2024, 7, 6, 10), 0) == berlin(2024, 7, 6, 10)


def test_business_days_skip_holidays() -> None:
    calendar = BusinessCalendar(
        timezone="Europe/Berlin", hours=WEEKDAYS, holidays=[date(2024, 12, 25), date(2024, 12, 26)]
    )
    assert calendar.add_business_days(berlin(2024, 12, 24, 9), 2) == berlin(2024, 12, 30, 9)


def test_a_day_of_duration_is_twenty_four_hours_of_business_time(
    office: BusinessCalendar,
) -> None:
    monday = berlin(2024, 7, 1, 9)
    assert office.add(monday, "1d") == office.add(monday, "24h") == berlin(2024, 7, 3, 16)


def test_always_open_counts_real_time() -> None:
    calendar = BusinessCalendar.always_open()
    start = datetime(2024, 2, 28, 13, 5, tzinfo=UTC)
    assert calendar.add(start, "3d 2h") == start + timedelta(days=3, hours=2)
    assert calendar.elapsed(start, start + timedelta(days=40)) == timedelta(days=40)


# --- DST changes, odd offsets, a skipped day ----------------------------------------------------

NIGHT_SUNDAYS = {"sun": [("00:00", "06:00")]}


def test_a_spring_forward_day_with_the_gap_inside_the_hours_is_an_hour_shorter() -> None:
    calendar = BusinessCalendar(timezone="Europe/Berlin", hours=NIGHT_SUNDAYS)
    assert calendar.elapsed(berlin(2024, 3, 31), berlin(2024, 4, 1)) == timedelta(hours=5)
    assert calendar.add(berlin(2024, 3, 31, 1), "1h") == berlin(2024, 3, 31, 3)


def test_a_fall_back_day_with_the_fold_inside_the_hours_is_an_hour_longer() -> None:
    calendar = BusinessCalendar(timezone="Europe/Berlin", hours=NIGHT_SUNDAYS)
    assert calendar.elapsed(berlin(2024, 10, 27), berlin(2024, 10, 28)) == timedelta(hours=7)
    second = calendar.add(berlin(2024, 10, 27, 1), "90m")
    assert (second.hour, second.minute, second.fold) == (2, 30, 0)
    assert in_utc(calendar.add(berlin(2024, 10, 27, 1), "150m")) == in_utc(
        berlin(2024, 10, 27, 2, 30, fold=1)
    )


def test_a_time_in_the_gap_means_the_end_of_the_gap() -> None:
    calendar = BusinessCalendar(timezone="Europe/Berlin", hours={"sun": [("02:30", "05:00")]})
    assert calendar.next_open(berlin(2024, 3, 31)) == berlin(2024, 3, 31, 3)
    assert calendar.elapsed(berlin(2024, 3, 31), berlin(2024, 4, 1)) == timedelta(hours=2)


def test_every_time_in_the_gap_means_exactly_the_end_of_the_gap() -> None:
    """Wherever in the gap a wall time falls, it names 03:00 itself, not a microsecond off."""
    calendar = BusinessCalendar(
        timezone="Europe/Berlin", hours={"sat": [("09:00", "17:00")], "sun": [("09:00", "17:00")]}
    )
    end_of_gap = in_utc(berlin(2024, 3, 31, 3))
    for minute in range(60):
        for second in (0, 1, 59):
            start = berlin(2024, 3, 30, 2, minute, second)
            assert in_utc(calendar.add_business_days(start, 1)) == end_of_gap, (minute, second)


@pytest.mark.parametrize("minute", [1, 10, 17, 44, 59])
def test_hours_opening_in_the_gap_open_exactly_at_its_end(minute: int) -> None:
    """Hours that open at a time in the gap open at 03:00 itself: open then, and no earlier."""
    calendar = BusinessCalendar(
        timezone="Europe/Berlin", hours={"sun": [(f"02:{minute:02d}", "05:00")]}
    )
    assert calendar.is_open(berlin(2024, 3, 31, 3))
    assert not calendar.is_open(in_utc(berlin(2024, 3, 31, 3)) - ONE_US)
    assert calendar.elapsed(berlin(2024, 3, 31), berlin(2024, 4, 1)) == timedelta(hours=2)


def test_an_interval_inside_the_gap_is_closed() -> None:
    calendar = BusinessCalendar(
        timezone="Europe/Berlin", hours={"sun": [("02:15", "02:45"), ("03:00", "04:00")]}
    )
    assert calendar.elapsed(berlin(2024, 3, 31), berlin(2024, 4, 1)) == timedelta(hours=1)
    assert calendar.elapsed(berlin(2024, 3, 24), berlin(2024, 3, 25)) == timedelta(hours=1.5)


def test_a_time_in_the_fold_means_its_first_occurrence() -> None:
    calendar = BusinessCalendar(timezone="Europe/Berlin", hours={"sun": [("02:30", "04:00")]})
    opening = calendar.next_open(berlin(2024, 10, 27))
    assert in_utc(opening) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    assert opening.fold == 0
    assert calendar.elapsed(berlin(2024, 10, 27), berlin(2024, 10, 28)) == timedelta(hours=2.5)


def test_a_business_day_keeps_the_wall_clock_across_a_dst_change(
    office: BusinessCalendar,
) -> None:
    friday = berlin(2024, 3, 29, 10)
    assert office.add_business_days(friday, 1) == berlin(2024, 4, 1, 10)
    assert office.elapsed(friday, office.add_business_days(friday, 1)) == timedelta(hours=8.5)


def test_a_business_day_landing_in_a_gap_moves_to_its_end() -> None:
    calendar = BusinessCalendar(
        timezone="Europe/Berlin", hours={"sat": [("09:00", "17:00")], "sun": [("09:00", "17:00")]}
    )
    assert calendar.add_business_days(berlin(2024, 3, 30, 2, 30), 1) == berlin(2024, 3, 31, 3)


@pytest.mark.parametrize(
    ("zone", "opens_utc"),
    [
        ("Asia/Kolkata", datetime(2024, 7, 1, 3, 30, tzinfo=UTC)),
        ("Asia/Kathmandu", datetime(2024, 7, 1, 3, 15, tzinfo=UTC)),
        ("Pacific/Chatham", datetime(2024, 6, 30, 20, 15, tzinfo=UTC)),
        ("Australia/Lord_Howe", datetime(2024, 6, 30, 22, 30, tzinfo=UTC)),
    ],
)
def test_half_and_three_quarter_hour_zones_open_at_their_own_nine(
    zone: str, opens_utc: datetime
) -> None:
    calendar = BusinessCalendar(timezone=zone, hours=WEEKDAYS)
    sunday = datetime(2024, 6, 29, tzinfo=UTC)
    assert in_utc(calendar.next_open(sunday)) == opens_utc
    assert in_utc(calendar.add(sunday, "1h")) == opens_utc + timedelta(hours=1)


def test_lord_howes_half_hour_spring_forward_shortens_the_day_by_half_an_hour() -> None:
    calendar = BusinessCalendar(timezone="Australia/Lord_Howe", hours=NIGHT_SUNDAYS)
    zone = ZoneInfo("Australia/Lord_Howe")
    day = datetime(2024, 10, 6, tzinfo=zone)
    assert calendar.elapsed(day, day + timedelta(days=1)) == timedelta(hours=5, minutes=30)


def test_chathams_spring_forward_at_a_quarter_to_three_shortens_the_day_by_an_hour() -> None:
    calendar = BusinessCalendar(timezone="Pacific/Chatham", hours=NIGHT_SUNDAYS)
    zone = ZoneInfo("Pacific/Chatham")
    day = datetime(2024, 9, 29, tzinfo=zone)
    assert calendar.elapsed(day, day + timedelta(days=1)) == timedelta(hours=5)
    assert calendar.add(day + timedelta(hours=2, minutes=30), "15m") == datetime(
        2024, 9, 29, 3, 45, tzinfo=zone
    )


def test_a_day_the_zone_skipped_is_closed() -> None:
    apia = ZoneInfo("Pacific/Apia")  # went from 2011-12-29 straight to 2011-12-31
    calendar = BusinessCalendar(
        timezone="Pacific/Apia", hours={d: [("09:00", "17:00")] for d in DAYS}
    )
    thursday = datetime(2011, 12, 29, 16, tzinfo=apia)
    assert calendar.add(thursday, "2h") == datetime(2011, 12, 31, 10, tzinfo=apia)
    assert calendar.add_business_days(thursday, 1) == datetime(2011, 12, 31, 16, tzinfo=apia)
    assert calendar.elapsed(thursday, datetime(2011, 12, 31, 9, tzinfo=apia)) == timedelta(hours=1)


def test_a_night_shift_into_a_skipped_day_ends_when_the_day_was_skipped() -> None:
    apia = ZoneInfo("Pacific/Apia")
    calendar = BusinessCalendar(timezone="Pacific/Apia", hours={"thu": [("22:00", "06:00")]})
    thursday = datetime(2011, 12, 29, 22, tzinfo=apia)
    assert calendar.elapsed(thursday, thursday + timedelta(days=3)) == timedelta(hours=2)


# --- The calendar is a value ---------------------------------------------------------------------


def test_calendars_with_the_same_definition_are_equal_however_spelled() -> None:
    one = BusinessCalendar(
        timezone="Europe/Berlin",
        hours={"tue": [("9:00", "17:30")], "mon": [("22:00", "00:00"), ("09:00", "12:00")]},
        holidays=[date(2024, 12, 25)],
        exceptions={date(2024, 12, 24): [("09:00", "12:00")]},
    )
    two = BusinessCalendar(
        timezone=BERLIN,
        hours={
            "mon": (("09:00", "12:00"), ("22:00", "24:00")),
            "tue": [("09:00", "17:30")],
            "sun": [],
        },
        holidays={date(2024, 12, 25): "Christmas"},
        exceptions={date(2024, 12, 24): [("09:00", "12:00")]},
    )
    assert one == two
    assert hash(one) == hash(two)
    assert one != BusinessCalendar(timezone="Europe/Paris", hours=dict(two.hours))


def test_a_changed_calendar_is_a_new_value_made_with_evolve(office: BusinessCalendar) -> None:
    closed = attrs.evolve(office, holidays=[date(2024, 7, 3)], exceptions={date(2024, 7, 4): []})
    assert closed.add(berlin(2024, 7, 2, 17), "1h") == berlin(2024, 7, 5, 9, 30)
    assert attrs.evolve(closed, timezone="Europe/Berlin") == closed
    assert office.add(berlin(2024, 7, 2, 17), "1h") == berlin(2024, 7, 3, 9, 30)


def test_a_calendar_survives_pickling_and_copying(office: BusinessCalendar) -> None:
    office.add(berlin(2024, 7, 2, 17), "1h")  # something in its cache
    for twin in (pickle.loads(pickle.dumps(office)), copy.deepcopy(office)):  # noqa: S301 - ours
        assert twin == office
        assert twin.add(berlin(2024, 7, 2, 17), "1h") == berlin(2024, 7, 3, 9, 30)


def test_a_calendar_cannot_be_changed(office: BusinessCalendar) -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        office.timezone = "UTC"  # type: ignore[misc]


def test_the_repr_is_the_call_that_builds_the_calendar() -> None:
    calendar = BusinessCalendar(
        timezone="Europe/Berlin",
        hours={"mon": [("09:00", "17:30")]},
        holidays=[date(2024, 12, 25)],
        exceptions={date(2024, 12, 24): [("09:00", "12:00")]},
    )
    text = repr(calendar)
    assert text.startswith("BusinessCalendar(timezone='Europe/Berlin', hours={'mon': [('09:00'")
    namespace = {"BusinessCalendar": BusinessCalendar, "datetime": dt}
    assert eval(text, namespace) == calendar  # noqa: S307 - our own repr
    plain = BusinessCalendar(timezone="UTC", hours={"mon": [("09:00", "17:00")]})
    assert repr(plain) == "BusinessCalendar(timezone='UTC', hours={'mon': [('09:00', '17:00')]})"


def test_answers_stay_right_when_the_date_cache_is_refilled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(calendar_module, "_CACHE_LIMIT", 3)
    calendar = BusinessCalendar(timezone="Europe/Berlin", hours=WEEKDAYS)
    start = berlin(2024, 7, 1, 9)
    assert calendar.add(start, "85h") == berlin(2024, 7, 12, 17, 30)
    assert calendar.elapsed(start, berlin(2024, 7, 12, 17, 30)) == timedelta(hours=85)


# --- Properties ---------------------------------------------------------------------------------

ZONES = [
    "Europe/Berlin",
    "America/Sao_Paulo",
    "Pacific/Apia",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Havana",
    "Asia/Kathmandu",
    "UTC",
]
FIRST = datetime(2010, 1, 1, tzinfo=UTC)
LAST = datetime(2030, 1, 1, tzinfo=UTC)
QUARTERS_A_WEEK = 7 * 96
MINUTE = timedelta(minutes=1)


@functools.cache
def transitions(key: str) -> tuple[datetime, ...]:
    """The instants, from 2010 to 2030, at which the zone's offset changes."""
    zone, found = ZoneInfo(key), []
    moment, offset = FIRST, FIRST.astimezone(zone).utcoffset()
    while moment < LAST:
        moment += timedelta(days=1)
        if (now := moment.astimezone(zone).utcoffset()) != offset:
            day_before, low, high = moment - timedelta(days=1), 0, 1440  # minutes after it
            while high - low > 1:
                middle = (low + high) // 2
                if (day_before + MINUTE * middle).astimezone(zone).utcoffset() == now:
                    high = middle
                else:
                    low = middle
            found.append(day_before + MINUTE * high)
            offset = now
    return tuple(found)


def quarters_around(change: datetime, zone: ZoneInfo) -> tuple[int, int]:
    """The quarter hours of the week whose wall-clock times a change skips or repeats, +-1."""
    offsets = [(change + MINUTE * step).astimezone(zone).utcoffset() for step in (-1, 0)]
    naive = change.replace(tzinfo=None)
    first, last = (naive + offset for offset in sorted(o for o in offsets if o is not None))
    quarter = first.weekday() * 96 + (first.hour * 60 + first.minute) // 15
    return quarter - 1, quarter + (last - first) // timedelta(minutes=15) + 1


Spans = dict[int, list[tuple[int, int]]]


@dataclass(frozen=True)
class Setup:
    """A random calendar, its definition as plain data (for the reference), and a start."""

    calendar: BusinessCalendar
    zone: ZoneInfo
    weekly: Spans  # weekday number -> (start, end) in minutes, end may pass 1440
    holidays: frozenset[date]
    exceptions: dict[date, list[tuple[int, int]]]
    start: datetime  # in UTC or in the calendar's zone

    @property
    def instant(self) -> datetime:
        """The start in UTC, for arithmetic: adding to a zoned datetime adds wall-clock time."""
        return in_utc(self.start)


def clock(minutes: int) -> str:
    return "{:02d}:{:02d}".format(*divmod(minutes % 1440, 60))


def written(spans: list[tuple[int, int]]) -> list[tuple[str, str]]:
    return [(clock(start), clock(end)) for start, end in spans]


@st.composite
def weekly_hours(draw: st.DrawFn, *, focus: tuple[int, int] | None) -> Spans:
    """Disjoint intervals on the circle of a week, in quarter hours, some crossing midnight.

    With a `focus` (a range of quarter hours of the week), some bounds fall in it.
    """
    week = st.integers(0, QUARTERS_A_WEEK - 1)
    points = set(
        draw(st.lists(week, min_size=0 if focus is not None else 2, max_size=10, unique=True))
    )
    if focus is not None:
        near = st.integers(*focus).map(lambda quarter: quarter % QUARTERS_A_WEEK)
        points |= set(draw(st.lists(near, min_size=2, max_size=4, unique=True)))
    ordered = sorted(points)
    turn = 0 if focus is not None else draw(st.integers(0, QUARTERS_A_WEEK - 1))
    weekly: Spans = {}
    for first, last in zip(ordered[::2], ordered[1::2], strict=False):
        length = min(last - first, 95)  # shorter than a day, so never zero length as written
        day, quarter = divmod((first + turn) % QUARTERS_A_WEEK, 96)
        weekly.setdefault(day, []).append((quarter * 15, (quarter + length) * 15))
    return weekly


@st.composite
def setups(draw: st.DrawFn, *, aligned: bool, at_a_change: bool = False) -> Setup:
    """A random calendar and start; `at_a_change`: a day before a clock change, at most."""
    key = draw(st.sampled_from([z for z in ZONES if transitions(z)] if at_a_change else ZONES))
    zone = ZoneInfo(key)
    near = transitions(key)
    close_to_a_change = at_a_change or draw(st.booleans())
    focus = None
    if near and close_to_a_change:
        change = draw(st.sampled_from(near))
        start = change - MINUTE * draw(st.integers(-60, 1440))
        focus = quarters_around(change, zone)
    else:
        start = FIRST + MINUTE * draw(st.integers(0, (LAST - FIRST) // MINUTE))
    if not aligned:
        start += timedelta(microseconds=draw(st.integers(0, 59_999_999)))
    local_day = start.astimezone(zone).date()
    weekly = draw(weekly_hours(focus=focus))
    offsets = draw(st.sets(st.integers(-2, 30), max_size=6))
    holidays = frozenset(local_day + timedelta(days=offset) for offset in offsets)
    exceptions: dict[date, list[tuple[int, int]]] = {}
    for offset in draw(st.sets(st.integers(-1, 20), max_size=2)):
        bounds = sorted(draw(st.lists(st.integers(0, 95), max_size=4, unique=True)))
        pairs = zip(bounds[::2], bounds[1::2], strict=False)
        exceptions[local_day + timedelta(days=offset)] = [(a * 15, b * 15) for a, b in pairs]
    hours = {DAYS[day]: written(spans) for day, spans in weekly.items()}
    try:
        calendar = BusinessCalendar(
            timezone=key,
            hours=hours,
            holidays=holidays,
            exceptions={day: written(spans) for day, spans in exceptions.items()},
        )
    except InvalidValue:  # an exception crossing into a night shift: keep the weekly hours
        exceptions = {}
        calendar = BusinessCalendar(timezone=key, hours=hours, holidays=holidays)
    moment = start if draw(st.booleans()) else start.astimezone(zone)
    return Setup(calendar, zone, weekly, holidays, exceptions, moment)


durations = st.integers(0, 21 * 24 * 60 * 60).map(lambda seconds: timedelta(seconds=seconds))


@settings(max_examples=150)
@given(setups(aligned=False), durations)
def test_elapsed_undoes_add(setup: Setup, duration: timedelta) -> None:
    end = setup.calendar.add(setup.start, duration)
    assert setup.calendar.elapsed(setup.start, end) == duration


@settings(max_examples=100)
@given(setups(aligned=False), durations, st.integers(0, 3 * 24 * 3600 * 10**6))
def test_add_is_monotonic_in_the_start(setup: Setup, duration: timedelta, later: int) -> None:
    calendar, start = setup.calendar, setup.start
    assert in_utc(calendar.add(start, duration)) <= in_utc(
        calendar.add(setup.instant + timedelta(microseconds=later), duration)
    )


@settings(max_examples=100)
@given(setups(aligned=False), durations, durations)
def test_add_is_monotonic_in_the_duration(setup: Setup, one: timedelta, two: timedelta) -> None:
    short, long = sorted((one, two))
    calendar = setup.calendar
    assert in_utc(calendar.add(setup.start, short)) <= in_utc(calendar.add(setup.start, long))


@settings(max_examples=100)
@given(setups(aligned=False), durations, durations)
def test_adding_in_two_steps_is_adding_once(setup: Setup, one: timedelta, two: timedelta) -> None:
    calendar, start = setup.calendar, setup.start
    assert in_utc(calendar.add(calendar.add(start, one), two)) == in_utc(
        calendar.add(start, one + two)
    )


@settings(max_examples=100)
@given(setups(aligned=False), st.lists(st.integers(0, 30 * 24 * 3600), min_size=2, max_size=2))
def test_elapsed_is_additive_over_a_split_point(setup: Setup, seconds: list[int]) -> None:
    first, second = (setup.instant + timedelta(seconds=s) for s in sorted(seconds))
    elapsed = setup.calendar.elapsed
    assert elapsed(setup.start, second) == elapsed(setup.start, first) + elapsed(first, second)
    assert elapsed(second, setup.start) == -elapsed(setup.start, second)


@settings(max_examples=100)
@given(setups(aligned=False), durations.filter(bool))
def test_add_ends_where_business_time_was_accruing(setup: Setup, duration: timedelta) -> None:
    end = in_utc(setup.calendar.add(setup.start, duration))
    assert setup.calendar.is_open(end - ONE_US)
    assert setup.calendar.elapsed(end - ONE_US, end) == ONE_US


@settings(max_examples=100)
@given(setups(aligned=False))
def test_next_open_is_open_and_no_business_time_comes_before_it(setup: Setup) -> None:
    opening = setup.calendar.next_open(setup.start)
    assert in_utc(opening) >= in_utc(setup.start)
    assert setup.calendar.is_open(opening)
    assert setup.calendar.elapsed(setup.start, opening) == timedelta(0)
    assert in_utc(setup.calendar.add(setup.start, ONE_US)) == in_utc(opening) + ONE_US


# --- The reference: minute by minute, reading the wall clock --------------------------------


class Reference:
    """Business time by stepping minute by minute, sharing no code with the calendar.

    An interval's bound is the first minute at which the zone's clock reads that
    wall-clock time or later: the first occurrence in a fold, the end of a gap.
    """

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.zone = setup.zone
        self.days: dict[date, list[tuple[datetime, datetime]]] = {}

    def wall(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def bound(self, wall: datetime) -> datetime:
        guess = wall.replace(tzinfo=UTC)
        offsets = [(guess + timedelta(days=d)).astimezone(self.zone).utcoffset() for d in (-1, 1)]
        moment = guess - max(o for o in offsets if o is not None) - timedelta(hours=1)
        while self.wall(moment) < wall:
            moment += MINUTE
        return moment

    def intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if day not in self.days:
            setup = self.setup
            if day in setup.exceptions:
                spans = setup.exceptions[day]
            else:
                spans = [] if day in setup.holidays else setup.weekly.get(day.weekday(), [])
            midnight = datetime.combine(day, datetime.min.time())
            bounds = (
                (self.bound(midnight + MINUTE * start), self.bound(midnight + MINUTE * end))
                for start, end in spans
            )
            self.days[day] = [(first, last) for first, last in bounds if last > first]
        return self.days[day]

    def is_open(self, moment: datetime) -> bool:
        today = self.wall(moment).date()
        return any(
            first <= moment < last
            for back in (2, 1, 0)
            for first, last in self.intervals(today - timedelta(days=back))
        )

    def minutes(self, start: datetime, limit: int) -> Iterator[datetime]:
        moment = start.astimezone(UTC)
        for _ in range(limit):
            yield moment
            moment += MINUTE

    def add(self, start: datetime, minutes: int, *, limit: int = 14 * 1440) -> datetime | None:
        """The end of `minutes` open minutes from `start`, or None beyond `limit` minutes."""
        if minutes == 0:
            return start.astimezone(UTC)
        counted = 0
        for moment in self.minutes(start, limit):
            counted += self.is_open(moment)
            if counted == minutes:
                return moment + MINUTE
        return None

    def elapsed(self, start: datetime, minutes: int) -> timedelta:
        return MINUTE * sum(self.is_open(moment) for moment in self.minutes(start, minutes))


@settings(max_examples=60)
@given(setups(aligned=True), st.integers(0, 240))
def test_add_agrees_with_stepping_minute_by_minute(setup: Setup, minutes: int) -> None:
    expected = Reference(setup).add(setup.start, minutes)
    assume(expected is not None)
    assert in_utc(setup.calendar.add(setup.start, MINUTE * minutes)) == expected


@settings(max_examples=60)
@given(setups(aligned=True), st.integers(0, 3 * 1440))
def test_elapsed_and_is_open_agree_with_stepping_minute_by_minute(
    setup: Setup, minutes: int
) -> None:
    reference = Reference(setup)
    end = setup.instant + MINUTE * minutes
    assert setup.calendar.elapsed(setup.start, end) == reference.elapsed(setup.start, minutes)
    assert setup.calendar.is_open(end) == reference.is_open(end)


@settings(max_examples=60)
@given(setups(aligned=True, at_a_change=True))
def test_business_time_across_a_clock_change_agrees_with_stepping_minute_by_minute(
    setup: Setup,
) -> None:
    reference, calendar, two_days = Reference(setup), setup.calendar, 2 * 1440
    assert calendar.elapsed(setup.start, setup.instant + MINUTE * two_days) == reference.elapsed(
        setup.start, two_days
    )
    today = setup.instant.astimezone(setup.zone).date()
    for first, last in reference.intervals(today) + reference.intervals(today + timedelta(days=1)):
        assert in_utc(calendar.next_open(first - MINUTE)) in {first, first - MINUTE}
        assert calendar.is_open(last - MINUTE)
        assert in_utc(calendar.add(first, last - first)) == last
