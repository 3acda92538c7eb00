"""The figures of a KPI report, and the running sums they are computed from (private)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeAlias

import attrs

from servicekit.errors import InvalidValue

__all__ = ["KPIS", "KpiReport", "KpiRow", "SkippedCase"]

KPIS = (
    "first_response_time",
    "first_response_time_p90",
    "first_resolution_time",
    "full_resolution_time",
    "one_touch_resolution",
    "first_contact_resolution",
    "reopen_rate",
    "transfers_per_case",
    "follow_up_completion",
    "conversion",
    "won_value",
    "csat",
    "nps",
    "ces",
    "feedback_response_rate",
)
"""The KPI names; `time_in_stage:<stage>` and `sla_attainment:<metric>` are named per stage and
per SLA metric."""

_PER_NAME = ("time_in_stage:", "sla_attainment:")

Value: TypeAlias = float | timedelta | Mapping[str, Decimal] | None
"""One figure: a rate or a mean (float), a duration, money per currency, or None."""

GroupKey: TypeAlias = tuple[str | None, ...]
"""A group's values, one per grouping of the report, then the period (an ISO date) or None."""

Observation: TypeAlias = tuple[str, tuple[GroupKey, ...], str, Any, Any]
"""One measured thing: KPI, the groups it counts in, its kind, and one or two numbers."""


class Cell:
    """The running sums of one KPI in one group: enough to add and to take back an observation.

    Mutable on purpose: a projection updates its cells in place, event after event.
    """

    __slots__ = ("den", "detractors", "durations", "money", "num", "promoters", "total", "walls")

    def __init__(self) -> None:
        self.den = 0
        self.num = 0
        self.total = 0
        self.promoters = 0
        self.detractors = 0
        self.durations: dict[int, int] = {}
        self.walls: dict[int, int] = {}
        self.money: dict[str, Decimal] = {}

    def dump(self) -> list[Any]:
        """The cell as JSON-safe lists."""
        return [
            self.den,
            self.num,
            self.total,
            self.promoters,
            self.detractors,
            sorted(self.durations.items()),
            sorted(self.walls.items()),
            {currency: str(amount) for currency, amount in self.money.items()},
        ]

    @classmethod
    def load(cls, data: list[Any]) -> Cell:
        """The cell `dump` wrote."""
        cell = cls()
        cell.den, cell.num, cell.total, cell.promoters, cell.detractors = data[:5]
        cell.durations = {int(us): int(n) for us, n in data[5]}
        cell.walls = {int(us): int(n) for us, n in data[6]}
        cell.money = {currency: Decimal(amount) for currency, amount in data[7].items()}
        return cell


def _bump(counts: dict[int, int], value: int, sign: int) -> None:
    left = counts.get(value, 0) + sign
    if left:
        counts[value] = left
    else:
        del counts[value]


def add(cells: dict[tuple[str, GroupKey], Cell], observation: Observation, sign: int) -> None:
    """Count `observation` in its cells (sign 1), or take it back (sign -1)."""
    kpi, keys, kind, first, second = observation
    for key in keys:
        cell = cells.get((kpi, key))
        if cell is None:
            cell = cells[kpi, key] = Cell()
        cell.den += sign
        if kind == "rate":
            cell.num += sign * first
        elif kind == "duration":
            _bump(cell.durations, first, sign)
            _bump(cell.walls, second, sign)
        elif kind == "mean":
            cell.total += sign * first
        elif kind == "nps":
            _nps(cell, first, sign)
        else:  # money: a currency and an amount
            _money(cell, first, sign * second)
        if not cell.den:
            del cells[kpi, key]


def _nps(cell: Cell, score: int, sign: int) -> None:
    if score >= 9:  # noqa: PLR2004 - promoters answer 9 or 10
        cell.promoters += sign
    elif score <= 6:  # noqa: PLR2004 - detractors answer 0 to 6
        cell.detractors += sign


def _money(cell: Cell, currency: str, amount: Decimal) -> None:
    total = cell.money.get(currency, Decimal(0)) + amount
    if total:
        cell.money[currency] = total
    else:
        del cell.money[currency]


def _sorted(counts: Mapping[int, int]) -> list[int]:
    return [value for value, n in sorted(counts.items()) for _ in range(n)]


def median(counts: Mapping[int, int]) -> timedelta | None:
    """The median of microsecond counts (the mean of the middle two for an even count)."""
    values = _sorted(counts)
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return timedelta(microseconds=values[middle])
    return timedelta(microseconds=(values[middle - 1] + values[middle]) / 2)


def p90(counts: Mapping[int, int]) -> timedelta | None:
    """The 90th percentile by the nearest rank: the value at rank ceil(0.9 n)."""
    values = _sorted(counts)
    if not values:
        return None
    return timedelta(microseconds=values[math.ceil(0.9 * len(values)) - 1])


@attrs.frozen
class KpiRow:
    """One figure of a report: the KPI, its group, its period, its value and its count.

    `wall_clock` is the same duration measured on the wall clock (durations only);
    `value` is measured on the report's business calendar.
    """

    kpi: str
    group: Mapping[str, str | None]
    period: date | None
    value: Value
    count: int
    wall_clock: timedelta | None = None


@attrs.frozen
class SkippedCase:
    """A case whose history a report could not read, and why; the other cases are counted."""

    case_id: str
    reason: str


def _figure(kpi: str, cell: Cell) -> tuple[Value, timedelta | None]:
    if cell.durations or cell.walls:
        if kpi.endswith("_p90"):
            return p90(cell.durations), p90(cell.walls)
        return median(cell.durations), median(cell.walls)
    if kpi == "nps":
        return 100 * (cell.promoters - cell.detractors) / cell.den, None
    if kpi == "won_value":
        return dict(sorted(cell.money.items())), None
    if kpi in ("ces", "transfers_per_case"):
        return cell.total / cell.den, None
    return cell.num / cell.den, None


def _is_kpi(kpi: object) -> bool:
    return isinstance(kpi, str) and (
        kpi in KPIS
        or any(kpi.startswith(prefix) and len(kpi) > len(prefix) for prefix in _PER_NAME)
    )


@attrs.frozen
class KpiReport:
    """Every KPI figure computed from a set of histories, by group and period.

    Build one with `servicekit.metrics.compute` or `Projection.report`.

    Attributes:
        by: the groupings, in order (for example ``("agent", "channel")``).
        period: ``None``, ``"day"``, ``"week"`` or ``"month"``.
        stewarded: for each agent, how many cases they steward.
        sla_time_shares: each owner's share (0 to 1) of the business time the counted
            SLA targets used, from the clocks' attribution (None: while unowned).
        skipped: cases whose history could not be read, with the reason.
    """

    by: tuple[str, ...]
    period: str | None
    stewarded: Mapping[str, int]
    skipped: tuple[SkippedCase, ...]
    sla_time_shares: Mapping[str | None, float]
    _rows: tuple[KpiRow, ...] = attrs.field(alias="rows")
    _index: Mapping[tuple[str, GroupKey], KpiRow] = attrs.field(init=False, eq=False, repr=False)

    @_index.default
    def _build_index(self) -> Mapping[tuple[str, GroupKey], KpiRow]:
        return {(row.kpi, self._key(row.group, row.period)): row for row in self._rows}

    def _key(self, group: Mapping[str, str | None], period: date | None) -> GroupKey:
        return (*(group[name] for name in self.by), None if period is None else period.isoformat())

    @classmethod
    def build(  # noqa: PLR0913 - the parts of a report, keyword-only
        cls,
        cells: Mapping[tuple[str, GroupKey], Cell],
        *,
        by: tuple[str, ...],
        period: str | None,
        stewarded: Mapping[str, int],
        sla_time: Mapping[str | None, int],
        skipped: Iterable[SkippedCase],
    ) -> KpiReport:
        """The report of a set of cells (for the projection)."""
        rows = []
        for (kpi, key), cell in sorted(cells.items(), key=_order):
            group = dict(zip(by, key[:-1], strict=True))
            when = None if key[-1] is None else date.fromisoformat(key[-1])
            names = (kpi, f"{kpi}_p90") if kpi == "first_response_time" else (kpi,)
            for name in names:
                value, wall = _figure(name, cell)
                rows.append(KpiRow(name, group, when, value, cell.den, wall))
        return cls(
            by=by,
            period=period,
            stewarded=dict(sorted(stewarded.items())),
            sla_time_shares=_shares(sla_time),
            skipped=tuple(sorted(skipped, key=lambda case: case.case_id)),
            rows=tuple(rows),
        )

    def rows(self) -> tuple[KpiRow, ...]:
        """Every figure with its group, its period and the count it was computed from."""
        return self._rows

    def _row(self, kpi: str, group: Mapping[str, Any]) -> KpiRow | None:
        if not _is_kpi(kpi):
            msg = (
                f"{kpi!r} is not a KPI; KPIs: {', '.join(KPIS)}, time_in_stage:<stage>, "
                "sla_attainment:<metric>"
            )
            raise InvalidValue(msg)
        names = {*self.by, *(("period",) if self.period else ())}
        if set(group) != names:
            msg = (
                f"the report is grouped by {sorted(names) or 'nothing'}; name exactly those "
                f"groups, got {sorted(group)}"
            )
            raise InvalidValue(msg)
        when = group.get("period")
        if when is not None and (not isinstance(when, date) or isinstance(when, datetime)):
            msg = f"a period is named by its first day, a datetime.date, got {when!r}"
            raise InvalidValue(msg)
        values = {name: group[name] for name in self.by}
        return self._index.get((kpi, self._key(values, when)))

    def value(self, kpi: str, **group: Any) -> Value:
        """One figure, or None when nothing was measured.

        A rate is a fraction from 0 to 1, NPS is in points from -100 to 100, a
        duration is a `timedelta` of business time, `won_value` maps currency codes
        to `Decimal` sums, and `transfers_per_case` and `ces` are means. Name every
        group of the report: ``value("csat", agent="ana", period=date(2026, 3, 2))``.

        Raises:
            InvalidValue: `kpi` is not a KPI, or the groups named are not the report's.
        """
        row = self._row(kpi, group)
        return None if row is None else row.value

    def wall_clock(self, kpi: str, **group: Any) -> timedelta | None:
        """A duration KPI measured on the wall clock instead of business hours."""
        row = self._row(kpi, group)
        return None if row is None else row.wall_clock

    def count(self, kpi: str, **group: Any) -> int:
        """How many observations a figure was computed from (0 when none)."""
        row = self._row(kpi, group)
        return 0 if row is None else row.count


def _shares(used: Mapping[str | None, int]) -> dict[str | None, float]:
    total = sum(used.values())
    ordered = sorted(used.items(), key=lambda item: (item[0] is not None, item[0] or ""))
    return {holder: time / total for holder, time in ordered} if total else {}


def _order(item: tuple[tuple[str, GroupKey], Cell]) -> tuple[str, tuple[tuple[bool, str], ...]]:
    kpi, key = item[0]
    return kpi, tuple((value is not None, value or "") for value in key)
