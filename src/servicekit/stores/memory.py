"""`InMemoryStore`: a thread-safe store in plain dictionaries, for tests, demos and small tools."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

import attrs
from sortedcontainers import SortedList

from servicekit._values import utc
from servicekit.errors import ConcurrencyConflict, InvalidValue
from servicekit.events import Event
from servicekit.ownership import Agent, Role
from servicekit.stores.base import (
    CapacityClaim,
    CaseHistory,
    CaseSummary,
    IdempotencyRecord,
    StoredEvent,
    check_agent,
    check_append,
    inactive_agent,
    over_capacity,
)

_ONE_MICROSECOND = timedelta(microseconds=1)
_LAST_MOMENT = datetime.max.replace(tzinfo=UTC) - _ONE_MICROSECOND
"""Past this (at `datetime.max`), every due time is at or before a bound, and one
microsecond more overflows; at it, a case due at `datetime.max` is not due yet."""

__all__ = ["InMemoryStore"]

_INDEXED = ("owner", "steward", "customer", "stage", "workflow", "follow_up_assignee")


class InMemoryStore:
    """Every case, event, index entry and agent in memory, behind one lock.

    Nothing survives the process. The index keeps one ``{value: case ids}`` map
    per criterion, so queries read the matching cases only.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.RLock()
        self._events: dict[str, list[Event]] = {}
        self._log: list[Event] = []
        self._summaries: dict[str, CaseSummary] = {}
        self._index: dict[str, defaultdict[str, set[str]]] = {
            name: defaultdict(set) for name in _INDEXED
        }
        self._by_stage = self._index["stage"]  # the one most appends change (on a move)
        self._keys: dict[str, IdempotencyRecord] = {}
        self._agents: dict[str, Agent] = {}
        self._teams: defaultdict[str, set[str]] = defaultdict(set)  # team -> agent ids
        # (team, role) -> agent ids: a team's supervisors without reading the whole team
        self._team_roles: defaultdict[tuple[str, Role], set[str]] = defaultdict(set)
        self._checkpoints: dict[str, int] = {}
        # (next_due, case_id), sorted: a B-tree-like list whose insert and removal cost
        # O(log n), where a plain sorted list moves every later entry (O(n) per change).
        self._due: SortedList[tuple[datetime, str]] = SortedList()

    def __repr__(self) -> str:
        """Say how much it holds."""
        return f"<InMemoryStore: {len(self._events)} cases, {len(self._log)} events>"

    def load(self, case_id: str, *, after_version: int = 0) -> CaseHistory:
        """The case's events after `after_version`, and its current version."""
        with self._lock:
            events = self._events.get(case_id, [])
            return CaseHistory(case_id, tuple(events[max(after_version, 0) :]), len(events))

    def append(  # noqa: C901, PLR0913 - the contract's options; the quick check beside the full
        self,
        case_id: str,
        events: Sequence[Event],
        *,
        expected_version: int,
        summary: CaseSummary,
        idempotency: IdempotencyRecord | None = None,
        require_active: Collection[str] = (),
        capacity: CapacityClaim | None = None,
    ) -> int:
        """Append atomically, or raise `ConcurrencyConflict` and write nothing.

        The conflict means the version moved, the idempotency key is used, an
        agent of `require_active` is not registered and active, or the append
        breaks the `capacity` claim.
        """
        summaries = self._summaries
        # The usual append continues a case held here with a new stage, version and
        # times only: what else its entry names is what the store accepted before.
        known = summaries.get(case_id)
        if (
            known is None
            or idempotency is not None
            or require_active
            or not self._continues(known, case_id, events, expected_version, summary)
        ):
            check_append(
                case_id,
                events,
                expected_version,
                summary,
                idempotency=idempotency,
                require_active=require_active,
            )
            _check_indexable(case_id, summary)
            known = None
        lock = self._lock
        lock.acquire()  # not `with`: this is every command's path, and `with` costs twice as much
        try:
            stored = self._events.get(case_id)
            if stored is None:
                stored = []
            if len(stored) != expected_version:
                raise ConcurrencyConflict(case_id, expected_version, len(stored))
            if idempotency is not None or require_active or capacity is not None:
                reason = self._unmet(summary, idempotency, require_active, capacity)
                if reason is not None:
                    raise ConcurrencyConflict(case_id, expected_version, len(stored), detail=reason)
            old = summaries.get(case_id)
            # `check_append` (a list of assignees) and `_check_indexable` (an unhashable
            # name) have refused every value the index could not take, and a quick-path
            # entry names what an accepted one named: nothing below fails half-way through.
            if old is None:
                self._index_new(summary)
                self._events[case_id] = stored
            elif old is known:
                # `_continues`: only the stage and the next due time may have changed.
                if summary.stage != old.stage:
                    by_stage = self._by_stage
                    by_stage[old.stage].discard(case_id)
                    by_stage[summary.stage].add(case_id)
                if summary.next_due != old.next_due:
                    self._move_due(case_id, old.next_due, summary.next_due)
            else:
                self._reindex(old, summary)
            summaries[case_id] = summary
            stored.extend(events)
            self._log.extend(events)
            if idempotency is not None:
                self._keys[idempotency.key] = idempotency
            return len(stored)
        finally:
            lock.release()

    def _continues(
        self,
        known: CaseSummary,
        case_id: str,
        events: Sequence[Event],
        expected_version: int,
        summary: CaseSummary,
    ) -> bool:
        """Whether the append surely passes `check_append`, checked against the entry held.

        That is an append that numbers its events on from a version past 0, each of the
        case and at a UTC time, with an entry of their last version whose ids, names,
        follow-up assignees and opening time are the very objects of the entry `known`
        (accepted before), whose stage is one the store has indexed (so accepted before)
        and whose other times are UTC. The desk's every move is such an append. Anything
        else goes to `check_append`, which refuses what is wrong and names it
        (`test_the_memory_stores_quick_check_passes_only_what_check_append_passes`).
        """
        if expected_version <= 0 or not events:
            return False
        version = expected_version
        for event in events:
            version += 1
            at = event.at
            if (
                event.version != version
                or type(event.version) is not int
                or event.case_id != case_id
                or type(at) is not datetime
                or at.tzinfo is not UTC
            ):
                return False
        updated, due, stage = summary.updated_at, summary.next_due, summary.stage
        return (
            summary.version == version
            and type(summary.version) is int
            and summary.case_id == case_id
            and summary.customer_id is known.customer_id
            and summary.workflow is known.workflow
            and summary.owner_id is known.owner_id
            and summary.steward_id is known.steward_id
            and summary.follow_up_assignee_ids is known.follow_up_assignee_ids
            and summary.opened_at is known.opened_at
            and type(stage) is str
            and stage in self._by_stage
            and type(updated) is datetime
            and updated.tzinfo is UTC
            and (due is None or (type(due) is datetime and due.tzinfo is UTC))
        )

    def _reindex(self, old: CaseSummary, summary: CaseSummary) -> None:
        """Move the case in the index from its entry `old` to `summary` (locked).

        Most appends change one criterion at most (the stage, on a move): each is
        compared directly, and the index touched only where it changed. The desk
        never changes a case's customer or workflow, but a host's entry may: what the
        store accepts, it finds by.
        """
        case_id = summary.case_id
        if summary.stage != old.stage:
            by_stage = self._by_stage
            by_stage[old.stage].discard(case_id)
            by_stage[summary.stage].add(case_id)
        if summary.owner_id != old.owner_id:
            _move(self._index["owner"], case_id, old.owner_id, summary.owner_id)
        if summary.steward_id != old.steward_id:
            _move(self._index["steward"], case_id, old.steward_id, summary.steward_id)
        if summary.follow_up_assignee_ids != old.follow_up_assignee_ids:
            self._index_assignees(summary, old.follow_up_assignee_ids)
        if summary.next_due != old.next_due:
            self._move_due(case_id, old.next_due, summary.next_due)
        if summary.customer_id != old.customer_id:
            _move(self._index["customer"], case_id, old.customer_id, summary.customer_id)
        if summary.workflow != old.workflow:
            _move(self._index["workflow"], case_id, old.workflow, summary.workflow)

    def _unmet(
        self,
        summary: CaseSummary,
        idempotency: IdempotencyRecord | None,
        require_active: Collection[str],
        capacity: CapacityClaim | None,
    ) -> str | None:
        """Why the append's key, receivers or capacity claim refuse it now, or None (locked)."""
        if idempotency is not None and idempotency.key in self._keys:
            return f"idempotency key {idempotency.key!r} was used meanwhile"
        reason = inactive_agent(require_active, self._agents.get) if require_active else None
        if reason is None and capacity is not None:
            held = self._index["owner"].get(capacity.agent_id, set())
            reason = over_capacity(capacity, summary, (self._summaries[c] for c in held))
        return reason

    def _move_due(self, case_id: str, before: datetime | None, after: datetime | None) -> None:
        """Move the case in the due index from one due time (None: not in it) to another."""
        if before is not None:
            self._due.remove((before, case_id))
        if after is not None:
            self._due.add((after, case_id))

    def _index_new(self, summary: CaseSummary) -> None:
        """Index a case seen for the first time under every criterion."""
        index, case_id = self._index, summary.case_id
        for name, value in (
            ("owner", summary.owner_id),
            ("steward", summary.steward_id),
            ("customer", summary.customer_id),
            ("stage", summary.stage),
            ("workflow", summary.workflow),
        ):
            if value is not None:
                index[name][value].add(case_id)
        self._index_assignees(summary, frozenset())
        self._move_due(case_id, None, summary.next_due)

    def _index_assignees(self, summary: CaseSummary, before: frozenset[str]) -> None:
        """Index the agents with an open follow-up on the case, who were `before`."""
        case_id = summary.case_id
        now = summary.follow_up_assignee_ids
        by_assignee = self._index["follow_up_assignee"]
        for agent_id in before - now:
            by_assignee[agent_id].discard(case_id)
        for agent_id in now - before:
            by_assignee[agent_id].add(case_id)

    def set_next_due(self, case_id: str, *, version: int, next_due: datetime | None) -> bool:
        """Replace the case's next due time if the case is still at `version`."""
        due = None if next_due is None else utc(next_due, what="next_due")
        with self._lock:
            known = self._summaries.get(case_id)
            if known is None or known.version != version:
                return False
            self._move_due(case_id, known.next_due, due)
            self._summaries[case_id] = attrs.evolve(known, next_due=due)
            return True

    def read_all(self, *, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Events of every case in append order, from position `after` + 1 on."""
        with self._lock:
            start = max(after, 0)
            stop = len(self._log) if limit is None else start + max(limit, 0)
            return [
                StoredEvent(position, event)
                for position, event in enumerate(self._log[start:stop], start=start + 1)
            ]

    def find_cases(  # noqa: PLR0913 - one keyword-only option per indexed criterion
        self,
        *,
        owner: str | None = None,
        steward: str | None = None,
        customer: str | None = None,
        stage: str | None = None,
        workflow: str | None = None,
        follow_up_assignee: str | None = None,
    ) -> list[CaseSummary]:
        """Index entries matching every given criterion, by opening time then id."""
        wanted = {
            "owner": owner,
            "steward": steward,
            "customer": customer,
            "stage": stage,
            "workflow": workflow,
            "follow_up_assignee": follow_up_assignee,
        }
        with self._lock:
            matches: set[str] | None = None
            for name, value in wanted.items():
                if value is None:
                    continue
                ids = self._index[name].get(value, set())
                matches = set(ids) if matches is None else matches & ids
            found = (
                self._summaries.values()
                if matches is None
                else (self._summaries[case_id] for case_id in matches)
            )
            return sorted(found, key=lambda summary: (summary.opened_at, summary.case_id))

    def find_due(
        self, *, until: datetime | None = None, limit: int | None = None
    ) -> list[CaseSummary]:
        """Index entries due at or before `until` (any, if None), earliest first."""
        bound = None if until is None else utc(until, what="until")
        with self._lock:
            end = len(self._due) if bound is None else self._due_before(bound)
            if limit is not None:
                end = min(end, max(limit, 0))
            return [self._summaries[case_id] for _, case_id in self._due.islice(0, end)]

    def _due_before(self, bound: datetime) -> int:
        """How many entries of the due index fall due at or before `bound`.

        The index holds (due, case id) pairs: every pair before the first one at
        `bound` plus one microsecond (the resolution of a datetime) with the empty
        id, whatever the case ids sort like.
        """
        if bound > _LAST_MOMENT:
            return len(self._due)
        return self._due.bisect_left((bound + _ONE_MICROSECOND, ""))

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        """The record of the first command that used `key`, if any."""
        with self._lock:
            return self._keys.get(key)

    def put_agent(self, agent: Agent, *, expected: Agent | None = None) -> bool:
        """Add or replace an agent; with `expected`, only if that is the record held now."""
        check_agent(agent, expected=expected)
        with self._lock:
            old = self._agents.get(agent.id)
            if expected is not None and old != expected:
                return False
            for team in () if old is None else old.teams - agent.teams:
                self._teams[team].discard(agent.id)
            for team in agent.teams:
                self._teams[team].add(agent.id)
            now = _team_roles(agent)
            for pair in set() if old is None else _team_roles(old) - now:
                self._team_roles[pair].discard(agent.id)
            for pair in now:
                self._team_roles[pair].add(agent.id)
            self._agents[agent.id] = agent
            return True

    def get_agent(self, agent_id: str) -> Agent | None:
        """The agent with this id, if registered."""
        # One dict read is atomic and `put_agent` replaces a record in one store, so this
        # needs no lock (every command of a desk reads its actor here).
        return self._agents.get(agent_id)

    def agents(self) -> list[Agent]:
        """Every registered agent, ordered by id."""
        with self._lock:
            return [self._agents[agent_id] for agent_id in sorted(self._agents)]

    def agents_in_team(self, team: str, *, role: Role | None = None) -> list[Agent]:
        """The registered agents who belong to `team` (and hold `role`, if given), by id."""
        with self._lock:
            ids = (
                self._teams.get(team, ())
                if role is None
                else self._team_roles.get((team, role), ())
            )
            return [self._agents[agent_id] for agent_id in sorted(ids)]

    def checkpoint(self, name: str) -> int:
        """The last position the consumer `name` has handled (0 if none yet)."""
        with self._lock:
            return self._checkpoints.get(name, 0)

    def save_checkpoint(self, name: str, position: int) -> None:
        """Record that the consumer `name` has handled every event up to `position`."""
        with self._lock:
            self._checkpoints[name] = position


def _check_indexable(case_id: str, summary: CaseSummary) -> None:
    """Refuse an entry whose names the index cannot key by (`InvalidValue`), before writing.

    `check_append` lets any text through, a `str` subclass too, and one that sets
    ``__hash__ = None`` cannot key a dict: the index would be left half-updated.
    """
    try:
        hash((summary.customer_id, summary.workflow, summary.stage))
        hash((summary.owner_id, summary.steward_id))
    except TypeError:
        for what, value in (
            ("the customer id", summary.customer_id),
            ("the workflow name", summary.workflow),
            ("the stage", summary.stage),
            ("the owner id", summary.owner_id),
            ("the steward id", summary.steward_id),
        ):
            try:
                hash(value)
            except TypeError:
                msg = (
                    f"the index entry of case {case_id!r} must give {what} as text the "
                    f"index can key by, got unhashable {type(value).__name__}: {value!r}"
                )
                raise InvalidValue(msg) from None
        raise


def _team_roles(agent: Agent) -> set[tuple[str, Role]]:
    """Every (team, role) pair the agent holds, as the team-role index keys them."""
    return {(team, role) for team in agent.teams for role in agent.roles}


def _move(
    index: defaultdict[str, set[str]], case_id: str, old: str | None, new: str | None
) -> None:
    """Move the case from one value's entry of an index to another's."""
    if old is not None:
        index[old].discard(case_id)
    if new is not None:
        index[new].add(case_id)
