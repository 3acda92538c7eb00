"""Benchmark routing: choosing an owner among 1,000 agents against 10, and draining a queue.

Run ``python benchmarks/bench_routing.py`` (``--quick`` for a smoke run with small
counts, ``--json PATH`` to also write the numbers). Both goals are ratios of two
measurements taken in the same run, on the same code:

1. Routing a new case: ``RoutingIndex.choose`` for a case needing one language on
   chat, then recording the agent's new load (what the desk does on opening), among
   1,000 agents against among 10. Agents speak one of four languages, have chat,
   phone and email capacities, and a tenth of them are away; the index is warm.
2. Draining the queue: capacity frees for a fixed number of cases; the time to offer
   the queue and place those cases, with 1,000 cases waiting against with just the
   cases that fit waiting. The queue mixes channels and languages, as a morning does.

Times are the best of several repeats (``time.perf_counter``, garbage collector
paused). The goals are reported, never asserted: the exit code is 0 unless
something crashes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from operator import le

import attrs
import harness

from servicekit import (
    Agent,
    Availability,
    Presence,
    QueuedCase,
    RoutingIndex,
    RoutingNeed,
    RoutingQueue,
)

LANGUAGES = ("de", "en", "fr", "it")
CHANNELS = ("chat", "phone", "email")
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FULL = {"many": 1_000, "few": 10, "routes": 10_000, "queue": 1_000, "freed": 50, "repeats": 15}
QUICK = {"many": 1_000, "few": 10, "routes": 2_000, "queue": 1_000, "freed": 20, "repeats": 3}


def team(count: int, seed: int) -> RoutingIndex:
    """`count` agents with one language each and capacities per channel; a tenth away."""
    rng = random.Random(seed)
    index = RoutingIndex()
    for number in range(count):
        agent = Agent(
            f"agent-{number}",
            skills={LANGUAGES[number % len(LANGUAGES)]},
            capacity={"chat": 3, "phone": 1, "email": 20},
        )
        away = rng.random() < 0.1  # a tenth of the team
        presence = Presence(availability=Availability.AWAY if away else Availability.AVAILABLE)
        index.put(agent, presence)
    return index


def routing(count: int, routes: int) -> Callable[[], Callable[[], object]]:
    """A prepared run: route `routes` chats needing German, freeing each agent again after."""
    index = team(count, seed=count)
    need = RoutingNeed(channel="chat", skills={"de"})
    index.choose(need)  # the channel's buckets are built on first use, as on a desk's first case

    def run() -> None:
        for _ in range(routes):
            choice = index.choose(need)
            assert choice is not None  # noqa: S101 - the team always has a German speaker free
            index.add_load(choice.agent.id, "chat")
            index.add_load(choice.agent.id, "chat", -1)  # the chat ends

    return lambda: run


def waiting(count: int, fitting: int, seed: int) -> list[QueuedCase]:
    """`count` queued cases: `fitting` German chats, the rest on other channels and languages."""
    rng = random.Random(seed)
    cases = []
    for number in range(count):
        if number < fitting:
            need = RoutingNeed(channel="chat", skills={"de"})
        else:
            need = RoutingNeed(
                channel=rng.choice(("phone", "email")), skills={rng.choice(LANGUAGES[1:])}
            )
        cases.append(
            QueuedCase(
                case_id=f"case-{number}",
                need=need,
                rank=rng.randrange(4),
                due=START + timedelta(minutes=rng.randrange(240)),
                waiting_since=START + timedelta(seconds=number),
            )
        )
    return cases


def draining(queued: int, freed: int) -> Callable[[], Callable[[], object]]:
    """A prepared run: `queued` cases wait, nobody is free; then one German agent frees `freed`."""

    def prepare() -> Callable[[], object]:
        index = RoutingIndex()
        freeing = Agent("de-1", skills={"de"}, capacity={"chat": 0, "phone": 0, "email": 0})
        index.put(freeing)
        for language in LANGUAGES[1:]:  # the rest of the team is busy on every channel
            index.put(
                Agent(f"{language}-1", skills={language}, capacity=dict.fromkeys(CHANNELS, 0))
            )
        queue = RoutingQueue()
        for entry in waiting(queued, freed, seed=queued):
            queue.add(entry)

        def run() -> None:
            # The German agent's chat capacity is raised: the call offers the queue to them.
            index.put(attrs.evolve(freeing, capacity={"chat": freed, "phone": 0, "email": 0}))
            placed = 0
            for entry, choice in queue.offer(index, skills=freeing.skills):
                queue.remove(entry.case_id)
                index.add_load(choice.agent.id, entry.need.channel)
                placed += 1
            assert placed == freed  # noqa: S101 - every German chat, and nothing else, is placed

        return run

    return prepare


def measure(sizes: dict[str, int]) -> dict[str, float]:
    """Microseconds per routed case and per placed case, with the ratios of the goals."""
    routes, freed = sizes["routes"], sizes["freed"]
    times = harness.best_of_turns(
        sizes["repeats"],
        {
            "many": routing(sizes["many"], routes),
            "few": routing(sizes["few"], routes),
            "long_queue": draining(sizes["queue"], freed),
            "short_queue": draining(freed, freed),
        },
    )
    results = {
        "route_many_us": times["many"] * 1e6 / routes,
        "route_few_us": times["few"] * 1e6 / routes,
        "drain_long_us": times["long_queue"] * 1e6 / freed,
        "drain_short_us": times["short_queue"] * 1e6 / freed,
    }
    results["route_ratio"] = results["route_many_us"] / results["route_few_us"]
    results["drain_ratio"] = results["drain_long_us"] / results["drain_short_us"]
    return results


GOALS = (
    harness.Goal(
        "goal routing a case among {many:,} agents <= 1.3x among {few}",
        "route_ratio",
        le,
        1.3,
        ".2f",
    ),
    harness.Goal(
        "goal draining {freed} cases from a queue of {queue:,} <= 1.3x from a queue of {freed}",
        "drain_ratio",
        le,
        1.3,
        ".2f",
    ),
)
"""Each goal: its summary text, the ratio it reads, and the limit."""

SECTIONS: tuple[harness.Section, ...] = (
    (
        "1. Route a new German chat (choose + record the load), warm index",
        (
            ("among 1,000 agents", "route_many_us", "us"),
            ("among 10 agents (baseline)", "route_few_us", "us"),
        ),
    ),
    (
        "2. Capacity frees for {freed} German chats: offer the queue and place them",
        (
            ("1,000 cases waiting, per placed case", "drain_long_us", "us"),
            ("only the cases that fit waiting (baseline)", "drain_short_us", "us"),
        ),
    ),
)
"""The table: (label, results key, unit) rows under their headings."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run both measurements, print the table, and write JSON when asked."""
    options = harness.parse_options(__doc__, argv, full=FULL, quick=QUICK)
    results = measure(options.sizes)
    sizes = options.sizes
    title = harness.title(
        "routing", options.mode, sizes["repeats"], "; 4 languages, chat/phone/email capacities"
    )
    lines = [title, *harness.table(SECTIONS, results, sizes, width=48)]
    lines += harness.summary(GOALS, results, sizes)
    harness.publish(options, lines, results, GOALS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
