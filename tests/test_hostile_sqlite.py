"""The SQLite store under a hostile user: odd values, old files, killed migrations, racing opens.

Each test states the rule it defends. Those marked FINDING fail on the branch
they were written against (sqlite-speed): see the report of the hostile review.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from helpers import BO, CY, START, Play, appends_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicekit import (
    Agent,
    Channel,
    ConcurrencyConflict,
    CorruptHistory,
    Direction,
    InvalidValue,
    ManualClock,
    Move,
    RecordInteraction,
    ScheduleFollowUp,
    ServiceDesk,
    TransferCase,
    buying_cycle,
)
from servicekit.serialization import event_to_dict, event_to_json
from servicekit.stores import InMemoryStore, SQLiteStore
from servicekit.stores.sqlite import SCHEMA_VERSION

WORKFLOW = buying_cycle()


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


# -- event_to_json: exactly the text of json.dumps(event_to_dict(event)) ----------------------


@pytest.mark.parametrize("active", [1, 0, 1.0, "yes", None])
def test_an_agent_whose_active_is_not_a_boolean_is_refused(active: object) -> None:
    # Rule: bad input gets a precise error. An agent's `active` is True or False: 1 equals
    # True (and hashes alike), so an agent with active=1 would be equal to the real one
    # while a store wrote {"active": 1} for it, which no store can read back (and the
    # actor text event_to_json caches per equal actor would be the wrong one's).
    with pytest.raises(InvalidValue, match="active must be True or False"):
        Agent("hostile-active", teams={"service"}, active=active)  # type: ignore[arg-type]
    agent = Agent("hostile-active", teams={"service"})
    with pytest.raises(InvalidValue, match="active must be True or False"):
        attrs.evolve(agent, active=active)  # type: ignore[arg-type]


def test_event_to_json_writes_each_event_as_json_does_whatever_came_before() -> None:
    # Rule: event_to_json(e) == json.dumps(event_to_dict(e)) for every event, whatever
    # was encoded before it (its actor text is cached per actor).
    agent = Agent("hostile-json", teams={"service"})
    opened = Play(WORKFLOW).open(actor=agent).history[0]
    inactive = attrs.evolve(agent, active=False)
    event_to_json(attrs.evolve(opened, actor=inactive))
    assert event_to_json(opened) == compact(event_to_dict(opened))
    assert event_to_json(attrs.evolve(opened, actor=inactive)) == compact(
        event_to_dict(attrs.evolve(opened, actor=inactive))
    )


# -- schema 5 to 6: every event at its position, crash-safe, any number of processes ----------

SPACING = 3
"""An old file's positions are spread out, so that a renumbering would show."""


def schema_5_file(path: Path, *, cases: int = 12, copies: int = 0) -> None:
    """A file laid out as main's servicekit (schema 5) wrote it, events at 1, 4, 7, ...

    Made with today's store, then taken back to schema 5's events table (with
    ``AUTOINCREMENT``, which keeps its largest key in ``sqlite_sequence``);
    `copies` more copies of every case make the file bigger, for a slower migration.
    """
    with SQLiteStore(path, synchronous="OFF") as store:
        desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
        desk.register_agent(Agent("bo", teams={"service"}))
        desk.register_agent(Agent("cy", teams={"service"}))
        for n in range(cases):
            case_id = f"case-{n}"
            desk.open_case(
                actor="bo",
                customer_id=f"c{n % 3}",
                channel=Channel.PHONE,
                summary='awkward "text" \\ \u00e9 \u2603 \x01',
                stage="in_service",
                case_id=case_id,
                idempotency_key=f"open-{n}",
            )
            desk.record_interaction(
                case_id, actor="bo", channel=Channel.CHAT, direction=Direction.INBOUND, summary="hi"
            )
            desk.transfer(case_id, actor="bo", to="cy", handoff_note="n")
        store.save_checkpoint("feed", 5)
    script = f"""
        CREATE TABLE events_v5 (
            position INTEGER PRIMARY KEY AUTOINCREMENT,
            case_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            data TEXT NOT NULL,
            UNIQUE (case_id, version)
        );
        INSERT INTO events_v5
            SELECT 1 + (position - 1) * {SPACING}, case_id, version, data FROM events;
        DROP TABLE events;
        ALTER TABLE events_v5 RENAME TO events;
        PRAGMA user_version = 5;
    """  # noqa: S608 - a constant spacing, no input
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.executescript(script)
        top = db.execute("SELECT max(position) FROM events").fetchone()[0]
        columns = [row[1] for row in db.execute("PRAGMA table_info(cases)")]
        copied = ", ".join("case_id || ?1" if c == "case_id" else c for c in columns)
        db.execute("BEGIN")
        for k in range(1, copies + 1):
            suffix = f"-{k}"
            db.execute(
                "INSERT INTO events SELECT position + ?2, case_id || ?1, version, "
                "replace(data, '\"case_id\":\"' || case_id || '\"', "
                "'\"case_id\":\"' || case_id || ?1 || '\"') FROM events WHERE position <= ?3",
                (suffix, k * top, top),
            )
            db.execute(
                f"INSERT INTO cases ({', '.join(columns)}) SELECT {copied} FROM cases "  # noqa: S608 - the table's own columns
                "WHERE case_id NOT LIKE 'case-%-%'",
                (suffix,),
            )
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def raw_events(path: Path) -> list[tuple[int, str, int, str]]:
    """Every events row, as any SQLite reader (main's servicekit, say) sees the file."""
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT position, case_id, version, data FROM events ORDER BY position")
        return rows.fetchall()
    finally:
        db.close()


def test_a_schema_5_file_keeps_every_event_at_its_position_and_new_ones_follow_the_last(
    tmp_path: Path,
) -> None:
    # Rule: the migration keeps every event, its text and its position, every index
    # entry, key and checkpoint; the next append takes the position after the largest.
    path = tmp_path / "v5.sqlite"
    schema_5_file(path)
    before = raw_events(path)
    with SQLiteStore(path) as store:
        found = store.read_all()
        assert [(s.position, event_to_json(s.event)) for s in found] == [
            (position, data) for position, _, _, data in before
        ]
        assert {s.case_id: s.version for s in store.find_cases(stage="in_service")} == {
            f"case-{n}": store.load(f"case-{n}").version for n in range(12)
        }
        assert {s.case_id for s in store.find_cases(owner="cy")} == {f"case-{n}" for n in range(12)}
        assert store.idempotency("open-3") is not None
        assert store.checkpoint("feed") == 5
        desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
        desk.record_interaction(
            "case-0", actor="cy", channel=Channel.CHAT, direction=Direction.OUTBOUND, summary="x"
        )
        assert [s.position for s in store.read_all(after=found[-1].position)] == [
            found[-1].position + 1
        ]
    assert raw_events(path)[: len(before)] == before


MIGRATE = "from servicekit.stores import SQLiteStore; SQLiteStore({path!r}).close(); print('done')"


def python(code: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")
def test_a_migration_killed_midway_leaves_the_old_file_whole_and_a_reopen_finishes_it(
    tmp_path: Path,
) -> None:
    # Rule: a process killed while it migrates an old file leaves it readable as it
    # was (schema 5, every row) and the next open migrates it, every event in place.
    original = tmp_path / "original.sqlite"
    schema_5_file(original, copies=400)
    before = raw_events(original)
    (tmp_path / "timed.sqlite").write_bytes(original.read_bytes())
    started = time.monotonic()
    done = python(MIGRATE.format(path=str(tmp_path / "timed.sqlite")))
    assert done.communicate()[0].strip() == "done"
    took = time.monotonic() - started
    chance = random.Random(11)  # noqa: S311 - when to kill, not a secret
    for round_ in range(3):
        path = tmp_path / f"killed-{round_}.sqlite"
        path.write_bytes(original.read_bytes())
        migrating = python(MIGRATE.format(path=str(path)))
        time.sleep(chance.uniform(0.1, 0.9) * took)
        migrating.send_signal(signal.SIGKILL)
        migrating.communicate()
        assert raw_events(path) == before
        with SQLiteStore(path) as store:
            assert [s.position for s in store.read_all()] == [p for p, *_ in before]
        with closing(sqlite3.connect(path)) as db:
            assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_processes_opening_one_old_file_at_once_all_work(tmp_path: Path) -> None:
    # Rule: any number of processes may open an old file at once: one migrates it, the
    # others wait and then use it; every event stays at its position.
    path = tmp_path / "v5.sqlite"
    schema_5_file(path, copies=50)
    before = raw_events(path)
    code = (
        "import sys\n"
        "from servicekit import Channel, Direction, ServiceDesk, SystemClock, buying_cycle\n"
        "from servicekit.stores import SQLiteStore\n"
        f"store = SQLiteStore({str(path)!r})\n"
        "desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=SystemClock())\n"
        "desk.record_interaction(sys.argv[1], actor='bo', channel=Channel.CHAT,\n"
        "    direction=Direction.INBOUND, summary='w')\n"
        "print('done')\n"
    )
    workers = [python(f"import sys; sys.argv[1:] = ['case-{n}']\n{code}") for n in range(6)]
    results = [worker.communicate() for worker in workers]
    assert [out.strip() for out, _ in results] == ["done"] * 6, [err for _, err in results]
    after = raw_events(path)
    assert after[: len(before)] == before
    assert sorted(case_id for _, case_id, _, _ in after[len(before) :]) == [
        f"case-{n}" for n in range(6)
    ]
    assert [p for p, *_ in after[len(before) :]] == list(
        range(before[-1][0] + 1, before[-1][0] + 7)
    )


# -- remembered index entries: two connections on one file, against the memory store ----------


BRANCHES = [
    appends_of([Move(actor=BO, trigger=("wait_on_customer", "resume")[n % 2]) for n in range(8)]),
    appends_of(
        [
            TransferCase(actor=BO, to=CY, handoff_note="over"),
            ScheduleFollowUp(actor=CY, due=START + timedelta(days=1), reason="r", assignee=BO),
            TransferCase(actor=CY, to=BO, handoff_note="back"),
            RecordInteraction(
                actor=BO, channel=Channel.CHAT, direction=Direction.INBOUND, summary="hi"
            ),
            ScheduleFollowUp(actor=BO, due=START + timedelta(days=2), reason="r", assignee=CY),
            Move(actor=BO, trigger="wait_on_customer"),
        ]
    ),
]
"""Two different continuations of one case: appends from either may land on the other."""


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_two_connections_appending_and_setting_due_times_agree_with_the_memory_store(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    # Rule: whatever one connection remembers of a case's index entry, appends and due
    # times from another connection never let a lost update or a wrong entry through:
    # outcomes, histories and every index query agree with the memory store.
    path = tmp_path_factory.mktemp("two") / "s.sqlite"
    model = InMemoryStore()
    with SQLiteStore(path, synchronous="OFF") as one, SQLiteStore(path, synchronous="OFF") as two:
        for model_store in (model, one):
            model_store.put_agent(BO)
            model_store.put_agent(CY)
        for _ in range(data.draw(st.integers(1, 14), label="steps")):
            store = data.draw(st.sampled_from([one, two]), label="connection")
            current = model.load("case-1").version
            if current and data.draw(st.booleans(), label="set a due time"):
                version = data.draw(st.integers(max(current - 1, 1), current), label="at")
                due = START + timedelta(hours=data.draw(st.integers(0, 50), label="hours"))
                assert store.set_next_due("case-1", version=version, next_due=due) == (
                    model.set_next_due("case-1", version=version, next_due=due)
                )
                continue
            steps = [
                step
                for made in BRANCHES
                for step in made
                if step[1] in {current, max(current - 1, 0), max(current - 2, 0)}
            ]
            if not steps:
                break
            events, expected, summary = data.draw(st.sampled_from(steps), label="append")
            outcomes = []
            for target in (model, store):
                try:
                    target.append("case-1", events, expected_version=expected, summary=summary)
                    outcomes.append("appended")
                except ConcurrencyConflict:
                    outcomes.append("conflict")
            assert outcomes[0] == outcomes[1]
        for store in (one, two):
            assert store.load("case-1") == model.load("case-1")
            assert store.find_cases() == model.find_cases()
            assert store.find_due() == model.find_due()
            for agent in ("bo", "cy"):
                assert store.find_cases(owner=agent) == model.find_cases(owner=agent)
                assert store.find_cases(follow_up_assignee=agent) == model.find_cases(
                    follow_up_assignee=agent
                )


# -- what an append accepts, a load gives back; what is damaged, a load refuses ---------------


def test_an_event_the_store_accepts_loads_back_equal(tmp_path: Path) -> None:
    # Rule: an append either refuses its events (writing nothing) or keeps them so that
    # load gives them back equal. FINDING (also on main): an event numbered True (== 1,
    # so check_append lets it through) is written as "version":true, and every load of
    # the case then fails with CorruptHistory.
    agent = Agent("hostile-version", teams={"service"})
    (opened, _, summary), *_ = appends_of([])
    odd = attrs.evolve(opened[0], version=True, actor=agent)
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        try:
            store.append(
                "case-1", [odd], expected_version=0, summary=attrs.evolve(summary, version=1)
            )
        except ValueError:  # refused (InvalidValue): then nothing may have been written
            assert store.read_all() == []
        else:
            assert store.load("case-1").events == (odd,)


@pytest.mark.parametrize("schema_version", [True, 1.0], ids=["true", "1.0"])
def test_a_stored_event_whose_schema_version_is_not_a_whole_number_is_refused(
    tmp_path: Path, schema_version: object
) -> None:
    # Rule: a damaged row raises CorruptHistory naming its position; schema versions are
    # whole numbers from 1 (what event_from_dict's upcasting path says). FINDING (also on
    # main, minor): true and 1.0 equal 1 in Python, so both load paths take the row.
    path = tmp_path / "s.sqlite"
    with SQLiteStore(path) as store:
        desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
        desk.register_agent(BO)
        desk.open_case(
            actor="bo", customer_id="c", channel=Channel.PHONE, summary="s", case_id="case-1"
        )
        (interaction,) = [s for s in store.read_all() if s.event.version == 2]  # schema 1
    stored = event_to_dict(interaction.event) | {"schema_version": schema_version}
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "UPDATE events SET data = ? WHERE position = ?",
            (json.dumps(stored), interaction.position),
        )
    with (
        SQLiteStore(path) as store,
        pytest.raises(CorruptHistory, match=f"position {interaction.position}"),
    ):
        store.load("case-1")
