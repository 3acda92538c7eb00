"""The command path: decide a command on the case, append its events, retry lost races.

Every command a desk runs comes through `CommandPath.execute`: the case is read
(from the cache when it can be trusted), the command is decided by the pure core
on the values the directory holds now, the SLA policy the case now falls under is
recorded, and the events are appended at the version the decision was made on,
with the case's index entry and next due time, in one store transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import attrs

from servicekit._values import utc
from servicekit.case import Case, evolve
from servicekit.clock import Clock
from servicekit.commands import (
    AssignCase,
    Command,
    CompleteFollowUp,
    HandOverFollowUp,
    OpenCase,
    ReassignSteward,
    ScheduleFollowUp,
    TransferCase,
)
from servicekit.decisions import decide
from servicekit.desk.cases import CaseReader, fold
from servicekit.desk.directory import Directory
from servicekit.desk.results import Outcome, new_outcome
from servicekit.desk.sla_upkeep import SlaUpkeep
from servicekit.errors import (
    CommandRejected,
    ConcurrencyConflict,
    IdempotencyConflict,
    UnknownAgent,
)
from servicekit.events import Event
from servicekit.ownership import Agent
from servicekit.stores.base import CapacityClaim, CaseSummary, IdempotencyRecord, Store

if TYPE_CHECKING:
    from servicekit.desk.routing import RoutingRoom

__all__ = ["CommandPath"]


class CommandPath:
    """Runs commands against one store, on the desk's clock, directory and SLA upkeep."""

    def __init__(  # noqa: PLR0913 - the desk's parts, wired once by ServiceDesk
        self,
        *,
        store: Store,
        clock: Clock,
        cases: CaseReader,
        directory: Directory,
        upkeep: SlaUpkeep,
        max_attempts: int,
    ) -> None:
        """Wire the path to the desk's parts."""
        self._store = store
        self._clock = clock
        self._cases = cases
        self._directory = directory
        self._upkeep = upkeep
        self._max_attempts = max_attempts
        self._agent_record = store.get_agent  # bound once: the quick path's one look-up
        self.routing: RoutingRoom | None = None  # set by `RoutingRoom.wire` when routing is on

    def execute(self, case_id: str, command: Command, *, actor_read: bool = False) -> Outcome:
        """Decide `command` on the case and append its events, retrying lost races.

        `actor_read` says the command's acting agent is the directory's record, read
        just now (a named operation of the desk): the first attempt does not read it
        again. A command built elsewhere may carry a stale record, which it does.

        Raises:
            CommandRejected: the domain refused the command (nothing stored).
            IdempotencyConflict: the command's key was used for another command.
            ConcurrencyConflict: every attempt lost the race with another writer.
        """
        if (
            command.idempotency_key is None
            and self.routing is None
            and self._upkeep.policies is None
            and type(command) not in _RECEIVING
            and (case := self._cases.cached(case_id)) is not None
        ):
            # The usual command needs none of what `_attempts` prepares for: no key, no
            # SLA policies, no routing, nobody the case is handed to (so none of
            # `_decide_on`'s look-ups but the owner's). Every command comes here, so its
            # first attempt, on the cached case, is written out without the loop; it
            # decides, appends and caches what the loop would
            # (`test_the_quick_first_attempt_agrees_with_the_full_loop`).
            actor = command.actor
            # The directory is the truth (a queued command may carry a stale record); the
            # desk's own operations hand over the record they just read.
            if not actor_read and isinstance(actor, Agent):
                known = self._agent_record(actor.id)
                if known is not actor:
                    command = _with_actor(command, actor, known)
                    actor = command.actor
            judged = case if actor is case.owner else self._directory.current(case, actor)
            if type(command) is CompleteFollowUp:
                judged = self._directory.current_assignee(judged, command.follow_up_id)
            try:
                events = decide(judged, command, now=self.now(case))
            except CommandRejected:  # perhaps only as the cache is behind
                return self._attempts(case_id, command, actor_read=True)
            after = case
            for event in events:
                after = evolve(after, event)
            # Without SLA policies only follow-ups (and closing) have timers.
            next_due = self._upkeep.next_due(after, None) if after.record.follow_ups else None
            try:
                self._store.append(
                    case_id,
                    events,
                    expected_version=case.version,
                    summary=CaseSummary.of(after, next_due=next_due),
                )
            except ConcurrencyConflict as lost:
                self._cases.forget(case_id)
                self._upkeep.forget(case_id)
                return self._attempts(case_id, command, lost=lost)
            self._cases.remember(after)
            return new_outcome(after, events)
        return self._attempts(case_id, command, actor_read=actor_read)

    def _attempts(  # noqa: C901 - the steps of one attempt, in order, each a branch
        self,
        case_id: str,
        command: Command,
        *,
        lost: ConcurrencyConflict | None = None,
        actor_read: bool = False,
    ) -> Outcome:
        """Decide and append, deciding again on the stored case after each lost race.

        `lost` is the race the first attempt lost already, if `execute` made it;
        `actor_read` as for `execute` (the quick path read it, or the desk did).
        """
        key = command.idempotency_key
        fingerprint = _fingerprint(case_id, command) if key is not None else ""
        # A retry names the same agents (refreshed by id), so the same receivers.
        receivers = _receivers(command)
        upkeep, routing = self._upkeep, self.routing
        conflict = lost
        for attempt in range(0 if lost is None else 1, self._max_attempts):
            if key is not None:
                first = self._store.idempotency(key)
                if first is not None:
                    return self._first_result(first, fingerprint)
            # The directory is the truth: on a retry it may have changed under the lost
            # race, so every agent the command names is decided on as it is now; the
            # first attempt reads the acting agent, unless the caller read it just now.
            if attempt:
                command = self._as_directory_knows(command)
            elif not actor_read:
                command = self._actor_now(command)
            case, events = self._decide(case_id, command, trust_cache=attempt == 0)
            after = fold(case, events)
            if upkeep.policies is not None:
                applied = upkeep.policy_events(after, events[-1].at)
                if applied:
                    events, after = (*events, *applied), fold(after, applied)
            claim = None
            if routing is not None:
                events, after, claim = routing.plan(command, after, events)
            record = (
                None
                if key is None
                else IdempotencyRecord(key, case_id, fingerprint, case.version + 1, after.version)
            )
            try:
                self.append(
                    case,
                    events,
                    after,
                    idempotency=record,
                    # An opening hands the case to whoever owns it after: routing's choice too.
                    receivers=receivers if type(command) is not OpenCase else _owner(after),
                    capacity=claim,
                )
            except ConcurrencyConflict as race:
                conflict = race
                if claim is not None and routing is not None:
                    routing.lost_claim(claim)
                continue
            return new_outcome(after, events)
        assert conflict is not None  # noqa: S101 - the loop ran at least once
        raise ConcurrencyConflict(
            case_id,
            conflict.expected,
            conflict.actual,
            detail=(
                f"gave up after {self._max_attempts} attempts, each overtaken by another "
                "writer; try again later"
            ),
        ) from conflict

    def append(  # noqa: PLR0913 - what one append writes, all keyword-only
        self,
        case: Case,
        events: Sequence[Event],
        after: Case,
        *,
        history: Sequence[Event] | None = None,
        idempotency: IdempotencyRecord | None = None,
        receivers: Sequence[str] = (),
        capacity: CapacityClaim | None = None,
    ) -> None:
        """Append `events`, which take `case` to `after`, with its index entry and next due time.

        `history` is the case's history before the events, if the caller has it;
        `receivers` are agents the events hand the case to, who must still be active
        when the store commits; `capacity` is routing's claim on the new owner's
        capacity, which the store checks in the same transaction. Raises
        `ConcurrencyConflict` (and forgets the cached case) if another writer got
        there first, a receiver was deactivated or the claim no longer holds.
        """
        upkeep = self._upkeep
        if upkeep.policies is None:
            tracker = None  # no SLA clocks: only follow-ups (and closing) have timers
            next_due = upkeep.next_due(after, None) if after.record.follow_ups else None
        else:
            before = upkeep.tracker(case, history=history)
            tracker = None if before is None else before.apply(events)
            next_due = upkeep.next_due(after, tracker)
        summary = CaseSummary.of(after, next_due=next_due)
        try:
            self._store.append(
                case.case_id,
                events,
                expected_version=case.version,
                summary=summary,
                idempotency=idempotency,
                require_active=receivers,
                capacity=capacity,
            )
        except ConcurrencyConflict:
            self._cases.forget(case.case_id)
            upkeep.forget(case.case_id)
            raise
        self._cases.remember(after)
        if tracker is not None:
            upkeep.remember(case.case_id, tracker)
        if self.routing is not None:
            self.routing.appended(case, after, events, summary)

    def now(self, case: Case) -> datetime:
        """The clock's time, but never before the case's last event.

        Another process whose clock is a little behind may have written last; a
        history never goes back in time.
        """
        now = self._clock.now()
        if type(now) is not datetime or now.tzinfo is not UTC:  # the usual case skips the call
            now = utc(now, what="the desk's clock time")
        last = case.updated_at
        return last if last is not None and now < last else now

    def _decide(
        self, case_id: str, command: Command, *, trust_cache: bool
    ) -> tuple[Case, tuple[Event, ...]]:
        """Decide on the cached case if trusted and accepted, else on the stored case.

        A cached case may be behind another writer's events. That is safe: the
        append names the version the decision was made on, and the store refuses
        it if the case moved on. A refusal, though, may come from the stale state,
        so it is decided again on the stored case before it is believed. Either
        way the core judges the owner and steward as the directory knows them now;
        the events fold onto the case as the history has it.
        """
        cached = self._cases.cached(case_id) if trust_cache else None
        if cached is not None:
            try:
                return cached, self._decide_on(cached, command)
            except CommandRejected:
                pass  # perhaps only because the cache is behind: ask the store
        new = command.workflow if isinstance(command, OpenCase) else None
        case = self._cases.load(case_id, new=new)
        return case, self._decide_on(case, command)

    def _decide_on(self, case: Case, command: Command) -> tuple[Event, ...]:
        actor = command.actor
        if actor is not case.owner or type(command) is ReassignSteward:
            # Anyone but the owner acting (their record is the directory's, just read):
            # judge the case on the owner (and steward) as the directory knows them now.
            steward_too = type(command) is ReassignSteward
            case = self._directory.current(case, actor, steward_too=steward_too)
        if type(command) is HandOverFollowUp or type(command) is CompleteFollowUp:
            # "A supervisor of the assignee's team": the assignee's teams as they are now.
            case = self._directory.current_assignee(case, command.follow_up_id)
        return decide(case, command, now=self.now(case))

    def _actor_now(self, command: Command) -> Command:
        """The command with its acting agent as the directory knows them now.

        A command built elsewhere (a queue) may carry an agent's record from before
        a change (a deactivation, a new team); the directory is the truth, on the
        first attempt as on every retry (`_as_directory_knows`), so that whether the
        command is accepted never depends on a race. `UnknownAgent` if the directory
        does not know the agent. The desk's own operations hand over the directory's
        record, which comes back as it is.
        """
        actor = command.actor
        if not isinstance(actor, Agent):
            return command  # the customer or the system: nothing the directory keeps
        return _with_actor(command, actor, self._agent_record(actor.id))

    def _as_directory_knows(self, command: Command) -> Command:
        """The command with every agent it names as the directory knows them now."""
        changes = {
            field.name: self._directory.agent(value)
            for field in attrs.fields(type(command))
            if isinstance(value := getattr(command, field.name), Agent)
        }
        if not changes:
            return command
        refreshed: Command = attrs.evolve(command, **changes)  # type: ignore[arg-type]
        return refreshed

    def _first_result(self, record: IdempotencyRecord, fingerprint: str) -> Outcome:
        if record.fingerprint != fingerprint:
            raise IdempotencyConflict(record.key, record.case_id)
        history = self._store.load(record.case_id).events
        case = self._cases.replay(record.case_id, history[: record.last_version])
        first = history[record.first_version - 1 : record.last_version]
        return Outcome(case, first, duplicate=True)


def _with_actor(command: Command, actor: Agent, known: Agent | None) -> Command:
    """The command by `known`, the directory's record of its acting agent `actor`.

    `UnknownAgent` if the directory has no record; the command itself if the record
    equals the one it carries.
    """
    if known is None:
        raise UnknownAgent(actor.id)
    if known is actor or known == actor:
        return command
    refreshed: Command = attrs.evolve(command, actor=known)
    return refreshed


def _receivers(command: Command) -> tuple[str, ...]:
    """The agents a command hands the case (or its stewardship, or a follow-up) to."""
    field = _RECEIVING.get(type(command))
    if field is None:
        return ()  # the usual case: a move, a note, an offer
    agent = getattr(command, field)
    return () if agent is None else (agent.id,)


def _owner(case: Case) -> tuple[str, ...]:
    """The owner an opening hands the case to: the one it names, or the one routing chose."""
    owner = case.owner
    return () if owner is None else (owner.id,)


_RECEIVING: dict[type, str] = {
    AssignCase: "to",
    TransferCase: "to",
    ReassignSteward: "to",
    HandOverFollowUp: "to",
    ScheduleFollowUp: "assignee",
    OpenCase: "owner",
}
"""The field of each command that names an agent who must still be active when it commits."""


def _fingerprint(case_id: str, command: Command) -> str:
    """A digest of the command (its key left out) that is the same in every process.

    Agents are named by id, not by their whole record: a retry under the same key
    is the same command even if the directory changed an agent's teams meanwhile.
    """
    canonical = repr((case_id, _canonical(command)))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: object) -> object:
    """A value with sets sorted and attrs classes spelled out, so its repr is stable."""
    if isinstance(value, Agent):
        return ("Agent", value.id)
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
