"""Worker processes for the reliability tests: run as ``python tests/workers.py VERB ...``."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path

from servicekit import (
    Agent,
    CapacityClaim,
    CaseSummary,
    Channel,
    ConcurrencyConflict,
    Direction,
    Event,
    IdempotencyRecord,
    ServiceDesk,
    SystemClock,
    buying_cycle,
)
from servicekit.stores import SQLiteStore


class CountingStore(SQLiteStore):
    """An SQLite store that counts the appends it refused for a moved version."""

    conflicts = 0

    def append(  # noqa: PLR0913 - the store contract's options
        self,
        case_id: str,
        events: Sequence[Event],
        *,
        expected_version: int,
        summary: CaseSummary,
        idempotency: IdempotencyRecord | None = None,
        require_active: Collection[str] = (),
        capacity: CapacityClaim | None = None,
    ) -> int:
        try:
            return super().append(
                case_id,
                events,
                expected_version=expected_version,
                summary=summary,
                idempotency=idempotency,
                require_active=require_active,
                capacity=capacity,
            )
        except ConcurrencyConflict:
            self.conflicts += 1
            raise


def race(path: str, name: str, count: int, case_ids: list[str]) -> None:
    """Record `count` interactions round-robin on the cases; print successes and conflicts."""
    store = CountingStore(path, timeout=60)
    desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=SystemClock(), max_attempts=200)
    # a start line: every worker is ready (imported, store open) before any appends, so
    # that they really overlap on a loaded machine instead of running one after another
    Path(f"{path}.ready-{name}").touch()
    go = Path(f"{path}.go")
    while not go.exists():
        time.sleep(0.005)
    for number in range(count):
        desk.record_interaction(
            case_ids[number % len(case_ids)],
            actor="bo",
            channel=Channel.CHAT,
            direction=Direction.INBOUND,
            summary=f"{name}-{number}",
        )
    sys.stdout.write(json.dumps({"done": count, "conflicts": store.conflicts}) + "\n")


def transfers(path: str, case_id: str) -> None:
    """Transfer the case back and forth for ever, printing each acknowledged version."""
    desk = ServiceDesk(workflow=buying_cycle(), store=SQLiteStore(path), clock=SystemClock())
    agents = ["bo", "cy"]
    turn = 0
    while True:
        turn += 1
        outcome = desk.transfer(
            case_id, actor=agents[(turn + 1) % 2], to=agents[turn % 2], handoff_note=f"turn {turn}"
        )
        sys.stdout.write(f"{outcome.case.version}\n")
        sys.stdout.flush()


def crowd(directory: str, name: str) -> None:
    """Serve rounds: for each number read from stdin, use that round's file and report.

    Create or open the file, register an agent, open a case, close; print the
    round's error (or null) as soon as it ends.
    """
    for line in sys.stdin:
        path = Path(directory) / f"round-{int(line)}.sqlite"
        error = None
        try:
            with SQLiteStore(path, synchronous="NORMAL") as store:
                desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=SystemClock())
                desk.register_agent(Agent(name, teams={"service"}))
                desk.open_case(
                    actor=name, customer_id=name, channel=Channel.WEB, summary="s", case_id=name
                )
        except Exception as problem:  # noqa: BLE001 - every failure is the test's finding
            error = f"{type(problem).__name__}: {problem}"
        sys.stdout.write(json.dumps(error) + "\n")
        sys.stdout.flush()


def visit(path: str, case_id: str) -> None:
    """Open a file another process holds open, record an interaction; print the version."""
    with SQLiteStore(path) as store:
        desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=SystemClock())
        outcome = desk.record_interaction(
            case_id, actor="bo", channel=Channel.CHAT, direction=Direction.INBOUND, summary="hi"
        )
    sys.stdout.write(f"{outcome.case.version}\n")


if __name__ == "__main__":
    verb, *arguments = sys.argv[1:]
    if verb == "race":
        race(arguments[0], arguments[1], int(arguments[2]), arguments[3].split(","))
    elif verb == "transfers":
        transfers(arguments[0], arguments[1])
    elif verb == "crowd":
        crowd(arguments[0], arguments[1])
    elif verb == "visit":
        visit(arguments[0], arguments[1])
    else:  # pragma: no cover - a typo in a test
        sys.exit(f"unknown verb {verb!r} at {datetime.now(UTC)}")
