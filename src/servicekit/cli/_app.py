"""The ``servicekit`` commands, on cyclopts: arguments and help come from the signatures."""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Literal

from cyclopts import App, Parameter
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from servicekit.cli import _output
from servicekit.cli._check import check_database, check_definitions
from servicekit.cli._inputs import BadInput, Definitions, definitions, open_database, parse_day
from servicekit.cli.demo import policies as demo_policies
from servicekit.cli.demo import simulate
from servicekit.cli.demo import workflows as demo_workflows
from servicekit.clock import SystemClock
from servicekit.desk import ServiceDesk
from servicekit.events import CaseOpened
from servicekit.report import dot, mermaid
from servicekit.report.html import (
    GROUP_COLUMNS,
    HEADLINE,
    ReportData,
    format_value,
    gather,
    group_rows,
    render_html,
)
from servicekit.stores.sqlite import SQLiteStore

__all__ = ["app"]

DEFAULT_DEMO_DB = Path("servicekit-demo.sqlite")
DEMO_OPTIONS = "--sla servicekit.cli.demo:policies"
"""What the commands need besides the default workflows to read the demo's database."""

app = App(
    name="servicekit",
    help="Run customer service on servicekit: simulate it, report on it, draw it, check it.",
    version=lambda: version("servicekit"),
    help_format="plaintext",
    suppress_keyboard_interrupt=False,
)

Db = Annotated[Path, Parameter(name="--db", metavar="FILE")]
Workflows = Annotated[
    tuple[str, ...], Parameter(metavar="MODULE:NAME", negative=(), show_default=False)
]
Sla = Annotated[str | None, Parameter(metavar="MODULE:NAME")]
CaseId = Annotated[str, Parameter(metavar="CASE_ID")]


class _Console(Console):
    """Rich's console, leaving a closed pipe to `main`, which ends every command the same way."""

    def on_broken_pipe(self) -> None:
        """Raise, instead of rich's own exit with status 1."""
        raise BrokenPipeError


def _stdout() -> Console:
    # A pipe or a file has no width: give tables room instead of rich's 80 columns.
    return _Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)


@contextmanager
def _desk(path: Path, names: Definitions) -> Iterator[ServiceDesk]:
    """A desk on the existing database at `path`, on the system clock."""
    with open_database(path) as store:
        yield ServiceDesk(
            workflows=names.workflows, store=store, clock=SystemClock(), sla=names.sla
        )


@app.command
def demo(
    *,
    db: Annotated[Path, Parameter(name="--db", metavar="FILE")] = DEFAULT_DEMO_DB,
    days: Annotated[int, Parameter(metavar="N")] = 10,
    seed: Annotated[int, Parameter(metavar="S")] = 1,
    replace: bool = False,
) -> None:
    """Simulate a small company's sales and support into an SQLite file, then report on it.

    Customers write on five channels; sales agents bargain, win and lose; service
    agents wait on customers, transfer cases with a handoff note and resolve them;
    customers reopen some and give feedback; stewards complete their follow-ups; a
    tick every half hour fires SLA warnings, breaches and escalations. All of it
    on a manual clock, so the same seed writes the same history.

    Args:
        db: the SQLite file to write (it must not exist yet, unless --replace).
        days: business days on which customers arrive.
        seed: the random seed.
        replace: overwrite the file if it exists.
    """
    if days < 1:
        msg = f"--days takes a whole number from 1, got {days}"
        raise BadInput(msg)
    if db.exists():
        if not replace:
            msg = f"{str(db)!r} exists already; pass --replace to overwrite it, or another --db"
            raise BadInput(msg)
        with open_database(db):  # only a servicekit database is replaced, never other data
            pass
        db.unlink()
    columns = (
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("cases"),
        TimeElapsedColumn(),
    )
    with (
        SQLiteStore(db, synchronous="NORMAL") as store,
        Progress(*columns, console=Console(stderr=True), transient=True) as bar,
    ):
        task = bar.add_task("demo", total=None)
        result = simulate(
            store,
            days=days,
            seed=seed,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    out = _stdout()
    out.print(
        f"Simulated {result.cases} cases ({result.events} events) over {days} business days "
        f"into {db}.",
        markup=False,
    )
    for problem in result.refused:
        out.print(f"  refused: {problem}", markup=False)
    with open_database(db) as store, Console(stderr=True).status("computing the KPI report"):
        data = gather(
            store.read_all(),
            title=f"KPI report of {db.name}",
            workflows=demo_workflows(),
            sla=demo_policies(),
        )
    _print_report(out, data)
    page = db.with_suffix(".html")
    page.write_text(render_html(data), encoding="utf-8")
    out.print(f"HTML report: {page}", markup=False)
    out.print(
        f"Look again with: servicekit report --db {db} {DEMO_OPTIONS}",
        markup=False,
    )


@app.command
def diagram(
    *,
    workflow: Workflows = (),
    format: Literal["mermaid", "dot"] = "mermaid",  # noqa: A002 - the option's name
) -> None:
    """Draw a workflow from its definition: stages coloured by category, guards on transitions.

    Args:
        workflow: the workflow to draw (the buying cycle by default); repeat for several.
        format: mermaid for Markdown pages, dot for Graphviz.
    """
    draw = mermaid if format == "mermaid" else dot
    out = _stdout()
    for each in definitions(workflow, None, only_buying_cycle=True).workflows:
        out.print(draw(each), end="", markup=False)


@app.command
def check(file: Annotated[str, Parameter(metavar="FILE")], /, *, workflow: Workflows = ()) -> int:
    """Check a database (every case folds, the index agrees) or a module's definitions.

    FILE is an SQLite file, or MODULE:NAME (or MODULE alone) naming workflows and
    SLA policies. Every problem is printed with where it is; the exit status is 1
    when there is one.

    Args:
        file: the database, or the module (MODULE:NAME) to check.
        workflow: a workflow of the cases (repeat for several); by default those servicekit ships.
    """
    out = _stdout()
    if _names_a_module(file):
        found, problems = check_definitions(file)
        for line in found:
            out.print(line, markup=False)
        return _problems(problems)
    result = check_database(Path(file), definitions(workflow, None))
    cases = "case" if result.cases == 1 else "cases"
    events = "event" if result.events == 1 else "events"
    agents = "agent" if result.agents == 1 else "agents"
    out.print(
        f"{file}: {result.cases} {cases}, {result.events} {events}, {result.agents} {agents}",
        markup=False,
    )
    for stage, count in result.stages.items():
        out.print(f"  {stage}: {count}", markup=False)
    return _problems(list(result.problems))


def _names_a_module(file: str) -> bool:
    """Whether ``check``'s argument names Python definitions rather than a database file."""
    if Path(file).exists():
        return False
    if ":" in file:
        return True
    try:
        return importlib.util.find_spec(file) is not None
    except (ImportError, ValueError):
        return False


def _problems(problems: list[str]) -> int:
    for problem in problems:
        _output.problem(problem)
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        _output.problem(f"{len(problems)} {noun} found")
        return 1
    return 0


@app.command
def history(case_id: CaseId, /, *, db: Db, workflow: Workflows = ()) -> None:
    """Print one case's history, oldest event first.

    Args:
        case_id: the case to show.
        db: the database to read.
        workflow: a workflow of the cases (repeat for several); by default those servicekit ships.
    """
    with _desk(db, definitions(workflow, None)) as desk:
        lines = [str(event) for event in desk.history(case_id)]
    _stdout().print(*lines, sep="\n", markup=False)


@app.command
def explain(case_id: CaseId, /, *, db: Db, workflow: Workflows = (), sla: Sla = None) -> None:
    """Explain one case: its history, the briefing an agent reads, and its SLA clocks.

    Args:
        case_id: the case to explain.
        db: the database to read.
        workflow: a workflow of the cases (repeat for several); by default those servicekit ships.
        sla: the SLA policies (MODULE:NAME) that explain its clocks.
    """
    names = definitions(workflow, sla)
    out = _stdout()
    with _desk(db, names) as desk:
        events = desk.history(case_id)
        opened = events[0]
        if isinstance(opened, CaseOpened) and names.workflow(opened.workflow) is None:
            msg = (
                f"case {case_id!r} follows workflow {opened.workflow!r}, which was not given "
                f"(given: {names.names}); name it with --workflow MODULE:NAME"
            )
            raise BadInput(msg)
        out.print(f"History of case {case_id}:", markup=False)
        out.print(*(f"  {event}" for event in events), sep="\n", markup=False)
        out.print(f"\nBriefing:\n{desk.briefing(case_id)}", markup=False)
        if names.sla is None:
            out.print("\nSLA: give the policies with --sla MODULE:NAME to explain the clocks.")
        else:
            out.print(f"\n{desk.sla(case_id)}", markup=False)


@app.command
def tick(
    *,
    db: Db,
    every: Annotated[float | None, Parameter(metavar="SECONDS")] = None,
    workflow: Workflows = (),
    sla: Sla = None,
) -> int:
    """Fire the timers that are due, once or every SECONDS until interrupted.

    What a host runs from cron, or as a worker with --every. Each fired timer is
    printed: SLA warnings, breaches, escalations, follow-ups that fell due, and
    resolved cases closed after their follow-up. A case whose timers cannot fire
    is named on stderr and set aside; the others fire (a single tick then exits
    with status 1).

    Args:
        db: the database to serve.
        every: keep ticking, this many seconds apart, until Ctrl-C.
        workflow: a workflow of the cases (repeat for several); by default those servicekit ships.
        sla: the SLA policies (MODULE:NAME) whose timers fire.
    """
    if every is not None and every <= 0:
        msg = f"--every takes a number of seconds above 0, got {every}"
        raise BadInput(msg)
    names = definitions(workflow, sla)
    out = _stdout()
    with _desk(db, names) as desk:
        try:
            return _tick(desk, out, every)
        except KeyboardInterrupt:
            out.print("stopped", markup=False)
            return 0


def _tick(desk: ServiceDesk, out: Console, every: float | None) -> int:
    """Tick once, or every `every` seconds; each case set aside goes to stderr, the rest on."""
    while True:
        report = desk.tick()
        for event in report.events:
            out.print(f"{event.case_id} {event}", markup=False)
        for problem in report.failed:
            _output.problem(f"set aside: {problem}")
        if every is None:
            if not report.fired and not report.failed:
                out.print("nothing was due", markup=False)
            return 1 if report.failed else 0
        out.file.flush()
        time.sleep(every)


@app.command
def report(  # noqa: PLR0913 - every option is keyword-only and optional
    *,
    db: Db,
    since: Annotated[str | None, Parameter(metavar="DATE")] = None,
    until: Annotated[str | None, Parameter(metavar="DATE")] = None,
    by: Literal["agent", "team", "channel"] | None = None,
    html: Annotated[Path | None, Parameter(metavar="OUT")] = None,
    workflow: Workflows = (),
    sla: Sla = None,
) -> None:
    """The KPI report as tables; with --html, also one self-contained page with charts.

    Args:
        db: the database to read.
        since: count the cases opened from this date (2024-07-01, UTC) on.
        until: count what happened before this date.
        by: group the figures by agent, team or channel as well.
        html: write the report as an HTML page to this file.
        workflow: a workflow of the cases (repeat for several); by default those servicekit ships.
        sla: the SLA policies (MODULE:NAME) that SLA attainment is measured on.
    """
    start = parse_day(since, option="--since")
    end = parse_day(until, option="--until")
    if start is not None and end is not None and end <= start:
        msg = f"--until ({until}) must come after --since ({since})"
        raise BadInput(msg)
    names = definitions(workflow, sla)
    with open_database(db) as store:
        stored = store.read_all()
    data = gather(
        stored,
        title=f"KPI report of {db.name}",
        workflows=names.workflows,
        sla=names.sla,
        since=start,
        until=end,
        by=by,
    )
    out = _stdout()
    _print_report(out, data)
    for line in data.set_aside:  # also among the report's notes; stderr for whoever reads it
        _output.problem(line)
    if html is not None:
        html.write_text(render_html(data), encoding="utf-8")
        out.print(f"HTML report: {html}", markup=False)


_SHORT = {
    "first_response_time": "1st resp.",
    "full_resolution_time": "resol.",
    "sla_attainment:first_response": "SLA resp.",
    "sla_attainment:resolution": "SLA resol.",
    "reopen_rate": "reopened",
    "csat": "CSAT",
    "conversion": "conv.",
}
"""Column headings of the group tables, short enough for an 80-column terminal."""


def _print_report(out: Console, data: ReportData) -> None:
    """The report as terminal tables: the headline figures, then per agent (and per group)."""
    table = Table(title=f"{data.title}: {data.cases} cases", title_justify="left")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    table.add_column("counted", justify="right")
    for kpi in HEADLINE:
        value = data.overall.value(kpi)
        if kpi.startswith("sla_attainment:") and value is None:
            continue
        table.add_row(kpi, format_value(kpi, value), str(data.overall.count(kpi)))
    out.print(table)
    for note in data.notes:
        out.print(note, markup=False)
    groups = [("agent", data.by_agent)]
    if data.grouped is not None and data.grouping is not None:
        groups.append((data.grouping, data.grouped))
    for grouping, figures in groups:
        rows = group_rows(figures, grouping)
        table = Table(title=f"By {grouping}", title_justify="left")
        table.add_column(grouping, no_wrap=True)
        for kpi in GROUP_COLUMNS:
            if kpi.startswith("sla_attainment:") and not data.sla_measured:
                continue
            table.add_column(_SHORT.get(kpi, kpi), justify="right", no_wrap=True)
        for name, values in rows:
            table.add_row(
                name,
                *(
                    format_value(kpi, values.get(kpi))
                    for kpi in GROUP_COLUMNS
                    if data.sla_measured or not kpi.startswith("sla_attainment:")
                ),
            )
        out.print(table)
