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


class _Unhashable(str):
    """Text (`isinstance(value, str)`) that cannot key a dict."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]


@pytest.mark.parametrize("field", ["customer_id", "workflow", "stage", "owner_id", "steward_id"])
@pytest.mark.parametrize("when", ["new case", "follow-on"])
def test_an_entry_the_index_cannot_key_by_is_refused_whole(field: str, when: str) -> None:
    """An unhashable `str` subclass is refused with `InvalidValue`, the index left as it was.

    (hostile6: it passed `check_append` and raised `TypeError` half-way through the
    index, so `find_cases(owner="bo")` then raised `KeyError` for a case never stored.)
    """
    store = InMemoryStore()
    case = Case(buying_cycle(), "k")
    opening = OpenCase(actor=Agent("bo"), customer_id="c", channel=Channel.WEB, summary="s")
    events = decide(case, opening, now=START)
    good = CaseSummary.of(fold(case, events))
    expected_version = 0
    follow_on = when == "follow-on"
    if follow_on:
        store.append("k", events[:1], expected_version=0, summary=attrs.evolve(good, version=1))
        events, expected_version = events[1:], 1
    bad = attrs.evolve(good, **{field: _Unhashable("zed")})  # type: ignore[arg-type]
    what = {
        "customer_id": "the customer id",
        "workflow": "the workflow name",
        "stage": "the stage",
        "owner_id": "the owner id",
        "steward_id": "the steward id",
    }[field]
    refusal = (
        f"^the index entry of case 'k' must give {what} as text the index can key by, "
        "got unhashable _Unhashable: 'zed'$"
    )
    with pytest.raises(InvalidValue, match=refusal):
        store.append("k", events, expected_version=expected_version, summary=bad)
    assert store.load("k").version == expected_version
    held = [] if not follow_on else ["k"]
    assert [s.case_id for s in store.find_cases(owner="bo")] == held
    assert [s.case_id for s in store.find_cases(stage="enquiry")] == held
    assert store.find_cases(customer="zed") == store.find_cases(owner="zed") == []
