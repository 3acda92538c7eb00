"""Benchmark servicekit's pure core as ratios against baselines measured in the same run.

Run ``python benchmarks/bench_domain.py`` (``--quick`` for a smoke run with small
counts, ``--json PATH`` to also write the numbers). Times are the best of several
repeats of a loop (``time.perf_counter``, garbage collector paused as ``timeit``
does), so a shared, noisy machine disturbs the ratios as little as possible. The
goals are reported, never asserted: the exit code is 0 unless something crashes.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from importlib.metadata import version
from operator import ge, le

import harness
from transitions import Machine

from servicekit import (
    Agent,
    Case,
    Channel,
    Event,
    Move,
    OpenCase,
    Stage,
    StatusCategory,
    Transition,
    Workflow,
    buying_cycle,
    decide,
    evolve,
    replay,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENT = Agent("ana", teams={"service"})
TRIGGERS = ("wait_on_customer", "resume")
START = "in_service"
FULL = {"moves": 20_000, "cases": 2_000, "memory": 10_000, "build": 100_000, "repeats": 7}
FULL |= {"paths": 3_000}
QUICK = {"moves": 500, "cases": 100, "memory": 500, "build": 2_000, "repeats": 3, "paths": 100}
PATH = tuple(f"step_{number}" for number in range(1, 7))
"""The six triggers of the linear workflow, the last one into its final stage."""
OPEN = OpenCase(
    actor=AGENT, customer_id="cust-1", channel=Channel.PHONE, summary="desk wobbles", stage=START
)
MOVES = (Move(actor=AGENT, trigger=TRIGGERS[0]), Move(actor=AGENT, trigger=TRIGGERS[1]))
History = list[tuple[str, int, datetime, Agent, str, str, str]]


class Ticket:
    """The naive `transitions` model: one object per case, with its own `Machine`."""

    state: str


def traced_bytes(build: Callable[[], object]) -> int:
    """The bytes still allocated (per tracemalloc) by what `build` returns, while it is held."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del kept
    return held


def open_case(workflow: Workflow, case_id: str) -> Case:
    """A case opened in `in_service` by an agent, who owns it: decide OpenCase, fold its events."""
    case = Case(workflow, case_id)
    for event in decide(case, OPEN, now=NOW):
        case = evolve(case, event)
    return case


def servicekit_moves(case: Case, count: int) -> Case:
    """Decide and fold `count` moves, alternately waiting on the customer and resuming."""
    for number in range(count):
        for event in decide(case, MOVES[number & 1], now=NOW):
            case = evolve(case, event)
    return case


def table_moves(table: dict[tuple[str, str], str], count: int) -> History:
    """The hand-written baseline: a dict lookup per move, plus a history tuple appended."""
    stage, version_, history = START, 4, []
    for number in range(count):
        trigger = TRIGGERS[number & 1]
        dest = table[stage, trigger]
        version_ += 1
        history.append(("case-1", version_, NOW, AGENT, trigger, stage, dest))
        stage = dest
    return history


def bind_machine(workflow: Workflow) -> Ticket:
    """A new `Ticket` bound to its own `Machine` with the workflow's topology (no guards)."""
    ticket = Ticket()
    Machine(
        model=ticket,
        states=[stage.name for stage in workflow.stages],
        transitions=[
            {"trigger": t.trigger, "source": list(t.source), "dest": t.dest}
            for t in workflow.transitions
        ],
        initial=START,
        auto_transitions=False,
    )
    return ticket


def machine_moves(ticket: Ticket, count: int) -> Ticket:
    """Fire `count` trigger methods on a bound ticket, alternately."""
    fire = (getattr(ticket, TRIGGERS[0]), getattr(ticket, TRIGGERS[1]))
    for number in range(count):
        fire[number & 1]()
    return ticket


def linear_workflow() -> Workflow:
    """Six linear triggers, from an intake stage through five open ones into a final stage."""
    names = ["s0", "s1", "s2", "s3", "s4", "s5", "done"]
    stages = [Stage("s0", StatusCategory.NEW)]
    stages += [Stage(name, StatusCategory.OPEN) for name in names[1:-1]]
    stages.append(Stage("done", StatusCategory.CLOSED))
    transitions = [
        Transition(trigger, source, dest)
        for trigger, source, dest in zip(PATH, names, names[1:], strict=False)
    ]
    return Workflow(name="linear", stages=stages, transitions=transitions, start=["s0"])


def path_servicekit(opened: Case, moves: Sequence[Move], count: int) -> list[Event]:
    """`count` times, the owner decides and folds every move of the path, keeping the events."""
    history: list[Event] = []
    for _ in range(count):
        case, history = opened, []
        for move in moves:
            events = decide(case, move, now=NOW)
            for event in events:
                case = evolve(case, event)
            history.extend(events)
    return history


def path_table(table: dict[tuple[str, str], str], count: int) -> History:
    """The hand-written baseline over the same path: a dict lookup and a history tuple a move."""
    history: History = []
    for _ in range(count):
        stage, version_, history = "s0", 4, []
        for trigger in PATH:
            dest = table[stage, trigger]
            version_ += 1
            history.append(("case-1", version_, NOW, AGENT, trigger, stage, dest))
            stage = dest
    return history


def path_machine(workflow: Workflow, count: int) -> str:
    """Over the same path, a `Machine` built for the case on every command, then fired."""
    states = [stage.name for stage in workflow.stages]
    transitions = [
        {"trigger": t.trigger, "source": list(t.source), "dest": t.dest}
        for t in workflow.transitions
    ]
    state = "s0"
    for _ in range(count):
        state = "s0"
        for trigger in PATH:
            ticket = Ticket()
            Machine(
                model=ticket,
                states=states,
                transitions=transitions,
                initial=state,
                auto_transitions=False,
            )
            getattr(ticket, trigger)()
            state = ticket.state
    return state


def bench_path(_workflow: Workflow, sizes: dict[str, int]) -> dict[str, float]:
    """Goals 1 and 2: microseconds per move over every trigger of a linear path, final included."""
    count, repeats = sizes["paths"], sizes["repeats"]
    workflow = linear_workflow()
    opened = Case(workflow, "case-1")
    owner_opens = OpenCase(actor=AGENT, customer_id="cust-1", channel=Channel.PHONE, summary="s")
    for event in decide(opened, owner_opens, now=NOW):
        opened = evolve(opened, event)
    moves = [Move(actor=AGENT, trigger=trigger) for trigger in PATH]
    table = {(source, t.trigger): t.dest for t in workflow.transitions for source in t.source}
    ends = {
        path_servicekit(opened, moves, 1)[-1].dest,  # type: ignore[union-attr]
        path_table(table, 1)[-1][-1],
        path_machine(workflow, 1),
    }
    if ends != {"done"}:
        msg = f"the three implementations disagree at the end of the path: {ends}"
        raise RuntimeError(msg)
    scale, best = 1e6 / (count * len(PATH)), partial(harness.best_of, repeats)
    results = {
        "path_servicekit_us": best(lambda: path_servicekit(opened, moves, count)) * scale,
        "path_table_us": best(lambda: path_table(table, count)) * scale,
        "path_machine_us": best(lambda: path_machine(workflow, count)) * scale,
    }
    # The move into the final stage on its own: it used to leave the short path.
    before_final = opened
    for move in moves[:-1]:
        for event in decide(before_final, move, now=NOW):
            before_final = evolve(before_final, event)

    def final_moves() -> None:
        for _ in range(count):
            for event in decide(before_final, moves[-1], now=NOW):
                evolve(before_final, event)

    results["final_move_us"] = best(final_moves) * 1e6 / count
    return results


def bench_moves(workflow: Workflow, sizes: dict[str, int]) -> dict[str, float]:
    """Goal 1 (and a reference for goal 2): microseconds per move on a case that exists."""
    count, repeats = sizes["moves"], sizes["repeats"]
    table = {(source, t.trigger): t.dest for t in workflow.transitions for source in t.source}
    case, ticket = open_case(workflow, "case-1"), bind_machine(workflow)
    stages = {
        servicekit_moves(case, 3).stage,
        table_moves(table, 3)[-1][-1],
        machine_moves(bind_machine(workflow), 3).state,
    }
    if stages != {"waiting_on_customer"}:
        msg = f"the three implementations disagree after three moves: {stages}"
        raise RuntimeError(msg)
    scale, best = 1e6 / count, partial(harness.best_of, repeats)
    return {
        "servicekit_us_per_move": best(lambda: servicekit_moves(case, count)) * scale,
        "table_us_per_move": best(lambda: table_moves(table, count)) * scale,
        "machine_us_per_move": best(lambda: machine_moves(ticket, count)) * scale,
        "move_command_us": scale
        * best(lambda: [Move(actor=AGENT, trigger="resume") for _ in range(count)]),
    }


def bench_new_cases(workflow: Workflow, sizes: dict[str, int]) -> dict[str, float]:
    """Goal 2: microseconds to bind a Machine to a case and move it once.

    Also servicekit's nearest equivalents: open or replay a case, then move it.
    """
    count, repeats = sizes["cases"], sizes["repeats"]
    ids = [f"case-{number}" for number in range(count)]
    histories = [decide(Case(workflow, case_id), OPEN, now=NOW) for case_id in ids]

    def opened() -> None:
        for case_id in ids:
            servicekit_moves(open_case(workflow, case_id), 1)

    def replayed() -> None:
        for history in histories:
            servicekit_moves(replay(workflow, history), 1)

    def machines() -> None:
        for _ in ids:
            machine_moves(bind_machine(workflow), 1)

    scale = 1e6 / count
    return {
        "open_us": harness.best_of(repeats, opened) * scale,
        "replay_us": harness.best_of(repeats, replayed) * scale,
        "machine_us": harness.best_of(repeats, machines) * scale,
    }


def bench_memory(workflow: Workflow, sizes: dict[str, int]) -> dict[str, float]:
    """Bytes held per opened case, per `StageChanged` event, and per case with its own Machine."""
    count = sizes["memory"]
    machines = max(count // 10, 10)
    case = open_case(workflow, "case-1")

    def events() -> list[Event]:
        held: list[Event] = []
        current = case
        for number in range(count):
            decided = decide(current, MOVES[number & 1], now=NOW + timedelta(seconds=number))
            for event in decided:
                current = evolve(current, event)
            held.extend(decided)
        return held

    cases = traced_bytes(lambda: [open_case(workflow, f"case-{n}") for n in range(count)])
    return {
        "bytes_per_case": cases / count,
        "bytes_per_event": traced_bytes(events) / count,
        "machine_bytes": traced_bytes(lambda: [bind_machine(workflow) for _ in range(machines)])
        / machines,
        "machine_cases_measured": machines,
    }


def bench_build(workflow: Workflow, sizes: dict[str, int]) -> dict[str, float]:
    """Seconds to open `sizes["build"]` cases on one workflow and keep them (one run, GC on)."""
    count = sizes["build"]
    start = time.perf_counter()
    cases = [open_case(workflow, f"case-{number}") for number in range(count)]
    seconds = time.perf_counter() - start
    return {
        "build_cases": len(cases),
        "build_s": seconds,
        "build_us_per_case": seconds * 1e6 / count,
    }


SECTIONS: tuple[harness.Section, ...] = (
    (
        (
            "0. Every trigger of a linear six-trigger path, the last into a final stage "
            "({paths:,} paths per repeat; the owner acts; events kept)"
        ),
        (
            ("servicekit decide + evolve, per move", "path_servicekit_us", "us"),
            ("hand-written {(stage, trigger): dest} + history tuple", "path_table_us", "us"),
            ("ratio servicekit / hand-written (goal <= 10)", "goal1_ratio", "x"),
            ("transitions Machine built per command + trigger", "path_machine_us", "us"),
            ("ratio Machine per command / servicekit (goal >= 20)", "goal2_ratio", "x"),
            ("for reference: servicekit, the move into the final stage", "final_move_us", "us"),
        ),
    ),
    (
        "1. One stage transition, in_service <-> waiting_on_customer ({moves:,} moves per repeat)",
        (
            ("servicekit decide + evolve (Move built once)", "servicekit_us_per_move", "us"),
            ("hand-written {(stage, trigger): dest} + history tuple", "table_us_per_move", "us"),
            ("ratio servicekit / hand-written", "moves_ratio", "x"),
            ("for reference: building one Move command", "move_command_us", "us"),
            ("for reference: transitions trigger, bound model", "machine_us_per_move", "us"),
            ("for reference: ratio transitions / servicekit, bound case", "bound_ratio", "x"),
        ),
    ),
    (
        "2. A new case and its first move ({cases:,} cases per repeat)",
        (
            ("servicekit Case() + decide/evolve OpenCase (4 events) + 1 move", "open_us", "us"),
            ("servicekit Case() + replay of those 4 events + 1 move", "replay_us", "us"),
            ("transitions Machine(model=Ticket()) per case + 1 trigger", "machine_us", "us"),
            ("ratio Machine per case + trigger / servicekit move", "new_case_ratio", "x"),
            ("for reference: ratio Machine per case / servicekit replay + move", "load_ratio", "x"),
            ("for reference: ratio Machine per case / servicekit open + move", "open_ratio", "x"),
        ),
    ),
    (
        "3. Memory held (tracemalloc; strings shared except each case's id), {memory:,} each",
        (
            ("servicekit opened case, incl. its id and interaction", "bytes_per_case", "B"),
            ("servicekit StageChanged event, incl. its own datetime", "bytes_per_event", "B"),
            ("transitions Ticket + its own Machine (a tenth as many)", "machine_bytes", "B"),
            ("ratio transitions / servicekit per case", "memory_ratio", "x"),
        ),
    ),
    (
        "4. Build {build:,} opened cases (decide + evolve OpenCase, kept, GC on, one run)",
        (("total", "build_s", "s"), ("per case", "build_us_per_case", "us")),
    ),
)
"""The printed table: a heading per section, then (label, results key, unit) rows."""

GOALS = (
    harness.Goal(
        "goal 1 servicekit decide+evolve over a whole path at most 10x a hand-written table",
        "goal1_ratio",
        le,
        10,
    ),
    harness.Goal(
        "goal 2 servicekit over a whole path >= 20x faster than a Machine built per command",
        "goal2_ratio",
        ge,
        20,
    ),
)
"""Each goal: its summary text, the ratio it reads, and how that ratio must compare to a limit."""


def report(results: dict[str, float], sizes: dict[str, int], mode: str) -> list[str]:
    """Add the ratios to `results`; return the table, ending with one summary line per goal."""
    r = results
    r["goal1_ratio"] = r["path_servicekit_us"] / r["path_table_us"]
    # Goal 2: in the design servicekit avoids, every command on a case builds a
    # Machine for it, so one transition costs the building plus the trigger; in
    # servicekit it costs one decide + evolve on the shared workflow.
    r["goal2_ratio"] = r["path_machine_us"] / r["path_servicekit_us"]
    r["moves_ratio"] = r["servicekit_us_per_move"] / r["table_us_per_move"]
    r["new_case_ratio"] = r["machine_us"] / r["servicekit_us_per_move"]
    r["load_ratio"] = r["machine_us"] / r["replay_us"]
    r["open_ratio"] = r["machine_us"] / r["open_us"]
    r["bound_ratio"] = r["machine_us_per_move"] / r["servicekit_us_per_move"]
    r["memory_ratio"] = r["machine_bytes"] / r["bytes_per_case"]
    setting = f", transitions {version('transitions')}; times per item"
    lines = [harness.title("domain", mode, sizes["repeats"], setting)]
    lines += harness.table(SECTIONS, r, sizes, width=64)
    return lines + harness.summary(GOALS, r, sizes)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every benchmark, print the table, and write JSON when asked."""
    options = harness.parse_options(__doc__, argv, full=FULL, quick=QUICK)
    workflow = buying_cycle()
    results: dict[str, float] = {}
    for bench in (bench_path, bench_moves, bench_new_cases, bench_memory, bench_build):
        results |= bench(workflow, options.sizes)
    lines = report(results, options.sizes, options.mode)
    harness.publish(options, lines, results, GOALS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
