"""The PostgreSQL store keeps the storage contract."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, timedelta

import pytest
import sqlalchemy as sa
from conftest import postgres_url
from helpers import BO, START, appends_of
from pg_testing import DUE, seed_due_follow_ups

from servicekit import (
    Channel,
    ConcurrencyConflict,
    CorruptHistory,
    Direction,
    DuplicateCase,
    InvalidValue,
    ManualClock,
    ServiceDesk,
    StoredEvent,
    StoreError,
    buying_cycle,
)
from servicekit.stores import Store
from servicekit.stores.sqlalchemy import _NUMBERER_LOCK, SQLAlchemyStore, metadata
from servicekit.testing import StoreContract

WORKFLOW = buying_cycle()


class TestSQLAlchemyStore(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        from pg_testing import fresh_store  # noqa: PLC0415 - needs the postgres extra

        with fresh_store(postgres_url()) as store:
            yield store

    def make_store(self) -> Store:  # pragma: no cover - the fixture above makes them
        raise NotImplementedError


# -- the engine -------------------------------------------------------------------------------


@pytest.fixture
def pg_store() -> Iterator[SQLAlchemyStore]:
    from pg_testing import fresh_store  # noqa: PLC0415 - needs the postgres extra

    with fresh_store(postgres_url()) as store:
        yield store


def desk_on(store: Store, *, register: bool = False) -> ServiceDesk:
    desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
    if register:
        desk.register_agent(BO)
    return desk


def opened(desk: ServiceDesk, case_id: str) -> None:
    desk.open_case(actor="bo", customer_id="c", channel=Channel.PHONE, summary="s", case_id=case_id)


def test_other_dialects_are_refused() -> None:
    engine = sa.create_engine("sqlite://")
    with pytest.raises(StoreError, match=r"supports postgresql only.*'sqlite'"):
        SQLAlchemyStore(engine)


def test_a_store_needs_an_engine() -> None:
    with pytest.raises(InvalidValue, match="needs a SQLAlchemy Engine, got str"):
        SQLAlchemyStore("postgresql://")  # type: ignore[arg-type]


def test_alembic_autogenerate_finds_no_difference_from_create_tables(
    pg_store: SQLAlchemyStore,
) -> None:
    from alembic.autogenerate import compare_metadata  # noqa: PLC0415 - a dev dependency
    from alembic.migration import MigrationContext  # noqa: PLC0415

    with pg_store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_alembic_autogenerate_sees_a_missing_table(pg_store: SQLAlchemyStore) -> None:
    # The check above could pass by comparing nothing: show that it sees a difference.
    from alembic.autogenerate import compare_metadata  # noqa: PLC0415 - a dev dependency
    from alembic.migration import MigrationContext  # noqa: PLC0415

    with pg_store.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE servicekit_checkpoints"))
        context = MigrationContext.configure(connection)
        assert [change[0] for change in compare_metadata(context, metadata)] == ["add_table"]


# -- joining the host's transaction ---------------------------------------------------------


def host_orders(store: SQLAlchemyStore) -> None:
    with store.engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE orders (id integer PRIMARY KEY)"))


def test_a_failed_host_insert_after_an_append_leaves_no_event(pg_store: SQLAlchemyStore) -> None:
    host_orders(pg_store)
    desk_on(pg_store, register=True)

    def host_request() -> None:
        with pg_store.engine.begin() as connection:
            opened(desk_on(pg_store.bind(connection)), "joined")
            connection.execute(sa.text("INSERT INTO orders VALUES (1)"))
            connection.execute(sa.text("INSERT INTO orders VALUES (1)"))  # the host's failure

    with pytest.raises(sa.exc.IntegrityError):
        host_request()
    assert pg_store.load("joined").version == 0
    assert pg_store.read_all() == []
    assert pg_store.find_cases() == []


def test_a_host_commit_keeps_its_rows_and_the_events_together(pg_store: SQLAlchemyStore) -> None:
    host_orders(pg_store)
    desk_on(pg_store, register=True)
    with pg_store.engine.begin() as connection:
        opened(desk_on(pg_store.bind(connection)), "joined")
        connection.execute(sa.text("INSERT INTO orders VALUES (1)"))
    with pg_store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM orders")).scalar() == 1
    assert pg_store.load("joined").version > 0
    assert [item.event.case_id for item in pg_store.read_all()][:1] == ["joined"]


def test_a_refused_append_leaves_the_hosts_transaction_usable(pg_store: SQLAlchemyStore) -> None:
    host_orders(pg_store)
    opened(desk_on(pg_store, register=True), "taken")
    with pg_store.engine.begin() as connection:
        with pytest.raises(DuplicateCase):
            opened(desk_on(pg_store.bind(connection)), "taken")
        connection.execute(sa.text("INSERT INTO orders VALUES (7)"))
    with pg_store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id FROM orders")).scalars().all() == [7]


def test_a_bound_store_refuses_what_is_not_a_connection(pg_store: SQLAlchemyStore) -> None:
    with pytest.raises(InvalidValue, match="needs a SQLAlchemy Connection, got Engine"):
        pg_store.bind(pg_store.engine)  # type: ignore[arg-type]


# -- a gap-free feed ----------------------------------------------------------------------------


def test_an_event_committed_later_with_an_earlier_insert_is_not_skipped(
    pg_store: SQLAlchemyStore,
) -> None:
    desk_on(pg_store, register=True)
    with pg_store.engine.begin() as slow:
        opened(desk_on(pg_store.bind(slow)), "slow")  # inserted first, committed last
        opened(desk_on(pg_store), "fast")
        seen = pg_store.read_all()
        assert {item.event.case_id for item in seen} == {"fast"}
    seen += pg_store.read_all(after=seen[-1].position)
    assert [item.event.case_id for item in seen].count("slow") == pg_store.load("slow").version
    assert [item.position for item in seen] == list(range(1, len(seen) + 1))


def write(store: Store, name: str, cases_each: int, notes_each: int) -> None:
    desk = desk_on(store)
    for number in range(cases_each):
        opened(desk, f"{name}-{number}")
    for number in range(notes_each):
        for case in range(cases_each):
            desk.record_interaction(
                f"{name}-{case}",
                actor="bo",
                channel=Channel.CHAT,
                direction=Direction.INBOUND,
                summary=f"{number}",
            )


def test_a_consumer_sees_every_event_once_in_one_order_while_writers_commit(
    pg_store: SQLAlchemyStore,
) -> None:
    desk_on(pg_store, register=True)
    writers, cases_each = 4, 5
    done = threading.Event()
    seen: list[StoredEvent] = []

    def consume() -> None:
        while True:
            finished = done.is_set()  # read before the page: a last page after the writers
            seen.extend(pg_store.read_all(after=seen[-1].position if seen else 0, limit=7))
            if finished and not pg_store.read_all(after=seen[-1].position if seen else 0):
                return

    threads = [
        threading.Thread(target=write, args=(pg_store, f"w{n}", cases_each, 10))
        for n in range(writers)
    ]
    consumer = threading.Thread(target=consume)
    consumer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    consumer.join()
    stored = [
        event
        for name in range(writers)
        for case in range(cases_each)
        for event in pg_store.load(f"w{name}-{case}").events
    ]
    assert len(seen) == len(stored)  # every event once ...
    assert {(item.event.case_id, item.event.version) for item in seen} == {
        (event.case_id, event.version) for event in stored
    }
    assert [item.position for item in seen] == list(range(1, len(seen) + 1))  # ... in one order
    for case_id in {event.case_id for event in stored}:  # which keeps each case's own order
        versions = [item.event.version for item in seen if item.event.case_id == case_id]
        assert versions == sorted(versions)


# -- claims for ticking workers -----------------------------------------------------------


def claiming(store: SQLAlchemyStore, seconds: float = 30) -> SQLAlchemyStore:
    return SQLAlchemyStore(store.engine, tick_lease=timedelta(seconds=seconds), tick_batch=2)


def test_a_due_case_claimed_by_one_worker_is_not_offered_to_another(
    pg_store: SQLAlchemyStore,
) -> None:
    seed_due_follow_ups(pg_store, 3)
    first, second = claiming(pg_store), claiming(pg_store)
    mine = [summary.case_id for summary in first.find_due(until=DUE)]
    theirs = [summary.case_id for summary in second.find_due(until=DUE)]
    assert mine == ["due-00000", "due-00001"]  # a batch, earliest first
    assert theirs == ["due-00002"]
    assert second.find_due(until=DUE) == [second.find_due(until=DUE)[0]]  # its own again
    assert len(pg_store.find_due(until=DUE)) == 3  # a store without claims sees them all


def test_an_append_ends_the_claim_on_a_case(pg_store: SQLAlchemyStore) -> None:
    seed_due_follow_ups(pg_store, 1)
    first, second = claiming(pg_store), claiming(pg_store)
    assert len(first.find_due(until=DUE)) == 1
    desk_on(first).record_interaction(
        "due-00000", actor="bo", channel=Channel.CHAT, direction=Direction.INBOUND, summary="x"
    )
    assert [summary.case_id for summary in second.find_due(until=DUE)] == ["due-00000"]


def test_the_claims_of_a_worker_that_died_lapse(pg_store: SQLAlchemyStore) -> None:
    seed_due_follow_ups(pg_store, 1)
    assert len(claiming(pg_store, seconds=0.3).find_due(until=DUE)) == 1  # then it dies
    second = claiming(pg_store)
    assert second.find_due(until=DUE) == []
    time.sleep(0.4)
    assert [summary.case_id for summary in second.find_due(until=DUE)] == ["due-00000"]


def test_a_claiming_store_lists_at_most_the_limit_and_never_more_than_its_batch(
    pg_store: SQLAlchemyStore,
) -> None:
    # Rule: with claims, find_due(limit=n) claims min(n, tick_batch) cases, none for n <= 0,
    # and a batch when no limit is given.
    seed_due_follow_ups(pg_store, 5)
    worker = claiming(pg_store)  # tick_batch=2
    assert worker.find_due(until=DUE, limit=0) == []
    assert worker.find_due(until=DUE, limit=-1) == []
    assert [s.case_id for s in worker.find_due(until=DUE, limit=1)] == ["due-00000"]
    other = claiming(pg_store)
    assert [s.case_id for s in other.find_due(until=DUE, limit=5)] == ["due-00001", "due-00002"]
    third = claiming(pg_store)
    assert [s.case_id for s in third.find_due(until=DUE)] == ["due-00003", "due-00004"]


def test_a_bound_store_keeps_the_claim_options_and_says_it_is_bound(
    pg_store: SQLAlchemyStore,
) -> None:
    worker = SQLAlchemyStore(pg_store.engine, tick_lease=timedelta(seconds=7), tick_batch=3)
    with pg_store.engine.connect() as connection:
        bound = worker.bind(connection)
        assert (bound.tick_lease, bound.tick_batch) == (timedelta(seconds=7), 3)
        assert repr(bound) == repr(worker).removesuffix(")") + ", bound to a connection)"
        assert repr(bound).endswith("', bound to a connection)")


def test_ticking_workers_with_claims_fire_every_timer_once(pg_store: SQLAlchemyStore) -> None:
    seed_due_follow_ups(pg_store, 5)
    desks = [desk_on(claiming(pg_store)) for _ in range(2)]
    fired = [outcome for desk in desks for outcome in desk.tick(DUE)]
    fired += [outcome for desk in desks for outcome in desk.tick(DUE)]
    assert sorted(outcome.case.case_id for outcome in fired) == [f"due-{n:05}" for n in range(5)]
    assert pg_store.find_due(until=DUE) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tick_lease": timedelta(0)}, "tick_lease must be a positive timedelta"),
        ({"tick_lease": 30}, "tick_lease must be a positive timedelta"),
        ({"tick_batch": 0}, "tick_batch must be a whole number from 1"),
        ({"tick_batch": True}, "tick_batch must be a whole number from 1"),
    ],
)
def test_claim_options_are_checked(options: dict[str, object], message: str) -> None:
    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(InvalidValue, match=message):
        SQLAlchemyStore(engine, **options)  # type: ignore[arg-type]


def test_read_all_numbers_every_committed_event_however_many(
    pg_store: SQLAlchemyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from servicekit.stores import sqlalchemy as module  # noqa: PLC0415

    monkeypatch.setattr(module, "_NUMBER_BATCH", 3)  # the numbering runs in batches of 3
    seed_due_follow_ups(pg_store, 2)
    written = [event for n in range(2) for event in pg_store.load(f"due-{n:05}").events]
    assert len(written) > 3
    assert [item.event for item in pg_store.read_all()] == written


def test_the_store_names_its_database_without_a_password() -> None:
    engine = sa.create_engine("postgresql+psycopg://bo:secret@db.example:5432/desk")
    assert repr(SQLAlchemyStore(engine)) == (
        "SQLAlchemyStore('postgresql+psycopg://bo:***@db.example:5432/desk')"
    )


def test_drop_tables_removes_servicekit_tables_only(pg_store: SQLAlchemyStore) -> None:
    host_orders(pg_store)
    pg_store.drop_tables()
    with pg_store.engine.connect() as connection:
        assert sa.inspect(connection).get_table_names() == ["orders"]


def test_a_server_that_cannot_be_reached_is_a_store_error() -> None:
    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="cannot be used"):
        SQLAlchemyStore(engine).load("case-1")


def test_a_stored_agent_that_is_not_json_is_named_malformed(pg_store: SQLAlchemyStore) -> None:
    desk_on(pg_store, register=True)
    with pg_store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE servicekit_agents SET data = 'not json'"))
    with pytest.raises(
        StoreError,
        match=r"^a stored agent is malformed: Expecting value: line 1 column 1 \(char 0\)$",
    ):
        pg_store.get_agent("bo")


# -- what the rows hold, read back --------------------------------------------------------------


def _history_of_c1(store: SQLAlchemyStore) -> None:
    """Case c1 opened and noted once on `store`."""
    desk = desk_on(store, register=True)
    opened(desk, "c1")
    desk.record_interaction(
        "c1", actor="bo", channel=Channel.CHAT, direction=Direction.INBOUND, summary="x"
    )


def _spoiled(store: SQLAlchemyStore, statement: str, **values: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(sa.text(statement), values)


def _row_of(store: SQLAlchemyStore, version: int) -> int:
    with store.engine.connect() as connection:
        query = "SELECT id FROM servicekit_events WHERE case_id = 'c1' AND version = :version"
        return int(connection.execute(sa.text(query), {"version": version}).scalar_one())


def test_a_history_loads_in_version_order_whatever_the_order_of_its_rows(
    pg_store: SQLAlchemyStore,
) -> None:
    """Rows rewritten (a restored dump, a repair) still give the case's events in order.

    The first event's row is rewritten, so the table's heap holds it last, and the
    store reads on a session without index scans: the server hands the rows back in
    the heap's order (2, 3, ..., 1), and only the store's own sort puts them right.
    """
    _history_of_c1(pg_store)
    before = pg_store.load("c1")
    _spoiled(pg_store, "UPDATE servicekit_events SET id = id + 1000 WHERE version = 1")
    scanning = "-c enable_indexscan=off -c enable_bitmapscan=off -c enable_indexonlyscan=off"
    with named_store(pg_store, settings=scanning) as (heap_order, _):
        with heap_order.engine.connect() as connection:
            order = connection.execute(
                sa.text("SELECT version FROM servicekit_events WHERE case_id = 'c1'")
            ).scalars()
            assert list(order) == [*range(2, before.version + 1), 1]  # the heap's order
        assert heap_order.load("c1") == before
    assert [event.version for event in before.events] == list(range(1, before.version + 1))


def test_a_history_with_a_missing_event_is_refused_naming_the_gap(
    pg_store: SQLAlchemyStore,
) -> None:
    _history_of_c1(pg_store)
    after_gap = _row_of(pg_store, 3)
    _spoiled(pg_store, "DELETE FROM servicekit_events WHERE case_id = 'c1' AND version = 2")
    with pytest.raises(CorruptHistory) as refused:
        pg_store.load("c1")
    assert str(refused.value) == (
        f"case 'c1' has a gap or a mismatch in its history at event row {after_gap}: "
        "expected version 2, found 3"
    )


@pytest.mark.parametrize(
    ("stored", "spoiled"),
    [
        pytest.param('"version":1', '"version":2', id="another version"),
        pytest.param('"c1"', '"c9"', id="another case"),
    ],
)
def test_a_row_holding_an_event_of_another_version_or_case_is_refused(
    pg_store: SQLAlchemyStore, stored: str, spoiled: str
) -> None:
    """The row says c1 at version 1, the event it holds says otherwise: not trusted."""
    _history_of_c1(pg_store)
    first = _row_of(pg_store, 1)
    _spoiled(
        pg_store,
        "UPDATE servicekit_events SET data = replace(data, :old, :new) "
        "WHERE case_id = 'c1' AND version = 1",
        old=stored,
        new=spoiled,
    )
    with pytest.raises(CorruptHistory) as refused:
        pg_store.load("c1")
    assert str(refused.value) == (
        f"case 'c1' has a gap or a mismatch in its history at event row {first}: "
        "expected version 1, found 1"
    )


def test_a_history_event_that_is_not_json_is_named_by_its_row(pg_store: SQLAlchemyStore) -> None:
    _history_of_c1(pg_store)
    second = _row_of(pg_store, 2)
    _spoiled(
        pg_store,
        "UPDATE servicekit_events SET data = 'not json' WHERE case_id = 'c1' AND version = 2",
    )
    with pytest.raises(CorruptHistory) as refused:
        pg_store.load("c1")
    assert str(refused.value) == (
        f"the event at event row {second} is not valid JSON: "
        "Expecting value: line 1 column 1 (char 0)"
    )


def test_an_event_in_the_feed_that_is_not_json_is_named_by_its_position(
    pg_store: SQLAlchemyStore,
) -> None:
    """Only the second case's second event is damaged: its position is named, not its row."""
    desk = desk_on(pg_store, register=True)
    opened(desk, "c1")
    opened(desk, "c2")
    first = pg_store.load("c1").version
    with pg_store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE servicekit_events SET id = id + 1000"))
        connection.execute(
            sa.text(
                "UPDATE servicekit_events SET data = 'not json' "
                "WHERE case_id = 'c2' AND version = 2"
            )
        )
    with pytest.raises(CorruptHistory) as damaged:
        pg_store.read_all()
    assert str(damaged.value) == (
        f"the event at position {first + 2} is not valid JSON: "
        "Expecting value: line 1 column 1 (char 0)"
    )


@contextmanager
def named_store(
    store: SQLAlchemyStore, *, settings: str = ""
) -> Iterator[tuple[SQLAlchemyStore, str]]:
    """A store on `store`'s tables whose connections carry a name of their own.

    `wait_until_it_waits_on_a_lock` finds that name among the sessions waiting on a
    lock, whatever other tests on the same server are doing. `settings` are more
    ``-c name=value`` options for its sessions.
    """
    with store.engine.connect() as connection:
        schema = connection.execute(sa.text("SELECT current_schema()")).scalar()
    name = f"servicekit-test-{uuid.uuid4().hex[:12]}"
    options = {"options": f"-c search_path={schema} {settings}", "application_name": name}
    engine = sa.create_engine(store.engine.url, connect_args=options)
    try:
        yield SQLAlchemyStore(engine), name
    finally:
        engine.dispose()


def wait_until_it_waits_on_a_lock(
    store: SQLAlchemyStore, name: str, locktype: str, worker: threading.Thread
) -> None:
    """Return once the session named `name` waits on a lock of `locktype` (30 s at most)."""
    query = sa.text(
        "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) "
        "WHERE locktype = :locktype AND NOT granted AND application_name = :name"
    )
    deadline = time.monotonic() + 30
    while True:
        # a transaction of its own each time: one keeps the pg_stat_activity it first saw
        with store.engine.connect() as look:
            if look.execute(query, {"locktype": locktype, "name": name}).scalar():
                return
        assert worker.is_alive(), f"it finished without waiting on a lock of {locktype}"
        assert time.monotonic() < deadline, f"it never waited on a lock of {locktype}"
        time.sleep(0.01)


def test_read_all_waits_for_a_numbering_in_progress(pg_store: SQLAlchemyStore) -> None:
    """Two numberings at once could give an event two positions: one at a time.

    The test holds the numberer's lock (a private key: the lock is the rule's
    mechanism, and no other way shows that one numbering waits for another) as
    another `read_all` would, sees the reader wait on it with nothing numbered
    yet, then number and read every event once it is let go.
    """
    opened(desk_on(pg_store, register=True), "c1")
    read: list[StoredEvent] = []
    failed: list[BaseException] = []
    numbered = sa.text("SELECT count(*) FROM servicekit_events WHERE position IS NOT NULL")

    def reading_all(store: SQLAlchemyStore) -> None:
        try:
            read.extend(store.read_all())
        except BaseException as error:  # noqa: BLE001 - reported by the test's thread
            failed.append(error)

    with named_store(pg_store) as (reading, name):
        reader = threading.Thread(target=reading_all, args=(reading,))
        try:
            with pg_store.engine.begin() as numbering:
                numbering.execute(sa.select(sa.func.pg_advisory_xact_lock(_NUMBERER_LOCK)))
                reader.start()
                wait_until_it_waits_on_a_lock(pg_store, name, "advisory", reader)
                with pg_store.engine.connect() as look:
                    assert look.execute(numbered).scalar() == 0
        finally:
            reader.join(timeout=30)
    assert not reader.is_alive()
    assert failed == []
    assert [item.position for item in read] == list(range(1, pg_store.load("c1").version + 1))


def test_a_case_opened_by_two_writers_at_once_is_a_conflict_for_the_second(
    pg_store: SQLAlchemyStore,
) -> None:
    """Both find no case; the second's insert waits for the first, then conflicts."""
    [(events, _, summary)] = appends_of([])
    refused: list[BaseException] = []

    def second_opening(store: SQLAlchemyStore) -> None:
        try:
            store.append("case-1", events, expected_version=0, summary=summary)
        except BaseException as error:  # noqa: BLE001 - the test asserts what it was
            refused.append(error)

    with named_store(pg_store) as (second, name):
        writer = threading.Thread(target=second_opening, args=(second,))
        try:
            with pg_store.engine.begin() as first:
                pg_store.bind(first).append("case-1", events, expected_version=0, summary=summary)
                writer.start()
                wait_until_it_waits_on_a_lock(pg_store, name, "transactionid", writer)
        finally:
            writer.join(timeout=30)
    assert not writer.is_alive()
    [conflict] = refused
    assert type(conflict) is ConcurrencyConflict
    assert str(conflict) == "case 'case-1' was expected at version 0 but moved on"
    assert (conflict.case_id, conflict.expected, conflict.actual) == ("case-1", 0, None)
    assert pg_store.load("case-1").events == events


def test_a_claiming_store_refuses_a_bound_without_a_zone_naming_it_until(
    pg_store: SQLAlchemyStore,
) -> None:
    with pytest.raises(InvalidValue) as naive:
        claiming(pg_store).find_due(until=START.replace(tzinfo=None))
    assert str(naive.value) == "until must be timezone-aware, got the naive datetime " + (
        START.replace(tzinfo=None).isoformat()
    )


def test_the_index_hands_back_its_times_in_utc_whatever_the_local_zone(
    pg_store: SQLAlchemyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's and the process's zones change nothing: every time is in UTC."""
    seed_due_follow_ups(pg_store, 1)
    with named_store(pg_store, settings="-c timezone=Asia/Kolkata") as (kolkata, _):
        with kolkata.engine.connect() as connection:
            assert connection.execute(sa.text("SHOW timezone")).scalar() == "Asia/Kolkata"
        with monkeypatch.context() as patch:
            patch.setenv("TZ", "America/New_York")
            time.tzset()
            try:
                [summary] = kolkata.find_due()
            finally:
                patch.undo()
                time.tzset()
    times = (summary.opened_at, summary.updated_at, summary.next_due)
    assert [moment.tzinfo for moment in times if moment is not None] == [UTC, UTC, UTC]
    assert summary.next_due == DUE
