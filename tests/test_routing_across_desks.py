"""Routing on one store shared by two desks: each decides on the directory as the store holds it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from helpers import START

from servicekit import (
    Agent,
    Channel,
    Customer,
    InMemoryStore,
    ManualClock,
    Routing,
    ServiceDesk,
    buying_cycle,
)
from servicekit.events import Event
from servicekit.stores import Store

WORKFLOW = buying_cycle()


def two_desks(store: Store) -> tuple[ServiceDesk, ServiceDesk]:
    clock = ManualClock(START)
    one, other = (
        ServiceDesk(workflow=WORKFLOW, store=store, clock=clock, routing=Routing())
        for _ in range(2)
    )
    one.register_agent(Agent("ana", teams={"sales"}))
    one.register_agent(Agent("cy", teams={"sales"}, skills={"rare"}))
    one.routing_queue()  # the first desk builds its index now
    other.routing_queue()
    return one, other


def open_rare(desk: ServiceDesk, case_id: str) -> str | None:
    outcome = desk.open_case(
        actor=Customer("c"),
        customer_id="c",
        channel=Channel.PHONE,
        summary="s",
        case_id=case_id,
        skills=["rare"],
    )
    owner = outcome.case.owner
    return None if owner is None else owner.id


def test_a_case_is_not_routed_to_an_agent_another_desk_deactivated(any_store: Store) -> None:
    one, other = two_desks(any_store)
    other.deactivate_agent("cy")
    assert open_rare(one, "after") is None
    assert [case.case_id for case in one.routing_queue()] == ["after"]


def test_routing_uses_the_skills_another_desk_gave_an_agent(any_store: Store) -> None:
    one, other = two_desks(any_store)
    other.register_agent(Agent("cy", teams={"sales"}))
    assert open_rare(one, "A") is None


def test_a_capacity_claim_takes_the_limit_the_store_holds_now(any_store: Store) -> None:
    one, other = two_desks(any_store)
    other.register_agent(Agent("cy", teams={"sales"}, skills={"rare"}, capacity={"phone": 0}))
    assert open_rare(one, "A") is None
    assert any_store.find_cases(owner="cy") == []


def test_the_queue_is_offered_to_an_agent_another_desk_gave_the_skill(any_store: Store) -> None:
    one, other = two_desks(any_store)
    other.register_agent(Agent("cy", teams={"sales"}))
    one.routing_queue()
    assert open_rare(one, "A") is None
    other.register_agent(Agent("cy", teams={"sales"}, skills={"rare"}))
    one.tick()
    owner = one.case("A").owner
    assert owner is not None
    assert owner.id == "cy"


class DeactivatesOnAppend(InMemoryStore):
    """A store on which another process deactivates cy just before the next append commits."""

    armed = False

    def append(self, case_id: str, events: Sequence[Event], **options: Any) -> int:
        if self.armed:
            self.armed = False
            cy = self.get_agent("cy")
            assert cy is not None
            self.put_agent(attrs.evolve(cy, active=False))
        return super().append(case_id, events, **options)


def test_the_store_refuses_a_routed_case_to_an_agent_deactivated_before_it_commits() -> None:
    store = DeactivatesOnAppend()
    one, _ = two_desks(store)
    store.armed = True
    assert open_rare(one, "A") is None
    assert store.find_cases(owner="cy") == []
