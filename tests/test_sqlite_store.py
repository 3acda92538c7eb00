"""The SQLite store keeps the storage contract, and guards its file."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from helpers import BO, START, appends_of

from servicekit import (
    Case,
    CaseSummary,
    Channel,
    ConcurrencyConflict,
    Event,
    Move,
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


def appends(count: int) -> list[tuple[tuple[Event, ...], int, CaseSummary]]:
    """Open case-1, then `count` moves: each append's events, expected version and entry."""
    return appends_of(
        [Move(actor=BO, trigger=("wait_on_customer", "resume")[n % 2]) for n in range(count)]
    )


def test_an_append_on_a_case_another_connection_moved_on_conflicts_and_writes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite"
    (opened, _, first), (moved, _, second), (late, _, third) = appends(2)
    with SQLiteStore(path) as one, SQLiteStore(path) as other:
        one.append("case-1", opened, expected_version=0, summary=first)
        other.append("case-1", moved, expected_version=first.version, summary=second)
        stale = attrs.evolve(late[0], version=first.version + 1)  # decided on the old version
        conflict = (
            f"^case 'case-1' was expected at version {first.version} "
            f"but is at version {second.version}$"
        )
        with pytest.raises(ConcurrencyConflict, match=conflict):
            one.append(
                "case-1",
                [stale],
                expected_version=first.version,
                summary=attrs.evolve(third, version=stale.version),
            )
        assert one.load("case-1").events == (*opened, *moved)
        assert one.find_cases(stage=second.stage) == [second]


def test_a_due_time_another_connection_set_is_replaced_by_the_next_append(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite"
    (opened, _, first), (moved, _, second) = appends(1)
    with SQLiteStore(path) as one, SQLiteStore(path) as ticker:
        one.append("case-1", opened, expected_version=0, summary=first)
        assert ticker.set_next_due("case-1", version=first.version, next_due=START)
        one.append("case-1", moved, expected_version=first.version, summary=second)
        assert ticker.find_due() == []  # the append's entry has no due time
        assert ticker.find_cases(customer="c") == [second]


def test_a_conflict_over_an_inactive_agent_names_the_version_the_case_is_at(
    tmp_path: Path,
) -> None:
    """Each path of `append` names where the case is (hostile6's review of the fix).

    The remembered entry (this connection wrote version 4), an agent deactivated through
    another connection: version 4, not the 5 the rolled-back write reached; and when a
    second writer has moved the case on as well, the version it moved the case to.
    """
    path = tmp_path / "s.sqlite"
    (opened, _, first), (moved, _, second), (late, _, third) = appends(2)
    with SQLiteStore(path) as one, SQLiteStore(path) as other:
        one.put_agent(BO)
        one.append("case-1", opened, expected_version=0, summary=first)
        other.put_agent(attrs.evolve(BO, active=False))
        with pytest.raises(ConcurrencyConflict) as inactive:
            one.append(
                "case-1",
                moved,
                expected_version=first.version,
                summary=second,
                require_active=["bo"],
            )
        assert (inactive.value.expected, inactive.value.actual) == (4, 4)
        assert str(inactive.value).endswith("; agent 'bo' is no longer active")
        other.append("case-1", moved, expected_version=first.version, summary=second)
        stale = attrs.evolve(late[0], version=first.version + 1)
        with pytest.raises(ConcurrencyConflict) as moved_on:
            one.append(
                "case-1",
                [stale],
                expected_version=first.version,
                summary=attrs.evolve(third, version=stale.version),
                require_active=["bo"],
            )
        assert (moved_on.value.expected, moved_on.value.actual) == (4, 5)
        assert one.load("case-1").events == (*opened, *moved)


def test_a_store_that_remembers_few_entries_forgets_the_oldest_and_appends_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rule: the entries a store remembers for the next append are a bounded cache: past
    # its size the least recently written is forgotten, and every append still lands.
    from servicekit.stores import sqlite as module  # noqa: PLC0415

    monkeypatch.setattr(module, "_REMEMBERED", 2)
    (opened, _, first), (moved, _, second) = appends(1)
    with SQLiteStore(tmp_path / "s.sqlite") as store:
        for case_id in ("a", "b", "c"):
            store.append(
                case_id,
                [attrs.evolve(e, case_id=case_id) for e in opened],
                expected_version=0,
                summary=attrs.evolve(first, case_id=case_id),
            )
        store.append(
            "a",
            [attrs.evolve(e, case_id="a") for e in moved],
            expected_version=first.version,
            summary=attrs.evolve(second, case_id="a"),
        )
        assert [s.case_id for s in store.find_cases(stage=second.stage)] == ["a"]
        assert store.load("a").version == second.version
