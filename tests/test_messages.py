"""Error messages read as sentences for a person: words, not class names, each thing said once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from servicekit import (
    Agent,
    AgentStillResponsible,
    CommandRejected,
    DuplicateCase,
    FollowUpOutcome,
    InvalidTransition,
    InvalidValue,
    ManualClock,
    OwnershipViolation,
    ReturnToQueue,
    ServiceDesk,
    System,
    UnknownCase,
    UnknownWorkflow,
    buying_cycle,
)
from servicekit.interactions import Channel

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk() -> ServiceDesk:
    desk = ServiceDesk(workflow=buying_cycle(), clock=ManualClock(START))
    desk.register_agent(Agent("bo", teams={"service"}))
    desk.open_case(actor="bo", customer_id="ivy", channel=Channel.WEB, summary="s", case_id="K")
    return desk


def refusal(attempt: Callable[[], object]) -> str:
    with pytest.raises(CommandRejected) as error:
        attempt()
    return str(error.value)


def test_a_refusal_names_the_case_once(desk: ServiceDesk) -> None:
    def opened_twice() -> object:
        return desk.open_case(
            actor="bo", customer_id="ivy", channel=Channel.WEB, summary="s", case_id="K"
        )

    with pytest.raises(DuplicateCase):
        opened_twice()
    assert refusal(opened_twice) == (
        "agent 'bo' cannot open case 'K': it is open already, in stage 'enquiry'"
    )
    assert refusal(lambda: desk.transfer("K", actor="bo", to="bo", handoff_note="n")) == (
        "agent 'bo' cannot transfer case 'K' to agent 'bo' in stage 'enquiry': "
        "agent 'bo' owns the case already"
    )


def test_a_refusal_before_the_case_was_opened_says_so_once(desk: ServiceDesk) -> None:
    with pytest.raises(UnknownCase) as error:
        desk.start_service("NOPE", actor="bo")
    assert str(error.value) == (
        "agent 'bo' cannot fire 'start_service' on case 'NOPE': the case has not been opened; "
        "allowed instead: open the case"
    )


def test_a_guard_refuses_in_its_own_words_not_its_name(desk: ServiceDesk) -> None:
    with pytest.raises(InvalidTransition) as error:
        desk.close("K", actor="bo")
    assert str(error.value) == (
        "agent 'bo' cannot fire 'close' on case 'K' in stage 'enquiry': give a reason with the move"
    )


def test_what_is_allowed_instead_is_said_in_words_not_class_names(desk: ServiceDesk) -> None:
    desk.start_service("K", actor="bo")
    with pytest.raises(OwnershipViolation) as error:
        desk.execute("K", ReturnToQueue(actor=System("router"), handoff_note="back"))
    assert error.value.allowed == ("transfer the case with a handoff note",)
    assert str(error.value).startswith("system 'router' cannot return case 'K' to the queue")


def test_a_follow_up_done_already_names_its_outcome_in_words(desk: ServiceDesk) -> None:
    desk.schedule_follow_up("K", actor="bo", due=START, reason="call")
    desk.complete_follow_up("K", 1, actor="bo", outcome=FollowUpOutcome.NOT_SERVED)
    message = refusal(
        lambda: desk.complete_follow_up("K", 1, actor="bo", outcome=FollowUpOutcome.SERVED)
    )
    assert "follow-up 1 is done already (not served)" in message


def test_skills_are_named_in_words(desk: ServiceDesk) -> None:
    desk.change_skills("K", actor="bo", skills={"de", "billing"})
    assert refusal(lambda: desk.change_skills("K", actor="bo", skills={"billing", "de"})) == (
        "agent 'bo' cannot change the skills case 'K' needs to 'billing' and 'de' in stage "
        "'enquiry': the case needs exactly 'billing' and 'de' already"
    )


def test_a_follow_up_handover_names_the_assignee_as_an_agent(desk: ServiceDesk) -> None:
    desk.schedule_follow_up("K", actor="bo", due=START, reason="call")
    message = refusal(lambda: desk.hand_over_follow_up("K", 1, actor="bo", to="bo", reason="r"))
    assert message.endswith(": follow-up 1 is for agent 'bo' already")


def test_a_workflow_the_desk_does_not_serve_is_named_in_a_sentence(desk: ServiceDesk) -> None:
    with pytest.raises(UnknownWorkflow) as error:
        desk.cases(workflow="onboarding")
    assert str(error.value) == (
        "this desk does not serve workflow 'onboarding'; it serves 'buying_cycle' "
        "(a desk serves the workflows given to ServiceDesk(workflows=[...]))"
    )
    opened_elsewhere = UnknownWorkflow("repairs", ["buying_cycle", "sales"], case_id="R-1")
    assert str(opened_elsewhere) == (
        "case 'R-1' was opened on workflow 'repairs', which this desk does not serve; it "
        "serves 'buying_cycle' and 'sales' (a desk serves the workflows given to "
        "ServiceDesk(workflows=[...]))"
    )


def test_a_workflow_or_stage_that_is_not_a_string_is_an_invalid_value_in_every_query(
    desk: ServiceDesk,
) -> None:
    queries: list[Callable[[], object]] = [
        lambda: desk.cases(workflow=3),  # type: ignore[arg-type]
        lambda: desk.unowned_cases(workflow=3),  # type: ignore[arg-type]
        lambda: desk.cases_owned_by("bo", workflow=3),  # type: ignore[arg-type]
        lambda: desk.cases_stewarded_by("bo", workflow=3),  # type: ignore[arg-type]
        lambda: desk.cases_of_customer("ivy", workflow=3),  # type: ignore[arg-type]
        lambda: desk.cases_in_stage("enquiry", workflow=3),  # type: ignore[arg-type]
        lambda: desk.open_case(
            actor="bo",
            customer_id="ivy",
            channel=Channel.WEB,
            summary="s",
            workflow=3,  # type: ignore[arg-type]
        ),
    ]
    for query in queries:
        with pytest.raises(InvalidValue, match=r"^workflow must be a non-blank string, got 3$"):
            query()
    with pytest.raises(InvalidValue, match=r"^stage must be a non-blank string, got 3$"):
        desk.cases_in_stage(3)  # type: ignore[arg-type]


def test_an_agent_still_responsible_is_told_which_cases_in_words(desk: ServiceDesk) -> None:
    with pytest.raises(AgentStillResponsible) as one:
        desk.deactivate_agent("bo")
    assert str(one.value) == (
        "agent 'bo' still owns, stewards or owes a follow-up on an unfinished case, 'K'; "
        "transfer it, reassign its stewardship and hand over its follow-ups first"
    )
    desk.open_case(actor="bo", customer_id="ivy", channel=Channel.WEB, summary="s", case_id="L")
    with pytest.raises(AgentStillResponsible) as two:
        desk.deactivate_agent("bo")
    assert str(two.value) == (
        "agent 'bo' still owns, stewards or owes a follow-up on 2 unfinished cases, 'K' and "
        "'L'; transfer them, reassign their stewardship and hand over their follow-ups first"
    )


def test_a_desk_given_the_wrong_kind_of_part_names_the_keyword_it_came_by() -> None:
    with pytest.raises(InvalidValue, match=r"^workflow must be a Workflow"):
        ServiceDesk(workflow="buying_cycle")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^store must be a Store"):
        ServiceDesk(workflow=buying_cycle(), store="desk.sqlite")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"^clock must be a Clock"):
        ServiceDesk(workflow=buying_cycle(), clock="9:00")  # type: ignore[arg-type]
