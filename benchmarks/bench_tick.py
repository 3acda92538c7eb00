"""Benchmark ticks and SLA upkeep as ratios against baselines measured in the same run.

Run ``python benchmarks/bench_tick.py`` (``--quick`` for a smoke run with small
counts, ``--json PATH`` to also write the numbers). Times are the best of several
repeats (``time.perf_counter``, garbage collector paused as ``timeit`` does).

Three costs must not grow with what a desk holds (the goals of issue 10):

- **Open cases.** A tick should cost what its due cases cost, not what all the open
  cases cost: the desk reads the due ones from the store's index (`Store.find_due`).
  So each scenario builds a desk with `many` open cases and one with `few`, the same
  `due` cases of each due at the tick's moment with histories alike, and the goal
  compares the tick at the two sizes. The scenarios: follow-ups falling due (no
  SLA), and SLA clocks breached long ago (a breach, its warning skipped, then three
  escalations, per due case). Every other case has a timer of its own in the
  future, so it sits in the due index.
- **The agent directory.** The SLA scenario's tick with `few` open cases, once with
  a directory of `agents_few` agents and once with `agents_many` (the extra agents in
  teams of ten of their own): a breach finds its supervisors through the store's
  team index (`Store.agents_in_team`), not by reading every agent.
- **History.** With SLA on, a command (the owner's outbound answer) on cases with
  `history_few` events and on cases with `history_many`, on a warm desk: the desk
  keeps each case's `SlaTracker` beside the cached case and folds only the new events.

A tick fires each timer once, so a timed tick uses up the state it ran on. Every
timed tick therefore runs on a fresh copy of the store, made untimed through the
`Store` protocol (the events are immutable and shared; the copy's lists, index and
due index are its own), through a fresh desk with an empty cache, as a scheduler
process ticking would be. Before the timing, one tick on a copy at each size checks
that it fires exactly the due cases, and that a second tick fires nothing. Building
the cases through the desk, up to 100,000 per scenario, is done outside the timed
part. The goals are reported, never asserted: the exit code is 0 unless something
crashes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from operator import le

import harness

from servicekit import (
    Agent,
    BusinessCalendar,
    Channel,
    Customer,
    Direction,
    InMemoryStore,
    ManualClock,
    OpenCase,
    Role,
    ServiceDesk,
    Workflow,
    buying_cycle,
)
from servicekit.sla import Metric, Policy, PolicySet, Target

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""When the cases that are not due are opened: a Monday, 10:00 in Berlin."""
EARLY = timedelta(days=14)
"""How long before `NOW` the due cases are opened."""
MOMENT = NOW + timedelta(hours=2)
"""When the timed tick runs: the due cases' timers have fallen due, nobody else's."""
START = "in_service"
BERLIN = BusinessCalendar(
    timezone="Europe/Berlin",
    hours={day: [("09:00", "17:30")] for day in ("mon", "tue", "wed", "thu", "fri")},
)
POLICIES = PolicySet(
    [
        Policy(
            name="standard",
            version=1,
            calendar=BERLIN,
            targets=[Target(Metric.FIRST_RESPONSE, "4h"), Target(Metric.RESOLUTION, "2bd")],
        )
    ]
)
LEAD = Agent("lead", teams={"service"}, roles={Role.SUPERVISOR})
"""The supervisor a breach escalates to at level 2."""
FULL = {"many": 100_000, "few": 1_000, "due": 100, "per_agent": 100, "lookups": 1_000}
FULL |= {"agents_few": 10, "agents_many": 1_000}
FULL |= {"history_few": 10, "history_many": 1_000, "history_cases": 20, "repeats": 5}
QUICK = {"many": 2_000, "few": 1_000, "due": 100, "per_agent": 100, "lookups": 1_000}
QUICK |= {"agents_few": 10, "agents_many": 200}
QUICK |= {"history_few": 10, "history_many": 200, "history_cases": 5, "repeats": 3}


@dataclass(frozen=True)
class Scenario:
    """How cases fall due: by follow-ups, or by SLA clocks."""

    key: str
    """The prefix of the scenario's keys in the results."""
    heading: str
    """The table section's heading (a format string over the sizes)."""
    sla: PolicySet | None
    """The desk's SLA policies; None: the cases fall due by follow-ups instead."""


SCENARIOS = (
    Scenario(
        "follow_ups",
        "1. Follow-ups, no SLA: {due} cases have one due at the tick, every other case one "
        "due in 30 days",
        None,
    ),
    Scenario(
        "sla",
        "2. SLA (resolution in 2 business days): {due} cases opened 14 days before the tick, "
        "the others 2 hours before",
        POLICIES,
    ),
)


class Built:
    """A scenario's desk with `count` open cases in `in_service`, `due` of them due at `MOMENT`.

    Agents own `per_agent` cases each (each opened the cases they own), and one
    supervisor is registered. The due cases are spread evenly over the case ids and
    opened `EARLY`, before the others; in the follow-up scenario every case then gets
    a follow-up for its owner, due an hour after `NOW` for the due cases and 30 days
    after it for the others.
    """

    def __init__(
        self,
        workflow: Workflow,
        scenario: Scenario,
        count: int,
        sizes: dict[str, int],
        *,
        directory: int = 0,
    ) -> None:
        """Register the agents and open the cases through the desk (a `ManualClock`).

        With `directory`, agents who own no case, in teams of ten of their own, fill
        the directory up to that many agents.
        """
        self.scenario, self.count, self.directory = scenario, count, directory
        self.clock = ManualClock(NOW - EARLY)
        self.store = InMemoryStore()
        self.desk = ServiceDesk(
            workflow=workflow, store=self.store, clock=self.clock, sla=scenario.sla
        )
        agents = [
            Agent(f"agent-{n:05d}", teams={"service"})
            for n in range(max(count // sizes["per_agent"], 1))
        ]
        padding = [
            Agent(f"other-{n:05d}", teams={f"team-{n // 10}"}, roles=_roles(n))
            for n in range(max(directory - len(agents) - 1, 0))
        ]
        for agent in [*agents, LEAD, *padding]:
            self.desk.register_agent(agent)
        ids = [f"case-{n:06d}" for n in range(count)]
        self.due_ids = ids[:: count // sizes["due"]][: sizes["due"]]
        due = set(self.due_ids)
        opening = partial(OpenCase, channel=Channel.PHONE, summary="printer jams", stage=START)
        for number, case_id in enumerate([*self.due_ids, *(i for i in ids if i not in due)]):
            if number == len(self.due_ids):
                self.clock.advance(EARLY)
            owner = agents[number % len(agents)]
            self.desk.execute(case_id, opening(actor=owner, customer_id=f"cust-{number}"))
            if scenario.sla is None:
                later = timedelta(hours=1) if case_id in due else timedelta(days=30)
                self.desk.schedule_follow_up(case_id, actor=owner, due=NOW + later, reason="call")

    def fresh_desk(self, store: InMemoryStore | None = None) -> ServiceDesk:
        """A new desk, its cache empty, on `store` (this one's by default)."""
        return ServiceDesk(
            workflow=self.desk.workflow,
            store=self.store if store is None else store,
            clock=self.clock,
            sla=self.scenario.sla,
        )


def _roles(number: int) -> set[Role]:
    """Every tenth padding agent supervises their team."""
    return {Role.SUPERVISOR} if number % 10 == 0 else {Role.AGENT}


class History:
    """A warm desk with SLA on and `cases` cases of `length` events each, owned by one agent.

    Each case is opened by its owner, then the customer writes and the owner answers
    in turn, a minute apart, until the history is `length` events long.
    """

    def __init__(self, length: int, cases: int) -> None:
        """Build the cases through the desk."""
        self.length = length
        self.clock = ManualClock(NOW)
        self.desk = ServiceDesk(workflow=buying_cycle(), clock=self.clock, sla=POLICIES)
        self.owner = self.desk.register_agent(Agent("owner", teams={"service"}))
        self.desk.register_agent(LEAD)
        self.ids = [f"h{length}-{n:03d}" for n in range(cases)]
        customer = Customer("cust")
        for case_id in self.ids:
            self.desk.execute(
                case_id,
                OpenCase(
                    actor=self.owner,
                    customer_id=customer.id,
                    channel=Channel.EMAIL,
                    summary="printer jams",
                    stage=START,
                ),
            )
            writer: Customer | Agent = customer
            while len(self.desk.history(case_id)) < length:
                self.clock.advance(timedelta(minutes=1))
                direction = Direction.INBOUND if writer is customer else Direction.OUTBOUND
                self.desk.record_interaction(
                    case_id, actor=writer, channel=Channel.EMAIL, direction=direction, summary="x"
                )
                writer = self.owner if writer is customer else customer

    def answering(self) -> Callable[[], object]:
        """Untimed: a minute on; return one outbound answer by the owner on each case."""
        self.clock.advance(timedelta(minutes=1))
        return partial(repeat_over, self.desk, self.owner, self.ids)


def repeat_over(desk: ServiceDesk, owner: Agent, ids: Sequence[str]) -> None:
    """The owner answers once on each case."""
    for case_id in ids:
        desk.record_interaction(
            case_id, actor=owner, channel=Channel.EMAIL, direction=Direction.OUTBOUND, summary="y"
        )


def copy_store(source: InMemoryStore) -> InMemoryStore:
    """A store in the state of `source` (agents, events, index), written through `Store`.

    The events are immutable, so the copy shares them. The cases go in by due
    time, earliest first, so that each lands at the end of the copy's due index.
    (No idempotency keys or checkpoints: the benchmark's stores have none.)
    """
    copy = InMemoryStore()
    for agent in source.agents():
        copy.put_agent(agent)
    untimed = [summary for summary in source.find_cases() if summary.next_due is None]
    for summary in [*source.find_due(), *untimed]:
        events = source.load(summary.case_id).events
        copy.append(summary.case_id, events, expected_version=0, summary=summary)
    return copy


def check(built: Built) -> int:
    """Tick once on a copy: exactly the due cases fire, then nothing; return the outcomes."""
    where = f"{built.scenario.key} with {built.count:,} cases, {built.directory:,} agents"
    copy = copy_store(built.store)
    if copy.find_due() != built.store.find_due():
        msg = f"{where}: the copy of the store has another due index than the original"
        raise RuntimeError(msg)
    if [s.case_id for s in built.store.find_due(until=MOMENT)] != built.due_ids:
        msg = f"{where}: the cases due at the tick are not the {len(built.due_ids)} meant"
        raise RuntimeError(msg)
    desk = built.fresh_desk(copy)
    fired = desk.tick(MOMENT)
    if fired.failed or {outcome.case.case_id for outcome in fired} != set(built.due_ids):
        msg = f"{where}: the tick fired other cases than the due ones"
        raise RuntimeError(msg)
    if desk.tick(MOMENT) or copy.find_due(until=MOMENT):
        msg = f"{where}: a second tick at the same moment found timers to fire"
        raise RuntimeError(msg)
    return len(fired)


def ticking(built: Built) -> Callable[[], object]:
    """Untimed: a fresh copy of the store and a fresh desk on it; return its tick at `MOMENT`."""
    return partial(built.fresh_desk(copy_store(built.store)).tick, MOMENT)


def repeat(ask: Callable[[], object], count: int) -> None:
    """Call `ask` `count` times."""
    for _ in range(count):
        ask()


def bench(
    builts: Sequence[Built], histories: Sequence[History], sizes: dict[str, int]
) -> dict[str, float]:
    """Time each desk's tick, its `next_due`, a tick with nothing due, and the commands; in turns.

    The tick with nothing due runs at a second before the earliest due time, on the
    built store itself (it changes nothing there).
    """
    lookups, due = sizes["lookups"], sizes["due"]
    outcomes = {built: check(built) for built in builts}
    prepares: dict[str, harness.Prepare] = {}
    for built in builts:
        name = f"{built.scenario.key}_{{}}_{built.count}_{built.directory}"
        desk = built.fresh_desk()
        earliest = desk.next_due()
        if earliest is None:
            msg = f"{name.format('desk')}: no case has a timer"
            raise RuntimeError(msg)
        quiet = partial(desk.tick, earliest - timedelta(seconds=1))
        prepares[name.format("tick")] = partial(ticking, built)
        prepares[name.format("next_due")] = partial(partial, repeat, desk.next_due, lookups)
        prepares[name.format("idle")] = partial(partial, repeat, quiet, lookups)
    for history in histories:
        prepares[f"command_{history.length}"] = history.answering
    best = harness.best_of_turns(sizes["repeats"], prepares)
    results: dict[str, float] = {}
    for built in builts:
        name = f"{built.scenario.key}_{{}}_{built.count}_{built.directory}"
        tick, fired = best[name.format("tick")], outcomes[built]
        results[name.format("tick_ms")] = tick * 1e3
        results[name.format("case_us")] = tick * 1e6 / due
        results[name.format("fire_us")] = tick * 1e6 / fired
        results[name.format("outcomes")] = fired
        results[name.format("next_due_us")] = best[name.format("next_due")] * 1e6 / lookups
        results[name.format("idle_us")] = best[name.format("idle")] * 1e6 / lookups
    for history in histories:
        per = best[f"command_{history.length}"] * 1e6 / len(history.ids)
        results[f"command_us_{history.length}"] = per
    return results


ROWS = (
    ("desk.tick(now), firing every due case", "tick_ms_{}", "ms"),
    ("per due case", "case_us_{}", "us"),
    ("per outcome (one append of fired timers; {per} per due case)", "fire_us_{}", "us"),
    ("ratio tick here / with {few:,} cases (goal <= 1.3)", "tick_ratio_{}", "x"),
    ("desk.next_due()", "next_due_us_{}", "us"),
    ("ratio next_due here / with {few:,} cases", "next_due_ratio_{}", "x"),
    ("for reference: desk.tick(now) with nothing due", "idle_us_{}", "us"),
)
"""Each scenario's rows: label (a format string), key in the results (per size), unit."""

GOALS = (
    harness.Goal(
        "goal tick with {many:,} open cases at most 1.3x the cost with {few:,} (worst scenario)",
        "goal_cases",
        le,
        1.3,
    ),
    harness.Goal(
        "goal SLA tick with {agents_many:,} agents at most 1.3x the cost with {agents_few:,}",
        "goal_directory",
        le,
        1.3,
    ),
    harness.Goal(
        "goal SLA command at {history_many:,} events at most 1.5x the cost at {history_few:,}",
        "goal_history",
        le,
        1.5,
    ),
)
"""The goals: summary text, the ratio each reads, and how that ratio must compare."""


def report(results: dict[str, float], sizes: dict[str, int], mode: str) -> list[str]:
    """Add the ratios to `results`; return the table, ending with the goals' summary lines."""
    r, many, few = results, sizes["many"], sizes["few"]
    # The directory of a scenario's desk: the owners and the supervisor.
    base = {size: max(size // sizes["per_agent"], 1) + 1 for size in (few, many)}
    for scenario in SCENARIOS:
        for name, unit in (("tick", "ms"), ("next_due", "us")):
            measured = f"{scenario.key}_{name}_{unit}_{{}}_0"
            ratio = r[measured.format(many)] / r[measured.format(few)]
            r[f"{scenario.key}_{name}_ratio_{many}_0"] = ratio
    r["goal_cases"] = max(r[f"{scenario.key}_tick_ratio_{many}_0"] for scenario in SCENARIOS)
    r["goal_directory"] = r[f"sla_tick_ms_{few}_{sizes['agents_many']}"] / r[f"sla_tick_ms_{few}_0"]
    r["goal_history"] = (
        r[f"command_us_{sizes['history_many']}"] / r[f"command_us_{sizes['history_few']}"]
    )
    setting = (
        f", InMemoryStore, ManualClock; {sizes['due']} cases due per tick, each timed tick "
        "on a fresh copy of the store and a fresh desk"
    )
    lines = [harness.title("tick", mode, sizes["repeats"], setting)]
    titles = "".join(f"{f'{size:,} cases':>15}" for size in (few, many))
    for scenario in SCENARIOS:
        per = r[f"{scenario.key}_outcomes_{many}_0"] / sizes["due"]
        lines += ["", scenario.heading.format(**sizes), f"   {'':<62}{titles}"]
        for label, key, unit in ROWS:
            values = [r.get(f"{scenario.key}_{key.format(size)}_0") for size in (few, many)]
            cells = [f"{'-':>15}" if v is None else f"{v:>12,.2f} {unit:<2}" for v in values]
            text = label.format(per=f"{per:g}", **sizes)
            lines.append(f"   {text:<62}{''.join(cells)}".rstrip())
    agents_many = sizes["agents_many"]
    lines += [
        "",
        f"3. The agent directory: scenario 2's tick with {few:,} open cases",
        harness.row(
            f"with {base[few]} agents (the owners and a supervisor)",
            r[f"sla_tick_ms_{few}_0"],
            "ms",
            62,
        ),
        harness.row(
            f"with {agents_many:,} agents (teams of ten)",
            r[f"sla_tick_ms_{few}_{agents_many}"],
            "ms",
            62,
        ),
        harness.row("ratio (goal <= 1.3)", r["goal_directory"], "x", 62),
        "",
        f"4. History, SLA on: the owner's answer on {sizes['history_cases']} cases, warm desk",
        *(
            harness.row(f"per command at {length:,} events", r[f"command_us_{length}"], "us", 62)
            for length in (sizes["history_few"], sizes["history_many"])
        ),
        harness.row("ratio (goal <= 1.5)", r["goal_history"], "x", 62),
    ]
    return lines + harness.summary(GOALS, r, sizes)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the desks, check and time their ticks, print the table, and write JSON when asked."""
    options = harness.parse_options(__doc__, argv, full=FULL, quick=QUICK)
    sizes, workflow = options.sizes, buying_cycle()
    builts = [
        Built(workflow, scenario, count, sizes)
        for scenario in SCENARIOS
        for count in (sizes["few"], sizes["many"])
    ]
    builts.append(
        Built(workflow, SCENARIOS[1], sizes["few"], sizes, directory=sizes["agents_many"])
    )
    histories = [
        History(length, sizes["history_cases"])
        for length in (sizes["history_few"], sizes["history_many"])
    ]
    results = bench(builts, histories, sizes)
    lines = report(results, sizes, options.mode)
    harness.publish(options, lines, results, GOALS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
