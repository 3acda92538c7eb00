"""The outbox hands every event over in order, at least once, from a stored checkpoint."""

from __future__ import annotations

import pytest
from helpers import START

from servicekit import (
    Agent,
    Channel,
    InMemoryStore,
    InvalidValue,
    ManualClock,
    ServiceDesk,
    StoredEvent,
    buying_cycle,
    deliver,
)
from servicekit.stores import Store


@pytest.fixture
def desk(any_store: Store) -> ServiceDesk:
    store = any_store  # memory, SQLite and PostgreSQL (see conftest.py)
    desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=ManualClock(START))
    desk.register_agent(Agent("bo", teams={"service"}))
    desk.register_agent(Agent("cy", teams={"service"}))
    for case_id in ["a", "b"]:
        desk.open_case(
            actor="bo",
            customer_id="c",
            channel=Channel.WEB,
            summary="s",
            stage="in_service",
            case_id=case_id,
        )
    return desk


def test_every_event_is_handed_over_once_in_order(desk: ServiceDesk) -> None:
    seen: list[StoredEvent] = []
    assert deliver(desk.store, "log", seen.append) == len(desk.store.read_all())
    assert seen == desk.store.read_all()
    assert deliver(desk.store, "log", seen.append) == 0  # nothing new
    desk.transfer("a", actor="bo", to="cy", handoff_note="over")
    assert deliver(desk.store, "log", seen.append) == 2
    assert seen == desk.store.read_all()


def test_a_failing_handler_gets_the_same_event_again(desk: ServiceDesk) -> None:
    seen: list[int] = []

    def flaky(item: StoredEvent) -> None:
        if item.position == 3 and 3 not in seen:
            seen.append(3)
            down = "mail server down"
            raise ConnectionError(down)
        seen.append(item.position)

    with pytest.raises(ConnectionError):
        deliver(desk.store, "mailer", flaky)
    deliver(desk.store, "mailer", flaky)
    positions = [item.position for item in desk.store.read_all()]
    assert seen == [positions[0], positions[1], 3, *positions[2:]]


def test_consumers_keep_their_own_checkpoints(desk: ServiceDesk) -> None:
    first: list[StoredEvent] = []
    second: list[StoredEvent] = []
    deliver(desk.store, "one", first.append, limit=3)
    deliver(desk.store, "two", second.append, batch_size=1)
    assert len(first) == 3
    assert second == desk.store.read_all()
    deliver(desk.store, "one", first.append, batch_size=2)
    assert first == second


def test_checkpoints_may_live_elsewhere(desk: ServiceDesk) -> None:
    elsewhere = InMemoryStore()
    seen: list[StoredEvent] = []
    deliver(desk.store, "x", seen.append, checkpoints=elsewhere)
    assert elsewhere.checkpoint("x") == seen[-1].position


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"consumer": ""}, "non-blank name"),
        ({"batch_size": 0}, "batch_size"),
        ({"limit": -1}, "limit"),
        ({"checkpoints": object()}, "keeps no checkpoints"),
    ],
)
def test_delivery_options_are_checked(
    desk: ServiceDesk, options: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"consumer": "c", **options}
    consumer = arguments.pop("consumer")
    with pytest.raises(InvalidValue, match=message):
        deliver(desk.store, consumer, print, **arguments)  # type: ignore[arg-type]
