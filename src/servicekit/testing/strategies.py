"""Hypothesis strategies for servicekit's values, commands and histories.

Use them to property-test code built on servicekit: projections, notifiers,
stores, reports. Every strategy draws valid values; `commands` draws commands
that may well be refused (that is the point of testing the rules), and
`histories` keeps only the accepted ones, so its histories fold without error.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

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
    HandOverFollowUp,
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
_TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=40
).filter(str.strip)
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
        st.builds(AcceptOffer, actor=actor, offer_id=numbers, via=st.none() | channels()),
        st.builds(
            RejectOffer,
            actor=actor,
            offer_id=numbers,
            reason=st.just("") | _TEXT,
            via=st.none() | channels(),
        ),
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
        st.builds(HandOverFollowUp, actor=actor, follow_up_id=numbers, to=someone, reason=_TEXT),
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
    """A valid history of one case: commands decided in turn, refusals dropped.

    The case is opened by an agent first, so that later commands have something
    to work on; times advance by random steps from a random start. Most commands
    are drawn to fit the case as it stands (its owner moves it on, the customer
    answers the company's offers, follow-ups are done, timers fire), so that
    histories go deep and reach every event type; the rest are any command at all.
    """
    flow = buying_cycle() if workflow is None else workflow
    cast = draw(st.lists(agents(), min_size=2, max_size=4, unique_by=lambda a: a.id))
    opener = draw(st.sampled_from([a for a in cast if a.active] or [Agent("opener")]))
    customer = Customer("cust-1")
    crowd: st.SearchStrategy[Actor] = st.sampled_from([*cast, customer, System()])
    anything = commands(crowd, agent=st.sampled_from(cast), workflow=flow)
    case = Case(flow, case_id)
    now = draw(moments())
    history: list[Event] = []
    steps = draw(st.integers(min_value=max_commands // 2, max_value=max_commands))
    for step in range(steps + 1):
        if step == 0:
            command: Command = OpenCase(
                actor=opener, customer_id=customer.id, channel=Channel.PHONE, summary="hi"
            )
        elif draw(st.integers(0, 4)) == 0:
            command = draw(anything)
        else:
            command = _fitting(draw, case, cast, customer, now)
        now += timedelta(seconds=draw(st.integers(min_value=0, max_value=86_400)))
        try:
            events = decide(case, command, now=now)
        except CommandRejected:
            continue
        for event in events:
            case = evolve(case, event)
        history.extend(events)
    return history


_T = TypeVar("_T")
_NOTE_TEXTS = ("why", "the customer called back", "on leave")
_PRIORITIES = ("low", "normal", "high", "urgent")
_POLICIES = ("standard", "urgent")
_OUTCOMES = tuple(o for o in FollowUpOutcome if o is not FollowUpOutcome.CANCELLED)
_FITTING = (
    # (kind, weight): moves most often, then everything else a case sees in its life.
    *(["move"] * 4),
    "transfer",
    "steward",
    "schedule",
    "priority",
    "sla",
    "policy",
    "timer",
    "contact",
    "feedback",
    "survey",
    "follow-up",
    "follow-up",
    "hand over",
    "announce",
)


def _pick(draw: st.DrawFn, options: Sequence[_T]) -> _T:
    """One of `options`, drawn cheaply (a history draws hundreds of these)."""
    return options[draw(st.integers(min_value=0, max_value=len(options) - 1))]


def _fitting(  # noqa: C901, PLR0911, PLR0912 - one branch per kind of command reads best
    draw: st.DrawFn, case: Case, cast: list[Agent], customer: Customer, now: datetime
) -> Command:
    """A command likely to be accepted on `case` as it stands."""
    system = System()
    active = [a for a in cast if a.active] or [Agent("stand-in")]
    owner = case.owner
    stage = case.current_stage
    if owner is None or stage is None:
        taker = _pick(draw, active)
        return AssignCase(actor=taker, to=taker)
    steward = case.steward or owner
    company = [o.offer_id for o in case.open_offers if o.party is Party.COMPANY]
    if stage.offers and draw(st.integers(0, 3)) > 0:
        # Bargaining: offers are made and answered before the owner moves on.
        answering = draw(st.booleans())
        if company and answering:
            offer_id = _pick(draw, company)
            if draw(st.booleans()):
                return AcceptOffer(actor=customer, offer_id=offer_id)
            return RejectOffer(actor=customer, offer_id=offer_id)
        amount = Decimal(draw(st.integers(1, 10**6))) / 100
        return MakeOffer(actor=owner, amount=amount, currency="EUR")
    open_follow_ups = case.open_follow_ups
    kind = _pick(draw, _FITTING)
    note = _pick(draw, _NOTE_TEXTS)
    if kind == "move":
        trigger = _pick(draw, case.workflow.triggers(stage.name) or ("reopen",))
        movers: tuple[Actor, ...] = (owner, owner, system)
        actor = _pick(draw, movers)
        return Move(actor=actor, trigger=trigger, reason=_pick(draw, ("why", None)))
    if kind == "transfer":
        return TransferCase(actor=owner, to=_pick(draw, active), handoff_note=note)
    if kind == "steward":
        return ReassignSteward(actor=system, to=_pick(draw, active), reason=note)
    if kind == "schedule":
        return ScheduleFollowUp(actor=steward, due=now + timedelta(days=2), reason=note)
    if kind == "priority":
        return ChangePriority(actor=owner, priority=_pick(draw, _PRIORITIES))
    if kind == "sla":
        return (
            ResumeSla(actor=owner) if case.record.sla_paused else PauseSla(actor=owner, reason=note)
        )
    if kind == "policy":
        return ApplySlaPolicy(
            actor=system, policy=_pick(draw, _POLICIES), version=draw(st.integers(1, 3))
        )
    if kind == "timer":
        clock = _pick(draw, ("first_response", "resolution"))
        timer = _pick(
            draw,
            (
                Timer(TimerKind.WARNING, clock, now, deadline=now + timedelta(hours=1)),
                Timer(TimerKind.BREACH, clock, now),
                Timer(TimerKind.ESCALATION, clock, now, notify=steward, level=1),
                Timer(TimerKind.CLOSE, "close", now),
            ),
        )
        return FireTimers(actor=system, timers=[timer])
    if kind == "contact":
        return RecordInteraction(
            actor=customer, channel=Channel.CHAT, direction=Direction.INBOUND, summary=note
        )
    if kind == "survey":
        return RequestFeedback(actor=owner, survey=Survey.NPS, channel=Channel.EMAIL)
    if kind == "feedback" or not open_follow_ups:
        return RecordFeedback(actor=customer, survey=Survey.CSAT, score=draw(st.integers(1, 5)))
    follow_up = _pick(draw, open_follow_ups)
    number = follow_up.follow_up_id
    if kind == "follow-up":
        return CompleteFollowUp(actor=system, follow_up_id=number, outcome=_pick(draw, _OUTCOMES))
    if kind == "hand over":
        return HandOverFollowUp(
            actor=system, follow_up_id=number, to=_pick(draw, active), reason=note
        )
    announce = Timer(
        TimerKind.FOLLOW_UP,
        f"follow_up:{number}",
        follow_up.due,
        notify=follow_up.assignee,
        follow_up_id=number,
    )
    return FireTimers(actor=system, timers=[announce])
