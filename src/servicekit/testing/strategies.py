"""Hypothesis strategies for servicekit's values, commands and histories.

Use them to property-test code built on servicekit: projections, notifiers,
stores, reports. Every strategy draws valid values; `commands` draws commands
that may well be refused (that is the point of testing the rules), and
`histories` keeps only the accepted ones, so its histories fold without error.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from servicekit.buying_cycle import buying_cycle
from servicekit.case import Case, evolve
from servicekit.commands import (
    AcceptOffer,
    ApplySlaPolicy,
    AssignCase,
    ChangePriority,
    Command,
    CompleteFollowUp,
    FireTimers,
    MakeOffer,
    Move,
    OpenCase,
    PauseSla,
    ReassignSteward,
    RecordFeedback,
    RecordInteraction,
    RejectOffer,
    RequestFeedback,
    ResumeSla,
    ScheduleFollowUp,
    TransferCase,
)
from servicekit.decisions import decide
from servicekit.errors import CommandRejected
from servicekit.events import Event
from servicekit.feedback import Survey
from servicekit.followups import FollowUpOutcome
from servicekit.interactions import Channel, Direction, Party
from servicekit.ownership import Actor, Agent, Customer, Role, System
from servicekit.timers import Timer, TimerKind
from servicekit.workflow import Workflow

__all__ = [
    "actors",
    "agents",
    "channels",
    "commands",
    "customers",
    "feedback",
    "histories",
    "moments",
    "timers",
]

_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
_TEXT = st.text(min_size=1, max_size=40).filter(str.strip)
_TEAMS = st.sampled_from(["sales", "service", "billing"])
_CUSTOMER_IDS = st.sampled_from(["cust-1", "cust-2"])


def agents(
    *,
    ids: st.SearchStrategy[str] = _NAMES,
    teams: st.SearchStrategy[str] = _TEAMS,
) -> st.SearchStrategy[Agent]:
    """Agents with one or two teams, some of them supervisors, mostly active."""
    return st.builds(
        Agent,
        ids,
        teams=st.frozensets(teams, min_size=1, max_size=2),
        roles=st.sampled_from(
            [frozenset({Role.AGENT}), frozenset({Role.SUPERVISOR}), frozenset(Role)]
        ),
        active=st.sampled_from([True, True, True, False]),
    )


def customers(*, ids: st.SearchStrategy[str] = _NAMES) -> st.SearchStrategy[Customer]:
    """Customers by id."""
    return st.builds(Customer, ids)


def actors(
    *,
    agent: st.SearchStrategy[Agent] | None = None,
    customer: st.SearchStrategy[Customer] | None = None,
) -> st.SearchStrategy[Actor]:
    """Agents, customers and the system."""
    return st.one_of(
        agents() if agent is None else agent,
        customers() if customer is None else customer,
        st.builds(System, st.sampled_from(["automation", "router", "timer"])),
    )


def channels() -> st.SearchStrategy[Channel]:
    """The well-known channels and a few of an application's own."""
    return st.sampled_from(
        [
            Channel.PHONE,
            Channel.EMAIL,
            Channel.CHAT,
            Channel.SOCIAL,
            Channel.IN_PERSON,
            Channel.WEB,
            Channel("whatsapp"),
            Channel("sms"),
        ]
    )


def moments(
    *, start: datetime = datetime(2020, 1, 1, tzinfo=UTC), years: int = 10
) -> st.SearchStrategy[datetime]:
    """Aware UTC datetimes, to the microsecond, within `years` of `start`."""
    return st.integers(min_value=0, max_value=years * 365 * 86_400 * 10**6).map(
        lambda micros: start + timedelta(microseconds=micros)
    )


def commands(
    actor: st.SearchStrategy[Actor],
    *,
    agent: st.SearchStrategy[Agent] | None = None,
    workflow: Workflow | None = None,
    customer_ids: st.SearchStrategy[str] = _CUSTOMER_IDS,
) -> st.SearchStrategy[Command]:
    """Any command, valid or not, by the given actors (agents to hand over to: `agent`)."""
    flow = buying_cycle() if workflow is None else workflow
    someone = agents() if agent is None else agent
    triggers = sorted({t.trigger for t in flow.transitions} | {"bogus"})
    numbers = st.integers(min_value=1, max_value=4)
    reasons = st.none() | _TEXT
    return st.one_of(
        st.builds(
            OpenCase,
            actor=actor,
            customer_id=customer_ids,
            channel=channels(),
            summary=_TEXT,
            direction=st.sampled_from(Direction),
            stage=st.none() | st.sampled_from(sorted(s.name for s in flow.stages)),
            owner=st.none() | someone,
            priority=st.sampled_from(["normal", "high"]),
            tier=st.none() | st.sampled_from(["gold", "silver"]),
        ),
        st.builds(AssignCase, actor=actor, to=someone),
        st.builds(TransferCase, actor=actor, to=someone, handoff_note=st.just("") | _TEXT),
        st.builds(ReassignSteward, actor=actor, to=someone, reason=_TEXT),
        st.builds(Move, actor=actor, trigger=st.sampled_from(triggers), reason=reasons),
        st.builds(
            RecordInteraction,
            actor=actor,
            channel=channels(),
            direction=st.sampled_from(Direction),
            summary=_TEXT,
        ),
        st.builds(
            MakeOffer,
            actor=actor,
            amount=st.decimals(min_value=Decimal("0.01"), max_value=10**6, places=2),
            currency=st.sampled_from(["EUR", "USD", "BRL"]),
            party=st.sampled_from(Party),
            terms=st.just("") | _TEXT,
        ),
        st.builds(AcceptOffer, actor=actor, offer_id=numbers),
        st.builds(RejectOffer, actor=actor, offer_id=numbers, reason=st.just("") | _TEXT),
        st.builds(
            ScheduleFollowUp,
            actor=actor,
            due=moments(),
            reason=_TEXT,
            assignee=st.none() | someone,
        ),
        st.builds(
            CompleteFollowUp,
            actor=actor,
            follow_up_id=numbers,
            outcome=st.sampled_from(FollowUpOutcome),
            note=st.just("") | _TEXT,
        ),
        feedback(actor),
        st.builds(RequestFeedback, actor=actor, survey=st.sampled_from(Survey), channel=channels()),
        st.builds(
            ChangePriority,
            actor=actor,
            priority=st.sampled_from(["low", "normal", "high", "urgent"]),
            reason=reasons,
        ),
        st.builds(PauseSla, actor=actor, reason=_TEXT),
        st.builds(ResumeSla, actor=actor, reason=reasons),
        st.builds(
            FireTimers, actor=actor, timers=st.lists(timers(someone), min_size=1, max_size=3)
        ),
        st.builds(
            ApplySlaPolicy,
            actor=actor,
            policy=st.sampled_from(["standard", "urgent"]),
            version=st.integers(1, 3),
        ),
    )


def feedback(actor: st.SearchStrategy[Actor]) -> st.SearchStrategy[RecordFeedback]:
    """Answers to every survey, each with a score on its scale."""
    return st.sampled_from(Survey).flatmap(
        lambda survey: st.builds(
            RecordFeedback,
            actor=actor,
            survey=st.just(survey),
            score=st.integers(*survey.scale),
            comment=st.just("") | _TEXT,
        )
    )


def timers(agent: st.SearchStrategy[Agent] | None = None) -> st.SearchStrategy[Timer]:
    """Timers that fell due: warnings, breaches and escalations (with an agent to notify)."""
    clocks = st.sampled_from(["first_response", "resolution", "next_response#2"])
    return st.one_of(
        st.builds(
            Timer,
            st.just(TimerKind.FOLLOW_UP),
            st.just("follow_up:1"),
            moments(),
            notify=agents() if agent is None else agent,
            follow_up_id=st.integers(1, 3),
        ),
        st.builds(Timer, st.just(TimerKind.CLOSE), st.just("close"), moments()),
        st.builds(Timer, st.just(TimerKind.BREACH), clocks, moments()),
        st.builds(Timer, st.just(TimerKind.WARNING), clocks, moments(), deadline=moments()),
        st.builds(
            Timer,
            st.just(TimerKind.ESCALATION),
            clocks,
            moments(),
            notify=agents() if agent is None else agent,
            level=st.integers(1, 3),
        ),
    )


@st.composite
def histories(
    draw: st.DrawFn,
    *,
    workflow: Workflow | None = None,
    case_id: str = "case-1",
    max_commands: int = 25,
) -> list[Event]:
    """A valid history of one case: random commands decided in turn, refusals dropped.

    The case is opened by an agent first, so that later commands have something
    to work on; times advance by random steps from a random start.
    """
    flow = buying_cycle() if workflow is None else workflow
    cast = draw(st.lists(agents(), min_size=2, max_size=4, unique_by=lambda a: a.id))
    opener = draw(st.sampled_from([a for a in cast if a.active] or [Agent("opener")]))
    customer = Customer("cust-1")
    crowd: st.SearchStrategy[Actor] = st.sampled_from([*cast, customer, System()])
    case = Case(flow, case_id)
    now = draw(moments())
    history: list[Event] = []
    opening = OpenCase(actor=opener, customer_id=customer.id, channel=Channel.PHONE, summary="hi")
    steps = [
        opening,
        *draw(
            st.lists(
                commands(crowd, agent=st.sampled_from(cast), workflow=flow), max_size=max_commands
            )
        ),
    ]
    for command in steps:
        now += timedelta(seconds=draw(st.integers(min_value=0, max_value=86_400)))
        try:
            events = decide(case, command, now=now)
        except CommandRejected:
            continue
        for event in events:
            case = evolve(case, event)
        history.extend(events)
    return history
