"""The ownership rules, one test per rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import ANA, BO, BOT, CUSTOMER, CY, GONE, SAL, STRANGER, SUE, Play

from servicekit import (
    AssignCase,
    Case,
    CaseTransferred,
    CompleteFollowUp,
    FollowUpCompleted,
    FollowUpOutcome,
    FollowUpScheduled,
    Guard,
    Move,
    NotPermitted,
    OwnershipViolation,
    RecordFeedback,
    RecordInteraction,
    ScheduleFollowUp,
    Stage,
    StatusCategory,
    Survey,
    TransferCase,
    Transition,
    Workflow,
)
from servicekit.interactions import Channel, Direction


def test_an_agent_who_opens_a_case_owns_it_at_once(play: Play) -> None:
    play.open(ANA)
    assert play.case.owner == ANA


def test_the_first_owner_becomes_the_steward(play: Play) -> None:
    play.open(ANA)
    assert play.case.steward == ANA


def test_a_customer_opened_case_waits_unowned_in_intake(play: Play) -> None:
    play.open(CUSTOMER)
    assert play.case.stage == "enquiry"
    assert play.case.owner is None
    assert play.case.steward is None


def test_an_agent_who_takes_an_unowned_case_owns_it_and_becomes_steward(play: Play) -> None:
    play.open(CUSTOMER)
    play(AssignCase(actor=BO, to=BO))
    assert play.case.owner == BO
    assert play.case.steward == BO


def test_a_supervisor_or_the_system_may_route_an_unowned_case(play: Play) -> None:
    play.open(CUSTOMER)
    play(AssignCase(actor=SUE, to=BO))
    assert play.case.owner == BO
    other = Play(play.workflow, "case-2").open(CUSTOMER)
    other(AssignCase(actor=BOT, to=CY))
    assert other.case.owner == CY


def test_an_agent_cannot_push_an_unowned_case_onto_a_colleague(play: Play) -> None:
    play.open(CUSTOMER)
    with pytest.raises(NotPermitted, match="take an unowned case for themselves"):
        play.attempt(AssignCase(actor=BO, to=CY))


def test_an_owned_case_changes_hands_only_by_transfer(play: Play) -> None:
    play.open(ANA)
    with pytest.raises(OwnershipViolation, match="transfer the case with a handoff note") as error:
        play.attempt(AssignCase(actor=BO, to=BO))
    assert error.value.allowed == ("transfer the case with a handoff note",)


def test_a_case_cannot_leave_intake_without_an_owner(play: Play) -> None:
    play.open(CUSTOMER)
    with pytest.raises(OwnershipViolation, match="no owner yet"):
        play.attempt(Move(actor=BOT, trigger="negotiate"))


def test_a_case_opened_past_intake_needs_an_owner_from_the_start(play: Play) -> None:
    with pytest.raises(OwnershipViolation, match="needs an owner from the start") as error:
        play.open(CUSTOMER, stage="in_service")
    assert error.value.allowed == ("enquiry",)


def test_the_system_may_open_a_case_past_intake_for_a_named_owner(play: Play) -> None:
    play.open(BOT, stage="in_service", owner=BO)
    assert (play.case.stage, play.case.owner, play.case.steward) == ("in_service", BO, BO)


def test_an_inactive_agent_cannot_own_a_case(play: Play) -> None:
    play.open(CUSTOMER)
    with pytest.raises(OwnershipViolation, match="inactive"):
        play.attempt(AssignCase(actor=SUE, to=GONE))


def test_an_inactive_agent_cannot_act(play: Play) -> None:
    play.open(CUSTOMER)
    with pytest.raises(NotPermitted, match="inactive"):
        play.attempt(AssignCase(actor=GONE, to=GONE))


def test_a_transfer_changes_the_owner_and_keeps_the_steward(play: Play) -> None:
    play.to_stage("in_service", owner=ANA)
    play(TransferCase(actor=ANA, to=BO, handoff_note="desks ordered, delivery Tuesday"))
    play(TransferCase(actor=BO, to=CY, handoff_note="delivery moved to Wednesday"))
    assert play.case.owner == CY
    assert play.case.steward == ANA


def test_a_transfer_needs_a_handoff_note(play: Play) -> None:
    play.to_stage("in_service")
    with pytest.raises(OwnershipViolation, match="handoff note"):
        play.attempt(TransferCase(actor=ANA, to=BO, handoff_note="   "))


def test_a_transfer_needs_an_active_receiver(play: Play) -> None:
    play.to_stage("in_service")
    with pytest.raises(OwnershipViolation, match="inactive"):
        play.attempt(TransferCase(actor=ANA, to=GONE, handoff_note="over to you"))


def test_a_transfer_to_the_owner_is_refused(play: Play) -> None:
    play.to_stage("in_service")
    with pytest.raises(OwnershipViolation, match="owns the case already"):
        play.attempt(TransferCase(actor=ANA, to=ANA, handoff_note="to myself"))


def test_a_transfer_schedules_a_follow_up_for_the_steward(play: Play) -> None:
    play.to_stage("in_service", owner=ANA)
    events = play(TransferCase(actor=ANA, to=BO, handoff_note="desks ordered"))
    transferred, scheduled = events
    assert isinstance(transferred, CaseTransferred)
    assert isinstance(scheduled, FollowUpScheduled)
    assert scheduled.assignee == ANA
    assert scheduled.due == play.workflow.follow_ups.due(play.now, 1)
    assert scheduled.due == play.now + timedelta(days=1)  # every day counts by default
    assert play.case.handoffs[-1].note == "desks ordered"


@pytest.mark.parametrize("actor", [BO, CUSTOMER, STRANGER], ids=str)
def test_only_owner_supervisor_or_system_may_transfer(play: Play, actor: object) -> None:
    play.to_stage("in_service", owner=CY)
    with pytest.raises(NotPermitted):
        play.attempt(TransferCase(actor=actor, to=BO, handoff_note="note"))  # type: ignore[arg-type]


@pytest.mark.parametrize("actor", [CY, SUE, BOT], ids=str)
def test_owner_supervisor_and_system_may_move_the_case(play: Play, actor: object) -> None:
    play.to_stage("in_service", owner=CY)
    play(Move(actor=actor, trigger="resolve"))  # type: ignore[arg-type]
    assert play.case.stage == "resolved"


def test_a_supervisor_of_another_team_may_not_move_the_case(play: Play) -> None:
    play.to_stage("in_service", owner=CY)
    with pytest.raises(NotPermitted, match="only the owner, a supervisor"):
        play.attempt(Move(actor=SAL, trigger="resolve"))


def test_a_colleague_may_not_move_the_case(play: Play) -> None:
    play.to_stage("in_service", owner=CY)
    with pytest.raises(NotPermitted):
        play.attempt(Move(actor=BO, trigger="resolve"))


def test_a_customer_may_not_move_the_case_forward(play: Play) -> None:
    play.to_stage("in_service", owner=CY)
    with pytest.raises(NotPermitted, match="a customer may not fire 'resolve'"):
        play.attempt(Move(actor=CUSTOMER, trigger="resolve"))


def test_a_customer_may_reopen_a_resolved_case(play: Play) -> None:
    play.to_stage("resolved", owner=CY)
    play(Move(actor=CUSTOMER, trigger="reopen", reason="the desk wobbles again"))
    assert play.case.stage == "in_service"
    assert play.case.owner == CY


def test_a_customer_may_add_interactions_and_feedback(play: Play) -> None:
    play.to_stage("in_service")
    play(
        RecordInteraction(
            actor=CUSTOMER, channel=Channel.SOCIAL, direction=Direction.INBOUND, summary="hi"
        )
    )
    play(RecordFeedback(actor=CUSTOMER, survey=Survey.CSAT, score=4, comment="fine"))
    assert play.case.interactions[-1].summary == "hi"
    assert play.case.feedback[-1].score == 4


def test_another_customer_may_not_touch_the_case(play: Play) -> None:
    play.to_stage("resolved")
    with pytest.raises(NotPermitted, match="belongs to customer 'cust-1'"):
        play.attempt(Move(actor=STRANGER, trigger="reopen"))


def test_any_active_agent_may_record_an_interaction(play: Play) -> None:
    play.to_stage("in_service", owner=ANA)
    play(
        RecordInteraction(
            actor=BO,
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            summary="took the call while Ana was out",
        )
    )
    assert play.case.interactions[-1].actor == BO


def test_a_case_with_an_open_follow_up_cannot_be_closed(play: Play) -> None:
    play.to_stage("follow_up", owner=CY)
    with pytest.raises(OwnershipViolation) as error:
        play.attempt(Move(actor=CY, trigger="close"))
    assert error.value.reason == (
        "follow-up 1 is still open; complete it first, or a supervisor of the owner's team "
        "may close the case with a recorded reason"
    )
    assert error.value.allowed == ("complete follow-up 1",)
    play(ScheduleFollowUp(actor=CY, due=play.now + timedelta(days=1), reason="call"))
    with pytest.raises(OwnershipViolation) as error:
        play.attempt(Move(actor=CY, trigger="close"))
    assert error.value.reason.startswith("follow-ups 1 and 2 are still open; complete them first")
    play(ScheduleFollowUp(actor=CY, due=play.now + timedelta(days=2), reason="call again"))
    with pytest.raises(OwnershipViolation) as error:
        play.attempt(Move(actor=CY, trigger="close"))
    assert error.value.reason.startswith("follow-ups 1, 2 and 3 are still open;")


def test_a_supervisor_may_close_with_open_follow_ups_giving_a_reason(play: Play) -> None:
    play.to_stage("follow_up", owner=CY)
    events = play(Move(actor=SUE, trigger="close", reason="customer moved abroad"))
    assert isinstance(events[0], FollowUpCompleted)
    assert events[0].outcome is FollowUpOutcome.CANCELLED
    assert events[0].note == "customer moved abroad"
    assert play.case.stage == "closed"
    assert play.case.open_follow_ups == ()


def test_a_supervisor_without_a_reason_cannot_close_with_open_follow_ups(play: Play) -> None:
    play.to_stage("follow_up", owner=CY)
    with pytest.raises(OwnershipViolation):
        play.attempt(Move(actor=SUE, trigger="close"))


def test_the_system_cannot_close_with_open_follow_ups(play: Play) -> None:
    play.to_stage("follow_up", owner=CY)
    with pytest.raises(OwnershipViolation):
        play.attempt(Move(actor=BOT, trigger="close", reason="tidy up"))


def test_a_case_closes_once_its_follow_ups_are_done(play: Play) -> None:
    play.to_stage("follow_up", owner=CY)
    play(CompleteFollowUp(actor=CY, follow_up_id=1, outcome=FollowUpOutcome.SERVED))
    play(Move(actor=CY, trigger="close"))
    assert play.case.stage == "closed"


def test_a_completed_follow_up_keeps_its_outcome_and_note(play: Play) -> None:
    play.to_stage("follow_up", owner=CY)
    play(
        CompleteFollowUp(
            actor=CY, follow_up_id=1, outcome=FollowUpOutcome.SERVED, note="desk arrived"
        )
    )
    (done,) = play.case.follow_ups
    assert (done.outcome, done.note) == (FollowUpOutcome.SERVED, "desk arrived")
    assert not done.is_open


def _stewarded(case: Case, _move: Move) -> str | None:
    return None if case.steward is not None else "the case has no steward"


STEWARDED = Guard("stewarded", _stewarded)
"""A guard that reads the case: it lets a case with a steward through."""


REWORK = Workflow(
    name="rework",
    stages=[
        Stage("new", StatusCategory.NEW),
        Stage("work", StatusCategory.OPEN),
        Stage("done", StatusCategory.RESOLVED, follow_up="confirm the customer was served"),
        Stage("rework", StatusCategory.OPEN, follow_up="check the rework held"),
        Stage("closed", StatusCategory.CLOSED),
    ],
    transitions=[
        Transition("start", "new", "work"),
        Transition("resolve", ["work", "rework"], "done"),
        Transition("reopen", "done", "rework", guards=[STEWARDED]),
        Transition("close", "done", "closed"),
    ],
    start="new",
)


def test_not_served_reopening_into_a_stage_with_a_follow_up_schedules_the_stewards() -> None:
    play = Play(REWORK)
    play.open(ANA)
    play(Move(actor=ANA, trigger="start"))
    play(Move(actor=ANA, trigger="resolve"))
    play(CompleteFollowUp(actor=ANA, follow_up_id=1, outcome=FollowUpOutcome.NOT_SERVED))
    assert play.case.stage == "rework"
    follow_up = play.case.follow_ups[-1]
    assert (follow_up.follow_up_id, follow_up.assignee, follow_up.reason) == (
        2,
        ANA,
        "check the rework held",
    )
    assert follow_up.due == play.now + timedelta(days=3)  # after_resolution, every day open


def test_only_the_assignee_a_supervisor_or_the_system_complete_a_follow_up(play: Play) -> None:
    play.to_stage("follow_up", owner=CY)
    with pytest.raises(NotPermitted, match="follow-up 1 is for agent 'cy'"):
        play.attempt(CompleteFollowUp(actor=BO, follow_up_id=1, outcome=FollowUpOutcome.SERVED))
    play(CompleteFollowUp(actor=SUE, follow_up_id=1, outcome=FollowUpOutcome.NO_ANSWER))
    assert play.case.follow_ups[0].outcome is FollowUpOutcome.NO_ANSWER


def test_the_steward_may_schedule_follow_ups_after_a_transfer(play: Play) -> None:
    play.to_stage("in_service", owner=ANA)
    play(TransferCase(actor=ANA, to=BO, handoff_note="over to service"))
    play(ScheduleFollowUp(actor=ANA, due=play.now + timedelta(days=7), reason="check in a week"))
    assert [f.assignee for f in play.case.open_follow_ups] == [ANA, ANA]


def test_follow_ups_go_to_active_agents_only(play: Play) -> None:
    play.to_stage("in_service", owner=ANA)
    with pytest.raises(OwnershipViolation, match="inactive"):
        play.attempt(ScheduleFollowUp(actor=ANA, due=play.now, reason="check", assignee=GONE))


def test_a_supervisor_may_hand_the_stewardship_on_with_its_follow_ups(play: Play) -> None:
    from servicekit import ReassignSteward  # noqa: PLC0415

    play.to_stage("in_service", owner=CY)
    play(TransferCase(actor=CY, to=BO, handoff_note="over to bo"))
    play(ReassignSteward(actor=SUE, to=BO, reason="cy moves to another company"))
    assert play.case.steward == BO
    assert [f.assignee for f in play.case.open_follow_ups] == [BO]


def test_only_a_supervisor_of_the_steward_or_the_system_replaces_the_steward(play: Play) -> None:
    from servicekit import ReassignSteward  # noqa: PLC0415

    play.to_stage("in_service", owner=CY)
    for actor in (CY, BO, SAL, CUSTOMER):
        with pytest.raises(NotPermitted):
            play.attempt(ReassignSteward(actor=actor, to=BO, reason="r"))
    play(ReassignSteward(actor=BOT, to=BO, reason="cy left"))
    assert play.case.steward == BO


def test_the_new_steward_is_an_active_other_agent(play: Play) -> None:
    from servicekit import ReassignSteward  # noqa: PLC0415

    play.to_stage("in_service", owner=CY)
    with pytest.raises(OwnershipViolation, match="inactive"):
        play.attempt(ReassignSteward(actor=SUE, to=GONE, reason="r"))
    with pytest.raises(OwnershipViolation, match="steward already"):
        play.attempt(ReassignSteward(actor=SUE, to=CY, reason="r"))


def test_an_unowned_case_has_no_steward_to_replace(play: Play) -> None:
    from servicekit import ReassignSteward  # noqa: PLC0415

    play.open(CUSTOMER)
    with pytest.raises(OwnershipViolation, match="no steward yet"):
        play.attempt(ReassignSteward(actor=SUE, to=BO, reason="r"))


WALK_IN = Workflow(
    name="walk-in",
    stages=[
        Stage("new", StatusCategory.NEW),
        Stage("work", StatusCategory.OPEN, follow_up="call back about the repair"),
        Stage("closed", StatusCategory.CLOSED),
    ],
    transitions=[Transition("start", "new", "work"), Transition("close", "work", "closed")],
    start=["new", "work"],
)
"""A case may be opened straight into a stage that schedules a follow-up."""


def test_a_case_opened_into_a_stage_with_a_follow_up_schedules_it_for_the_owner() -> None:
    play = Play(WALK_IN)
    play.open(ANA, stage="work")
    kinds = [type(event).__name__ for event in play.history]
    assert kinds == [
        "CaseOpened",
        "InteractionRecorded",
        "OwnerAssigned",
        "StewardAppointed",
        "FollowUpScheduled",
    ]
    (follow_up,) = play.case.follow_ups
    assert (follow_up.follow_up_id, follow_up.assignee, follow_up.reason) == (
        1,
        ANA,
        "call back about the repair",
    )
    assert follow_up.due == play.now + timedelta(days=3)  # after_resolution, every day open
