"""One vocabulary, and values refused before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from servicekit import (
    Agent,
    BusinessCalendar,
    Channel,
    Clock,
    InvalidValue,
    ManualClock,
    ServiceDesk,
    Stage,
    StatusCategory,
    Store,
    Transition,
    Workflow,
    buying_cycle,
)
from servicekit.sla import Policy

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class NaiveClock(Clock):
    """A host's clock that forgot its time zone."""

    def now(self) -> datetime:
        return datetime(2026, 3, 2, 10, 0)  # noqa: DTZ001 - the point of the test


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store  # memory, SQLite and PostgreSQL (see conftest.py)


def test_a_clock_that_returns_a_naive_time_gets_invalid_value_on_every_command(
    store: Store,
) -> None:
    good = ServiceDesk(workflow=buying_cycle(), store=store, clock=ManualClock(START))
    good.register_agent(Agent("bo"))
    good.open_case(actor="bo", customer_id="c", channel=Channel.WEB, summary="s", case_id="k")
    naive = ServiceDesk(workflow=buying_cycle(), store=store, clock=NaiveClock())
    with pytest.raises(InvalidValue, match="timezone-aware"):
        naive.open_case(actor="bo", customer_id="c", channel=Channel.WEB, summary="s")
    with pytest.raises(InvalidValue, match="timezone-aware"):
        naive.start_service("k", actor="bo")  # an existing case, decided from the cache or not
    with pytest.raises(InvalidValue, match="timezone-aware"):
        naive.tick()
    assert len(good.history("k")) == 4
    assert len(good.cases()) == 1


@pytest.mark.parametrize("lone", ["\ud800", "case-\udfff"])
def test_an_id_that_cannot_be_stored_is_refused_before_anything_is_written(
    store: Store, lone: str
) -> None:
    desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=ManualClock(START))
    desk.register_agent(Agent("bo"))
    with pytest.raises(InvalidValue, match="lone surrogate"):
        desk.open_case(actor="bo", customer_id="c", channel=Channel.WEB, summary="s", case_id=lone)
    with pytest.raises(InvalidValue, match="lone surrogate"):
        desk.open_case(actor="bo", customer_id=lone, channel=Channel.WEB, summary="s")
    with pytest.raises(InvalidValue, match="lone surrogate"):
        desk.register_agent(Agent(lone))
    with pytest.raises(InvalidValue, match="lone surrogate"):
        desk.open_case(actor="bo", customer_id="c", channel=Channel.WEB, summary=f"x{lone}")
    assert desk.cases() == []
    assert [agent.id for agent in desk.agents()] == ["bo"]


def _stage_pair(name: str = "two_stages") -> dict[str, Any]:
    return {
        "name": name,
        "stages": [Stage("open", StatusCategory.NEW), Stage("done", StatusCategory.CLOSED)],
        "transitions": [Transition("finish", "open", "done")],
        "start": ["open"],
    }


NAMES_THAT_ARE_STORED: dict[str, Callable[[ServiceDesk, str], object]] = {
    "a skill of an agent": lambda desk, lone: desk.register_agent(Agent("cy", skills={lone})),
    "a team of an agent": lambda desk, lone: desk.register_agent(Agent("cy", teams={lone})),
    "a skill a new case needs": lambda desk, lone: desk.open_case(
        actor="bo", customer_id="c", channel=Channel.WEB, summary="s", skills={lone}
    ),
    "a skill a case needs now": lambda desk, lone: desk.change_skills(
        "k", actor="bo", skills={lone}
    ),
    "a workflow's name": lambda _desk, lone: Workflow(**_stage_pair(lone)),
    "a channel's name": lambda _desk, lone: Channel(lone),
    "an SLA policy's name": lambda _desk, lone: Policy(
        name=lone, version=1, calendar=BusinessCalendar.always_open(), targets=[]
    ),
}


@pytest.mark.parametrize("what", sorted(NAMES_THAT_ARE_STORED))
def test_a_name_that_cannot_be_stored_is_refused_before_anything_is_written(
    store: Store, what: str
) -> None:
    desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=ManualClock(START))
    desk.register_agent(Agent("bo"))
    desk.open_case(actor="bo", customer_id="c", channel=Channel.WEB, summary="s", case_id="k")
    history, cases = desk.history("k"), desk.cases()
    with pytest.raises(InvalidValue, match=r"'x\\udfff'"):  # the message names the value
        NAMES_THAT_ARE_STORED[what](desk, "x\udfff")
    assert desk.history("k") == history
    assert desk.cases() == cases
    assert [agent.id for agent in desk.agents()] == ["bo"]


def test_every_command_has_a_desk_method_whose_keywords_are_its_fields() -> None:
    import inspect  # noqa: PLC0415 - only this test needs it

    import attrs  # noqa: PLC0415

    from servicekit import commands  # noqa: PLC0415

    methods = {
        "OpenCase": "open_case",
        "AssignCase": "assign",
        "TransferCase": "transfer",
        "ReassignSteward": "reassign_steward",
        "Move": "move",
        "RecordInteraction": "record_interaction",
        "MakeOffer": "make_offer",
        "AcceptOffer": "accept_offer",
        "RejectOffer": "reject_offer",
        "ScheduleFollowUp": "schedule_follow_up",
        "CompleteFollowUp": "complete_follow_up",
        "HandOverFollowUp": "hand_over_follow_up",
        "RecordFeedback": "record_feedback",
        "RequestFeedback": "request_feedback",
        "ChangePriority": "change_priority",
        "PauseSla": "pause_sla",
        "ResumeSla": "resume_sla",
        "ChangeSkills": "change_skills",
    }
    # The desk's own, from tick and upkeep, and routing's (an unanswered case goes back).
    internal = {"FireTimers", "ApplySlaPolicy", "ReturnToQueue"}
    public = {name for name in commands.__all__ if name != "Command"}
    assert public - internal <= set(methods), "a command without a desk method"
    for command_name, method_name in methods.items():
        if command_name not in public:
            continue  # renamed or replaced by another branch: the set check above catches it
        fields = {field.name for field in attrs.fields(getattr(commands, command_name))}
        keywords = set(inspect.signature(getattr(ServiceDesk, method_name)).parameters)
        keywords -= {"self", "case_id"}
        assert keywords <= fields, (command_name, keywords - fields)
