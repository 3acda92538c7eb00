"""Routing at the desk, one test per behaviour: opening, the queue, answers, presence, two desks."""

from __future__ import annotations

import runpy
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from helpers import START

from servicekit import (
    Agent,
    Availability,
    BusinessCalendar,
    CapacityClaim,
    CaseReturnedToQueue,
    CaseSummary,
    Channel,
    ConcurrencyConflict,
    Customer,
    Direction,
    InvalidValue,
    ManualClock,
    OwnerAssigned,
    Routing,
    ServiceDesk,
    StewardAppointed,
    System,
    UnknownAgent,
    buying_cycle,
)
from servicekit.stores import Store

WORKFLOW = buying_cycle()


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store  # memory, SQLite and PostgreSQL (see conftest.py)


def desk_with(
    store: Store,
    *agents: Agent,
    routing: Routing | None = None,
    clock: ManualClock | None = None,
) -> ServiceDesk:
    desk = ServiceDesk(
        workflow=WORKFLOW,
        store=store,
        clock=clock or ManualClock(START),
        routing=routing or Routing(answer_minutes=10, grace_minutes=15),
    )
    for agent in agents:
        desk.register_agent(agent)
    return desk


def chat(desk: ServiceDesk, customer: str = "cust-1", **options: object) -> str:
    outcome = desk.open_case(
        actor=Customer(customer),
        customer_id=customer,
        channel=Channel.CHAT,
        summary="Hallo, my order is late",
        **options,  # type: ignore[arg-type]
    )
    return outcome.case.case_id


def owner_of(desk: ServiceDesk, case_id: str) -> str | None:
    owner = desk.case(case_id).owner
    return None if owner is None else owner.id


def later(desk: ServiceDesk, minutes: int) -> None:
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(minutes=minutes))


# -- on opening --------------------------------------------------------------------------------


def test_without_routing_a_case_opened_by_a_customer_waits_unowned(store: Store) -> None:
    desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
    desk.register_agent(Agent("ana"))
    assert owner_of(desk, chat(desk)) is None


def test_routing_assigns_an_opened_case_in_the_same_append_with_its_reason(store: Store) -> None:
    desk = desk_with(store, Agent("ana"))
    outcome = desk.open_case(
        actor=Customer("cust-1"), customer_id="cust-1", channel=Channel.CHAT, summary="hi"
    )
    kinds = [type(event) for event in outcome.events]
    assert OwnerAssigned in kinds
    assert StewardAppointed in kinds
    assigned = next(e for e in outcome.events if isinstance(e, OwnerAssigned))
    assert assigned.reason == "least loaded (0 open on chat)"
    assert desk.history(outcome.case.case_id) == outcome.events


def test_the_routed_agent_owns_the_case_and_is_its_steward(store: Store) -> None:
    desk = desk_with(store, Agent("ana"))
    case = desk.case(chat(desk))
    assert case.owner is not None
    assert case.steward == case.owner


def test_a_case_goes_only_to_an_agent_with_every_skill_it_needs(store: Store) -> None:
    desk = desk_with(store, Agent("ana", skills={"en"}), Agent("bo", skills={"de", "en"}))
    assert owner_of(desk, chat(desk, skills={"de"})) == "bo"


def test_equal_agents_are_given_cases_round_robin(store: Store) -> None:
    desk = desk_with(store, Agent("ana"), Agent("bo"), Agent("cy"))
    owners = [owner_of(desk, chat(desk, customer=f"c{n}")) for n in range(6)]
    assert owners == ["ana", "bo", "cy", "ana", "bo", "cy"]


def test_the_customers_steward_gets_their_new_case_when_they_qualify(store: Store) -> None:
    desk = desk_with(store, Agent("ana"), Agent("bo"))
    first = chat(desk)
    assert owner_of(desk, first) == "ana"
    chat(desk, customer="someone-else")  # bo is now as loaded as ana
    chat(desk, customer="a-third")  # ana has two, bo one
    assert owner_of(desk, chat(desk)) == "ana"


def test_a_case_with_nobody_qualified_waits_in_the_queue(store: Store) -> None:
    desk = desk_with(store, Agent("ana", skills={"en"}))
    case_id = chat(desk, skills={"de"})
    assert owner_of(desk, case_id) is None
    assert [entry.case_id for entry in desk.routing_queue()] == [case_id]


def test_an_agent_at_capacity_gets_no_more_cases_on_that_channel(store: Store) -> None:
    desk = desk_with(store, Agent("ana", capacity={"chat": 1}))
    chat(desk)
    assert owner_of(desk, chat(desk, customer="c2")) is None


# -- the queue drains when capacity frees -----------------------------------------------------


def test_capacity_freed_by_waiting_on_the_customer_offers_the_queue(store: Store) -> None:
    desk = desk_with(store, Agent("ana", capacity={"chat": 1}))
    first = chat(desk)
    queued = chat(desk, customer="c2")
    desk.start_service(first, actor="ana")
    assert owner_of(desk, queued) is None  # in service, still working
    desk.wait_on_customer(first, actor="ana")
    assert owner_of(desk, queued) == "ana"


def test_an_agent_who_becomes_available_is_offered_the_queue(store: Store) -> None:
    desk = desk_with(store, Agent("ana"))
    desk.set_availability("ana", Availability.AWAY)
    queued = chat(desk)
    assert owner_of(desk, queued) is None
    desk.set_availability("ana", Availability.AVAILABLE)
    assert owner_of(desk, queued) == "ana"


def test_raising_a_capacity_offers_the_queue(store: Store) -> None:
    desk = desk_with(store, Agent("ana", capacity={"chat": 1}))
    chat(desk)
    queued = chat(desk, customer="c2")
    desk.register_agent(Agent("ana", capacity={"chat": 2}))
    assert owner_of(desk, queued) == "ana"


def test_the_queue_is_offered_by_priority_then_waiting_time(store: Store) -> None:
    desk = desk_with(store, Agent("ana", capacity={"chat": 0}))
    first = chat(desk, customer="c1")
    later(desk, 1)
    second = chat(desk, customer="c2")
    later(desk, 1)
    urgent = chat(desk, customer="c3", priority="urgent")
    assert [entry.case_id for entry in desk.routing_queue()] == [urgent, first, second]
    desk.register_agent(Agent("ana", capacity={"chat": 2}))
    assert (owner_of(desk, urgent), owner_of(desk, first), owner_of(desk, second)) == (
        "ana",
        "ana",
        None,
    )


def test_each_queued_case_goes_to_exactly_one_agent(store: Store) -> None:
    desk = desk_with(store, Agent("ana", capacity={"chat": 0}), Agent("bo", capacity={"chat": 0}))
    queued = [chat(desk, customer=f"c{n}") for n in range(3)]
    desk.register_agent(Agent("ana", capacity={"chat": 2}))
    desk.register_agent(Agent("bo", capacity={"chat": 2}))
    assigned = [
        e for case_id in queued for e in desk.history(case_id) if isinstance(e, OwnerAssigned)
    ]
    assert sorted(e.case_id for e in assigned) == sorted(queued)


def test_changing_a_queued_cases_skills_offers_it_again(store: Store) -> None:
    desk = desk_with(store, Agent("ana", skills={"en"}))
    queued = chat(desk, skills={"de"})
    desk.change_skills(queued, actor=System("ops"), skills={"en"}, reason="speaks English")
    assert owner_of(desk, queued) == "ana"


# -- answers ------------------------------------------------------------------------------------


def test_an_unanswered_case_returns_to_the_queue_with_a_system_handoff_note(store: Store) -> None:
    desk = desk_with(store, Agent("ana"))
    case_id = chat(desk)
    later(desk, 11)
    desk.tick()
    returned = [e for e in desk.history(case_id) if isinstance(e, CaseReturnedToQueue)]
    assert len(returned) == 1
    assert "did not answer within 10 business minutes" in returned[0].handoff_note
    assert owner_of(desk, case_id) is None


def test_an_unanswered_case_is_routed_again_to_someone_else_who_becomes_steward(
    store: Store,
) -> None:
    desk = desk_with(store, Agent("ana"), Agent("bo"))
    case_id = chat(desk)
    assert owner_of(desk, case_id) == "ana"
    later(desk, 11)
    desk.tick()
    case = desk.case(case_id)
    assert case.owner is not None
    assert case.owner.id == "bo"
    assert case.steward == case.owner


def test_an_answered_case_stays_with_its_owner(store: Store) -> None:
    desk = desk_with(store, Agent("ana"), Agent("bo"))
    case_id = chat(desk)
    desk.record_interaction(
        case_id,
        actor="ana",
        channel=Channel.CHAT,
        direction=Direction.OUTBOUND,
        summary="Hi, looking now",
    )
    later(desk, 30)
    desk.tick()
    assert owner_of(desk, case_id) == "ana"


def test_the_answer_time_counts_business_minutes_on_the_calendar(store: Store) -> None:
    hours = {"mon": [("09:00", "09:05"), ("10:00", "17:00")]}
    calendar = BusinessCalendar(timezone="UTC", hours=hours)
    desk = desk_with(
        store, Agent("ana"), Agent("bo"), routing=Routing(answer_minutes=10, calendar=calendar)
    )
    case_id = chat(desk)  # Monday 09:00: 5 open minutes, then closed until 10:00
    later(desk, 30)
    desk.tick()
    assert owner_of(desk, case_id) == "ana"  # only 5 business minutes have passed
    later(desk, 40)
    desk.tick()
    assert owner_of(desk, case_id) == "bo"


# -- presence ---------------------------------------------------------------------------------


def test_an_agent_is_available_when_registered_and_presence_records_its_time(store: Store) -> None:
    desk = desk_with(store, Agent("ana"))
    assert desk.availability("ana").availability is Availability.AVAILABLE
    later(desk, 5)
    presence = desk.set_availability("ana", Availability.AWAY)
    assert presence.since == START + timedelta(minutes=5)
    assert desk.availability("ana") == presence


def test_an_unknown_agents_availability_is_refused(store: Store) -> None:
    with pytest.raises(UnknownAgent):
        desk_with(store, Agent("ana")).set_availability("zed", Availability.AWAY)


def test_an_availability_that_is_not_one_is_refused_and_changes_nothing(store: Store) -> None:
    desk = desk_with(store, Agent("ana"))
    with pytest.raises(InvalidValue, match="Availability"):
        desk.set_availability("ana", "away")  # type: ignore[arg-type]
    assert desk.availability("ana").availability is Availability.AVAILABLE


def test_an_offline_agents_unanswered_cases_are_routed_again_after_the_grace_period(
    store: Store,
) -> None:
    desk = desk_with(
        store, Agent("ana"), Agent("bo"), routing=Routing(answer_minutes=60, grace_minutes=15)
    )
    case_id = chat(desk)
    desk.set_availability("ana", Availability.OFFLINE)
    later(desk, 10)
    desk.tick()
    assert owner_of(desk, case_id) == "ana"  # still within the grace period
    later(desk, 6)
    desk.tick()
    assert owner_of(desk, case_id) == "bo"
    note = next(e for e in desk.history(case_id) if isinstance(e, CaseReturnedToQueue))
    assert "went offline before answering" in note.handoff_note


def test_an_offline_agents_answered_cases_stay_and_are_listed_for_reassignment(
    store: Store,
) -> None:
    desk = desk_with(store, Agent("ana"), Agent("bo"))
    case_id = chat(desk)
    desk.record_interaction(
        case_id, actor="ana", channel=Channel.CHAT, direction=Direction.OUTBOUND, summary="On it"
    )
    desk.set_availability("ana", Availability.OFFLINE)
    later(desk, 20)
    desk.tick()
    assert owner_of(desk, case_id) == "ana"
    assert [s.case_id for s in desk.cases_needing_reassignment()] == [case_id]


def test_a_deactivated_agents_unanswered_cases_are_routed_again_at_once(store: Store) -> None:
    desk = desk_with(store, Agent("ana"), Agent("bo"))
    case_id = chat(desk)
    desk.register_agent(Agent("ana", active=False))  # the host deactivated ana directly
    later(desk, 1)
    desk.tick()
    assert owner_of(desk, case_id) == "bo"
    note = next(e for e in desk.history(case_id) if isinstance(e, CaseReturnedToQueue))
    assert "was deactivated before answering" in note.handoff_note


# -- explanations ---------------------------------------------------------------------------


def test_the_explanation_names_the_choice_the_candidates_and_each_skipped_agent(
    store: Store,
) -> None:
    desk = desk_with(
        store,
        Agent("ana", skills={"de"}),
        Agent("bo", skills={"en"}),
        Agent("cy", skills={"de"}),
    )
    desk.set_availability("cy", Availability.AWAY)
    case_id = chat(desk, skills={"de"})
    explanation = desk.routing_explanation(case_id)
    assert explanation.chosen == "ana"
    assert explanation.reason == "least loaded (0 open on chat)"
    assert [(c.agent_id, c.load) for c in explanation.candidates] == [("ana", 1)]
    assert {s.agent_id: s.reason.value for s in explanation.skipped} == {
        "bo": "missing skill",
        "cy": "away",
    }


def test_a_desk_without_routing_has_no_explanation(store: Store) -> None:
    desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
    case_id = chat(desk)
    with pytest.raises(InvalidValue, match="does not route"):
        desk.routing_explanation(case_id)


# -- two desks on one store -------------------------------------------------------------------


def test_two_desks_on_one_store_never_put_an_agent_over_capacity(store: Store) -> None:
    clock = ManualClock(START)
    ana = Agent("ana", capacity={"chat": 1})
    one = desk_with(store, ana, clock=clock)
    other = desk_with(store, clock=clock)
    other.routing_queue()  # the second desk builds its index now, when ana has no case yet
    chat(one, customer="c1")
    second = chat(other, customer="c2")  # other still believes ana is free
    assert owner_of(other, second) is None
    assert len(store.find_cases(owner="ana")) == 1


def test_an_append_that_breaks_a_capacity_claim_is_refused_by_the_store(store: Store) -> None:
    desk = desk_with(store, Agent("ana"))
    case = desk.case(chat(desk))
    events = desk.history(case.case_id)
    with pytest.raises(ConcurrencyConflict, match="over their capacity of 0"):
        store.append(
            "copy",
            [attrs.evolve(e, case_id="copy") for e in events],
            expected_version=0,
            summary=attrs.evolve(CaseSummary.of(case), case_id="copy"),
            capacity=CapacityClaim("ana", "chat", 0),
        )


def test_the_contact_centre_example_builds_a_queue_and_drains_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    runpy.run_path(
        str(Path(__file__).parent.parent / "examples" / "contact_centre.py"), run_name="__main__"
    )
    out = capsys.readouterr().out
    assert "chat from c08 (de) -> queue" in out
    assert "ana answers c08" in out  # drained when ana waited on c01
    assert "c04 was not answered -> queue" in out


def test_a_queued_case_that_failed_once_is_offered_again_on_the_next_tick(store: Store) -> None:
    from datetime import UTC, datetime  # noqa: PLC0415 - only this test needs them

    from servicekit import Channel, Clock, Customer, Routing, buying_cycle  # noqa: PLC0415

    class FlakyClock(Clock):
        """A host clock that once returns a naive time."""

        naive = False

        def now(self) -> datetime:
            moment = datetime(2026, 3, 2, 9, tzinfo=UTC)
            return moment.replace(tzinfo=None) if self.naive else moment

    clock = FlakyClock()
    desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=clock, routing=Routing())
    desk.open_case(
        actor=Customer("ivy"), customer_id="ivy", channel=Channel.WEB, summary="x", case_id="Q1"
    )
    clock.naive = True
    desk.register_agent(Agent("bo"))  # the drain's assignment fails on the naive time
    clock.naive = False
    assert desk.case("Q1").owner is None
    desk.tick()
    owner = desk.case("Q1").owner
    assert owner is not None
    assert owner.id == "bo"


def test_one_skill_given_as_a_string_is_that_skill_on_opening_and_on_change(store: Store) -> None:
    desk = desk_with(store, Agent("ana", skills={"billing", "de"}))
    case_id = chat(desk, skills="billing")
    assert desk.case(case_id).skills == frozenset({"billing"})
    desk.change_skills(case_id, actor="ana", skills="de")
    assert desk.case(case_id).skills == frozenset({"de"})
