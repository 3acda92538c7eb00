"""Benchmark the service desk as ratios against baselines measured in the same run.

Run ``python benchmarks/bench_desk.py`` (``--quick`` for a smoke run with small
counts, ``--json PATH`` to also write the numbers). Times are the best of several
repeats (``time.perf_counter``, garbage collector paused as ``timeit`` does). The
set-up, opening up to 100,000 cases through the desk, is done outside the timed
part. The goals are reported, never asserted: the exit code is 0 unless something
crashes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from operator import ge, le

import harness

from servicekit import (
    Agent,
    Case,
    CaseSummary,
    Channel,
    InMemoryStore,
    ManualClock,
    Move,
    OpenCase,
    ServiceDesk,
    Workflow,
    buying_cycle,
    decide,
    evolve,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
START = "in_service"
TRIGGERS = ("wait_on_customer", "resume")
FULL = {"commands": 20_000, "many": 100_000, "few_indexed": 1_000, "per_agent": 100}
FULL |= {"queries": 200, "scans": 3, "repeats": 5}
QUICK = {"commands": 2_000, "many": 2_000, "few_indexed": 200, "per_agent": 20}
QUICK |= {"queries": 100, "scans": 5, "repeats": 3}


class Spread:
    """`count` cases in `in_service` on a desk of their own, each opened by (so owned by) an agent.

    The agents own `per_agent` cases each. `position` counts the commands run so far
    round-robin over the cases, so a case's next command is `wait_on_customer` on even
    rounds and `resume` on odd ones.
    """

    def __init__(self, workflow: Workflow, count: int, per_agent: int) -> None:
        """Register the agents and open the cases through the desk (a `ManualClock`)."""
        self.desk = ServiceDesk(workflow=workflow, store=InMemoryStore(), clock=ManualClock(NOW))
        agents = [Agent(f"agent-{n}", teams={"service"}) for n in range(max(count // per_agent, 1))]
        moves = {
            agent.id: tuple(Move(actor=agent, trigger=t) for t in TRIGGERS) for agent in agents
        }
        for agent in agents:
            self.desk.register_agent(agent)
        self.ids = [f"case-{n}" for n in range(count)]
        owners = [agents[n % len(agents)] for n in range(count)]
        self.owner_ids = [owner.id for owner in owners]
        self.commands = [moves[owner.id] for owner in owners]
        opening = partial(OpenCase, channel=Channel.PHONE, summary="desk wobbles", stage=START)
        self.cases: list[Case] = [
            self.desk.execute(case_id, opening(actor=owner, customer_id=f"cust-{n}")).case
            for n, (case_id, owner) in enumerate(zip(self.ids, owners, strict=True))
        ]
        self.position = 0


def direct(cases: list[Case], commands: list[tuple[Move, ...]], count: int) -> None:
    """The baseline: `count` commands round-robin over `cases`, by decide + evolve in place."""
    size = len(cases)
    for number in range(count):
        index = number % size
        case = cases[index]
        for event in decide(case, commands[index][(number // size) & 1], now=NOW):
            case = evolve(case, event)
        cases[index] = case


def on_desk(spread: Spread, count: int, *, named: bool, desk: ServiceDesk | None = None) -> None:
    """`count` commands round-robin over the spread's cases through a desk, from `position` on.

    `named` calls `desk.wait_on_customer` / `desk.resume` with the owner's id, as a host
    would; otherwise `desk.execute` takes the prebuilt `Move` commands.
    """
    desk = spread.desk if desk is None else desk
    ids, owners, commands, size = spread.ids, spread.owner_ids, spread.commands, len(spread.ids)
    start = spread.position
    if named:
        calls = (desk.wait_on_customer, desk.resume)
        for number in range(start, start + count):
            index = number % size
            calls[(number // size) & 1](ids[index], actor=owners[index])
    else:
        execute = desk.execute
        for number in range(start, start + count):
            index = number % size
            execute(ids[index], commands[index][(number // size) & 1])
    spread.position = start + count


def synced(desk: ServiceDesk, spread: Spread, count: int) -> Callable[[], object]:
    """Bring the desk's cache up to date on the cases the next run will use; return that run."""
    for number in range(spread.position, spread.position + count):
        desk.case(spread.ids[number % len(spread.ids)])
    return partial(on_desk, spread, count, named=False, desk=desk)


def bench_spread(
    workflow: Workflow, sizes: dict[str, int], big: Spread, size: int
) -> dict[str, float]:
    """Goal 1 over `size` cases: microseconds per command, directly and through the desk.

    Small spreads get a fresh desk per repeat, so that one case's history stays at one
    repeat's commands; the big spread is set up once and carries on where it stopped.
    There, for reference, a second desk on the same store runs with every case it is
    about to use cached and up to date.
    """
    count = sizes["commands"]
    reference = big if size == len(big.ids) else Spread(workflow, size, sizes["per_agent"])

    def spread() -> Spread:
        """The spread a desk run starts from."""
        return reference if reference is big else Spread(workflow, size, sizes["per_agent"])

    prepares: dict[str, harness.Prepare] = {
        "direct": lambda: partial(direct, list(reference.cases), reference.commands, count),
        "named": lambda: partial(on_desk, spread(), count, named=True),
        "execute": lambda: partial(on_desk, spread(), count, named=False),
    }
    if reference is big:
        desk = big.desk
        cached = ServiceDesk(workflow=workflow, store=desk.store, clock=desk.clock, cache_size=size)
        prepares["cached"] = partial(synced, cached, big, count)
    best = harness.best_of_turns(sizes["repeats"], prepares)
    return {f"{name}_us_{size}": seconds * 1e6 / count for name, seconds in best.items()}


def scan_owned(desk: ServiceDesk, agent_id: str) -> list[CaseSummary]:
    """The baseline: every index entry from the store, kept when the agent owns the case."""
    return [s for s in desk.store.find_cases() if s.owner_id == agent_id]


def query(ask: Callable[[str], list[CaseSummary]], agent_ids: list[str]) -> None:
    """Ask for the cases of each agent in turn."""
    for agent_id in agent_ids:
        ask(agent_id)


def bench_index(sizes: dict[str, int], spread: Spread, owners: list[str]) -> dict[str, float]:
    """Goal 2 on one spread: microseconds per "cases owned by X", indexed and by a scan.

    The goal's queries ask for the same `owners` at every size; for reference, they
    also go round all the spread's agents (more of them, so fewer CPU cache hits).
    """
    desk, size, per_agent = spread.desk, len(spread.ids), sizes["per_agent"]
    everyone = sorted(set(spread.owner_ids))
    if any(len(desk.cases_owned_by(agent_id)) != per_agent for agent_id in owners) or any(
        desk.cases_owned_by(agent_id) != scan_owned(desk, agent_id) for agent_id in owners[:2]
    ):
        msg = f"the index and the scan disagree on whose cases are whose, among {size:,}"
        raise RuntimeError(msg)
    queries, scans = sizes["queries"], sizes["scans"]
    asked = [owners[n % len(owners)] for n in range(queries)]
    around = [everyone[n % len(everyone)] for n in range(queries)]
    indexed = partial(query, desk.cases_owned_by, asked)
    spread_out = partial(query, desk.cases_owned_by, around)
    scanned = partial(query, partial(scan_owned, desk), asked[:scans])
    best = harness.best_of_turns(
        sizes["repeats"],
        {"indexed": lambda: indexed, "around": lambda: spread_out, "scan": lambda: scanned},
    )
    return {
        f"indexed_us_{size}": best["indexed"] * 1e6 / queries,
        f"around_us_{size}": best["around"] * 1e6 / queries,
        f"scan_us_{size}": best["scan"] * 1e6 / scans,
    }


SECTIONS: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "1. wait_on_customer / resume by the owner, round-robin ({commands:,} commands per repeat)",
        "spreads",
        (
            ("decide + evolve directly (Move built once)", "direct_us_{}", "us"),
            ("desk.execute(case_id, Move built once)", "execute_us_{}", "us"),
            ("desk.wait_on_customer / desk.resume (actor by id)", "named_us_{}", "us"),
            ("ratio desk.execute / direct (goal <= 3 in every column)", "execute_ratio_{}", "x"),
            ("ratio named methods / direct", "named_ratio_{}", "x"),
            ("for reference: desk.execute, every case it uses cached", "cached_us_{}", "us"),
            ("for reference: ratio cached desk.execute / direct", "cached_ratio_{}", "x"),
        ),
    ),
    (
        '2. "Cases owned by X" ({per_agent:,} cases per agent at every size)',
        "stores",
        (
            ("desk.cases_owned_by(agent_id)", "indexed_us_{}", "us"),
            ("scan: [s for s in store.find_cases() if s.owner_id == X]", "scan_us_{}", "us"),
            ("ratio scan / indexed (goal >= 10 at the largest size)", "scan_ratio_{}", "x"),
            ("ratio indexed here / at the smallest size (goal <= 3)", "growth_ratio_{}", "x"),
            ("for reference: cases_owned_by, going round all agents", "around_us_{}", "us"),
        ),
    ),
)
"""The printed table: per section a heading, its columns, then (label, key, unit) rows."""

GOALS = (
    harness.Goal(
        "goal 1 desk.execute at most 3x direct decide+evolve (worst spread)", "goal1_ratio", le, 3
    ),
    harness.Goal(
        "goal 2a cases_owned_by at least 10x faster than a full scan", "goal2a_ratio", ge, 10
    ),
    harness.Goal(
        "goal 2b cases_owned_by at the largest size within 3x the smallest", "goal2b_ratio", le, 3
    ),
)
"""Each goal: its summary text, the ratio it reads, and how that ratio must compare to a limit."""


def report(results: dict[str, float], sizes: dict[str, int], mode: str) -> list[str]:
    """Add the ratios to `results`; return the table, ending with one summary line per goal."""
    r, many, few = results, sizes["many"], sizes["few_indexed"]
    columns = {"spreads": (1, 10, many), "stores": (few, many)}
    for size in columns["spreads"]:
        for name in ("execute", "named", "cached"):
            if f"{name}_us_{size}" in r:
                r[f"{name}_ratio_{size}"] = r[f"{name}_us_{size}"] / r[f"direct_us_{size}"]
    for size in columns["stores"]:
        r[f"scan_ratio_{size}"] = r[f"scan_us_{size}"] / r[f"indexed_us_{size}"]
    r[f"growth_ratio_{many}"] = r[f"indexed_us_{many}"] / r[f"indexed_us_{few}"]
    r["goal1_ratio"] = max(r[f"execute_ratio_{size}"] for size in columns["spreads"])
    r["goal2a_ratio"], r["goal2b_ratio"] = r[f"scan_ratio_{many}"], r[f"growth_ratio_{many}"]
    setting = ", InMemoryStore, ManualClock; times per item"
    lines = [harness.title("desk", mode, sizes["repeats"], setting)]
    for heading, kind, rows in SECTIONS:
        sized = columns[kind]
        titles = "".join(f"{f'{size:,} case' + 's' * (size > 1):>15}" for size in sized)
        lines += ["", heading.format(**sizes), f"   {'':<58}{titles}"]
        for label, key, unit in rows:
            values = [r.get(key.format(size)) for size in sized]
            cells = [f"{'-':>15}" if v is None else f"{v:>12,.2f} {unit:<2}" for v in values]
            lines.append(f"   {label:<58}{''.join(cells)}".rstrip())
    return lines + harness.summary(GOALS, r, sizes)


def main(argv: Sequence[str] | None = None) -> int:
    """Set the cases up, run every benchmark, print the table, and write JSON when asked."""
    options = harness.parse_options(__doc__, argv, full=FULL, quick=QUICK)
    sizes, workflow = options.sizes, buying_cycle()
    big = Spread(workflow, sizes["many"], sizes["per_agent"])
    results: dict[str, float] = {}
    for size in (1, 10, sizes["many"]):
        results |= bench_spread(workflow, sizes, big, size)
    few = Spread(workflow, sizes["few_indexed"], sizes["per_agent"])
    owners = sorted(set(few.owner_ids))
    results |= bench_index(sizes, few, owners) | bench_index(sizes, big, owners)
    lines = report(results, sizes, options.mode)
    harness.publish(options, lines, results, GOALS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
