"""The PostgreSQL store keeps the storage contract."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import postgres_url

from servicekit.stores import Store
from servicekit.testing import StoreContract


class TestSQLAlchemyStore(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        from pg_testing import fresh_store  # noqa: PLC0415 - needs the postgres extra

        with fresh_store(postgres_url()) as store:
            yield store

    def make_store(self) -> Store:  # pragma: no cover - the fixture above makes them
        raise NotImplementedError
