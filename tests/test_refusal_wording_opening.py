"""What a refusal says, word for word, before a case is worked: deciding at all, and opening it.

Each test states the whole sentence a person reads and the `allowed` list a host shows
as buttons (see test_refusal_wording.py).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from helpers import ANA, BO, BOT, CUSTOMER, GONE, START, STRANGER, SUE, Play

from servicekit import (
    Case,
    ChangePriority,
    Channel,
    Direction,
    DuplicateCase,
    InvalidTransition,
    InvalidValue,
    Move,
    NotPermitted,
    OpenCase,
    OwnershipViolation,
    RecordInteraction,
    UnknownCase,
    Workflow,
    decide,
)


def test_a_history_never_goes_back_in_time_and_the_error_names_both_times(play: Play) -> None:
    play.open(ANA)
    with pytest.raises(InvalidValue) as error:
        decide(play.case, Move(actor=ANA, trigger="negotiate"), now=START)
    assert str(error.value) == (
        "now (2026-03-02T09:00:00+00:00) is before the last event of case 'case-1' "
        "(2026-03-02T09:10:00+00:00); a history never goes back in time"
    )


def test_a_naive_now_is_refused_naming_it(play: Play) -> None:
    with pytest.raises(InvalidValue) as error:
        decide(play.case, Move(actor=ANA, trigger="negotiate"), now=datetime(2026, 3, 2, 9))  # noqa: DTZ001
    assert (
        str(error.value) == "now must be timezone-aware, got the naive datetime 2026-03-02T09:00:00"
    )


def test_a_now_that_is_no_datetime_is_refused_naming_its_type(play: Play) -> None:
    with pytest.raises(InvalidValue) as error:
        decide(play.case, Move(actor=ANA, trigger="negotiate"), now="9:00")  # type: ignore[arg-type]
    assert str(error.value) == "now must be a timezone-aware datetime, got str: '9:00'"


def test_a_case_is_opened_once_and_the_refusal_says_where_it_stands(play: Play) -> None:
    play.open(ANA)
    error = play.refused(
        OpenCase(actor=ANA, customer_id=CUSTOMER.id, channel=Channel.PHONE, summary="s")
    )
    assert type(error) is DuplicateCase
    assert (
        str(error)
        == "agent 'ana' cannot open case 'case-1': it is open already, in stage 'enquiry'"
    )
    assert error.allowed == ()


def test_something_that_is_not_a_command_is_named_as_it_was_given(play: Play) -> None:
    with pytest.raises(InvalidValue) as error:
        decide(play.case, "open please", now=START)  # type: ignore[arg-type]
    assert str(error.value) == "'open please' is not a servicekit command"


def test_a_command_on_a_case_never_opened_is_told_to_open_it(play: Play) -> None:
    error = play.refused(Move(actor=ANA, trigger="negotiate"))
    assert type(error) is UnknownCase
    assert str(error) == (
        "agent 'ana' cannot fire 'negotiate' on case 'case-1': the case has not been opened; "
        "allowed instead: open the case"
    )
    assert error.allowed == ("open the case",)


def test_a_finished_case_takes_only_interactions_and_feedback(play: Play) -> None:
    play.open(ANA)
    play(Move(actor=ANA, trigger="close", reason="spam"))
    error = play.refused(ChangePriority(actor=ANA, priority="high"))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "agent 'ana' cannot change the priority to 'high' on case 'case-1' in stage 'closed': "
        "the case is finished; allowed instead: record an interaction, record feedback"
    )
    assert error.allowed == ("record an interaction", "record feedback")


def test_an_inactive_agent_is_told_they_are_inactive(play: Play) -> None:
    play.open(ANA)
    error = play.refused(Move(actor=GONE, trigger="negotiate"))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'gone' cannot fire 'negotiate' on case 'case-1' in stage 'enquiry': "
        "agent 'gone' is inactive"
    )
    assert error.allowed == ()


def test_an_inactive_agent_cannot_open_a_case(play: Play) -> None:
    error = play.refused(
        OpenCase(actor=GONE, customer_id=CUSTOMER.id, channel=Channel.PHONE, summary="s")
    )
    assert type(error) is NotPermitted
    assert str(error) == "agent 'gone' cannot open case 'case-1': agent 'gone' is inactive"
    assert error.allowed == ()


def test_another_customer_is_told_whose_case_it_is(play: Play) -> None:
    play.open(ANA)
    error = play.refused(
        RecordInteraction(
            actor=STRANGER, channel=Channel.CHAT, direction=Direction.INBOUND, summary="me too"
        )
    )
    assert type(error) is NotPermitted
    assert str(error) == (
        "customer 'cust-2' cannot record an interaction on case 'case-1' in stage 'enquiry': "
        "the case belongs to customer 'cust-1'"
    )
    assert error.allowed == ()


def test_a_blank_case_id_is_refused_when_the_case_is_opened(workflow: Workflow) -> None:
    blank = Case(workflow, "  ")
    opening = OpenCase(actor=ANA, customer_id=CUSTOMER.id, channel=Channel.PHONE, summary="s")
    with pytest.raises(InvalidValue) as error:
        decide(blank, opening, now=START)
    assert str(error.value) == "a case id is a non-blank string, got '  '"


def test_a_case_is_opened_only_on_the_workflow_it_is_decided_on(play: Play) -> None:
    with pytest.raises(InvalidValue) as error:
        play.open(ANA, workflow="repairs")
    assert str(error.value) == (
        "case 'case-1' is to be opened on workflow 'repairs', but it was decided on workflow "
        "'buying_cycle'"
    )


def test_a_case_opened_in_another_stage_is_told_the_start_stages(play: Play) -> None:
    with pytest.raises(InvalidTransition) as error:
        play.open(ANA, stage="won")
    assert str(error.value) == (
        "agent 'ana' cannot open case 'case-1': a case cannot be opened in stage 'won'; "
        "allowed instead: enquiry, in_service"
    )
    assert error.value.allowed == ("enquiry", "in_service")


def test_a_case_opened_past_intake_without_an_owner_is_told_the_intake_stages(
    play: Play,
) -> None:
    with pytest.raises(OwnershipViolation) as error:
        play.open(BOT, stage="in_service")
    assert str(error.value) == (
        "system 'router' cannot open case 'case-1': stage 'in_service' needs an owner from "
        "the start; name one, or open the case in an intake stage; allowed instead: enquiry"
    )
    assert error.value.allowed == ("enquiry",)


def test_a_customer_opens_cases_only_for_themselves_and_is_told_so(play: Play) -> None:
    with pytest.raises(NotPermitted) as error:
        play.open(STRANGER)
    assert str(error.value) == (
        "customer 'cust-2' cannot open case 'case-1': a customer opens cases for themselves, "
        "not for 'cust-1'"
    )
    assert error.value.allowed == ()


def test_a_customer_opening_an_outbound_case_is_told_their_contact_is_inbound(
    play: Play,
) -> None:
    with pytest.raises(NotPermitted) as error:
        play.open(CUSTOMER, direction=Direction.OUTBOUND)
    assert str(error.value) == (
        "customer 'cust-1' cannot open case 'case-1': a customer's contact is inbound; "
        "allowed instead: record the contact as inbound"
    )
    assert error.value.allowed == ("record the contact as inbound",)


def test_a_customer_choosing_the_owner_is_told_they_cannot(play: Play) -> None:
    with pytest.raises(NotPermitted) as error:
        play.open(CUSTOMER, owner=ANA)
    assert str(error.value) == (
        "customer 'cust-1' cannot open case 'case-1': a customer cannot choose the case's owner"
    )
    assert error.value.allowed == ()


def test_an_agent_opening_a_case_for_a_colleague_is_told_who_may(play: Play) -> None:
    with pytest.raises(NotPermitted) as error:
        play.open(ANA, owner=BO)
    assert str(error.value) == (
        "agent 'ana' cannot open case 'case-1': an agent who opens a case owns it; only a "
        "supervisor of the agent's team or the system may open it for agent 'bo'"
    )
    assert error.value.allowed == ()


def test_a_case_opened_for_an_inactive_agent_names_them(play: Play) -> None:
    with pytest.raises(OwnershipViolation) as error:
        play.open(SUE, owner=GONE)
    assert str(error.value) == (
        "agent 'sue' cannot open case 'case-1': agent 'gone' is inactive and cannot be the owner"
    )
    assert error.value.allowed == ()
