"""An independent model of one case on the buying cycle: who may do what, and what follows.

Written from the rules in README.md, docs/concepts.md and `buying_cycle()`'s
description, never by calling the code under test (no `decide`, `may_steer`,
`Agent.supervises`, workflow look-ups or guards): the stateful test holds
servicekit to it. The model answers, for a command, either None (refused) or
the names of the event types it causes, in order, and then takes the step.

Where the docs leave a detail open, the model says what it assumes, in a
comment, so that a disagreement can be judged rather than copied.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from servicekit import (
    AcceptOffer,
    Actor,
    Agent,
    ApplySlaPolicy,
    AssignCase,
    ChangePriority,
    Command,
    CompleteFollowUp,
    Customer,
    Direction,
    FireTimers,
    FollowUpOutcome,
    HandOverFollowUp,
    MakeOffer,
    Move,
    OpenCase,
    Party,
    PauseSla,
    ReassignSteward,
    RecordFeedback,
    RecordInteraction,
    RejectOffer,
    RequestFeedback,
    ResumeSla,
    Role,
    ScheduleFollowUp,
    System,
    TimerKind,
    TransferCase,
)

# The buying cycle as its description gives it: (stage, trigger) -> destination.
ROUTES: dict[tuple[str, str], str] = {
    ("enquiry", "negotiate"): "negotiation",
    ("enquiry", "start_service"): "in_service",
    ("won", "start_service"): "in_service",
    ("enquiry", "close"): "closed",
    ("lost", "close"): "closed",
    ("won", "close"): "closed",
    ("resolved", "close"): "closed",
    ("follow_up", "close"): "closed",
    ("negotiation", "win"): "won",
    ("negotiation", "lose"): "lost",
    ("in_service", "wait_on_customer"): "waiting_on_customer",
    ("waiting_on_customer", "resume"): "in_service",
    ("in_service", "resolve"): "resolved",
    ("waiting_on_customer", "resolve"): "resolved",
    ("resolved", "reopen"): "in_service",
    ("follow_up", "reopen"): "in_service",
    ("won", "follow_up"): "follow_up",
    ("lost", "follow_up"): "follow_up",
    ("resolved", "follow_up"): "follow_up",
}
STAGES = (
    "enquiry",
    "negotiation",
    "won",
    "lost",
    "in_service",
    "waiting_on_customer",
    "resolved",
    "follow_up",
    "closed",
)
NEEDS_REASON = {("enquiry", "close"), ("negotiation", "lose")}
NEEDS_ACCEPTED_OFFER = {("negotiation", "win")}
BY_CUSTOMER = {"reopen"}
INTAKE = {"enquiry"}
FINAL = {"closed"}
OFFERS = {"negotiation"}
FOLLOW_UP_ON_ENTRY = {"won", "lost", "resolved"}
NO_ANSWER_ATTEMPTS = 3
REOPEN_WINDOW = timedelta(days=7)  # every day counts in the default follow-up rules


def triggers(stage: str) -> list[str]:
    """The triggers that leave `stage`, from the table above."""
    return sorted({trigger for (source, trigger) in ROUTES if source == stage})


def supervises(actor: Actor, agent: Agent) -> bool:
    """An active supervisor who shares a team with `agent` (docs: "of the owner's team")."""
    return (
        isinstance(actor, Agent)
        and actor.active
        and Role.SUPERVISOR in actor.roles
        and bool(actor.teams & agent.teams)
    )


@dataclass
class FollowUpModel:
    """What the model keeps of a follow-up."""

    follow_up_id: int
    assignee: Agent
    attempt: int = 1
    open: bool = True
    notified: bool = False


@dataclass
class CaseModel:
    """The model's case: where it stands and what is open."""

    customer_id: str
    stage: str | None = None
    owner: Agent | None = None
    steward: Agent | None = None
    offers: list[tuple[Party, str]] = field(default_factory=list)  # (party, status)
    follow_ups: list[FollowUpModel] = field(default_factory=list)
    sla_paused: bool = False
    priority: str = "normal"
    sla_policy: tuple[str, int] | None = None
    closed_at: datetime | None = None

    @property
    def open_follow_ups(self) -> list[FollowUpModel]:
        """The follow-ups not done yet."""
        return [f for f in self.follow_ups if f.open]

    def steers(self, actor: Actor) -> bool:
        """The owner, a supervisor of the owner's team, or the system (docs: Ownership)."""
        if isinstance(actor, System):
            return True
        owner = self.owner
        return (
            owner is not None
            and isinstance(actor, Agent)
            and actor.active
            and (actor.id == owner.id or supervises(actor, owner))
        )

    def step(self, command: Command, now: datetime) -> list[str] | None:
        """The event types `command` causes at `now`, taking the step; None if refused."""
        trial = copy.deepcopy(self)
        events = trial.decide(command, now)
        if events is not None:
            self.__dict__.update(trial.__dict__)
        return events

    # -- the rules ------------------------------------------------------------------

    def decide(self, command: Command, now: datetime) -> list[str] | None:  # noqa: PLR0911 - one refusal per rule
        """The rules, changing this (trial) model as the events would."""
        actor = command.actor
        if isinstance(command, OpenCase):
            return self.open(command)
        if self.stage is None:
            return None
        if isinstance(actor, Agent) and not actor.active:
            return None  # an inactive agent does nothing
        if isinstance(actor, Customer) and actor.id != self.customer_id:
            return None  # another customer does nothing
        if self.stage in FINAL:
            if isinstance(command, Move) and command.trigger == "reopen":
                return self.reopen_finished(command, now)
            if not isinstance(command, (RecordInteraction, RecordFeedback)):
                return None
        handler = getattr(self, type(command).__name__)
        events: list[str] | None = handler(command, now)
        return events

    def open(self, command: OpenCase) -> list[str] | None:  # noqa: C901, PLR0911 - one refusal per rule
        """Customers open their own inbound cases; an agent who opens a case owns it."""
        if self.stage is not None:
            return None
        actor = command.actor
        stage = command.stage or "enquiry"
        if stage not in {"enquiry", "in_service"}:
            return None
        if isinstance(actor, Agent) and not actor.active:
            return None
        owner = command.owner
        if isinstance(actor, Customer):
            if actor.id != command.customer_id or command.direction is not Direction.INBOUND:
                return None
            if owner is not None:
                return None
        elif isinstance(actor, Agent):
            if owner is None:
                owner = actor
            elif owner.id != actor.id and not supervises(actor, owner):
                return None
        if owner is not None and not owner.active:
            return None
        if owner is None and stage not in INTAKE:
            return None
        self.customer_id = command.customer_id
        self.stage = stage
        self.priority = command.priority
        events = ["CaseOpened", "InteractionRecorded"]
        if owner is not None:
            self.owner = self.steward = owner
            events += ["OwnerAssigned", "StewardAppointed"]
        return events

    def schedule_for_steward(self) -> str:
        assert self.steward is not None
        self.follow_ups.append(FollowUpModel(len(self.follow_ups) + 1, self.steward))
        return "FollowUpScheduled"

    def enter(self, dest: str, now: datetime) -> list[str]:
        """The stage change, and the steward's follow-up where the stage asks for one."""
        self.stage = dest
        self.closed_at = now if dest in FINAL else None
        events = ["StageChanged"]
        if dest in FOLLOW_UP_ON_ENTRY:
            events.append(self.schedule_for_steward())
        return events

    def reopen_finished(self, command: Move, now: datetime) -> list[str] | None:
        """The customer or whoever steers reopens a closed case within the window."""
        if not isinstance(command.actor, Customer) and not self.steers(command.actor):
            return None
        if self.closed_at is None or now > self.closed_at + REOPEN_WINDOW:
            return None
        if self.owner is None:
            return None  # past intake, an open case always has an owner
        return self.enter("in_service", now)

    def AssignCase(self, command: AssignCase, _now: datetime) -> list[str] | None:  # noqa: N802
        """An unowned case is taken by an agent, or routed by a supervisor or the system."""
        actor, agent = command.actor, command.to
        if self.owner is not None or not agent.active:
            return None
        taking = isinstance(actor, Agent) and actor.id == agent.id
        if not (taking or isinstance(actor, System) or supervises(actor, agent)):
            return None
        self.owner = agent
        if self.steward is None:
            self.steward = agent
            return ["OwnerAssigned", "StewardAppointed"]
        return ["OwnerAssigned"]

    def TransferCase(self, command: TransferCase, _now: datetime) -> list[str] | None:  # noqa: N802
        """Whoever steers hands the case to another active agent with a note."""
        owner = self.owner
        if owner is None or not self.steers(command.actor) or not command.to.active:
            return None
        if command.to.id == owner.id or not command.handoff_note.strip():
            return None
        self.owner = command.to
        return ["CaseTransferred", self.schedule_for_steward()]

    def ReassignSteward(self, command: ReassignSteward, _now: datetime) -> list[str] | None:  # noqa: N802
        """A supervisor of the steward's team or the system hands the stewardship on."""
        steward, actor = self.steward, command.actor
        if steward is None or not (isinstance(actor, System) or supervises(actor, steward)):
            return None
        if not command.to.active or command.to.id == steward.id:
            return None
        for follow_up in self.open_follow_ups:  # the steward's open follow-ups go with it
            if follow_up.assignee.id == steward.id:
                follow_up.assignee = command.to
        self.steward = command.to
        return ["StewardReassigned"]

    def Move(self, command: Move, now: datetime) -> list[str] | None:  # noqa: N802, C901, PLR0911 - one refusal per rule
        """A move of the workflow by whoever steers (the customer: only reopen)."""
        assert self.stage is not None
        dest = ROUTES.get((self.stage, command.trigger))
        if dest is None:
            return None
        actor = command.actor
        if isinstance(actor, Customer):
            if command.trigger not in BY_CUSTOMER:
                return None
        elif self.owner is None or not self.steers(actor):
            return None
        if self.owner is None and dest not in INTAKE:
            return None
        route = (self.stage, command.trigger)
        if route in NEEDS_REASON and command.reason is None:
            return None
        if route in NEEDS_ACCEPTED_OFFER and not any(s == "accepted" for _, s in self.offers):
            return None
        events: list[str] = []
        if dest in FINAL and self.open_follow_ups:
            # Only a supervisor of the owner's team closes over open follow-ups, with a reason.
            if self.owner is None or not supervises(actor, self.owner) or command.reason is None:
                return None
            for follow_up in self.open_follow_ups:
                follow_up.open = False
                events.append("FollowUpCompleted")
        return events + self.enter(dest, now)

    def RecordInteraction(self, command: RecordInteraction, _now: datetime) -> list[str] | None:  # noqa: N802
        """Anyone on the case records a contact; a customer's contact is inbound."""
        if isinstance(command.actor, Customer) and command.direction is not Direction.INBOUND:
            return None
        return ["InteractionRecorded"]

    def RecordFeedback(self, command: RecordFeedback, _now: datetime) -> list[str] | None:  # noqa: N802
        """Feedback is the customer's, recorded by them or an agent; never by the system."""
        return None if isinstance(command.actor, System) else ["FeedbackRecorded"]

    def RequestFeedback(self, command: RequestFeedback, _now: datetime) -> list[str] | None:  # noqa: N802
        """The company asks for feedback: whoever steers records the request."""
        if self.owner is None or not self.steers(command.actor):
            return None
        return ["FeedbackRequested"]

    def HandOverFollowUp(self, command: HandOverFollowUp, _now: datetime) -> list[str] | None:  # noqa: N802
        """The assignee, the steward, a supervisor of theirs or the system hands a follow-up on."""
        if not 1 <= command.follow_up_id <= len(self.follow_ups):
            return None
        follow_up = self.follow_ups[command.follow_up_id - 1]
        actor, assignee, steward = command.actor, follow_up.assignee, self.steward
        if not follow_up.open:
            return None
        if not (
            isinstance(actor, System)
            or (isinstance(actor, Agent) and actor.id == assignee.id)
            or (isinstance(actor, Agent) and steward is not None and actor.id == steward.id)
            or supervises(actor, assignee)
        ):
            return None
        if command.to.id == assignee.id or not command.to.active:
            return None
        follow_up.assignee = command.to
        return ["FollowUpHandedOver"]

    def MakeOffer(self, command: MakeOffer, _now: datetime) -> list[str] | None:  # noqa: N802
        """Offers are made while bargaining by a person who steers: never the customer or system."""
        if self.stage not in OFFERS or isinstance(command.actor, Customer | System):
            return None
        if not self.steers(command.actor):
            return None
        self.offers = [(p, "superseded" if s == "open" else s) for p, s in self.offers]
        self.offers.append((command.party, "open"))
        return ["OfferMade"]

    def answer(self, command: AcceptOffer | RejectOffer, status: str) -> bool:  # noqa: PLR0911 - one refusal per rule
        """The other side answers an open offer.

        The company's offers are the customer's: the customer answers, or someone
        who steers records the answer the customer gave on a named channel. The
        customer's offers are answered by a person who steers. The system answers none.
        """
        actor, offer_id = command.actor, command.offer_id
        if self.stage not in OFFERS or not 1 <= offer_id <= len(self.offers):
            return False
        party, current = self.offers[offer_id - 1]
        if current != "open":
            return False
        if isinstance(actor, System):
            return False
        if party is Party.CUSTOMER:
            if isinstance(actor, Customer) or command.via is not None:
                return False
            if not self.steers(actor):
                return False
        elif not isinstance(actor, Customer) and (
            isinstance(actor, System) or command.via is None or not self.steers(actor)
        ):
            return False
        self.offers[offer_id - 1] = (party, status)
        return True

    def AcceptOffer(self, command: AcceptOffer, _now: datetime) -> list[str] | None:  # noqa: N802
        """An open offer is accepted by the other side."""
        return ["OfferAccepted"] if self.answer(command, "accepted") else None

    def RejectOffer(self, command: RejectOffer, _now: datetime) -> list[str] | None:  # noqa: N802
        """An open offer is rejected by the other side."""
        return ["OfferRejected"] if self.answer(command, "rejected") else None

    def ScheduleFollowUp(self, command: ScheduleFollowUp, _now: datetime) -> list[str] | None:  # noqa: N802
        """The steward or whoever steers schedules a follow-up for an active agent."""
        actor = command.actor
        is_steward = (
            isinstance(actor, Agent) and self.steward is not None and actor.id == self.steward.id
        )
        if not is_steward and (self.owner is None or not self.steers(actor)):
            return None
        assignee = command.assignee or self.steward
        if assignee is None or not assignee.active:
            return None
        self.follow_ups.append(FollowUpModel(len(self.follow_ups) + 1, assignee))
        return ["FollowUpScheduled"]

    def CompleteFollowUp(self, command: CompleteFollowUp, now: datetime) -> list[str] | None:  # noqa: N802
        """The assignee, their supervisor or the system records the outcome; it may move the case.

        Not served reopens the case; no answer tries again until the last attempt,
        which closes the case if no other follow-up is open.
        """
        if not 1 <= command.follow_up_id <= len(self.follow_ups):
            return None
        follow_up = self.follow_ups[command.follow_up_id - 1]
        if not follow_up.open or command.outcome is FollowUpOutcome.CANCELLED:
            return None
        actor, assignee = command.actor, follow_up.assignee
        if not (
            isinstance(actor, System)
            or (isinstance(actor, Agent) and actor.id == assignee.id)
            or supervises(actor, assignee)
        ):
            return None
        follow_up.open = False
        events = ["FollowUpCompleted"]
        assert self.stage is not None
        if command.outcome is FollowUpOutcome.NOT_SERVED:
            dest = ROUTES.get((self.stage, "reopen"))
            if dest is not None and dest not in FINAL:
                events += self.enter(dest, now)
        elif command.outcome is FollowUpOutcome.NO_ANSWER:
            if follow_up.attempt < NO_ANSWER_ATTEMPTS:
                self.follow_ups.append(
                    FollowUpModel(len(self.follow_ups) + 1, assignee, follow_up.attempt + 1)
                )
                events.append("FollowUpScheduled")
            elif not self.open_follow_ups:
                events += self.close_by_rule(now)
        return events

    def close_by_rule(self, now: datetime) -> list[str]:
        """The follow-up rules close the case where the stage has a close move (with a reason)."""
        assert self.stage is not None
        dest = ROUTES.get((self.stage, "close"))
        return self.enter(dest, now) if dest is not None and dest in FINAL else []

    def ChangePriority(self, command: ChangePriority, _now: datetime) -> list[str] | None:  # noqa: N802
        """Whoever steers changes the priority to a new one."""
        if self.owner is None or not self.steers(command.actor):
            return None
        if command.priority == self.priority:
            return None
        self.priority = command.priority
        return ["PriorityChanged"]

    def PauseSla(self, command: PauseSla, _now: datetime) -> list[str] | None:  # noqa: N802
        """Whoever steers pauses running SLA clocks."""
        if self.owner is None or not self.steers(command.actor) or self.sla_paused:
            return None
        self.sla_paused = True
        return ["SlaPaused"]

    def ResumeSla(self, command: ResumeSla, _now: datetime) -> list[str] | None:  # noqa: N802
        """Whoever steers resumes paused SLA clocks."""
        if self.owner is None or not self.steers(command.actor) or not self.sla_paused:
            return None
        self.sla_paused = False
        return ["SlaResumed"]

    def ApplySlaPolicy(self, command: ApplySlaPolicy, _now: datetime) -> list[str] | None:  # noqa: N802
        """Only the system records which SLA policy applies, and only a change."""
        if not isinstance(command.actor, System):
            return None
        if self.sla_policy == (command.policy, command.version):
            return None
        self.sla_policy = (command.policy, command.version)
        return ["SlaPolicyApplied"]

    def FireTimers(self, command: FireTimers, now: datetime) -> list[str] | None:  # noqa: N802, C901 - one branch per timer kind
        """Only the system fires timers.

        A due follow-up is announced once, while open; a close timer closes a served
        case. Assumed: every timer of one command is judged on the case as it was
        before the command (they fell due together).
        """
        if not isinstance(command.actor, System):
            return None
        before = copy.deepcopy(self)
        events: list[str] = []
        breaching = {t.clock for t in command.timers if t.kind is TimerKind.BREACH}
        for timer in command.timers:
            if timer.kind is TimerKind.WARNING:
                if timer.clock not in breaching:  # a late warning goes with its breach
                    events.append("SlaWarned")
            elif timer.kind is TimerKind.BREACH:
                events.append("SlaBreached")
            elif timer.kind is TimerKind.ESCALATION:
                events.append("SlaEscalated")
            elif timer.kind is TimerKind.FOLLOW_UP:
                waiting = [f for f in before.open_follow_ups if not f.notified]
                if timer.follow_up_id not in [f.follow_up_id for f in waiting]:
                    return None
                self.follow_ups[timer.follow_up_id - 1].notified = True
                events.append("FollowUpDue")
            else:  # closing a served case: a case with an open follow-up is never closed
                if before.open_follow_ups:
                    return None
                closing = copy.deepcopy(before).close_by_rule(now)
                if not closing:
                    return None
                self.enter("closed", now)
                events += closing
        return events
