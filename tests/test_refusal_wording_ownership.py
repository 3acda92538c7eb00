"""What a refusal says, word for word, about owners and stewards: assigning, transfers, queue.

Each test states the whole sentence a person reads and the `allowed` list a host shows
as buttons (see test_refusal_wording.py).
"""

from __future__ import annotations

from helpers import ANA, BO, BOT, CUSTOMER, CY, GONE, Play

from servicekit import (
    AssignCase,
    InvalidTransition,
    NotPermitted,
    OwnershipViolation,
    ReassignSteward,
    ReturnToQueue,
    TransferCase,
)


def test_an_owned_case_changes_hands_only_by_a_transfer(play: Play) -> None:
    play.open(ANA)
    error = play.refused(AssignCase(actor=BO, to=BO))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "agent 'bo' cannot assign case 'case-1' to agent 'bo' in stage 'enquiry': the case is "
        "owned by agent 'ana'; it changes hands only by a transfer with a handoff note; "
        "allowed instead: transfer the case with a handoff note"
    )
    assert error.allowed == ("transfer the case with a handoff note",)


def test_an_agent_takes_an_unowned_case_only_for_themselves(play: Play) -> None:
    play.open(CUSTOMER)
    error = play.refused(AssignCase(actor=ANA, to=BO))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'ana' cannot assign case 'case-1' to agent 'bo' in stage 'enquiry': an agent "
        "may take an unowned case for themselves; only a supervisor of the receiving agent's "
        "team or the system may assign it to someone else"
    )
    assert error.allowed == ()


def test_a_case_is_never_assigned_to_an_inactive_agent(play: Play) -> None:
    play.open(CUSTOMER)
    error = play.refused(AssignCase(actor=BOT, to=GONE))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "system 'router' cannot assign case 'case-1' to agent 'gone' in stage 'enquiry': "
        "agent 'gone' is inactive and cannot be the owner"
    )
    assert error.allowed == ()


def test_an_unowned_case_is_taken_before_it_is_worked(play: Play) -> None:
    play.open(CUSTOMER)
    error = play.refused(TransferCase(actor=ANA, to=BO, handoff_note="n"))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "agent 'ana' cannot transfer case 'case-1' to agent 'bo' in stage 'enquiry': the case "
        "has no owner yet; an agent must take it or be assigned it first; allowed instead: "
        "take the case, or assign it to an agent"
    )
    assert error.allowed == ("take the case, or assign it to an agent",)


def test_who_may_steer_a_case_is_named_with_its_owner(play: Play) -> None:
    play.open(ANA)
    error = play.refused(TransferCase(actor=BO, to=CY, handoff_note="n"))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'bo' cannot transfer case 'case-1' to agent 'cy' in stage 'enquiry': only the "
        "owner, a supervisor of the owner's team, or the system may do this; the owner is "
        "agent 'ana'"
    )
    assert error.allowed == ()


def test_a_case_is_never_transferred_to_an_inactive_agent(play: Play) -> None:
    play.open(ANA)
    error = play.refused(TransferCase(actor=ANA, to=GONE, handoff_note="n"))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "agent 'ana' cannot transfer case 'case-1' to agent 'gone' in stage 'enquiry': "
        "agent 'gone' is inactive and cannot be the receiving owner"
    )
    assert error.allowed == ()


def test_a_transfer_without_a_handoff_note_says_why_it_needs_one(play: Play) -> None:
    play.open(ANA)
    error = play.refused(TransferCase(actor=ANA, to=BO, handoff_note="  "))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "agent 'ana' cannot transfer case 'case-1' to agent 'bo' in stage 'enquiry': a "
        "transfer needs a handoff note, so that the customer never has to repeat themselves"
    )
    assert error.allowed == ()


def test_a_case_without_a_steward_gets_one_from_its_first_owner(play: Play) -> None:
    play.open(CUSTOMER)
    error = play.refused(ReassignSteward(actor=BOT, to=BO, reason="r"))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "system 'router' cannot make agent 'bo' the steward on case 'case-1' in stage "
        "'enquiry': the case has no steward yet; its first owner becomes the steward; "
        "allowed instead: take the case, or assign it to an agent"
    )
    assert error.allowed == ("take the case, or assign it to an agent",)


def test_only_a_supervisor_of_the_stewards_team_or_the_system_replaces_the_steward(
    play: Play,
) -> None:
    play.open(ANA)
    error = play.refused(ReassignSteward(actor=BO, to=CY, reason="r"))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'bo' cannot make agent 'cy' the steward on case 'case-1' in stage 'enquiry': "
        "only a supervisor of the steward's team or the system may replace agent 'ana'"
    )
    assert error.allowed == ()


def test_an_inactive_agent_never_becomes_the_steward(play: Play) -> None:
    play.open(ANA)
    error = play.refused(ReassignSteward(actor=BOT, to=GONE, reason="r"))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "system 'router' cannot make agent 'gone' the steward on case 'case-1' in stage "
        "'enquiry': agent 'gone' is inactive and cannot be the steward"
    )
    assert error.allowed == ()


def test_the_steward_cannot_be_made_the_steward_again(play: Play) -> None:
    play.open(ANA)
    error = play.refused(ReassignSteward(actor=BOT, to=ANA, reason="r"))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "system 'router' cannot make agent 'ana' the steward on case 'case-1' in stage "
        "'enquiry': agent 'ana' is the steward already"
    )
    assert error.allowed == ()


def test_only_the_system_returns_a_case_to_the_queue(play: Play) -> None:
    play.open(ANA)
    error = play.refused(ReturnToQueue(actor=ANA, handoff_note="back"))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'ana' cannot return case 'case-1' to the queue in stage 'enquiry': only the "
        "system returns a case to the queue"
    )
    assert error.allowed == ()


def test_an_unowned_case_is_in_the_queue_already(play: Play) -> None:
    play.open(CUSTOMER)
    error = play.refused(ReturnToQueue(actor=BOT, handoff_note="back"))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "system 'router' cannot return case 'case-1' to the queue in stage 'enquiry': nobody "
        "owns the case: it is waiting already"
    )
    assert error.allowed == ()


def test_past_intake_a_case_is_transferred_never_returned_to_the_queue(
    play: Play,
) -> None:
    play.to_stage("in_service", owner=ANA)
    error = play.refused(ReturnToQueue(actor=BOT, handoff_note="back"))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "system 'router' cannot return case 'case-1' to the queue in stage 'in_service': past "
        "intake a case keeps an owner; agent 'ana' must transfer it with a handoff note; "
        "allowed instead: transfer the case with a handoff note"
    )
    assert error.allowed == ("transfer the case with a handoff note",)


def test_a_case_is_not_transferred_to_its_owner(play: Play) -> None:
    play.open(ANA)
    error = play.refused(TransferCase(actor=ANA, to=ANA, handoff_note="n"))
    assert type(error) is OwnershipViolation
    assert str(error) == (
        "agent 'ana' cannot transfer case 'case-1' to agent 'ana' in stage 'enquiry': "
        "agent 'ana' owns the case already"
    )
    assert error.allowed == ()
