"""The desk's routing room: who takes a new case, the queue, and cases nobody answered.

`ServiceDesk(routing=Routing(...))` wires one `RoutingRoom` into its command path.
The room keeps a `RoutingIndex` of the directory (with each agent's load: owned
cases that are new or open, per channel) and a `RoutingQueue` of cases nobody
could take, built from the store on first use and then kept in step by every
append the desk makes. On opening it adds the assignment to the same append,
with a `CapacityClaim` the store checks inside its transaction; when capacity
frees it offers the queue; on tick it takes back cases nobody answered.

Presence (availability and since when) and the unanswered assignments are kept
in memory by each desk; the capacity rule holds across desks because the store
checks it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs

from servicekit.calendar import BusinessCalendar
from servicekit.case import Case
from servicekit.commands import AssignCase, Command, OpenCase, ReturnToQueue
from servicekit.decisions import decide
from servicekit.desk.cases import CaseReader, fold
from servicekit.desk.results import CaseProblem, Outcome
from servicekit.errors import ConcurrencyConflict, ServiceKitError
from servicekit.events import CaseReturnedToQueue, Event, OwnerAssigned
from servicekit.ownership import Agent, System
from servicekit.routing import (
    Availability,
    Presence,
    QueuedCase,
    Routing,
    RoutingChoice,
    RoutingExplanation,
    RoutingIndex,
    RoutingNeed,
    RoutingQueue,
)
from servicekit.stores.base import CapacityClaim, CaseSummary, Store
from servicekit.workflow import StatusCategory

if TYPE_CHECKING:
    from servicekit.desk.command_path import CommandPath

__all__ = ["ROUTER", "Pending", "RoutingRoom"]

ROUTER = System("routing")
"""The actor that assigns routed cases and returns unanswered ones to the queue."""

_REFRESHES = 8
"""How often routing chooses again when the chosen agent changed in the store meanwhile."""

_WORKING = frozenset({StatusCategory.NEW, StatusCategory.OPEN})
"""The stage categories in which an owned case takes up its owner's capacity."""


@attrs.frozen
class Pending:
    """A routed case its owner has not answered yet, and when the answer is due."""

    case_id: str
    agent_id: str
    assigned_at: datetime
    answer_due: datetime


def _load_of(case: Case) -> tuple[str, str] | None:
    """(owner id, channel) when the case takes up its owner's capacity, else None."""
    stage = case.current_stage
    if (
        case.owner is None
        or stage is None
        or stage.final
        or stage.category not in _WORKING
        or case.record.channel is None
    ):
        return None
    return case.owner.id, case.record.channel


class RoutingRoom:
    """Routing for one desk: who can take what, what waits, who has not answered."""

    def __init__(
        self,
        routing: Routing,
        *,
        calendar: BusinessCalendar,
        store: Store,
        cases: CaseReader,
        presences: Mapping[str, Presence],
    ) -> None:
        """Routing as configured, answer times counted on `calendar`; built on first use."""
        self.routing = routing
        self.calendar = calendar
        self._store = store
        self._cases = cases
        self._presences = presences
        self._path: CommandPath | None = None
        self._draining = False
        self._recounted = False
        self.index = RoutingIndex()
        self.queue = RoutingQueue()
        self.pending: dict[str, Pending] = {}
        self._needs: dict[str, RoutingNeed] = {}
        self._reasons: dict[str, RoutingChoice | None] = {}
        self._started = False
        self.set_aside_cases: dict[str, str] = {}

    # -- building from the store ------------------------------------------------------------

    def wire(self, path: CommandPath) -> None:
        """Route through the desk's command path: it asks `plan` and tells `appended`."""
        self._path = path
        path.routing = self

    def start(self) -> None:
        """Build the index and the queue from the store, once: agents, loads, waiting cases."""
        if self._started:
            return
        store = self._store
        for agent in store.agents():
            self.index.put(agent, self._presences.get(agent.id))
        for summary in store.find_cases():
            if summary.finished:
                continue
            try:
                case = self._cases.load(summary.case_id)
            except ServiceKitError as problem:
                # A case the desk cannot read (a workflow it does not serve): set it aside,
                # as a tick does, and build the rest of the index.
                self.set_aside(summary.case_id, str(problem))
                continue
            held = _load_of(case)
            if held is not None and held[0] in self._known():
                self.index.add_load(*held)
            if case.owner is None and summary.category is StatusCategory.NEW:
                self.enqueue(case, due=summary.next_due)
        self._started = True

    def _known(self) -> set[str]:
        return {agent.id for agent in self.index.agents()}

    # -- the directory ----------------------------------------------------------------------

    def put_agent(self, agent: Agent) -> None:
        """The directory changed an agent (skills, capacity, active)."""
        self.index.put(agent)

    def refresh(self, agent: Agent) -> Agent:
        """The agent as the store holds them now, put into the index if another desk changed them.

        Routing reads the agent it is about to give a case to (one look-up), so a
        deactivation, a skill or a capacity another desk wrote is not overlooked.
        """
        stored = self._store.get_agent(agent.id)
        if stored is None:
            return agent  # the store no longer knows them: the append's check refuses them
        if stored != agent:
            self.index.put(stored)
        return stored

    def refresh_directory(self) -> bool:
        """Put every agent the store holds into the index where it differs; True if any did."""
        changed = False
        known = {agent.id: agent for agent in self.index.agents()}
        for agent in self._store.agents():
            if known.get(agent.id) != agent:
                self.index.put(agent, self._presences.get(agent.id))
                changed = True
        return changed

    def set_presence(self, agent_id: str, presence: Presence) -> None:
        """The host set an agent's availability."""
        self.index.set_presence(agent_id, presence)

    # -- deciding ----------------------------------------------------------------------------

    def need(self, case: Case, store: Store) -> RoutingNeed:
        """What the case asks of its owner, with the customer's previous agents to try first."""
        preferred: list[str] = []
        if self.routing.prefer_previous and case.customer_id is not None:
            earlier = [
                summary
                for summary in store.find_cases(customer=case.customer_id)
                if summary.case_id != case.case_id
            ]
            for summary in sorted(earlier, key=_newest_first):
                for agent_id in (summary.steward_id, summary.owner_id):
                    if agent_id is not None and agent_id not in preferred:
                        preferred.append(agent_id)
        channel = case.record.channel
        assert channel is not None  # noqa: S101 - an opened case has a channel
        return RoutingNeed(
            channel=channel, skills=case.skills, preferred=preferred, avoid=case.unanswered_by
        )

    def choose(self, case: Case, store: Store) -> RoutingChoice | None:
        """Who the case goes to now, or None (it waits); the decision is kept for explaining."""
        need = self.need(case, store)
        choice = self.index.choose(need)
        for _ in range(_REFRESHES):
            if choice is None or self.refresh(choice.agent) == choice.agent:
                break
            choice = self.index.choose(need)  # another desk changed the agent: choose again
        else:
            choice = None  # the directory kept changing under us: the case waits
        self._needs[case.case_id] = need
        self._reasons[case.case_id] = choice
        return choice

    def explain(self, case: Case, store: Store, history: Sequence[Event]) -> RoutingExplanation:
        """Why the case went where it did: the rule from its history, the directory as it is now.

        The chosen agent and the rule that chose them are the case's last
        assignment; the candidates' loads and the reasons others are skipped are
        the directory's now (finding them all at decision time would make every
        routing cost grow with the directory).
        """
        need = self._needs.get(case.case_id) or self.need(case, store)
        choice = None
        if case.owner is not None:
            assigned = [e for e in history if isinstance(e, OwnerAssigned)]
            reason = assigned[-1].reason if assigned else None
            choice = RoutingChoice(case.owner, reason or "assigned by hand", 0)
        return self.index.explain(case.case_id, need, choice)

    def recount(self, agent_id: str) -> None:
        """Count the agent's working cases again from the store (another desk assigned some)."""
        counts: dict[str, int] = {}
        for summary in self._store.find_cases(owner=agent_id):
            held = _load_of(self._cases.load(summary.case_id))
            if held is not None:
                counts[held[1]] = counts.get(held[1], 0) + 1
        for channel in {*counts, *self.index.channels(agent_id)}:
            self.index.set_load(agent_id, channel, counts.get(channel, 0))

    def enqueue(self, case: Case, *, due: datetime | None) -> None:
        """Put an unowned case in the queue, in its place."""
        waiting = case.waiting_since
        assert waiting is not None  # noqa: S101 - only unowned, opened cases wait
        known = self._needs.get(case.case_id)
        channel = case.record.channel
        assert channel is not None  # noqa: S101 - an opened case has a channel
        need = RoutingNeed(
            channel=channel,
            skills=case.skills,
            preferred=() if known is None else known.preferred,
            avoid=case.unanswered_by,
        )
        self._needs[case.case_id] = need
        self.queue.add(
            QueuedCase(
                case_id=case.case_id,
                need=need,
                rank=self.routing.rank(case.priority),
                due=due,
                waiting_since=waiting,
            )
        )

    def offers(self, agent_ids: Sequence[str] = ()) -> Iterator[tuple[QueuedCase, RoutingChoice]]:
        """The queue in order, to whoever qualifies now (limited to these agents' skills)."""
        if not self.queue:
            return iter(())
        skills: frozenset[str] | None = None
        if agent_ids:
            skills = frozenset().union(*(self.index.agent(a).skills for a in agent_ids))
        return self.queue.offer(self.index, skills=skills)

    # -- after an append ---------------------------------------------------------------------

    def note(
        self, before: Case, after: Case, events: Sequence[Event], *, due: datetime | None
    ) -> str | None:
        """Keep loads, the queue and unanswered assignments in step with an append.

        Returns the id of the agent whose capacity freed (their load went down),
        if any, so that the desk offers them the queue.
        """
        old, new = _load_of(before) if before.is_opened else None, _load_of(after)
        freed = None
        if old != new:
            if old is not None:
                if self.index.load(*old) > 0:
                    self.index.add_load(old[0], old[1], -1)
                else:  # another desk gave them the case: count from the store (after the append)
                    self.recount(old[0])
                freed = old[0]
            if new is not None:
                self.index.add_load(*new)
        case_id = after.case_id
        if after.owner is None and not after.is_finished and after.current_stage is not None:
            if after.current_stage.is_intake:
                self.enqueue(after, due=due)
        else:
            self.queue.remove(case_id)
        self._track_answers(after, events)
        return freed

    def _track_answers(self, after: Case, events: Sequence[Event]) -> None:
        case_id = after.case_id
        for event in events:
            if isinstance(event, OwnerAssigned) and event.reason is not None:
                at = event.at
                due = self.calendar.add(at, timedelta(minutes=self.routing.answer_minutes))
                self.pending[case_id] = Pending(case_id, event.owner.id, at, due)
            elif isinstance(event, CaseReturnedToQueue):
                self.pending.pop(case_id, None)
            else:
                waiting = self.pending.get(case_id)
                actor = event.actor
                if (
                    waiting is not None
                    and isinstance(actor, Agent)
                    and actor.id == waiting.agent_id
                ):
                    del self.pending[case_id]  # the owner answered
        if after.owner is None or after.is_finished:
            self.pending.pop(case_id, None)

    # -- timers ------------------------------------------------------------------------------

    def unanswered(self, now: datetime) -> list[tuple[Pending, str]]:
        """Routed cases to take back now, each with the handoff note saying why."""
        due: list[tuple[Pending, str]] = []
        grace = timedelta(minutes=self.routing.grace_minutes)
        for waiting in sorted(self.pending.values(), key=lambda p: (p.answer_due, p.case_id)):
            agent = self.index.agent(waiting.agent_id)
            presence = self.index.presence(waiting.agent_id)
            gone_since = presence.since if presence.availability is Availability.OFFLINE else None
            if waiting.answer_due <= now:
                minutes = self.routing.answer_minutes
                note = (
                    f"{agent} did not answer within {minutes} business minutes; "
                    "back to the queue to be routed again"
                )
                due.append((waiting, note))
            elif not agent.active or (
                gone_since is not None and self.calendar.add(gone_since, grace) <= now
            ):
                why = "was deactivated" if not agent.active else "went offline"
                note = f"{agent} {why} before answering; back to the queue to be routed again"
                due.append((waiting, note))
        return due

    def set_aside(self, case_id: str, reason: str) -> None:
        """A case routing could not serve (it failed to assign or return): out of the queue."""
        self.queue.remove(case_id)
        self.pending.pop(case_id, None)
        self.set_aside_cases[case_id] = reason

    def answered_but_gone(self, store: Store, now: datetime) -> list[CaseSummary]:
        """Unfinished cases owned by agents offline past the grace period, once answered."""
        grace = timedelta(minutes=self.routing.grace_minutes)
        found = []
        for agent in self.index.agents():
            presence = self.index.presence(agent.id)
            since = presence.since
            if presence.availability is not Availability.OFFLINE or since is None:
                continue
            if self.calendar.add(since, grace) > now:
                continue
            found += [
                summary
                for summary in store.find_cases(owner=agent.id)
                if not summary.finished and summary.case_id not in self.pending
            ]
        return found

    def next_answer_due(self) -> datetime | None:
        """When the first unanswered assignment runs out of time, if any does."""
        return min((p.answer_due for p in self.pending.values()), default=None)

    # -- the desk's hooks --------------------------------------------------------------------

    def plan(
        self, command: Command, after: Case, events: tuple[Event, ...]
    ) -> tuple[tuple[Event, ...], Case, CapacityClaim | None]:
        """Before an append: route a case opened unowned in it; the routed owner's claim.

        A case opened unowned in an intake stage gets its `AssignCase` here, in the
        same append. An assignment by routing (on opening or from the queue)
        carries a `CapacityClaim` for the store to check in its transaction.
        """
        self.start()
        routed: Agent | None = None
        if isinstance(command, OpenCase):
            stage = after.current_stage
            if after.owner is None and stage is not None and stage.is_intake:
                choice = self.choose(after, self._store)
                if choice is not None:
                    assign = AssignCase(actor=ROUTER, to=choice.agent, reason=choice.reason)
                    assigned = decide(after, assign, now=events[-1].at)
                    events, after = (*events, *assigned), fold(after, assigned)
                    routed = choice.agent
        elif isinstance(command, AssignCase) and command.actor == ROUTER:
            routed = command.to
        channel = after.record.channel
        if routed is None or channel is None:
            return events, after, None
        limit = routed.capacity_on(channel)
        return events, after, None if limit is None else CapacityClaim(routed.id, channel, limit)

    def lost_claim(self, claim: CapacityClaim) -> None:
        """The store refused a claim: another desk filled the agent; count them again."""
        self.recount(claim.agent_id)
        self._recounted = True

    def appended(
        self, before: Case, after: Case, events: Sequence[Event], summary: CaseSummary
    ) -> None:
        """After an append: keep loads and the queue in step; offer the queue if capacity freed."""
        self.start()
        freed = self.note(before, after, events, due=summary.next_due)
        if freed is not None:
            self.drain([freed])

    def drain(self, agent_ids: Sequence[str] = ()) -> list[CaseProblem]:
        """Offer the queue in order, each case to one qualifying agent; failures set aside.

        `agent_ids` limits the offer to what those agents could serve (the agent
        whose capacity freed). Returns the cases that could not be assigned.
        """
        self.start()
        if self._draining or self._path is None:
            return []  # the outer offer goes on with the capacity this call freed
        problems: list[CaseProblem] = []
        self._draining = True
        try:
            # A pass ends early when another desk had filled the chosen agent: the claim
            # failed, the agent's load was counted again, and the queue is offered anew.
            for _ in range(len(self.queue) + len(self.index.agents()) + 1):
                if not self._offer_once(agent_ids, problems):
                    break
        finally:
            self._draining = False
        return problems

    def _offer_once(self, agent_ids: Sequence[str], problems: list[CaseProblem]) -> bool:
        """One pass over the queue; True if it stopped at a lost claim and should run again."""
        assert self._path is not None  # noqa: S101 - drain checked it
        for entry, choice in self.offers(agent_ids):
            if self.refresh(choice.agent) != choice.agent:
                return True  # another desk changed the agent: offer the queue anew
            reason = f"from the queue: {choice.reason}"
            command = AssignCase(actor=ROUTER, to=choice.agent, reason=reason)
            self._recounted = False
            try:
                self._path.execute(entry.case_id, command)
            except ServiceKitError as problem:
                if isinstance(problem, ConcurrencyConflict) and self._recounted:
                    return True
                self.set_aside(entry.case_id, str(problem))
                problems.append(CaseProblem(entry.case_id, str(problem)))
        return False

    def return_unanswered(self, now: datetime) -> tuple[list[Outcome], list[CaseProblem]]:
        """Take back routed cases nobody answered in time (or whose owner left); route again."""
        self.start()
        outcomes: list[Outcome] = []
        problems: list[CaseProblem] = []
        if self._path is None:
            return outcomes, problems
        # Another desk may have changed agents (a new skill, more capacity): offer the queue.
        requeued = self._requeue_set_aside() | self.refresh_directory()
        for pending, note in self.unanswered(now):
            try:
                command = ReturnToQueue(actor=ROUTER, handoff_note=note)
                outcomes.append(self._path.execute(pending.case_id, command))
            except ServiceKitError as problem:
                self.set_aside(pending.case_id, str(problem))
                problems.append(CaseProblem(pending.case_id, str(problem)))
        if outcomes or requeued:
            problems += self.drain()
        return outcomes, problems

    def _requeue_set_aside(self) -> bool:
        """Give each case an earlier failure set aside another chance, on every tick.

        A case that still waits unowned in intake goes back into the queue; one that
        cannot be read stays aside (and is reported by the tick again).
        """
        again = False
        for case_id in list(self.set_aside_cases):
            try:
                case = self._cases.load(case_id)
            except ServiceKitError:
                continue
            stage = case.current_stage
            if case.owner is None and stage is not None and stage.category is StatusCategory.NEW:
                del self.set_aside_cases[case_id]
                self.enqueue(case, due=None)
                again = True
        return again


def _newest_first(summary: CaseSummary) -> tuple[float, str]:
    return (-summary.opened_at.timestamp(), summary.case_id)
