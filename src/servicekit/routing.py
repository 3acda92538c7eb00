"""Routing: who should own a case, from skills, capacity per channel and availability.

A host turns routing on with a `Routing` configuration. The pieces here are pure
(no I/O, no clock; times come in as parameters):

- `Availability` and `Presence`: whether an agent can take work now, and since
  when. Presence is the directory's record beside an `Agent`, not part of it.
- `skip_reason`: why an agent cannot take a case (`offline`, `away`, `at capacity`,
  `missing skill`, `inactive`), or None when they qualify.
- `RoutingIndex`: the working index a desk keeps of its agents, by channel and
  skill, in buckets of equal load. Choosing the least loaded qualifying agent
  looks at the head of one bucket list, so it costs about the same among 1,000
  agents as among 10. Equal loads are served round robin: an agent whose load
  changes goes to the back of their new bucket.
- `RoutingQueue`: cases nobody could take, ordered by priority, then the SLA's
  next due time, then waiting time, grouped by channel and skills, so that
  offering the queue when capacity frees looks only at cases that may fit.
- `RoutingExplanation`: the candidates with their loads and every agent skipped
  with the reason.

`RoutingIndex` and `RoutingQueue` are mutable working indexes, the kind the desk
keeps in memory (they are rebuilt from the directory and the store); everything
else is a frozen value.
"""

from __future__ import annotations

import bisect
import enum
import heapq
import itertools
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import attrs

from servicekit._values import require, utc
from servicekit.calendar import BusinessCalendar
from servicekit.errors import InvalidValue, UnknownAgent
from servicekit.ownership import Agent, skill_names

__all__ = [
    "Availability",
    "Candidate",
    "Presence",
    "QueuedCase",
    "Routing",
    "RoutingChoice",
    "RoutingExplanation",
    "RoutingIndex",
    "RoutingNeed",
    "RoutingQueue",
    "SkipReason",
    "Skipped",
    "skip_reason",
]


class Availability(enum.Enum):
    """Whether an agent takes new work now; the host sets it (`available` when registered)."""

    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


def _availability(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, Availability):
        allowed = ", ".join(f"Availability.{member.name}" for member in Availability)
        msg = f"availability must be one of {allowed}, got {value!r}"
        raise InvalidValue(msg)


def _optional_time(value: object) -> datetime | None:
    return None if value is None else utc(value, what="a presence's time")


@attrs.frozen(kw_only=True)
class Presence:
    """An agent's availability and the time it was set: the directory's record beside the agent.

    Availability is not a field of `Agent`: it changes by the minute, and the
    agent recorded in a case's history should stay the same value all day.
    """

    availability: Availability = attrs.field(
        default=Availability.AVAILABLE, validator=_availability
    )
    since: datetime | None = attrs.field(default=None, converter=_optional_time)


def _minutes(_instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{attribute.name} must be a whole number of minutes from 1, got {value!r}"
        raise InvalidValue(msg)


def _priorities(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        msg = f"priorities are names from the most to the least urgent, got {value!r}"
        raise InvalidValue(msg)
    names = tuple(value)
    if not names or not all(isinstance(name, str) and name.strip() for name in names):
        msg = f"priorities are non-blank names, most urgent first, got {value!r}"
        raise InvalidValue(msg)
    if len(set(names)) != len(names):
        msg = f"each priority is named once, got {names!r}"
        raise InvalidValue(msg)
    return names


def _optional_calendar(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, BusinessCalendar):
        msg = f"calendar must be a BusinessCalendar or None, got {value!r}"
        raise InvalidValue(msg)


@attrs.frozen(kw_only=True)
class Routing:
    """How a desk routes cases: turn it on with ``ServiceDesk(routing=Routing(...))``.

    Args:
        answer_minutes: business minutes (on the desk's calendar) the assignee has
            to answer a routed case before it returns to the queue.
        grace_minutes: business minutes an agent may be offline (or deactivated)
            before their unanswered cases are routed again.
        priorities: priority names from the most to the least urgent; the queue
            serves them in this order (an unknown priority comes after all of them).
        prefer_previous: offer a case first to the customer's steward or last
            owner, when they qualify.
        calendar: the business calendar answer times and grace periods are
            counted on; None: the desk's (its workflow's follow-up calendar).
    """

    answer_minutes: int = attrs.field(default=10, validator=_minutes)
    grace_minutes: int = attrs.field(default=15, validator=_minutes)
    priorities: tuple[str, ...] = attrs.field(
        default=("urgent", "high", "normal", "low"), converter=_priorities
    )
    prefer_previous: bool = True
    calendar: BusinessCalendar | None = attrs.field(default=None, validator=_optional_calendar)

    def rank(self, priority: str) -> int:
        """Where `priority` comes in the queue: 0 for the most urgent."""
        try:
            return self.priorities.index(priority)
        except ValueError:
            return len(self.priorities)


class SkipReason(enum.Enum):
    """Why routing passed an agent over."""

    INACTIVE = "inactive"
    OFFLINE = "offline"
    AWAY = "away"
    MISSING_SKILL = "missing skill"
    AT_CAPACITY = "at capacity"
    DID_NOT_ANSWER = "did not answer"


def _channel_name(channel: object) -> str:
    name = getattr(channel, "name", channel)
    if not isinstance(name, str) or not name:
        msg = f"a channel is a Channel or its name, got {channel!r}"
        raise InvalidValue(msg)
    return name


def _agent_ids(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        msg = f"preferred is a sequence of agent ids, got {value!r}"
        raise InvalidValue(msg)
    ids = tuple(value)
    if not all(isinstance(agent_id, str) and agent_id.strip() for agent_id in ids):
        msg = f"preferred agent ids are non-blank strings, got {ids!r}"
        raise InvalidValue(msg)
    return ids


def _agent_id_set(value: object) -> frozenset[str]:
    return frozenset(_agent_ids(value))


@attrs.frozen(kw_only=True)
class RoutingNeed:
    """What a case asks of its owner: a channel, skills, and whom to try first.

    `preferred` lists agent ids to offer the case to first, in order (the
    customer's steward, then their last owner), when they qualify; `avoid` lists
    agents not to offer it to again (they let it go unanswered).
    """

    channel: str = attrs.field(converter=_channel_name)
    skills: frozenset[str] = attrs.field(default=frozenset(), converter=skill_names)
    preferred: tuple[str, ...] = attrs.field(default=(), converter=_agent_ids)
    avoid: frozenset[str] = attrs.field(default=frozenset(), converter=_agent_id_set)

    @property
    def group(self) -> tuple[str, frozenset[str], frozenset[str]]:
        """What cases asking the same of an agent share: channel, skills, agents avoided."""
        return (self.channel, self.skills, self.avoid)


_ABSENT = {Availability.OFFLINE: SkipReason.OFFLINE, Availability.AWAY: SkipReason.AWAY}


def skip_reason(
    agent: Agent, presence: Presence, load: int, need: RoutingNeed
) -> SkipReason | None:
    """Why `agent` cannot take a case that has `need`, or None when they qualify.

    `load` is the agent's open cases on the need's channel. The reasons are
    checked in this order: did not answer (the need avoids them), inactive,
    offline, away, missing skill, at capacity.
    """
    if agent.id in need.avoid:
        return SkipReason.DID_NOT_ANSWER
    if not agent.active:
        return SkipReason.INACTIVE
    absent = _ABSENT.get(presence.availability)
    if absent is not None:
        return absent
    if not need.skills <= agent.skills:
        return SkipReason.MISSING_SKILL
    limit = agent.capacity_on(need.channel)
    if limit is not None and load >= limit:
        return SkipReason.AT_CAPACITY
    return None


@attrs.frozen
class Candidate:
    """An agent who qualified, with their open cases on the channel and their limit there."""

    agent_id: str
    load: int
    limit: int | None


@attrs.frozen
class Skipped:
    """An agent passed over, and why."""

    agent_id: str
    reason: SkipReason


@attrs.frozen
class RoutingChoice:
    """The agent routing chose, the rule that chose them, and their load before the case."""

    agent: Agent
    reason: str
    load: int


@attrs.frozen(kw_only=True)
class RoutingExplanation:
    """Why a case went where it did: the candidates, their loads, and who was skipped and why.

    `chosen` is None when nobody qualified (the case waits in the queue).
    """

    case_id: str
    channel: str
    skills: frozenset[str]
    chosen: str | None
    reason: str
    candidates: tuple[Candidate, ...]
    skipped: tuple[Skipped, ...]

    def __str__(self) -> str:
        """The explanation in a few lines a person reads."""
        needs = ", ".join(sorted(self.skills)) or "no particular skill"
        lines = [
            f"case {self.case_id!r} on {self.channel} needing {needs}: "
            + (f"routed to {self.chosen!r} ({self.reason})" if self.chosen else self.reason)
        ]
        lines += [
            f"  candidate {c.agent_id!r}: {c.load} open"
            + ("" if c.limit is None else f" of {c.limit}")
            for c in self.candidates
        ]
        lines += [f"  skipped {s.agent_id!r}: {s.reason.value}" for s in self.skipped]
        return "\n".join(lines)


class _Buckets:
    """Agent ids by load in insertion order: the head of the lowest bucket is least loaded.

    Moving an agent to another load appends them to its bucket, which makes equal
    loads round robin.
    """

    __slots__ = ("_by_load", "_loads")

    def __init__(self) -> None:
        # OrderedDict, not dict: taking agents off the front of a plain dict leaves holes
        # that every later look at its head walks over.
        self._by_load: dict[int, OrderedDict[str, None]] = {}
        self._loads: list[int] = []  # the loads that have a bucket, ascending

    def add(self, agent_id: str, load: int) -> None:
        bucket = self._by_load.get(load)
        if bucket is None:
            bucket = self._by_load[load] = OrderedDict()
            bisect.insort(self._loads, load)
        bucket[agent_id] = None

    def remove(self, agent_id: str, load: int) -> None:
        bucket = self._by_load.get(load)
        if bucket is None or agent_id not in bucket:
            return
        del bucket[agent_id]
        if not bucket:
            del self._by_load[load]
            self._loads.pop(bisect.bisect_left(self._loads, load))

    def in_order(self) -> Iterator[tuple[str, int]]:
        """Each agent id with its load, least loaded first, round robin within a load."""
        # No copies: a caller stops at the first agent that fits, before changing anything.
        for load in self._loads:
            for agent_id in self._by_load[load]:
                yield agent_id, load


class RoutingIndex:
    """The agents a desk routes to, indexed by channel and skill in buckets of equal load.

    Only agents who can take work on a channel (active, available, below their
    capacity there) are in that channel's buckets, once for every skill they
    have and once under no skill. Choosing for a case scans the buckets of its
    rarest required skill from the least loaded, so the cost does not grow with
    the number of agents who do not qualify.
    """

    def __init__(self) -> None:
        """An empty index; add agents with `put`."""
        self._agents: dict[str, Agent] = {}
        self._presence: dict[str, Presence] = {}
        self._loads: dict[str, dict[str, int]] = {}
        self._channels: dict[str, dict[str | None, _Buckets]] = {}
        self._skill_counts: dict[str, int] = {}

    # -- the directory ---------------------------------------------------------------------

    def put(self, agent: Agent, presence: Presence | None = None) -> None:
        """Add or update an agent (skills, capacity, active) and, if given, their presence."""
        require(agent, Agent, "the routing index holds agents")
        self._unlist(agent.id)
        old = self._agents.get(agent.id)
        for skill in old.skills if old is not None else ():
            self._skill_counts[skill] -= 1
        for skill in agent.skills:
            self._skill_counts[skill] = self._skill_counts.get(skill, 0) + 1
        self._agents[agent.id] = agent
        if presence is not None or agent.id not in self._presence:
            self._presence[agent.id] = presence or Presence()
        self._loads.setdefault(agent.id, {})
        self._list(agent.id)

    def set_presence(self, agent_id: str, presence: Presence) -> None:
        """Record an agent's availability."""
        self._unlist(self._known(agent_id).id)
        self._presence[agent_id] = presence
        self._list(agent_id)

    def agent(self, agent_id: str) -> Agent:
        """The agent as the index knows them; `UnknownAgent` if it does not."""
        return self._known(agent_id)

    def presence(self, agent_id: str) -> Presence:
        """The agent's availability and since when."""
        self._known(agent_id)
        return self._presence[agent_id]

    def load(self, agent_id: str, channel: object) -> int:
        """How many open cases the agent owns on `channel`."""
        self._known(agent_id)
        return self._loads[agent_id].get(_channel_name(channel), 0)

    def channels(self, agent_id: str) -> list[str]:
        """The channels on which the index counts open cases for the agent."""
        self._known(agent_id)
        return sorted(self._loads[agent_id])

    def agents(self) -> list[Agent]:
        """Every agent in the index, by id."""
        return [self._agents[agent_id] for agent_id in sorted(self._agents)]

    # -- loads -----------------------------------------------------------------------------

    def add_load(self, agent_id: str, channel: object, delta: int = 1) -> None:
        """Count `delta` more (or, negative, fewer) open cases for the agent on `channel`."""
        name = _channel_name(channel)
        self._known(agent_id)
        loads = self._loads[agent_id]
        new = loads.get(name, 0) + delta
        if new < 0:
            msg = f"agent {agent_id!r} has {loads.get(name, 0)} open cases on {name}, not {-delta}"
            raise InvalidValue(msg)
        buckets = self._channels.get(name)
        if buckets is not None:
            self._unlist_on(agent_id, name, buckets)
        loads[name] = new
        if buckets is not None:
            self._list_on(agent_id, name, buckets)

    def set_load(self, agent_id: str, channel: object, load: int) -> None:
        """Set the agent's open cases on `channel` (after counting them again in the store)."""
        self.add_load(agent_id, channel, load - self.load(agent_id, channel))

    # -- choosing --------------------------------------------------------------------------

    def qualifies(self, agent_id: str, need: RoutingNeed) -> SkipReason | None:
        """Why the agent cannot take a case with `need`, or None when they can."""
        agent = self._known(agent_id)
        load = self._loads[agent_id].get(need.channel, 0)
        return skip_reason(agent, self._presence[agent_id], load, need)

    def choose(self, need: RoutingNeed) -> RoutingChoice | None:
        """The agent a case with `need` goes to, or None when nobody qualifies.

        A preferred agent (the customer's steward or last owner) who qualifies
        comes first; then the least loaded on the channel, ties round robin.
        """
        for agent_id in need.preferred:
            if agent_id in self._agents and self.qualifies(agent_id, need) is None:
                load = self._loads[agent_id].get(need.channel, 0)
                return RoutingChoice(self._agents[agent_id], "the customer's previous agent", load)
        buckets = self._buckets(need.channel)
        rarest = min(need.skills, key=lambda skill: self._skill_counts.get(skill, 0), default=None)
        listed = buckets.get(rarest)
        if listed is None:
            return None
        for agent_id, load in listed.in_order():
            agent = self._agents[agent_id]
            if need.skills <= agent.skills and agent_id not in need.avoid:
                return RoutingChoice(agent, f"least loaded ({load} open on {need.channel})", load)
        return None

    def explain(
        self, case_id: str, need: RoutingNeed, choice: RoutingChoice | None
    ) -> RoutingExplanation:
        """Every agent as a candidate (with their load) or skipped (with why), for `need`.

        This looks at every agent: it is for people asking why, not for the hot path.
        """
        candidates: list[Candidate] = []
        skipped: list[Skipped] = []
        for agent in self.agents():
            reason = self.qualifies(agent.id, need)
            if reason is None:
                load = self._loads[agent.id].get(need.channel, 0)
                candidates.append(Candidate(agent.id, load, agent.capacity_on(need.channel)))
            else:
                skipped.append(Skipped(agent.id, reason))
        candidates.sort(key=lambda candidate: (candidate.load, candidate.agent_id))
        return RoutingExplanation(
            case_id=case_id,
            channel=need.channel,
            skills=need.skills,
            chosen=None if choice is None else choice.agent.id,
            reason="nobody qualifies: the case waits in the queue"
            if choice is None
            else choice.reason,
            candidates=tuple(candidates),
            skipped=tuple(skipped),
        )

    # -- private ---------------------------------------------------------------------------

    def _known(self, agent_id: str) -> Agent:
        agent = self._agents.get(agent_id)
        if agent is None:
            known = ", ".join(sorted(self._agents)[:10]) or "none"
            msg = f"agent {agent_id!r} is not in the routing index (known: {known})"
            raise UnknownAgent(msg)
        return agent

    def _buckets(self, channel: str) -> dict[str | None, _Buckets]:
        buckets = self._channels.get(channel)
        if buckets is None:
            # A channel seen for the first time: list everyone once.
            buckets = self._channels[channel] = {}
            for agent_id in self._agents:
                self._list_on(agent_id, channel, buckets)
        return buckets

    def _list(self, agent_id: str) -> None:
        for channel, buckets in self._channels.items():
            self._list_on(agent_id, channel, buckets)

    def _unlist(self, agent_id: str) -> None:
        if agent_id not in self._agents:
            return
        for channel, buckets in self._channels.items():
            self._unlist_on(agent_id, channel, buckets)

    def _list_on(self, agent_id: str, channel: str, buckets: dict[str | None, _Buckets]) -> None:
        agent = self._agents[agent_id]
        load = self._loads[agent_id].get(channel, 0)
        limit = agent.capacity_on(channel)
        if (
            not agent.active
            or self._presence[agent_id].availability is not Availability.AVAILABLE
            or (limit is not None and load >= limit)
        ):
            return  # what `skip_reason` checks, skills aside: the agent is listed by skill
        for skill in itertools.chain((None,), agent.skills):
            listed = buckets.get(skill)
            if listed is None:
                listed = buckets[skill] = _Buckets()
            listed.add(agent_id, load)

    def _unlist_on(self, agent_id: str, channel: str, buckets: dict[str | None, _Buckets]) -> None:
        agent = self._agents[agent_id]
        load = self._loads[agent_id].get(channel, 0)
        for skill in itertools.chain((None,), agent.skills):
            listed = buckets.get(skill)
            if listed is not None:
                listed.remove(agent_id, load)


_Group = tuple[str, frozenset[str], frozenset[str]]
"""A queue group: channel, required skills, agents avoided (see `RoutingNeed.group`)."""


@attrs.frozen(kw_only=True, order=False)
class QueuedCase:
    """A case waiting for an owner, with what orders it in the queue.

    The queue serves priority first (its rank in `Routing.priorities`), then the
    SLA's next due time (a case without one after those with one), then the
    longest wait.
    """

    case_id: str
    need: RoutingNeed
    rank: int
    due: datetime | None
    waiting_since: datetime

    @property
    def key(self) -> tuple[int, int, datetime, datetime, str]:
        """The queue order as one sortable key."""
        no_due = self.due is None
        return (
            self.rank,
            int(no_due),
            self.due or self.waiting_since,
            self.waiting_since,
            self.case_id,
        )


class RoutingQueue:
    """Cases nobody could take yet, in queue order, grouped by channel and required skills.

    Cases in one group ask the same of an agent, so when the head of a group
    finds nobody, none of the group does: offering the queue looks at one case
    per group that may fit, and at the cases it places.
    """

    def __init__(self) -> None:
        """An empty queue."""
        self._groups: dict[_Group, list[tuple[object, str]]] = {}
        self._entries: dict[str, QueuedCase] = {}

    def __len__(self) -> int:
        """How many cases wait."""
        return len(self._entries)

    def __contains__(self, case_id: object) -> bool:
        """Whether the case waits in the queue."""
        return case_id in self._entries

    def add(self, entry: QueuedCase) -> None:
        """Put a case in the queue (again, if it was in it: the entry is replaced)."""
        self.remove(entry.case_id)
        self._entries[entry.case_id] = entry
        group = self._groups.setdefault(entry.need.group, [])
        heapq.heappush(group, (entry.key, entry.case_id))

    def remove(self, case_id: str) -> None:
        """Take a case out of the queue (it was assigned, or finished); nothing if it is not in."""
        # The heap entry stays behind and is dropped when it reaches the head.
        self._entries.pop(case_id, None)

    def cases(self) -> list[QueuedCase]:
        """Every waiting case, in queue order."""
        return sorted(self._entries.values(), key=lambda entry: entry.key)

    def heads(self, skills: frozenset[str] | None = None) -> list[QueuedCase]:
        """The first case of each group, in queue order; only groups `skills` covers, if given."""
        return self._heads(skills, frozenset())

    def _heads(self, skills: frozenset[str] | None, blocked: frozenset[_Group]) -> list[QueuedCase]:
        heads = []
        for group, entries in self._groups.items():
            if group in blocked or (skills is not None and not group[1] <= skills):
                continue
            head = self._head(entries)
            if head is not None:
                heads.append(head)
        heads.sort(key=lambda entry: entry.key)
        return heads

    def _head(self, group: list[tuple[object, str]]) -> QueuedCase | None:
        while group:
            key, case_id = group[0]
            entry = self._entries.get(case_id)
            if entry is not None and entry.key == key:
                return entry
            heapq.heappop(group)  # assigned, finished or re-queued since
        return None

    def offer(
        self, index: RoutingIndex, *, skills: frozenset[str] | None = None
    ) -> Iterator[tuple[QueuedCase, RoutingChoice]]:
        """Offer the queue in order: each case that someone qualifies for, with its choice.

        The caller assigns each case before asking for the next one (and records
        the load in `index`); a case the caller does not assign stays queued and
        its group is not offered again in this pass. `skills` limits the pass to
        groups an agent with those skills could serve (the agent who freed up).
        """
        blocked: frozenset[_Group] = frozenset()
        while True:
            placed = False
            for head in self._heads(skills, blocked):
                choice = index.choose(head.need)
                group = head.need.group
                if choice is None:
                    blocked |= {group}
                    continue
                yield head, choice
                if head.case_id in self._entries:
                    blocked |= {group}  # the caller kept it queued
                placed = True
                break
            if not placed:
                return
