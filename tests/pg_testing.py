"""PostgreSQL helpers for the tests: a schema of one's own, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import attrs
import sqlalchemy as sa
from helpers import BO, START

from servicekit import Channel, InMemoryStore, ManualClock, ServiceDesk, buying_cycle
from servicekit.stores.sqlalchemy import SQLAlchemyStore

DUE = START + timedelta(hours=1)
"""When the follow-ups of `seed_due_follow_ups` fall due."""


def driver_url(url: str) -> sa.URL:
    """`url` with SQLAlchemy's psycopg 3 driver (``postgresql://`` would pick psycopg2)."""
    return sa.make_url(url).set(drivername="postgresql+psycopg")


def engine_on(url: str, schema: str, **options: object) -> sa.Engine:
    """An engine whose connections put servicekit's tables in `schema`."""
    return sa.create_engine(
        driver_url(url), connect_args={"options": f"-c search_path={schema}"}, **options
    )


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """Create a schema with a unique name, yield it, and drop it with all it holds."""
    schema = f"servicekit_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(driver_url(url), poolclass=sa.NullPool)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def fresh_store(url: str) -> Iterator[SQLAlchemyStore]:
    """A store with its tables created in a fresh schema, dropped afterwards."""
    with fresh_schema(url) as schema:
        engine = engine_on(url, schema)
        store = SQLAlchemyStore(engine)
        store.create_tables()
        try:
            yield store
        finally:
            engine.dispose()


def seed_due_follow_ups(store: SQLAlchemyStore, count: int) -> None:
    """`count` cases in service, each with one follow-up due an hour after START."""
    template = ServiceDesk(workflow=buying_cycle(), store=InMemoryStore(), clock=ManualClock(START))
    template.register_agent(BO)
    template.open_case(
        actor="bo", customer_id="c", channel=Channel.PHONE, summary="s", stage="in_service"
    )
    case_id = template.cases()[0].case_id
    template.schedule_follow_up(case_id, actor="bo", due=DUE, reason="r")
    history = template.history(case_id)
    [summary] = template.cases()
    store.put_agent(BO)
    with store.engine.begin() as connection:  # one transaction: the host's, joined
        bound = store.bind(connection)
        for number in range(count):
            name = f"due-{number:05}"
            bound.append(
                name,
                [attrs.evolve(event, case_id=name) for event in history],
                expected_version=0,
                summary=attrs.evolve(summary, case_id=name),
            )
