"""The SLA fold taken piece by piece says what a fold from scratch says; old SLA events load."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import START
from hypothesis import given
from hypothesis import strategies as st

from servicekit import (
    Actor,
    Agent,
    AssignCase,
    BusinessCalendar,
    Case,
    Channel,
    Command,
    CommandRejected,
    Customer,
    Event,
    FireTimers,
    Move,
    OpenCase,
    Role,
    SlaBreached,
    SlaWarned,
    StatusCategory,
    System,
    buying_cycle,
    decide,
    evolve,
)
from servicekit.serialization import event_from_dict, event_to_dict
from servicekit.sla import Conditions, Metric, Policy, PolicySet, SlaTracker, Target, assess
from servicekit.testing.strategies import agents, commands, moments

WORKFLOW = buying_cycle()
CALENDAR = BusinessCalendar(
    timezone="Europe/Berlin",
    hours={day: [("09:00", "12:00"), ("13:00", "17:30")] for day in ("mon", "tue", "wed", "thu")},
)
POLICIES = PolicySet(
    [
        Policy(
            name="urgent",
            version=1,
            calendar=CALENDAR,
            conditions=Conditions(priorities={"urgent"}),
            targets=[
                Target(Metric.FIRST_RESPONSE, "1h", pause_in=()),
                Target(Metric.RESOLUTION, "1bd", pausable=False),
                Target(Metric.NEXT_RESPONSE, "30m"),
            ],
            escalate_to="service",
        ),
        Policy(
            name="standard",
            version=2,
            calendar=CALENDAR,
            targets=[
                Target(Metric.FIRST_RESPONSE, "4h"),
                Target(Metric.NEXT_RESPONSE, "2h", warn_at=0.5),
                Target(Metric.PERIODIC_UPDATE, "8h"),
                Target(
                    Metric.RESOLUTION,
                    "2 business days",
                    pause_in={StatusCategory.PENDING, StatusCategory.WON},
                ),
                Target(Metric.REACH_STAGE, "3h", stage="in_service"),
            ],
        ),
    ]
)
LEAD = Agent("lead", teams={"service", "sales"}, roles={Role.SUPERVISOR})


def supervisors_of(team: str | None) -> list[Agent]:
    return [LEAD] if team in (None, "service", "sales") else []


def start() -> SlaTracker:
    return SlaTracker.start(POLICIES, workflow=WORKFLOW, supervisors_of=supervisors_of)


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    """A case opened by its customer or an agent, driven by random commands and real ticks."""
    cast = [*draw(st.lists(agents(), min_size=1, max_size=3, unique_by=lambda a: a.id)), LEAD]
    customer = Customer("cust-1")
    openers: list[Actor] = [customer, *[a for a in cast if a.active]]
    opener = draw(st.sampled_from(openers))
    case = Case(WORKFLOW, "case-1")
    now = draw(moments())
    history: list[Event] = []
    everyone: list[Actor] = [*cast, customer, System()]
    crowd = st.sampled_from(everyone)
    opening = OpenCase(
        actor=opener,
        customer_id=customer.id,
        channel=Channel.EMAIL,
        summary="hi",
        priority=draw(st.sampled_from(["normal", "urgent"])),
    )
    triggers = sorted({t.trigger for t in WORKFLOW.transitions})
    takes = st.builds(AssignCase, actor=st.sampled_from(cast), to=st.sampled_from(cast))
    anything = commands(crowd, agent=st.sampled_from(cast), workflow=WORKFLOW)
    steps: list[Command | str | None] = draw(
        st.lists(st.one_of(anything, takes, st.just("move"), st.just("move"), st.none()))
    )
    for step in [opening, *steps, None]:
        now += timedelta(seconds=draw(st.integers(min_value=0, max_value=2 * 86_400)))
        if isinstance(step, str):  # the owner moves the case on, if a move leaves its stage
            here = [t for t in triggers if case.stage and WORKFLOW.route(case.stage, t)]
            if not here:
                continue
            trigger = draw(st.sampled_from(here))
            command: Command = Move(actor=case.owner or LEAD, trigger=trigger, reason="why")
        elif step is None:  # a tick: fire what the fold finds due
            due = start().apply(history).timers_due(now)
            if not due:
                continue
            command = FireTimers(actor=System("timer"), timers=due)
        else:
            command = step
        try:
            events = decide(case, command, now=now)
        except CommandRejected:
            continue
        for event in events:
            case = evolve(case, event)
        history.extend(events)
    return history


@pytest.mark.slow
@given(histories(), st.data())
def test_the_fold_taken_in_pieces_equals_the_fold_from_scratch(
    history: list[Event], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(history)), label="cut")
    later = data.draw(st.integers(0, 10 * 86_400), label="seconds after the last event")
    now = history[-1].at + timedelta(seconds=later)
    first = start().apply(history[:cut])
    seen = first.report(now)
    whole = first.apply(history[cut:])
    scratch = assess(history, POLICIES, now=now, workflow=WORKFLOW, supervisors_of=supervisors_of)
    assert whole.report(now) == scratch
    assert whole.pending() == scratch.pending
    assert first.report(now) == seen  # the tracker it came from is as it was


def stored(event: Event, schema: int, payload: dict[str, object]) -> Event:
    data = event_to_dict(event)
    return event_from_dict({**data, "schema_version": schema, "payload": payload})


def test_a_warning_stored_before_schema_2_loads_with_its_warning_moment() -> None:
    warned = SlaWarned("k", 3, START, System("timer"), "first_response", START, None)
    old = stored(warned, 1, {"clock": "first_response", "due": START.isoformat()})
    assert old == warned  # the old `due` was the warning moment; the target's due is unknown


def test_a_breach_stored_before_schema_2_skipped_no_warning() -> None:
    breached = SlaBreached("k", 3, START, System("timer"), "resolution", START)
    old = stored(breached, 1, {"clock": "resolution", "due": START.isoformat()})
    assert old == breached
    assert old.warning_skipped is False
