"""What a refusal says, word for word, about follow-ups: scheduling, completing, handing over.

Each test states the whole sentence a person reads and the `allowed` list a host shows
as buttons (see test_refusal_wording.py).
"""

from __future__ import annotations

from datetime import timedelta

from helpers import ANA, BO, BOT, CY, GONE, START, Play

from servicekit import (
    CompleteFollowUp,
    FireTimers,
    FollowUpOutcome,
    HandOverFollowUp,
    InvalidTransition,
    NotPermitted,
    OwnershipViolation,
    ScheduleFollowUp,
    Timer,
    TimerKind,
    TransferCase,
    UnknownReference,
)

LATER = START + timedelta(days=2)


def test_a_follow_up_is_never_given_to_an_inactive_agent(play: Play) -> None:
    play.open(ANA)
    error = play.refused(ScheduleFollowUp(actor=ANA, assignee=GONE, due=LATER, reason="call"))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "agent 'ana' cannot schedule a follow-up on case 'case-1' in stage 'enquiry': "
        "agent 'gone' is inactive and cannot be given a follow-up"
    )
    assert error.allowed == ()


def test_only_the_steward_or_who_may_steer_schedules_a_follow_up(play: Play) -> None:
    play.open(ANA)
    error = play.refused(ScheduleFollowUp(actor=BO, due=LATER, reason="call"))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'bo' cannot schedule a follow-up on case 'case-1' in stage 'enquiry': only the "
        "owner, a supervisor of the owner's team, or the system may do this; the owner is "
        "agent 'ana'"
    )
    assert error.allowed == ()


def test_a_follow_up_the_case_lacks_is_refused_naming_the_open_ones(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    error = play.refused(
        CompleteFollowUp(actor=ANA, follow_up_id=2, outcome=FollowUpOutcome.SERVED)
    )
    assert type(error) is UnknownReference
    assert str(error) == (
        "agent 'ana' cannot complete follow-up 2 on case 'case-1' in stage 'resolved': the "
        "case has no follow-up 2; allowed instead: follow-up 1"
    )
    assert error.allowed == ("follow-up 1",)


def test_a_follow_up_done_already_says_how_it_ended_and_names_the_open_ones(
    play: Play,
) -> None:
    play.to_stage("resolved", owner=ANA)
    play(CompleteFollowUp(actor=ANA, follow_up_id=1, outcome=FollowUpOutcome.NO_ANSWER))
    error = play.refused(
        CompleteFollowUp(actor=ANA, follow_up_id=1, outcome=FollowUpOutcome.SERVED)
    )
    assert type(error) is InvalidTransition
    assert str(error) == (
        "agent 'ana' cannot complete follow-up 1 on case 'case-1' in stage 'resolved': "
        "follow-up 1 is done already (no answer); allowed instead: follow-up 2"
    )
    assert error.allowed == ("follow-up 2",)


def test_a_follow_up_is_never_cancelled_by_hand_and_the_outcomes_are_named(
    play: Play,
) -> None:
    play.to_stage("resolved", owner=ANA)
    error = play.refused(
        CompleteFollowUp(actor=ANA, follow_up_id=1, outcome=FollowUpOutcome.CANCELLED)
    )
    assert type(error) is InvalidTransition
    assert str(error) == (
        "agent 'ana' cannot complete follow-up 1 on case 'case-1' in stage 'resolved': a "
        "follow-up is cancelled only by a supervisor closing the case with a reason; allowed "
        "instead: served, not_served, no_answer"
    )
    assert error.allowed == ("served", "not_served", "no_answer")


def test_who_may_complete_a_follow_up_is_named_with_its_assignee(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    error = play.refused(CompleteFollowUp(actor=BO, follow_up_id=1, outcome=FollowUpOutcome.SERVED))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'bo' cannot complete follow-up 1 on case 'case-1' in stage 'resolved': "
        "follow-up 1 is for agent 'ana'; only they, a supervisor of their team, or the system "
        "may complete it"
    )
    assert error.allowed == ()


def test_who_may_hand_a_follow_up_over_is_named_with_its_assignee(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    error = play.refused(HandOverFollowUp(actor=CY, follow_up_id=1, to=BO, reason="away"))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'cy' cannot hand follow-up 1 over to agent 'bo' on case 'case-1' in stage "
        "'resolved': follow-up 1 is for agent 'ana'; only they, the case's steward, a "
        "supervisor of their team or the system may hand it over"
    )
    assert error.allowed == ()


def test_a_follow_up_is_not_handed_over_to_its_own_assignee(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    error = play.refused(HandOverFollowUp(actor=ANA, follow_up_id=1, to=ANA, reason="me"))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "agent 'ana' cannot hand follow-up 1 over to agent 'ana' on case 'case-1' in stage "
        "'resolved': follow-up 1 is for agent 'ana' already"
    )
    assert error.allowed == ()


def test_a_follow_up_is_never_handed_over_to_an_inactive_agent(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    error = play.refused(HandOverFollowUp(actor=ANA, follow_up_id=1, to=GONE, reason="away"))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "agent 'ana' cannot hand follow-up 1 over to agent 'gone' on case 'case-1' in stage "
        "'resolved': agent 'gone' is inactive and cannot be given a follow-up"
    )
    assert error.allowed == ()


def test_only_an_open_follow_up_not_announced_yet_is_announced(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    due = Timer(TimerKind.FOLLOW_UP, clock="follow-up", due=LATER, follow_up_id=2, notify=ANA)
    error = play.refused(FireTimers(actor=BOT, timers=[due]))
    assert type(error) is UnknownReference
    assert str(error) == (
        "system 'router' cannot fire timers on case 'case-1' in stage 'resolved': follow-up 2 "
        "is not open and waiting to be announced; allowed instead: follow-up 1"
    )
    assert error.allowed == ("follow-up 1",)


def test_the_follow_up_a_transfer_schedules_says_which_transfer_it_checks(play: Play) -> None:
    play.open(ANA)
    play(TransferCase(actor=ANA, to=BO, handoff_note="wants a standing desk, quoted 300 EUR"))
    (follow_up,) = play.case.open_follow_ups
    assert follow_up.reason == "confirm the customer was served after the transfer to bo"
    assert follow_up.assignee == ANA
