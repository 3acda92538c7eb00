"""The directory is the truth about agents; the core decides on the values the desk hands it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from servicekit import (
    Agent,
    AgentStillResponsible,
    Channel,
    Customer,
    DirectoryConflict,
    Event,
    FollowUpHandedOver,
    InMemoryStore,
    InvalidTransition,
    ManualClock,
    NotPermitted,
    OfferAccepted,
    OwnershipViolation,
    Role,
    ServiceDesk,
    Survey,
    System,
    buying_cycle,
)
from servicekit.stores.base import Store

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
IVY = Customer("ivy")


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store  # memory, SQLite and PostgreSQL (see conftest.py)


def make_desk(store: Store) -> ServiceDesk:
    desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=ManualClock(START))
    for agent in (
        Agent("ana", teams={"sales"}),
        Agent("bo", teams={"service"}),
        Agent("cy", teams={"service"}),
        Agent("sal", teams={"sales"}, roles={Role.SUPERVISOR}),
        Agent("sue", teams={"service"}, roles={Role.SUPERVISOR}),
    ):
        desk.register_agent(agent)
    return desk


def open_for(desk: ServiceDesk, owner: str, case_id: str = "K-1") -> str:
    desk.open_case(
        actor=owner, customer_id="ivy", channel=Channel.PHONE, summary="desks", case_id=case_id
    )
    return case_id


def test_a_supervisor_is_judged_by_the_owners_teams_as_the_directory_knows_them_now(
    store: Store,
) -> None:
    desk = make_desk(store)
    case_id = open_for(desk, "ana")
    desk.register_agent(Agent("ana", teams={"service"}))  # ana moved from sales to support

    with pytest.raises(NotPermitted, match="the owner is agent 'ana'"):
        desk.negotiate(case_id, actor="sal")  # no longer her supervisor
    assert desk.negotiate(case_id, actor="sue").case.stage == "negotiation"


def test_an_owner_deactivated_in_the_directory_cannot_move_the_case_on_a_stale_cache(
    store: Store,
) -> None:
    desk = make_desk(store)
    case_id = open_for(desk, "ana")
    desk.register_agent(Agent("ana", teams={"sales"}, active=False))  # bypassing the check
    with pytest.raises(NotPermitted, match="inactive"):
        desk.negotiate(case_id, actor=Agent("ana", teams={"sales"}))


def scheduled_for(desk: ServiceDesk, assignee: str) -> str:
    case_id = open_for(desk, "bo")
    desk.schedule_follow_up(
        case_id, actor="bo", due=START + timedelta(days=2), reason="call back", assignee=assignee
    )
    return case_id


def test_an_agent_with_an_open_follow_up_cannot_be_deactivated(store: Store) -> None:
    desk = make_desk(store)
    case_id = scheduled_for(desk, "cy")
    with pytest.raises(AgentStillResponsible, match="K-1"):
        desk.deactivate_agent("cy")
    assert desk.agent("cy").active
    assert [s.case_id for s in desk.blocking_cases("cy")] == [case_id]


def test_a_follow_up_handed_over_frees_its_assignee_to_leave(store: Store) -> None:
    desk = make_desk(store)
    case_id = scheduled_for(desk, "cy")
    outcome = desk.hand_over_follow_up(case_id, 1, actor="cy", to="bo", reason="cy leaves")
    (event,) = outcome.events
    assert isinstance(event, FollowUpHandedOver)
    assert (event.from_assignee.id, event.to_assignee.id) == ("cy", "bo")
    assert outcome.case.open_follow_ups[0].assignee.id == "bo"
    assert not desk.deactivate_agent("cy").active


@pytest.mark.parametrize("actor", ["cy", "bo", "sue"])  # the assignee, the steward, a supervisor
def test_the_assignee_steward_or_a_supervisor_hands_a_follow_up_over(
    actor: str, store: Store
) -> None:
    desk = make_desk(store)
    case_id = scheduled_for(desk, "cy")
    receiver = "bo" if actor != "bo" else "sue"
    assert desk.hand_over_follow_up(case_id, 1, actor=actor, to=receiver, reason="r").events


def test_nobody_else_hands_a_follow_up_over_and_never_to_an_inactive_agent(store: Store) -> None:
    desk = make_desk(store)
    case_id = scheduled_for(desk, "cy")
    with pytest.raises(NotPermitted, match="only they, the case's steward"):
        desk.hand_over_follow_up(case_id, 1, actor="ana", to="bo", reason="r")
    desk.register_agent(Agent("old", teams={"service"}, active=False))
    with pytest.raises(OwnershipViolation, match="inactive"):
        desk.hand_over_follow_up(case_id, 1, actor="cy", to="old", reason="r")
    with pytest.raises(InvalidTransition, match="follow-up 1 is for agent 'cy' already"):
        desk.hand_over_follow_up(case_id, 1, actor="cy", to="cy", reason="r")
    assert len(desk.history(case_id)) == 5  # opened (4 events) and scheduled: nothing else


def test_a_case_whose_follow_up_assignee_is_inactive_needs_reassignment(store: Store) -> None:
    desk = make_desk(store)
    case_id = scheduled_for(desk, "cy")
    store.put_agent(Agent("cy", teams={"service"}, active=False))  # the host bypassed the desk
    assert [s.case_id for s in desk.cases_needing_reassignment()] == [case_id]


class SlowAppends(InMemoryStore):
    """A store whose append waits, while a deactivation runs, at a point the test chooses.

    Memory only, by nature: the test needs to hold an append at a chosen point
    between the desk's decision and the store's commit, which only a wrapper
    around an in-process store offers; the stores' own race tests cover SQLite
    and PostgreSQL (`require_active` checked inside the transaction).
    """

    def __init__(self) -> None:
        super().__init__()
        self.deciding = threading.Event()
        self.go_on = threading.Event()
        self.slow = False

    def append(self, case_id: str, events: Sequence[Event], **options: Any) -> int:
        if self.slow:
            self.slow = False
            self.deciding.set()  # decided: the transfer to bo is in flight
            assert self.go_on.wait(5)
        return super().append(case_id, events, **options)


def test_a_deactivation_and_a_transfer_to_the_agent_never_both_succeed() -> None:
    store = SlowAppends()
    desk = make_desk(store)
    case_id = open_for(desk, "cy")
    results: dict[str, Any] = {}

    def transfer() -> None:
        try:
            results["transfer"] = desk.transfer(case_id, actor="cy", to="bo", handoff_note="over")
        except Exception as error:  # noqa: BLE001 - the test records what happened
            results["transfer"] = error

    store.slow = True
    worker = threading.Thread(target=transfer)
    worker.start()
    assert store.deciding.wait(5)
    results["deactivation"] = desk.deactivate_agent("bo")  # while the transfer is in flight
    store.go_on.set()
    worker.join(5)

    assert not desk.agent("bo").active
    assert isinstance(results["transfer"], OwnershipViolation)  # decided again, then refused
    case = desk.case(case_id)
    assert case.owner is not None
    assert case.owner.id == "cy"


class MeddlingStore(InMemoryStore):
    """Another process changes bo's teams and roles just before the deactivation writes.

    Memory only, by nature (as `SlowAppends`): the change is injected between the
    deactivation's read and its write by wrapping the store's `put_agent`.
    """

    meddle = False

    def put_agent(self, agent: Agent, *, expected: Agent | None = None) -> bool:
        if self.meddle and not agent.active:
            self.meddle = False
            super().put_agent(Agent("bo", teams={"billing"}, roles={Role.SUPERVISOR}))
        return super().put_agent(agent, expected=expected)


def test_a_deactivation_keeps_a_change_another_writer_made_to_the_agent_meanwhile() -> None:
    store = MeddlingStore()
    desk = make_desk(store)
    store.meddle = True
    inactive = desk.deactivate_agent("bo")
    assert not store.meddle  # the change did land between the deactivation's read and write
    assert desk.agent("bo") == Agent("bo", teams={"billing"}, roles={Role.SUPERVISOR}, active=False)
    assert inactive == desk.agent("bo")


def test_a_deactivation_that_loses_to_another_writer_every_time_gives_up_writing_nothing() -> None:
    class Busy(InMemoryStore):
        """Someone changes bo's record before every write the deactivation tries."""

        teams = 0

        def put_agent(self, agent: Agent, *, expected: Agent | None = None) -> bool:
            if expected is not None:
                self.teams += 1
                super().put_agent(Agent("bo", teams={f"team-{self.teams}"}))
            return super().put_agent(agent, expected=expected)

    store = Busy()
    desk = make_desk(store)
    with pytest.raises(DirectoryConflict, match="could not deactivate agent 'bo'"):
        desk.deactivate_agent("bo")
    assert desk.agent("bo").active
    assert desk.agent("bo").teams == {f"team-{store.teams}"}


def test_a_retry_under_the_same_key_returns_the_first_result_after_the_directory_changed(
    store: Store,
) -> None:
    desk = make_desk(store)
    case_id = open_for(desk, "cy")
    first = desk.transfer(case_id, actor="cy", to="bo", handoff_note="over", idempotency_key="t")
    desk.register_agent(Agent("bo", teams={"service", "repairs"}))  # bo joined another team
    again = desk.transfer(case_id, actor="cy", to="bo", handoff_note="over", idempotency_key="t")
    assert again.duplicate
    assert again.events == first.events


def negotiating(desk: ServiceDesk) -> str:
    case_id = open_for(desk, "ana")
    desk.negotiate(case_id, actor="ana")
    desk.make_offer(case_id, actor="ana", amount=Decimal("900.00"), currency="EUR")
    return case_id


def test_the_customer_accepts_the_companys_offer(store: Store) -> None:
    desk = make_desk(store)
    case_id = negotiating(desk)
    (event,) = desk.accept_offer(case_id, 1, actor=Customer("ivy")).events
    assert isinstance(event, OfferAccepted)
    assert event.via is None


def test_an_agent_records_a_customers_acceptance_naming_the_channel(store: Store) -> None:
    desk = make_desk(store)
    case_id = negotiating(desk)
    with pytest.raises(NotPermitted, match="name the channel"):
        desk.accept_offer(case_id, 1, actor="ana")
    (event,) = desk.accept_offer(case_id, 1, actor="ana", via=Channel.PHONE).events
    assert isinstance(event, OfferAccepted)
    assert event.via == Channel.PHONE
    assert event.actor.id == "ana"  # type: ignore[union-attr]
    assert "for the customer, who answered by phone" in str(event)


def test_only_those_who_steer_the_case_record_a_customers_answer(store: Store) -> None:
    desk = make_desk(store)
    case_id = negotiating(desk)
    with pytest.raises(NotPermitted, match="only the owner"):
        desk.reject_offer(case_id, 1, actor="bo", via=Channel.PHONE)


def test_the_system_never_answers_for_the_customer(store: Store) -> None:
    desk = make_desk(store)
    case_id = negotiating(desk)
    with pytest.raises(NotPermitted, match="system never answers for the customer"):
        desk.accept_offer(case_id, 1, actor=System("bot"), via=Channel.WEB)
    with pytest.raises(NotPermitted, match="system never answers for the customer"):
        desk.reject_offer(case_id, 1, actor=System("bot"))
    assert desk.case(case_id).open_offers[0].offer_id == 1


def test_the_company_answers_the_customers_own_offer_and_names_no_channel(store: Store) -> None:
    desk = make_desk(store)
    case_id = negotiating(desk)
    desk.reject_offer(case_id, 1, actor=Customer("ivy"), reason="too dear")
    from servicekit import Party  # noqa: PLC0415 - only this test needs it

    desk.make_offer(
        case_id, actor="ana", amount=Decimal("800.00"), currency="EUR", party=Party.CUSTOMER
    )
    with pytest.raises(NotPermitted, match="the customer's own"):
        desk.accept_offer(case_id, 2, actor=Customer("ivy"))
    with pytest.raises(NotPermitted, match="no channel to name"):
        desk.accept_offer(case_id, 2, actor="ana", via=Channel.PHONE)
    assert desk.accept_offer(case_id, 2, actor="ana").events


def test_the_system_never_records_customer_feedback(store: Store) -> None:
    desk = make_desk(store)
    case_id = open_for(desk, "ana")
    with pytest.raises(NotPermitted, match="system never records it"):
        desk.record_feedback(case_id, actor=System("bot"), survey=Survey.CSAT, score=5)


def test_a_follow_up_is_handed_over_by_a_supervisor_of_the_assignees_team_now(store: Store) -> None:
    desk = make_desk(store)
    case_id = scheduled_for(desk, "cy")
    desk.register_agent(Agent("cy", teams={"sales"}))  # cy moved from service to sales
    with pytest.raises(NotPermitted, match="only they, the case's steward"):
        desk.hand_over_follow_up(case_id, 1, actor="sue", to="bo", reason="r")  # service's
    assert desk.hand_over_follow_up(case_id, 1, actor="sal", to="bo", reason="r").events


def test_the_system_makes_no_offers_and_answers_none(store: Store) -> None:
    from servicekit import Party  # noqa: PLC0415 - only this test needs it

    desk = make_desk(store)
    case_id = negotiating(desk)
    with pytest.raises(NotPermitted, match="the system never bargains"):
        desk.make_offer(case_id, actor=System("bot"), amount=Decimal("1.00"), currency="EUR")
    desk.make_offer(
        case_id, actor="ana", amount=Decimal("800.00"), currency="EUR", party=Party.CUSTOMER
    )
    with pytest.raises(NotPermitted, match="answered by a person"):
        desk.accept_offer(case_id, 2, actor=System("bot"))
    assert [offer.offer_id for offer in desk.case(case_id).open_offers] == [2]


def test_one_workflow_passed_as_workflows_is_a_precise_error() -> None:
    from servicekit import InvalidValue  # noqa: PLC0415

    with pytest.raises(InvalidValue, match="takes a list of workflows"):
        ServiceDesk(workflows=buying_cycle())  # type: ignore[arg-type]


def test_a_register_from_a_record_another_writer_changed_since_is_refused_writing_nothing(
    store: Store,
) -> None:
    desk = make_desk(store)
    loaded = desk.agent("bo")  # an admin screen loads the record
    desk.deactivate_agent("bo")  # another admin deactivates meanwhile
    changed = Agent("bo", teams={"billing", "extra"}, roles=loaded.roles)
    with pytest.raises(DirectoryConflict, match="no longer the one the change was made from"):
        desk.register_agent(changed, expected=loaded)
    assert not desk.agent("bo").active
    assert desk.agent("bo").teams == loaded.teams


def test_a_register_from_the_record_the_directory_holds_is_written(store: Store) -> None:
    desk = make_desk(store)
    loaded = desk.agent("bo")
    changed = Agent("bo", teams={"billing", "extra"}, roles=loaded.roles)
    assert desk.register_agent(changed, expected=loaded) == changed
    assert desk.agent("bo") == changed
