"""`SQLiteStore`: the embedded default, one file on disk, with the standard library's sqlite3.

Design notes (see also DESIGN.md's pitfalls):

- WAL mode, a busy timeout, and ``BEGIN IMMEDIATE`` for every writer, so that
  writers queue instead of failing half-way; the module's implicit transactions
  are switched off (``isolation_level=None``) so the store controls them.
- One transaction per append: events, the index entry and the idempotency
  record are written together or not at all. ``UNIQUE(case_id, version)``
  detects a conflict even if another process got past the version check.
- Global positions are the events table's integer key, which SQLite assigns
  inside the writer lock as one more than the largest (events are never
  deleted), so they are in commit order and a reader never skips one. Schema 6
  dropped ``AUTOINCREMENT``: it kept the same numbers in ``sqlite_sequence`` at
  the cost of one more page written by every append.
- Opening checks the file's header before anything is written: a file that is
  not a servicekit database, is damaged, or comes from a newer servicekit is
  refused and left untouched. An older schema is migrated.
"""

from __future__ import annotations

import functools
import itertools
import json
import json.scanner
import os
import sqlite3
import threading
import time
import typing
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, Self, get_type_hints

import attrs

from servicekit._values import slot_builder, utc
from servicekit.errors import (
    ConcurrencyConflict,
    CorruptHistory,
    IncompatibleStore,
    InvalidValue,
    ServiceKitError,
    StoreError,
)
from servicekit.events import CaseOpened, Event, EventBase
from servicekit.ownership import Actor, Agent, Customer, Role, System
from servicekit.serialization import (
    BASE_FIELDS,
    EVENT_KEYS,
    EVENT_TYPES,
    SCHEMA_VERSIONS,
    actor_from_dict,
    agent_from_dict,
    agent_to_dict,
    event_from_dict,
    event_from_json,
    event_to_json,
    field_loaders,
)
from servicekit.stores.base import (
    CapacityClaim,
    CaseHistory,
    CaseSummary,
    IdempotencyRecord,
    StoredEvent,
    check_agent,
    check_append,
    inactive_agent,
    open_follow_up_assignees,
    over_capacity,
)
from servicekit.workflow import StatusCategory

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "SQLiteStore"]

APPLICATION_ID = 0x53564B54
"""Stored in the SQLite header (``PRAGMA application_id``): "SVKT", a servicekit file."""

SCHEMA_VERSION = 6
"""The schema this version writes (``PRAGMA user_version``)."""

_SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

_SCHEMA_V1 = """
CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (case_id, version)
);
CREATE TABLE cases (
    case_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    category TEXT NOT NULL,
    finished INTEGER NOT NULL,
    owner_id TEXT,
    steward_id TEXT,
    version INTEGER NOT NULL,
    opened_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX cases_by_owner ON cases (owner_id, opened_at, case_id);
CREATE INDEX cases_by_steward ON cases (steward_id, opened_at, case_id);
CREATE INDEX cases_by_customer ON cases (customer_id, opened_at, case_id);
CREATE INDEX cases_by_stage ON cases (stage, opened_at, case_id);
CREATE INDEX cases_by_opening ON cases (opened_at, case_id);
CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    first_version INTEGER NOT NULL,
    last_version INTEGER NOT NULL
);
CREATE TABLE agents (agent_id TEXT PRIMARY KEY, data TEXT NOT NULL);
"""
"""Schema version 1: events, the case index, idempotency records, the agent directory."""

_SCHEMA_V4 = """
ALTER TABLE cases ADD COLUMN workflow TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_by_workflow ON cases (workflow, opened_at, case_id);
CREATE TABLE agent_teams (
    team TEXT NOT NULL,
    agent_id TEXT NOT NULL REFERENCES agents (agent_id),
    PRIMARY KEY (team, agent_id)
) WITHOUT ROWID;
CREATE INDEX agent_teams_by_agent ON agent_teams (agent_id);
ALTER TABLE cases ADD COLUMN follow_up_assignees TEXT NOT NULL DEFAULT '[]';
CREATE TABLE case_follow_ups (
    agent_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    PRIMARY KEY (agent_id, case_id)
) WITHOUT ROWID;
"""
"""Schema version 4: each case's workflow and open follow-ups' assignees in the index, and
the agents by team.

`_fill_schema_4` fills both from what a schema-3 file holds.
"""


def _fill_schema_4(db: sqlite3.Connection) -> None:
    """Fill a schema-3 file's new index: cases by their `CaseOpened`'s workflow, agents by team."""
    for agent_id, data in db.execute("SELECT agent_id, data FROM agents").fetchall():
        db.executemany(
            "INSERT INTO agent_teams VALUES (?, ?)",
            [(team, agent_id) for team in _agent(data).teams],
        )
    rows = db.execute(
        "SELECT cases.case_id, events.position, events.data FROM cases "
        "LEFT JOIN events ON events.case_id = cases.case_id AND events.version = 1"
    ).fetchall()
    for case_id, position, data in rows:
        opened = None if data is None else _decode(position, data)
        if not isinstance(opened, CaseOpened):
            msg = (
                f"case {case_id!r} does not start with a CaseOpened event, so the workflow "
                "it was opened on cannot be recorded in the index"
            )
            raise CorruptHistory(msg)
        db.execute("UPDATE cases SET workflow = ? WHERE case_id = ?", (opened.workflow, case_id))
        history = [
            _decode(position, data)
            for position, data in db.execute(
                "SELECT position, data FROM events WHERE case_id = ? ORDER BY version", (case_id,)
            )
        ]
        assignees = open_follow_up_assignees(history)
        db.execute(
            "UPDATE cases SET follow_up_assignees = ? WHERE case_id = ?",
            (_assignees_text(assignees), case_id),
        )
        db.executemany(
            "INSERT INTO case_follow_ups VALUES (?, ?)", [(a, case_id) for a in assignees]
        )


_SCHEMA_V5 = """
ALTER TABLE cases ADD COLUMN channel TEXT;
"""
"""Schema version 5: each case's channel in the index, so that capacity claims count by channel.

`_fill_schema_5` fills it from each case's `CaseOpened`.
"""


def _fill_schema_5(db: sqlite3.Connection) -> None:
    """Fill a schema-4 file's new column: each case's channel, from its `CaseOpened`."""
    rows = db.execute(
        "SELECT cases.case_id, events.position, events.data FROM cases "
        "JOIN events ON events.case_id = cases.case_id AND events.version = 1"
    ).fetchall()
    for case_id, position, data in rows:
        opened = _decode(position, data)
        if isinstance(opened, CaseOpened):
            db.execute(
                "UPDATE cases SET channel = ? WHERE case_id = ?", (opened.channel.name, case_id)
            )


_SCHEMA_V6 = """
CREATE TABLE events_v6 (
    position INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (case_id, version)
);
INSERT INTO events_v6 (position, case_id, version, data)
    SELECT position, case_id, version, data FROM events ORDER BY position;
DROP TABLE events;
ALTER TABLE events_v6 RENAME TO events;
"""
"""Schema version 6: the events table without ``AUTOINCREMENT``, every event at its position.

An ``AUTOINCREMENT`` key also writes its largest value to ``sqlite_sequence`` on
every insert: one more page per append (about a fifth of an append's SQL). Without
it SQLite numbers a new event one more than the largest position, which is the
same number, since events are never deleted.
"""


_MIGRATIONS: dict[int, tuple[str, Callable[[sqlite3.Connection], None] | None]] = {
    0: (_SCHEMA_V1, None),
    1: ("CREATE TABLE checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL);", None),
    2: (
        (
            "ALTER TABLE cases ADD COLUMN next_due INTEGER;"
            "CREATE INDEX cases_by_due ON cases (next_due, case_id) WHERE next_due IS NOT NULL;"
        ),
        None,
    ),
    3: (_SCHEMA_V4, _fill_schema_4),
    4: (_SCHEMA_V5, _fill_schema_5),
    5: (_SCHEMA_V6, None),
}
"""What takes a file from a schema version to the next one: DDL, then a data step."""

_SUMMARY_COLUMNS = (
    "case_id, customer_id, workflow, stage, category, finished, owner_id, steward_id, "
    "version, opened_at, updated_at, next_due, follow_up_assignees, channel"
)


_IN_TEAM = (
    "SELECT agents.data FROM agent_teams JOIN agents USING (agent_id) "
    "WHERE agent_teams.team = ? ORDER BY agent_teams.agent_id"
)
_IN_TEAM_WITH_ROLE = (
    "SELECT agents.data FROM agent_teams JOIN agents USING (agent_id) "
    "WHERE agent_teams.team = ? "
    "AND EXISTS (SELECT 1 FROM json_each(agents.data, '$.roles') WHERE value = ?) "
    "ORDER BY agent_teams.agent_id"
)
"""A team's agents, and those of them who hold a role, by id."""

_SUMMARY_NAMES = tuple(name.strip() for name in _SUMMARY_COLUMNS.split(","))
_VERSION = _SUMMARY_NAMES.index("version")
_ASSIGNEES = _SUMMARY_NAMES.index("follow_up_assignees")
_SELECT_AGENT = "SELECT data FROM agents WHERE agent_id = ?"
_SELECT_SUMMARY = f"SELECT {_SUMMARY_COLUMNS} FROM cases WHERE case_id = ?"  # noqa: S608 - constant columns
_INSERT_SUMMARY = (
    f"INSERT INTO cases ({_SUMMARY_COLUMNS}) "  # noqa: S608 - constant columns
    f"VALUES ({', '.join('?' for _ in _SUMMARY_NAMES)})"
)


_INSERT_EVENT = "INSERT INTO events (case_id, version, data) VALUES (?, ?, ?)"
_NEXT_DUE = _SUMMARY_NAMES.index("next_due")
_COLUMNS = range(len(_SUMMARY_NAMES))
_REMEMBERED = 4096
"""How many cases' index entries a store keeps to skip reading them again on append."""
_UNKNOWN = object()
"""A remembered entry's next due time: unknown, equal to nothing (see `_remember`)."""


@functools.lru_cache(maxsize=256)
def _update_summary(changed: tuple[int, ...]) -> str:
    """The UPDATE of the index entry's columns at the positions `changed`, if at a version.

    One string per set of columns, so that sqlite3's statement cache prepares each once.
    """
    columns = ", ".join(f"{_SUMMARY_NAMES[n]} = ?" for n in changed)
    return f"UPDATE cases SET {columns} WHERE case_id = ? AND version = ?"  # noqa: S608 - constant columns


def _micros(moment: datetime) -> int:
    """Microseconds since the epoch: an integer that sorts like the instant."""
    return (moment - _EPOCH) // _MICROSECOND


def _instant(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


class _Guard:
    """A ``with`` block that reports SQLite's own failures as a `StoreError` naming the file.

    A class rather than a generator-based context manager: every read and append
    enters one, and this one is made once per store and costs two plain calls.
    """

    __slots__ = ("_path",)

    def __init__(self, path: Path) -> None:
        self._path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, _: object) -> None:
        if isinstance(error, sqlite3.DatabaseError):
            msg = f"{str(self._path)!r} cannot be used: {error}"
            raise StoreError(msg) from error
        if isinstance(error, UnicodeEncodeError):  # a lone surrogate in an id asked for
            msg = f"{error.object!r} cannot be looked up: it is not valid Unicode text"
            raise InvalidValue(msg) from None


class SQLiteStore:
    """Cases, events, the index, idempotency records and agents in one SQLite file.

    Safe to share between threads (one connection behind a lock) and between
    processes (each opens its own `SQLiteStore` on the same file).

    Args:
        path: the database file; created if it does not exist.
        timeout: seconds a writer waits for another process's transaction.
        synchronous: SQLite's ``synchronous`` setting; ``"FULL"`` (the default)
            makes every acknowledged append survive a power cut, ``"NORMAL"``
            survives a crash of the process only, and is faster.
        check_integrity: run ``PRAGMA quick_check`` when opening an existing
            file (it reads the whole file once), so that a damaged file is
            refused before anything is written to it.

    Raises:
        StoreError: the file is not a servicekit database, or is damaged.
        IncompatibleStore: the file was written by a newer servicekit.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        synchronous: str = "FULL",
        check_integrity: bool = True,
    ) -> None:
        """Open (or create) the file, check it, and migrate an older schema."""
        if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            msg = f"synchronous is OFF, NORMAL, FULL or EXTRA, got {synchronous!r}"
            raise InvalidValue(msg)
        self.path = Path(path)
        self._lock = threading.RLock()
        self._entries: dict[str, tuple[Any, ...]] = {}  # see `_write`
        self._timeout = timeout
        self._guarded = _Guard(self.path)  # SQLite's failures as StoreError, naming the file
        _check_header(self.path)
        try:
            self._db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            # One cursor for the statements of every command (an append and the agent
            # look-up before it), instead of a new one per statement. Its SELECTs are
            # read to the end (`fetchall`), which ends the statement: a statement left
            # open would hold its snapshot for whatever the connection reads next.
            self._cursor = self._db.cursor()
        except sqlite3.Error as error:
            msg = f"cannot open {str(self.path)!r} as a servicekit database: {error}"
            raise StoreError(msg) from error
        try:
            with self._guarded:
                self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
                # Read the identity inside a transaction: the main file's header lags
                # behind the write-ahead log while another process has the file open.
                with self._transaction():
                    version = self._identify()
                if version is not None and check_integrity:
                    self._check_integrity()
                self._use_wal()
                self._db.execute(f"PRAGMA synchronous = {synchronous}")
                if version != SCHEMA_VERSION:
                    self._migrate()
        except BaseException:
            self._db.close()
            raise

    def __repr__(self) -> str:
        """Name the file."""
        return f"SQLiteStore({str(self.path)!r})"

    def close(self) -> None:
        """Close the connection; the store cannot be used afterwards."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        """Use the store in a ``with`` block that closes it."""
        return self

    def __exit__(self, *_: object) -> None:
        """Close the store."""
        self.close()

    # -- opening --------------------------------------------------------------------------

    def _check_integrity(self) -> None:
        problems = [row[0] for row in self._db.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            msg = f"{str(self.path)!r} is damaged: {'; '.join(problems)}"
            raise StoreError(msg)

    def _identify(self) -> int | None:
        """The schema version of this servicekit file, or None for a new, empty one.

        Raises `StoreError` for another application's database and
        `IncompatibleStore` for a newer servicekit's. Runs inside a transaction.
        """
        application_id = self._db.execute("PRAGMA application_id").fetchone()[0]
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if application_id == 0 and version == 0:
            tables = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables == 0:
                return None
        _check_identity(self.path, application_id, version)
        return int(version)

    def _use_wal(self) -> None:
        """Switch the file to WAL, waiting out the other processes that open it meanwhile.

        Switching a new file from its rollback journal to WAL takes an exclusive lock
        without calling the busy handler, so a process that meets another one reading
        the file gets SQLITE_BUSY at once: retry until the store's timeout.
        """
        deadline = time.monotonic() + self._timeout
        pause = 0.001
        while True:
            try:
                mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
            else:
                if mode == "wal":
                    return
                msg = f"{str(self.path)!r} cannot be switched to WAL mode (it stays in {mode!r})"
                raise StoreError(msg)
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def _migrate(self) -> None:
        """Create the schema, or bring an older one up to date, under the write lock.

        The version is read again after taking the lock: another process may have
        created or migrated the file meanwhile.
        """
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._identify() or 0
            if version == SCHEMA_VERSION:  # another process got here first
                self._db.execute("COMMIT")
                return
            for step in range(version, SCHEMA_VERSION):
                script, fill = _MIGRATIONS[step]
                for statement in _statements(script):
                    self._db.execute(statement)
                if fill is not None:
                    fill(self._db)
            self._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    @contextmanager
    def _transaction(self, begin: str = "BEGIN") -> Iterator[sqlite3.Connection]:
        """One transaction under the lock: committed on success, rolled back on any error."""
        with self._lock, self._guarded:
            self._db.execute(begin)
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, parameters: Sequence[object] = ()) -> list[Any]:
        """The rows of one SELECT, under the lock.

        One statement needs no BEGIN and COMMIT around it: in autocommit mode SQLite
        runs it in a read transaction of its own, so it sees one committed state.
        """
        with self._lock, self._guarded:
            return self._db.execute(sql, parameters).fetchall()

    # -- the contract ---------------------------------------------------------------------

    def load(self, case_id: str, *, after_version: int = 0) -> CaseHistory:
        """The case's events after `after_version`, and its current version."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT position, version, data FROM events "
                "WHERE case_id = ? AND version > ? ORDER BY version",
                (case_id, after_version),
            ).fetchall()
            row = db.execute("SELECT version FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        events = _rebuild(rows, case_id, max(after_version, 0) + 1)
        return CaseHistory(case_id, events, 0 if row is None else row[0])

    def append(  # noqa: PLR0913 - the contract's options, keyword-only
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
        """Append atomically, or raise `ConcurrencyConflict` and write nothing.

        The conflict means the version moved, the idempotency key is used, an
        agent of `require_active` is not registered and active, or the append
        breaks the `capacity` claim (counted under the write lock).
        """
        check_append(
            case_id,
            events,
            expected_version,
            summary,
            idempotency=idempotency,
            require_active=require_active,
        )
        rows = [(case_id, event.version, event_to_json(event)) for event in events]
        entry = _summary_row(summary)
        db = self._cursor
        with self._lock, self._guarded:
            db.execute("BEGIN IMMEDIATE")
            try:
                self._write(case_id, rows, entry, expected_version, summary, idempotency)
                # `_write` found the case at `expected_version`: that is the version a
                # conflict names, not the one the write (rolled back) has reached.
                if require_active:
                    reason = inactive_agent(require_active, self._read_agent)
                    if reason is not None:
                        self._conflict(case_id, expected_version, reason, at=expected_version)
                if capacity is not None and (reason := _over_capacity(self._db, capacity, summary)):
                    self._conflict(case_id, expected_version, reason, at=expected_version)
                db.execute("COMMIT")
            except BaseException:
                self._entries.pop(case_id, None)
                db.execute("ROLLBACK")
                raise
            self._remember(case_id, entry)
        return events[-1].version

    def _write(  # noqa: PLR0913, PLR0917 - one append's parts, from `append` only
        self,
        case_id: str,
        rows: list[tuple[str, int, str]],
        entry: tuple[Any, ...],
        expected_version: int,
        summary: CaseSummary,
        idempotency: IdempotencyRecord | None,
    ) -> None:
        """Check the version and the key, then write the events and the index entry.

        The index entry this connection last wrote or read for the case stands in
        for reading it again when it is at `expected_version`: the events' INSERT
        fails under UNIQUE(case_id, version) if another writer got past that version,
        and the UPDATE names the version, so a stale remembered entry writes nothing
        (see `_remember`). Runs in `append`'s write transaction.
        """
        db = self._cursor
        row = self._entries.get(case_id)
        if row is None or row[_VERSION] != expected_version:
            found = db.execute(_SELECT_SUMMARY, (case_id,)).fetchall()
            row = found[0] if found else None
            current = 0 if row is None else row[_VERSION]
            if current != expected_version:
                raise ConcurrencyConflict(case_id, expected_version, current)
        if (
            idempotency is not None
            and db.execute("SELECT 1 FROM idempotency WHERE key = ?", (idempotency.key,)).fetchall()
        ):
            self._conflict(
                case_id,
                expected_version,
                f"idempotency key {idempotency.key!r} was used meanwhile",
            )
        try:
            db.executemany(_INSERT_EVENT, rows)
        except sqlite3.IntegrityError:
            self._conflict(case_id, expected_version)
        if row is None:
            db.execute(_INSERT_SUMMARY, entry)
        else:  # only the columns that changed, so that only their indexes are touched
            changed = tuple([n for n in _COLUMNS if row[n] != entry[n]])
            updated = db.execute(
                _update_summary(changed), [*(entry[n] for n in changed), case_id, expected_version]
            )
            if updated.rowcount != 1:
                self._conflict(case_id, expected_version)
            if entry[_ASSIGNEES] != row[_ASSIGNEES]:
                db.execute("DELETE FROM case_follow_ups WHERE case_id = ?", (case_id,))
        if entry[_ASSIGNEES] != (_NO_ASSIGNEES if row is None else row[_ASSIGNEES]):
            db.executemany(
                "INSERT INTO case_follow_ups VALUES (?, ?)",
                [(agent_id, case_id) for agent_id in summary.follow_up_assignee_ids],
            )
        if idempotency is not None:
            db.execute(
                "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?)",
                (
                    idempotency.key,
                    idempotency.case_id,
                    idempotency.fingerprint,
                    idempotency.first_version,
                    idempotency.last_version,
                ),
            )

    def _conflict(
        self, case_id: str, expected_version: int, detail: str = "", *, at: int | None = None
    ) -> NoReturn:
        """Raise the `ConcurrencyConflict` of an append, with the version the case is at.

        `at` is that version when the caller knows it (the append's own write, rolled
        back after, would be read here); otherwise it is read.
        """
        if at is None:
            row = self._db.execute(
                "SELECT version FROM cases WHERE case_id = ?", (case_id,)
            ).fetchone()
            at = 0 if row is None else row[0]
        raise ConcurrencyConflict(case_id, expected_version, at, detail=detail)

    def _remember(self, case_id: str, entry: tuple[Any, ...]) -> None:
        """Keep the index entry just committed for the case's next append (see `_write`).

        It stays true while the case is at its version: only an append changes the
        columns, and it gives a new version, except the next due time, which
        `set_next_due` (of any process) changes at the same version. That one is
        kept as unknown, equal to nothing, so that the next append writes it.
        """
        entries = self._entries
        entries.pop(case_id, None)
        if len(entries) >= _REMEMBERED:
            del entries[next(iter(entries))]  # the least recently written
        entries[case_id] = (*entry[:_NEXT_DUE], _UNKNOWN, *entry[_NEXT_DUE + 1 :])

    def set_next_due(self, case_id: str, *, version: int, next_due: datetime | None) -> bool:
        """Replace the case's next due time if the case is still at `version`."""
        due = None if next_due is None else _micros(utc(next_due, what="next_due"))
        with self._transaction("BEGIN IMMEDIATE") as db:
            cursor = db.execute(
                "UPDATE cases SET next_due = ? WHERE case_id = ? AND version = ?",
                (due, case_id, version),
            )
            return cursor.rowcount == 1

    def read_all(self, *, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Events of every case in commit order, from position `after` + 1 on."""
        rows = self._read(
            "SELECT position, data FROM events WHERE position > ? ORDER BY position LIMIT ?",
            (after, -1 if limit is None else max(limit, 0)),
        )
        return [StoredEvent(position, _decode(position, data)) for position, data in rows]

    def find_cases(  # noqa: PLR0913 - one keyword-only option per indexed criterion
        self,
        *,
        owner: str | None = None,
        steward: str | None = None,
        customer: str | None = None,
        stage: str | None = None,
        workflow: str | None = None,
        follow_up_assignee: str | None = None,
    ) -> list[CaseSummary]:
        """Index entries matching every given criterion, by opening time then id."""
        criteria = {
            "owner_id": owner,
            "steward_id": steward,
            "customer_id": customer,
            "stage": stage,
            "workflow": workflow,
        }
        given = {column: value for column, value in criteria.items() if value is not None}
        clauses = [f"{column} = ?" for column in given]
        if follow_up_assignee is not None:
            clauses.append("case_id IN (SELECT case_id FROM case_follow_ups WHERE agent_id = ?)")
            given["follow_up_assignee"] = follow_up_assignee
        where = " AND ".join(clauses) or "1"
        rows = self._read(
            f"SELECT {_SUMMARY_COLUMNS} FROM cases WHERE {where} "  # noqa: S608 - constant columns
            "ORDER BY opened_at, case_id",
            tuple(given.values()),
        )
        return [_summary(row) for row in rows]

    def find_due(
        self, *, until: datetime | None = None, limit: int | None = None
    ) -> list[CaseSummary]:
        """Index entries due at or before `until` (any, if None), earliest first."""
        bound = _micros(utc(until, what="until")) if until is not None else 2**62
        rows = self._read(
            f"SELECT {_SUMMARY_COLUMNS} FROM cases "  # noqa: S608 - constant columns
            "WHERE next_due IS NOT NULL AND next_due <= ? ORDER BY next_due, case_id LIMIT ?",
            (bound, -1 if limit is None else max(limit, 0)),
        )
        return [_summary(row) for row in rows]

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        """The record of the first command that used `key`, if any."""
        rows = self._read(
            "SELECT key, case_id, fingerprint, first_version, last_version "
            "FROM idempotency WHERE key = ?",
            (key,),
        )
        return IdempotencyRecord(*rows[0]) if rows else None

    def put_agent(self, agent: Agent, *, expected: Agent | None = None) -> bool:
        """Add or replace an agent; with `expected`, only if that is the record held now.

        The comparison is made under the write lock (``BEGIN IMMEDIATE``), so no
        other connection can change the agent between it and the write.
        """
        check_agent(agent, expected=expected)
        data = json.dumps(agent_to_dict(agent))
        with self._transaction("BEGIN IMMEDIATE") as db:
            if expected is not None and self._read_agent(agent.id) != expected:
                return False
            db.execute("INSERT OR REPLACE INTO agents VALUES (?, ?)", (agent.id, data))
            db.execute("DELETE FROM agent_teams WHERE agent_id = ?", (agent.id,))
            db.executemany(
                "INSERT INTO agent_teams VALUES (?, ?)", [(team, agent.id) for team in agent.teams]
            )
        return True

    def get_agent(self, agent_id: str) -> Agent | None:
        """The agent with this id, if registered."""
        with self._lock, self._guarded:
            rows = self._cursor.execute(_SELECT_AGENT, (agent_id,)).fetchall()
        return _agent(rows[0][0]) if rows else None

    def _read_agent(self, agent_id: str) -> Agent | None:
        """The agent with this id, read in the transaction already open."""
        row = self._db.execute(_SELECT_AGENT, (agent_id,)).fetchone()
        return None if row is None else _agent(row[0])

    def agents(self) -> list[Agent]:
        """Every registered agent, ordered by id."""
        rows = self._read("SELECT data FROM agents ORDER BY agent_id")
        return [_agent(data) for (data,) in rows]

    def agents_in_team(self, team: str, *, role: Role | None = None) -> list[Agent]:
        """The registered agents who belong to `team` (and hold `role`, if given), by id."""
        if role is None:
            rows = self._read(_IN_TEAM, (team,))
        else:
            # The roles are in each agent's JSON: SQLite filters there, so only the
            # agents found are decoded (no schema change).
            rows = self._read(_IN_TEAM_WITH_ROLE, (team, role.value))
        return [_agent(data) for (data,) in rows]

    # -- checkpoints for the outbox -------------------------------------------------------

    def checkpoint(self, name: str) -> int:
        """The last position the consumer `name` has handled (0 if none yet)."""
        rows = self._read("SELECT position FROM checkpoints WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0

    def save_checkpoint(self, name: str, position: int) -> None:
        """Record that the consumer `name` has handled every event up to `position`."""
        with self._transaction("BEGIN IMMEDIATE") as db:
            db.execute("INSERT OR REPLACE INTO checkpoints VALUES (?, ?)", (name, position))


def _check_header(path: Path) -> None:
    """Refuse, before SQLite opens it, a file that is not SQLite or names another application.

    A header that names no application (id 0) proves nothing yet: it may be a
    new servicekit file whose schema is still in the write-ahead log of the
    process that created it. `SQLiteStore._identify` decides inside a transaction.
    """
    try:
        with path.open("rb") as file:
            header = file.read(_HEADER_SIZE)
    except FileNotFoundError:
        return
    except OSError as error:
        msg = f"cannot read {str(path)!r}: {error}"
        raise StoreError(msg) from error
    if not header:
        return
    if len(header) < _HEADER_SIZE or not header.startswith(_SQLITE_MAGIC):
        msg = f"{str(path)!r} is not a servicekit database (not an SQLite file, or truncated)"
        raise StoreError(msg)
    application_id = int.from_bytes(header[68:72], "big")
    if application_id != 0:
        _check_identity(path, application_id, int.from_bytes(header[60:64], "big"))


def _check_identity(path: Path, application_id: int, version: int) -> None:
    """Refuse another application's database, and one from a newer servicekit."""
    if application_id != APPLICATION_ID:
        msg = (
            f"{str(path)!r} is an SQLite database of another application "
            f"(application id {application_id:#x}), not a servicekit database"
        )
        raise StoreError(msg)
    if version > SCHEMA_VERSION:
        msg = (
            f"{str(path)!r} was written by a newer servicekit (schema {version}); this version "
            f"reads schemas up to {SCHEMA_VERSION}: upgrade servicekit"
        )
        raise IncompatibleStore(msg)


def _statements(script: str) -> list[str]:
    return [statement.strip() for statement in script.split(";") if statement.strip()]


def _decode(position: int, data: str) -> Event:
    return event_from_json(data, where=f"position {position}")


def _parse(position: int, data: str) -> object:
    try:
        return json.loads(data)
    except json.JSONDecodeError as error:
        msg = f"the event at position {position} is not valid JSON: {error}"
        raise CorruptHistory(msg) from error


def _checked(position: int, loaded: object) -> Event:
    """The event, every field checked (`event_from_dict`); `CorruptHistory` naming the row."""
    try:
        return event_from_dict(loaded)
    except CorruptHistory as error:
        msg = f"position {position}: {error}"
        raise CorruptHistory(msg) from error


# -- loading rows this store wrote ------------------------------------------------------------
#
# `load` is the hot read: every command on an uncached case replays its history. A row
# is *trusted* when it has exactly the shape `event_to_dict` gives the current schema
# of a known event type (keys in their written order), its case id and version equal
# the row's own columns (which the store wrote from the same event, under
# UNIQUE(case_id, version)), and every payload value has the JSON type its field is
# written as. A trusted row skips the general decoder's per-field dispatch: plain text
# and number fields are taken as stored, and only the fields that need a conversion
# (times, actors, enums, amounts) go through their loaders, which still refuse a
# malformed value. Anything else (an older schema to upcast, or damage) takes
# `event_from_dict`, which names the problem precisely.


@attrs.frozen
class _Plan:
    """How to rebuild a trusted row of one event type (built once per type)."""

    kind: type[EventBase]
    build: Callable[..., Event]  # the event from all of its fields, by position (slot_builder)
    schema_version: int
    payload_keys: tuple[str, ...]  # in the order event_to_dict writes them
    json_types: frozenset[tuple[type, ...]]  # every allowed tuple of payload value types
    conversions: tuple[tuple[int, Callable[[Any], Any]], ...]  # (index in the values, loader)


_PLANS: dict[str, _Plan] = {}
_TOP_KEY_COUNT = len(EVENT_KEYS)
_SCAN = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type] # typeshed's TODO
"""The standard library's C scanner behind `json.loads`, called without the Python
wrapper around it (which costs about as much per short row as the scanning)."""
_PLAIN = (str, int, bool, str | None, int | None)
_MAX_SHAPES = 64


def _json_types(hint: object) -> tuple[type, ...]:
    """The JSON types a field of this type is written as."""
    arguments = typing.get_args(hint)
    if type(None) in arguments and len(arguments) == 2:  # noqa: PLR2004 - X | None
        (inner,) = (argument for argument in arguments if argument is not type(None))
        return (*_json_types(inner), type(None))
    if hint in (str, int, bool):
        return (hint,)
    if hint is Agent or set(arguments) == {Agent, Customer, System}:
        return (dict,)
    return (str,)  # times, amounts, channels and enums are written as text


def _plans() -> dict[str, _Plan]:
    """The plan of every event type, built on first use."""
    if not _PLANS:
        for name, kind in EVENT_TYPES.items():
            hints = get_type_hints(kind)
            payload = [
                (field, load) for field, load in field_loaders(kind) if field not in BASE_FIELDS
            ]
            shapes = frozenset(itertools.product(*(_json_types(hints[f]) for f, _ in payload)))
            if len(shapes) <= _MAX_SHAPES:  # else its rows take the checked path
                _PLANS[name] = _Plan(
                    kind,
                    slot_builder(kind),
                    SCHEMA_VERSIONS[name],
                    tuple(field for field, _ in payload),
                    shapes,
                    tuple(
                        (index, load)
                        for index, (field, load) in enumerate(payload, start=len(BASE_FIELDS))
                        if hints[field] not in _PLAIN
                    ),
                )
    return _PLANS


def _rebuild(  # noqa: C901 - the hot loop of every load, written out on purpose
    rows: list[tuple[int, int, str]], case_id: str, first: int
) -> tuple[Event, ...]:
    """The events of a case's rows, numbered on from `first`; `CorruptHistory` at any damage.

    Trusted rows (see above) are rebuilt inline, in this one function with local
    names, because it runs once per stored event of every case that is loaded.
    """
    events: list[Event] = []
    append, scan, parse_time, plans = events.append, _SCAN, datetime.fromisoformat, _plans()
    stored_actor: object = None
    actor: Actor | None = None
    expected = first
    for position, version, data in rows:
        if version != expected:
            raise _gap(case_id, position, expected, version)
        expected += 1
        try:
            loaded, end = scan(data, 0)
        except (StopIteration, ValueError):
            end = -1
        if end != len(data):  # not one JSON value alone: json.loads names the problem
            loaded = _parse(position, data)
        try:
            plan = plans[loaded["type"]]
            payload = loaded["payload"]
            if (
                len(loaded) == _TOP_KEY_COUNT
                and loaded["case_id"] == case_id
                and loaded["version"] == version
                and type(loaded["version"]) is int
                and loaded["schema_version"] == plan.schema_version
                and type(loaded["schema_version"]) is int
                and tuple(payload) == plan.payload_keys
                and tuple(map(type, payload.values())) in plan.json_types
            ):
                given = loaded["actor"]
                # The row before's actor is reused only for an equal dict whose values
                # are of the same JSON types too: `1 == True` in Python, so an "active"
                # that is not a boolean, or a capacity (whose limits are numbers), is
                # decoded again and refused there if damaged.
                if (
                    actor is None
                    or given != stored_actor
                    or type(given.get("active", False)) is not bool
                    or "capacity" in given
                ):
                    stored_actor, actor = given, actor_from_dict(given)
                moment = parse_time(loaded["at"])
                if moment.tzinfo is not None:
                    if not plan.conversions:
                        append(plan.build(case_id, version, moment, actor, *payload.values()))
                        continue
                    values = [case_id, version, moment, actor, *payload.values()]
                    for index, load in plan.conversions:
                        values[index] = load(values[index])
                    append(plan.build(*values))
                    continue
        except (ServiceKitError, ValueError, TypeError, KeyError, AttributeError):
            pass  # not a trusted row: the checked path names the problem
        event = _checked(position, loaded)
        if event.version != version or event.case_id != case_id:
            raise _gap(case_id, position, version, event.version)
        append(event)
    return tuple(events)


def _gap(case_id: str, position: int, expected: int, found: int) -> CorruptHistory:
    msg = (
        f"case {case_id!r} has a gap or a mismatch in its history at position "
        f"{position}: expected version {expected}, found {found}"
    )
    return CorruptHistory(msg)


@functools.lru_cache(maxsize=1024)
def _agent(data: str) -> Agent:
    """The agent stored as `data`, decoded once per distinct text (an `Agent` is frozen).

    The desk reads the acting agent on every command; most read the same few rows.
    """
    try:
        return agent_from_dict(json.loads(data))
    except (json.JSONDecodeError, InvalidValue) as error:
        msg = f"a stored agent is malformed: {error}"
        raise StoreError(msg) from error


def _over_capacity(
    db: sqlite3.Connection, claim: CapacityClaim, summary: CaseSummary
) -> str | None:
    """Why the append breaks `claim`, counting the agent's entries under the write lock."""
    held = db.execute(
        f"SELECT {_SUMMARY_COLUMNS} FROM cases "  # noqa: S608 - constant columns
        "WHERE owner_id = ? AND channel = ? AND finished = 0",
        (claim.agent_id, claim.channel),
    ).fetchall()
    return over_capacity(claim, summary, map(_summary, held))


def _summary_row(summary: CaseSummary) -> tuple[Any, ...]:
    return (
        summary.case_id,
        summary.customer_id,
        summary.workflow,
        summary.stage,
        summary.category.value,
        int(summary.finished),
        summary.owner_id,
        summary.steward_id,
        summary.version,
        _micros(summary.opened_at),
        _micros(summary.updated_at),
        None if summary.next_due is None else _micros(summary.next_due),
        _assignees_text(summary.follow_up_assignee_ids),
        summary.channel,
    )


_NO_ASSIGNEES = "[]"


def _assignees_text(assignees: Iterable[str]) -> str:
    if not assignees:
        return _NO_ASSIGNEES  # the usual case: no open follow-up
    return json.dumps(sorted(assignees), separators=(",", ":"))


def _summary(row: tuple[Any, ...]) -> CaseSummary:
    (
        case_id,
        customer,
        workflow,
        stage,
        category,
        finished,
        owner,
        steward,
        version,
        opened,
        updated,
        due,
        assignees,
        channel,
    ) = row
    return CaseSummary(
        case_id,
        customer,
        workflow,
        stage,
        StatusCategory(category),
        bool(finished),
        owner,
        steward,
        version,
        _instant(opened),
        _instant(updated),
        None if due is None else _instant(due),
        _NOBODY if assignees == _NO_ASSIGNEES else frozenset(json.loads(assignees)),
        channel,
    )


_NOBODY: frozenset[str] = frozenset()
