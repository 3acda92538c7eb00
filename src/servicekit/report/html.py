"""The KPI report: figures gathered from a store's events, as terminal rows or one HTML page.

`gather` computes every figure the report shows with `servicekit.metrics.compute`
(overall, over time, per agent and per an optional grouping), the stage funnel
and each case's first response time; `render_html` turns them into one
self-contained page: inline CSS and SVG, no script, nothing fetched.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from html import escape
from typing import Any, Protocol

import attrs

from servicekit.errors import InvalidValue
from servicekit.events import CaseOpened, Event, StageChanged
from servicekit.report.charts import bar_chart, funnel_chart, line_chart
from servicekit.report.diagrams import CATEGORY_COLOURS
from servicekit.sla import PolicySet
from servicekit.stores.base import StoredEvent
from servicekit.workflow import Workflow

__all__ = [
    "GROUP_COLUMNS",
    "HEADLINE",
    "KpiFigures",
    "ReportData",
    "format_value",
    "gather",
    "group_rows",
    "render_html",
]

HEADLINE = (
    "first_response_time",
    "first_response_time_p90",
    "first_resolution_time",
    "full_resolution_time",
    "sla_attainment:first_response",
    "sla_attainment:resolution",
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
"""The KPIs the report leads with, in order."""

GROUP_COLUMNS = (
    "first_response_time",
    "full_resolution_time",
    "sla_attainment:first_response",
    "sla_attainment:resolution",
    "reopen_rate",
    "csat",
    "conversion",
)
"""The KPIs of the per-agent (and per-group) tables."""

_RATES = {
    "one_touch_resolution",
    "first_contact_resolution",
    "reopen_rate",
    "follow_up_completion",
    "conversion",
    "csat",
    "feedback_response_rate",
}
_BUCKETS = (
    ("<15m", timedelta(minutes=15)),
    ("15-30m", timedelta(minutes=30)),
    ("30m-1h", timedelta(hours=1)),
    ("1-2h", timedelta(hours=2)),
    ("2-4h", timedelta(hours=4)),
    ("4-8h", timedelta(hours=8)),
    (">8h", timedelta.max),
)


class KpiRowLike(Protocol):
    """One figure of a `servicekit.metrics.KpiReport`: what the report reads of a row."""

    @property
    def kpi(self) -> str:
        """The KPI's name."""

    @property
    def group(self) -> Mapping[str, str | None]:
        """The group's values, by grouping."""

    @property
    def period(self) -> date | None:
        """The period's first day, or None."""

    @property
    def value(self) -> Any:
        """The figure."""

    @property
    def count(self) -> int:
        """How many observations it was computed from."""


class SkippedLike(Protocol):
    """What the report reads of a `servicekit.metrics.SkippedCase`."""

    @property
    def case_id(self) -> str:
        """The case set aside."""

    @property
    def reason(self) -> str:
        """Why it could not be counted."""


class KpiFigures(Protocol):
    """What the report reads of a `servicekit.metrics.KpiReport`."""

    @property
    def stewarded(self) -> Mapping[str, int]:
        """For each agent, how many cases they steward."""

    @property
    def skipped(self) -> Sequence[SkippedLike]:
        """The cases set aside (their history could not be read), with why."""

    def rows(self) -> Sequence[KpiRowLike]:
        """Every figure."""

    def value(self, kpi: str, **group: Any) -> Any:
        """One figure, or None."""

    def count(self, kpi: str, **group: Any) -> int:
        """How many observations a figure was computed from."""


def format_value(kpi: str, value: object) -> str:  # noqa: PLR0911 - one return per kind
    """A figure as a person reads it: 83.3%, 1h 27m, +12.5, 9,300.00 EUR, or an em dash."""
    if value is None:
        return "\N{EM DASH}"
    if isinstance(value, timedelta):
        minutes = round(value.total_seconds() / 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
    if isinstance(value, Mapping):
        return ", ".join(f"{amount:,.2f} {currency}" for currency, amount in value.items()) or "0"
    if isinstance(value, float | int | Decimal):
        if kpi in _RATES or kpi.startswith("sla_attainment:"):
            return f"{float(value) * 100:.1f}%"
        if kpi == "nps":
            return f"{float(value):+.1f}"
        return f"{float(value):.2f}"
    return str(value)


def _raw(value: object) -> str:
    """A figure exactly, for machines reading the page: seconds, fractions, amounts."""
    if value is None:
        return ""
    if isinstance(value, timedelta):
        return repr(value.total_seconds())
    if isinstance(value, Mapping):
        return ";".join(f"{currency}={amount}" for currency, amount in value.items())
    return repr(float(value)) if isinstance(value, float | int) else str(value)


@attrs.frozen
class ReportData:
    """Everything the report shows, computed once (see `gather`)."""

    title: str
    overall: KpiFigures
    over_time: KpiFigures
    periods: tuple[date, ...]
    by_agent: KpiFigures
    grouped: KpiFigures | None
    grouping: str | None
    funnel: tuple[tuple[str, int, str], ...]
    response_times: tuple[timedelta, ...]
    cases: int
    sla_measured: bool
    notes: tuple[str, ...] = ()
    set_aside: tuple[str, ...] = ()
    """One line per case left out of the figures, naming it and why."""


def _window(
    stored: Sequence[StoredEvent], since: datetime | None, until: datetime | None
) -> list[StoredEvent]:
    """The events before `until` of the cases opened from `since` on."""
    opened = {
        item.event.case_id
        for item in stored
        if isinstance(item.event, CaseOpened) and (since is None or item.event.at >= since)
    }
    return [
        item
        for item in stored
        if item.event.case_id in opened and (until is None or item.event.at < until)
    ]


def gather(  # noqa: PLR0913 - the report's options, all keyword-only
    stored: Sequence[StoredEvent],
    *,
    title: str,
    workflows: Sequence[Workflow],
    sla: PolicySet | None,
    since: datetime | None = None,
    until: datetime | None = None,
    by: str | None = None,
) -> ReportData:
    """Compute every figure of the report from stored events (``store.read_all()``).

    Args:
        stored: the events, in the store's order.
        title: the report's heading.
        workflows: the workflows the cases follow.
        sla: the SLA policies, for SLA attainment (none: no attainment figures).
        since: count only cases opened from this moment on.
        until: count only what happened before this moment.
        by: a grouping among ``"agent"``, ``"team"``, ``"channel"``, besides per agent.
    """
    compute = _metrics().compute
    events = _window(stored, since, until)
    options: dict[str, Any] = {"workflows": list(workflows), "sla": sla}
    span = (events[-1].event.at - events[0].event.at) if events else timedelta(0)
    period = "day" if span <= timedelta(days=45) else "week"
    over_time = compute(events, period=period, **options)
    periods = sorted({row.period for row in over_time.rows() if row.period is not None})
    histories: dict[str, list[Event]] = defaultdict(list)
    for item in events:
        histories[item.event.case_id].append(item.event)
    response_times = []
    for history in histories.values():
        value = compute(history, **options).value("first_response_time")
        if isinstance(value, timedelta):
            response_times.append(value)
    notes = [] if sla is not None else ["SLA attainment needs the policies: --sla MODULE:NAME."]
    overall = compute(events, **options)
    set_aside = tuple(_set_aside_line(case.case_id, case.reason) for case in overall.skipped)
    return ReportData(
        title=title,
        overall=overall,
        over_time=over_time,
        periods=tuple(periods),
        by_agent=compute(events, by=("agent",), **options),
        grouped=None if by in {None, "agent"} else compute(events, by=(by,), **options),
        grouping=by,
        funnel=tuple(_funnel(histories.values(), workflows)),
        response_times=tuple(response_times),
        cases=len(histories),
        sla_measured=sla is not None,
        notes=tuple(notes) + set_aside,
        set_aside=set_aside,
    )


def _set_aside_line(case_id: str, reason: str) -> str:
    """'set aside: case 'R-1': why', naming the case once (the reason may name it already)."""
    named = repr(case_id)
    if named in reason:
        return f"set aside: {reason}"
    return f"set aside: case {named}: {reason}"


def _metrics() -> Any:
    """`servicekit.metrics`, imported when a report is made (it is the heavy part)."""
    try:
        return importlib.import_module("servicekit.metrics")
    except ImportError as error:
        msg = f"the KPI report needs servicekit.metrics, which cannot be imported: {error}"
        raise InvalidValue(msg) from None


def _funnel(
    histories: Iterable[Sequence[Event]], workflows: Sequence[Workflow]
) -> list[tuple[str, int, str]]:
    """For each stage of each workflow, how many cases were ever in it."""
    reached: dict[tuple[str, str], int] = defaultdict(int)
    for history in histories:
        opened = history[0]
        if not isinstance(opened, CaseOpened):
            continue
        stages = {opened.stage}
        stages |= {event.dest for event in history if isinstance(event, StageChanged)}
        for stage in stages:
            reached[opened.workflow, stage] += 1
    several = len(workflows) > 1
    return [
        (
            f"{workflow.name}: {stage.name}" if several else stage.name,
            reached[workflow.name, stage.name],
            CATEGORY_COLOURS[stage.category],
        )
        for workflow in workflows
        for stage in workflow.stages
    ]


def group_rows(figures: KpiFigures, grouping: str) -> list[tuple[str, dict[str, object]]]:
    """Each group's value of the group columns, groups in the report's order."""
    table: dict[str, dict[str, object]] = {}
    for row in figures.rows():
        name = row.group.get(grouping) or "(nobody)"
        table.setdefault(name, {})
        if row.kpi in GROUP_COLUMNS:
            table[name][row.kpi] = row.value
    return sorted(table.items())


def _tile(kpi: str, value: object, count: int) -> str:
    counted = f'<span class="count">{count} counted</span>'
    return (
        f'<div class="tile" data-kpi="{escape(kpi)}" data-value="{escape(_raw(value))}">'
        f'<span class="name">{escape(kpi)}</span>'
        f'<span class="value">{escape(format_value(kpi, value))}</span>{counted}</div>'
    )


def _table(figures: KpiFigures, grouping: str, stewarded: Mapping[str, int] | None) -> str:
    head = "".join(f"<th>{escape(kpi)}</th>" for kpi in GROUP_COLUMNS)
    steward_head = "<th>stewarded cases</th>" if stewarded is not None else ""
    lines = [
        (
            f'<table data-grouping="{escape(grouping)}"><thead><tr><th>{escape(grouping)}</th>'
            f"{steward_head}{head}</tr></thead><tbody>"
        )
    ]
    for name, values in group_rows(figures, grouping):
        cells = "".join(
            f'<td data-kpi="{escape(kpi)}" data-value="{escape(_raw(values.get(kpi)))}">'
            f"{escape(format_value(kpi, values.get(kpi)))}</td>"
            for kpi in GROUP_COLUMNS
        )
        steward = "" if stewarded is None else f"<td>{stewarded.get(name, 0)}</td>"
        lines.append(
            f'<tr data-group="{escape(name)}"><th>{escape(name)}</th>{steward}{cells}</tr>'
        )
    lines.append("</tbody></table>")
    return "".join(lines)


def _series(data: ReportData, kpi: str, scale: float) -> list[float | None]:
    values = []
    for period in data.periods:
        value = data.over_time.value(kpi, period=period)
        values.append(None if value is None else float(value) * scale)
    return values


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#212529;background:#fff}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:.75rem}
.tile{border:1px solid #dee2e6;border-radius:.5rem;padding:.6rem .8rem;display:flex;
flex-direction:column}.tile .name{font-size:.8rem;color:#6c757d;overflow-wrap:anywhere}
.tile .value{font-size:1.3rem;font-weight:600}.tile .count{font-size:.75rem;color:#6c757d}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.chart{border:1px solid #dee2e6;border-radius:.5rem}
table{border-collapse:collapse;margin-top:.5rem}th,td{border:1px solid #dee2e6;
padding:.3rem .6rem;text-align:right}thead th,tbody th{text-align:left;background:#f8f9fa}
.note{color:#6c757d}
"""


def render_html(data: ReportData) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no script)."""
    overall = data.overall
    tiles = "".join(
        _tile(kpi, overall.value(kpi), overall.count(kpi))
        for kpi in HEADLINE
        if not kpi.startswith("sla_attainment:") or overall.value(kpi) is not None
    )
    labels = [period.isoformat()[5:] for period in data.periods]
    histogram = [0.0] * len(_BUCKETS)
    for value in data.response_times:
        index = next(i for i, (_, limit) in enumerate(_BUCKETS) if value < limit)
        histogram[index] += 1
    charts = [
        bar_chart(
            "response_times",
            f"First response time, {len(data.response_times)} cases (business time)",
            [label for label, _ in _BUCKETS],
            histogram,
        ),
        line_chart(
            "sla_attainment",
            "SLA attainment over time",
            labels,
            [
                ("first response", _series(data, "sla_attainment:first_response", 100)),
                ("resolution", _series(data, "sla_attainment:resolution", 100)),
            ],
            high=100,
            unit="%",
        ),
        funnel_chart("funnel", "Stage funnel: cases that reached each stage", data.funnel),
        line_chart(
            "csat",
            "CSAT over time",
            labels,
            [("CSAT", _series(data, "csat", 100))],
            high=100,
            unit="%",
        ),
        line_chart(
            "nps",
            "NPS over time",
            labels,
            [("NPS", _series(data, "nps", 1))],
            low=-100,
            high=100,
        ),
    ]
    grouped = (
        ""
        if data.grouped is None or data.grouping is None
        else f"<h2>By {escape(data.grouping)}</h2>{_table(data.grouped, data.grouping, None)}"
    )
    notes = "".join(f'<p class="note">{escape(note)}</p>' for note in data.notes)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(data.title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(data.title)}</h1><p>{data.cases} cases.</p>{notes}"
        f'<section class="tiles">{tiles}</section>'
        f'<h2>Charts</h2><section class="charts">{"".join(charts)}</section>'
        f"<h2>Per agent</h2>{_table(data.by_agent, 'agent', data.by_agent.stewarded)}"
        f"{grouped}</body></html>\n"
    )
