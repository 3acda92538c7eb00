"""Hand-written case histories for the KPI tests: each event at a stated minute."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from servicekit import (
    Agent,
    CaseOpened,
    CaseTransferred,
    Channel,
    Customer,
    Direction,
    Event,
    FeedbackRecorded,
    FeedbackRequested,
    FollowUpCompleted,
    FollowUpDue,
    FollowUpOutcome,
    InteractionRecorded,
    OfferAccepted,
    OfferMade,
    OwnerAssigned,
    Party,
    StageChanged,
    StewardAppointed,
    StoredEvent,
    Survey,
    System,
)
from servicekit.ownership import Actor

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""Minute 0 of every story: Monday 2 March 2026, 09:00 UTC."""

ANA = Agent("ana", teams={"sales"})
BO = Agent("bo", teams={"service"})
CUSTOMER = Customer("cust-1")


class Story:
    """One case's history, written event by event at minutes after `MONDAY`."""

    def __init__(  # noqa: PLR0913 - a story's opening, named
        self,
        case_id: str,
        *,
        minute: float = 0,
        owner: Agent | None = ANA,
        by_customer: bool = True,
        stage: str = "in_service",
        channel: Channel = Channel.EMAIL,
    ) -> None:
        self.case_id = case_id
        self.events: list[Event] = []
        self.stage = stage
        self.owner = owner
        initiated = Party.CUSTOMER if by_customer else Party.COMPANY
        opener: Actor = CUSTOMER if by_customer else (owner or ANA)
        self.add(
            CaseOpened,
            minute,
            opener,
            customer_id=CUSTOMER.id,
            workflow="buying_cycle",
            stage=stage,
            channel=channel,
            initiated_by=initiated,
            summary="help",
        )
        direction = Direction.INBOUND if by_customer else Direction.OUTBOUND
        self.add(
            InteractionRecorded, minute, opener, channel=channel, direction=direction, summary="hi"
        )
        if owner is not None:
            self.add(OwnerAssigned, minute, owner, owner=owner)
            self.add(StewardAppointed, minute, owner, steward=owner)

    def add(self, kind: type[Any], minute: float, actor: Actor, **fields: Any) -> Story:
        at = MONDAY + timedelta(minutes=minute)
        self.events.append(kind(self.case_id, len(self.events) + 1, at, actor, **fields))
        return self

    @property
    def agent(self) -> Agent:
        return self.owner or ANA

    def reply(self, minute: float, agent: Agent | None = None) -> Story:
        return self.add(
            InteractionRecorded,
            minute,
            agent or self.agent,
            channel=Channel.EMAIL,
            direction=Direction.OUTBOUND,
            summary="answer",
        )

    def inbound(self, minute: float) -> Story:
        return self.add(
            InteractionRecorded,
            minute,
            CUSTOMER,
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            summary="more",
        )

    def move(self, minute: float, dest: str, trigger: str = "move") -> Story:
        self.add(StageChanged, minute, self.agent, trigger=trigger, source=self.stage, dest=dest)
        self.stage = dest
        return self

    def transfer(self, minute: float, to: Agent) -> Story:
        self.add(
            CaseTransferred,
            minute,
            self.agent,
            from_owner=self.agent,
            to_owner=to,
            handoff_note="n",
        )
        self.owner = to
        return self

    def sale(self, minute: float, amount: str, currency: str = "EUR") -> Story:
        self.add(
            OfferMade,
            minute,
            self.agent,
            offer_id=1,
            party=Party.COMPANY,
            amount=Decimal(amount),
            currency=currency,
            terms="",
        )
        self.add(OfferAccepted, minute, CUSTOMER, offer_id=1)
        return self.move(minute, "won", "win")

    def follow_up_due(self, minute: float, number: int) -> Story:
        return self.add(FollowUpDue, minute, System(), follow_up_id=number, assignee=self.agent)

    def follow_up_done(self, minute: float, number: int, outcome: FollowUpOutcome) -> Story:
        return self.add(
            FollowUpCompleted, minute, self.agent, follow_up_id=number, outcome=outcome, note=""
        )

    def feedback(self, minute: float, survey: Survey, score: int) -> Story:
        return self.add(FeedbackRecorded, minute, CUSTOMER, survey=survey, score=score, comment="")

    def request(self, minute: float, survey: Survey = Survey.CSAT) -> Story:
        return self.add(FeedbackRequested, minute, System(), survey=survey, channel=Channel.EMAIL)


def stored(*stories: Story) -> list[StoredEvent]:
    """Every story's events in one global order (by time, then case), numbered from 1."""
    events: Iterable[Event] = sorted(
        (event for story in stories for event in story.events),
        key=lambda event: (event.at, event.case_id, event.version),
    )
    return [StoredEvent(position, event) for position, event in enumerate(events, start=1)]
