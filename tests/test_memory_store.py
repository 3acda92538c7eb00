"""The in-memory store keeps the storage contract."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from servicekit import (
    Agent,
    Case,
    CaseSummary,
    Channel,
    InMemoryStore,
    InvalidValue,
    OpenCase,
    buying_cycle,
    decide,
)
from servicekit.desk.cases import fold
from servicekit.testing import StoreContract


class TestInMemoryStore(StoreContract):
    def make_store(self) -> InMemoryStore:
        return InMemoryStore()


START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_store_says_how_much_it_holds() -> None:
    assert repr(InMemoryStore()) == "<InMemoryStore: 0 cases, 0 events>"


@pytest.mark.parametrize(
    ("field", "what"),
    [
        ("customer_id", "the customer id"),
        ("workflow", "the workflow name"),
        ("stage", "the stage"),
        ("owner_id", "the owner id"),
        ("steward_id", "the steward id"),
        ("follow_up_assignee_ids", "a follow-up's assignee id"),
    ],
)
def test_an_append_names_the_index_text_that_cannot_be_stored(field: str, what: str) -> None:
    store = InMemoryStore()
    case = Case(buying_cycle(), "k")
    opening = OpenCase(actor=Agent("bo"), customer_id="c", channel=Channel.WEB, summary="s")
    events = decide(case, opening, now=START)
    good = CaseSummary.of(fold(case, events))
    lone = frozenset({"bo\ud800"}) if field == "follow_up_assignee_ids" else "bo\ud800"
    changes: dict[str, Any] = {field: lone}
    bad = attrs.evolve(good, **changes)
    refusal = f"^{what} must be text that can be stored, got 'bo\\\\ud800'"
    with pytest.raises(InvalidValue, match=refusal):
        store.append("k", events, expected_version=0, summary=bad)
    assert store.read_all() == []
