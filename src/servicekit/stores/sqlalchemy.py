"""`SQLAlchemyStore`: servicekit's data in PostgreSQL, through SQLAlchemy 2 Core and psycopg 3.

Install with the extra: ``pip install 'servicekit[postgres]'``.

Design notes (see also DESIGN.md's pitfalls and docs/postgres.md):

- The tables are declared on `metadata`, so that a host application lists them
  in its own Alembic migrations; `SQLAlchemyStore.create_tables` is there for
  those who do not migrate.
- One transaction per append: events, the index entry and the idempotency
  record are written together or not at all. The case's index row is locked
  first (``SELECT ... FOR UPDATE``), and ``UNIQUE (case_id, version)`` catches a
  writer that got past the version check anyway.
- `SQLAlchemyStore.bind` joins the host's own transaction: events and the host's
  rows commit or roll back together. A refused append rolls back to a savepoint,
  so the host's transaction stays usable.
- The global order is gap-free without a lock that writers share. Writers insert
  their events without a position; `read_all` numbers the committed events that
  have none yet, in insertion order, under a transaction-scoped advisory lock
  that only readers take. A reader therefore never sees position 11 before 10:
  positions are handed out after commit, by one numberer at a time, and a later
  event of a case is always inserted (so numbered) after the earlier ones.
  Writers never wait for readers nor for one another, except on the same case.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from servicekit._values import utc
from servicekit.errors import ConcurrencyConflict, CorruptHistory, InvalidValue, StoreError
from servicekit.events import Event
from servicekit.ownership import Agent, Role
from servicekit.serialization import agent_from_dict, agent_to_dict, event_from_json, event_to_json
from servicekit.stores.base import (
    CapacityClaim,
    CaseHistory,
    CaseSummary,
    IdempotencyRecord,
    StoredEvent,
    check_agent,
    check_append,
    inactive_agent,
    over_capacity,
)
from servicekit.workflow import StatusCategory

__all__ = ["SUPPORTED_DIALECTS", "SQLAlchemyStore", "metadata"]

SUPPORTED_DIALECTS = frozenset({"postgresql"})
"""The SQLAlchemy dialects the store has passed the store contract on."""

_NUMBERER_LOCK = 0x53564B54_00000001
"""The advisory lock key (bigint) under which `read_all` numbers new events: "SVKT", 1."""

metadata = sa.MetaData()
"""servicekit's tables, for a host application's Alembic migrations (``target_metadata``)."""

events = sa.Table(
    "servicekit_events",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=True),
    sa.Column("case_id", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.UniqueConstraint("case_id", "version", name="servicekit_events_case_version"),
    sa.Index("servicekit_events_by_position", "position", unique=True),
    sa.Index(
        "servicekit_events_unnumbered",
        "id",
        postgresql_where=sa.text("position IS NULL"),
    ),
    comment="Every event of every case; position is its place in the global order.",
)

cases = sa.Table(
    "servicekit_cases",
    metadata,
    sa.Column("case_id", sa.Text, primary_key=True),
    sa.Column("customer_id", sa.Text, nullable=False),
    sa.Column("workflow", sa.Text, nullable=False),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("finished", sa.Boolean, nullable=False),
    sa.Column("owner_id", sa.Text, nullable=True),
    sa.Column("steward_id", sa.Text, nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_due", sa.DateTime(timezone=True), nullable=True),
    sa.Column(
        "follow_up_assignees",
        postgresql.ARRAY(sa.Text),
        nullable=False,
        comment="The agents with an open follow-up on the case.",
    ),
    sa.Column("channel", sa.Text, nullable=True),
    sa.Column("claimed_by", sa.Text, nullable=True),
    sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
    sa.Index("servicekit_cases_by_owner", "owner_id", "opened_at", "case_id"),
    sa.Index("servicekit_cases_by_steward", "steward_id", "opened_at", "case_id"),
    sa.Index("servicekit_cases_by_customer", "customer_id", "opened_at", "case_id"),
    sa.Index("servicekit_cases_by_stage", "stage", "opened_at", "case_id"),
    sa.Index("servicekit_cases_by_workflow", "workflow", "opened_at", "case_id"),
    sa.Index(
        "servicekit_cases_by_follow_up_assignee", "follow_up_assignees", postgresql_using="gin"
    ),
    sa.Index("servicekit_cases_by_owner_channel", "owner_id", "channel"),
    sa.Index("servicekit_cases_by_opening", "opened_at", "case_id"),
    sa.Index(
        "servicekit_cases_by_due",
        "next_due",
        "case_id",
        postgresql_where=sa.text("next_due IS NOT NULL"),
    ),
    comment="The query index: one row per case, written with its events.",
)

idempotency_keys = sa.Table(
    "servicekit_idempotency",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("case_id", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("first_version", sa.Integer, nullable=False),
    sa.Column("last_version", sa.Integer, nullable=False),
)

agents = sa.Table(
    "servicekit_agents",
    metadata,
    sa.Column("agent_id", sa.Text, primary_key=True),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("teams", postgresql.ARRAY(sa.Text), nullable=False),
    sa.Index("servicekit_agents_by_team", "teams", postgresql_using="gin"),
)

checkpoints = sa.Table(
    "servicekit_checkpoints",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)

_SUMMARY = (
    cases.c.case_id,
    cases.c.customer_id,
    cases.c.workflow,
    cases.c.stage,
    cases.c.category,
    cases.c.finished,
    cases.c.owner_id,
    cases.c.steward_id,
    cases.c.version,
    cases.c.opened_at,
    cases.c.updated_at,
    cases.c.next_due,
    cases.c.follow_up_assignees,
    cases.c.channel,
)

_UPSERT_CASE = postgresql.insert(cases)
_UPSERT_CASE = _UPSERT_CASE.on_conflict_do_update(
    index_elements=[cases.c.case_id],
    set_={
        **{column.name: _UPSERT_CASE.excluded[column.name] for column in _SUMMARY[1:]},
        "claimed_by": None,  # an append ends a tick's claim on the case
        "claimed_until": None,
    },
)

_CLAIM = sa.text(
    """
    WITH picked AS (
        SELECT case_id FROM servicekit_cases
        WHERE next_due IS NOT NULL AND next_due <= :until
          AND (claimed_until IS NULL OR claimed_until < clock_timestamp() OR claimed_by = :me)
        ORDER BY next_due, case_id LIMIT :batch
        FOR UPDATE SKIP LOCKED
    )
    UPDATE servicekit_cases AS c
    SET claimed_by = :me, claimed_until = clock_timestamp() + :lease
    FROM picked WHERE c.case_id = picked.case_id
    RETURNING c.case_id, c.customer_id, c.workflow, c.stage, c.category, c.finished,
              c.owner_id, c.steward_id, c.version, c.opened_at, c.updated_at, c.next_due,
              c.follow_up_assignees, c.channel
    """
)
"""Claim a batch of due cases that no other live claim holds (see `SQLAlchemyStore`)."""

_NUMBER = sa.text(
    """
    WITH todo AS (
        SELECT id, row_number() OVER (ORDER BY id) AS n
        FROM servicekit_events WHERE position IS NULL ORDER BY id LIMIT :batch
    ), base AS (
        SELECT coalesce(max(position), 0) AS top FROM servicekit_events
    )
    UPDATE servicekit_events AS e SET position = base.top + todo.n
    FROM todo, base WHERE e.id = todo.id
    """
)
"""Give the committed events without a position the next positions, in insertion order."""

_NUMBER_BATCH = 50_000

_LOAD = sa.union_all(
    sa.select(sa.null().label("id"), cases.c.version, sa.null().label("data")).where(
        cases.c.case_id == sa.bindparam("case_id")
    ),
    sa.select(events.c.id, events.c.version, events.c.data).where(
        events.c.case_id == sa.bindparam("case_id"), events.c.version > sa.bindparam("after")
    ),
)
"""A case's version (a row without an id) and its events after a version, in one statement."""


class SQLAlchemyStore:
    """Cases, events, the index, idempotency records and agents in PostgreSQL.

    Safe to share between threads (each call takes a connection from the engine's
    pool) and between processes and machines (each has its own engine on the
    same database).

    Ticking from several processes: each due timer fires exactly once whatever
    the options, because a fired timer is in the case's history and a tick that
    loses the race to append decides again. With `tick_lease`, the store also
    spares the workers that duplicate work: `find_due` with an `until` (what
    `ServiceDesk.tick` asks) claims up to `tick_batch` due cases that no other
    worker holds (``FOR UPDATE SKIP LOCKED``), for `tick_lease`, and returns only
    those; an append to a case ends its claim, and the claims of a worker that
    died lapse after `tick_lease`. A tick then fires one batch: call it until
    nothing is due.

    Args:
        engine: a SQLAlchemy engine on PostgreSQL (``postgresql+psycopg://...``).
            Put servicekit's tables in another schema with the connections'
            ``search_path`` (``connect_args={"options": "-c search_path=..."}``).

        tick_lease: how long a worker's claim on due cases lasts (None: no claims).
        tick_batch: how many due cases one claim takes at most.

    Raises:
        StoreError: the engine is not on a dialect the store supports.
        InvalidValue: a lease or batch that is not positive.
    """

    def __init__(
        self,
        engine: Engine | Connection,
        *,
        tick_lease: timedelta | None = None,
        tick_batch: int = 100,
    ) -> None:
        """Use `engine`; nothing is read or written until the first call."""
        if tick_lease is not None and (
            not isinstance(tick_lease, timedelta) or tick_lease <= timedelta(0)
        ):
            msg = f"tick_lease must be a positive timedelta or None, got {tick_lease!r}"
            raise InvalidValue(msg)
        if isinstance(tick_batch, bool) or not isinstance(tick_batch, int) or tick_batch < 1:
            msg = f"tick_batch must be a whole number from 1, got {tick_batch!r}"
            raise InvalidValue(msg)
        self.tick_lease = tick_lease
        self.tick_batch = tick_batch
        self._worker = uuid.uuid4().hex
        given: object = engine  # checked at run time: a host may pass anything
        if not isinstance(given, Engine | Connection):
            msg = f"SQLAlchemyStore needs a SQLAlchemy Engine, got {type(given).__name__}"
            raise InvalidValue(msg)
        dialect = engine.dialect.name
        if dialect not in SUPPORTED_DIALECTS:
            msg = (
                f"SQLAlchemyStore supports {', '.join(sorted(SUPPORTED_DIALECTS))} only, "
                f"got an engine on {dialect!r}; use SQLiteStore for SQLite"
            )
            raise StoreError(msg)
        self.engine = engine.engine if isinstance(engine, Connection) else engine
        self._connection = engine if isinstance(engine, Connection) else None
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        """Name the database (without a password) and say whether it is bound."""
        url = self.engine.url.render_as_string(hide_password=True)
        bound = ", bound to a connection" if self._connection is not None else ""
        return f"SQLAlchemyStore({url!r}{bound})"

    def bind(self, connection: Connection) -> SQLAlchemyStore:
        """A store that works inside `connection`'s transaction, the host's own.

        Everything the returned store writes commits or rolls back with the host's
        transaction. A refused append (a `ConcurrencyConflict`) rolls back to a
        savepoint and leaves the host's transaction usable. `read_all` numbers
        and reads committed events only, so it sees the host's events once the
        host commits.
        """
        given: object = connection  # checked at run time: a host may pass anything
        if not isinstance(given, Connection):
            msg = f"bind needs a SQLAlchemy Connection, got {type(given).__name__}"
            raise InvalidValue(msg)
        return SQLAlchemyStore(connection, tick_lease=self.tick_lease, tick_batch=self.tick_batch)

    def create_tables(self) -> None:
        """Create servicekit's tables and indexes where they do not exist yet."""
        with self._writing() as connection:
            metadata.create_all(connection)

    def drop_tables(self) -> None:
        """Drop servicekit's tables and everything in them."""
        with self._writing() as connection:
            metadata.drop_all(connection)

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A transaction of its own (committed at the end), or a savepoint in the host's."""
        if self._connection is not None:
            with self._lock, self._guard(), self._connection.begin_nested():
                yield self._connection
            return
        with self._guard(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection to read on: the host's, when bound, so it sees its own writes."""
        if self._connection is not None:
            with self._lock, self._guard():
                yield self._connection
            return
        # One statement per read, outside a transaction: no BEGIN and ROLLBACK round trips.
        with self._guard(), self._autocommit.connect() as connection:
            yield connection

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Report the database's own failures as a `StoreError` naming it."""
        try:
            yield
        except sa.exc.DBAPIError as error:
            url = self.engine.url.render_as_string(hide_password=True)
            msg = f"{url!r} cannot be used: {error.orig}"
            raise StoreError(msg) from error

    # -- the contract ---------------------------------------------------------------------

    def load(self, case_id: str, *, after_version: int = 0) -> CaseHistory:
        """The case's events after `after_version`, and its current version."""
        with self._reading() as connection:
            # One statement, so one snapshot: the case's version first, then its events.
            rows = connection.execute(_LOAD, {"case_id": case_id, "after": after_version}).all()
        version = next((row[1] for row in rows if row[0] is None), None)
        rows = sorted((row for row in rows if row[0] is not None), key=lambda row: row[1])
        decoded: list[Event] = []
        expected = max(after_version, 0) + 1
        for row_id, row_version, data in rows:
            event = _decode(f"event row {row_id}", data)
            if row_version != expected or event.version != row_version or event.case_id != case_id:
                msg = (
                    f"case {case_id!r} has a gap or a mismatch in its history at event row "
                    f"{row_id}: expected version {expected}, found {row_version}"
                )
                raise CorruptHistory(msg)
            decoded.append(event)
            expected += 1
        return CaseHistory(case_id, tuple(decoded), 0 if version is None else int(version))

    def append(  # noqa: PLR0913 - the contract's options, keyword-only
        self,
        case_id: str,
        events_: Sequence[Event],
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
        breaks the `capacity` claim. Their directory rows are read ``FOR SHARE``:
        a deactivation waits for the append, or the append for the deactivation.
        With a capacity claim they are read ``FOR UPDATE`` instead, so that two
        claims on one agent count one after the other (under READ COMMITTED both
        would otherwise see the same free place). Each row is locked once, in one
        statement, in agent id order: a share lock upgraded later to an update
        lock deadlocks against another append sharing the same row.
        """
        check_append(
            case_id,
            events_,
            expected_version,
            summary,
            idempotency=idempotency,
            require_active=require_active,
        )
        rows = [
            {
                "case_id": case_id,
                "version": event.version,
                "data": event_to_json(event),
            }
            for event in events_
        ]
        try:
            with self._writing() as connection:
                current = connection.execute(
                    sa.select(cases.c.version).where(cases.c.case_id == case_id).with_for_update()
                ).scalar()
                current = 0 if current is None else int(current)
                if current != expected_version:
                    raise ConcurrencyConflict(case_id, expected_version, current)
                if idempotency is not None:
                    self._record_key(connection, idempotency, expected_version, current)
                claimed = () if capacity is None else (capacity.agent_id,)
                if require_active or claimed:
                    found = _locked_agents(
                        connection, {*require_active, *claimed}, exclusive=bool(claimed)
                    )
                    reason = inactive_agent(require_active, found.get)
                    if reason is not None:
                        raise ConcurrencyConflict(case_id, expected_version, current, detail=reason)
                if capacity is not None and (
                    reason := _over_capacity(connection, capacity, summary)
                ):
                    raise ConcurrencyConflict(case_id, expected_version, current, detail=reason)
                connection.execute(events.insert(), rows)
                connection.execute(_UPSERT_CASE, _summary_row(summary))
        except StoreError as error:
            if isinstance(error.__cause__, sa.exc.IntegrityError):
                # Another writer stored this version (or this key) after our check.
                raise ConcurrencyConflict(case_id, expected_version, None) from error
            raise
        return events_[-1].version

    @staticmethod
    def _record_key(
        connection: Connection, idempotency: IdempotencyRecord, expected: int, current: int
    ) -> None:
        inserted = connection.execute(
            postgresql.insert(idempotency_keys)
            .values(
                key=idempotency.key,
                case_id=idempotency.case_id,
                fingerprint=idempotency.fingerprint,
                first_version=idempotency.first_version,
                last_version=idempotency.last_version,
            )
            .on_conflict_do_nothing(index_elements=[idempotency_keys.c.key])
            .returning(idempotency_keys.c.key)
        ).first()
        if inserted is None:
            raise ConcurrencyConflict(
                idempotency.case_id,
                expected,
                current,
                detail=f"idempotency key {idempotency.key!r} was used meanwhile",
            )

    def set_next_due(self, case_id: str, *, version: int, next_due: datetime | None) -> bool:
        """Replace the case's next due time if the case is still at `version`."""
        due = None if next_due is None else utc(next_due, what="next_due")
        with self._writing() as connection:
            result = connection.execute(
                cases.update()
                .where(cases.c.case_id == case_id, cases.c.version == version)
                .values(next_due=due)
            )
        return bool(result.rowcount == 1)

    def read_all(self, *, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Events of every case in one gap-free order, from position `after` + 1 on.

        First gives positions to events committed since the last call (see the
        module's notes), on a connection of its own even when bound.
        """
        with self._guard(), self.engine.begin() as connection:
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_NUMBERER_LOCK)))
            # In batches, so that one statement stays small; every committed event is numbered.
            while connection.execute(_NUMBER, {"batch": _NUMBER_BATCH}).rowcount == _NUMBER_BATCH:
                pass
        query = (
            sa.select(events.c.position, events.c.data)
            .where(events.c.position > after)
            .order_by(events.c.position)
        )
        if limit is not None:
            query = query.limit(max(limit, 0))
        with self._guard(), self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            StoredEvent(int(position), _decode(f"position {position}", data))
            for position, data in rows
        ]

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
            cases.c.owner_id: owner,
            cases.c.steward_id: steward,
            cases.c.customer_id: customer,
            cases.c.stage: stage,
            cases.c.workflow: workflow,
        }
        query = sa.select(*_SUMMARY).order_by(cases.c.opened_at, cases.c.case_id)
        for column, value in criteria.items():
            if value is not None:
                query = query.where(column == value)
        if follow_up_assignee is not None:  # the GIN index answers @>
            query = query.where(cases.c.follow_up_assignees.contains([follow_up_assignee]))
        with self._reading() as connection:
            return [_summary(row) for row in connection.execute(query)]

    def find_due(
        self, *, until: datetime | None = None, limit: int | None = None
    ) -> list[CaseSummary]:
        """Index entries due at or before `until` (any, if None), earliest first.

        With a `tick_lease` and an `until`, only the cases this store claimed (see
        the class's notes), at most `tick_batch` of them.
        """
        if self.tick_lease is not None and until is not None:
            return self._claim_due(utc(until, what="until"), limit)
        query = (
            sa.select(*_SUMMARY)
            .where(cases.c.next_due.is_not(None))
            .order_by(cases.c.next_due, cases.c.case_id)
        )
        if until is not None:
            query = query.where(cases.c.next_due <= utc(until, what="until"))
        if limit is not None:
            query = query.limit(max(limit, 0))
        with self._reading() as connection:
            return [_summary(row) for row in connection.execute(query)]

    def _claim_due(self, until: datetime, limit: int | None) -> list[CaseSummary]:
        batch = self.tick_batch if limit is None else max(min(limit, self.tick_batch), 0)
        parameters = {"until": until, "me": self._worker, "batch": batch, "lease": self.tick_lease}
        with self._writing() as connection:
            rows = connection.execute(_CLAIM, parameters).all()
        return sorted(map(_summary, rows), key=lambda summary: (summary.next_due, summary.case_id))

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        """The record of the first command that used `key`, if any."""
        with self._reading() as connection:
            row = connection.execute(
                sa.select(
                    idempotency_keys.c.key,
                    idempotency_keys.c.case_id,
                    idempotency_keys.c.fingerprint,
                    idempotency_keys.c.first_version,
                    idempotency_keys.c.last_version,
                ).where(idempotency_keys.c.key == key)
            ).first()
        return None if row is None else IdempotencyRecord(*row)

    def put_agent(self, agent: Agent, *, expected: Agent | None = None) -> bool:
        """Add or replace an agent; with `expected`, only if that is the record held now.

        The agent's row is locked ``FOR UPDATE`` for the comparison, so no other
        writer can change it between the comparison and the write.
        """
        check_agent(agent, expected=expected)
        statement = postgresql.insert(agents).values(
            agent_id=agent.id, data=json.dumps(agent_to_dict(agent)), teams=sorted(agent.teams)
        )
        statement = statement.on_conflict_do_update(
            index_elements=[agents.c.agent_id],
            set_={"data": statement.excluded.data, "teams": statement.excluded.teams},
        )
        with self._writing() as connection:
            if expected is not None:
                held = connection.execute(
                    sa.select(agents.c.data).where(agents.c.agent_id == agent.id).with_for_update()
                ).scalar()
                if held is None or _agent(held) != expected:
                    return False
            connection.execute(statement)
        return True

    def get_agent(self, agent_id: str) -> Agent | None:
        """The agent with this id, if registered."""
        with self._reading() as connection:
            data = connection.execute(
                sa.select(agents.c.data).where(agents.c.agent_id == agent_id)
            ).scalar()
        return None if data is None else _agent(data)

    def agents(self) -> list[Agent]:
        """Every registered agent, ordered by id."""
        with self._reading() as connection:
            rows = connection.execute(sa.select(agents.c.data).order_by(agents.c.agent_id))
            return [_agent(data) for (data,) in rows]

    def agents_in_team(self, team: str, *, role: Role | None = None) -> list[Agent]:
        """The registered agents who belong to `team` (and hold `role`, if given), by id.

        The GIN index on teams finds the team; the roles are in each agent's JSON,
        where PostgreSQL filters them, so only the agents found are decoded.
        """
        query = sa.select(agents.c.data).where(agents.c.teams.contains([team]))
        if role is not None:
            roles = sa.cast(agents.c.data, postgresql.JSONB)["roles"]
            query = query.where(roles.contains([role.value]))
        with self._reading() as connection:
            rows = connection.execute(query.order_by(agents.c.agent_id))
            return [_agent(data) for (data,) in rows]

    # -- checkpoints for the outbox -------------------------------------------------------

    def checkpoint(self, name: str) -> int:
        """The last position the consumer `name` has handled (0 if none yet)."""
        with self._reading() as connection:
            position = connection.execute(
                sa.select(checkpoints.c.position).where(checkpoints.c.name == name)
            ).scalar()
        return 0 if position is None else int(position)

    def save_checkpoint(self, name: str, position: int) -> None:
        """Record that the consumer `name` has handled every event up to `position`."""
        statement = postgresql.insert(checkpoints).values(name=name, position=position)
        statement = statement.on_conflict_do_update(
            index_elements=[checkpoints.c.name], set_={"position": statement.excluded.position}
        )
        with self._writing() as connection:
            connection.execute(statement)


def _decode(where: str, data: str) -> Event:
    return event_from_json(data, where=where)


def _over_capacity(
    connection: Connection, claim: CapacityClaim, summary: CaseSummary
) -> str | None:
    """Why the append breaks `claim`: their working cases counted (their row is locked)."""
    held = connection.execute(
        sa.select(*_SUMMARY).where(
            cases.c.owner_id == claim.agent_id,
            cases.c.channel == claim.channel,
            cases.c.finished.is_(False),
        )
    ).all()
    return over_capacity(claim, summary, (_summary(row) for row in held))


def _locked_agents(
    connection: Connection, agent_ids: Collection[str], *, exclusive: bool
) -> dict[str, Agent]:
    """The directory's entries for `agent_ids`, locked until the commit, in id order.

    Shared against a change, or `exclusive` against another exclusive lock too.
    """
    rows = connection.execute(
        sa.select(agents.c.agent_id, agents.c.data)
        .where(agents.c.agent_id.in_(sorted(set(agent_ids))))
        .order_by(agents.c.agent_id)
        .with_for_update(read=not exclusive)
    )
    return {agent_id: _agent(data) for agent_id, data in rows}


def _agent(data: str) -> Agent:
    try:
        return agent_from_dict(json.loads(data))
    except (json.JSONDecodeError, InvalidValue) as error:
        msg = f"a stored agent is malformed: {error}"
        raise StoreError(msg) from error


def _summary_row(summary: CaseSummary) -> dict[str, Any]:
    return {
        "case_id": summary.case_id,
        "customer_id": summary.customer_id,
        "workflow": summary.workflow,
        "stage": summary.stage,
        "category": summary.category.value,
        "finished": summary.finished,
        "owner_id": summary.owner_id,
        "steward_id": summary.steward_id,
        "version": summary.version,
        "opened_at": summary.opened_at,
        "updated_at": summary.updated_at,
        "next_due": summary.next_due,
        "follow_up_assignees": sorted(summary.follow_up_assignee_ids),
        "channel": summary.channel,
    }


def _summary(row: Sequence[Any]) -> CaseSummary:
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
        opened.astimezone(UTC),
        updated.astimezone(UTC),
        None if due is None else due.astimezone(UTC),
        frozenset(assignees),
        channel,
    )
