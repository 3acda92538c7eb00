"""`ServiceDesk`: the front door a host application calls all day.

The desk is thin: it wires the parts that do the work, each in its own module.

- `workflows` (`WorkflowCatalogue`): the workflows it serves, by name;
- `directory` (`Directory`): the agents, as the store records them now;
- `cases` (`CaseReader`): cases folded from the store, through a cache;
- `queries` (`Queries`): "which cases" from the index, and briefings;
- `command_path` (`CommandPath`): decide, append, retry lost races, idempotency;
- `sla_upkeep` (`SlaUpkeep`): SLA policies and the next due time of each case;
- `ticker` (`Ticker`): firing due timers, one failing case never stopping the rest;
- `routing` (`RoutingRoom`, when routing is on): who takes a new case, the queue,
  and cases nobody answered.

It is the only place in servicekit that reads a clock.
"""

from __future__ import annotations

import typing
import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from servicekit._values import case_id_text, filler, require, utc
from servicekit.case import Case
from servicekit.clock import Clock, SystemClock
from servicekit.commands import (
    AcceptOffer,
    AssignCase,
    ChangePriority,
    ChangeSkills,
    Command,
    CompleteFollowUp,
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
from servicekit.desk.cases import CaseReader
from servicekit.desk.command_path import CommandPath
from servicekit.desk.directory import ActorRef, AgentRef, Directory
from servicekit.desk.queries import Queries
from servicekit.desk.results import Briefing, Outcome, TickReport, TimelineEntry
from servicekit.desk.routing import RoutingRoom
from servicekit.desk.sla_upkeep import SlaUpkeep
from servicekit.desk.ticker import Ticker
from servicekit.desk.workflows import WorkflowCatalogue
from servicekit.errors import InvalidValue
from servicekit.events import Event
from servicekit.feedback import Survey
from servicekit.followups import FollowUpOutcome
from servicekit.interactions import Channel, Direction, Party
from servicekit.ownership import Actor, Agent, System
from servicekit.routing import Availability, Presence, QueuedCase, Routing, RoutingExplanation
from servicekit.sla import PolicySet, SlaReport
from servicekit.stores.base import CaseSummary, Store
from servicekit.stores.memory import InMemoryStore
from servicekit.workflow import Workflow

__all__ = ["ServiceDesk"]

_SURVEYS = System("surveys")
"""Who asks for feedback when the host application does not name an actor."""


class ServiceDesk:
    """Runs cases on one or more workflows against one store, with one clock.

    Every operation takes the acting actor and returns an `Outcome`; an operation
    that is refused raises the domain's precise error and stores nothing. Each
    named operation takes the same keywords as the command it builds.

    Args:
        workflow: the workflow every case of this desk follows (or use `workflows`).
        workflows: several workflows on one store (sales and support, say); the
            first is the default for `open_case`. Each case replays on the workflow
            it was opened on.
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
        routing: how to route cases (off by default, and then nothing changes):
            with it, a case opened unowned goes in the same append to a
            qualifying agent, or waits in the queue until someone qualifies.
    """

    def __init__(  # noqa: PLR0913 - every option is keyword-only and has a default
        self,
        *,
        workflow: Workflow | None = None,
        workflows: Iterable[Workflow] | None = None,
        store: Store | None = None,
        clock: Clock | None = None,
        sla: PolicySet | None = None,
        max_attempts: int = 5,
        cache_size: int = 10_000,
        routing: Routing | None = None,
    ) -> None:
        """Set the desk up; nothing is read or written yet."""
        if (workflow is None) == (workflows is None):
            msg = "give a desk either workflow=... or workflows=[...], not both and not neither"
            raise InvalidValue(msg)
        if isinstance(workflows, Workflow):  # a caller's slip typing cannot catch at run time
            msg = "workflows= takes a list of workflows; for one, write workflow=... or [workflow]"  # type: ignore[unreachable]
            raise InvalidValue(msg)
        if workflow is not None:
            require(workflow, Workflow, "workflow must be a Workflow (such as buying_cycle())")
        self.workflows = WorkflowCatalogue([workflow] if workflow is not None else workflows or ())
        _whole_number(max_attempts, "max_attempts", lowest=1)
        _whole_number(cache_size, "cache_size", lowest=0)
        if sla is not None:
            require(sla, PolicySet, "sla must be a PolicySet")
        if routing is not None:
            require(routing, Routing, "routing must be a Routing")
        if store is not None:
            require(store, Store, "store must be a Store (such as InMemoryStore() or SQLiteStore)")
        if clock is not None:
            require(clock, Clock, "clock must be a Clock (something with now())")
        self.store: Store = InMemoryStore() if store is None else store
        self.clock: Clock = SystemClock() if clock is None else clock
        self.sla_policies = sla
        self.max_attempts = max_attempts
        self.directory = Directory(self.store)
        self.cases_reader = CaseReader(self.store, self.workflows, cache_size=cache_size)
        self.queries = Queries(self.store, self.workflows, self.cases_reader, self.directory)
        self.sla_upkeep = SlaUpkeep(sla, self.directory, store=self.store, cache_size=cache_size)
        self.command_path = CommandPath(
            store=self.store,
            clock=self.clock,
            cases=self.cases_reader,
            directory=self.directory,
            upkeep=self.sla_upkeep,
            max_attempts=max_attempts,
        )
        self.ticker = Ticker(
            self.store,
            self.cases_reader,
            self.command_path,
            self.sla_upkeep,
            max_attempts=max_attempts,
        )
        self._presence: dict[str, Presence] = {}
        self.routing: RoutingRoom | None = None
        if routing is not None:
            self.routing = RoutingRoom(
                routing,
                calendar=routing.calendar or self.workflows.default.follow_ups.calendar,
                store=self.store,
                cases=self.cases_reader,
                presences=self._presence,
            )
            self.routing.wire(self.command_path)

    @property
    def workflow(self) -> Workflow:
        """The default workflow: the one `open_case` uses unless told otherwise."""
        return self.workflows.default

    def __repr__(self) -> str:
        """Name the workflows and the store."""
        names = ", ".join(repr(name) for name in self.workflows.names)
        return f"<ServiceDesk on {names} with {self.store!r}>"

    # -- the agent directory ------------------------------------------------------------

    def register_agent(self, agent: Agent, *, expected: Agent | None = None) -> Agent:
        """Add an agent to the directory, or update one (teams, roles, skills, capacity).

        Without `expected` this overwrites whatever the directory holds for the
        agent, a deactivation made meanwhile included. To update an agent safely
        while others may change them, pass the record the change was made from as
        `expected` (a compare-and-set): if the directory holds another record now,
        `DirectoryConflict` is raised and nothing is written.

        With routing on, the agent is offered the queue at once (a raised
        capacity or a new skill may let them take a waiting case).
        """
        registered = self.directory.register(agent, expected=expected)
        if self.routing is not None:
            self.routing.start()
            self.routing.put_agent(registered)
            self.routing.drain([registered.id])
        return registered

    def set_availability(self, agent: AgentRef, availability: Availability) -> Presence:
        """Record whether a registered agent takes new work now, with the clock's time.

        Every agent is `available` when registered. With routing on, an agent who
        becomes available is offered the queue at once; one who goes offline
        keeps their cases for the routing's grace period, after which `tick`
        routes again the ones they have not answered.
        """
        registered = self.directory.agent(agent)
        require(availability, Availability, "availability must be an Availability")
        presence = Presence(availability=availability, since=self.clock.now())
        self._presence[registered.id] = presence
        if self.routing is not None:
            self.routing.start()
            self.routing.set_presence(registered.id, presence)
            if availability is Availability.AVAILABLE:
                self.routing.drain([registered.id])
        return presence

    def availability(self, agent: AgentRef) -> Presence:
        """A registered agent's availability and since when (`available` unless set)."""
        return self._presence.get(self.directory.agent(agent).id, Presence())

    def agent(self, agent_id: str) -> Agent:
        """The registered agent with this id; `UnknownAgent` if there is none."""
        return self.directory.get(agent_id)

    def agents(self) -> list[Agent]:
        """Every registered agent, ordered by id."""
        return self.directory.all()

    def blocking_cases(self, agent_id: str) -> list[CaseSummary]:
        """Unfinished cases that need the agent: owned, stewarded, or with their follow-up."""
        return self.directory.blocking_cases(agent_id)

    def deactivate_agent(self, agent_id: str) -> Agent:
        """Mark the agent inactive, once none of their unfinished cases needs them.

        Raises:
            AgentStillResponsible: naming every unfinished case the agent still
                owns, stewards or has an open follow-up on; transfer them, reassign
                their stewardship and hand over their follow-ups first.
        """
        inactive = self.directory.deactivate(agent_id)
        if self.routing is not None:
            self.routing.start()
            self.routing.put_agent(inactive)
        return inactive

    def cases_needing_reassignment(self) -> list[CaseSummary]:
        """Unfinished cases whose owner, steward or a follow-up's assignee is inactive.

        With routing on, also the cases an owner answered and then went offline
        from, once the routing's grace period has passed (`tick` routes again the
        unanswered ones).
        """
        found = self.directory.needing_reassignment()
        if self.routing is None:
            return found
        gone = self.routing.answered_but_gone(self.store, self.clock.now())
        every = {summary.case_id: summary for summary in [*found, *gone]}
        return sorted(every.values(), key=lambda s: (s.opened_at, s.case_id))

    def routing_explanation(self, case_id: str) -> RoutingExplanation:
        """Why the case went where it did: candidates, their loads, and who was skipped and why.

        Raises:
            InvalidValue: the desk does not route cases.
            CaseNotFound: there is no such case.
        """
        if self.routing is None:
            msg = "this desk does not route cases: turn routing on when creating it (routing=)"
            raise InvalidValue(msg)
        self.routing.start()
        case = self.case(case_id)
        return self.routing.explain(case, self.store, self.history(case_id))

    def routing_queue(self) -> list[QueuedCase]:
        """The cases waiting for an owner, in the order routing offers them (empty: no routing)."""
        if self.routing is None:
            return []
        self.routing.start()
        return self.routing.queue.cases()

    # -- queries ----------------------------------------------------------------------

    def case(self, case_id: str) -> Case:
        """The case as it stands now; `CaseNotFound` if it does not exist."""
        return self.cases_reader.opened(case_id)

    def history(self, case_id: str) -> tuple[Event, ...]:
        """Every event of the case, oldest first; `CaseNotFound` if it does not exist."""
        return self.cases_reader.history(case_id)

    def cases_owned_by(
        self, agent_id: str, *, include_finished: bool = False, workflow: str | None = None
    ) -> list[CaseSummary]:
        """The agent's queue: the cases they own (unfinished ones unless asked otherwise)."""
        return self.queries.owned_by(agent_id, include_finished=include_finished, workflow=workflow)

    def cases_stewarded_by(
        self, agent_id: str, *, include_finished: bool = False, workflow: str | None = None
    ) -> list[CaseSummary]:
        """The cases the agent is steward of (unfinished ones unless asked otherwise)."""
        return self.queries.stewarded_by(
            agent_id, include_finished=include_finished, workflow=workflow
        )

    def cases(self, *, workflow: str | None = None) -> list[CaseSummary]:
        """Every case, finished or not, oldest first (a scan: prefer the queries below)."""
        return self.queries.every(workflow=workflow)

    def unowned_cases(self, *, workflow: str | None = None) -> list[CaseSummary]:
        """Cases waiting in intake for an owner, oldest first: what agents take next."""
        return self.queries.unowned(workflow=workflow)

    def cases_of_customer(
        self, customer_id: str, *, workflow: str | None = None
    ) -> list[CaseSummary]:
        """Every case of the customer, finished or not, oldest first."""
        return self.queries.of_customer(customer_id, workflow=workflow)

    def cases_in_stage(self, stage: str, *, workflow: str | None = None) -> list[CaseSummary]:
        """Every case in the stage, oldest first (of one workflow, or of any).

        The cases are those the index holds in the stage, even one no workflow the
        desk serves has (a stage a changed workflow lost): that is how an operator
        finds the cases it stranded. `InvalidValue` for a stage that is not a
        non-blank string, `UnknownWorkflow` for a workflow the desk does not serve.
        """
        return self.queries.in_stage(stage, workflow=workflow)

    def briefing(self, case_id: str) -> Briefing:
        """What a receiving agent reads so that the customer never has to repeat themselves."""
        return self.queries.briefing(case_id)

    def customer_history(self, customer_id: str) -> tuple[TimelineEntry, ...]:
        """One timeline of the customer's contacts, offers, handoffs and feedback, newest first.

        Across all of the customer's cases, workflows and channels, each entry with
        the case it belongs to; a case the desk cannot read is left out of it.
        """
        return self.queries.customer_history(customer_id)

    # -- commands -----------------------------------------------------------------------

    def execute(self, case_id: str, command: Command) -> Outcome:
        """Decide `command` on the case and append its events, retrying lost races.

        Every named operation of the desk comes here. Use it directly for commands
        built elsewhere (a queue, a custom workflow's moves).

        Raises:
            CommandRejected: the domain refused the command (nothing stored).
            IdempotencyConflict: the command's key was used for another command.
            ConcurrencyConflict: every attempt lost the race with another writer.
            UnknownWorkflow: the case (or `OpenCase.workflow`) names a workflow the
                desk does not serve.
            InvalidValue: the case id is not a non-blank string, or `command` is not
                a command.
        """
        if type(case_id) is not str:  # the usual id skips the call; the path checks it closer
            case_id_text(case_id)
        given: object = command  # as a caller without a type checker hands it over
        if type(given) not in _COMMAND_TYPES and not isinstance(given, Command):
            msg = f"execute takes a command (Move, RecordInteraction, ...), got {command!r}"
            raise InvalidValue(msg)
        return self.command_path.execute(case_id, command)

    def _execute_named(self, case_id: str, command: Command) -> Outcome:
        """`execute` for a named operation, which read its acting agent from the directory.

        The command path would read the agent again (a command built elsewhere may
        carry a stale record); a named operation's record was read a moment ago, so
        it is not, and one read of the store is saved. On a desk whose `execute` a
        host overrides (to audit every command, say), the override sees it, as
        `execute` promises.
        """
        if type(self).execute is not _EXECUTE:
            return self.execute(case_id, command)
        if type(case_id) is not str:  # the usual id skips the call
            case_id_text(case_id)
        return self.command_path.execute(case_id, command, actor_read=True)

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
        workflow: str | None = None,
        skills: Iterable[str] = (),
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Open a case (a new id unless `case_id` is given) on `workflow` (the default if None).

        See `OpenCase`. With routing on, a case opened unowned goes to a
        qualifying agent in the same append, or waits in the queue.
        """
        command = OpenCase(
            actor=self.directory.actor(actor),
            customer_id=customer_id,
            channel=channel,
            summary=summary,
            direction=direction,
            stage=stage,
            owner=None if owner is None else self.directory.agent(owner),
            priority=priority,
            tier=tier,
            workflow=workflow,
            skills=skills,
            idempotency_key=idempotency_key,
        )
        if case_id is None:
            # A retry must name the same case: derive it from the key when there is one.
            case_id = uuid.uuid4().hex if idempotency_key is None else _case_id_for(idempotency_key)
        return self._execute_named(case_id, command)

    def change_skills(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        skills: Iterable[str],
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Change the skills the case needs; a waiting case is offered again on the new ones."""
        command = ChangeSkills(
            actor=self.directory.actor(actor),
            skills=skills,
            reason=reason,
            idempotency_key=idempotency_key,
        )
        outcome = self._execute_named(case_id, command)
        if self.routing is not None and outcome.case.owner is None:
            self.routing.drain()
        return outcome

    def take(self, case_id: str, *, actor: AgentRef, idempotency_key: str | None = None) -> Outcome:
        """An agent takes an unowned case: they own it at once."""
        agent = self.directory.agent(actor)
        return self._execute_named(
            case_id, AssignCase(actor=agent, to=agent, idempotency_key=idempotency_key)
        )

    def assign(
        self, case_id: str, *, actor: ActorRef, to: AgentRef, idempotency_key: str | None = None
    ) -> Outcome:
        """A supervisor or the system routes an unowned case to an agent."""
        command = AssignCase(
            actor=self.directory.actor(actor),
            to=self.directory.agent(to),
            idempotency_key=idempotency_key,
        )
        return self._execute_named(case_id, command)

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
            actor=self.directory.actor(actor),
            to=self.directory.agent(to),
            handoff_note=handoff_note,
            idempotency_key=idempotency_key,
        )
        return self._execute_named(case_id, command)

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
            actor=self.directory.actor(actor),
            to=self.directory.agent(to),
            reason=reason,
            idempotency_key=idempotency_key,
        )
        return self._execute_named(case_id, command)

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
            actor=self.directory.actor(actor),
            trigger=trigger,
            reason=reason,
            idempotency_key=idempotency_key,
        )
        return self._execute_named(case_id, command)

    def _named_move(
        self, case_id: str, trigger: str, actor: ActorRef, reason: str | None, key: str | None
    ) -> Outcome:
        """`move` for a named operation, whose trigger is its own: the usual one built fast.

        Without a reason or a key there is nothing in the `Move` to check but its actor,
        whom the directory hands over as an `Actor` (or refuses), so it is built slot by
        slot (`_plain_move`) instead of through attrs' checks: that is most of what a
        named operation costs over `execute`.
        """
        if reason is None and key is None and type(self).move is _MOVE:
            return self._execute_named(case_id, _plain_move(self.directory.actor(actor), trigger))
        # With a reason or a key, or on a desk whose `move` a host overrides (to audit
        # every trigger, say): the public `move`, so the override sees every named move.
        return self.move(case_id, trigger, actor=actor, reason=reason, idempotency_key=key)

    def negotiate(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Start bargaining on an enquiry."""
        return self._named_move(case_id, "negotiate", actor, reason, idempotency_key)

    def win(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Make the sale (needs an accepted offer)."""
        return self._named_move(case_id, "win", actor, reason, idempotency_key)

    def lose(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Record a lost sale, with the reason."""
        return self._named_move(case_id, "lose", actor, reason, idempotency_key)

    def start_service(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Hand an enquiry or a won sale over to after-sales service."""
        return self._named_move(case_id, "start_service", actor, reason, idempotency_key)

    def wait_on_customer(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Service waits for the customer's answer."""
        return self._named_move(case_id, "wait_on_customer", actor, reason, idempotency_key)

    def resume(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The customer answered: service goes on."""
        return self._named_move(case_id, "resume", actor, reason, idempotency_key)

    def resolve(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The customer's problem is solved."""
        return self._named_move(case_id, "resolve", actor, reason, idempotency_key)

    def reopen(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """The problem is back (the customer may do this too)."""
        return self._named_move(case_id, "reopen", actor, reason, idempotency_key)

    def start_follow_up(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Move to the follow-up stage: the steward confirms the customer was served."""
        return self._named_move(case_id, "follow_up", actor, reason, idempotency_key)

    def close(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Finish the case (a supervisor may give a reason to waive open follow-ups)."""
        return self._named_move(case_id, "close", actor, reason, idempotency_key)

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
            actor=self.directory.actor(actor),
            channel=channel,
            direction=direction,
            summary=summary,
            idempotency_key=idempotency_key,
        )
        return self._execute_named(case_id, command)

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
            actor=self.directory.actor(actor),
            amount=amount,
            currency=currency,
            party=party,
            terms=terms,
            idempotency_key=idempotency_key,
        )
        return self._execute_named(case_id, command)

    def accept_offer(
        self,
        case_id: str,
        offer_id: int,
        *,
        actor: ActorRef,
        via: Channel | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Accept an open offer (`via`: the channel of a customer's answer an agent records)."""
        command = AcceptOffer(
            actor=self.directory.actor(actor),
            offer_id=offer_id,
            via=via,
            idempotency_key=idempotency_key,
        )
        return self._execute_named(case_id, command)

    def reject_offer(  # noqa: PLR0913 - the parts of an answer, all keyword-only
        self,
        case_id: str,
        offer_id: int,
        *,
        actor: ActorRef,
        reason: str = "",
        via: Channel | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Reject an open offer, optionally saying why (`via` as for `accept_offer`)."""
        command = RejectOffer(
            actor=self.directory.actor(actor),
            offer_id=offer_id,
            reason=reason,
            via=via,
            idempotency_key=idempotency_key,
        )
        return self._execute_named(case_id, command)

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
            actor=self.directory.actor(actor),
            due=due,
            reason=reason,
            assignee=None if assignee is None else self.directory.agent(assignee),
            idempotency_key=idempotency_key,
        )
        return self._execute_named(case_id, command)

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
            actor=self.directory.actor(actor),
            follow_up_id=follow_up_id,
            outcome=outcome,
            note=note,
            idempotency_key=idempotency_key,
        )
        return self._execute_named(case_id, command)

    def record_feedback(  # noqa: PLR0913 - the parts of an answer, all keyword-only
        self,
        case_id: str,
        *,
        actor: ActorRef,
        survey: Survey,
        score: int,
        comment: str = "",
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Record the customer's answer to a survey: CSAT 1-5, NPS 0-10 or CES 1-7."""
        command = RecordFeedback(
            actor=self.directory.actor(actor),
            survey=survey,
            score=score,
            comment=comment,
            idempotency_key=idempotency_key,
        )
        return self._execute_named(case_id, command)

    def request_feedback(
        self,
        case_id: str,
        *,
        survey: Survey,
        channel: Channel,
        actor: ActorRef | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Record that the customer was asked to answer `survey` on `channel` (by the system).

        The host application sends the survey; the request lets `servicekit.metrics`
        measure how many were answered.
        """
        command = RequestFeedback(
            actor=_SURVEYS if actor is None else self.directory.actor(actor),
            survey=survey,
            channel=channel,
            idempotency_key=idempotency_key,
        )
        return self._execute_named(case_id, command)

    def change_priority(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        priority: str,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Change the case's priority; SLA targets are recalculated, keeping the time used."""
        command = ChangePriority(
            actor=self.directory.actor(actor),
            priority=priority,
            reason=reason,
            idempotency_key=idempotency_key,
        )
        return self._execute_named(case_id, command)

    def pause_sla(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Pause the case's SLA clocks (those whose targets an explicit pause stops)."""
        command = PauseSla(
            actor=self.directory.actor(actor), reason=reason, idempotency_key=idempotency_key
        )
        return self._execute_named(case_id, command)

    def resume_sla(
        self,
        case_id: str,
        *,
        actor: ActorRef,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Resume SLA clocks paused by `pause_sla`."""
        command = ResumeSla(
            actor=self.directory.actor(actor), reason=reason, idempotency_key=idempotency_key
        )
        return self._execute_named(case_id, command)

    def hand_over_follow_up(  # noqa: PLR0913 - the parts of a handover, all keyword-only
        self,
        case_id: str,
        follow_up_id: int,
        *,
        actor: ActorRef,
        to: AgentRef,
        reason: str,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Give an open follow-up to another active agent (before its assignee leaves, say)."""
        command = HandOverFollowUp(
            actor=self.directory.actor(actor),
            follow_up_id=follow_up_id,
            to=self.directory.agent(to),
            reason=reason,
            idempotency_key=idempotency_key,
        )
        return self._execute_named(case_id, command)

    # -- time: SLAs and timers ------------------------------------------------------------

    def sla(self, case_id: str) -> SlaReport:
        """Every SLA clock of the case now: state, due time, what is left, and why.

        Raises:
            InvalidValue: the desk has no SLA policies.
            CaseNotFound: there is no such case.
        """
        history = self.history(case_id)
        case = self.cases_reader.replay(case_id, history)
        return self.sla_upkeep.report(case, history, self.clock.now())

    def next_due(self) -> datetime | None:
        """The earliest moment at which a timer of any case falls due (from the index)."""
        first = self.store.find_due(limit=1)
        return first[0].next_due if first else None

    def tick(self, now: datetime | None = None) -> TickReport:
        """Fire every timer due by `now` (the clock's time by default), each exactly once.

        `now` is any aware time, and it is how a host drives time without the desk's
        clock: behind the clock, a worker catches up; ahead of it, a test or a
        replay fires what will be due then. The events a tick writes are stamped
        with `now` (or the case's last event, if later), and a case's later events
        are never stamped before them: a `now` ahead of the clock moves those
        cases' histories on to that moment for good. In production, call `tick()`.

        Follow-ups that fell due are announced to their assignee (`FollowUpDue`);
        a resolved case whose customer confirmed they were served closes; SLA
        warnings, breaches and escalations become system events. Ticking twice
        with the same `now`, or from two threads or processes at once, fires
        nothing twice: a fired timer is in the history, and a tick that loses the
        race to append decides again on the new history. The cost follows the
        cases that are due (read from the index), not all cases. A case whose
        timers cannot fire is reported in `TickReport.failed` and the rest go on.

        With routing on, a routed case its owner has not answered within the
        answer time (or whose owner went offline or was deactivated more than the
        grace period ago) returns to the queue with a handoff note and is routed
        again; those appends are in `TickReport.fired` too.
        """
        moment = utc(now if now is not None else self.clock.now(), what="now")
        report = self.ticker.tick(moment)
        if self.routing is None:
            return report
        returned, problems = self.routing.return_unanswered(moment)
        return TickReport((*report.fired, *returned), (*report.failed, *problems))


def _plain_move(actor: Actor, trigger: str) -> Move:
    """`Move(actor=actor, trigger=trigger)` built by plain slot stores (see `filler`).

    Only for a named operation's own trigger (a non-blank literal) and an actor from
    the directory: nothing is checked on the way
    (`test_a_named_move_built_fast_equals_one_built_by_attrs`).
    """
    move = _MoveFiller()
    move.actor = actor
    move.trigger = trigger
    move.reason = None
    move.idempotency_key = None
    move.__class__ = Move
    built: Move = move
    return built


_MoveFiller = filler(Move)

_COMMAND_TYPES = frozenset(typing.get_args(Command))
"""Every command class: the usual command is checked by one set look-up."""

_MOVE = ServiceDesk.move
"""The desk's own `move`: a named move skips it only on a desk that does not override it."""

_CASE_IDS = uuid.UUID("0b6f3d5e-8c1a-4f7e-9d2b-3a4c5e6f7a8b")


def _case_id_for(idempotency_key: str) -> str:
    """The id of a case opened under an idempotency key: the same for every retry."""
    return uuid.uuid5(_CASE_IDS, idempotency_key).hex


def _whole_number(value: object, name: str, *, lowest: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
        msg = f"{name} must be a whole number from {lowest}, got {value!r}"
        raise InvalidValue(msg)


_EXECUTE = ServiceDesk.execute
"""The desk's own `execute`: a named operation skips it only on a desk that does not override it."""
