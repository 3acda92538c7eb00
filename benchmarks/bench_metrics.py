"""Benchmark KPI reports: from scratch against reading the events, and a projection's updates.

Run ``python benchmarks/bench_metrics.py`` (``--quick`` for a smoke run with small
counts, ``--json PATH`` to also write the numbers). Times are the best of several
repeats (``time.perf_counter``, garbage collector paused as ``timeit`` does).

Every case has the same ten-event shape: opened by the customer by e-mail and
owned at once, an agent's reply, the customer's second message, a second reply
(every tenth case is transferred instead, and resolved by its new owner), the
resolution, a CSAT request and its answer. The cases are spread over 100
days, ten events each, written to a SQLite file (`SQLiteStore`) untimed.

1. A report from scratch, ``compute(store.read_all(), ...)`` (by agent and by
   week, on a business calendar), against ``store.read_all()`` alone, which
   reads and decodes every event: the goal is at most 3x. The same with SLA
   attainment (three targets, so `servicekit.sla.assess` runs at each reply and
   resolution) is measured on a smaller store and printed beside it.
2. A projection that has seen `many` events applies 1,000 new ones (100 new
   cases), against one that has seen `few`: the goal is at most 1.3x. Each
   repeat applies the next 1,000 events, so no copy of the projection is needed.

The goals are reported, never asserted: the exit code is 0 unless something crashes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from operator import le
from pathlib import Path

import harness

from servicekit import (
    Agent,
    BusinessCalendar,
    CaseOpened,
    CaseSummary,
    CaseTransferred,
    Channel,
    Customer,
    Direction,
    Event,
    FeedbackRecorded,
    FeedbackRequested,
    InteractionRecorded,
    OwnerAssigned,
    Party,
    StageChanged,
    StewardAppointed,
    StoredEvent,
    Survey,
    System,
    buying_cycle,
    replay,
)
from servicekit.metrics import Projection, compute
from servicekit.sla import Metric, Policy, PolicySet, Target
from servicekit.stores import SQLiteStore

FULL = {"events": 1_000_000, "sla_events": 50_000, "many": 1_000_000, "few": 10_000}
FULL |= {"new": 1_000, "repeats": 3}
QUICK = {"events": 20_000, "sla_events": 5_000, "many": 20_000, "few": 2_000}
QUICK |= {"new": 1_000, "repeats": 2}
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
WORKFLOW = buying_cycle()
OFFICE = BusinessCalendar(
    timezone="Europe/Berlin",
    hours={day: [("09:00", "17:30")] for day in ("mon", "tue", "wed", "thu", "fri")},
)
POLICIES = PolicySet(
    [
        Policy(
            name="standard",
            version=1,
            calendar=OFFICE,
            targets=[
                Target(Metric.FIRST_RESPONSE, "4h"),
                Target(Metric.NEXT_RESPONSE, "8h"),
                Target(Metric.RESOLUTION, "2 business days"),
            ],
        )
    ]
)
AGENTS = [Agent(f"agent-{n:03d}", teams={f"team-{n % 5}"}) for n in range(200)]
OPTIONS = {"workflows": [WORKFLOW], "calendar": OFFICE, "by": ("agent",), "period": "week"}


def case_events(number: int) -> list[Event]:
    """The ten events of case `number`, opened `number` minutes after `START`, within 100 days."""
    case_id = f"case-{number:07d}"
    opened = START + timedelta(minutes=(number * 7) % (100 * 24 * 60))
    owner = AGENTS[number % len(AGENTS)]
    customer = Customer(f"cust-{number}")
    email = Channel.EMAIL
    replier = owner
    steps: list[tuple[int, type, object, dict[str, object]]] = [
        (
            0,
            CaseOpened,
            customer,
            {
                "customer_id": customer.id,
                "workflow": WORKFLOW.name,
                "stage": "in_service",
                "channel": email,
                "initiated_by": Party.CUSTOMER,
                "summary": "help",
            },
        ),
        (
            0,
            InteractionRecorded,
            customer,
            {"channel": email, "direction": Direction.INBOUND, "summary": "help"},
        ),
        (0, OwnerAssigned, System(), {"owner": owner}),
        (0, StewardAppointed, System(), {"steward": owner}),
        (
            20 + number % 90,
            InteractionRecorded,
            owner,
            {"channel": email, "direction": Direction.OUTBOUND, "summary": "answer"},
        ),
        (
            150,
            InteractionRecorded,
            customer,
            {"channel": email, "direction": Direction.INBOUND, "summary": "more"},
        ),
    ]
    if number % 10 == 0:
        replier = AGENTS[(number + 1) % len(AGENTS)]
        steps.append(
            (
                160,
                CaseTransferred,
                owner,
                {"from_owner": owner, "to_owner": replier, "handoff_note": "billing"},
            )
        )
    else:
        steps.append(
            (
                160,
                InteractionRecorded,
                owner,
                {"channel": email, "direction": Direction.OUTBOUND, "summary": "looking"},
            )
        )
    steps += [
        (
            240,
            StageChanged,
            replier,
            {"trigger": "resolve", "source": "in_service", "dest": "resolved", "reason": None},
        ),
        (300, FeedbackRequested, System(), {"survey": Survey.CSAT, "channel": email}),
    ]
    events: list[Event] = []
    for version, (minutes, kind, actor, fields) in enumerate(steps, start=1):
        at = opened + timedelta(minutes=minutes)
        events.append(kind(case_id, version, at, actor, **fields))
    at = opened + timedelta(minutes=400)
    events.append(FeedbackRecorded(case_id, 10, at, customer, Survey.CSAT, 1 + number % 5, ""))
    return events


def numbered(cases: range, first_position: int) -> Iterator[StoredEvent]:
    """The events of `cases`, case after case, as stored events from `first_position` on."""
    position = first_position
    for number in cases:
        for event in case_events(number):
            yield StoredEvent(position, event)
            position += 1


def sqlite_store(path: Path, count: int) -> SQLiteStore:
    """A SQLite file holding `count` events (ten per case), written untimed."""
    store = SQLiteStore(path, synchronous="OFF")  # set-up only: reads do not depend on it
    for number in range(count // 10):
        events = case_events(number)
        summary = CaseSummary.of(replay(WORKFLOW, events))
        store.append(summary.case_id, events, expected_version=0, summary=summary)
    return store


def fed(count: int) -> tuple[Projection, Callable[[], Callable[[], object]]]:
    """A projection that has seen `count` events, and a set-up for applying the next batch."""
    projection = Projection(**OPTIONS)  # type: ignore[arg-type]
    projection.apply(numbered(range(count // 10), 1))
    batches = iter(range(count // 10, 10**9, 100))

    def prepare() -> Callable[[], object]:
        first = next(batches)
        batch = list(numbered(range(first, first + 100), projection.position + 1))
        return lambda: projection.apply(batch)

    return projection, prepare


def main(argv: list[str] | None = None) -> None:
    """Build the stores and projections, time them, print the table and the goals."""
    options = harness.parse_options(__doc__, argv, full=FULL, quick=QUICK)
    sizes = options.sizes
    repeats = sizes["repeats"]
    with tempfile.TemporaryDirectory() as folder:
        store = sqlite_store(Path(folder) / "kpis.sqlite", sizes["events"])
        small = sqlite_store(Path(folder) / "sla.sqlite", sizes["sla_events"])
        check = compute(store.read_all(), **OPTIONS)  # type: ignore[arg-type]
        if not check.rows() or check.skipped:
            msg = "the report from scratch measured nothing, or skipped cases"
            raise RuntimeError(msg)
        scratch = harness.best_of_turns(
            repeats,
            {
                "read": lambda: store.read_all,
                "compute": lambda: lambda: compute(store.read_all(), **OPTIONS),  # type: ignore[arg-type]
                "sla_read": lambda: small.read_all,
                "sla_compute": lambda: (
                    lambda: compute(
                        small.read_all(),
                        sla=POLICIES,
                        **OPTIONS,  # type: ignore[arg-type]
                    )
                ),
            },
        )
        store.close()
        small.close()
    many, grow_many = fed(sizes["many"])
    few, grow_few = fed(sizes["few"])
    applied = harness.best_of_turns(repeats, {"many": grow_many, "few": grow_few})
    if many.report() == few.report():
        msg = "the two projections report alike: they did not see different events"
        raise RuntimeError(msg)
    results = {
        "read_s": scratch["read"],
        "compute_s": scratch["compute"],
        "compute_ratio": scratch["compute"] / scratch["read"],
        "sla_read_s": scratch["sla_read"],
        "sla_compute_s": scratch["sla_compute"],
        "sla_compute_ratio": scratch["sla_compute"] / scratch["sla_read"],
        "apply_many_ms": applied["many"] * 1000,
        "apply_few_ms": applied["few"] * 1000,
        "apply_ratio": applied["many"] / applied["few"],
    }
    goals = [
        harness.Goal(
            "goal report from scratch over {events:,} stored events <= 3x read_all + decode",
            "compute_ratio",
            le,
            3.0,
        ),
        harness.Goal(
            "goal {new:,} new events on a projection after {many:,} <= 1.3x one after {few:,}",
            "apply_ratio",
            le,
            1.3,
            ".2f",
        ),
    ]
    sections: list[harness.Section] = [
        (
            "1. A report from scratch (by agent and week, business calendar), SQLite file",
            (
                ("read_all + decode, {events:,} events", "read_s", "s"),
                ("compute(read_all()), {events:,} events", "compute_s", "s"),
                ("  ratio", "compute_ratio", "x"),
                ("read_all + decode, {sla_events:,} events", "sla_read_s", "s"),
                ("compute(read_all(), sla=...), {sla_events:,}", "sla_compute_s", "s"),
                ("  ratio (with SLA attainment)", "sla_compute_ratio", "x"),
            ),
        ),
        (
            "2. A projection applies {new:,} new events (100 cases)",
            (
                ("after {many:,} events", "apply_many_ms", "ms"),
                ("after {few:,} events", "apply_few_ms", "ms"),
                ("  ratio", "apply_ratio", "x"),
            ),
        ),
    ]
    lines = [
        harness.title("metrics", options.mode, repeats, ", SQLite file, in-memory projection"),
        *harness.table(
            [
                (heading, tuple((label.format(**sizes), key, unit) for label, key, unit in rows))
                for heading, rows in sections
            ],
            results,
            sizes,
            width=48,
        ),
        *harness.summary(goals, results, sizes),
    ]
    harness.publish(options, lines, results, goals)


if __name__ == "__main__":
    main()
