"""What a refusal says, word for word, about moving a case: stage moves, closing, reopening.

Each test states the whole sentence a person reads and the `allowed` list a host shows
as buttons (see test_refusal_wording.py).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from helpers import ANA, BO, BOT, CUSTOMER, SAL, START, Play

from servicekit import (
    FireTimers,
    FollowUpRules,
    InvalidTransition,
    MakeOffer,
    Move,
    NotPermitted,
    OwnershipViolation,
    ScheduleFollowUp,
    Stage,
    StatusCategory,
    Timer,
    TimerKind,
    Transition,
    Workflow,
    buying_cycle,
)

CLOSE_TIMER = Timer(TimerKind.CLOSE, clock="close", due=START)


def test_a_customer_firing_a_move_the_stage_lacks_is_offered_what_a_customer_may_fire(
    play: Play,
) -> None:
    play.to_stage("resolved", owner=ANA)
    error = play.refused(Move(actor=CUSTOMER, trigger="win"))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "customer 'cust-1' cannot fire 'win' on case 'case-1' in stage 'resolved': "
        "no transition 'win' leaves stage 'resolved'; allowed instead: reopen"
    )
    assert error.allowed == ("reopen",)


def test_a_customer_who_may_fire_nothing_here_is_offered_nothing(play: Play) -> None:
    play.open(ANA)
    error = play.refused(Move(actor=CUSTOMER, trigger="reopen"))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "customer 'cust-1' cannot fire 'reopen' on case 'case-1' in stage 'enquiry': "
        "no transition 'reopen' leaves stage 'enquiry'"
    )
    assert error.allowed == ()


def test_a_customer_firing_the_companys_move_is_told_who_may(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    error = play.refused(Move(actor=CUSTOMER, trigger="close"))
    assert type(error) is NotPermitted
    assert str(error) == (
        "customer 'cust-1' cannot fire 'close' on case 'case-1' in stage 'resolved': a customer "
        "may not fire 'close'; only the owner, a supervisor of the owner's team, or the system "
        "may; allowed instead: reopen"
    )
    assert error.allowed == ("reopen",)


def test_a_customer_firing_the_companys_move_where_they_may_fire_none_is_offered_nothing(
    play: Play,
) -> None:
    play.to_stage("in_service", owner=ANA)
    error = play.refused(Move(actor=CUSTOMER, trigger="resolve"))
    assert type(error) is NotPermitted
    assert str(error) == (
        "customer 'cust-1' cannot fire 'resolve' on case 'case-1' in stage 'in_service': a "
        "customer may not fire 'resolve'; only the owner, a supervisor of the owner's team, or "
        "the system may"
    )
    assert error.allowed == ()


def asked() -> Workflow:
    """A customer moves an unowned case out of intake by asking."""
    return Workflow(
        name="asked",
        stages=[
            Stage("new", StatusCategory.NEW),
            Stage("open", StatusCategory.OPEN),
            Stage("closed", StatusCategory.CLOSED),
        ],
        transitions=[
            Transition("ask", "new", "open", by_customer=True),
            Transition("close", "open", "closed"),
        ],
        start=["new"],
    )


def test_a_move_out_of_intake_needs_an_owner_first() -> None:
    play = Play(asked()).open(CUSTOMER)
    error = play.refused(Move(actor=CUSTOMER, trigger="ask"))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "customer 'cust-1' cannot fire 'ask' on case 'case-1' in stage 'new': stage 'open' "
        "needs an owner; assign the case first; allowed instead: take the case, or assign it "
        "to an agent"
    )
    assert error.allowed == ("take the case, or assign it to an agent",)


def test_finishing_past_one_open_follow_up_names_it(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    error = play.refused(Move(actor=ANA, trigger="close"))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "agent 'ana' cannot fire 'close' on case 'case-1' in stage 'resolved': follow-up 1 is "
        "still open; complete it first, or a supervisor of the owner's team may close the case "
        "with a recorded reason; allowed instead: complete follow-up 1"
    )
    assert error.allowed == ("complete follow-up 1",)


def test_a_supervisor_finishing_past_a_follow_up_without_a_reason_is_asked_for_one(
    play: Play,
) -> None:
    play.to_stage("resolved", owner=ANA)
    error = play.refused(Move(actor=SAL, trigger="close"))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "agent 'sal' cannot fire 'close' on case 'case-1' in stage 'resolved': follow-up 1 is "
        "still open; complete it first, or a supervisor of the owner's team may close the case "
        "with a recorded reason; allowed instead: complete follow-up 1"
    )


def test_finishing_past_two_open_follow_ups_names_both(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    play(ScheduleFollowUp(actor=ANA, due=START + timedelta(days=2), reason="call again"))
    error = play.refused(Move(actor=ANA, trigger="close"))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "agent 'ana' cannot fire 'close' on case 'case-1' in stage 'resolved': follow-ups 1 and "
        "2 are still open; complete them first, or a supervisor of the owner's team may close "
        "the case with a recorded reason; allowed instead: complete follow-up 1, complete "
        "follow-up 2"
    )
    assert error.allowed == ("complete follow-up 1", "complete follow-up 2")


def test_finishing_past_three_open_follow_ups_lists_them(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    for reason in ("call again", "write"):
        play(ScheduleFollowUp(actor=ANA, due=START + timedelta(days=2), reason=reason))
    error = play.refused(Move(actor=ANA, trigger="close"))
    assert str(error) == (
        "agent 'ana' cannot fire 'close' on case 'case-1' in stage 'resolved': follow-ups 1, 2 "
        "and 3 are still open; complete them first, or a supervisor of the owner's team may "
        "close the case with a recorded reason; allowed instead: complete follow-up 1, complete "
        "follow-up 2, complete follow-up 3"
    )


def test_a_finished_case_stays_finished_where_the_rules_never_reopen() -> None:
    play = Play(buying_cycle(follow_ups=FollowUpRules())).open(ANA)
    play(Move(actor=ANA, trigger="close", reason="spam"))
    error = play.refused(Move(actor=ANA, trigger="reopen"))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "agent 'ana' cannot fire 'reopen' on case 'case-1' in stage 'closed': the case is "
        "finished; allowed instead: record an interaction, record feedback"
    )
    assert error.allowed == ("record an interaction", "record feedback")


def test_a_case_finished_without_an_owner_is_not_reopened_past_intake(play: Play) -> None:
    play.open(CUSTOMER)
    play(FireTimers(actor=BOT, timers=[CLOSE_TIMER]))
    error = play.refused(Move(actor=CUSTOMER, trigger="reopen"))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "customer 'cust-1' cannot fire 'reopen' on case 'case-1' in stage 'closed': the case "
        "was finished without an owner, and stage 'in_service' needs one; open a new case; "
        "allowed instead: open a new case"
    )
    assert error.allowed == ("open a new case",)


def test_a_case_reopened_too_late_says_until_when_it_could_have_been(play: Play) -> None:
    play.open(ANA)
    play(Move(actor=ANA, trigger="close", reason="spam"))  # at 09:20 on 2 March
    play.now += timedelta(days=8)
    error = play.refused(Move(actor=CUSTOMER, trigger="reopen"))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "customer 'cust-1' cannot fire 'reopen' on case 'case-1' in stage 'closed': the case "
        "closed 2026-03-02; it could be reopened until 2026-03-09 09:20Z; open a new case; "
        "allowed instead: open the case"
    )
    assert error.allowed == ("open the case",)


def test_the_system_does_not_close_past_an_open_follow_up(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    error = play.refused(FireTimers(actor=BOT, timers=[CLOSE_TIMER]))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "system 'router' cannot fire timers on case 'case-1' in stage 'resolved': the system "
        "does not close a case while a follow-up is open (follow-up 1); complete it first, or a "
        "supervisor of the owner's team may close the case with a recorded reason; allowed "
        "instead: complete follow-up 1"
    )
    assert error.allowed == ("complete follow-up 1",)


def test_the_system_does_not_close_past_open_follow_ups_and_names_each(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    play(ScheduleFollowUp(actor=ANA, due=START + timedelta(days=2), reason="call again"))
    error = play.refused(FireTimers(actor=BOT, timers=[CLOSE_TIMER]))
    assert str(error) == (
        "system 'router' cannot fire timers on case 'case-1' in stage 'resolved': the system "
        "does not close a case while a follow-up is open (follow-up 1, 2); complete it first, "
        "or a supervisor of the owner's team may close the case with a recorded reason; allowed "
        "instead: complete follow-up 1, complete follow-up 2"
    )
    assert error.allowed == ("complete follow-up 1", "complete follow-up 2")


def test_the_system_closes_only_where_a_close_leaves_the_stage(play: Play) -> None:
    play.to_stage("in_service", owner=ANA)
    error = play.refused(FireTimers(actor=BOT, timers=[CLOSE_TIMER]))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "system 'router' cannot fire timers on case 'case-1' in stage 'in_service': "
        "no 'close' leaves this stage"
    )
    assert error.allowed == ()


def test_a_finished_case_is_reopened_by_its_customer_or_who_may_steer_it(play: Play) -> None:
    play.open(ANA)
    play(Move(actor=ANA, trigger="close", reason="spam"))
    error = play.refused(Move(actor=BO, trigger="reopen"))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'bo' cannot fire 'reopen' on case 'case-1' in stage 'closed': only the owner, a "
        "supervisor of the owner's team, or the system may do this; the owner is agent 'ana'"
    )
    assert error.allowed == ()


def test_a_guard_refuses_a_move_in_its_own_words(play: Play) -> None:
    play.to_stage("negotiation", owner=ANA)
    play(MakeOffer(actor=ANA, amount=Decimal("10.00"), currency="EUR"))
    error = play.refused(Move(actor=ANA, trigger="win"))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "agent 'ana' cannot fire 'win' on case 'case-1' in stage 'negotiation': no offer has "
        "been accepted yet (open: offer 1)"
    )
    assert error.allowed == ()
