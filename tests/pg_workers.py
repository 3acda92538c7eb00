"""Worker processes for the PostgreSQL tests: ``python tests/pg_workers.py VERB URL SCHEMA ...``."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta

from pg_testing import engine_on

from servicekit import Channel, Direction, ServiceDesk, SystemClock, buying_cycle
from servicekit.stores.sqlalchemy import SQLAlchemyStore


def race(store: SQLAlchemyStore, name: str, count: int, case_ids: list[str]) -> None:
    """Record `count` interactions round-robin on the cases; print how many were done."""
    desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=SystemClock(), max_attempts=500)
    for number in range(count):
        desk.record_interaction(
            case_ids[number % len(case_ids)],
            actor="bo",
            channel=Channel.CHAT,
            direction=Direction.INBOUND,
            summary=f"{name}-{number}",
        )
    sys.stdout.write(json.dumps({"done": count}) + "\n")


def tick(store: SQLAlchemyStore, now: datetime) -> None:
    """Tick until nothing is due by `now`; print how many timers this worker fired.

    Each tick claims a batch of due cases for five seconds; the loop goes on while
    any case is due, claimed or not, so the claims of a worker that died lapse
    and are taken over.
    """
    claiming = SQLAlchemyStore(store.engine, tick_lease=timedelta(seconds=5), tick_batch=50)
    desk = ServiceDesk(workflow=buying_cycle(), store=claiming, clock=SystemClock())
    fired = 0
    sys.stdout.write("started\n")
    sys.stdout.flush()
    while store.find_due(until=now, limit=1):
        done = len(desk.tick(now))
        fired += done
        if not done:
            time.sleep(0.2)  # what is left is claimed by others: wait for them, or a lapse
    sys.stdout.write(json.dumps({"fired": fired}) + "\n")


if __name__ == "__main__":
    verb, url, schema, *arguments = sys.argv[1:]
    engine = engine_on(url, schema)
    target = SQLAlchemyStore(engine)
    if verb == "race":
        race(target, arguments[0], int(arguments[1]), arguments[2].split(","))
    elif verb == "tick":
        tick(target, datetime.fromisoformat(arguments[0]))
    else:  # pragma: no cover - a typo in a test
        sys.exit(f"unknown verb {verb!r}")
    engine.dispose()
