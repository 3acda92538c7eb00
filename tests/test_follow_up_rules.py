"""Follow-up rules: when they fall due, what their outcomes do, and the reopen window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from servicekit import (
    Agent,
    BusinessCalendar,
    Channel,
    Customer,
    FollowUpDue,
    FollowUpOutcome,
    FollowUpRules,
    InvalidTransition,
    InvalidValue,
    ManualClock,
    ServiceDesk,
    StageChanged,
    buying_cycle,
)
from servicekit.stores import Store

WEEKDAYS = BusinessCalendar(
    timezone="Europe/Berlin",
    hours={day: [("09:00", "17:30")] for day in ["mon", "tue", "wed", "thu", "fri"]},
)
THURSDAY = datetime(2024, 7, 4, 10, 0, tzinfo=UTC)  # 12:00 in Berlin
IVY = Customer("ivy")


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store  # memory, SQLite and PostgreSQL (see conftest.py)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(THURSDAY)


@pytest.fixture
def desk(store: Store, clock: ManualClock) -> ServiceDesk:
    rules = FollowUpRules(calendar=WEEKDAYS, reopen_stage="in_service", reopen_window=2)
    desk = ServiceDesk(workflow=buying_cycle(follow_ups=rules), store=store, clock=clock)
    desk.register_agent(Agent("ana", teams={"service"}))
    desk.register_agent(Agent("bo", teams={"service"}))
    desk.open_case(
        actor="ana",
        customer_id="ivy",
        channel=Channel.PHONE,
        summary="s",
        stage="in_service",
        case_id="k",
    )
    return desk


def resolved(desk: ServiceDesk) -> int:
    outcome = desk.resolve("k", actor="ana")
    return outcome.case.open_follow_ups[-1].follow_up_id


def test_a_follow_up_falls_due_in_utc_whatever_the_calendars_zone() -> None:
    rules = FollowUpRules(calendar=WEEKDAYS)
    due = rules.due(datetime(2024, 7, 3, 8, 0, tzinfo=UTC), 2)
    assert due.tzinfo is UTC
    assert due == datetime(2024, 7, 5, 8, 0, tzinfo=UTC)


def test_a_resolution_is_followed_up_three_business_days_later(desk: ServiceDesk) -> None:
    follow_up = desk.case("k").follow_ups[0] if desk.case("k").follow_ups else None
    assert follow_up is None
    resolved(desk)
    (follow_up,) = desk.case("k").open_follow_ups
    assert follow_up.due == datetime(2024, 7, 9, 10, 0, tzinfo=UTC)  # Thu -> Tue, same time
    assert follow_up.assignee.id == "ana"
    assert follow_up.reason == "confirm the customer was served"


def test_a_lost_sale_is_followed_up_asking_why(store: Store, clock: ManualClock) -> None:
    desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=clock)
    desk.register_agent(Agent("ana", teams={"sales"}))
    desk.open_case(actor="ana", customer_id="ivy", channel=Channel.PHONE, summary="s", case_id="s")
    desk.negotiate("s", actor="ana")
    outcome = desk.lose("s", actor="ana", reason="too dear")
    (follow_up,) = outcome.case.open_follow_ups
    assert follow_up.reason == "ask the customer why the sale was lost"
    assert follow_up.due == THURSDAY + timedelta(days=2)  # every day counts by default


def test_not_served_reopens_the_case_with_the_same_steward(desk: ServiceDesk) -> None:
    desk.transfer("k", actor="ana", to="bo", handoff_note="bo fixes it")
    number = resolved_by(desk, "bo")
    outcome = desk.complete_follow_up("k", number, actor="ana", outcome=FollowUpOutcome.NOT_SERVED)
    assert outcome.case.stage == "in_service"
    assert outcome.case.steward is not None
    assert outcome.case.steward.id == "ana"
    assert outcome.case.owner is not None
    assert outcome.case.owner.id == "bo"
    moved = outcome.events[-1]
    assert isinstance(moved, StageChanged)
    assert moved.reason == f"follow-up {number}: the customer was not served"


def served_and_closed(desk: ServiceDesk) -> None:
    """Resolve case k, complete its follow-up as served and close it (Thursday)."""
    number = resolved(desk)
    desk.complete_follow_up("k", number, actor="ana", outcome=FollowUpOutcome.SERVED)
    desk.close("k", actor="ana")


def resolved_by(desk: ServiceDesk, agent: str) -> int:
    outcome = desk.resolve("k", actor=agent)
    return outcome.case.open_follow_ups[-1].follow_up_id


def test_no_answer_is_tried_again_then_closes_the_case(desk: ServiceDesk) -> None:
    number = resolved(desk)
    for attempt in (1, 2):
        outcome = desk.complete_follow_up(
            "k", number, actor="ana", outcome=FollowUpOutcome.NO_ANSWER
        )
        (retry,) = outcome.case.open_follow_ups
        assert retry.attempt == attempt + 1
        number = retry.follow_up_id
    outcome = desk.complete_follow_up("k", number, actor="ana", outcome=FollowUpOutcome.NO_ANSWER)
    assert outcome.case.stage == "closed"
    closed = outcome.events[-1]
    assert isinstance(closed, StageChanged)
    assert closed.reason == "the customer did not answer 3 follow-ups"


def test_a_closed_case_reopens_within_the_window(desk: ServiceDesk, clock: ManualClock) -> None:
    served_and_closed(desk)
    clock.advance(timedelta(days=1))
    outcome = desk.reopen("k", actor=IVY, reason="it broke again")
    assert outcome.case.stage == "in_service"
    assert outcome.case.record.closed_at is None


def test_a_reopening_records_the_move_with_the_reason_given(
    desk: ServiceDesk, clock: ManualClock
) -> None:
    served_and_closed(desk)
    clock.advance(timedelta(days=1))
    (reopened,) = desk.reopen("k", actor=IVY, reason="it broke again").events
    assert isinstance(reopened, StageChanged)
    assert (reopened.trigger, reopened.source, reopened.dest, reopened.reason) == (
        "reopen",
        "closed",
        "in_service",
        "it broke again",
    )


def test_after_the_window_a_closed_case_stays_closed(desk: ServiceDesk, clock: ManualClock) -> None:
    served_and_closed(desk)
    clock.advance(timedelta(days=5))  # Thu -> Tue: more than two business days
    with pytest.raises(InvalidTransition, match="could be reopened until 2024-07-08") as error:
        desk.reopen("k", actor=IVY)
    assert error.value.allowed == ("open the case",)


def test_a_reopened_case_of_someone_who_left_needs_reassignment(desk: ServiceDesk) -> None:
    served_and_closed(desk)
    desk.register_agent(Agent("ana", teams={"service"}, active=False))
    desk.reopen("k", actor=IVY)
    assert [s.case_id for s in desk.cases_needing_reassignment()] == ["k"]


def test_without_a_reopen_stage_a_closed_case_stays_closed(
    store: Store, clock: ManualClock
) -> None:
    desk = ServiceDesk(workflow=buying_cycle(follow_ups=FollowUpRules()), store=store, clock=clock)
    desk.register_agent(Agent("ana", teams={"sales"}))
    desk.open_case(actor="ana", customer_id="ivy", channel=Channel.PHONE, summary="s", case_id="e")
    desk.close("e", actor="ana", reason="spam")
    with pytest.raises(InvalidTransition) as error:
        desk.reopen("e", actor="ana")
    assert str(error.value) == (
        "agent 'ana' cannot fire 'reopen' on case 'e' in stage 'closed': the case is finished; "
        "allowed instead: record an interaction, record feedback"
    )
    assert error.value.allowed == ("record an interaction", "record feedback")


REOPEN_UNTIL = datetime(2024, 7, 8, 10, 0, tzinfo=UTC)
"""Closed on Thursday 12:00 in Berlin, the two business days' window ends Monday 12:00."""


def test_a_closed_case_reopens_up_to_the_last_moment_of_the_window(
    desk: ServiceDesk, clock: ManualClock
) -> None:
    served_and_closed(desk)
    clock.set(REOPEN_UNTIL)
    assert desk.reopen("k", actor=IVY).case.stage == "in_service"


def test_a_moment_after_the_window_a_closed_case_stays_closed(
    desk: ServiceDesk, clock: ManualClock
) -> None:
    served_and_closed(desk)
    clock.set(REOPEN_UNTIL + timedelta(microseconds=1))
    with pytest.raises(InvalidTransition) as error:
        desk.reopen("k", actor=IVY)
    assert str(error.value).endswith(
        ": the case closed 2024-07-04; it could be reopened until 2024-07-08 10:00Z; "
        "open a new case; allowed instead: open the case"
    )


def test_tick_announces_a_due_follow_up_once(desk: ServiceDesk, clock: ManualClock) -> None:
    resolved(desk)
    assert desk.next_due() == datetime(2024, 7, 9, 10, 0, tzinfo=UTC)
    clock.set(datetime(2024, 7, 9, 11, 0, tzinfo=UTC))
    desk.tick()
    desk.tick()
    announced = [e for e in desk.history("k") if isinstance(e, FollowUpDue)]
    assert [(e.follow_up_id, e.assignee.id) for e in announced] == [(1, "ana")]
    assert desk.next_due() is None


def test_a_served_customer_closes_the_case_at_the_next_tick(desk: ServiceDesk) -> None:
    number = resolved(desk)
    desk.complete_follow_up("k", number, actor="ana", outcome=FollowUpOutcome.SERVED)
    (outcome,) = desk.tick()
    assert outcome.case.stage == "closed"
    assert desk.tick().fired == ()


DAY_COUNTS = ["after_resolution", "after_transfer", "after_loss", "retry_after", "reopen_window"]


@pytest.mark.parametrize("field", DAY_COUNTS)
@pytest.mark.parametrize("value", [-1, 1.5, True, "2", None])
def test_follow_up_day_counts_are_whole_numbers_from_zero(field: str, value: object) -> None:
    with pytest.raises(InvalidValue) as error:
        FollowUpRules(**{field: value})  # type: ignore[arg-type]
    assert str(error.value) == f"{field} is a whole number of business days from 0, got {value!r}"


@pytest.mark.parametrize("field", DAY_COUNTS)
def test_a_follow_up_day_count_may_be_zero(field: str) -> None:
    assert getattr(FollowUpRules(**{field: 0}), field) == 0  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, -1, 1.0, True, "3"])
def test_no_answer_attempts_are_a_whole_number_from_one(value: object) -> None:
    with pytest.raises(InvalidValue) as error:
        FollowUpRules(no_answer_attempts=value)  # type: ignore[arg-type]
    assert str(error.value) == f"no_answer_attempts is a whole number from 1, got {value!r}"
    assert FollowUpRules(no_answer_attempts=1).no_answer_attempts == 1


def test_the_feedback_channel_is_a_channel_or_none() -> None:
    with pytest.raises(InvalidValue) as error:
        FollowUpRules(feedback_channel="email")  # type: ignore[arg-type]
    assert str(error.value) == (
        "feedback_channel is a Channel (Channel.EMAIL, ...) or None, got 'email'"
    )
    assert FollowUpRules(feedback_channel=None).feedback_channel is None
    assert FollowUpRules(feedback_channel=Channel.EMAIL).feedback_channel == Channel.EMAIL
