"""Routing under openings, answers, freed capacity, presence and capacity changes, two desks.

The oracle is the store, read directly: loads are counted from the index entries,
what an agent could take is judged here from the agents as the test set them up,
never by asking the router.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import StoreFactory, examples, postgres_url
from helpers import START
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from servicekit import (
    Agent,
    Availability,
    Channel,
    Customer,
    Direction,
    InMemoryStore,
    ManualClock,
    OwnerAssigned,
    Routing,
    ServiceDesk,
    SQLiteStore,
    StatusCategory,
    Store,
    System,
    buying_cycle,
)

WORKFLOW = buying_cycle()
CHANNELS = (Channel.CHAT, Channel.PHONE, Channel.EMAIL)
SKILLS = ("de", "en")
NAMES = ("ana", "bo", "cy", "dee")
ROUTER = System("routing")
WORKING = {StatusCategory.NEW, StatusCategory.OPEN}


def working_loads(store: Store) -> Counter[tuple[str, str]]:
    """Working cases per (owner, channel), from the store's index: the oracle."""
    return Counter(
        (summary.owner_id, summary.channel or "")
        for summary in store.find_cases()
        if summary.owner_id is not None and not summary.finished and summary.category in WORKING
    )


class RoutingRules(RuleBasedStateMachine):
    """One routing desk (and a second one on the same store that opens cases too)."""

    def __init__(self, open_store: StoreFactory) -> None:
        super().__init__()
        self.closing = contextlib.ExitStack()
        self.store = self.closing.enter_context(open_store())  # a fresh one for each example
        self.clock = ManualClock(START)
        routing = Routing(answer_minutes=10, grace_minutes=15)
        self.desk = ServiceDesk(
            workflow=WORKFLOW, store=self.store, clock=self.clock, routing=routing
        )
        self.other = ServiceDesk(
            workflow=WORKFLOW, store=self.store, clock=self.clock, routing=routing
        )
        self.agents: dict[str, Agent] = {}
        self.presence: dict[str, Availability] = {}
        self.mine: set[str] = set()  # cases opened through `desk` (its queue knows them)
        self.seen_events = 0
        self.opened = 0
        # A capacity lowered below an agent's load leaves them above it until cases free:
        # what they may hold is the limit, or their load when the limit went below it.
        self.ceiling: dict[tuple[str, str], int] = {}

    @rule(
        name=st.sampled_from(NAMES),
        skills=st.frozensets(st.sampled_from(SKILLS)),
        chat=st.integers(0, 2),
        phone=st.integers(0, 1),
    )
    def register(self, name: str, skills: frozenset[str], chat: int, phone: int) -> None:
        agent = Agent(name, skills=skills, capacity={"chat": chat, "phone": phone})
        loads = working_loads(self.store)
        for channel, limit in agent.capacity:
            self.ceiling[(name, channel)] = max(limit, loads[(name, channel)])
        self.agents[name] = agent
        self.presence.setdefault(name, Availability.AVAILABLE)
        self.desk.register_agent(agent)
        self.other.register_agent(agent)

    @precondition(lambda self: self.agents)
    @rule(data=st.data(), availability=st.sampled_from(Availability))
    def set_availability(self, data: st.DataObject, availability: Availability) -> None:
        name = data.draw(st.sampled_from(sorted(self.agents)))
        self.presence[name] = availability
        self.desk.set_availability(name, availability)
        self.other.set_availability(name, availability)  # the host tells every desk

    @rule(
        customer=st.sampled_from(["c1", "c2", "c3"]),
        channel=st.sampled_from(CHANNELS),
        skills=st.frozensets(st.sampled_from(SKILLS)),
        priority=st.sampled_from(["urgent", "normal", "low"]),
        through_other=st.booleans(),
    )
    def open_case(
        self,
        customer: str,
        channel: Channel,
        skills: frozenset[str],
        priority: str,
        through_other: bool,  # noqa: FBT001 - drawn by hypothesis
    ) -> None:
        self.opened += 1
        desk = self.other if through_other else self.desk
        outcome = desk.open_case(
            actor=Customer(customer),
            customer_id=customer,
            channel=channel,
            summary="help",
            skills=skills,
            priority=priority,
            case_id=f"case-{self.opened}",
        )
        if not through_other:
            self.mine.add(outcome.case.case_id)

    def owned(self) -> list[tuple[str, str]]:
        return sorted(
            (summary.case_id, summary.owner_id)
            for summary in self.store.find_cases()
            if summary.owner_id is not None and not summary.finished
        )

    @precondition(lambda self: self.owned())
    @rule(data=st.data())
    def answer(self, data: st.DataObject) -> None:
        case_id, owner = data.draw(st.sampled_from(self.owned()))
        if self.agents[owner].active:
            self.desk.record_interaction(
                case_id,
                actor=owner,
                channel=Channel.CHAT,
                direction=Direction.OUTBOUND,
                summary="hello",
            )

    @precondition(lambda self: self.owned())
    @rule(data=st.data())
    def free_capacity(self, data: st.DataObject) -> None:
        case_id, owner = data.draw(st.sampled_from(self.owned()))
        case = self.desk.case(case_id)
        if case.stage == "enquiry":
            self.desk.start_service(case_id, actor=owner)
        if self.desk.case(case_id).stage == "in_service":
            self.desk.wait_on_customer(case_id, actor=owner)

    @rule(minutes=st.integers(1, 20))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))
        report = self.desk.tick()
        assert report.failed == ()

    def teardown(self) -> None:
        self.closing.close()

    # -- the rules, after every step ----------------------------------------------------------

    @invariant()
    def no_agent_is_ever_over_capacity(self) -> None:
        loads = working_loads(self.store)
        for (owner, channel), held in loads.items():
            ceiling = self.ceiling.get((owner, channel))
            assert ceiling is None or held <= ceiling, (owner, channel, held, ceiling)
        for (owner, channel), ceiling in self.ceiling.items():
            limit = self.agents[owner].capacity_on(channel) or 0
            self.ceiling[(owner, channel)] = max(limit, min(ceiling, loads[(owner, channel)]))

    @invariant()
    def routing_assigns_only_available_active_skilled_agents(self) -> None:
        # Every assignment since the last step, judged on the agents as the test set them.
        for stored in self.store.read_all(after=self.seen_events):
            event = stored.event
            if isinstance(event, OwnerAssigned) and event.actor == ROUTER:
                agent = self.agents[event.owner.id]
                case = self.desk.case(event.case_id)
                assert agent.active
                assert self.presence[agent.id] is Availability.AVAILABLE, agent.id
                assert case.skills <= agent.skills
        self.seen_events = len(self.store.read_all())

    @invariant()
    def a_queued_case_waits_only_while_nobody_qualifies(self) -> None:
        loads = working_loads(self.store)
        for summary in self.store.find_cases():
            if summary.case_id not in self.mine or summary.owner_id is not None:
                continue
            if summary.finished or summary.category is not StatusCategory.NEW:
                continue
            case = self.desk.case(summary.case_id)
            channel = summary.channel or ""
            for agent in self.agents.values():
                limit = agent.capacity_on(channel)
                qualifies = (
                    agent.active
                    and self.presence[agent.id] is Availability.AVAILABLE
                    and case.skills <= agent.skills
                    and agent.id not in case.unanswered_by
                    and (limit is None or loads[(agent.id, channel)] < limit)
                )
                assert not qualifies, (summary.case_id, agent.id)

    @invariant()
    def every_assignment_is_in_the_history_with_its_reason(self) -> None:
        for summary in self.store.find_cases():
            if summary.owner_id is None:
                continue
            history = self.store.load(summary.case_id).events
            assigned = [e for e in history if isinstance(e, OwnerAssigned)]
            assert assigned, summary.case_id
            assert assigned[-1].owner.id == summary.owner_id
            assert all(e.reason for e in assigned if e.actor == ROUTER)

    @invariant()
    def ownership_and_steward_rules_hold(self) -> None:
        for summary in self.store.find_cases():
            if summary.finished:
                continue
            if summary.category is not StatusCategory.NEW:
                assert summary.owner_id is not None, summary.case_id
            if summary.owner_id is not None:
                assert summary.steward_id is not None, summary.case_id


EXAMPLES = {"memory": 60, "sqlite": 60, "postgres": 20}
"""Examples per store: fewer on PostgreSQL, where each of a step's queries is a round trip.

An example there takes some 60 times as long as in memory (1.7 s against 0.03 s, at a load
of 5 on 2 cores); 20 examples (600 steps) add half a minute, 60 would add a minute and a half.
"""


@pytest.mark.slow
def test_routing_rules(store_kind: str, store_factory: StoreFactory) -> None:
    run_state_machine_as_test(
        # "anything which returns an instance [...] when called", says its docstring
        lambda: RoutingRules(store_factory),  # type: ignore[arg-type]
        settings=settings(
            max_examples=examples(EXAMPLES[store_kind]), stateful_step_count=30, deadline=None
        ),
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=30))
def test_equal_agents_loads_never_differ_by_more_than_one_after_each_assignment(
    channels: list[Channel],
) -> None:
    desk = ServiceDesk(workflow=WORKFLOW, clock=ManualClock(START), routing=Routing())
    for name in NAMES:
        desk.register_agent(Agent(name, skills={"de"}, capacity={"chat": 30}))
    for number, channel in enumerate(channels):
        desk.open_case(
            actor=Customer(f"c{number}"),
            customer_id=f"c{number}",
            channel=channel,
            summary="help",
            skills={"de"},
        )
        loads = working_loads(desk.store)
        for each in CHANNELS:
            counts = [loads[(name, each.name)] for name in NAMES]
            assert max(counts) - min(counts) <= 1, (each, counts)


@contextlib.contextmanager
def two_handles(kind: str, directory: Path) -> Iterator[list[Store]]:
    """Two stores on one database of `kind`, as two processes open it (memory: one, shared)."""
    if kind == "memory":
        shared = InMemoryStore()
        yield [shared, shared]
    elif kind == "sqlite":
        path = directory / "desk.sqlite"
        with SQLiteStore(path) as one, SQLiteStore(path) as other:
            yield [one, other]
    else:
        from pg_testing import engine_on, fresh_schema  # noqa: PLC0415 - the postgres extra

        from servicekit.stores.sqlalchemy import SQLAlchemyStore  # noqa: PLC0415

        with fresh_schema(postgres_url()) as schema:
            engines = [engine_on(postgres_url(), schema) for _ in "ab"]
            stores = [SQLAlchemyStore(engine) for engine in engines]
            stores[0].create_tables()
            try:
                yield list(stores)
            finally:
                for engine in engines:
                    engine.dispose()


def test_two_desks_deciding_at_once_never_put_an_agent_over_capacity(
    store_kind: str, tmp_path: Path
) -> None:
    with two_handles(store_kind, tmp_path) as stores:
        loads = two_desks_open_cases_at_once(stores)
    assert all(held <= 2 for held in loads.values()), loads
    assert sum(loads.values()) == 8  # every place is taken; the other 16 cases wait


def two_desks_open_cases_at_once(stores: list[Store]) -> Counter[tuple[str, str]]:
    """Two routing desks, one on each store, open 12 chats each at once; the loads after."""
    clock = ManualClock(START)
    desks = [
        ServiceDesk(workflow=WORKFLOW, store=store, clock=clock, routing=Routing())
        for store in stores
    ]
    for name in NAMES:
        desks[0].register_agent(Agent(name, capacity={"chat": 2}))
    for desk in desks:
        desk.routing_queue()  # each desk builds its index now: both see everyone free
    start = threading.Barrier(2)

    def open_many(desk: ServiceDesk, prefix: str) -> None:
        start.wait()
        for number in range(12):
            desk.open_case(
                actor=Customer(f"{prefix}{number}"),
                customer_id=f"{prefix}{number}",
                channel=Channel.CHAT,
                summary="help",
            )

    threads = [
        threading.Thread(target=open_many, args=(desk, f"d{n}-")) for n, desk in enumerate(desks)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return working_loads(stores[0])
