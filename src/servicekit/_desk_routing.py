"""The desk's routing room: the index of agents and the queue, kept beside one desk's store.

`ServiceDesk(routing=Routing(...))` owns one `DeskRouter`. The router keeps a
`RoutingIndex` of the directory (with each agent's load: owned cases that are
new or open, per channel) and a `RoutingQueue` of cases nobody could take, built
from the store on first use and then kept up to date by every append the desk
makes (`note`). It decides; the desk appends. Presence and the unanswered
assignments are kept in memory, per desk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta

import attrs

from servicekit.calendar import BusinessCalendar
from servicekit.case import Case
from servicekit.events import CaseReturnedToQueue, Event, OwnerAssigned
from servicekit.ownership import Agent
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
from servicekit.stores.base import CaseSummary, Store
from servicekit.workflow import StatusCategory

__all__ = ["DeskRouter", "Pending"]

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


class DeskRouter:
    """Routing state for one desk: who can take what, what waits, who has not answered."""

    def __init__(self, routing: Routing, *, calendar: BusinessCalendar) -> None:
        """Routing as configured, answer times counted on `calendar`; empty until `start`."""
        self.routing = routing
        self.calendar = calendar
        self.index = RoutingIndex()
        self.queue = RoutingQueue()
        self.pending: dict[str, Pending] = {}
        self._needs: dict[str, RoutingNeed] = {}
        self._reasons: dict[str, RoutingChoice | None] = {}
        self._started = False
        self.set_aside_cases: dict[str, str] = {}

    # -- building from the store ------------------------------------------------------------

    def start(
        self, store: Store, load: Callable[[str], Case], presences: Mapping[str, Presence]
    ) -> None:
        """Build the index and the queue from the store, once: agents, loads, waiting cases."""
        if self._started:
            return
        self._started = True
        for agent in store.agents():
            self.index.put(agent, presences.get(agent.id))
        for summary in store.find_cases():
            if summary.finished:
                continue
            case = load(summary.case_id)
            held = _load_of(case)
            if held is not None and held[0] in self._known():
                self.index.add_load(*held)
            if case.owner is None and summary.category is StatusCategory.NEW:
                self.enqueue(case, due=summary.next_due)

    def _known(self) -> set[str]:
        return {agent.id for agent in self.index.agents()}

    # -- the directory ----------------------------------------------------------------------

    def put_agent(self, agent: Agent) -> None:
        """The directory changed an agent (skills, capacity, active)."""
        self.index.put(agent)

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

    def recount(self, agent_id: str, store: Store, load: Callable[[str], Case]) -> None:
        """Count the agent's working cases again from the store (another desk assigned some)."""
        counts: dict[str, int] = {}
        for summary in store.find_cases(owner=agent_id):
            held = _load_of(load(summary.case_id))
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
                self.index.add_load(old[0], old[1], -1)
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


def _newest_first(summary: CaseSummary) -> tuple[float, str]:
    return (-summary.opened_at.timestamp(), summary.case_id)
