"""The desk's and the stores' quick paths decide exactly what their full paths decide."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any

import attrs
import pytest
from helpers import ANA, BO, CUSTOMER, CY, GONE, SAL, START, STRANGER, SUE, Play
from hypothesis import example, given
from hypothesis import strategies as st
from test_stateful import ACTORS, commands

from servicekit import (
    Agent,
    Case,
    CaseSummary,
    Channel,
    Command,
    ConcurrencyConflict,
    Direction,
    IdempotencyRecord,
    InMemoryStore,
    InvalidValue,
    ManualClock,
    Move,
    OpenCase,
    RecordInteraction,
    ScheduleFollowUp,
    ServiceDesk,
    ServiceKitError,
    StatusCategory,
    TransferCase,
    buying_cycle,
    decide,
)
from servicekit.desk.cases import fold
from servicekit.events import Event
from servicekit.stores.base import _check_each, check_append

WORKFLOW = buying_cycle()
AGENTS = [ANA, BO, CY, SUE, SAL, GONE]

# -- the desk: the first attempt on the cached case, against the full loop ---------------------

# A directory change between commands: an owner or a supervisor moves team, or comes back.
changes = st.sampled_from(
    [
        attrs.evolve(BO, teams=frozenset({"sales"})),
        attrs.evolve(SUE, teams=frozenset({"sales"})),
        BO,
        SUE,
    ]
)
# Mostly what the quick attempt serves (moves and contacts by the owners, a supervisor of
# either team, others), the rest any command at all.
usual = st.builds(
    Move,
    actor=st.sampled_from([BO, CY, SUE, SAL, CUSTOMER]),
    trigger=st.sampled_from(["wait_on_customer", "resume", "negotiate", "resolve", "reopen"]),
) | st.builds(
    RecordInteraction,
    actor=st.sampled_from([BO, CY, CUSTOMER, STRANGER]),
    channel=st.just(Channel.CHAT),
    direction=st.just(Direction.INBOUND),
    summary=st.just("said something"),
)
steps = st.lists(
    st.tuples(st.sampled_from(["case-1", "case-2"]), usual)
    | st.tuples(st.just("directory"), changes)
    | st.tuples(st.sampled_from(["case-1", "case-2"]), commands(st.sampled_from(ACTORS))),
    max_size=30,
)


def a_desk() -> ServiceDesk:
    """A desk with the cast registered, bo's case in service and cy's enquiry."""
    desk = ServiceDesk(workflow=WORKFLOW, clock=ManualClock(START))
    for agent in AGENTS:
        desk.register_agent(agent)
    for case_id, owner, stage in (("case-1", BO, "in_service"), ("case-2", CY, "enquiry")):
        opening = OpenCase(
            actor=owner, customer_id="cust-1", channel=Channel.PHONE, summary="s", stage=stage
        )
        desk.execute(case_id, opening)
    return desk


def run(desk: ServiceDesk, case_id: str, command: Command, *, full: bool) -> object:
    """What the command did (its events and the case after), or how it was refused."""
    try:
        if full:
            outcome = desk.command_path._attempts(case_id, command)  # noqa: SLF001
        else:
            outcome = desk.execute(case_id, command)
    except ServiceKitError as refused:
        return (type(refused), str(refused))
    return (outcome.events, outcome.case, outcome.duplicate)


@given(steps=steps)
def test_the_quick_first_attempt_agrees_with_the_full_loop(
    steps: list[tuple[str, Any]],
) -> None:
    """Every command decides, appends, indexes and caches what the full loop would."""
    quick, full = a_desk(), a_desk()
    for step, (target, what) in enumerate(steps):
        if target == "directory":
            quick.register_agent(what)
            full.register_agent(what)
            continue
        assert run(quick, target, what, full=False) == run(full, target, what, full=True), step
        for desk in (quick, full):
            assert isinstance(desk.clock, ManualClock)
            desk.clock.advance(timedelta(minutes=7))
    assert quick.store.read_all() == full.store.read_all()
    assert quick.store.find_cases() == full.store.find_cases()
    assert quick.store.find_due() == full.store.find_due()
    for case_id in ("case-1", "case-2"):
        cached = quick.cases_reader.cached(case_id)
        assert cached is None or cached == full.cases_reader.cached(case_id)


def two_desks() -> tuple[ServiceDesk, ServiceDesk, int]:
    """Two desks on one store, each with its cache, and bo's case in service on both."""
    store = InMemoryStore()
    mine, theirs = (
        ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START)) for _ in range(2)
    )
    mine.register_agent(BO)
    opening = OpenCase(
        actor=BO, customer_id="c", channel=Channel.PHONE, summary="s", stage="in_service"
    )
    opened = mine.execute("k", opening).case.version
    theirs.case("k")
    return mine, theirs, opened


def test_a_command_refused_on_a_stale_cached_case_is_decided_again_on_the_stored_case() -> None:
    """Another desk's write makes the cache stale: a refusal there is not believed."""
    mine, theirs, opened = two_desks()
    theirs.wait_on_customer("k", actor="bo")  # `mine` still caches the case in service
    resumed = mine.resume("k", actor="bo")  # refused in service, accepted as it is stored
    assert (resumed.case.stage, resumed.case.version) == ("in_service", opened + 2)


def test_a_command_that_loses_the_race_on_the_cached_case_is_decided_again() -> None:
    """The quick attempt on a stale cached case loses the append; the loop's next one wins."""
    mine, theirs, opened = two_desks()
    theirs.wait_on_customer("k", actor="bo")
    theirs.resume("k", actor="bo")  # in service again, two versions on
    waiting = mine.wait_on_customer("k", actor="bo")  # fits the stale case: the append loses
    assert (waiting.case.stage, waiting.case.version) == ("waiting_on_customer", opened + 3)
    assert [e.version for e in mine.history("k")] == list(range(1, opened + 4))


def test_a_lost_race_on_the_only_attempt_is_reported() -> None:
    """With one attempt allowed, losing it on the cached case is a `ConcurrencyConflict`."""
    store = InMemoryStore()
    mine = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START), max_attempts=1)
    theirs = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
    mine.register_agent(BO)
    opening = OpenCase(
        actor=BO, customer_id="c", channel=Channel.PHONE, summary="s", stage="in_service"
    )
    mine.execute("k", opening)
    theirs.wait_on_customer("k", actor="bo")
    theirs.resume("k", actor="bo")
    with pytest.raises(ConcurrencyConflict, match="gave up after 1 attempts"):
        mine.wait_on_customer("k", actor="bo")


class _CountingStore(InMemoryStore):
    """Counts the directory's reads of each agent."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def get_agent(self, agent_id: str) -> Agent | None:
        self.reads.append(agent_id)
        return super().get_agent(agent_id)


def _counted_desk() -> tuple[ServiceDesk, _CountingStore]:
    store = _CountingStore()
    desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
    desk.register_agent(BO)
    opening = OpenCase(
        actor=BO, customer_id="c", channel=Channel.PHONE, summary="s", stage="in_service"
    )
    desk.execute("k", opening)
    return desk, store


@pytest.mark.parametrize("key", [None, "once"])
def test_a_named_operation_reads_its_acting_agent_once(key: str | None) -> None:
    """The named method reads the agent from the directory; the command path does not again.

    With an idempotency key the command takes the full loop, not the quick first attempt.
    """
    desk, store = _counted_desk()
    store.reads.clear()
    desk.wait_on_customer("k", actor="bo", idempotency_key=key)
    desk.record_interaction(
        "k",
        actor="bo",
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        summary="sent the part",
    )
    assert store.reads == ["bo", "bo"]


def test_a_command_built_elsewhere_is_decided_on_the_agent_as_the_directory_knows_them() -> None:
    """`execute` still reads the agent: a queued command may carry a stale record."""
    desk, store = _counted_desk()
    stale = attrs.evolve(BO, teams=frozenset({"nobody"}))
    store.reads.clear()
    outcome = desk.execute("k", Move(actor=stale, trigger="wait_on_customer"))
    assert store.reads == ["bo"]
    assert outcome.events[-1].actor == BO  # recorded as the directory knows her, not as queued


def test_a_desk_that_overrides_execute_sees_every_named_operation() -> None:
    """A host's `execute` (an audit of every command) is called by the named methods too."""
    seen: list[str] = []

    class AuditedDesk(ServiceDesk):
        def execute(self, case_id: str, command: Command) -> Any:
            seen.append(type(command).__name__)
            return super().execute(case_id, command)

    desk = AuditedDesk(workflow=WORKFLOW, store=InMemoryStore(), clock=ManualClock(START))
    desk.register_agent(BO)
    desk.open_case(
        actor="bo",
        customer_id="c",
        channel=Channel.PHONE,
        summary="s",
        case_id="k",
        stage="in_service",
    )
    desk.record_interaction(
        "k", actor="bo", channel=Channel.EMAIL, direction=Direction.OUTBOUND, summary="a photo?"
    )
    desk.wait_on_customer("k", actor="bo")
    assert seen == ["OpenCase", "RecordInteraction", "Move"]


# -- the store: check_append's one-pass check, against every check one by one ------------------


class _NoOffset(tzinfo):
    """A zone that knows no offset: its times are naive however they look."""

    def utcoffset(self, _: datetime | None) -> None:
        return None

    def dst(self, _: datetime | None) -> None:
        return None

    def tzname(self, _: datetime | None) -> str:
        return "nowhere"


AT = START + timedelta(hours=1)
NOT_TEXT: list[object] = [7, None, b"bytes"]
TEXTS: list[object] = ["", "ü", "bo\ud800", "a\x00b", "x" * 201, "x" * 120, *NOT_TEXT]
TIMES: list[object] = [
    AT.replace(tzinfo=None),
    AT.astimezone(timezone(timedelta(hours=2))),
    AT.replace(tzinfo=_NoOffset()),
    date(2026, 3, 2),
    None,
    "2026-03-02",
]
SUMMARY_CHANGES: dict[str, list[object]] = {
    "case_id": ["other", *TEXTS],
    "customer_id": TEXTS,
    "workflow": TEXTS,
    "stage": TEXTS,
    "owner_id": TEXTS,
    "steward_id": TEXTS,
    "version": [0, 2, 3],
    "opened_at": TIMES,
    "updated_at": TIMES,
    "next_due": [AT, *TIMES],
    "follow_up_assignee_ids": [
        frozenset({"bo"}),
        frozenset({"bo", "cy"}),
        frozenset({"bo\ud800"}),
        frozenset({7}),
        frozenset({"y" * 150, "z" * 60}),
    ],
}


def an_append() -> tuple[str, tuple[Event, ...], CaseSummary]:
    """A good append: a case opened in service, owned by bo."""
    case = Case(WORKFLOW, "k")
    opening = OpenCase(
        actor=BO, customer_id="c", channel=Channel.WEB, summary="s", stage="in_service"
    )
    events = decide(case, opening, now=AT)
    return "k", events, CaseSummary.of(fold(case, events))


def refusal(check: Any, *arguments: Any) -> str | None:
    """How `check_append` (`record` last) or `_check_each` (`key` last) refuses, or None."""
    *parts, last = arguments
    try:
        if check is check_append:
            check(*parts, idempotency=last)
        else:
            check(*parts, last)
    except InvalidValue as refused:
        return str(refused)
    return None


changed_summaries = st.dictionaries(
    st.sampled_from(sorted(SUMMARY_CHANGES)), st.just(None), max_size=3
).flatmap(
    lambda names: st.fixed_dictionaries(
        {name: st.sampled_from(SUMMARY_CHANGES[name]) for name in names}
    )
)


@given(
    changes=changed_summaries,
    case_id=st.sampled_from(["k", "other", *TEXTS]),
    expected_version=st.sampled_from([0, -1, 1]),
    event_change=st.sampled_from(
        ["none", "no events", "other case", "version 2", "twice", "naive", "elsewhere"]
    ),
    key=st.sampled_from([None, "key-1", *TEXTS[1:]]),
)
# A bad key beside each fault the quick check hands on at once: the key is named first.
@example(changes={}, case_id="k", expected_version=-1, event_change="none", key="x" * 201)
@example(changes={}, case_id="k", expected_version=0, event_change="no events", key="a\x00b")
@example(changes={}, case_id="k", expected_version=0, event_change="version 2", key=5)
def test_the_quick_append_check_agrees_with_the_full_one(
    changes: dict[str, object],
    case_id: Any,
    expected_version: int,
    event_change: str,
    key: Any,
) -> None:
    """check_append refuses an append (with the same words) exactly when each check does."""
    _, events, summary = an_append()
    summary = attrs.evolve(summary, **changes)  # type: ignore[arg-type]
    appended: Sequence[Event] = {
        "none": events,
        "no events": (),
        "other case": tuple(attrs.evolve(e, case_id="other") for e in events),
        "version 2": tuple(attrs.evolve(e, version=2) for e in events),
        "twice": (*events, attrs.evolve(events[0], version=2)),
        "naive": (events[0], attrs.evolve(events[1], at=events[1].at.replace(tzinfo=None))),
        "elsewhere": tuple(attrs.evolve(e, at=e.at.astimezone(timezone.min)) for e in events),
    }[event_change]
    record = None if key is None else IdempotencyRecord(key, "k", "f", 1, 1)
    quick = refusal(check_append, case_id, appended, expected_version, summary, record)
    full = refusal(_check_each, case_id, appended, expected_version, summary, key)
    assert quick == full


def test_the_usual_append_passes_both_checks() -> None:
    """The append the desk makes on every command is refused by neither check."""
    case_id, events, summary = an_append()
    assert refusal(check_append, case_id, events, 0, summary, None) is None
    assert refusal(_check_each, case_id, events, 0, summary, None) is None


@pytest.mark.parametrize("agent", [Agent("bo"), Agent("bø")])
def test_a_follow_up_assignee_of_any_storable_id_passes(agent: Agent) -> None:
    """Non-ASCII text that can be stored is looked at closer, and let through."""
    case_id, events, summary = an_append()
    summary = attrs.evolve(summary, follow_up_assignee_ids=frozenset({agent.id}))
    assert refusal(check_append, case_id, events, 0, summary, None) is None


def test_times_of_any_zone_are_let_through() -> None:
    """An aware time in another zone is not the usual append, but it is a good one."""
    case_id, events, summary = an_append()
    there = summary.updated_at.astimezone(timezone(timedelta(hours=-5)))
    assert there.tzinfo is not UTC
    later = attrs.evolve(summary, updated_at=there, next_due=there + timedelta(days=1))
    assert refusal(check_append, case_id, events, 0, later, None) is None


def test_an_index_time_whose_zone_gives_no_offset_is_refused() -> None:
    """A `tzinfo` without an offset makes a naive time, however it looks: refused."""
    case_id, events, summary = an_append()
    nowhere = attrs.evolve(summary, updated_at=summary.updated_at.replace(tzinfo=_NoOffset()))
    with pytest.raises(InvalidValue, match="must give updated_at as a timezone-aware datetime"):
        InMemoryStore().append(case_id, events, expected_version=0, summary=nowhere)


# -- InMemoryStore: the follow-on append checked against the entry it holds --------------------


def a_follow_on_append() -> tuple[InMemoryStore, tuple[Event, ...], CaseSummary]:
    """A store holding case "k" (opened by bo, waiting on the customer), and bo's resume.

    The append of the resume is the desk's usual one, at version 5, back to a stage the
    store has indexed already.
    """
    store = InMemoryStore()
    case_id, events, summary = an_append()
    store.append(case_id, events, expected_version=0, summary=summary)
    case = fold(Case(WORKFLOW, case_id), events)
    wait = decide(case, Move(actor=BO, trigger="wait_on_customer"), now=AT)
    case = fold(case, wait)
    store.append(case_id, wait, expected_version=4, summary=CaseSummary.of(case))
    resume = decide(case, Move(actor=BO, trigger="resume"), now=AT + timedelta(hours=1))
    return store, resume, CaseSummary.of(fold(case, resume))


def quick_check(store: InMemoryStore) -> Any:
    """The store's check of a follow-on append against the entry it holds."""
    return store._continues  # noqa: SLF001 - the quick path under test


def test_the_desks_move_takes_the_memory_stores_quick_check() -> None:
    """A move changes the stage, version and times only: recognised without `check_append`."""
    store, events, summary = a_follow_on_append()
    (known,) = store.find_cases()
    assert quick_check(store)(known, "k", events, 5, summary)


class _LooksLikeText:
    """Not text, but equal to (and hashed as) a stage the store has indexed."""

    def __hash__(self) -> int:
        return hash("in_service")

    def __eq__(self, other: object) -> bool:
        return other == "in_service"


def _renumbered(events: Sequence[Event], first: object) -> tuple[Event, ...]:
    return tuple(attrs.evolve(e, version=first) for e in events)  # type: ignore[arg-type]


FOLLOW_ON_EVENTS: dict[str, Any] = {
    "no events": lambda _: (),
    "other case": lambda events: tuple(attrs.evolve(e, case_id="other") for e in events),
    "version 5": lambda events: _renumbered(events, 5),
    "version 6.0": lambda events: _renumbered(events, 6.0),
    "twice": lambda events: (*events, attrs.evolve(events[0], version=7)),
    "naive": lambda events: tuple(attrs.evolve(e, at=e.at.replace(tzinfo=None)) for e in events),
    "elsewhere": lambda events: tuple(
        attrs.evolve(e, at=e.at.astimezone(timezone.min)) for e in events
    ),
    "a date": lambda events: tuple(attrs.evolve(e, at=date(2026, 3, 2)) for e in events),
}
# One fault at a time (each value of each field of the entry, each change of the events,
# the case id and the version), and the pairs a fault needs to get past the other checks.
FOLLOW_ON_FAULTS: list[tuple[dict[str, object], Any, int, str]] = [
    *(
        ({field: value}, "k", 5, "none")
        for field, values in SUMMARY_CHANGES.items()
        for value in [*values, 6.0, "unheard_of", _LooksLikeText()]
    ),
    *(({}, case_id, 5, "none") for case_id in ["other", *TEXTS]),
    *(({}, "k", expected, "none") for expected in (4, 0, -1, 6)),
    *(({}, "k", 5, change) for change in FOLLOW_ON_EVENTS),
    ({"version": 5}, "k", 5, "no events"),
    ({"version": 0}, "k", -1, "version 0"),
    ({"version": 7}, "k", 5, "twice"),
]
FOLLOW_ON_EVENTS["none"] = lambda events: events
FOLLOW_ON_EVENTS["version 0"] = lambda events: _renumbered(events, 0)


@pytest.mark.parametrize(
    ("changes", "case_id", "expected_version", "event_change"), FOLLOW_ON_FAULTS
)
def test_the_memory_stores_quick_check_passes_only_what_check_append_passes(
    changes: dict[str, object], case_id: Any, expected_version: int, event_change: str
) -> None:
    """An append `_continues` recognises is one `check_append` lets through."""
    store, events, summary = a_follow_on_append()
    summary = attrs.evolve(summary, **changes)  # type: ignore[arg-type]
    appended = FOLLOW_ON_EVENTS[event_change](events)
    (known,) = store.find_cases()
    if quick_check(store)(known, case_id, appended, expected_version, summary):
        assert refusal(check_append, case_id, appended, expected_version, summary, None) is None


def test_a_stage_the_store_never_indexed_is_checked_in_full() -> None:
    """A new stage name is not vouched for by the index: `check_append` refuses a bad one."""
    store, events, summary = a_follow_on_append()
    bad = attrs.evolve(summary, stage="x" * 201)
    with pytest.raises(InvalidValue, match=r"^the stage may have at most 200 characters"):
        store.append("k", events, expected_version=5, summary=bad)
    assert store.load("k").version == 5
    assert [s.stage for s in store.find_cases()] == ["waiting_on_customer"]


# -- the index entry: built by slots, or by attrs for a subclass --------------------------------


@attrs.frozen
class _TaggedSummary(CaseSummary):
    """A host's entry with a field of its own: `CaseSummary.of` builds it through attrs."""

    tag: str = "host"


def _an_owned_case() -> Case:
    """case-1, each field of its entry a value of its own.

    Opened by bo into in_service at START + 10 min, handed to ana five minutes on (bo
    stays its steward), and a follow-up for cy scheduled five minutes later: owner,
    steward and assignee differ, and so do the opening and the last change.
    """
    play = Play(WORKFLOW).open(BO, stage="in_service")
    play(TransferCase(actor=BO, to=ANA, handoff_note="she knows the product"), minutes=5)
    follow_up = ScheduleFollowUp(
        actor=ANA, due=START + timedelta(days=1), reason="call back", assignee=CY
    )
    play(follow_up, minutes=5)
    return play.case


def _an_unowned_case() -> Case:
    """case-2 opened by the customer into enquiry: nobody owns or stewards it yet."""
    return Play(WORKFLOW, "case-2").open(CUSTOMER).case


@pytest.mark.parametrize("make", [_an_owned_case, _an_unowned_case])
def test_an_entry_of_a_summary_subclass_holds_what_the_quick_build_holds(
    make: Callable[[], Case],
) -> None:
    case = make()
    due = START + timedelta(hours=2)
    quick, tagged = CaseSummary.of(case, next_due=due), _TaggedSummary.of(case, next_due=due)
    assert type(tagged) is _TaggedSummary
    assert tagged.tag == "host"
    fields = [field.name for field in attrs.fields(CaseSummary)]
    assert {name: getattr(tagged, name) for name in fields} == {
        name: getattr(quick, name) for name in fields
    }


def test_the_quick_entry_holds_the_cases_values() -> None:
    case = _an_owned_case()
    due = START + timedelta(hours=2)
    assert attrs.asdict(CaseSummary.of(case, next_due=due), recurse=False) == {
        "case_id": "case-1",
        "customer_id": CUSTOMER.id,
        "workflow": "buying_cycle",
        "stage": "in_service",
        "category": StatusCategory.OPEN,
        "finished": False,
        "owner_id": "ana",
        "steward_id": "bo",
        "version": case.version,
        "opened_at": START + timedelta(minutes=10),
        "updated_at": START + timedelta(minutes=20),
        "next_due": due,
        "follow_up_assignee_ids": frozenset({"bo", "cy"}),  # the steward checks on the handoff
        "channel": "phone",
    }
    assert case.version > 4  # the opening's events, the transfer's and the follow-up's
    unowned = CaseSummary.of(_an_unowned_case())
    assert (unowned.stage, unowned.owner_id, unowned.steward_id) == ("enquiry", None, None)


def test_an_entry_refuses_a_next_due_without_a_zone_naming_it() -> None:
    case = _an_owned_case()
    naive = datetime(2026, 3, 2, 11, 0)  # noqa: DTZ001 - the mistake under test
    for summary in (CaseSummary, _TaggedSummary):
        with pytest.raises(InvalidValue) as refused:
            summary.of(case, next_due=naive)
        assert str(refused.value) == (
            "next_due must be timezone-aware, got the naive datetime 2026-03-02T11:00:00"
        )


def test_an_entry_of_a_case_not_opened_is_refused_naming_the_case() -> None:
    for summary in (CaseSummary, _TaggedSummary):
        with pytest.raises(InvalidValue) as refused:
            summary.of(Case(WORKFLOW, "case-9"))
        assert str(refused.value) == "case 'case-9' is not opened; only opened cases are indexed"
