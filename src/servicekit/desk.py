"""The service desk: the application service a host application calls all day.

`ServiceDesk` loads a case from its store, decides a command against it with the
pure core, and appends the events with the version it loaded. If someone else
appended first, it reloads and decides again (a bounded number of times). It is
the only place in servicekit that reads a clock.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TypeAlias

import attrs

from servicekit._values import require, utc
from servicekit.case import Case, Feedback, Handoff, evolve
from servicekit.clock import Clock, SystemClock
from servicekit.commands import (
    AcceptOffer,
    ApplySlaPolicy,
    AssignCase,
    Command,
    CompleteFollowUp,
    FireTimers,
    MakeOffer,
    Move,
    OpenCase,
    ReassignSteward,
    RecordFeedback,
    RecordInteraction,
    RejectOffer,
    ScheduleFollowUp,
    TransferCase,
)
from servicekit.decisions import decide
from servicekit.errors import (
    AgentStillResponsible,
    CaseNotFound,
    CommandRejected,
    ConcurrencyConflict,
    IdempotencyConflict,
    InvalidValue,
    UnknownAgent,
)
from servicekit.events import Event
from servicekit.followups import FollowUp, FollowUpOutcome
from servicekit.interactions import Channel, Direction, Interaction, Party
from servicekit.offers import Offer
from servicekit.ownership import Actor, Agent, Customer, Role, System
from servicekit.sla import Facts, PolicySet, SlaReport, assess
from servicekit.stores.base import CaseSummary, IdempotencyRecord, Store
from servicekit.stores.memory import InMemoryStore
from servicekit.timers import Timer, TimerKind
from servicekit.workflow import StatusCategory, Workflow

__all__ = ["ActorRef", "AgentRef", "Briefing", "Outcome", "ServiceDesk"]

_SLA = System("sla")
"""The actor that records which SLA policy applies."""

_MAX_ROUNDS = 8
"""How many rounds of timers `tick` fires on one case at most (breach, then escalations)."""

ActorRef: TypeAlias = Agent | Customer | System | str
"""Who acts: an `Agent`, `Customer` or `System`, or a registered agent's id."""

AgentRef: TypeAlias = Agent | str
"""A registered agent, as a value or by id; the desk's directory is the authority."""


@attrs.frozen
class Outcome:
    """What a command did: the case after it and the events it appended.

    `duplicate` is true when the command was a retry under an idempotency key
    already used: then nothing was appended, and `case` and `events` are those of
    the first time.
    """

    case: Case
    events: tuple[Event, ...]
    duplicate: bool = False


@attrs.frozen
class Briefing:
    """Everything an agent needs to take over a case without the customer repeating themselves.

    `interactions` covers every case of the customer, on every channel and in both
    directions, oldest first, each with the id of its case. `other_cases` are the
    customer's other cases, earlier or later.
    """

    case: Case
    other_cases: tuple[CaseSummary, ...]
    interactions: tuple[tuple[str, Interaction], ...]
    handoffs: tuple[Handoff, ...]
    accepted_offer: Offer | None
    open_offers: tuple[Offer, ...]
    open_follow_ups: tuple[FollowUp, ...]
    feedback: tuple[Feedback, ...]

    def __str__(self) -> str:
        """The briefing as text, ready to show an agent."""
        case = self.case
        heading = (
            f"Case {case.case_id} for customer {case.customer_id}: {case.stage} "
            f"(owner {_name(case.owner)}, steward {_name(case.steward)})"
        )
        lines = [heading]
        if self.other_cases:
            lines.append("Other cases of this customer:")
            lines += [
                f"  {s.case_id}: {s.stage}, owner {s.owner_id or 'nobody yet'}"
                for s in self.other_cases
            ]
        lines.append("Every contact with the customer, on every channel:")
        lines += [
            f"  {i.at:%Y-%m-%d %H:%M}Z [{case_id}] {i.direction.value} {i.channel}, "
            f"recorded by {i.actor}: {i.summary}"
            for case_id, i in self.interactions
        ]
        if self.handoffs:
            lines.append("Handoff notes:")
            lines += [
                f"  {h.at:%Y-%m-%d %H:%M}Z {h.from_owner.id} -> {h.to_owner.id}: {h.note}"
                for h in self.handoffs
            ]
        if self.accepted_offer is not None:
            lines.append(f"The deal: {self.accepted_offer}")
        if self.open_offers:
            lines.append("Open offers:")
            lines += [f"  {offer}" for offer in self.open_offers]
        if self.open_follow_ups:
            lines.append("Open follow-ups:")
            lines += [
                f"  {f.follow_up_id}. {f.reason} ({f.assignee.id}, due {f.due:%Y-%m-%d %H:%M}Z)"
                for f in self.open_follow_ups
            ]
        if self.feedback:
            lines.append("Feedback:")
            lines += [f"  {f.rating}/5 {f.comment}".rstrip() for f in self.feedback]
        return "\n".join(lines)


def _name(agent: Agent | None) -> str:
    return "nobody yet" if agent is None else agent.id


class ServiceDesk:
    """Runs cases on one workflow against one store, with one clock.

    Every operation takes the acting actor and returns an `Outcome`; an operation
    that is refused raises the domain's precise error and stores nothing.

    Args:
        workflow: the workflow every case of this desk follows.
        store: where cases, the index and the agent directory live
            (an `InMemoryStore` by default).
        clock: where the time comes from (`SystemClock` by default).
        sla: the SLA policies in force, if any: then `sla` reports on a case,
            every append records when the case's next timer falls due, and
            `tick` fires the timers that have.
        max_attempts: how often a command is decided again after losing a race
            with a concurrent writer before `ConcurrencyConflict` is raised.
        cache_size: how many folded cases are kept in memory, so that a command
            on a busy case folds only the events it has not seen.
    """

    def __init__(  # noqa: PLR0913 - every option is keyword-only and has a default
        self,
        *,
        workflow: Workflow,
        store: Store | None = None,
        clock: Clock | None = None,
        sla: PolicySet | None = None,
        max_attempts: int = 5,
        cache_size: int = 10_000,
    ) -> None:
        """Set the desk up; nothing is read or written yet."""
        require(workflow, Workflow, "workflow must be a Workflow")
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            msg = f"max_attempts must be a whole number from 1, got {max_attempts!r}"
            raise InvalidValue(msg)
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            msg = f"cache_size must be a whole number from 0, got {cache_size!r}"
            raise InvalidValue(msg)
        self.workflow = workflow
        self.store: Store = InMemoryStore() if store is None else store
        self.clock: Clock = SystemClock() if clock is None else clock
        if sla is not None:
            require(sla, PolicySet, "sla must be a PolicySet")
        self.sla_policies = sla
        self.max_attempts = max_attempts
        self._cache_size = cache_size
        self._cache: OrderedDict[str, Case] = OrderedDict()
        self._cache_lock = threading.Lock()

    def __repr__(self) -> str:
        """Name the workflow and the store."""
        return f"<ServiceDesk on {self.workflow.name!r} with {self.store!r}>"

    # -- the agent directory ------------------------------------------------------------

    def register_agent(self, agent: Agent) -> Agent:
        """Add an agent to the directory, or update one (teams, roles); returns it."""
        require(agent, Agent, "register_agent takes an Agent")
        self.store.put_agent(agent)
        return agent

    def agent(self, agent_id: str) -> Agent:
        """The registered agent with this id; `UnknownAgent` if there is none."""
        agent = self.store.get_agent(agent_id)
        if agent is None:
            raise UnknownAgent(agent_id)
        return agent

    def agents(self) -> list[Agent]:
        """Every registered agent, ordered by id."""
        return self.store.agents()

    def blocking_cases(self, agent_id: str) -> list[CaseSummary]:
        """Unfinished cases the agent owns or stewards: what keeps them from leaving."""
        self.agent(agent_id)
        found = {
            summary.case_id: summary
            for summary in [
                *self.store.find_cases(owner=agent_id),
                *self.store.find_cases(steward=agent_id),
            ]
            if not summary.finished
        }
        return sorted(found.values(), key=lambda s: (s.opened_at, s.case_id))

    def deactivate_agent(self, agent_id: str) -> Agent:
        """Mark the agent inactive, once none of their unfinished cases needs them.

        Raises:
            AgentStillResponsible: naming every unfinished case the agent still
                owns or stewards; transfer them and reassign their stewardship first.
        """
        agent = self.agent(agent_id)
        blocking = self.blocking_cases(agent_id)
        if blocking:
            raise AgentStillResponsible(agent_id, [summary.case_id for summary in blocking])
        inactive = attrs.evolve(agent, active=False)
        self.store.put_agent(inactive)
        # A transfer to the agent may have landed between the check and the write:
        # look again, and undo the deactivation if one did.
        late = self.blocking_cases(agent_id)
        if late:
            self.store.put_agent(agent)
            raise AgentStillResponsible(agent_id, [summary.case_id for summary in late])
        return inactive

    # -- queries ----------------------------------------------------------------------

    def case(self, case_id: str) -> Case:
        """The case as it stands now; `CaseNotFound` if it does not exist."""
        case = self._load(case_id)
        if not case.is_opened:
            raise CaseNotFound(case_id)
        self._remember(case)
        return case

    def history(self, case_id: str) -> tuple[Event, ...]:
        """Every event of the case, oldest first; `CaseNotFound` if it does not exist."""
        events = self.store.load(case_id).events
        if not events:
            raise CaseNotFound(case_id)
        return events

    def cases_owned_by(self, agent_id: str, *, include_finished: bool = False) -> list[CaseSummary]:
        """The agent's queue: the cases they own (unfinished ones unless asked otherwise)."""
        return _unfinished(self.store.find_cases(owner=agent_id), include_finished)

    def cases_stewarded_by(
        self, agent_id: str, *, include_finished: bool = False
    ) -> list[CaseSummary]:
        """The cases the agent is steward of (unfinished ones unless asked otherwise)."""
        return _unfinished(self.store.find_cases(steward=agent_id), include_finished)

    def cases(self) -> list[CaseSummary]:
        """Every case, finished or not, oldest first (a scan: prefer the queries below)."""
        return self.store.find_cases()

    def unowned_cases(self) -> list[CaseSummary]:
        """Cases waiting in intake for an owner, oldest first: what agents take next."""
        waiting = [
            summary
            for stage in self.workflow.stages
            if stage.is_intake
            for summary in self.store.find_cases(stage=stage.name)
            if summary.owner_id is None
        ]
        return sorted(waiting, key=lambda s: (s.opened_at, s.case_id))

    def cases_of_customer(self, customer_id: str) -> list[CaseSummary]:
        """Every case of the customer, finished or not, oldest first."""
        return self.store.find_cases(customer=customer_id)

    def cases_in_stage(self, stage: str) -> list[CaseSummary]:
        """Every case in the stage, oldest first."""
        self.workflow.stage(stage)
        return self.store.find_cases(stage=stage)

    def cases_needing_reassignment(self) -> list[CaseSummary]:
        """Unfinished cases whose owner or steward is inactive."""
        found: dict[str, CaseSummary] = {}
        for agent in self.store.agents():
            if not agent.active:
                for summary in self.blocking_cases(agent.id):
                    found[summary.case_id] = summary
        return sorted(found.values(), key=lambda s: (s.opened_at, s.case_id))

    def briefing(self, case_id: str) -> Briefing:
        """What a receiving agent reads so that the customer never has to repeat themselves."""
        case = self.case(case_id)
        assert case.customer_id is not None  # noqa: S101 - an opened case has a customer
        others = [s for s in self.cases_of_customer(case.customer_id) if s.case_id != case_id]
        interactions = [(case_id, interaction) for interaction in case.interactions]
        for summary in others:
            interactions += [(summary.case_id, i) for i in self.case(summary.case_id).interactions]
        interactions.sort(key=lambda pair: pair[1].at)
        return Briefing(
            case=case,
            other_cases=tuple(others),
            interactions=tuple(interactions),
            handoffs=case.handoffs,
            accepted_offer=case.accepted_offer,
            open_offers=case.open_offers,
            open_follow_ups=case.open_follow_ups,
            feedback=case.feedback,
        )

    # -- commands -----------------------------------------------------------------------

    def execute(self, case_id: str, command: Command) -> Outcome:
        """Decide `command` on the case and append its events, retrying lost races.

        Every named operation of the desk comes here. Use it directly for commands
        built elsewhere (a queue, a custom workflow's moves).

        Raises:
            CommandRejected: the domain refused the command (nothing stored).
            IdempotencyConflict: the command's key was used for another command.
            ConcurrencyConflict: every attempt lost the race with another writer.
        """
        key = command.idempotency_key
        fingerprint = _fingerprint(case_id, command) if key is not None else ""
        conflict: ConcurrencyConflict | None = None
        for attempt in range(self.max_attempts):
            if key is not None:
                first = self.store.idempotency(key)
                if first is not None:
                    return self._first_result(first, fingerprint)
            case, events = self._decide(case_id, command, trust_cache=attempt == 0)
            after = _fold(case, events)
            applied = self._policy_events(after, events[-1].at)
            events, after = (*events, *applied), _fold(after, applied)
            record = (
                None
                if key is None
                else IdempotencyRecord(key, case_id, fingerprint, case.version + 1, after.version)
            )
            try:
                self._append(case, events, after, idempotency=record)
            except ConcurrencyConflict as lost:
                conflict = lost
                continue
            return Outcome(after, events)
        assert conflict is not None  # noqa: S101 - the loop ran at least once
        raise ConcurrencyConflict(
            case_id,
            conflict.expected,
            conflict.actual,
            detail=(
                f"gave up after {self.max_attempts} attempts, each overtaken by another "
                "writer; try again later"
            ),
        ) from conflict

    def open_case(  # noqa: PLR0913 - the options of opening a case, all keyword-only
        self,
        *,
        actor: ActorRef,
        customer_id: str,
        channel: Channel,
        summary: str,
        direction: Direction = Direction.INBOUND,
        stage: str | None = None,
        owner: AgentRef | None = None,
        case_id: str | None = None,
        priority: str = "normal",
        tier: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Open a case (a new id unless `case_id` is given); see `OpenCase`."""
        command = OpenCase(
            actor=self._actor(actor),
            customer_id=customer_id,
            channel=channel,
            summary=summary,
            direction=direction,
            stage=stage,
            owner=None if owner is None else self._agent(owner),
            priority=priority,
            tier=tier,
            idempotency_key=idempotency_key,
        )
        if case_id is None:
            # A retry must name the same case: derive it from the key when there is one.
            case_id = uuid.uuid4().hex if idempotency_key is None else _case_id_for(idempotency_key)
        return self.execute(case_id, command)

    def take(self, case_id: str, *, actor: AgentRef, idempotency_key: str | None = None) -> Outcome:
        """An agent takes an unowned case: they own it at once."""
        agent = self._agent(actor)
        return self.execute(
            case_id, AssignCase(actor=agent, to=agent, idempotency_key=idempotency_key)
        )

    def assign(
        self, case_id: str, *, actor: ActorRef, to: AgentRef, idempotency_key: str | None = None
    ) -> Outcome:
        """A supervisor or the system routes an unowned case to an agent."""
        command = AssignCase(
            actor=self._actor(actor), to=self._agent(to), idempotency_key=idempotency_key
        )
        return self.execute(case_id, command)

    def transfer(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        to: AgentRef,
        handoff_note: str,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Hand the case to another agent with a handoff note; the steward follows up."""
        command = TransferCase(
            actor=self._actor(actor),
            to=self._agent(to),
            handoff_note=handoff_note,
            idempotency_key=idempotency_key,
        )
        return self.execute(case_id, command)

    def reassign_steward(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        to: AgentRef,
        reason: str,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Make another agent the steward (a supervisor or the system, giving a reason)."""
        command = ReassignSteward(
            actor=self._actor(actor),
            to=self._agent(to),
            reason=reason,
            idempotency_key=idempotency_key,
        )
        return self.execute(case_id, command)

    def move(
        self,
        case_id: str,
        trigger: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Fire a workflow trigger; the named operations below are the buying cycle's."""
        command = Move(
            actor=self._actor(actor),
            trigger=trigger,
            reason=reason,
            idempotency_key=idempotency_key,
        )
        return self.execute(case_id, command)

    def negotiate(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Start bargaining on an enquiry."""
        return self.move(
            case_id, "negotiate", actor=actor, reason=reason, idempotency_key=idempotency_key
        )

    def win(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Make the sale (needs an accepted offer)."""
        return self.move(
            case_id, "win", actor=actor, reason=reason, idempotency_key=idempotency_key
        )

    def lose(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Record a lost sale, with the reason."""
        return self.move(
            case_id, "lose", actor=actor, reason=reason, idempotency_key=idempotency_key
        )

    def start_service(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Hand an enquiry or a won sale over to after-sales service."""
        return self.move(
            case_id, "start_service", actor=actor, reason=reason, idempotency_key=idempotency_key
        )

    def wait_on_customer(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Service waits for the customer's answer."""
        return self.move(
            case_id, "wait_on_customer", actor=actor, reason=reason, idempotency_key=idempotency_key
        )

    def resume(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The customer answered: service goes on."""
        return self.move(
            case_id, "resume", actor=actor, reason=reason, idempotency_key=idempotency_key
        )

    def resolve(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The customer's problem is solved."""
        return self.move(
            case_id, "resolve", actor=actor, reason=reason, idempotency_key=idempotency_key
        )

    def reopen(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The problem is back (the customer may do this too)."""
        return self.move(
            case_id, "reopen", actor=actor, reason=reason, idempotency_key=idempotency_key
        )

    def start_follow_up(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Move to the follow-up stage: the steward confirms the customer was served."""
        return self.move(
            case_id, "follow_up", actor=actor, reason=reason, idempotency_key=idempotency_key
        )

    def close(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Finish the case (a supervisor may give a reason to waive open follow-ups)."""
        return self.move(
            case_id, "close", actor=actor, reason=reason, idempotency_key=idempotency_key
        )

    def record_interaction(  # noqa: PLR0913 - the parts of a contact, all keyword-only
        self,
        case_id: str,
        *,
        actor: ActorRef,
        channel: Channel,
        direction: Direction,
        summary: str,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Record a contact on any channel."""
        command = RecordInteraction(
            actor=self._actor(actor),
            channel=channel,
            direction=direction,
            summary=summary,
            idempotency_key=idempotency_key,
        )
        return self.execute(case_id, command)

    def make_offer(  # noqa: PLR0913 - the parts of an offer, all keyword-only
        self,
        case_id: str,
        *,
        actor: ActorRef,
        amount: Decimal,
        currency: str,
        party: Party = Party.COMPANY,
        terms: str = "",
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Make an offer, or record the customer's counter-offer (`party=Party.CUSTOMER`)."""
        command = MakeOffer(
            actor=self._actor(actor),
            amount=amount,
            currency=currency,
            party=party,
            terms=terms,
            idempotency_key=idempotency_key,
        )
        return self.execute(case_id, command)

    def accept_offer(
        self, case_id: str, offer_id: int, *, actor: ActorRef, idempotency_key: str | None = None
    ) -> Outcome:
        """Accept an open offer."""
        command = AcceptOffer(
            actor=self._actor(actor), offer_id=offer_id, idempotency_key=idempotency_key
        )
        return self.execute(case_id, command)

    def reject_offer(
        self,
        case_id: str,
        offer_id: int,
        *,
        actor: ActorRef,
        reason: str = "",
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Reject an open offer, optionally saying why."""
        command = RejectOffer(
            actor=self._actor(actor),
            offer_id=offer_id,
            reason=reason,
            idempotency_key=idempotency_key,
        )
        return self.execute(case_id, command)

    def schedule_follow_up(  # noqa: PLR0913 - the parts of a follow-up, all keyword-only
        self,
        case_id: str,
        *,
        actor: ActorRef,
        due: datetime,
        reason: str,
        assignee: AgentRef | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Schedule a follow-up (for the steward unless `assignee` is given)."""
        command = ScheduleFollowUp(
            actor=self._actor(actor),
            due=due,
            reason=reason,
            assignee=None if assignee is None else self._agent(assignee),
            idempotency_key=idempotency_key,
        )
        return self.execute(case_id, command)

    def complete_follow_up(  # noqa: PLR0913 - the parts of an outcome, all keyword-only
        self,
        case_id: str,
        follow_up_id: int,
        *,
        actor: ActorRef,
        outcome: FollowUpOutcome,
        note: str = "",
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Record how a follow-up ended."""
        command = CompleteFollowUp(
            actor=self._actor(actor),
            follow_up_id=follow_up_id,
            outcome=outcome,
            note=note,
            idempotency_key=idempotency_key,
        )
        return self.execute(case_id, command)

    def record_feedback(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        rating: int,
        comment: str = "",
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Record how satisfied the customer is (1 to 5)."""
        command = RecordFeedback(
            actor=self._actor(actor),
            rating=rating,
            comment=comment,
            idempotency_key=idempotency_key,
        )
        return self.execute(case_id, command)

    # -- time: SLAs and timers ------------------------------------------------------------

    def sla(self, case_id: str) -> SlaReport:
        """Every SLA clock of the case now: state, due time, what is left, and why.

        Raises:
            InvalidValue: the desk has no SLA policies.
            CaseNotFound: there is no such case.
        """
        return self._assess(self.history(case_id), self.clock.now())

    def next_due(self) -> datetime | None:
        """The earliest moment at which a timer of any case falls due (from the index)."""
        first = self.store.find_due(limit=1)
        return first[0].next_due if first else None

    def tick(self, now: datetime | None = None) -> list[Outcome]:
        """Fire every timer due by `now` (the clock's time by default), each exactly once.

        Follow-ups that fell due are announced to their assignee (`FollowUpDue`);
        a resolved case whose customer confirmed they were served closes; SLA
        warnings, breaches and escalations become system events. Ticking twice
        with the same `now`, or from two threads or processes at once, fires
        nothing twice: a fired timer is in the history, and a tick that loses the
        race to append decides again on the new history. The cost follows the
        cases that are due (read from the index), not all cases.
        """
        moment = utc(now if now is not None else self.clock.now(), what="now")
        fired = []
        for summary in self.store.find_due(until=moment):
            # A breach makes its first escalation due at once: fire until nothing is due.
            for _ in range(_MAX_ROUNDS):
                outcome = self._fire(summary.case_id, moment)
                if outcome is None:
                    break
                fired.append(outcome)
        return fired

    def _fire(self, case_id: str, now: datetime) -> Outcome | None:
        for _ in range(self.max_attempts):
            history = self.store.load(case_id).events
            case = self._load(case_id)
            if case.version != len(history):
                continue  # appended to between the two reads: look again
            # Events are never stamped before the case's last one; judge what is due at
            # that same moment, or timers just fired would look unfired.
            at = max(now, case.updated_at or now)
            timers = [timer for timer in self._timers(case, history, at) if timer.due <= at]
            if not timers:
                return None  # fired meanwhile by another tick
            events = decide(case, FireTimers(actor=System("timer"), timers=timers), now=at)
            after = _fold(case, events)
            try:
                self._append(case, events, after, history=history)
            except ConcurrencyConflict:
                continue
            return Outcome(after, events)
        return None  # every attempt lost a race: the next tick looks again

    def _assess(self, history: Sequence[Event], now: datetime) -> SlaReport:
        if self.sla_policies is None:
            msg = "this desk has no SLA policies: ServiceDesk(..., sla=PolicySet([...]))"
            raise InvalidValue(msg)
        return assess(
            history,
            self.sla_policies,
            now=now,
            workflow=self.workflow,
            supervisors_of=self._supervisors_of,
        )

    def _append(
        self,
        case: Case,
        events: Sequence[Event],
        after: Case,
        *,
        history: Sequence[Event] | None = None,
        idempotency: IdempotencyRecord | None = None,
    ) -> None:
        """Append `events`, which take `case` to `after`, with its index entry and next due time.

        `history` is the case's history before the events, if the caller has it.
        Raises `ConcurrencyConflict` (and forgets the cached case) if another
        writer got there first.
        """
        try:
            self.store.append(
                case.case_id,
                events,
                expected_version=case.version,
                summary=CaseSummary.of(
                    after, next_due=self._next_due(case, after, events, history)
                ),
                idempotency=idempotency,
            )
        except ConcurrencyConflict:
            self._forget(case.case_id)
            raise
        self._remember(after)

    def _next_due(
        self,
        case: Case,
        after: Case,
        events: Sequence[Event],
        history: Sequence[Event] | None,
    ) -> datetime | None:
        """When the case's next timer falls due, once `events` took `case` to `after`."""
        timers = _case_timers(after)
        if self.sla_policies is not None:
            earlier = self.store.load(case.case_id).events if history is None else history
            timers += self._assess((*earlier[: case.version], *events), events[-1].at).pending
        return _earliest(timers)

    def _policy_events(self, case: Case, now: datetime) -> tuple[Event, ...]:
        """Record the SLA policy the case now falls under, when it is another one.

        A case keeps the version it is under while the same policy matches it; a
        newer version of that policy applies to cases that come under it later.
        """
        if (
            self.sla_policies is None
            or case.stage is None
            or case.record.channel is None
            or case.is_finished
        ):
            return ()
        facts = Facts(case.priority, case.record.channel, case.stage, case.tier, self.workflow.name)
        policy = self.sla_policies.select(facts)
        recorded = case.record.sla_policy
        if policy is None or (recorded is not None and recorded[0] == policy.name):
            return ()
        command = ApplySlaPolicy(actor=_SLA, policy=policy.name, version=policy.version)
        return decide(case, command, now=now)

    def _timers(self, case: Case, history: Sequence[Event], now: datetime) -> list[Timer]:
        """Every timer of the case not fired yet: follow-ups, closing, and SLA clocks."""
        timers = _case_timers(case)
        if self.sla_policies is not None:
            timers += self._assess(history, now).pending
        return timers

    def _supervisors_of(self, team: str | None) -> list[Agent]:
        """The active supervisors of `team` (of every team with None), by id."""
        return [
            agent
            for agent in self.store.agents()
            if agent.active
            and Role.SUPERVISOR in agent.roles
            and (team is None or team in agent.teams)
        ]

    # -- internals -----------------------------------------------------------------------

    def _decide(
        self, case_id: str, command: Command, *, trust_cache: bool
    ) -> tuple[Case, tuple[Event, ...]]:
        """Decide on the cached case if trusted and accepted, else on the stored case.

        A cached case may be behind another writer's events. That is safe: the
        append names the version the decision was made on, and the store refuses
        it if the case moved on. A refusal, though, may come from the stale state,
        so it is decided again on the stored case before it is believed.
        """
        cached = self._cached(case_id) if trust_cache else None
        if cached is not None:
            try:
                return cached, decide(cached, command, now=self._now(cached))
            except CommandRejected:
                pass  # perhaps only because the cache is behind: ask the store
        case = self._load(case_id)
        return case, decide(case, command, now=self._now(case))

    def _now(self, case: Case) -> datetime:
        """The clock's time, but never before the case's last event.

        Another process whose clock is a little behind may have written last; a
        history never goes back in time.
        """
        now = self.clock.now()
        last = case.updated_at
        return last if last is not None and now < last else now

    def _cached(self, case_id: str) -> Case | None:
        with self._cache_lock:
            return self._cache.get(case_id)

    def _actor(self, actor: ActorRef) -> Actor:
        """The acting agent as the directory knows them, or the customer or system as given."""
        if isinstance(actor, Customer | System):
            return actor
        return self._agent(actor)

    def _agent(self, agent: AgentRef) -> Agent:
        require(agent, (Agent, str), "expected an Agent or an agent id")
        return self.agent(agent.id if isinstance(agent, Agent) else agent)

    def _load(self, case_id: str) -> Case:
        """The case now: the cached fold, brought up to date with the events it lacks."""
        if not isinstance(case_id, str) or not case_id.strip():
            msg = f"a case id is a non-blank string, got {case_id!r}"
            raise InvalidValue(msg)
        case = self._cached(case_id)
        if case is None:
            case = Case(self.workflow, case_id)
        return _fold(case, self.store.load(case_id, after_version=case.version).events)

    def _remember(self, case: Case) -> None:
        if not self._cache_size:
            return
        with self._cache_lock:
            known = self._cache.get(case.case_id)
            if known is None or known.version < case.version:
                self._cache[case.case_id] = case
            self._cache.move_to_end(case.case_id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _forget(self, case_id: str) -> None:
        with self._cache_lock:
            self._cache.pop(case_id, None)

    def _first_result(self, record: IdempotencyRecord, fingerprint: str) -> Outcome:
        if record.fingerprint != fingerprint:
            raise IdempotencyConflict(record.key, record.case_id)
        events = self.store.load(record.case_id).events
        case = _fold(Case(self.workflow, record.case_id), events[: record.last_version])
        first = events[record.first_version - 1 : record.last_version]
        return Outcome(case, first, duplicate=True)


_CASE_IDS = uuid.UUID("0b6f3d5e-8c1a-4f7e-9d2b-3a4c5e6f7a8b")


def _case_id_for(idempotency_key: str) -> str:
    """The id of a case opened under an idempotency key: the same for every retry."""
    return uuid.uuid5(_CASE_IDS, idempotency_key).hex


def _case_timers(case: Case) -> list[Timer]:
    """Follow-ups not yet announced, and the close of a case whose customer confirmed service."""
    if not case.record.follow_ups:
        return []  # the usual case on the hot path: no follow-up, so no timer either
    timers = [
        Timer(
            TimerKind.FOLLOW_UP,
            f"follow_up:{follow_up.follow_up_id}",
            follow_up.due,
            notify=follow_up.assignee,
            follow_up_id=follow_up.follow_up_id,
        )
        for follow_up in case.open_follow_ups
        if not follow_up.notified
    ]
    stage = case.current_stage
    done = [f for f in case.follow_ups if f.outcome is not None]
    served = bool(done) and done[-1].outcome is FollowUpOutcome.SERVED
    if (
        stage is not None
        and stage.category is StatusCategory.RESOLVED
        and served
        and not case.open_follow_ups
        and case.workflow.route(stage.name, case.workflow.follow_ups.close_trigger) is not None
        and case.updated_at is not None
    ):
        timers.append(Timer(TimerKind.CLOSE, "close", case.updated_at))
    return timers


def _fold(case: Case, events: Iterable[Event]) -> Case:
    """The case after `events`."""
    for event in events:
        case = evolve(case, event)
    return case


def _earliest(timers: Sequence[Timer]) -> datetime | None:
    if not timers:
        return None  # the usual case on the hot path
    return min(timer.due for timer in timers)


def _unfinished(summaries: list[CaseSummary], include_finished: bool) -> list[CaseSummary]:  # noqa: FBT001 - private helper
    return summaries if include_finished else [s for s in summaries if not s.finished]


def _fingerprint(case_id: str, command: Command) -> str:
    """A digest of the command (its key left out) that is the same in every process."""
    canonical = repr((case_id, _canonical(command)))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: object) -> object:
    """A value with sets sorted and attrs classes spelled out, so its repr is stable."""
    kind = type(value)
    if attrs.has(kind):
        return (
            kind.__name__,
            tuple(
                (field.name, _canonical(getattr(value, field.name)))
                for field in attrs.fields(kind)
                if field.name != "idempotency_key"
            ),
        )
    if isinstance(value, frozenset | set):
        return tuple(sorted(repr(_canonical(item)) for item in value))
    if isinstance(value, Iterable) and not isinstance(value, str):
        return tuple(_canonical(item) for item in value)
    return value
