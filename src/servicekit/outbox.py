"""The outbox: consume every event in order, at least once, with a stored checkpoint.

A host application turns servicekit's events into its own effects: e-mails,
chat messages, search indexes, reports. `deliver` reads the store's global
order from the consumer's checkpoint, hands each event to the handler, and
moves the checkpoint on after each one that was handled. If the handler raises,
or the process dies, the checkpoint stays where it was and the event is handed
over again next time: at least once, never skipped. Make handlers idempotent
(the event's `id` is stable) if a repeat would hurt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from servicekit.errors import InvalidValue
from servicekit.stores.base import Store, StoredEvent

__all__ = ["CheckpointStore", "deliver"]


@runtime_checkable
class CheckpointStore(Protocol):
    """Where consumers keep how far they have read (both shipped stores are one)."""

    def checkpoint(self, name: str) -> int:
        """The last position the consumer `name` has handled (0 if none yet)."""
        ...  # pragma: no cover - a protocol has no body

    def save_checkpoint(self, name: str, position: int) -> None:
        """Record that the consumer `name` has handled every event up to `position`."""
        ...  # pragma: no cover - a protocol has no body


def deliver(  # noqa: PLR0913 - the options are keyword-only
    store: Store,
    consumer: str,
    handler: Callable[[StoredEvent], object],
    *,
    checkpoints: CheckpointStore | None = None,
    batch_size: int = 100,
    limit: int | None = None,
) -> int:
    """Hand every event after the consumer's checkpoint to `handler`, in order; return how many.

    Args:
        store: where the events are.
        consumer: the consumer's name; each name has its own checkpoint.
        handler: called once per event (again after a failure or a crash).
        checkpoints: where checkpoints live; the store itself by default.
        batch_size: how many events are read at a time.
        limit: stop after this many events (all of them by default).

    Raises:
        Exception: whatever the handler raises; the checkpoint then stays before that event.
    """
    if not consumer or not isinstance(consumer, str):
        msg = f"a consumer needs a non-blank name, got {consumer!r}"
        raise InvalidValue(msg)
    if batch_size < 1 or (limit is not None and limit < 0):
        msg = f"batch_size must be 1 or more and limit 0 or more, got {batch_size}, {limit}"
        raise InvalidValue(msg)
    keeper = checkpoints if checkpoints is not None else store
    if not isinstance(keeper, CheckpointStore):
        msg = f"{keeper!r} keeps no checkpoints; pass checkpoints=..."
        raise InvalidValue(msg)
    position = keeper.checkpoint(consumer)
    delivered = 0
    while limit is None or delivered < limit:
        size = batch_size if limit is None else min(batch_size, limit - delivered)
        batch = store.read_all(after=position, limit=size)
        if not batch:
            break
        for item in batch:
            handler(item)
            position = item.position
            keeper.save_checkpoint(consumer, position)
            delivered += 1
    return delivered
