"""The SQLite store keeps the storage contract, and guards its file."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from helpers import BO, START

from servicekit import (
    Case,
    CaseSummary,
    Channel,
    ConcurrencyConflict,
    OpenCase,
    decide,
    evolve,
)
from servicekit.buying_cycle import buying_cycle
from servicekit.stores import SQLiteStore
from servicekit.testing import StoreContract


class TestSQLiteStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.folder = tmp_path

    def make_store(self) -> SQLiteStore:
        return SQLiteStore(self.folder / "servicekit.sqlite", synchronous="NORMAL")


def test_an_agent_deactivated_through_another_connection_makes_the_append_conflict(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite"
    SQLiteStore(path).close()
    with SQLiteStore(path) as appender, SQLiteStore(path) as directory:
        appender.put_agent(BO)
        case = Case(buying_cycle(), "case-1")
        events = decide(
            case, OpenCase(actor=BO, customer_id="c", channel=Channel.WEB, summary="s"), now=START
        )
        for event in events:
            case = evolve(case, event)
        directory.put_agent(attrs.evolve(BO, active=False))
        with pytest.raises(ConcurrencyConflict, match="agent 'bo' is no longer active"):
            appender.append(
                "case-1",
                events,
                expected_version=0,
                summary=CaseSummary.of(case),
                require_active=["bo"],
            )
        assert directory.read_all() == []
