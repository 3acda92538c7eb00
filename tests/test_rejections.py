"""A rejected command raises a precise error and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from helpers import ANA, BO, CUSTOMER, START, STRANGER, Play

from servicekit import (
    AcceptOffer,
    AssignCase,
    Case,
    Channel,
    CommandRejected,
    CompleteFollowUp,
    Direction,
    DuplicateCase,
    FollowUpOutcome,
    InvalidTransition,
    InvalidValue,
    MakeOffer,
    Move,
    NotPermitted,
    OpenCase,
    OwnershipViolation,
    RecordInteraction,
    ScheduleFollowUp,
    ServiceKitError,
    UnknownCase,
    UnknownReference,
    decide,
)


def test_an_error_names_case_actor_stage_and_what_is_allowed(play: Play) -> None:
    play.to_stage("in_service", owner=ANA)
    with pytest.raises(InvalidTransition) as error:
        play.attempt(Move(actor=ANA, trigger="win"))
    assert str(error.value) == (
        "agent 'ana' cannot fire 'win' on case 'case-1' in stage 'in_service': "
        "no transition 'win' leaves stage 'in_service'; "
        "allowed instead: wait_on_customer, resolve"
    )
    assert error.value.case_id == "case-1"
    assert error.value.actor == "agent 'ana'"
    assert error.value.stage == "in_service"
    assert error.value.allowed == ("wait_on_customer", "resolve")


def test_errors_are_servicekit_errors_and_builtin_errors() -> None:
    assert issubclass(InvalidTransition, ServiceKitError)
    assert issubclass(InvalidTransition, ValueError)
    assert issubclass(NotPermitted, PermissionError)
    assert issubclass(UnknownReference, LookupError)
    assert issubclass(UnknownCase, LookupError)
    assert issubclass(InvalidValue, ValueError)
    assert issubclass(OwnershipViolation, CommandRejected)


def test_a_rejected_command_uses_up_no_version(play: Play) -> None:
    play.to_stage("in_service", owner=ANA)
    version = play.case.version
    with pytest.raises(NotPermitted):
        decide(play.case, Move(actor=BO, trigger="resolve"), now=play.now)
    moved, *_ = play(Move(actor=ANA, trigger="resolve"))
    assert moved.version == version + 1


def test_a_command_on_an_unopened_case_is_refused(workflow: object) -> None:
    blank = Case(workflow, "nope")  # type: ignore[arg-type]
    with pytest.raises(UnknownCase, match="on case 'nope': the case has not been opened"):
        decide(blank, Move(actor=ANA, trigger="negotiate"), now=START)


def test_a_case_cannot_be_opened_twice(play: Play) -> None:
    play.open(ANA)
    with pytest.raises(DuplicateCase):
        play.open(ANA)


def test_a_case_opens_only_in_a_start_stage(play: Play) -> None:
    with pytest.raises(InvalidTransition, match="cannot be opened in stage 'won'") as error:
        play.open(ANA, stage="won")
    assert error.value.allowed == ("enquiry", "in_service")


def test_a_customer_opens_cases_only_for_themselves(play: Play) -> None:
    with pytest.raises(NotPermitted, match="for themselves"):
        play.open(STRANGER)


def test_a_customer_cannot_open_an_outbound_case(play: Play) -> None:
    with pytest.raises(NotPermitted, match="inbound"):
        play.open(CUSTOMER, direction=Direction.OUTBOUND)


def test_a_customer_cannot_choose_the_owner(play: Play) -> None:
    with pytest.raises(NotPermitted, match="cannot choose"):
        play.open(CUSTOMER, owner=ANA)


def test_an_agent_cannot_open_a_case_for_a_colleague(play: Play) -> None:
    with pytest.raises(NotPermitted, match="owns it"):
        play.open(ANA, owner=BO)


def test_a_customer_records_only_inbound_contacts(play: Play) -> None:
    play.open(CUSTOMER)
    with pytest.raises(NotPermitted, match="inbound"):
        play.attempt(
            RecordInteraction(
                actor=CUSTOMER, channel=Channel.CHAT, direction=Direction.OUTBOUND, summary="x"
            )
        )


def test_time_never_goes_backwards_in_a_history(play: Play) -> None:
    play.open(ANA)
    with pytest.raises(InvalidValue, match="a history never goes back in time"):
        decide(play.case, Move(actor=ANA, trigger="negotiate"), now=START)


def test_now_must_be_timezone_aware(play: Play) -> None:
    with pytest.raises(InvalidValue, match="naive"):
        decide(play.case, Move(actor=ANA, trigger="negotiate"), now=datetime(2026, 1, 1))  # noqa: DTZ001


def test_now_may_be_given_in_any_zone_and_is_stored_in_utc(play: Play) -> None:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    local = datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    (opened, *_) = decide(
        play.case,
        OpenCase(actor=ANA, customer_id="c", channel=Channel.WEB, summary="s"),
        now=local,
    )
    assert opened.at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert opened.at.tzinfo is UTC


def test_only_commands_are_decided(play: Play) -> None:
    with pytest.raises(InvalidValue, match="not a servicekit command"):
        decide(play.case, "open please", now=START)  # type: ignore[arg-type]


def test_an_unknown_follow_up_is_named(play: Play) -> None:
    play.to_stage("follow_up", owner=ANA)
    with pytest.raises(UnknownReference, match="no follow-up 4") as error:
        play.attempt(CompleteFollowUp(actor=ANA, follow_up_id=4, outcome=FollowUpOutcome.SERVED))
    assert error.value.allowed == ("follow-up 1",)


def test_a_done_follow_up_cannot_be_completed_again(play: Play) -> None:
    play.to_stage("follow_up", owner=ANA)
    play(CompleteFollowUp(actor=ANA, follow_up_id=1, outcome=FollowUpOutcome.SERVED))
    with pytest.raises(InvalidTransition, match="done already"):
        play.attempt(CompleteFollowUp(actor=ANA, follow_up_id=1, outcome=FollowUpOutcome.SERVED))


def test_nobody_cancels_a_follow_up_by_hand(play: Play) -> None:
    play.to_stage("follow_up", owner=ANA)
    with pytest.raises(InvalidTransition, match="only by a supervisor closing"):
        play.attempt(CompleteFollowUp(actor=ANA, follow_up_id=1, outcome=FollowUpOutcome.CANCELLED))


def test_a_follow_up_on_an_unowned_case_needs_an_assignee(play: Play) -> None:
    from helpers import SUE  # noqa: PLC0415

    play.open(CUSTOMER)
    with pytest.raises(OwnershipViolation, match="no owner yet"):
        play.attempt(ScheduleFollowUp(actor=SUE, due=START, reason="call"))


def test_transfers_need_an_owned_case(play: Play) -> None:
    from servicekit import TransferCase  # noqa: PLC0415

    play.open(CUSTOMER)
    with pytest.raises(OwnershipViolation, match="no owner yet") as error:
        play.attempt(TransferCase(actor=ANA, to=BO, handoff_note="n"))
    assert error.value.allowed == ("take the case, or assign it to an agent",)


def test_a_stranger_cannot_answer_an_offer(play: Play) -> None:
    play.to_stage("negotiation", owner=ANA)
    play(MakeOffer(actor=ANA, amount=Decimal("5.00"), currency="EUR"))
    with pytest.raises(NotPermitted):
        play.attempt(AcceptOffer(actor=STRANGER, offer_id=1))
    with pytest.raises(NotPermitted):
        play.attempt(AcceptOffer(actor=BO, offer_id=1))


def test_an_agent_cannot_route_a_case_to_an_inactive_colleague_on_open(play: Play) -> None:
    from helpers import GONE, SUE  # noqa: PLC0415

    with pytest.raises(OwnershipViolation, match="inactive"):
        play.open(SUE, owner=GONE)


def test_an_error_before_opening_says_so(workflow: object) -> None:
    blank = Case(workflow, "x")  # type: ignore[arg-type]
    with pytest.raises(UnknownCase) as error:
        decide(blank, AssignCase(actor=ANA, to=ANA), now=START + timedelta(1))
    assert str(error.value).startswith(
        "agent 'ana' cannot assign case 'x' to agent 'ana': the case has not been opened"
    )
    assert error.value.allowed == ("open the case",)
