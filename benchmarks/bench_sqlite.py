"""Benchmark `SQLiteStore` as ratios against raw sqlite3 measured in the same run.

Run ``python benchmarks/bench_sqlite.py`` (``--quick`` for a smoke run with small
counts, ``--json PATH`` to also write the numbers). Times are the best of several
repeats (``time.perf_counter``, garbage collector paused as ``timeit`` does), the
sides taking turns, on files in a temporary directory with the store's own schema.
Events are decided beforehand. The goals are reported, never asserted: the exit
code is 0 unless something crashes.
"""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from operator import le
from pathlib import Path
from typing import Any

import harness

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
    SQLiteStore,
)
from servicekit.buying_cycle import buying_cycle
from servicekit.case import evolve
from servicekit.commands import Command
from servicekit.decisions import decide
from servicekit.serialization import agent_to_dict, event_from_dict, event_to_dict

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WORKFLOW = buying_cycle()
AGENT = Agent("ana", teams={"service"})
OPEN = partial(OpenCase, actor=AGENT, channel=Channel.PHONE, summary="desk", stage="in_service")
MOVES = (Move(actor=AGENT, trigger="wait_on_customer"), Move(actor=AGENT, trigger="resume"))
SYNCHRONOUS = "NORMAL"
FULL = {"moves": 3_000, "opens": 600, "history": 100, "loads": 5, "load_repeats": 60}
FULL |= {"small": 10_000, "big": 1_000_000, "per_case": 20, "picked": 300, "repeats": 7}
FULL |= {"commands": 20, "desk_cases": 20, "command_repeats": 60}
QUICK = {"moves": 300, "opens": 100, "history": 100, "loads": 5, "load_repeats": 10}
QUICK |= {"small": 10_000, "big": 20_000, "per_case": 20, "picked": 100, "repeats": 3}
QUICK |= {"commands": 20, "desk_cases": 20, "command_repeats": 10}
INSERT_EVENT = "INSERT INTO events (case_id, version, data) VALUES (?, ?, ?)"
UPSERT_CASE = "INSERT OR REPLACE INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
SELECT_EVENTS = (  # the store's own query
    "SELECT position, version, data FROM events WHERE case_id = ? AND version > ? ORDER BY version"
)
Append = tuple[str, tuple[Event, ...], int, CaseSummary]
Row = tuple[str, int, str]
Raw = tuple[str, list[Row], int, tuple[Any, ...]]


def each(call: Callable[[Any], object], items: Sequence[Any]) -> harness.Prepare:
    """A prepare step for a run that calls `call` on every item (deque drains, keeping nothing)."""
    return lambda: partial(deque, map(call, items), 0)


def history(case_id: str, moves: int, customer: str = "cust-1") -> list[Append]:
    """The appends that open `case_id` (4 events), then move it `moves` times (1 event each)."""
    case, appends = Case(WORKFLOW, case_id), []
    commands: list[Command] = [OPEN(customer_id=customer), *(MOVES[n & 1] for n in range(moves))]
    for number, command in enumerate(commands):
        expected, events = case.version, decide(case, command, now=NOW + timedelta(seconds=number))
        for event in events:
            case = evolve(case, event)
        appends.append((case_id, events, expected, CaseSummary.of(case)))
    return appends


def rows(events: Iterable[Event]) -> list[Row]:
    """The events' rows as `SQLiteStore.append` makes them: `event_to_dict`, compact JSON."""
    dumps = partial(json.dumps, separators=(",", ":"))
    return [(event.case_id, event.version, dumps(event_to_dict(event))) for event in events]


def index_row(summary: CaseSummary) -> tuple[Any, ...]:
    """The summary as a row of the store's `cases` table (times in microseconds)."""
    s, micros = summary, timedelta(microseconds=1)
    opened, updated = (s.opened_at - EPOCH) // micros, (s.updated_at - EPOCH) // micros
    due = None if s.next_due is None else (s.next_due - EPOCH) // micros
    flags = (s.stage, s.category.value, int(s.finished), s.owner_id, s.steward_id, s.version)
    assignees = json.dumps(sorted(s.follow_up_assignee_ids), separators=(",", ":"))
    return (
        s.case_id,
        s.customer_id,
        *flags,
        opened,
        updated,
        due,
        s.workflow,
        assignees,
        s.channel,
    )


def raw_appends(db: sqlite3.Connection, raws: list[Raw]) -> None:
    """A minimal hand-written append of each: check the version, insert, upsert, commit."""
    for case_id, new, expected, index in raws:
        with db:  # commits, or rolls back on an exception
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT version FROM cases WHERE case_id = ?", (case_id,)).fetchone()
            if (0 if row is None else row[0]) != expected:
                msg = f"case {case_id!r} is not at version {expected}"
                raise RuntimeError(msg)
            db.executemany(INSERT_EVENT, new)
            db.execute(UPSERT_CASE, index)


def store_appends(store: SQLiteStore, appends: list[Append]) -> None:
    """Each append through `SQLiteStore.append`, one call each."""
    for case_id, events, expected, summary in appends:
        store.append(case_id, events, expected_version=expected, summary=summary)


def raw_load(db: sqlite3.Connection, case_id: str, *, parse: bool = True) -> list[Any]:
    """The baseline load: the store's two SELECTs in one read transaction, json.loads per row."""
    db.execute("BEGIN")
    try:
        found = db.execute(SELECT_EVENTS, (case_id, 0)).fetchall()
        db.execute("SELECT version FROM cases WHERE case_id = ?", (case_id,)).fetchone()
    finally:
        db.execute("COMMIT")
    return [json.loads(data) for _, _, data in found] if parse else found


class Scratch:
    """Database files in one temporary directory, and the connections opened on them."""

    def __init__(self, directory: Path) -> None:
        """Number new files from 0."""
        self.directory, self.numbers = directory, itertools.count()
        self.opened: list[SQLiteStore | sqlite3.Connection] = []

    def store(self, appends: list[Append], path: Path | None = None) -> SQLiteStore:
        """A store on `path` (default: a new file) to which `appends` were made."""
        path = self.directory / f"{next(self.numbers)}.db" if path is None else path
        self.opened.append(store := SQLiteStore(path, synchronous=SYNCHRONOUS))
        store_appends(store, appends)
        return store

    def raw(self, raws: list[Raw], path: Path | None = None) -> sqlite3.Connection:
        """A plain connection set up as the store's (autocommit, WAL), on `path` or a new file."""
        if path is None:
            SQLiteStore(path := self.directory / f"{next(self.numbers)}.db").close()
        self.opened.append(db := sqlite3.connect(path, isolation_level=None))
        db.execute("PRAGMA journal_mode = WAL")
        db.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        raw_appends(db, raws)
        return db

    def appends(
        self, kind: str, before: list[Append], timed: list[Append]
    ) -> dict[str, harness.Prepare]:
        """Each side appending `timed` to a new file that holds `before`; serialization alone."""
        raw_before, raw_timed = (
            [(c, rows(events), x, index_row(s)) for c, events, x, s in appends]
            for appends in (before, timed)
        )
        events = [event for _, appended, _, _ in timed for event in appended]
        return {
            f"store_{kind}": lambda: partial(store_appends, self.store(before), timed),
            f"raw_{kind}": lambda: partial(raw_appends, self.raw(raw_before), raw_timed),
            f"dumps_{kind}": lambda: partial(rows, events),
        }


def bench_appends(sizes: dict[str, int], scratch: Scratch) -> dict[str, float]:
    """Goal 1: microseconds per append, each run on a new file."""
    moves = history("case-1", sizes["moves"])
    opens = [history(f"open-{n}", 0, f"cust-{n}")[0] for n in range(sizes["opens"])]
    prepares = scratch.appends("move", moves[:1], moves[1:]) | scratch.appends("open", [], opens)
    best = harness.best_of_turns(sizes["repeats"], prepares)
    counts = {"move": sizes["moves"], "open": sizes["opens"]}
    return {f"{name}_us": seconds * 1e6 / counts[name[-4:]] for name, seconds in best.items()}


def bench_load(sizes: dict[str, int], scratch: Scratch) -> dict[str, float]:
    """Goal 2: microseconds to load one case of `history` events, and where the time goes."""
    count, loads = sizes["history"], sizes["loads"]
    store = scratch.store(history("case-1", count - 4))
    db = scratch.raw([], store.path)
    texts = [data for _, _, data in raw_load(db, "case-1", parse=False)]
    dicts = [json.loads(text) for text in texts]
    events = store.load("case-1").events
    if len(events) != count or list(events) != [event_from_dict(d) for d in dicts]:
        msg = f"the store and the baseline disagree on the {count} events of case-1"
        raise RuntimeError(msg)
    cases = ["case-1"] * loads
    prepares = {
        "store": each(store.load, cases),
        "raw": each(partial(raw_load, db), cases),
        "sql": each(partial(raw_load, db, parse=False), cases),
        "json": each(json.loads, texts * loads),
        "decode": each(event_from_dict, dicts * loads),
    }
    # Many short runs: on a shared machine the best of them is what a load costs when it
    # runs undisturbed, for both sides alike (long runs are always interrupted somewhere).
    best = harness.best_of_turns(sizes["load_repeats"], prepares)
    return {f"load_{name}_us": seconds * 1e6 / loads for name, seconds in best.items()}


def build(directory: Path, total: int, template: list[Append]) -> tuple[Path, list[str]]:
    """A file of `total` events: `SQLiteStore` makes it, plain sqlite3 fills it in one go.

    Every case gets the template's events under its own id, version by version across
    all cases, so a case's events are spread over the file as when many cases move at once.
    """
    marker = '"case_id":"TEMPLATE"'
    texts = [text for _, events, _, _ in template for _, _, text in rows(events)]
    halves = [text.split(marker) for text in texts]
    if any(len(parts) != 2 for parts in halves):
        msg = f"every template event must name its case once, as {marker}"
        raise RuntimeError(msg)
    ids = [f"case-{n:07d}" for n in range(total // len(texts))]
    path = directory / f"events-{total}.db"
    SQLiteStore(path).close()
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -400000"):
            db.execute(f"PRAGMA {pragma}")
        db.execute("BEGIN")
        found = (
            (case_id, version, f'{head}"case_id":"{case_id}"{tail}')
            for version, (head, tail) in enumerate(halves, 1)
            for case_id in ids
        )
        db.executemany(INSERT_EVENT, found)
        index = index_row(template[-1][3])[1:]
        db.executemany(UPSERT_CASE, ((case_id, *index) for case_id in ids))
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode = WAL")
    finally:
        db.close()
    return path, ids


def bench_growth(sizes: dict[str, int], scratch: Scratch) -> dict[str, float]:
    """Goal 3: microseconds per load of a case of `per_case` events, in a small and a big file."""
    template = history("TEMPLATE", sizes["per_case"] - 4)
    results: dict[str, float] = {}
    prepares: dict[str, harness.Prepare] = {}
    for size in ("small", "big"):
        start = time.perf_counter()
        path, ids = build(scratch.directory, sizes[size], template)
        results[f"build_{size}_s"] = time.perf_counter() - start
        start = time.perf_counter()
        SQLiteStore(path, synchronous=SYNCHRONOUS).close()  # check_integrity=True: for reference
        results[f"integrity_{size}_s"] = time.perf_counter() - start
        store = SQLiteStore(path, synchronous=SYNCHRONOUS, check_integrity=False)
        scratch.opened.append(store)
        if len(store.load(ids[-1]).events) != sizes["per_case"]:
            msg = f"the bulk-built {path.name} does not load as {sizes['per_case']} events a case"
            raise RuntimeError(msg)
        picked = random.Random(size).sample(ids, sizes["picked"])
        prepares[f"grow_{size}"] = each(store.load, picked)
        prepares[f"grow_raw_{size}"] = each(partial(raw_load, scratch.raw([], path)), picked)
    best = harness.best_of_turns(sizes["repeats"], prepares)
    return results | {f"{name}_us": s * 1e6 / sizes["picked"] for name, s in best.items()}


def desk_commands(desk: ServiceDesk, cases: list[str], count: int, offset: int) -> None:
    """`count` moves round-robin over `cases` through `desk.move`, alternating the trigger."""
    for number in range(offset, offset + count):
        desk.move(
            cases[number % len(cases)], MOVES[(number // len(cases)) & 1].trigger, actor="ana"
        )


def raw_commits(db: sqlite3.Connection, count: int) -> None:
    """The baseline: `count` one-row transactions, BEGIN IMMEDIATE, INSERT, COMMIT."""
    for number in range(count):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO rows (data) VALUES (?)", (f"row {number}",))
        db.execute("COMMIT")


def same_statements(db: sqlite3.Connection, raws: list[Raw], *, agent: bool = False) -> None:
    """The SQL a desk move runs, hand-written: BEGIN IMMEDIATE, INSERT, UPDATE, COMMIT.

    As the store runs it: no SELECT of the index entry (the store remembers the one
    it wrote), the UPDATE of the changed columns at the expected version, its row
    count checked. With `agent`, the directory's look-up of the acting agent first
    (one SELECT in a read transaction of its own), as the desk makes it.
    """
    for case_id, new, expected, index in raws:
        if agent:
            db.execute("SELECT data FROM agents WHERE agent_id = ?", ("ana",)).fetchall()
        db.execute("BEGIN IMMEDIATE")
        db.executemany(INSERT_EVENT, new)
        updated = db.execute(
            "UPDATE cases SET stage = ?, category = ?, version = ?, updated_at = ? "
            "WHERE case_id = ? AND version = ?",
            (index[2], index[3], index[7], index[9], case_id, expected),
        )
        if updated.rowcount != 1:
            msg = f"case {case_id!r} is not at version {expected}"
            raise RuntimeError(msg)
        db.execute("COMMIT")


PAGES = 4
"""The b-tree pages a move writes: the events table, its (case_id, version) index, the
case's row in the index table, and the index by stage."""


def page_commits(db: sqlite3.Connection, count: int) -> None:
    """`count` transactions that each change one row in each of `PAGES` one-page tables."""
    for _ in range(count):
        db.execute("BEGIN IMMEDIATE")
        for table in range(PAGES):
            db.execute(f"UPDATE page_{table} SET n = n + 1")  # noqa: S608 - a constant name
        db.execute("COMMIT")


def bench_commands(sizes: dict[str, int], scratch: Scratch) -> dict[str, float]:
    """Goal 4: microseconds per desk command on SQLite, against a raw one-row commit."""
    path = scratch.directory / "desk.db"
    store = SQLiteStore(path, synchronous=SYNCHRONOUS)
    scratch.opened.append(store)
    desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(NOW))
    desk.register_agent(AGENT)
    cases = [f"desk-{n}" for n in range(sizes["desk_cases"])]
    for case_id in cases:  # opened through the desk, so its cache holds them
        desk.open_case(
            actor="ana", customer_id=case_id, channel=Channel.PHONE, summary="s", case_id=case_id
        )
        desk.start_service(case_id, actor="ana")
    scratch.opened.append(
        db := sqlite3.connect(scratch.directory / "rows.db", isolation_level=None)
    )
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
    db.execute("CREATE TABLE rows (position INTEGER PRIMARY KEY, data TEXT NOT NULL)")
    for table in range(PAGES):
        db.execute(f"CREATE TABLE page_{table} (n INTEGER NOT NULL)")
        db.execute(f"INSERT INTO page_{table} VALUES (0)")  # noqa: S608 - a constant name
    memory = ServiceDesk(workflow=WORKFLOW, store=InMemoryStore(), clock=ManualClock(NOW))
    memory.register_agent(AGENT)
    for case_id in cases:
        memory.open_case(
            actor="ana", customer_id=case_id, channel=Channel.PHONE, summary="s", case_id=case_id
        )
        memory.start_service(case_id, actor="ana")
    count, done = sizes["commands"], itertools.count(step=sizes["commands"])
    moves = history("case-1", count * sizes["command_repeats"] * 2)
    floor = [(c, rows(events), x, index_row(s)) for c, events, x, s in moves]
    same = scratch.raw(floor[:1])
    same.execute("INSERT INTO agents VALUES ('ana', ?)", (json.dumps(agent_to_dict(AGENT)),))
    turns, in_memory = itertools.count(), itertools.count(step=count)
    prepares = {
        "desk": lambda: partial(desk_commands, desk, cases, count, next(done)),
        "commit": lambda: partial(raw_commits, db, count),
        "pages": lambda: partial(page_commits, db, count),
        "same": lambda: partial(same_statements, same, floor[1 + next(turns) * count :][:count]),
        "agent": lambda: partial(
            same_statements, same, floor[1 + next(turns) * count :][:count], agent=True
        ),
        "memory": lambda: partial(desk_commands, memory, cases, count, next(in_memory)),
    }
    best = harness.best_of_turns(sizes["command_repeats"], prepares)
    return {f"command_{name}_us": seconds * 1e6 / count for name, seconds in best.items()}


TABLE = """
1a. Append 1 StageChanged to a case (a move), {moves:,} appends per repeat
store_move_us us SQLiteStore.append (serializes the event itself)
raw_move_us us raw sqlite3: BEGIN IMMEDIATE, SELECT, INSERT, upsert, COMMIT
dumps_move_us us event_to_dict + json.dumps alone (done beforehand for raw)
incl_move x ratio store / raw, including serialization (goal <= 2)
excl_move x ratio (store - serialization) / raw, excluding it
1b. Append OpenCase's 4 events on a new case, {opens:,} appends per repeat
store_open_us us SQLiteStore.append (serializes the events itself)
raw_open_us us raw sqlite3: BEGIN IMMEDIATE, SELECT, INSERT x4, upsert, COMMIT
dumps_open_us us event_to_dict + json.dumps alone (done beforehand for raw)
incl_open x ratio store / raw, including serialization (goal <= 2)
excl_open x ratio (store - serialization) / raw, excluding it
2. Load one case of {history} events ({loads:,} loads per repeat, best of {load_repeats})
load_store_us us store.load(case_id): events rebuilt and checked
load_raw_us us raw: BEGIN, the store's 2 SELECTs, COMMIT, json.loads per row
load_ratio x ratio store / raw (goal <= 1.5)
load_sql_us us for reference: raw without json.loads (SQL only)
load_json_us us for reference: json.loads of the {history} rows alone
load_decode_us us for reference: event_from_dict of the {history} dicts alone
3. Load one of {picked} random cases of {per_case} events, per load
grow_small_us us store.load, in a file of {small:,} events
grow_big_us us store.load, in a file of {big:,} events
grow_ratio x ratio big / small (goal <= 1.5)
grow_raw_small_us us for reference: raw load (as in 2), {small:,} events
grow_raw_big_us us for reference: raw load (as in 2), {big:,} events
grow_raw_ratio x for reference: ratio raw big / small
build_big_s s for reference: bulk-building the {big:,}-event file
integrity_small_s s for reference: opening the small file with check_integrity=True
integrity_big_s s for reference: opening the big file with check_integrity=True
4. A desk command: a move on one of {desk_cases} cached cases ({commands} per repeat)
command_desk_us us desk.move: decide, evolve, index entry, SQLiteStore.append (1 event)
command_commit_us us raw sqlite3: BEGIN IMMEDIATE, INSERT one row, COMMIT
command_ratio x ratio desk / raw one-row commit (goal <= 2)
command_pages_us us for reference: raw, a commit writing {pages} pages as a move does
pages_ratio x for reference: ratio of that commit / raw one-row commit
command_same_us us for reference: the store's SQL for a move by hand (INSERT, UPDATE)
same_ratio x for reference: ratio of that SQL alone / raw one-row commit
command_agent_us us for reference: that SQL and the directory's agent SELECT before it
agent_ratio x for reference: ratio of all of the desk's SQL / raw one-row commit
command_memory_us us for reference: desk.move on InMemoryStore (the desk and the domain)
command_rest_us us for reference: desk - its SQL - InMemoryStore's desk (the store's Python)
"""
"""The printed table: headings (they start with a digit), then rows "key unit label"."""


def at_most(text: str, key: str, limit: float) -> harness.Goal:
    """The goal that the ratio at `key` is at most `limit`; its line shows two decimals."""
    return harness.Goal(text, key, le, limit, shown=".2f")


GOALS = (
    at_most("goal 1a SQLiteStore.append (move) at most 2x raw sqlite3, incl. JSON", "incl_move", 2),
    at_most("goal 1b SQLiteStore.append (OpenCase) at most 2x raw, incl. JSON", "incl_open", 2),
    at_most(
        "goal 2 store.load of {history} events at most 1.5x raw + json.loads", "load_ratio", 1.5
    ),
    at_most("goal 3 store.load in {big:,} events at most 1.5x in {small:,}", "grow_ratio", 1.5),
    at_most("goal 4 a desk command on SQLite at most 2x a raw one-row commit", "command_ratio", 2),
)
"""Each goal: its summary text, the ratio it reads, and how that ratio must compare to a limit."""

NOTES = """
Both sides: WAL, synchronous={sync}, the store's schema. In WAL mode NORMAL syncs at
checkpoints only, so the ratios compare the work per append, not the disk (FULL would
add one fsync per append to both sides). Section 3 opens both files with check_integrity=
False: quick_check reads the whole file (timed above), so opening would grow with the file.
"""


def report(results: dict[str, float], sizes: dict[str, int], mode: str) -> list[str]:
    """Add the ratios to `results`; return the table, ending with one summary line per goal."""
    r = results
    for kind in ("move", "open"):
        r[f"incl_{kind}"] = r[f"store_{kind}_us"] / r[f"raw_{kind}_us"]
        r[f"excl_{kind}"] = (r[f"store_{kind}_us"] - r[f"dumps_{kind}_us"]) / r[f"raw_{kind}_us"]
    r["load_ratio"] = r["load_store_us"] / r["load_raw_us"]
    r["grow_ratio"] = r["grow_big_us"] / r["grow_small_us"]
    r["grow_raw_ratio"] = r["grow_raw_big_us"] / r["grow_raw_small_us"]
    r["command_ratio"] = r["command_desk_us"] / r["command_commit_us"]
    r["same_ratio"] = r["command_same_us"] / r["command_commit_us"]
    r["pages_ratio"] = r["command_pages_us"] / r["command_commit_us"]
    r["agent_ratio"] = r["command_agent_us"] / r["command_commit_us"]
    r["command_rest_us"] = r["command_desk_us"] - r["command_agent_us"] - r["command_memory_us"]
    setting = f", SQLite {sqlite3.sqlite_version}; times per item"
    lines = [harness.title("SQLite", mode, sizes["repeats"], setting)]
    for line in TABLE.format(**sizes, pages=PAGES).strip().splitlines():
        if line[0].isdigit():
            lines += ["", line]
        else:
            key, unit, label = line.split(" ", 2)
            lines.append(harness.row(label, r[key], unit, width=72))
    lines += ["", *NOTES.format(sync=SYNCHRONOUS).strip().splitlines()]
    return lines + harness.summary(GOALS, r, sizes)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every benchmark in a temporary directory, print the table, write JSON when asked."""
    options = harness.parse_options(__doc__, argv, full=FULL, quick=QUICK)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as directory:
        scratch = Scratch(Path(directory))
        try:
            for bench in (bench_appends, bench_load, bench_growth, bench_commands):
                results |= bench(options.sizes, scratch)
        finally:
            for opened in scratch.opened:
                opened.close()
    lines = report(results, options.sizes, options.mode)
    harness.publish(options, lines, results, GOALS, {"synchronous": SYNCHRONOUS})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
