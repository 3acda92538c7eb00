"""Storage: the contract a host application's store fulfils, and the stores servicekit ships.

A store keeps each case's events (append-only, versioned without gaps), one global
order of all events for the host's projections and notifications, an index of
cases for queries, idempotency records, and the agent directory. Everything a
single `append` writes is written atomically: all of it, or nothing.

`servicekit.testing.StoreContract` is the test suite a store must pass.
"""

from servicekit.stores.base import (
    CapacityClaim,
    CaseHistory,
    CaseSummary,
    IdempotencyRecord,
    Store,
    StoredEvent,
    check_agent,
    check_append,
    counts_against_capacity,
    inactive_agent,
    over_capacity,
    storable,
)
from servicekit.stores.memory import InMemoryStore
from servicekit.stores.sqlite import SQLiteStore

__all__ = [
    "CapacityClaim",
    "CaseHistory",
    "CaseSummary",
    "IdempotencyRecord",
    "InMemoryStore",
    "SQLiteStore",
    "Store",
    "StoredEvent",
    "check_agent",
    "check_append",
    "counts_against_capacity",
    "inactive_agent",
    "over_capacity",
    "storable",
]
