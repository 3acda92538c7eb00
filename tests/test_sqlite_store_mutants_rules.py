"""Rules of the SQLite store's own making: its remembered index entries, its file, its columns.

Each test states one rule that a mutation run found no test defending (issue 15). The
statements a store sends SQLite are watched through the connection's trace callback.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, Self

import attrs
import pytest
from helpers import ANA, BO, START, appends_of

from servicekit import (
    Agent,
    CaseSummary,
    ConcurrencyConflict,
    CorruptHistory,
    Event,
    IncompatibleStore,
    InvalidValue,
    Move,
    ScheduleFollowUp,
    StoreError,
)
from servicekit.stores import SQLiteStore
from servicekit.stores.sqlite import SCHEMA_VERSION

_READ_ENTRY = "SELECT case_id, customer_id, workflow, stage"
"""How the statement that reads a case's index entry begins (all of its columns)."""


def _waiting() -> list[tuple[tuple[Event, ...], int, CaseSummary]]:
    """Open case-1 (bo, in service, 4 events), then wait on the customer (version 5)."""
    return appends_of([Move(actor=BO, trigger="wait_on_customer")])


@contextmanager
def statements(store: SQLiteStore) -> Iterator[list[str]]:
    """The SQL statements `store` runs inside the block, as SQLite expands them."""
    ran: list[str] = []
    store._db.set_trace_callback(ran.append)  # noqa: SLF001 - watching the store's own connection
    try:
        yield ran
    finally:
        store._db.set_trace_callback(None)  # noqa: SLF001


def _second_append(path: Path) -> tuple[list[str], list[CaseSummary], CaseSummary]:
    """Open case-1 on a new store at `path`, then wait on the customer on the same store.

    Returns the SQL the second append ran, the index afterwards and the entry it wrote.
    """
    (opened, _, first), (moved, _, second) = _waiting()
    with SQLiteStore(path) as store:
        store.append("case-1", opened, expected_version=0, summary=first)
        with statements(store) as ran:
            store.append("case-1", moved, expected_version=first.version, summary=second)
        return ran, store.find_cases(), second


def test_an_append_after_this_store_wrote_the_case_does_not_read_its_entry_again(
    tmp_path: Path,
) -> None:
    ran, entries, second = _second_append(tmp_path / "s.sqlite")
    assert [s for s in ran if s.startswith(_READ_ENTRY)] == []
    assert entries == [second]


def test_an_append_updates_only_the_index_columns_that_changed_and_the_due_time(
    tmp_path: Path,
) -> None:
    # Waiting on the customer changes the stage, its category, the version and the time
    # of the update; the due time is always written (another connection may have set it).
    ran, _, _ = _second_append(tmp_path / "s.sqlite")
    updates = [s for s in ran if s.startswith("UPDATE cases")]
    changed = (  # updated_at: 2026-03-02 09:01 UTC, in microseconds since 1970
        "UPDATE cases SET stage = 'waiting_on_customer', category = 'pending', version = 5, "
        "updated_at = 1772442060000000, next_due = NULL"
    )
    assert [s.split(" WHERE ")[0] for s in updates] == [changed]
    assert [s for s in ran if "case_follow_ups" in s] == []


def test_a_refused_append_forgets_the_entry_it_remembered(tmp_path: Path) -> None:
    # A conflict may come from a remembered entry another connection made stale: the
    # next append reads the entry from the file again.
    path = tmp_path / "s.sqlite"
    (opened, _, first), (moved, _, second) = _waiting()
    with SQLiteStore(path) as one, SQLiteStore(path) as other:
        one.append("case-1", opened, expected_version=0, summary=first)
        other.append("case-1", moved, expected_version=first.version, summary=second)
        with pytest.raises(ConcurrencyConflict):
            one.append("case-1", moved, expected_version=first.version, summary=second)
        with statements(one) as ran, pytest.raises(ConcurrencyConflict):
            one.append("case-1", moved, expected_version=first.version, summary=second)
        assert len([s for s in ran if s.startswith(_READ_ENTRY)]) == 1


def test_a_remembered_entry_the_file_no_longer_holds_writes_nothing_and_conflicts(
    tmp_path: Path,
) -> None:
    # Another program takes the case back to version 2 (as a restore of an older copy
    # would): the events this store appends next would fit, but the index entry it
    # remembers at version 4 is no longer there to update.
    path = tmp_path / "s.sqlite"
    (opened, _, first), (moved, _, second) = _waiting()
    with SQLiteStore(path) as store:
        store.append("case-1", opened, expected_version=0, summary=first)
        with closing(sqlite3.connect(path)) as db:
            db.execute("DELETE FROM events WHERE case_id = 'case-1' AND version > 2")
            db.execute("UPDATE cases SET version = 2 WHERE case_id = 'case-1'")
            db.commit()
        with pytest.raises(ConcurrencyConflict) as conflict:
            store.append("case-1", moved, expected_version=first.version, summary=second)
        assert str(conflict.value) == "case 'case-1' was expected at version 4 but is at version 2"
        assert (conflict.value.case_id, conflict.value.expected, conflict.value.actual) == (
            "case-1",
            4,
            2,
        )
        assert store.load("case-1").events == opened[:2]


def test_the_index_keeps_open_follow_ups_assignees_as_compact_sorted_json(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    due = START + timedelta(days=1)
    names = ["fay", "eve", "dan", "cy", "bo", "ana"]  # six: sorted by chance 1 time in 720
    made = appends_of(
        [
            ScheduleFollowUp(
                actor=BO, due=due, reason=f"call {name}", assignee=Agent(name, teams={"service"})
            )
            for name in names
        ]
    )
    with SQLiteStore(path) as store:
        for events, expected, summary in made:
            store.append("case-1", events, expected_version=expected, summary=summary)
    with closing(sqlite3.connect(path)) as db:
        stored = db.execute("SELECT follow_up_assignees FROM cases").fetchall()
    assert stored == [('["ana","bo","cy","dan","eve","fay"]',)]


def test_a_schema_4_file_whose_opening_is_damaged_is_refused_naming_its_position(
    tmp_path: Path,
) -> None:
    # Schema 5 fills each case's channel from its opening: a damaged one is named by the
    # position it is stored at, and the file stays as it was, at schema 4.
    path = tmp_path / "v4.sqlite"
    (opened, _, first), *_ = appends_of([])
    second = attrs.evolve(first, case_id="case-2")
    with SQLiteStore(path) as store:
        store.append("case-1", opened, expected_version=0, summary=first)
        store.append(
            "case-2",
            [attrs.evolve(event, case_id="case-2") for event in opened],
            expected_version=0,
            summary=second,
        )
    with closing(sqlite3.connect(path)) as db:
        db.execute("ALTER TABLE cases DROP COLUMN channel")  # what schema 5 added
        db.execute("PRAGMA user_version = 4")
        db.execute("UPDATE events SET data = '{not json' WHERE case_id = 'case-2' AND version = 1")
        (position,) = db.execute(
            "SELECT position FROM events WHERE case_id = 'case-2' AND version = 1"
        ).fetchone()
        db.commit()
    assert position == len(opened) + 1
    with pytest.raises(CorruptHistory, match=r"^the event at position 5 is not valid JSON: "):
        SQLiteStore(path)
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (4,)


# -- opening a file ---------------------------------------------------------------------------


def _file_with_a_case(path: Path) -> tuple[tuple[Event, ...], CaseSummary]:
    """A servicekit file with case-1 opened in it: the opening's events and entry."""
    (opened, _, first), *_ = appends_of([])
    with SQLiteStore(path) as store:
        store.append("case-1", opened, expected_version=0, summary=first)
    return opened, first


def _refused_untouched(path: Path, error: type[Exception], message: str) -> None:
    before = path.read_bytes()
    with pytest.raises(error) as refusal:
        SQLiteStore(path)
    assert str(refusal.value) == message
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


def test_the_check_of_a_file_before_it_is_opened_reads_only_its_100_byte_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's own look at the file reads its header, never a large file whole.

    It spies on `Path.open` (the way the check reads the file: a private detail, but
    the only one that shows how much of the file is read without a file of gigabytes).
    """
    path = tmp_path / "s.sqlite"
    opened, _ = _file_with_a_case(path)
    reads: list[object] = []
    open_file = Path.open

    class Spy:
        def __init__(self, file: IO[bytes]) -> None:
            self.file = file

        def __enter__(self) -> Self:
            return self

        def __exit__(self, *_: object) -> None:
            self.file.close()

        def read(self, size: int = -1) -> bytes:
            reads.append(size)
            return self.file.read(size)

    def spied(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> object:
        file = open_file(self, mode, *args, **kwargs)
        return Spy(file) if self == path and mode == "rb" else file

    with monkeypatch.context() as patch:
        patch.setattr(Path, "open", spied)
        with SQLiteStore(path) as store:
            assert store.load("case-1").events == opened
    assert reads == [100]


def test_a_file_that_is_not_sqlite_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("dear diary, " * 20)
    _refused_untouched(
        path,
        StoreError,
        f"{str(path)!r} is not a servicekit database (not an SQLite file, or truncated)",
    )


def test_a_path_that_cannot_be_read_is_refused_naming_it_and_why(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as refusal:
        SQLiteStore(tmp_path)  # a folder
    assert str(refusal.value) == (
        f"cannot read {str(tmp_path)!r}: [Errno 21] Is a directory: {str(tmp_path)!r}"
    )


def test_a_file_that_cannot_be_created_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "no such folder" / "s.sqlite"
    with pytest.raises(StoreError) as refusal:
        SQLiteStore(path)
    assert str(refusal.value) == (
        f"cannot open {str(path)!r} as a servicekit database: unable to open database file"
    )


def test_an_empty_database_with_another_applications_version_is_refused_untouched(
    tmp_path: Path,
) -> None:
    # No tables, no application id, but a schema version: another program's database,
    # not a new file to create the schema in.
    path = tmp_path / "other.sqlite"
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 7")
        db.commit()
    _refused_untouched(
        path,
        StoreError,
        f"{str(path)!r} is an SQLite database of another application (application id 0x0), "
        "not a servicekit database",
    )


@contextmanager
def _writer(path: Path, *, done_after: float) -> Iterator[None]:
    """Another connection in a write transaction on `path` (in rollback-journal mode).

    It holds SQLite's RESERVED lock until it commits, `done_after` seconds on: switching
    the file to WAL then fails at once, without waiting in SQLite's busy handler.
    """
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(done_after, other.execute, ("COMMIT",))
    timer.start()
    try:
        yield
    finally:
        timer.join()
        other.close()


def test_a_writer_met_while_switching_to_wal_is_waited_out_promptly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The switch gets SQLITE_BUSY at once: the store retries, its pauses doubling from
    # 1 ms to at most 50 ms, so it opens at most 50 ms after the writer is done. (The
    # pauses are read by patching time.sleep: a clock-free way to see the promptness.)
    path = tmp_path / "s.sqlite"
    opened, _ = _file_with_a_case(path)
    pauses: list[float] = []
    sleep, me = time.sleep, threading.get_ident()

    def pause(seconds: float) -> None:
        if threading.get_ident() == me:  # the store's pauses, not another thread's
            pauses.append(seconds)
        sleep(seconds)

    with monkeypatch.context() as patch, _writer(path, done_after=0.6):
        patch.setattr(time, "sleep", pause)
        with SQLiteStore(path, timeout=5) as store:
            assert store.load("case-1").events == opened
    assert pauses[:7] == [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.05]
    assert set(pauses[6:]) == {0.05}
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_writer_holding_on_past_the_timeout_makes_the_opening_fail_naming_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite"
    _file_with_a_case(path)
    with _writer(path, done_after=2.5):
        began = time.monotonic()
        with pytest.raises(StoreError) as refusal:
            SQLiteStore(path, timeout=0.2)
        waited = time.monotonic() - began
    assert str(refusal.value) == f"{str(path)!r} cannot be used: database is locked"
    assert 0.2 <= waited < 2.5  # the timeout, not the writer's 2.5 s


def test_a_stores_busy_timeout_is_its_timeout_thirty_seconds_by_default(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite"
    with SQLiteStore(path) as default, SQLiteStore(path, timeout=2.5) as patient:
        assert default._db.execute("PRAGMA busy_timeout").fetchone() == (30_000,)  # noqa: SLF001
        assert patient._db.execute("PRAGMA busy_timeout").fetchone() == (2_500,)  # noqa: SLF001


def test_synchronous_extra_is_accepted_and_set(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.sqlite", synchronous="EXTRA") as store:
        assert store._db.execute("PRAGMA synchronous").fetchone() == (3,)  # noqa: SLF001


def test_a_damaged_file_opened_without_the_integrity_check_is_opened(tmp_path: Path) -> None:
    # Two rows break a NOT NULL the schema was changed to claim: the quick check would
    # refuse the file, and check_integrity=False skips it.
    path = tmp_path / "s.sqlite"
    opened, _ = _file_with_a_case(path)
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE extra (x)")
        db.execute("INSERT INTO extra VALUES (NULL), (NULL)")
        db.execute("PRAGMA writable_schema = ON")
        db.execute(
            "UPDATE sqlite_master SET sql = 'CREATE TABLE extra (x NOT NULL)' WHERE name = 'extra'"
        )
        db.commit()
    with SQLiteStore(path, check_integrity=False) as store:
        assert store.load("case-1").events == opened
    with pytest.raises(StoreError, match=r"is damaged: NULL value in extra\.x"):
        SQLiteStore(path)


class _Raced(SQLiteStore):
    """A store whose file another process creates between the look at it and the migration."""

    def _use_wal(self) -> None:
        super()._use_wal()
        SQLiteStore(self.path).close()


def test_a_new_file_another_process_created_the_schema_in_meanwhile_is_opened(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite"
    (opened, _, first), *_ = appends_of([])
    with _Raced(path) as store:
        store.append("case-1", opened, expected_version=0, summary=first)
        assert store.find_cases() == [first]
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_a_lone_surrogate_in_an_id_asked_for_is_refused_as_invalid_text(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.sqlite") as store, pytest.raises(InvalidValue) as refusal:
        store.get_agent("bo\ud800")
    assert str(refusal.value) == "'bo\\ud800' cannot be looked up: it is not valid Unicode text"


def test_a_file_from_a_far_newer_servicekit_is_refused_naming_its_whole_schema_number(
    tmp_path: Path,
) -> None:
    # The header's schema version is four bytes: 16777223 is 0x01000007.
    path = tmp_path / "s.sqlite"
    _file_with_a_case(path)
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 16777223")
        db.commit()
    _refused_untouched(
        path,
        IncompatibleStore,
        f"{str(path)!r} was written by a newer servicekit (schema 16777223); "
        f"this version reads schemas up to {SCHEMA_VERSION}: upgrade servicekit",
    )


# -- migrating a schema-3 file ----------------------------------------------------------------


def _as_schema_3(path: Path) -> None:
    """Take what schema 4 and later added out of a closed servicekit file: a schema-3 file."""
    with closing(sqlite3.connect(path)) as db:
        for statement in (
            "DROP INDEX cases_by_workflow",
            "ALTER TABLE cases DROP COLUMN workflow",
            "ALTER TABLE cases DROP COLUMN follow_up_assignees",
            "ALTER TABLE cases DROP COLUMN channel",
            "DROP TABLE agent_teams",
            "DROP TABLE case_follow_ups",
            "PRAGMA user_version = 3",
        ):
            db.execute(statement)
        db.commit()


def _two_cases(path: Path) -> None:
    """case-1 (4 events, at positions 1 to 4) and case-2 (at positions 5 to 8)."""
    (opened, _, first), *_ = appends_of([])
    with SQLiteStore(path) as store:
        store.append("case-1", opened, expected_version=0, summary=first)
        store.append(
            "case-2",
            [attrs.evolve(event, case_id="case-2") for event in opened],
            expected_version=0,
            summary=attrs.evolve(first, case_id="case-2"),
        )


def _stays_at_schema_3(path: Path) -> None:
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (3,)


def test_a_schema_3_file_keeps_each_cases_open_follow_ups_assignees(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite"
    due = START + timedelta(days=1)
    made = appends_of(
        [
            ScheduleFollowUp(actor=BO, due=due, reason="call", assignee=BO),
            ScheduleFollowUp(actor=BO, due=due, reason="mail", assignee=ANA),
        ]
    )
    with SQLiteStore(path) as store:
        for events, expected, summary in made:
            store.append("case-1", events, expected_version=expected, summary=summary)
    _as_schema_3(path)
    last = made[-1][2]
    assert last.follow_up_assignee_ids == frozenset({"ana", "bo"})
    with SQLiteStore(path) as store:
        assert store.find_cases() == [last]
        assert store.find_cases(follow_up_assignee="ana") == [last]


def test_a_schema_3_case_without_its_opening_is_refused_saying_why(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite"
    _two_cases(path)
    _as_schema_3(path)
    with closing(sqlite3.connect(path)) as db:
        db.execute("DELETE FROM events WHERE case_id = 'case-2' AND version = 1")
        db.commit()
    with pytest.raises(CorruptHistory) as refusal:
        SQLiteStore(path)
    assert str(refusal.value) == (
        "case 'case-2' does not start with a CaseOpened event, so the workflow it was opened "
        "on cannot be recorded in the index"
    )
    _stays_at_schema_3(path)


@pytest.mark.parametrize("version", [1, 2], ids=["its opening", "a later event"])
def test_a_schema_3_file_with_a_damaged_event_is_refused_naming_its_position(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / "v3.sqlite"
    _two_cases(path)
    _as_schema_3(path)
    with closing(sqlite3.connect(path)) as db:
        db.execute(
            "UPDATE events SET data = '{not json' WHERE case_id = 'case-2' AND version = ?",
            (version,),
        )
        db.commit()
    with pytest.raises(CorruptHistory, match=rf"^the event at position {4 + version} is not valid"):
        SQLiteStore(path)
    _stays_at_schema_3(path)


def test_an_in_memory_database_is_refused_as_it_cannot_be_switched_to_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no file of that name here
    with pytest.raises(StoreError) as refusal:
        SQLiteStore(":memory:")
    assert str(refusal.value) == (
        "':memory:' cannot be switched to WAL mode (it stays in 'memory')"
    )
    assert list(tmp_path.iterdir()) == []
