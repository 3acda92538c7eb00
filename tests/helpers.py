"""Test helpers: a cast of actors and a case that is played forward command by command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from servicekit import (
    AcceptOffer,
    Agent,
    BusinessCalendar,
    Case,
    CaseSummary,
    Channel,
    Command,
    CommandRejected,
    Customer,
    Event,
    MakeOffer,
    Move,
    OpenCase,
    Role,
    System,
    Workflow,
    buying_cycle,
    decide,
    evolve,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NINE_TO_FIVE = BusinessCalendar(
    timezone="UTC", hours={day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
)
"""Business hours Monday to Friday, 09:00-17:00 UTC, the SLA tests' calendar."""

ANA = Agent("ana", teams={"sales"})
BO = Agent("bo", teams={"service"})
CY = Agent("cy", teams={"service"})
SUE = Agent("sue", teams={"service"}, roles={Role.AGENT, Role.SUPERVISOR})
SAL = Agent("sal", teams={"sales"}, roles={Role.SUPERVISOR})
GONE = Agent("gone", teams={"service"}, active=False)
CUSTOMER = Customer("cust-1")
STRANGER = Customer("cust-2")
BOT = System("router")


class Play:
    """A case played forward command by command, keeping its history."""

    def __init__(self, workflow: Workflow, case_id: str = "case-1") -> None:
        self.workflow = workflow
        self.case = Case(workflow, case_id)
        self.history: list[Event] = []
        self.now = START

    def __call__(self, command: Command, *, minutes: int = 10) -> tuple[Event, ...]:
        """Decide `command` ten minutes after the last one and fold its events."""
        self.now += timedelta(minutes=minutes)
        events = decide(self.case, command, now=self.now)
        for event in events:
            self.case = evolve(self.case, event)
        self.history.extend(events)
        return events

    def attempt(self, command: Command) -> tuple[Event, ...]:
        """Decide without folding (to check what would happen, or that it raises)."""
        return decide(self.case, command, now=self.now + timedelta(minutes=1))

    def refused(self, command: Command) -> CommandRejected:
        """The refusal `command` meets (decided as `attempt` does, so nothing changes)."""
        with pytest.raises(CommandRejected) as error:
            self.attempt(command)
        return error.value

    def open(self, actor: Agent | Customer | System = ANA, **options: object) -> Play:
        """Open the case for CUSTOMER on the phone."""
        self(
            OpenCase(
                actor=actor,
                customer_id=CUSTOMER.id,
                channel=Channel.PHONE,
                summary="wants standing desks",
                **options,  # type: ignore[arg-type]
            )
        )
        return self

    def to_stage(self, stage: str, owner: Agent = ANA) -> Play:
        """Drive an agent-opened case along the buying cycle until it reaches `stage`."""
        paths = {
            "enquiry": [],
            "negotiation": ["negotiate"],
            "won": ["negotiate", "$offer", "win"],
            "lost": ["negotiate", "lose"],
            "in_service": ["start_service"],
            "waiting_on_customer": ["start_service", "wait_on_customer"],
            "resolved": ["start_service", "resolve"],
            "follow_up": ["start_service", "resolve", "follow_up"],
        }
        self.open(owner)
        for step in paths[stage]:
            if step == "$offer":
                self(MakeOffer(actor=owner, amount=Decimal("100.00"), currency="EUR"))
                self(AcceptOffer(actor=CUSTOMER, offer_id=len(self.case.offers)))
            else:
                self(Move(actor=owner, trigger=step, reason="because"))
        return self


def appends_of(commands: list[Command]) -> list[tuple[tuple[Event, ...], int, CaseSummary]]:
    """Open case-1 (bo, in service), then `commands`: each append as a store test makes it.

    Each item is the append's events, its expected version and the index entry after
    it; the commands are decided a minute apart from START.
    """
    case, made = Case(buying_cycle(), "case-1"), []
    opening = OpenCase(
        actor=BO, customer_id="c", channel=Channel.WEB, summary="s", stage="in_service"
    )
    for number, command in enumerate([opening, *commands]):
        expected = case.version
        events = decide(case, command, now=START + timedelta(minutes=number))
        for event in events:
            case = evolve(case, event)
        made.append((events, expected, CaseSummary.of(case)))
    return made
