"""Benchmark the business calendar's `add` against stepping minute by minute, in the same run.

Run ``python benchmarks/bench_calendar.py`` (``--quick`` for a smoke run with small
counts, ``--json PATH`` to also write the numbers). The calendar is a year of
Berlin office hours with ten holidays and a few exceptions; its cache of dates is
warm, as in a running application. The baseline is the obvious implementation:
step one minute at a time, read the local wall clock, and count the minute when
the hours of its date say open. Times are the best of several repeats of a loop
(``time.perf_counter``, garbage collector paused as ``timeit`` does). The goals
are reported, never asserted: the exit code is 0 unless something crashes.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from operator import ge
from zoneinfo import ZoneInfo

import harness

from servicekit.calendar import BusinessCalendar

ZONE = "Europe/Berlin"
OFFICE = {day: [("09:00", "17:30")] for day in ("mon", "tue", "wed", "thu", "fri")}
HOLIDAYS = [
    date(2026, 1, 1),
    date(2026, 4, 3),
    date(2026, 4, 6),
    date(2026, 5, 1),
    date(2026, 5, 14),
    date(2026, 5, 25),
    date(2026, 6, 4),
    date(2026, 10, 3),
    date(2026, 12, 25),
    date(2026, 12, 26),
]
EXCEPTIONS = {
    date(2026, 3, 28): [("10:00", "14:00")],  # an open Saturday
    date(2026, 11, 2): [],  # closed for a company event
    date(2026, 12, 24): [("09:00", "12:00")],
    date(2026, 12, 31): [("09:00", "12:00")],
}
DURATIONS = {
    "4 hours": timedelta(hours=4),
    "3 business days (25.5 h)": timedelta(hours=3 * 8.5),
    "2 weeks (85 h)": timedelta(hours=2 * 5 * 8.5),
}
FULL = {"calls": 2_000, "baseline_calls": 12, "repeats": 5}
QUICK = {"calls": 200, "baseline_calls": 3, "repeats": 2}
MINUTE = timedelta(minutes=1)


class SteppingCalendar:
    """The baseline: `add` by stepping minute by minute and reading the local wall clock.

    Good enough for these hours (no interval crosses midnight, the DST changes fall
    on closed Sundays), which is all a benchmark baseline needs.
    """

    def __init__(
        self,
        zone: str,
        hours: Mapping[str, list[tuple[str, str]]],
        holidays: list[date],
        exceptions: Mapping[date, list[tuple[str, str]]],
    ) -> None:
        """Keep the definition as minutes after midnight, per weekday and per date."""
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        self.zone = ZoneInfo(zone)
        self.weekly = [self.minutes(hours.get(day, [])) for day in days]
        self.holidays = set(holidays)
        self.exceptions = {day: self.minutes(spans) for day, spans in exceptions.items()}

    @staticmethod
    def minutes(spans: list[tuple[str, str]]) -> list[tuple[int, int]]:
        """``[("09:00", "17:30")]`` as ``[(540, 1050)]``."""

        def read(text: str) -> int:
            hour, minute = text.split(":")
            return int(hour) * 60 + int(minute)

        return [(read(start), read(end)) for start, end in spans]

    def is_open(self, moment: datetime) -> bool:
        """Whether the minute starting at `moment` is open, by the local wall clock."""
        local = moment.astimezone(self.zone)
        day = local.date()
        if day in self.exceptions:
            spans = self.exceptions[day]
        elif day in self.holidays:
            return False
        else:
            spans = self.weekly[day.weekday()]
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in spans)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """Count open minutes from `start` until `duration` has passed."""
        wanted = duration // MINUTE
        moment, counted = start, 0
        while counted < wanted:
            counted += self.is_open(moment)
            moment += MINUTE
        return moment


def starts(count: int, seed: int) -> list[datetime]:
    """`count` minute-aligned instants spread over 2026, in UTC."""
    rng = random.Random(seed)
    first = datetime(2026, 1, 1, tzinfo=UTC)
    return [first + MINUTE * rng.randrange(365 * 1440) for _ in range(count)]


def bench_add(sizes: dict[str, int]) -> dict[str, float]:
    """Microseconds per `add`, servicekit (warm) and stepping, for each duration."""
    calendar = BusinessCalendar(
        timezone=ZONE, hours=OFFICE, holidays=HOLIDAYS, exceptions=EXCEPTIONS
    )
    stepping = SteppingCalendar(ZONE, OFFICE, HOLIDAYS, EXCEPTIONS)
    moments = starts(sizes["calls"], seed=2026)
    few = moments[: sizes["baseline_calls"]]
    results: dict[str, float] = {}
    for number, duration in enumerate(DURATIONS.values()):
        disagree = [m for m in few if calendar.add(m, duration) != stepping.add(m, duration)]
        if disagree:
            msg = f"servicekit and the stepping baseline disagree from {disagree[0]} + {duration}"
            raise RuntimeError(msg)
        for moment in moments:  # warm the cache of dates, as a running application has
            calendar.add(moment, duration)

        def fast(duration: timedelta = duration) -> None:
            for moment in moments:
                calendar.add(moment, duration)

        def slow(duration: timedelta = duration) -> None:
            for moment in few:
                stepping.add(moment, duration)

        results[f"servicekit_us_{number}"] = (
            harness.best_of(sizes["repeats"], fast) * 1e6 / len(moments)
        )
        results[f"stepping_us_{number}"] = harness.best_of(1, slow) * 1e6 / len(few)
        results[f"ratio_{number}"] = (
            results[f"stepping_us_{number}"] / results[f"servicekit_us_{number}"]
        )
    return results


def bench_other(sizes: dict[str, int]) -> dict[str, float]:
    """For reference: `elapsed` and `next_open` (warm), and `add` on a fresh calendar (cold)."""
    calendar = BusinessCalendar(
        timezone=ZONE, hours=OFFICE, holidays=HOLIDAYS, exceptions=EXCEPTIONS
    )
    moments = starts(sizes["calls"], seed=7)
    ends = [moment + timedelta(days=14) for moment in moments]
    pairs = list(zip(moments, ends, strict=True))
    for start, end in pairs:
        calendar.elapsed(start, end)
    cold_count = max(sizes["calls"] // 10, 10)
    scale, best = 1e6 / len(moments), partial(harness.best_of, sizes["repeats"])
    return {
        "elapsed_us": best(lambda: [calendar.elapsed(*p) for p in pairs]) * scale,
        "next_open_us": best(lambda: [calendar.next_open(m) for m in moments]) * scale,
        "cold_add_us": best(
            lambda: [
                BusinessCalendar(
                    timezone=ZONE, hours=OFFICE, holidays=HOLIDAYS, exceptions=EXCEPTIONS
                ).add(moment, DURATIONS["2 weeks (85 h)"])
                for moment in moments[:cold_count]
            ]
        )
        * 1e6
        / cold_count,
    }


def thousandfold(text: str, key: str) -> harness.Goal:
    """The goal that the ratio at `key` is at least 1000; its line shows whole numbers."""
    return harness.Goal(text, key, ge, 1000, shown=",.0f")


GOALS = (
    thousandfold(
        "goal add(3 business days) >= 1000x faster than stepping minute by minute", "ratio_1"
    ),
    thousandfold("goal add(2 weeks) >= 1000x faster than stepping minute by minute", "ratio_2"),
)
"""Each goal: its summary text and the ratio it reads; the limit is 1000."""


REFERENCE: tuple[harness.Section, ...] = (
    (
        "2. For reference",
        (
            ("elapsed over 14 days, warm", "elapsed_us", "us"),
            ("next_open, warm", "next_open_us", "us"),
            ("build a calendar + add(2 weeks), cold cache", "cold_add_us", "us"),
        ),
    ),
)
"""The table's last section: (label, results key, unit) rows, for reference."""


def report(results: dict[str, float], sizes: dict[str, int], mode: str) -> list[str]:
    """The table, ending with one summary line per goal."""
    r = results
    setting = "; Berlin office hours, 10 holidays, 4 exceptions"
    title = harness.title("calendar", mode, sizes["repeats"], setting)
    heading = (
        f"1. add(start, duration), warm cache ({sizes['calls']:,} starts over 2026; stepping: "
        f"{sizes['baseline_calls']} of them, one run)"
    )
    lines = [
        title,
        "",
        heading,
        f"   {'duration':<28}{'servicekit':>14}{'stepping':>16}{'ratio':>12}",
    ]
    for number, label in enumerate(DURATIONS):
        lines.append(
            f"   {label:<28}{r[f'servicekit_us_{number}']:>11,.2f} us"
            f"{r[f'stepping_us_{number}']:>13,.0f} us{r[f'ratio_{number}']:>11,.0f}x"
        )
    lines += harness.table(REFERENCE, r, sizes, width=52)
    return lines + harness.summary(GOALS, r, sizes)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every benchmark, print the table, and write JSON when asked."""
    options = harness.parse_options(__doc__, argv, full=FULL, quick=QUICK)
    results = bench_add(options.sizes) | bench_other(options.sizes)
    lines = report(results, options.sizes, options.mode)
    harness.publish(options, lines, results, GOALS, {"durations": list(DURATIONS)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
