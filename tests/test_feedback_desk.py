"""The desk's feedback methods and the customer's timeline across cases and workflows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from helpers import START

from servicekit import (
    Agent,
    CaseTransferred,
    Channel,
    Customer,
    FeedbackRecorded,
    FeedbackRequested,
    InteractionRecorded,
    InvalidValue,
    ManualClock,
    OfferMade,
    ServiceDesk,
    Stage,
    StatusCategory,
    Store,
    Survey,
    System,
    Transition,
    Workflow,
    buying_cycle,
)

CUSTOMER = Customer("cust-1")


def repairs() -> Workflow:
    return Workflow(
        name="repairs",
        stages=[
            Stage("booked", StatusCategory.NEW),
            Stage("repairing", StatusCategory.OPEN),
            Stage("closed", StatusCategory.CLOSED),
        ],
        transitions=[
            Transition("repair", "booked", "repairing"),
            Transition("close", "repairing", "closed"),
        ],
        start=["booked"],
    )


@pytest.fixture
def desk(any_store: Store) -> ServiceDesk:  # memory, SQLite and PostgreSQL (see conftest.py)
    desk = ServiceDesk(
        workflows=[buying_cycle(), repairs()], store=any_store, clock=ManualClock(START)
    )
    desk.register_agent(Agent("ana", teams={"sales"}))
    desk.register_agent(Agent("bo", teams={"service"}))
    return desk


def _service_case(desk: ServiceDesk, case_id: str = "a") -> None:
    desk.open_case(
        actor="ana",
        customer_id=CUSTOMER.id,
        channel=Channel.EMAIL,
        summary="desk wobbles",
        stage="in_service",
        case_id=case_id,
    )


def test_the_desk_records_the_answer_to_a_survey(desk: ServiceDesk) -> None:
    _service_case(desk)
    outcome = desk.record_feedback("a", actor=CUSTOMER, survey=Survey.NPS, score=10, comment="!")
    (event,) = outcome.events
    assert isinstance(event, FeedbackRecorded)
    assert (event.survey, event.score, event.comment) == (Survey.NPS, 10, "!")


def test_a_score_off_the_scale_is_refused_and_changes_nothing(desk: ServiceDesk) -> None:
    _service_case(desk)
    before = desk.history("a")
    with pytest.raises(InvalidValue, match="CES score is a whole number from 1 to 7"):
        desk.record_feedback("a", actor=CUSTOMER, survey=Survey.CES, score=8)
    assert desk.history("a") == before


def test_the_desk_requests_feedback_as_the_system_unless_told_who(desk: ServiceDesk) -> None:
    _service_case(desk)
    outcome = desk.request_feedback("a", survey=Survey.CSAT, channel=Channel("sms"))
    (event,) = outcome.events
    assert isinstance(event, FeedbackRequested)
    assert isinstance(event.actor, System)
    assert event.channel == Channel("sms")


def test_the_customer_history_is_one_timeline_newest_first_across_cases_and_workflows(
    desk: ServiceDesk,
) -> None:
    clock = desk.clock
    assert isinstance(clock, ManualClock)
    desk.open_case(
        actor="ana",
        customer_id=CUSTOMER.id,
        channel=Channel.PHONE,
        summary="wants desks",
        case_id="sale",
    )
    clock.advance(timedelta(minutes=10))
    desk.negotiate("sale", actor="ana")
    desk.make_offer("sale", actor="ana", amount=Decimal("900.00"), currency="EUR")
    clock.advance(timedelta(minutes=10))
    desk.open_case(
        actor=CUSTOMER,
        customer_id=CUSTOMER.id,
        channel=Channel.WEB,
        summary="broken leg",
        workflow="repairs",
        case_id="fix",
    )
    clock.advance(timedelta(minutes=10))
    desk.transfer("sale", actor="ana", to="bo", handoff_note="bo knows the desks")
    clock.advance(timedelta(minutes=10))
    desk.record_feedback("sale", actor=CUSTOMER, survey=Survey.CSAT, score=5)
    desk.open_case(
        actor="bo",
        customer_id="someone-else",
        channel=Channel.CHAT,
        summary="not theirs",
        stage="in_service",
        case_id="other",
    )
    timeline = desk.customer_history(CUSTOMER.id)
    assert [(entry.case_id, type(entry.event)) for entry in timeline] == [
        ("sale", FeedbackRecorded),
        ("sale", CaseTransferred),
        ("fix", InteractionRecorded),
        ("sale", OfferMade),
        ("sale", InteractionRecorded),
    ]
    assert [entry.workflow for entry in timeline][2:4] == ["repairs", "buying_cycle"]
    assert timeline[2].channel == "web"
