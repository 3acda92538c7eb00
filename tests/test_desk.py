"""The service desk: every operation, its errors, idempotency, retries and queries."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from helpers import START

from servicekit import (
    Agent,
    AgentStillResponsible,
    CapacityClaim,
    CaseNotFound,
    CaseSummary,
    Channel,
    ConcurrencyConflict,
    Customer,
    Direction,
    Event,
    FollowUpOutcome,
    IdempotencyConflict,
    IdempotencyRecord,
    InMemoryStore,
    InvalidTransition,
    InvalidValue,
    ManualClock,
    NotPermitted,
    OwnershipViolation,
    Party,
    Role,
    ServiceDesk,
    Survey,
    System,
    SystemClock,
    UnknownAgent,
    buying_cycle,
    replay,
)

WORKFLOW = buying_cycle()
CUSTOMER = Customer("cust-1")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def store(any_store: InMemoryStore) -> InMemoryStore:
    return any_store  # memory, SQLite and PostgreSQL (see conftest.py)


@pytest.fixture
def desk(store: InMemoryStore, clock: ManualClock) -> ServiceDesk:
    desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=clock)
    desk.register_agent(Agent("ana", teams={"sales"}))
    desk.register_agent(Agent("bo", teams={"service"}))
    desk.register_agent(Agent("cy", teams={"service"}))
    desk.register_agent(Agent("sue", teams={"service"}, roles={Role.SUPERVISOR}))
    return desk


def opened(desk: ServiceDesk, *, by: str = "ana", case_id: str = "case-1") -> str:
    desk.open_case(
        actor=by, customer_id=CUSTOMER.id, channel=Channel.PHONE, summary="desk", case_id=case_id
    )
    return case_id


def in_service(desk: ServiceDesk, owner: str = "bo", case_id: str = "case-1") -> str:
    opened(desk, by=owner, case_id=case_id)
    desk.start_service(case_id, actor=owner)
    return case_id


# -- operations ------------------------------------------------------------------------


def test_an_agent_opens_and_owns_a_case(desk: ServiceDesk) -> None:
    outcome = desk.open_case(actor="ana", customer_id="c", channel=Channel.EMAIL, summary="hi")
    assert outcome.case.owner is not None
    assert outcome.case.owner.id == "ana"
    assert len(outcome.case.case_id) == 32  # a fresh id when none is given
    assert [type(e).__name__ for e in outcome.events][:2] == ["CaseOpened", "InteractionRecorded"]
    assert desk.case(outcome.case.case_id) == outcome.case


def test_a_customer_opens_and_an_agent_takes_the_case(desk: ServiceDesk) -> None:
    opened(desk, by="ana", case_id="x")  # not this one
    desk.open_case(
        actor=CUSTOMER, customer_id=CUSTOMER.id, channel=Channel.WEB, summary="s", case_id="c"
    )
    outcome = desk.take("c", actor="bo")
    assert outcome.case.owner == desk.agent("bo")
    assert outcome.case.steward == desk.agent("bo")


def test_a_supervisor_assigns_and_the_system_routes(desk: ServiceDesk) -> None:
    for case_id in ["a", "b"]:
        desk.open_case(
            actor=CUSTOMER,
            customer_id=CUSTOMER.id,
            channel=Channel.WEB,
            summary="s",
            case_id=case_id,
        )
    assert desk.assign("a", actor="sue", to="bo").case.owner == desk.agent("bo")
    assert desk.assign("b", actor=System(), to="cy").case.owner == desk.agent("cy")


def test_a_transfer_keeps_the_steward_and_schedules_their_follow_up(desk: ServiceDesk) -> None:
    case_id = in_service(desk, owner="bo")
    outcome = desk.transfer(case_id, actor="bo", to="cy", handoff_note="needs a new part")
    assert outcome.case.owner == desk.agent("cy")
    assert outcome.case.steward == desk.agent("bo")
    assert outcome.case.open_follow_ups[0].assignee == desk.agent("bo")


def test_the_whole_journey_through_the_desk(desk: ServiceDesk, clock: ManualClock) -> None:
    case_id = opened(desk, by="ana")
    desk.negotiate(case_id, actor="ana")
    desk.make_offer(case_id, actor="ana", amount=Decimal("900.00"), currency="EUR")
    desk.reject_offer(case_id, 1, actor=CUSTOMER, reason="too dear")
    desk.make_offer(
        case_id, actor="ana", amount=Decimal("850.00"), currency="EUR", party=Party.CUSTOMER
    )
    desk.accept_offer(case_id, 2, actor="ana")
    desk.win(case_id, actor="ana")
    desk.start_service(case_id, actor="ana")
    desk.transfer(case_id, actor="ana", to="bo", handoff_note="850 EUR agreed")
    desk.wait_on_customer(case_id, actor="bo")
    clock.advance(timedelta(hours=2))
    desk.record_interaction(
        case_id,
        actor=CUSTOMER,
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        summary="here is the photo",
    )
    desk.resume(case_id, actor="bo")
    desk.resolve(case_id, actor="bo")
    desk.reopen(case_id, actor=CUSTOMER, reason="still broken")
    desk.resolve(case_id, actor="bo")
    desk.start_follow_up(case_id, actor="bo")
    for follow_up in desk.case(case_id).open_follow_ups:
        desk.complete_follow_up(
            case_id, follow_up.follow_up_id, actor="ana", outcome=FollowUpOutcome.SERVED
        )
    desk.record_feedback(case_id, actor=CUSTOMER, survey=Survey.CSAT, score=5, comment="great")
    outcome = desk.close(case_id, actor="bo")
    assert outcome.case.stage == "closed"
    assert replay(WORKFLOW, desk.history(case_id)) == outcome.case


def test_a_lost_sale_and_a_scheduled_follow_up(desk: ServiceDesk) -> None:
    case_id = opened(desk, by="ana")
    desk.negotiate(case_id, actor="ana")
    desk.lose(case_id, actor="ana", reason="budget cut")
    outcome = desk.schedule_follow_up(
        case_id, actor="ana", due=START + timedelta(days=30), reason="ask again next quarter"
    )
    assert outcome.case.stage == "lost"
    assert [f.reason for f in outcome.case.open_follow_ups] == [
        "ask the customer why the sale was lost",
        "ask again next quarter",
    ]


def test_a_supervisor_closes_with_open_follow_ups_giving_a_reason(desk: ServiceDesk) -> None:
    case_id = in_service(desk, owner="bo")
    desk.resolve(case_id, actor="bo")
    desk.start_follow_up(case_id, actor="bo")
    with pytest.raises(OwnershipViolation):
        desk.close(case_id, actor="bo")
    assert desk.close(case_id, actor="sue", reason="customer unreachable").case.is_finished


def test_the_steward_is_handed_on_through_the_desk(desk: ServiceDesk) -> None:
    case_id = in_service(desk, owner="bo")
    outcome = desk.reassign_steward(case_id, actor="sue", to="cy", reason="bo moves team")
    assert outcome.case.steward == desk.agent("cy")


def test_any_command_runs_through_execute(desk: ServiceDesk) -> None:
    from servicekit import Move  # noqa: PLC0415

    case_id = opened(desk, by="ana")
    outcome = desk.execute(case_id, Move(actor=desk.agent("ana"), trigger="negotiate"))
    assert outcome.case.stage == "negotiation"


# -- refusals ----------------------------------------------------------------------------


def test_a_refused_command_stores_nothing(desk: ServiceDesk, store: InMemoryStore) -> None:
    case_id = in_service(desk, owner="bo")
    before = store.read_all()
    with pytest.raises(NotPermitted):
        desk.resolve(case_id, actor="ana")
    with pytest.raises(InvalidTransition):
        desk.win(case_id, actor="bo")
    assert store.read_all() == before


def test_an_unregistered_agent_is_named(desk: ServiceDesk) -> None:
    with pytest.raises(UnknownAgent, match="no agent 'zed' in the directory"):
        opened(desk, by="zed")
    with pytest.raises(UnknownAgent):
        desk.open_case(actor=Agent("zed"), customer_id="c", channel=Channel.WEB, summary="s")


def test_the_directory_decides_who_an_agent_is(desk: ServiceDesk) -> None:
    case_id = in_service(desk, owner="bo")
    desk.register_agent(Agent("ana", teams={"service"}, roles={Role.SUPERVISOR}))
    # the caller's stale copy of ana says she is a plain sales agent; the directory wins
    outcome = desk.resolve(case_id, actor=Agent("ana", teams={"sales"}))
    assert outcome.case.stage == "resolved"


def test_an_agent_or_an_id_is_expected(desk: ServiceDesk) -> None:
    with pytest.raises(InvalidValue, match="an Agent or an agent id"):
        desk.take("case-1", actor=42)  # type: ignore[arg-type]


def test_reading_an_unknown_case_is_named(desk: ServiceDesk) -> None:
    with pytest.raises(CaseNotFound, match="no case 'nope'"):
        desk.case("nope")
    with pytest.raises(CaseNotFound):
        desk.history("nope")
    with pytest.raises(InvalidValue, match="non-blank"):
        desk.case(" ")


@pytest.mark.parametrize(
    "options",
    [{"max_attempts": 0}, {"max_attempts": True}, {"cache_size": -1}, {"workflow": "buying"}],
)
def test_the_desk_checks_its_settings(options: dict[str, object]) -> None:
    settings: dict[str, object] = {"workflow": WORKFLOW, **options}
    with pytest.raises(InvalidValue):
        ServiceDesk(**settings)  # type: ignore[arg-type]


def test_register_agent_takes_an_agent(desk: ServiceDesk) -> None:
    with pytest.raises(InvalidValue, match="takes an Agent"):
        desk.register_agent("ana")  # type: ignore[arg-type]


# -- the agent directory -----------------------------------------------------------------


def test_an_agent_with_unfinished_cases_cannot_be_deactivated(desk: ServiceDesk) -> None:
    case_id = in_service(desk, owner="bo")
    with pytest.raises(AgentStillResponsible, match="case-1") as error:
        desk.deactivate_agent("bo")
    assert error.value.case_ids == (case_id,)
    assert desk.agent("bo").active
    desk.transfer(case_id, actor="sue", to="cy", handoff_note="bo is leaving")
    assert [s.case_id for s in desk.blocking_cases("bo")] == [case_id]  # still the steward
    desk.reassign_steward(case_id, actor="sue", to="cy", reason="bo is leaving")
    assert desk.blocking_cases("bo") == []
    assert not desk.deactivate_agent("bo").active
    assert not desk.agent("bo").active


def test_finished_cases_do_not_block_a_deactivation(desk: ServiceDesk) -> None:
    case_id = opened(desk, by="cy")
    desk.close(case_id, actor="cy", reason="duplicate")
    assert not desk.deactivate_agent("cy").active


def test_cases_of_an_agent_who_left_are_listed(desk: ServiceDesk) -> None:
    in_service(desk, owner="bo", case_id="a")
    in_service(desk, owner="cy", case_id="b")
    desk.register_agent(Agent("bo", teams={"service"}, active=False))  # the host synced a leaver
    assert [s.case_id for s in desk.cases_needing_reassignment()] == ["a"]
    with pytest.raises(NotPermitted, match="inactive"):
        desk.resolve("a", actor="bo")
    desk.transfer("a", actor="sue", to="cy", handoff_note="bo left")
    desk.reassign_steward("a", actor="sue", to="cy", reason="bo left")
    assert desk.cases_needing_reassignment() == []


def test_agents_are_listed_by_id(desk: ServiceDesk) -> None:
    assert [agent.id for agent in desk.agents()] == ["ana", "bo", "cy", "sue"]


# -- queries -------------------------------------------------------------------------------


def test_queues_by_owner_steward_customer_and_stage(desk: ServiceDesk) -> None:
    in_service(desk, owner="bo", case_id="a")
    in_service(desk, owner="bo", case_id="b")
    opened(desk, by="ana", case_id="c")
    desk.transfer("b", actor="bo", to="cy", handoff_note="cy knows this model")
    desk.close("c", actor="ana", reason="spam")
    assert [s.case_id for s in desk.cases_owned_by("bo")] == ["a"]
    assert [s.case_id for s in desk.cases_owned_by("cy")] == ["b"]
    assert [s.case_id for s in desk.cases_stewarded_by("bo")] == ["a", "b"]
    assert desk.cases_owned_by("ana") == []
    assert [s.case_id for s in desk.cases_owned_by("ana", include_finished=True)] == ["c"]
    assert [s.case_id for s in desk.cases_of_customer(CUSTOMER.id)] == ["a", "b", "c"]
    assert [s.case_id for s in desk.cases_in_stage("in_service")] == ["a", "b"]
    assert [s.case_id for s in desk.cases_stewarded_by("ana", include_finished=True)] == ["c"]
    assert desk.cases_in_stage("limbo") == []


def test_a_briefing_spares_the_customer_from_repeating_themselves(
    desk: ServiceDesk, clock: ManualClock
) -> None:
    desk.open_case(
        actor=CUSTOMER,
        customer_id=CUSTOMER.id,
        channel=Channel.EMAIL,
        summary="my invoice is wrong",
        case_id="earlier",
    )
    clock.advance(timedelta(hours=1))
    desk.open_case(
        actor="bo",
        customer_id=CUSTOMER.id,
        channel=Channel.PHONE,
        summary="calls about the invoice and a broken chair",
        stage="in_service",
        case_id="now",
    )
    desk.transfer("now", actor="bo", to="cy", handoff_note="invoice fixed; chair still broken")
    briefing = desk.briefing("now")
    assert [s.case_id for s in briefing.other_cases] == ["earlier"]
    assert [(case_id, i.channel.name) for case_id, i in briefing.interactions] == [
        ("earlier", "email"),
        ("now", "phone"),
    ]
    assert briefing.handoffs[0].note == "invoice fixed; chair still broken"
    assert [f.assignee.id for f in briefing.open_follow_ups] == ["bo"]
    text = str(briefing)
    for expected in [
        "earlier (buying_cycle): enquiry, owner nobody yet",
        "inbound email, recorded by customer 'cust-1': my invoice is wrong",
        "broken chair",
        "bo -> cy",
        "Open follow-ups",
    ]:
        assert expected in text


def test_a_briefing_shows_open_offers(desk: ServiceDesk) -> None:
    case_id = opened(desk, by="ana")
    desk.negotiate(case_id, actor="ana")
    desk.make_offer(case_id, actor="ana", amount=Decimal("10.00"), currency="EUR")
    assert "offer 1 from the company: 10.00 EUR" in str(desk.briefing(case_id))


def test_a_briefing_shows_the_deal_and_the_feedback(desk: ServiceDesk) -> None:
    case_id = opened(desk, by="ana")
    desk.negotiate(case_id, actor="ana")
    desk.make_offer(case_id, actor="ana", amount=Decimal("10.00"), currency="EUR")
    desk.accept_offer(case_id, 1, actor=CUSTOMER)
    desk.record_feedback(case_id, actor=CUSTOMER, survey=Survey.CSAT, score=4, comment="fair price")
    briefing = desk.briefing(case_id)
    assert briefing.accepted_offer is not None
    assert "The deal: offer 1 from the company: 10.00 EUR" in str(briefing)
    assert "4/5 fair price" in str(briefing)


def test_the_intake_queue_lists_cases_nobody_owns(desk: ServiceDesk) -> None:
    opened(desk, by="ana", case_id="owned")
    for case_id in ["w1", "w2"]:
        desk.open_case(
            actor=CUSTOMER,
            customer_id=CUSTOMER.id,
            channel=Channel.WEB,
            summary="s",
            case_id=case_id,
        )
    assert [s.case_id for s in desk.unowned_cases()] == ["w1", "w2"]
    desk.take("w1", actor="bo")
    assert [s.case_id for s in desk.unowned_cases()] == ["w2"]
    assert [s.case_id for s in desk.cases()] == ["owned", "w1", "w2"]


# -- idempotency ---------------------------------------------------------------------------


def test_a_retried_command_returns_the_first_result_and_appends_nothing(
    desk: ServiceDesk, store: InMemoryStore
) -> None:
    case_id = in_service(desk, owner="bo")
    first = desk.transfer(case_id, actor="bo", to="cy", handoff_note="over", idempotency_key="t-1")
    log = store.read_all()
    again = desk.transfer(case_id, actor="bo", to="cy", handoff_note="over", idempotency_key="t-1")
    assert store.read_all() == log
    assert again.duplicate
    assert not first.duplicate
    assert (again.case, again.events) == (first.case, first.events)


def test_a_retry_after_later_changes_still_returns_the_first_result(desk: ServiceDesk) -> None:
    case_id = opened(desk, by="ana")
    first = desk.negotiate(case_id, actor="ana", idempotency_key="n-1")
    desk.lose(case_id, actor="ana", reason="no budget")
    again = desk.negotiate(case_id, actor="ana", idempotency_key="n-1")
    assert again.case.stage == "negotiation"
    assert again.events == first.events


def test_a_key_used_for_another_command_is_refused(desk: ServiceDesk) -> None:
    case_id = in_service(desk, owner="bo")
    desk.resolve(case_id, actor="bo", idempotency_key="k")
    with pytest.raises(IdempotencyConflict, match="'k' was already used"):
        desk.reopen(case_id, actor="bo", idempotency_key="k")
    with pytest.raises(IdempotencyConflict):
        desk.open_case(
            actor="ana", customer_id="c", channel=Channel.WEB, summary="s", idempotency_key="k"
        )


def test_an_idempotent_open_returns_the_same_case(desk: ServiceDesk) -> None:
    options = {"customer_id": "c", "channel": Channel.WEB, "summary": "s", "case_id": "o-1"}
    first = desk.open_case(actor="ana", idempotency_key="open-1", **options)  # type: ignore[arg-type]
    again = desk.open_case(actor="ana", idempotency_key="open-1", **options)  # type: ignore[arg-type]
    assert again.duplicate
    assert again.case == first.case


# -- races and retries ---------------------------------------------------------------------


class RacingStore(InMemoryStore):
    """Before each of the first `races` appends, another writer appends to the same case."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races
        self.rival: ServiceDesk | None = None

    def append(  # noqa: PLR0913 - the store contract's options
        self,
        case_id: str,
        events: Sequence[Event],
        *,
        expected_version: int,
        summary: CaseSummary,
        idempotency: IdempotencyRecord | None = None,
        require_active: Collection[str] = (),
        capacity: CapacityClaim | None = None,
    ) -> int:
        rival, self.rival = self.rival, None  # the rival's own append does not race
        if self.races and rival is not None and expected_version > 0:
            self.races -= 1
            rival.record_interaction(
                case_id,
                actor="cy",
                channel=Channel.CHAT,
                direction=Direction.INBOUND,
                summary="meanwhile",
            )
        self.rival = rival
        return super().append(
            case_id,
            events,
            expected_version=expected_version,
            summary=summary,
            idempotency=idempotency,
            require_active=require_active,
            capacity=capacity,
        )


def racing_desks(races: int, attempts: int = 5) -> tuple[ServiceDesk, RacingStore]:
    store = RacingStore(races)
    clock = ManualClock(START)
    desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=clock, max_attempts=attempts)
    rival = ServiceDesk(workflow=WORKFLOW, store=store, clock=clock)
    for agent in [Agent("bo", teams={"service"}), Agent("cy", teams={"service"})]:
        desk.register_agent(agent)
    in_service(desk, owner="bo")
    store.rival = rival
    return desk, store


def test_a_lost_race_is_decided_again_and_nothing_is_lost() -> None:
    desk, store = racing_desks(races=2)
    outcome = desk.resolve("case-1", actor="bo")
    summaries = [getattr(e, "summary", None) for e in desk.history("case-1")]
    assert summaries.count("meanwhile") == 2
    assert outcome.case == desk.case("case-1")
    assert outcome.case.stage == "resolved"
    assert [item.event for item in store.read_all()] == list(desk.history("case-1"))


def test_a_desk_gives_up_after_its_attempts() -> None:
    desk, _ = racing_desks(races=10, attempts=3)
    with pytest.raises(ConcurrencyConflict, match="gave up after 3 attempts"):
        desk.resolve("case-1", actor="bo")
    assert desk.case("case-1").stage == "in_service"


def test_desks_sharing_a_store_see_each_others_events(store: InMemoryStore) -> None:
    clock = ManualClock(START)
    first = ServiceDesk(workflow=WORKFLOW, store=store, clock=clock)
    second = ServiceDesk(workflow=WORKFLOW, store=store, clock=clock, cache_size=0)
    first.register_agent(Agent("bo", teams={"service"}))
    in_service(first, owner="bo")
    second.resolve("case-1", actor="bo")
    assert first.case("case-1").stage == "resolved"
    first.reopen("case-1", actor=CUSTOMER)
    assert second.case("case-1").stage == "in_service"


def test_a_clock_behind_the_history_never_stamps_an_earlier_event(store: InMemoryStore) -> None:
    ahead = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START + timedelta(1)))
    behind = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
    ahead.register_agent(Agent("bo", teams={"service"}))
    in_service(ahead, owner="bo")
    outcome = behind.resolve("case-1", actor="bo")
    assert outcome.events[0].at == START + timedelta(1)


def test_a_small_cache_still_gives_the_current_case(store: InMemoryStore) -> None:
    desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START), cache_size=1)
    desk.register_agent(Agent("bo", teams={"service"}))
    in_service(desk, owner="bo", case_id="a")
    in_service(desk, owner="bo", case_id="b")
    assert desk.resolve("a", actor="bo").case.stage == "resolved"
    assert desk.case("b").stage == "in_service"


# -- clocks ----------------------------------------------------------------------------------


def test_a_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(START)
    assert clock.advance(timedelta(minutes=5)) == START + timedelta(minutes=5)
    clock.set(START + timedelta(hours=1))
    assert clock.now() == START + timedelta(hours=1)
    with pytest.raises(InvalidValue, match="only moves forward"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(InvalidValue, match="only moves forward"):
        clock.set(START)
    with pytest.raises(InvalidValue, match="naive"):
        ManualClock(datetime(2026, 1, 1))  # noqa: DTZ001
    assert repr(clock) == "ManualClock(2026-03-02T10:00:00+00:00)"


def test_the_system_clock_tells_aware_utc_time() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert repr(SystemClock()) == "SystemClock()"


def test_the_desk_names_its_workflow_and_store(desk: ServiceDesk) -> None:
    assert repr(desk) == f"<ServiceDesk on 'buying_cycle' with {desk.store!r}>"


def test_an_outcome_is_a_value(desk: ServiceDesk) -> None:
    outcome = desk.open_case(actor="ana", customer_id="c", channel=Channel.WEB, summary="s")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        outcome.duplicate = True  # type: ignore[misc]


def test_a_case_problem_names_the_case_once() -> None:
    from servicekit.desk.results import CaseProblem  # noqa: PLC0415 - only this test needs it

    assert str(CaseProblem("R-1", "case 'R-1' is in stage 'x'")) == "case 'R-1' is in stage 'x'"
    assert str(CaseProblem("R-1", "no such stage")) == "case 'R-1': no such stage"
