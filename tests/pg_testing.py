"""PostgreSQL helpers for the tests: a schema of one's own, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from servicekit.stores.sqlalchemy import SQLAlchemyStore


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
