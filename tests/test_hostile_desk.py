"""A hostile user against the desk's quick paths: each test states the rule it holds the desk to."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs
import pytest
from helpers import ANA, BO, CUSTOMER, CY, SAL, START, SUE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_stateful import ACTORS, commands

from servicekit import (
    BusinessCalendar,
    Case,
    ChangePriority,
    ChangeSkills,
    Channel,
    Command,
    CompleteFollowUp,
    Direction,
    FollowUpOutcome,
    InMemoryStore,
    InvalidValue,
    ManualClock,
    Move,
    OpenCase,
    PauseSla,
    RecordInteraction,
    ResumeSla,
    ReturnToQueue,
    Role,
    ScheduleFollowUp,
    ServiceDesk,
    ServiceKitError,
    TransferCase,
    buying_cycle,
    decide,
)
from servicekit.desk.cases import fold
from servicekit.sla import Metric, Policy, PolicySet, Target
from servicekit.stores.base import CaseSummary

WORKFLOW = buying_cycle()
CAST = [ANA, BO, CY, SUE, SAL]
CASES = ["case-1", "case-2", "case-3"]
ONWARD = [
    "negotiate",
    "win",
    "lose",
    "start_service",
    "wait_on_customer",
    "resume",
    "resolve",
    "follow_up",
    "close",
    "reopen",
]


POLICIES = PolicySet(
    [
        Policy(
            name="standard",
            version=1,
            calendar=BusinessCalendar(
                timezone="UTC", hours={day: [("08:00", "18:00")] for day in ["mon", "tue", "wed"]}
            ),
            targets=[Target(Metric.FIRST_RESPONSE, "4h"), Target(Metric.RESOLUTION, "48h")],
        )
    ]
)


def two_desks(*, full: bool, sla: PolicySet | None = None) -> tuple[ServiceDesk, ServiceDesk]:
    """Two desks on one store; with `full`, every command takes the full loop."""
    store = InMemoryStore()
    clock = ManualClock(START)
    desks = tuple(
        ServiceDesk(workflow=WORKFLOW, store=store, clock=clock, sla=sla) for _ in range(2)
    )
    for agent in CAST:
        desks[0].register_agent(agent)
    for case_id, owner, stage in zip(
        CASES, (BO, CY, ANA), ("in_service", "enquiry", "in_service"), strict=True
    ):
        opening = OpenCase(
            actor=owner, customer_id="cust-1", channel=Channel.PHONE, summary="s", stage=stage
        )
        desks[0].execute(case_id, opening)
    if full:
        for desk in desks:
            path = desk.command_path
            path.execute = path._attempts  # type: ignore[method-assign]  # noqa: SLF001
    return desks[0], desks[1]


def by_owner(desk: ServiceDesk, case_id: str, make: Any) -> Command:
    """The command `make` builds for the case's owner as the directory knows them now."""
    entry = desk.store.find_cases()[CASES.index(case_id)]
    actor = desk.directory.get(entry.owner_id) if entry.owner_id is not None else CUSTOMER
    command: Command = make(actor, WORKFLOW.triggers(entry.stage) or ("reopen",))
    return command


owner_commands = st.one_of(
    st.integers(0, 5).map(lambda n: lambda a, ts: Move(actor=a, trigger=ts[n % len(ts)])),
    st.integers(0, 5).map(lambda n: lambda a, ts: Move(actor=a, trigger=ts[n % len(ts)])),
    st.integers(0, 5).map(
        lambda n: lambda a, ts: Move(actor=a, trigger=ts[n % len(ts)], reason="why")
    ),
    st.just(
        lambda a, _ts: ScheduleFollowUp(
            actor=a, due=START + timedelta(days=2), reason="check", assignee=CY
        )
    ),
    st.integers(1, 3).map(
        lambda n: (
            lambda a, _ts: CompleteFollowUp(actor=a, follow_up_id=n, outcome=FollowUpOutcome.SERVED)
        )
    ),
    st.sampled_from(["low", "high", "urgent", "normal"]).map(
        lambda p: lambda a, _ts: ChangePriority(actor=a, priority=p)
    ),
    st.just(lambda a, _ts: PauseSla(actor=a, reason="waiting")),
    st.just(lambda a, _ts: ResumeSla(actor=a)),
    st.sampled_from(CAST).map(
        lambda to: lambda a, _ts: TransferCase(actor=a, to=to, handoff_note="over to you")
    ),
    st.just(
        lambda a, _ts: RecordInteraction(
            actor=a, channel=Channel.CHAT, direction=Direction.INBOUND, summary="hi"
        )
    ),
)
directory_changes = st.sampled_from(
    [
        attrs.evolve(BO, teams=frozenset({"sales"})),
        attrs.evolve(SUE, teams=frozenset({"sales"})),
        attrs.evolve(SUE, roles=frozenset({Role.AGENT})),
        attrs.evolve(SAL, teams=frozenset({"service"})),
        BO,
        SUE,
        SAL,
    ]
)
step = st.one_of(
    st.tuples(st.just("owner"), st.integers(0, 1), st.sampled_from(CASES), owner_commands),
    st.tuples(
        st.just("any"), st.integers(0, 1), st.sampled_from(CASES), commands(st.sampled_from(ACTORS))
    ),
    st.tuples(st.just("directory"), st.just(0), st.just(""), directory_changes),
    st.tuples(
        st.just("any"),
        st.integers(0, 1),
        st.sampled_from(CASES),
        st.builds(ReturnToQueue, actor=st.sampled_from(ACTORS), handoff_note=st.just("back"))
        | st.builds(
            ChangeSkills,
            actor=st.sampled_from(ACTORS),
            skills=st.sampled_from([frozenset(), frozenset({"german"})]),
        ),
    ),
    st.tuples(st.just("tick"), st.integers(0, 1), st.just(""), st.just(None)),
    st.tuples(st.just("advance"), st.just(0), st.just(""), st.sampled_from([1, 5, 30, 60 * 24])),
    st.tuples(
        st.just("deactivate"), st.just(0), st.just(""), st.sampled_from(["bo", "cy", "ana", "sal"])
    ),
)


def act(
    desks: tuple[ServiceDesk, ServiceDesk], kind: str, which: int, case_id: str, what: Any
) -> object:
    desk = desks[which]
    try:
        if kind == "directory":
            desk.register_agent(what)
            return "registered"
        if kind == "tick":
            return repr(desk.tick())
        if kind == "advance":
            assert isinstance(desk.clock, ManualClock)
            desk.clock.advance(timedelta(minutes=what))
            return "advanced"
        if kind == "deactivate":
            return desk.deactivate_agent(what)
        command = by_owner(desk, case_id, what) if kind == "owner" else what
        outcome = desk.execute(case_id, command)
    except ServiceKitError as refused:
        return (type(refused).__name__, str(refused))
    return (outcome.events, outcome.case, outcome.duplicate)


def index_agrees_with_replay(desk: ServiceDesk, *, due_too: bool = True) -> None:
    """Every index entry and every index query equals what a full replay of the histories gives."""
    store = desk.store
    entries = store.find_cases()
    assert sorted(s.case_id for s in entries) == sorted(CASES)
    upkeep = desk.command_path._upkeep  # noqa: SLF001
    for entry in entries:
        case = desk.cases_reader.replay(entry.case_id, store.load(entry.case_id).events)
        due = upkeep.next_due(case, None) if case.record.follow_ups else None
        if not due_too:
            due = entry.next_due
        assert entry == CaseSummary.of(case, next_due=due), entry.case_id
    for criterion in ("owner", "steward", "stage", "customer", "workflow"):
        field = {"owner": "owner_id", "steward": "steward_id", "customer": "customer_id"}.get(
            criterion, criterion
        )
        for value in {getattr(e, field) for e in entries} | {"bo", "cy", "nobody"}:
            if value is None:
                continue
            found = store.find_cases(**{criterion: value})
            assert found == [e for e in entries if getattr(e, field) == value], (criterion, value)
    for agent in ("ana", "bo", "cy", "sue", "sal"):
        found = store.find_cases(follow_up_assignee=agent)
        assert found == [e for e in entries if agent in e.follow_up_assignee_ids], agent
    due_entries = sorted(
        (e for e in entries if e.next_due is not None), key=lambda e: (e.next_due, e.case_id)
    )
    assert store.find_due() == due_entries


@settings(
    max_examples=int(__import__("os").environ.get("HD_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.parametrize("sla", [None, POLICIES], ids=["no-sla", "sla"])
@given(steps=st.lists(step, max_size=40))
def test_two_desks_quick_or_full_agree_and_the_index_equals_a_replay(
    sla: PolicySet | None, steps: list[tuple[str, int, str, Any]]
) -> None:
    """Rule: quick and full paths give equal results and errors; the index equals a replay.

    Two desks share a store (stale caches, lost races), the directory changes between
    commands, agents are deactivated, the clock moves and ticks fire; after every step the
    in-memory index (entries, queries by each criterion, due times) equals what replaying
    every history gives. Passes on desk-speed (HD_EXAMPLES=3000 for a longer run).
    """
    quick, full = two_desks(full=False, sla=sla), two_desks(full=True, sla=sla)
    for number, (kind, which, case_id, what) in enumerate(steps):
        got, want = act(quick, kind, which, case_id, what), act(full, kind, which, case_id, what)
        assert got == want, (number, kind, case_id)
        index_agrees_with_replay(quick[0], due_too=sla is None)
        assert quick[0].store.find_due() == full[0].store.find_due(), number
        for desks in (quick, full):
            assert isinstance(desks[0].clock, ManualClock)
            desks[0].clock.advance(timedelta(minutes=13))
    assert quick[0].store.read_all() == full[0].store.read_all()


# -- findings: each test below failed on desk-speed when it was written ------------------------


def a_case_in_service() -> ServiceDesk:
    """A desk with bo's case "k" in service (cached after the opening)."""
    desk = ServiceDesk(workflow=WORKFLOW, clock=ManualClock(START))
    for agent in CAST:
        desk.register_agent(agent)
    opening = OpenCase(
        actor=BO, customer_id="cust-1", channel=Channel.PHONE, summary="s", stage="in_service"
    )
    desk.execute("k", opening)
    return desk


def test_a_hand_made_entry_whose_assignees_are_not_a_set_is_refused_and_changes_nothing() -> None:
    """Rule: bad input gets a precise error (`InvalidValue`) and changes nothing: no index drift."""
    desk = a_case_in_service()
    store = desk.store
    case = desk.case("k")
    events = decide(case, Move(actor=BO, trigger="resolve"), now=START)
    after = fold(case, events)
    entry = attrs.evolve(CaseSummary.of(after), follow_up_assignee_ids=("bo",))  # type: ignore[arg-type]
    before = (store.load("k"), store.find_cases(), store.find_cases(stage="in_service"))
    with pytest.raises(InvalidValue):
        store.append("k", events, expected_version=case.version, summary=entry)
    # The stage index must still say what the entries say: "k" is in service, not resolved.
    assert store.find_cases(stage="resolved") == []
    assert (store.load("k"), store.find_cases(), store.find_cases(stage="in_service")) == before


class AuditedDesk(ServiceDesk):
    """A host's desk that logs every trigger fired, by overriding the public `move`."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.fired: list[str] = []

    def move(self, case_id: str, trigger: str, **options: Any) -> Any:
        self.fired.append(trigger)
        return super().move(case_id, trigger, **options)


def test_a_desk_subclass_that_overrides_move_sees_every_named_move() -> None:
    """Rule: a named move goes through the public `move` with or without a reason.

    The quick path and the full path behave alike (on main every named operation calls
    `self.move`, so a host's override sees all of them).
    """
    desk = AuditedDesk(workflow=WORKFLOW, clock=ManualClock(START))
    for agent in CAST:
        desk.register_agent(agent)
    desk.open_case(
        actor="bo",
        customer_id="cust-1",
        channel=Channel.PHONE,
        summary="s",
        case_id="k",
        stage="in_service",
    )
    desk.wait_on_customer("k", actor="bo", reason="asked for the invoice")  # with a reason
    desk.resume("k", actor="bo")  # without one: the quick `_plain_move`
    assert desk.fired == ["wait_on_customer", "resume"]


@pytest.mark.parametrize("case_id", [["k"], {"k": 1}], ids=["list", "dict"])
def test_an_unhashable_case_id_is_an_invalid_value(case_id: Any) -> None:
    """Rule: bad input gets a precise error: a case id that is not text is `InvalidValue`.

    As `desk.case(...)` says; not a bare `TypeError` from the cache's dict (pre-existing).
    """
    desk = a_case_in_service()
    note = RecordInteraction(
        actor=BO, channel=Channel.CHAT, direction=Direction.INBOUND, summary="x"
    )
    with pytest.raises(InvalidValue):
        desk.case(case_id)
    with pytest.raises(InvalidValue):
        desk.execute(case_id, note)


def a_closed_case_of_a_deactivated_agent(store: InMemoryStore | None = None) -> ServiceDesk:
    """Bo's case "k" closed (by a supervisor, waiving the follow-up), then bo deactivated.

    The store keeps bo's record as registered (the `BO` value itself), so the cached
    case's owner *is* `BO` until the directory replaces the record.
    """
    desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
    for agent in CAST:
        desk.register_agent(agent)
    opening = OpenCase(
        actor=BO, customer_id="cust-1", channel=Channel.PHONE, summary="s", stage="in_service"
    )
    desk.execute("k", opening)
    desk.resolve("k", actor="bo")
    desk.close("k", actor="sue", reason="waived")
    desk.deactivate_agent("bo")
    return desk


def test_a_command_queued_before_its_agent_was_deactivated_is_refused() -> None:
    """Rule: the directory is the truth about agents, also when the case is cached.

    A command built elsewhere (a queue) before bo was deactivated still carries bo's
    active record; the next command must see bo inactive, as `desk.reopen` does, and as
    the loop's retry does (`_as_directory_knows`). Pre-existing on main: the first
    attempt trusts `command.actor` when it `is` the cached owner.
    """
    desk = a_closed_case_of_a_deactivated_agent()
    queued = Move(actor=BO, trigger="reopen")  # BO: bo's record when the command was queued
    with pytest.raises(ServiceKitError, match="inactive"):
        desk.reopen("k", actor=BO)  # the named operation asks the directory: refused
    with pytest.raises(ServiceKitError, match="inactive"):
        desk.execute("k", queued)
    assert desk.case("k").stage == "closed"  # nothing reopened by an inactive agent


def test_a_queued_command_gets_the_same_answer_with_or_without_a_race() -> None:
    """Rule: the quick first attempt and the full loop give equal results.

    The same queued command is refused when another desk wrote meanwhile (the retry
    refreshes the actor from the directory) and accepted when nobody did: whether an
    inactive agent may act must not depend on a race.
    """
    store = InMemoryStore()
    quiet = a_closed_case_of_a_deactivated_agent(store)
    raced = a_closed_case_of_a_deactivated_agent(InMemoryStore())
    other = ServiceDesk(workflow=WORKFLOW, store=raced.store, clock=ManualClock(START))
    other.record_interaction(  # another desk writes: `raced`'s cached case is behind
        "k", actor="sue", channel=Channel.CHAT, direction=Direction.INBOUND, summary="hi"
    )
    queued = Move(actor=BO, trigger="reopen")
    answers = []
    for desk in (quiet, raced):
        try:
            answers.append(desk.execute("k", queued).case.stage)
        except ServiceKitError as refused:
            answers.append(f"{type(refused).__name__}")
    assert answers[0] == answers[1]


def test_a_command_that_is_not_a_command_is_an_invalid_value() -> None:
    """Rule: bad input gets a precise error: `execute` given no command says so (`InvalidValue`).

    Pre-existing: a bare `AttributeError` about `idempotency_key`.
    """
    desk = a_case_in_service()
    for wrong in (None, "resolve"):
        with pytest.raises(InvalidValue):
            desk.execute("k", wrong)  # type: ignore[arg-type]


def test_a_supervisor_of_the_assignees_team_now_may_complete_their_follow_up() -> None:
    """Rule: the directory is the truth: the assignee's team is the one they are in now.

    "A supervisor of the assignee's team" may complete a follow-up as they may hand it over.
    cy's follow-up was scheduled while cy was in service; cy has moved to sales. The sales
    supervisor (sal) may complete it and the service one (sue) no longer may. Pre-existing:
    only `HandOverFollowUp` reads the assignee from the directory (`current_assignee`).
    """
    desk = a_case_in_service()
    desk.execute(
        "k",
        ScheduleFollowUp(actor=BO, due=START + timedelta(days=2), reason="check", assignee=CY),
    )
    desk.register_agent(attrs.evolve(CY, teams=frozenset({"sales"})))
    complete = CompleteFollowUp(actor=SUE, follow_up_id=1, outcome=FollowUpOutcome.SERVED)
    with pytest.raises(ServiceKitError):
        desk.execute("k", complete)  # sue no longer supervises cy's team
    done = desk.execute("k", attrs.evolve(complete, actor=SAL))  # sal does now
    assert done.case.open_follow_ups == ()


def test_the_memory_index_follows_every_field_of_an_entry_it_accepts() -> None:
    """Rule: the index always equals the entries: what a store accepts, it finds by.

    An append whose (hand-made) entry names another customer and workflow is either
    refused or indexed under them; SQLiteStore indexes it under them, InMemoryStore keeps
    it under the old ones (its in-place update assumes they never change; pre-existing).
    """
    desk = a_case_in_service()
    store = desk.store
    case = desk.case("k")
    events = decide(case, Move(actor=BO, trigger="resolve"), now=START)
    entry = attrs.evolve(
        CaseSummary.of(fold(case, events)), customer_id="cust-2", workflow="repairs"
    )
    try:
        store.append("k", events, expected_version=case.version, summary=entry)
    except InvalidValue:
        assert store.find_cases(customer="cust-1") == [CaseSummary.of(case)]
        return
    assert store.find_cases(customer="cust-2") == [entry]
    assert store.find_cases(workflow="repairs") == [entry]
    assert store.find_cases(customer="cust-1") == []


def test_a_refused_opening_leaves_every_query_working() -> None:
    """Rule: bad input changes nothing: after a refused first append every query still works.

    The entry's assignees are a list (a hand-made entry): InMemoryStore indexes the new case
    under its customer and owner, then fails on the list with a bare `TypeError`, so
    `find_cases(customer=...)` raises `KeyError` (main: the events are written, no entry).
    """
    store = InMemoryStore()
    case = Case(WORKFLOW, "n")
    opening = OpenCase(
        actor=BO, customer_id="cust-1", channel=Channel.PHONE, summary="s", stage="in_service"
    )
    events = decide(case, opening, now=START)
    entry = attrs.evolve(CaseSummary.of(fold(case, events)), follow_up_assignee_ids=["bo"])  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        store.append("n", events, expected_version=0, summary=entry)
    assert store.load("n").version == 0
    assert store.find_cases(customer="cust-1") == []
    assert store.find_cases(owner="bo") == []
