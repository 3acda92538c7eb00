"""Business calendars: opening hours in a time zone, holidays and exceptions.

A `BusinessCalendar` answers the questions SLA targets and follow-ups ask: when
does four hours of business time after this moment end (`add`), how much
business time lies between two moments (`elapsed`), is the desk open now
(`is_open`), when does it open next (`next_open`), and what is the same time three
business days later (`add_business_days`).

How wall-clock hours become real time:

- Opening hours are wall-clock times in the calendar's zone. Each local date's
  intervals are turned into real instants (UTC) once and cached, so business time
  is real elapsed time: a 09:00-17:30 day that loses an hour to a spring-forward
  change inside its hours holds 7.5 hours of business time, not 8.5.
- A wall-clock time that does not exist on a date (it falls in a spring-forward
  gap) means the end of the gap: the first instant at which the clock reads that
  time or later. A day a zone skipped (Pacific/Apia skipped 2011-12-30) is closed.
- A wall-clock time that happens twice (in a fall-back fold) means its first
  occurrence (``fold=0``).
- An interval whose end is not after its start crosses midnight and belongs to the
  date it starts on: ``("22:00", "06:00")`` on a Friday is open from Friday 22:00 to
  Saturday 06:00, whatever Saturday's hours, holidays or exceptions say.
- Intervals are half-open: open at 09:00, closed again at 17:30.

The arithmetic runs on the standard library, on integer microseconds since the
epoch in UTC; pendulum only reads ISO 8601 duration strings.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import pendulum

from servicekit._values import require, utc
from servicekit.errors import InvalidValue

__all__ = ["BusinessCalendar", "parse_duration"]

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""The weekday keys of `hours`, Monday first (`date.weekday()` order)."""

HORIZON_DAYS: Final = 3_653
"""How many local dates in a row a forward search looks at for open time (~10 years)."""

_DAY_MINUTES: Final = 1_440
_US: Final = timedelta(microseconds=1)
_ZERO: Final = timedelta(0)
_DAY_US: Final = 86_400_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_CACHE_LIMIT: Final = 50_000  # local dates a calendar keeps (~137 years), then it starts afresh
_CLOCK: Final = re.compile(r"(\d{1,2}):(\d{2})\Z")
_PART: Final = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*", re.IGNORECASE)
_UNITS: Final = {
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "weeks"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minutes"),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "seconds"),
}

Interval = tuple[str, str]
"""An opening interval as a person writes it: ``("09:00", "17:30")``, wall-clock times."""
WeeklyHours = tuple[tuple[str, tuple[Interval, ...]], ...]
"""Normalised weekly hours: ``(("mon", (("09:00", "17:30"),)), ...)``, open days only."""
DatedHours = tuple[tuple[date, tuple[Interval, ...]], ...]
"""Normalised exceptions: ``((date(2024, 12, 24), (("09:00", "12:00"),)), ...)``, by date."""
_Minutes = tuple[tuple[int, int], ...]
"""Intervals in minutes after their date's local midnight, sorted; an end may pass 1440."""
_Day = tuple[int, int, int, tuple[int, ...]]
"""A local date's open time in UTC microseconds: first start, last end, total, flat bounds."""


# --- Reading and checking the definition ------------------------------------------------------


def _zone_name(value: str | ZoneInfo) -> str:
    key = value.key if isinstance(value, ZoneInfo) else value
    require(key, str, "timezone must be an IANA time zone name such as 'Europe/Berlin'")
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        msg = f"unknown time zone {key!r}: give an IANA name such as 'Europe/Berlin' or 'UTC'"
        raise InvalidValue(msg) from None
    return key


def _clock_minutes(text: object, *, end: bool, where: str) -> int:
    """Minutes after midnight of an ``"HH:MM"`` time; ``"24:00"`` only as an end."""
    match = _CLOCK.match(text) if isinstance(text, str) else None
    if match is None:
        msg = f"malformed time {text!r} in the hours of {where}: write 'HH:MM', such as '09:00'"
        raise InvalidValue(msg)
    hour, minute = int(match[1]), int(match[2])
    if end and (hour, minute) == (24, 0):
        return _DAY_MINUTES
    if hour > 23 or minute > 59:  # noqa: PLR2004 - the limits of a clock
        why = "'24:00' may only end an interval" if (hour, minute) == (24, 0) else "out of range"
        msg = f"malformed time {text!r} in the hours of {where}: {why}"
        raise InvalidValue(msg)
    return hour * 60 + minute


def _clock_text(minutes: int) -> str:
    if minutes == _DAY_MINUTES:
        return "24:00"
    return "{:02d}:{:02d}".format(*divmod(minutes % _DAY_MINUTES, 60))


def _show(span: tuple[int, int]) -> str:
    return f"{_clock_text(span[0])}-{_clock_text(span[1])}"


def _items(value: object, *, message: str) -> Iterable[object]:
    """`value` if it is a collection (a string is not one), else a precise error."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        msg = f"{message}, got {value!r}"
        raise InvalidValue(msg)
    return value


def _intervals(value: Iterable[Interval], *, where: str) -> _Minutes:
    """One date's intervals as sorted minute pairs, refusing zero lengths and overlaps."""
    pairs = _items(value, message=f"the hours of {where} must be a list of (start, end) pairs")
    spans: list[tuple[int, int]] = []
    for pair in pairs:
        parts = tuple(pair) if isinstance(pair, tuple | list) else ()
        if len(parts) != 2:  # noqa: PLR2004 - a pair
            msg = (
                f"each interval of {where} must be a (start, end) pair such as "
                f"('09:00', '17:30'), got {pair!r}"
            )
            raise InvalidValue(msg)
        start = _clock_minutes(parts[0], end=False, where=where)
        stop = _clock_minutes(parts[1], end=True, where=where)
        if stop == start:
            msg = f"the interval {parts!r} of {where} has zero length"
            raise InvalidValue(msg)
        spans.append((start, stop if stop > start else stop + _DAY_MINUTES))
    spans.sort()
    for before, after in itertools.pairwise(spans):
        if after[0] < before[1]:
            msg = f"the intervals {_show(before)} and {_show(after)} of {where} overlap"
            raise InvalidValue(msg)
    return tuple(spans)


def _check_spill(earlier: _Minutes, later: _Minutes, *, names: tuple[str, str]) -> None:
    """Refuse a last interval that crosses midnight into the next date's first interval."""
    if earlier and later and earlier[-1][1] - _DAY_MINUTES > later[0][0]:
        msg = (
            f"the interval {_show(earlier[-1])} of {names[0]} crosses midnight into "
            f"the interval {_show(later[0])} of {names[1]}: they overlap"
        )
        raise InvalidValue(msg)


def _written(spans: _Minutes) -> tuple[Interval, ...]:
    return tuple((_clock_text(start), _clock_text(stop)) for start, stop in spans)


def _weekly_hours(value: Mapping[str, Iterable[Interval]] | WeeklyHours) -> WeeklyHours:
    if isinstance(value, tuple):  # normalised already, as `attrs.evolve` passes it on
        value = dict(value)
    require(value, Mapping, f"hours must map weekdays ({', '.join(DAYS)}) to lists of intervals")
    weekly: dict[str, _Minutes] = {}
    for day, spans in value.items():
        if day not in DAYS:
            msg = f"unknown weekday {day!r} in hours: use {', '.join(DAYS)}"
            raise InvalidValue(msg)
        weekly[day] = _intervals(spans, where=day)
    for day, following in itertools.pairwise((*DAYS, DAYS[0])):
        _check_spill(weekly.get(day, ()), weekly.get(following, ()), names=(day, following))
    return tuple((day, _written(weekly[day])) for day in DAYS if weekly.get(day))


def _plain_date(value: object, *, what: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        msg = f"{what} must be a datetime.date (not a datetime), got {value!r}"
        raise InvalidValue(msg)
    return value


def _holidays(value: Iterable[date]) -> frozenset[date]:
    days = _items(value, message="holidays must be an iterable of dates (or a mapping by date)")
    return frozenset(_plain_date(day, what="each holiday") for day in days)


def _exceptions(value: Mapping[date, Iterable[Interval]] | DatedHours) -> DatedHours:
    if isinstance(value, tuple):  # normalised already, as `attrs.evolve` passes it on
        value = dict(value)
    require(value, Mapping, "exceptions must map dates to lists of intervals")
    dated = {
        _plain_date(day, what="each date of exceptions"): _intervals(spans, where=f"{day}")
        for day, spans in value.items()
    }
    return tuple((day, _written(dated[day])) for day in sorted(dated))


# --- Durations and arguments -------------------------------------------------------------------


def parse_duration(text: str) -> timedelta:
    """Read a duration a person writes: ``"4h"``, ``"1d 2h 30m"``, ``"90m"`` or ``"PT4H"``.

    Two forms are understood:

    - ISO 8601 durations (``"PT4H"``, ``"P1DT2H"``, ``"P2W"``), read with pendulum.
      Years and months are refused: they have no fixed length.
    - Numbers with units, in any order, spaces optional: ``w`` (weeks), ``d``
      (days), ``h`` (hours), ``m`` (minutes), ``s`` (seconds), or longer names
      (``hr``, ``hours``, ``min``, ``minutes``, ``sec``, ...), in any case. Decimals
      are allowed (``"1.5h"``); repeated units add up.

    A day is 24 hours and a week 7 days, so given to `BusinessCalendar.add`,
    ``"1d"`` is 24 hours of business time (three 8-hour days, for example); to move
    by open days, use `BusinessCalendar.add_business_days`.

    Args:
        text: the duration as written.

    Returns:
        The duration as a standard-library `timedelta`.

    Raises:
        InvalidValue: the text is not a duration in one of these forms, or is negative.
    """
    require(text, str, "a duration string such as '4h' or 'PT4H' was expected")
    written = text.strip()
    if written.startswith("-"):
        msg = f"a duration must not be negative, got {text!r}"
        raise InvalidValue(msg)
    if written.startswith("P"):
        return _iso_duration(text)
    total = timedelta(0)
    position = 0
    while position < len(written):
        part = _PART.match(written, position)
        if part is None or part[2].lower() not in _UNITS:
            break
        try:
            total += timedelta(**{_UNITS[part[2].lower()]: float(part[1])})
        except OverflowError:
            msg = f"the duration {text!r} is too long"
            raise InvalidValue(msg) from None
        position = part.end()
    if not written or position < len(written):
        msg = (
            f"cannot read the duration {text!r}: write numbers with units such as '4h', "
            "'1d 2h 30m' or '90m', or an ISO 8601 duration such as 'PT4H'"
        )
        raise InvalidValue(msg)
    return total


def _iso_duration(text: str) -> timedelta:
    written = text.strip()
    try:
        parsed = pendulum.parse(written) if any(c.isdigit() for c in written) else None
    except (ValueError, OverflowError):  # pendulum's ParserError is a ValueError
        parsed = None
    if not isinstance(parsed, pendulum.Duration):
        msg = f"cannot read the ISO 8601 duration {text!r} (write, for example, 'PT4H' or 'P1DT2H')"
        raise InvalidValue(msg)
    if parsed.years or parsed.months:
        msg = f"a duration in years or months has no fixed length of business time: {text!r}"
        raise InvalidValue(msg)
    return timedelta(days=parsed.days, seconds=parsed.seconds, microseconds=parsed.microseconds)


def _duration_us(value: object) -> int:
    if type(value) is not timedelta:  # a string, a pendulum Duration, or a mistake
        value = _timedelta(value)
    if value < _ZERO:
        msg = f"a duration must not be negative, got {value!r}"
        raise InvalidValue(msg)
    return value // _US


def _timedelta(value: object) -> timedelta:
    if isinstance(value, str):
        return parse_duration(value)
    if not isinstance(value, timedelta):
        msg = f"a duration must be a timedelta or a string such as '4h', got {value!r}"
        raise InvalidValue(msg)
    if getattr(value, "years", 0) or getattr(value, "months", 0):  # a pendulum Duration
        msg = f"a duration in years or months has no fixed length of business time: {value!r}"
        raise InvalidValue(msg)
    return timedelta(days=value.days, seconds=value.seconds, microseconds=value.microseconds)


def _day_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = f"the number of business days must be a whole number, zero or more, got {value!r}"
        raise InvalidValue(msg)
    return value


# --- Instants as integer microseconds since the epoch (UTC) ------------------------------------


def _wall_us(moment: datetime) -> int:
    """Microseconds from 1970-01-01 00:00 to `moment`'s wall-clock reading, zone ignored."""
    seconds = moment.hour * 3_600 + moment.minute * 60 + moment.second
    days = moment.toordinal() - _EPOCH_ORDINAL
    return (days * 86_400 + seconds) * 1_000_000 + moment.microsecond


def _instant_us(value: object, *, what: str) -> int:
    """An aware datetime (stdlib or pendulum) as an instant; a naive one is refused first."""
    return _wall_us(utc(value, what=what))


def _first_date(instant: int) -> int:
    """The ordinal of a date no later than the day before the instant's local date.

    Two days before its UTC date: a local date is at most a day from the UTC date, and
    an interval that holds the instant starts on its local date or the day before.
    """
    return instant // _DAY_US + _EPOCH_ORDINAL - 2


def _offset_us(moment: datetime) -> int:
    offset = moment.utcoffset()
    return 0 if offset is None else offset // _US


# --- The calendar ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True, repr=False)
class BusinessCalendar:
    """Weekly opening hours in a time zone, with holidays and dated exceptions.

    An immutable value: calendars with the same definition are equal (and hash
    alike) however it was spelled. A calendar caches the open intervals of each
    local date it has looked at as UTC instants, so build it once and share it;
    sharing it between threads is safe.

    A calendar that is never open (no weekly hours and no exception with hours)
    is refused when built. One open only on exception dates raises `InvalidValue`
    when asked for open time after its last such date, and any forward search
    gives up with `InvalidValue` after `HORIZON_DAYS` local dates (~10 years)
    without open time, instead of looping.

    Args:
        timezone: an IANA time zone name such as ``"Europe/Berlin"`` (or a `ZoneInfo`).
        hours: weekday keys ``mon`` ... ``sun``, each mapped to a list of
            ``("HH:MM", "HH:MM")`` intervals. An interval whose end is not after its
            start crosses midnight and belongs to the day it starts on; ``"24:00"``
            may end an interval. A missing day, or an empty list, is closed.
        holidays: dates closed all day: any iterable of `datetime.date`, including a
            mapping keyed by date such as ``holidays.country_holidays("DE")``.
        exceptions: dates with their own hours, replacing the weekly hours and any
            holiday on that date; an empty list closes the date.

    Raises:
        InvalidValue: an unknown weekday or time zone, a malformed ``"HH:MM"``, an
            interval of zero length, overlapping intervals (on one date, or across
            midnight into the next), a holiday or exception that is not a date, or a
            calendar that is never open.

    Attributes:
        timezone: the IANA name of the zone.
        hours: the weekly hours, normalised: ``(("mon", (("09:00", "17:30"),)), ...)``,
            open days only, in weekday order, intervals sorted.
        holidays: a frozenset of dates.
        exceptions: the exceptions, normalised: ``((date, intervals), ...)`` by date.
    """

    timezone: str = attrs.field(converter=_zone_name)
    hours: WeeklyHours = attrs.field(converter=_weekly_hours)
    holidays: frozenset[date] = attrs.field(factory=frozenset, converter=_holidays)
    exceptions: DatedHours = attrs.field(factory=dict, converter=_exceptions)
    # Compiled from the definition in __attrs_post_init__; not part of equality or repr.
    _zone: ZoneInfo = attrs.field(init=False, eq=False)
    _weekly: tuple[_Minutes, ...] = attrs.field(init=False, eq=False)
    _dated: dict[int, _Minutes] = attrs.field(init=False, eq=False)
    _closed: frozenset[int] = attrs.field(init=False, eq=False)
    _last_open: int | None = attrs.field(init=False, eq=False)
    _days: dict[int, _Day] = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        """Compile the definition into minute tables, then check it across dates."""
        weekly = dict(self.hours)
        compiled = {
            "_zone": ZoneInfo(self.timezone),
            "_weekly": tuple(_intervals(weekly.get(day, ()), where=day) for day in DAYS),
            "_dated": {d.toordinal(): _intervals(s, where=f"{d}") for d, s in self.exceptions},
            "_closed": frozenset(day.toordinal() for day in self.holidays),
            "_last_open": None,
            "_days": {},
        }
        for name, value in compiled.items():
            object.__setattr__(self, name, value)
        if not weekly:  # open on exception dates only: nothing is open after the last one
            open_dates = [ordinal for ordinal, spans in self._dated.items() if spans]
            if not open_dates:
                found = f"{len(self._dated)} closed exception date(s)" if self._dated else "none"
                msg = (
                    "the calendar is never open: give weekly hours, or exceptions with hours "
                    f"(got no weekly hours; exceptions: {found})"
                )
                raise InvalidValue(msg)
            object.__setattr__(self, "_last_open", max(open_dates))
        for ordinal in self._dated:  # an exception may cross midnight into a neighbour's hours
            for first in (ordinal - 1, ordinal):
                names = (f"{date.fromordinal(first)}", f"{date.fromordinal(first + 1)}")
                _check_spill(self._spans(first), self._spans(first + 1), names=names)

    @classmethod
    def always_open(cls, timezone: str | ZoneInfo = "UTC") -> BusinessCalendar:
        """A calendar open around the clock every day: business time is real time.

        Args:
            timezone: the zone its results are given in.
        """
        return cls(timezone=timezone, hours={day: [("00:00", "24:00")] for day in DAYS})

    def __repr__(self) -> str:
        """The calendar as the call that builds it."""
        hours = {day: list(spans) for day, spans in self.hours}
        parts = [f"timezone={self.timezone!r}", f"hours={hours!r}"]
        if self.holidays:
            parts.append(f"holidays={sorted(self.holidays)!r}")
        if self.exceptions:
            exceptions = {day: list(spans) for day, spans in self.exceptions}
            parts.append(f"exceptions={exceptions!r}")
        return f"BusinessCalendar({', '.join(parts)})"

    # --- The questions a calendar answers -------------------------------------------------

    def add(self, start: datetime, duration: timedelta | str) -> datetime:
        """The earliest instant at which `duration` of business time has passed since `start`.

        ``add(t, timedelta(0))`` is `t` itself, open or not. Otherwise the result is
        an instant with business time accruing just before it: an open moment, or
        the end of an interval (Tuesday 16:30 plus 60 minutes of a 09:00-17:30 day
        is 17:30, not Wednesday 09:00).

        Args:
            start: an aware datetime (stdlib or pendulum).
            duration: zero or more, as a `timedelta` or a string `parse_duration`
                reads (``"4h"``, ``"PT4H"``); a day is 24 hours of business time.

        Returns:
            An aware standard-library datetime in the calendar's zone.

        Raises:
            InvalidValue: a naive `start`, a negative or unreadable `duration`, or no
                open time ahead (see the class).
        """
        instant = _instant_us(start, what="the start")
        remaining = _duration_us(duration)
        if remaining == 0:
            return self._datetime(instant)
        ordinal, days = _first_date(instant), self._days
        while True:
            first, last, total, bounds = days.get(ordinal) or self._day(ordinal)
            if not total or last <= instant:  # closed, or over before the start
                ordinal = self._open_from(ordinal + 1, after=instant)
                continue
            if first >= instant and total < remaining:
                remaining -= total  # the whole date fits: one step
            else:
                for index in range(0, len(bounds), 2):
                    stop = bounds[index + 1]
                    if stop > instant:
                        begin = max(bounds[index], instant)
                        if remaining <= stop - begin:
                            return self._datetime(begin + remaining)
                        remaining -= stop - begin
            ordinal += 1

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """The business time from `start` to `end`: real time while the calendar is open.

        When `end` is before `start` the result is negative, ``elapsed(a, b) ==
        -elapsed(b, a)``, so ``elapsed(a, c) == elapsed(a, b) + elapsed(b, c)`` for
        any three instants.

        Args:
            start: an aware datetime (stdlib or pendulum).
            end: an aware datetime.

        Raises:
            InvalidValue: a naive datetime.
        """
        begin = _instant_us(start, what="the start")
        finish = _instant_us(end, what="the end")
        if finish < begin:
            return -timedelta(microseconds=self._elapsed(finish, begin))
        return timedelta(microseconds=self._elapsed(begin, finish))

    def is_open(self, moment: datetime) -> bool:
        """Whether the calendar is open at `moment` (open at 09:00, closed at 17:30).

        Raises:
            InvalidValue: a naive datetime.
        """
        instant = _instant_us(moment, what="the moment")
        first = _first_date(instant)
        return any(
            bounds[index] <= instant < bounds[index + 1]
            for bounds in (self._day(ordinal)[3] for ordinal in range(first, first + 4))
            for index in range(0, len(bounds), 2)
        )

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself if the calendar is open then, else the instant it next opens.

        Returns:
            An aware standard-library datetime in the calendar's zone.

        Raises:
            InvalidValue: a naive datetime, or no open time ahead (see the class).
        """
        instant = _instant_us(moment, what="the moment")
        ordinal = self._open_from(_first_date(instant), after=instant)
        bounds = self._day(ordinal)[3]
        begin = next(bounds[i] for i in range(0, len(bounds), 2) if bounds[i + 1] > instant)
        return self._datetime(max(begin, instant))

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """The same local time on the `days`-th open date after `start`'s local date.

        An open date is one whose own hours hold some business time (an interval
        crossing midnight counts for the date it starts on). Friday 10:00 plus one
        business day is Monday 10:00, and so is Saturday 10:00 plus one. The result
        keeps the wall-clock time, so it may fall outside the opening hours (follow
        with `next_open` for an open moment). A time that does not exist on the new
        date moves to the end of the DST gap; one that happens twice is its first
        occurrence.

        Args:
            start: an aware datetime (stdlib or pendulum).
            days: how many open dates to move forward, zero or more.

        Returns:
            An aware standard-library datetime in the calendar's zone.

        Raises:
            InvalidValue: a naive `start`, a negative or non-integer `days`, or no
                open date ahead (see the class).
        """
        instant = _instant_us(start, what="the start")
        count = _day_count(days)
        local = self._datetime(instant)
        if count == 0:
            return local
        ordinal = local.toordinal()
        for _ in range(count):
            ordinal = self._open_from(ordinal + 1, after=None)
        return self._datetime(
            self._local_us(datetime.combine(date.fromordinal(ordinal), local.time()))
        )

    # --- Internals --------------------------------------------------------------------------

    def _datetime(self, instant: int) -> datetime:
        return (_EPOCH + _US * instant).astimezone(self._zone)

    def _spans(self, ordinal: int) -> _Minutes:
        """A local date's intervals in minutes: its exception, else closed, else weekly."""
        dated = self._dated.get(ordinal)
        if dated is not None:
            return dated
        if ordinal in self._closed:
            return ()
        return self._weekly[(ordinal - 1) % 7]  # ordinal 1, 0001-01-01, was a Monday

    def _day(self, ordinal: int) -> _Day:
        """A local date's open intervals as UTC microseconds, computed once per date."""
        day = self._days.get(ordinal)
        if day is None:
            midnight = datetime.fromordinal(ordinal)
            bounds: list[int] = []
            for start, stop in self._spans(ordinal):
                begin = self._local_us(midnight + timedelta(minutes=start))
                end = self._local_us(midnight + timedelta(minutes=stop))
                if end > begin:  # an interval inside a DST gap (or a skipped day) is empty
                    bounds += (begin, end)
            total = sum(bounds[1::2]) - sum(bounds[::2])
            day = (bounds[0], bounds[-1], total, tuple(bounds)) if bounds else (0, 0, 0, ())
            if len(self._days) >= _CACHE_LIMIT:
                self._days.clear()
            self._days[ordinal] = day
        return day

    def _open_from(self, ordinal: int, *, after: int | None) -> int:
        """The first local date from `ordinal` on with open time (ending after `after`).

        Raises:
            InvalidValue: when there is none after the last exception date of a
                calendar without weekly hours, or within `HORIZON_DAYS` dates.
        """
        horizon = ordinal + HORIZON_DAYS
        if self._last_open is not None:
            horizon = min(horizon, self._last_open + 1)
        for candidate in range(ordinal, horizon):
            _, last, total, _ = self._day(candidate)
            if total and (after is None or last > after):
                return candidate
        if self._last_open is not None and horizon == self._last_open + 1:
            msg = (
                "the calendar is open only on exception dates, the last of which is "
                f"{date.fromordinal(self._last_open)}: there is no open time after it"
            )
        else:
            msg = (
                f"the calendar has no open time in the {HORIZON_DAYS} days from "
                f"{date.fromordinal(ordinal)} on: holidays or closed exceptions cover them all"
            )
        raise InvalidValue(msg)

    def _elapsed(self, begin: int, finish: int) -> int:
        total = 0
        for ordinal in range(_first_date(begin), _first_date(finish) + 4):
            first, last, day_total, bounds = self._day(ordinal)
            if first >= begin and last <= finish:
                total += day_total  # the whole date lies inside: one step
            elif last > begin and first < finish:
                for index in range(0, len(bounds), 2):
                    total += max(min(bounds[index + 1], finish) - max(bounds[index], begin), 0)
        return total

    def _local_us(self, wall: datetime) -> int:
        """The instant a naive local wall-clock time names in the calendar's zone.

        A time that happens twice names its first occurrence; a time in a
        spring-forward gap names the end of the gap, the first instant at which the
        clock reads that time or later.
        """
        reading = _wall_us(wall)
        # zoneinfo reads fold=0 with the offset before a transition, fold=1 with the one after.
        before = reading - _offset_us(wall.replace(tzinfo=self._zone))
        after = reading - _offset_us(wall.replace(tzinfo=self._zone, fold=1))
        if after >= before:
            return before  # unambiguous, or the first of two occurrences
        low, high = after, before  # in a gap: the clock jumps past `wall` in (after, before]
        while high - low > 1:
            middle = (low + high) // 2
            if _wall_us(self._datetime(middle)) >= reading:
                high = middle
            else:
                low = middle
        return high
