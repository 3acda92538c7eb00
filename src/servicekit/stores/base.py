"""The storage contract: the records a store keeps and the `Store` protocol."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

import attrs

from servicekit._values import MAX_NAME_LENGTH, filler, storable, utc
from servicekit.case import Case
from servicekit.errors import InvalidValue
from servicekit.events import (
    Event,
    FollowUpCompleted,
    FollowUpHandedOver,
    FollowUpScheduled,
    StewardReassigned,
)
from servicekit.ownership import Agent, Role
from servicekit.workflow import StatusCategory

__all__ = [
    "CapacityClaim",
    "CaseHistory",
    "CaseSummary",
    "IdempotencyRecord",
    "Store",
    "StoredEvent",
    "check_agent",
    "check_append",
    "counts_against_capacity",
    "inactive_agent",
    "open_follow_up_assignees",
    "over_capacity",
    "storable",
]


@attrs.frozen
class CaseSummary:
    """A case's entry in the query index: who it is for, where it stands, who is on it.

    The service desk computes it from the case after every append and the store
    writes it in the same transaction as the events. `next_due` is the earliest
    moment at which a timer of the case (an SLA warning, breach or escalation)
    falls due, so that `Store.find_due` finds the cases `ServiceDesk.tick` must
    visit without looking at the others. `workflow` is the name of the workflow
    the case was opened on (from its `CaseOpened`). `follow_up_assignee_ids` are
    the agents with an open follow-up on the case, so that an agent who still owes
    a customer a call is found without folding every case. `channel` is the
    channel the case came in on (None in entries written before routing), so that
    a store counts an agent's working cases per channel for a `CapacityClaim`.
    """

    case_id: str
    customer_id: str
    workflow: str
    stage: str
    category: StatusCategory
    finished: bool
    owner_id: str | None
    steward_id: str | None
    version: int
    opened_at: datetime
    updated_at: datetime
    next_due: datetime | None = None
    follow_up_assignee_ids: frozenset[str] = frozenset()
    channel: str | None = None

    @classmethod
    def of(cls, case: Case, *, next_due: datetime | None = None) -> CaseSummary:
        """The index entry of an opened case, with its next due time if it has one."""
        record = case.record
        opened_at = record.opened_at
        if case.stage is None or record.customer_id is None or opened_at is None:
            msg = f"case {case.case_id!r} is not opened; only opened cases are indexed"
            raise InvalidValue(msg)
        workflow = case.workflow
        # The workflow's own table, read without the call: this runs on every append.
        stage = workflow._stages.get(case.stage) or workflow.stage(case.stage)  # noqa: SLF001
        owner, steward = case.owner, case.steward
        if next_due is not None:
            next_due = utc(next_due, what="next_due")
        assignees = (
            _NOBODY
            if not record.follow_ups
            else frozenset(f.assignee.id for f in case.open_follow_ups)
        )
        updated_at = case.updated_at or opened_at
        if cls is not CaseSummary:  # a subclass may have fields of its own
            return cls(
                case.case_id,
                record.customer_id,
                workflow.name,
                stage.name,
                stage.category,
                stage.final,
                None if owner is None else owner.id,
                None if steward is None else steward.id,
                case.version,
                opened_at,
                updated_at,
                next_due,
                assignees,
                record.channel,
            )
        # This runs on every append: built by plain slot stores (see `filler`); the
        # fields have no validators or converters to skip.
        summary = _SummaryFiller()
        summary.case_id = case.case_id
        summary.customer_id = record.customer_id
        summary.workflow = workflow.name
        summary.stage = stage.name
        summary.category = stage.category
        summary.finished = stage.final
        summary.owner_id = None if owner is None else owner.id
        summary.steward_id = None if steward is None else steward.id
        summary.version = case.version
        summary.opened_at = opened_at
        summary.updated_at = updated_at
        summary.next_due = next_due
        summary.follow_up_assignee_ids = assignees
        summary.channel = record.channel
        summary.__class__ = CaseSummary
        built: CaseSummary = summary
        return built


_NOBODY: frozenset[str] = frozenset()

_SummaryFiller = filler(CaseSummary)


_WORKING = frozenset({StatusCategory.NEW, StatusCategory.OPEN})


def counts_against_capacity(summary: CaseSummary) -> bool:
    """Whether the case takes up its owner's capacity: owned, unfinished, new or open.

    A case waiting on the customer, won, lost or resolved frees its owner.
    """
    return (
        summary.owner_id is not None
        and not summary.finished
        and summary.category in _WORKING
        and summary.channel is not None
    )


@attrs.frozen
class CapacityClaim:
    """What an append claims: after it, `agent_id` owns at most `limit` working cases on `channel`.

    Routing passes one with the append that assigns a case, so that two desks on
    one store deciding at once cannot both give an agent their last free place:
    the store counts inside the append's transaction and refuses the loser with
    `ConcurrencyConflict`.
    """

    agent_id: str
    channel: str
    limit: int


def over_capacity(
    claim: CapacityClaim, summary: CaseSummary, others: Iterable[CaseSummary]
) -> str | None:
    """Why the append breaks `claim`, or None (for store authors).

    `summary` is the appended case's new entry; `others` are the agent's other
    entries as the store holds them inside the append's transaction.
    """
    held = sum(
        1
        for other in others
        if other.case_id != summary.case_id
        and other.owner_id == claim.agent_id
        and other.channel == claim.channel
        and counts_against_capacity(other)
    )
    if summary.owner_id == claim.agent_id and summary.channel == claim.channel:
        held += counts_against_capacity(summary)
    if held > claim.limit:
        return (
            f"agent {claim.agent_id!r} would hold {held} working cases on {claim.channel}, "
            f"over their capacity of {claim.limit}"
        )
    return None


@attrs.frozen
class StoredEvent:
    """An event with its place in the store's one global order (positions from 1)."""

    position: int
    event: Event


@attrs.frozen
class CaseHistory:
    """What `Store.load` returns: the requested events of a case and its current version."""

    case_id: str
    events: tuple[Event, ...]
    version: int


@attrs.frozen
class IdempotencyRecord:
    """The first use of an idempotency key: which case, which command, which events."""

    key: str
    case_id: str
    fingerprint: str
    first_version: int
    last_version: int


@runtime_checkable
class Store(Protocol):  # pragma: no mutate block - methods a mutant adds would join the protocol
    """What a host application implements to keep servicekit's data in its own database.

    Run `servicekit.testing.StoreContract` against an implementation to check it.
    """

    def load(self, case_id: str, *, after_version: int = 0) -> CaseHistory:
        """The case's events after `after_version`, and its current version (0: no case)."""
        ...  # pragma: no cover - a protocol has no body

    def append(  # noqa: PLR0913 - the contract's options, keyword-only
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
        """Append atomically and return the new version.

        Raises `ConcurrencyConflict` when the case is no longer at
        `expected_version`, when `idempotency.key` is already recorded, or when
        an agent id in `require_active` is not registered and active in the
        directory at the moment of the append (checked inside the append's
        transaction, so that a transfer to an agent and the agent's deactivation
        exclude each other), or when the append breaks a `capacity` claim (the
        agent would own more working cases on the channel than the claim's
        limit, counted inside the same transaction); then nothing is written.
        Raises `InvalidValue` for events that do not follow `expected_version`
        (see `check_append`).
        """
        ...  # pragma: no cover - a protocol has no body

    def read_all(self, *, after: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Events of every case in one global order, from position `after` + 1 on."""
        ...  # pragma: no cover - a protocol has no body

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
        """Index entries matching every given criterion (all cases when none is given).

        `follow_up_assignee` matches cases where that agent has an open follow-up.
        Ordered by opening time, then case id. Must use an index, never a scan,
        when a criterion is given.
        """
        ...  # pragma: no cover - a protocol has no body

    def set_next_due(self, case_id: str, *, version: int, next_due: datetime | None) -> bool:
        """Replace the case's next due time in the index if the case is still at `version`.

        For a due time that went stale (the SLA policies changed since it was
        written): `ServiceDesk.tick` corrects it without appending an event.
        Returns whether it was replaced; a case that moved on is left alone (its own
        append wrote a fresh due time).
        """
        ...  # pragma: no cover - a protocol has no body

    def find_due(
        self, *, until: datetime | None = None, limit: int | None = None
    ) -> list[CaseSummary]:
        """Index entries with a `next_due` at or before `until` (any, if None), earliest first.

        Must read an index ordered by due time: its cost follows the cases that
        are due, not all cases.
        """
        ...  # pragma: no cover - a protocol has no body

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        """The record of the first command that used `key`, if any."""
        ...  # pragma: no cover - a protocol has no body

    def put_agent(self, agent: Agent, *, expected: Agent | None = None) -> bool:
        """Add an agent to the directory, or replace the one with the same id; True if written.

        With `expected` (the record the change was made from), a compare-and-set:
        the agent is written only if the directory holds exactly that record at
        the moment of the write (checked inside the write's transaction), else
        nothing is written and it returns False, so that a change another writer
        made meanwhile (teams, roles) is never lost. Without it, always written.
        Raises `InvalidValue` for an agent it could not store or an `expected`
        record of another agent (see `check_agent`).
        """
        ...  # pragma: no cover - a protocol has no body

    def get_agent(self, agent_id: str) -> Agent | None:
        """The agent with this id, if registered."""
        ...  # pragma: no cover - a protocol has no body

    def agents(self) -> list[Agent]:
        """Every registered agent, ordered by id."""
        ...  # pragma: no cover - a protocol has no body

    def agents_in_team(self, team: str, *, role: Role | None = None) -> list[Agent]:
        """The registered agents who belong to `team` (and hold `role`, if given), by id.

        Must read an index by team: its cost follows the team, not the directory.
        With `role` (a breach looks for a team's supervisors) the in-memory store
        reads an index by team and role, so the cost follows the agents found.
        """
        ...  # pragma: no cover - a protocol has no body


def open_follow_up_assignees(history: Iterable[Event]) -> frozenset[str]:
    """The agents with an open follow-up at the end of `history` (for store migrations).

    The same answer as `CaseSummary.of(case).follow_up_assignee_ids` for the case
    the history folds into, without needing its workflow.
    """
    assignees: dict[int, str] = {}
    for event in history:
        if isinstance(event, FollowUpScheduled):
            assignees[event.follow_up_id] = event.assignee.id
        elif isinstance(event, FollowUpHandedOver):
            assignees[event.follow_up_id] = event.to_assignee.id
        elif isinstance(event, FollowUpCompleted):
            assignees.pop(event.follow_up_id, None)
        elif isinstance(event, StewardReassigned):
            leaving, taking = event.from_steward.id, event.to_steward.id
            assignees = {k: taking if v == leaving else v for k, v in assignees.items()}
    return frozenset(assignees.values())


def check_append(  # noqa: PLR0913 - what an append holds, and its options keyword-only
    case_id: str,
    events: Sequence[Event],
    expected_version: int,
    summary: CaseSummary,
    *,
    idempotency: IdempotencyRecord | None = None,
    require_active: Collection[str] = (),
) -> None:
    """Refuse an append that could not be a continuation of the case (for store authors).

    The events must be non-empty, all of `case_id`, numbered on from
    `expected_version` without gaps (versions are `int`, not `True`), each at
    a timezone-aware time (`at`: a store could not read a naive one back), and
    `summary` must describe the case at the last of them, its
    `follow_up_assignee_ids` a frozenset of agent ids; `require_active` must
    hold agent ids (strings). Every id and
    name the store keeps as text (the case id, the summary's names, the
    idempotency key) must be storable as UTF-8: a lone surrogate such as
    U+D800 is refused. Raises `InvalidValue`; call it before writing.
    """
    for agent_id in require_active:
        if type(agent_id) is not str:  # a caller's mistake typing cannot catch at run time
            msg = (
                f"require_active of an append to case {case_id!r} holds agent ids, got {agent_id!r}"
            )
            raise InvalidValue(msg)
    key = None if idempotency is None else idempotency.key
    # This runs on every append. The usual one (events numbered on, an entry of their
    # last version with UTC times, ids and names short ASCII without NUL) passes every
    # check of `_check_each`, and is recognised here in one pass, where `_check_each`
    # checks and names each value one by one; anything else is looked at closer there,
    # which refuses what is wrong or lets it through
    # (`test_the_quick_append_check_agrees_with_the_full_one`).
    if expected_version < 0 or not events:
        _check_each(case_id, events, expected_version, summary, key)
        return
    version = expected_version
    for event in events:
        version += 1
        at = event.at
        if (
            event.version != version
            or type(event.version) is not int
            or event.case_id != case_id
            or type(at) is not datetime
            or at.tzinfo is not UTC  # as `decide` writes it; another zone is looked at closer
        ):
            _check_each(case_id, events, expected_version, summary, key)
            return
    owner, steward = summary.owner_id, summary.steward_id
    try:
        # ASCII, short and without NUL in all, which one join says at once (`isascii` is
        # O(1); short in all means short each); a value that is not text raises.
        joined = "".join(
            [
                case_id,
                summary.customer_id,
                summary.workflow,
                summary.stage,
                "" if owner is None else owner,
                "" if steward is None else steward,
                "" if key is None else key,
                *summary.follow_up_assignee_ids,
            ]
        )
    except TypeError:
        joined = "\x00"  # not the usual append
    updated, opened, due = summary.updated_at, summary.opened_at, summary.next_due
    if not (
        summary.version == version
        and type(summary.version) is int  # not True, which equals 1
        and type(summary.follow_up_assignee_ids) is frozenset
        and summary.case_id == case_id
        # UTC, as the desk writes them; another zone's offset is asked for closer up.
        and type(updated) is datetime
        and updated.tzinfo is UTC
        and type(opened) is datetime
        and opened.tzinfo is UTC
        and (due is None or (type(due) is datetime and due.tzinfo is UTC))
        and joined.isascii()
        and len(joined) <= MAX_NAME_LENGTH
        and "\x00" not in joined
    ):
        _check_each(case_id, events, expected_version, summary, key)


def _check_each(
    case_id: str,
    events: Sequence[Event],
    expected_version: int,
    summary: CaseSummary,
    key: object,
) -> None:
    """Every check of `check_append` but `require_active`'s, one by one, naming what is wrong."""
    _check_text(case_id, summary, key)
    if expected_version < 0:
        msg = f"expected_version must be 0 or more, got {expected_version}"
        raise InvalidValue(msg)
    if not events:
        msg = f"an append to case {case_id!r} needs at least one event"
        raise InvalidValue(msg)
    version = expected_version
    for event in events:
        version += 1
        if type(event.version) is not int:  # True equals 1, but no store keeps it as 1
            msg = (
                f"an append to case {case_id!r} numbers its events with whole numbers, "
                f"got version {event.version!r}"
            )
            raise InvalidValue(msg)
        if event.case_id != case_id:
            msg = f"an append to case {case_id!r} holds an event of case {event.case_id!r}"
            raise InvalidValue(msg)
        if event.version != version:
            msg = (
                f"an append to case {case_id!r} at version {expected_version} must number its "
                f"events from {expected_version + 1} without gaps; got version {event.version}"
            )
            raise InvalidValue(msg)
        at: object = event.at  # as a host's hand-made event may have it
        if not isinstance(at, datetime) or at.utcoffset() is None:
            msg = (
                f"event {version} of an append to case {case_id!r} must give at as a "
                f"timezone-aware datetime, got {at!r}"
            )
            raise InvalidValue(msg)
    if (
        summary.case_id != case_id
        or summary.version != events[-1].version
        or type(summary.version) is not int
    ):
        msg = (
            f"the index entry must describe case {case_id!r} at version {events[-1].version}, "
            f"got case {summary.case_id!r} at version {summary.version}"
        )
        raise InvalidValue(msg)
    _check_times(case_id, summary)


def _check_times(case_id: str, summary: CaseSummary) -> None:
    """Refuse an index entry whose times are not timezone-aware datetimes (`InvalidValue`).

    `CaseSummary` checks nothing itself (it is built on every command), so an entry a
    host made by hand, say with `attrs.evolve(summary, next_due=naive)`, is refused
    here, before a store writes any of the append.
    """
    for what, moment in (
        ("opened_at", summary.opened_at),
        ("updated_at", summary.updated_at),
        ("next_due", summary.next_due),
    ):
        if moment is None and what == "next_due":
            continue
        if not isinstance(moment, datetime) or moment.utcoffset() is None:
            msg = (
                f"the index entry of case {case_id!r} must give {what} as a timezone-aware "
                f"datetime, got {moment!r}"
            )
            raise InvalidValue(msg)


def inactive_agent(
    require_active: Collection[str], lookup: Callable[[str], Agent | None]
) -> str | None:
    """Why an agent of `require_active` fails the check, or None if all are active.

    For store authors.

    `lookup` reads the directory inside the append's transaction. The reason is
    the `detail` of the `ConcurrencyConflict` the store raises.
    """
    for agent_id in require_active:
        agent = lookup(agent_id)
        if agent is None:
            return f"agent {agent_id!r} is not registered"
        if not agent.active:
            return f"agent {agent_id!r} is no longer active"
    return None


def _check_text(case_id: str, summary: CaseSummary, key: object) -> None:
    """Refuse the ids and names of an append a store could not keep as text, naming the first."""
    storable(case_id, "the case id", limit=MAX_NAME_LENGTH)
    for what, value in (
        ("the customer id", summary.customer_id),
        ("the workflow name", summary.workflow),
        ("the stage", summary.stage),
        ("the owner id", summary.owner_id),
        ("the steward id", summary.steward_id),
        ("the idempotency key", key),
    ):
        if value is not None:
            storable(value, what, limit=MAX_NAME_LENGTH)
    assignees: object = summary.follow_up_assignee_ids  # as a host's hand-made entry has it
    if not isinstance(assignees, frozenset):  # a store's index takes set differences of it
        msg = (
            f"the index entry of case {case_id!r} must give follow_up_assignee_ids as a "
            f"frozenset of agent ids, got {type(assignees).__name__}: {assignees!r}"
        )
        raise InvalidValue(msg)
    for agent_id in assignees:
        storable(agent_id, "a follow-up's assignee id", limit=MAX_NAME_LENGTH)


def check_agent(agent: Agent, *, expected: Agent | None = None) -> None:
    """Refuse an agent a store could not keep (for store authors): `InvalidValue`.

    The id, every team name and every skill must be storable as UTF-8 text (no
    lone surrogate such as U+D800), and `expected`, if given, must be a record of
    the same agent. Call it in `put_agent` before writing.
    """
    if expected is not None and (not isinstance(expected, Agent) or expected.id != agent.id):
        named = f"agent {expected.id!r}" if isinstance(expected, Agent) else repr(expected)
        msg = (
            f"put_agent of agent {agent.id!r} was given the expected record of {named}; "
            "expected is the record of the same agent the change was made from"
        )
        raise InvalidValue(msg)
    storable(agent.id, "the agent id", limit=MAX_NAME_LENGTH)
    for team in agent.teams:
        storable(team, f"a team name of agent {agent.id!r}", limit=MAX_NAME_LENGTH)
    for skill in agent.skills:
        storable(skill, f"a skill of agent {agent.id!r}", limit=MAX_NAME_LENGTH)
