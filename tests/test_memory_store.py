"""The in-memory store keeps the storage contract."""

from __future__ import annotations

from servicekit import InMemoryStore
from servicekit.testing import StoreContract


class TestInMemoryStore(StoreContract):
    def make_store(self) -> InMemoryStore:
        return InMemoryStore()


def test_the_store_says_how_much_it_holds() -> None:
    assert repr(InMemoryStore()) == "<InMemoryStore: 0 cases, 0 events>"
