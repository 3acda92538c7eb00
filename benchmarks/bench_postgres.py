"""Benchmark `SQLAlchemyStore` on PostgreSQL: appends/s by writer count, timers/s by worker count.

Run ``python benchmarks/bench_postgres.py`` (``--quick`` for a smoke run, ``--json PATH``
to also write the numbers) with ``SERVICEKIT_TEST_POSTGRES`` naming the server
(``postgresql://postgres@127.0.0.1:5432/test``); each measurement runs in a fresh schema
that is dropped afterwards. In one run, on the same pre-decided appends (a case opened,
then moved back and forth; each writer thread on its own cases):

- the store as shipped (writers in parallel; `read_all` numbers events after commit);
- the same store with every append transaction first taking
  ``LOCK TABLE servicekit_events IN EXCLUSIVE MODE`` (the well-known gap-free design);
- raw psycopg: the same event rows and index row, inserted in one transaction per append.

Then timers fired per second by 1, 2 and 4 ``tick`` processes sharing the due follow-ups.
Each figure is the best of the repeats. Goals are reported, never asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from operator import ge
from typing import Any

import attrs
import harness
import psycopg
import sqlalchemy as sa

from servicekit import (
    Agent,
    Case,
    CaseSummary,
    Channel,
    Event,
    InMemoryStore,
    ManualClock,
    Move,
    OpenCase,
    ServiceDesk,
    SystemClock,
    buying_cycle,
)
from servicekit.case import evolve
from servicekit.commands import Command
from servicekit.decisions import decide
from servicekit.serialization import event_to_dict
from servicekit.stores.sqlalchemy import SQLAlchemyStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WORKFLOW = buying_cycle()
AGENT = Agent("ana", teams={"service"})
OPEN = partial(OpenCase, actor=AGENT, channel=Channel.PHONE, summary="desk", stage="in_service")
MOVES = (Move(actor=AGENT, trigger="wait_on_customer"), Move(actor=AGENT, trigger="resume"))
WRITERS = (1, 4, 16)
WORKERS = (1, 2, 4)
FULL = {"appends": 1_600, "per_case": 20, "timers": 200, "repeats": 2}
QUICK = {"appends": 80, "per_case": 20, "timers": 30, "repeats": 1}
LOCK = "LOCK TABLE servicekit_events IN EXCLUSIVE MODE"
Append = tuple[str, tuple[Event, ...], int, CaseSummary]
GOALS = (
    harness.Goal(
        "goal: appends/s with 4 writers at least 1.5x LOCK TABLE ... IN EXCLUSIVE MODE",
        "w4_vs_lock",
        ge,
        1.5,
        shown=".2f",
    ),
)


def server() -> str | None:
    """The server to measure on, from SERVICEKIT_TEST_POSTGRES."""
    return os.environ.get("SERVICEKIT_TEST_POSTGRES") or None


def driver_url(url: str) -> sa.URL:
    """`url` with SQLAlchemy's psycopg 3 driver."""
    return sa.make_url(url).set(drivername="postgresql+psycopg")


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A schema of its own, dropped afterwards."""
    name = f"servicekit_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{name}" CASCADE')


def engine_on(url: str, schema: str, *, lock: bool = False) -> sa.Engine:
    """An engine whose connections use `schema`; with `lock`, every transaction locks the table."""
    engine = sa.create_engine(
        driver_url(url),
        connect_args={"options": f"-c search_path={schema}"},
        pool_size=max(WRITERS) + 2,
    )
    if lock:
        sa.event.listen(engine, "begin", lambda connection: connection.exec_driver_sql(LOCK))
    return engine


def appends_of(case_id: str, count: int) -> list[Append]:
    """`count` appends: open `case_id`, then move it back and forth."""
    case, appends = Case(WORKFLOW, case_id), []
    commands: list[Command] = [OPEN(customer_id="c"), *(MOVES[n & 1] for n in range(count - 1))]
    for number, command in enumerate(commands):
        expected, events = case.version, decide(case, command, now=NOW + timedelta(seconds=number))
        for event in events:
            case = evolve(case, event)
        appends.append((case_id, events, expected, CaseSummary.of(case)))
    return appends


def work(writers: int, sizes: dict[str, int]) -> list[list[Append]]:
    """Each writer's appends: its own cases, `per_case` appends each, in order."""
    each = sizes["appends"] // writers
    cases = max(each // sizes["per_case"], 1)
    return [
        [
            append
            for case in range(cases)
            for append in appends_of(f"w{writer}-{case}", each // cases)
        ]
        for writer in range(writers)
    ]


def in_threads(jobs: Sequence[Callable[[], None]]) -> float:
    """Run the jobs in one thread each, started together; the seconds until all are done.

    Raises the first error a job raised, after every thread ended.
    """
    errors: list[BaseException] = []

    def guarded(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as error:  # noqa: BLE001 - handed to the main thread below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(job,)) for job in jobs]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - start


def store_appends(store: SQLAlchemyStore, appends: list[Append]) -> None:
    """Append through the store."""
    for case_id, events, expected, summary in appends:
        store.append(case_id, events, expected_version=expected, summary=summary)


def raw_appends(url: str, schema: str, appends: list[Append]) -> None:
    """The same rows through psycopg: events and the index row, one transaction per append."""
    insert = "INSERT INTO servicekit_events (case_id, version, data) VALUES (%s, %s, %s)"
    upsert = (
        "INSERT INTO servicekit_cases (case_id, customer_id, workflow, stage, category, "
        "finished, owner_id, steward_id, version, opened_at, updated_at, next_due, "
        "follow_up_assignees) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (case_id) DO UPDATE SET version = excluded.version, stage = excluded.stage, "
        "category = excluded.category, updated_at = excluded.updated_at"
    )
    with psycopg.connect(url, options=f"-c search_path={schema}") as connection:
        for case_id, events, _, summary in appends:
            rows = [
                (case_id, event.version, json.dumps(event_to_dict(event), separators=(",", ":")))
                for event in events
            ]
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(insert, rows)
                cursor.execute(upsert, summary_row(summary))


def summary_row(summary: CaseSummary) -> tuple[Any, ...]:
    """The index row, as the store writes it."""
    return (
        summary.case_id,
        summary.customer_id,
        summary.workflow,
        summary.stage,
        summary.category.value,
        summary.finished,
        summary.owner_id,
        summary.steward_id,
        summary.version,
        summary.opened_at,
        summary.updated_at,
        summary.next_due,
        sorted(summary.follow_up_assignee_ids),
    )


def measure_appends(
    url: str, writers: int, design: str, sizes: dict[str, int], sizes_out: dict[str, float]
) -> float:
    """Appends per second with `writers` threads, in a fresh schema.

    For the store's own design, also the bytes the events table and its indexes take
    per event (`sizes_out["event_bytes"]`), for docs/scaling.md.
    """
    plan = work(writers, sizes)
    with fresh_schema(url) as schema:
        engine = engine_on(url, schema, lock=design == "lock")
        store = SQLAlchemyStore(engine)
        SQLAlchemyStore(engine_on(url, schema)).create_tables()
        if design == "raw":
            jobs = [partial(raw_appends, url, schema, appends) for appends in plan]
        else:
            jobs = [partial(store_appends, store, appends) for appends in plan]
        seconds = in_threads(jobs)
        if design != "raw" and len(store.read_all()) != sum(len(a[1]) for p in plan for a in p):
            msg = f"{design} with {writers} writers lost events"
            raise RuntimeError(msg)
        if design == "servicekit":
            with engine.connect() as connection:
                size = connection.execute(
                    sa.text(
                        "SELECT pg_total_relation_size('servicekit_events')::float / count(*) "
                        "FROM servicekit_events"
                    )
                ).scalar_one()
            sizes_out["event_bytes"] = float(size)
        engine.dispose()
    return sum(map(len, plan)) / seconds


def bench_appends(url: str, sizes: dict[str, int]) -> dict[str, float]:
    """Appends/s for each design and writer count; the designs take turns."""
    results: dict[str, float] = {}
    for _ in range(sizes["repeats"]):
        for writers in WRITERS:
            for design in ("servicekit", "lock", "raw"):
                key = f"{design}_w{writers}"
                rate = measure_appends(url, writers, design, sizes, results)
                results[key] = max(results.get(key, 0.0), rate)
    for writers in WRITERS:
        results[f"w{writers}_vs_lock"] = (
            results[f"servicekit_w{writers}"] / results[f"lock_w{writers}"]
        )
        results[f"w{writers}_vs_raw"] = (
            results[f"servicekit_w{writers}"] / results[f"raw_w{writers}"]
        )
    return results


def seed_timers(store: SQLAlchemyStore, count: int) -> None:
    """`count` cases in service, each with one follow-up due an hour after NOW."""
    template = ServiceDesk(workflow=WORKFLOW, store=InMemoryStore(), clock=ManualClock(NOW))
    template.register_agent(AGENT)
    template.open_case(
        actor="ana", customer_id="c", channel=Channel.PHONE, summary="s", stage="in_service"
    )
    [summary] = template.cases()
    template.schedule_follow_up(
        summary.case_id, actor="ana", due=NOW + timedelta(hours=1), reason="r"
    )
    history = template.history(summary.case_id)
    [summary] = template.cases()
    store.put_agent(AGENT)
    with store.engine.begin() as connection:
        bound = store.bind(connection)
        for number in range(count):
            name = f"due-{number:05}"
            bound.append(
                name,
                [attrs.evolve(event, case_id=name) for event in history],
                expected_version=0,
                summary=attrs.evolve(summary, case_id=name),
            )


def tick_worker(url: str, schema: str, claims: str) -> None:
    """A worker process: tick until nothing is due two hours after NOW.

    With `claims` ``"on"``, each tick claims a batch of due cases (``tick_lease``);
    otherwise every worker walks every due case and the losers decide again.
    """
    engine = engine_on(url, schema)
    store = SQLAlchemyStore(engine)
    lease = timedelta(seconds=30) if claims == "on" else None
    ticking = SQLAlchemyStore(engine, tick_lease=lease, tick_batch=10)
    desk = ServiceDesk(workflow=WORKFLOW, store=ticking, clock=SystemClock())
    until = NOW + timedelta(hours=2)
    print("ready", flush=True)  # imported and connected: the clock starts at "go"
    sys.stdin.readline()
    while store.find_due(until=until, limit=1):
        if not desk.tick(until):
            time.sleep(0.05)  # the rest is claimed by the others
    engine.dispose()


def measure_timers(url: str, workers: int, claims: str, sizes: dict[str, int]) -> float:
    """Timers fired per second by `workers` processes, in a fresh schema."""
    with fresh_schema(url) as schema:
        engine = engine_on(url, schema)
        store = SQLAlchemyStore(engine)
        store.create_tables()
        seed_timers(store, sizes["timers"])
        command = [sys.executable, __file__, "--tick-worker", url, schema, claims]
        processes = [
            subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # noqa: S603 - ourselves
            for _ in range(workers)
        ]
        for process in processes:  # process start-up is not timed
            if process.stdout is None or process.stdout.readline() != "ready\n":
                msg = "a tick worker did not start"
                raise RuntimeError(msg)
        start = time.perf_counter()
        for process in processes:
            if process.stdin is not None:
                process.stdin.write("go\n")
                process.stdin.close()
        for process in processes:
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
        seconds = time.perf_counter() - start
        if any(process.returncode for process in processes) or store.find_due(
            until=NOW + timedelta(hours=2)
        ):
            msg = f"{workers} tick workers failed or left timers unfired"
            raise RuntimeError(msg)
        engine.dispose()
    return sizes["timers"] / seconds


def bench_timers(url: str, sizes: dict[str, int]) -> dict[str, float]:
    """Timers/s for each worker count."""
    results: dict[str, float] = {}
    for _ in range(sizes["repeats"]):
        for workers in WORKERS:
            for claims, prefix in (("on", "timers"), ("off", "unclaimed")):
                key = f"{prefix}_w{workers}"
                rate = measure_timers(url, workers, claims, sizes)
                results[key] = max(results.get(key, 0.0), rate)
    for workers in WORKERS:
        results[f"timers_w{workers}_vs_w1"] = results[f"timers_w{workers}"] / results["timers_w1"]
    return results


def report(results: dict[str, float], sizes: dict[str, int], mode: str) -> list[str]:
    """The table: appends/s by design and writers, ratios, timers/s by workers, goals."""
    appends = tuple(
        (f"{label}, {writers} writers", f"{design}_w{writers}", "appends/s")
        for writers in WRITERS
        for design, label in (
            ("servicekit", "servicekit"),
            ("lock", "LOCK TABLE"),
            ("raw", "raw psycopg"),
        )
    )
    ratios = tuple(
        (f"{writers} writers: servicekit / {versus}", f"w{writers}_vs_{key}", "x")
        for writers in WRITERS
        for versus, key in (("LOCK TABLE", "lock"), ("raw psycopg", "raw"))
    )
    timers = tuple(
        row
        for n in WORKERS
        for row in (
            (f"{n} workers, claiming batches", f"timers_w{n}", "timers/s"),
            (f"{n} workers, no claims (optimistic only)", f"unclaimed_w{n}", "timers/s"),
            (f"{n} workers, claiming / 1 worker claiming", f"timers_w{n}_vs_w1", "x"),
        )
    )
    sections: tuple[harness.Section, ...] = (
        ("Appends ({appends} per run, {per_case} per case, one thread per writer)", appends),
        ("Space", (("events table with its indexes, per event", "event_bytes", "bytes"),)),
        ("Ratios (same run)", ratios),
        ("Timers fired ({timers} due follow-ups, one process per worker)", timers),
    )
    setting = ", PostgreSQL through SQLAlchemy + psycopg 3"
    lines = [harness.title("PostgreSQL", mode, sizes["repeats"], setting)]
    lines += harness.table(sections, results, sizes, width=42)
    return lines + harness.summary(GOALS, results, sizes)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every benchmark on the server, print the table, write JSON when asked."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["--tick-worker"]:
        tick_worker(arguments[1], arguments[2], arguments[3])
        return 0
    options = harness.parse_options(__doc__, arguments, full=FULL, quick=QUICK)
    url = server()
    if url is None:
        print("SERVICEKIT_TEST_POSTGRES is not set: no server, so no goal was measured")
        return 0
    results = bench_appends(url, options.sizes) | bench_timers(url, options.sizes)
    lines = report(results, options.sizes, options.mode)
    harness.publish(options, lines, results, GOALS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
