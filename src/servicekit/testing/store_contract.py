"""The store contract: one test per rule a `Store` must keep.

Subclass `StoreContract` in a pytest module and return a fresh, empty store from
`make_store`; pytest then runs every rule against it::

    from servicekit.testing import StoreContract

    class TestMyStore(StoreContract):
        def make_store(self):
            return MyStore(...)
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, cast

import attrs
import pytest

from servicekit.buying_cycle import buying_cycle
from servicekit.case import Case, evolve
from servicekit.commands import (
    AssignCase,
    Command,
    CompleteFollowUp,
    MakeOffer,
    Move,
    OpenCase,
    RecordInteraction,
    ScheduleFollowUp,
)
from servicekit.decisions import decide
from servicekit.errors import ConcurrencyConflict, InvalidValue
from servicekit.events import Event
from servicekit.followups import FollowUpOutcome
from servicekit.interactions import Channel, Direction
from servicekit.ownership import Agent, Customer, Role, System
from servicekit.stores.base import CapacityClaim, CaseSummary, IdempotencyRecord, Store
from servicekit.workflow import Workflow

__all__ = ["StoreContract"]

_WORKFLOW = buying_cycle()
_SUPPORT = Workflow(
    name="support",
    stages=_WORKFLOW.stages,
    transitions=_WORKFLOW.transitions,
    start=_WORKFLOW.start,
)
_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_ANA = Agent("ana", teams={"sales"})
_BO = Agent("bo", teams={"service"})


class _Writer:
    """Decides commands against a case and appends them, as a desk would (for the tests)."""

    def __init__(self, store: Store, case_id: str, workflow: Workflow = _WORKFLOW) -> None:
        self.store = store
        self.case = Case(workflow, case_id)
        self.clock = _START

    def decide(self, command: Command) -> tuple[tuple[Event, ...], Case]:
        self.clock += timedelta(minutes=1)
        events = decide(self.case, command, now=self.clock)
        after = self.case
        for event in events:
            after = evolve(after, event)
        return events, after

    def write(self, command: Command, *, key: str | None = None) -> tuple[Event, ...]:
        events, after = self.decide(command)
        record = None
        if key is not None:
            case_id = self.case.case_id
            record = IdempotencyRecord(key, case_id, "print", events[0].version, after.version)
        self.store.append(
            self.case.case_id,
            events,
            expected_version=self.case.version,
            summary=CaseSummary.of(after),
            idempotency=record,
        )
        self.case = after
        return events

    def open(self, owner: Agent = _ANA, customer: str = "cust-1") -> tuple[Event, ...]:
        return self.write(
            OpenCase(actor=owner, customer_id=customer, channel=Channel.PHONE, summary="help")
        )

    def note(self, text: str = "called back") -> tuple[Event, ...]:
        owner = self.case.owner or _ANA
        return self.write(
            RecordInteraction(
                actor=owner, channel=Channel.EMAIL, direction=Direction.OUTBOUND, summary=text
            )
        )


@attrs.frozen
class _Append:
    """The arguments of one append, kept together so that a test can spoil one of them."""

    case_id: str
    events: tuple[Event, ...]
    expected_version: int
    summary: CaseSummary
    idempotency: IdempotencyRecord | None = None
    require_active: tuple[str, ...] = ()

    def to(self, store: Store) -> int:
        """Make this append to `store`."""
        return store.append(
            self.case_id,
            self.events,
            expected_version=self.expected_version,
            summary=self.summary,
            idempotency=self.idempotency,
            require_active=self.require_active,
        )


_LIMIT = 200
"""The most characters an id or a name may have (`MAX_NAME_LENGTH`), stated as the rule."""

_NAMED = {  # each text an append stores, and the words its refusal calls it by
    "case_id": "the case id",
    "customer_id": "the customer id",
    "workflow": "the workflow name",
    "stage": "the stage",
    "owner_id": "the owner id",
    "steward_id": "the steward id",
    "follow_up_assignee_ids": "a follow-up's assignee id",
    "idempotency_key": "the idempotency key",
}

_CRITERION = {  # the `find_cases` criterion that finds a case by each of the index's texts
    "customer_id": "customer",
    "workflow": "workflow",
    "stage": "stage",
    "owner_id": "owner",
    "steward_id": "steward",
    "follow_up_assignee_ids": "follow_up_assignee",
}


class StoreContract:
    """Every rule of the storage contract, one test each. Subclass and implement `make_store`."""

    def make_store(self) -> Store:
        """A fresh, empty store to test. Subclasses must implement it."""
        raise NotImplementedError

    @pytest.fixture
    def store(self) -> Store:
        """The store under test."""
        return self.make_store()

    def writer(
        self, store: Store, case_id: str = "case-1", workflow: Workflow = _WORKFLOW
    ) -> _Writer:
        """A helper that decides and appends commands on one case of `workflow`."""
        return _Writer(store, case_id, workflow)

    # -- load and append ----------------------------------------------------------------

    def test_an_unknown_case_loads_as_version_zero(self, store: Store) -> None:
        history = store.load("nobody")
        assert (history.case_id, history.events, history.version) == ("nobody", (), 0)

    def test_appended_events_load_back_equal_and_in_order(self, store: Store) -> None:
        writer = self.writer(store)
        written = writer.open() + writer.note()
        history = store.load("case-1")
        assert history.events == written
        assert history.version == len(written)

    def test_exact_values_survive_storage(self, store: Store) -> None:
        writer = self.writer(store)
        writer.open()
        writer.write(Move(actor=_ANA, trigger="negotiate"))
        written = writer.write(
            MakeOffer(actor=_ANA, amount=Decimal("1234.50"), currency="EUR", terms="net 30")
        )
        loaded = store.load("case-1").events[-1]
        assert loaded == written[0]
        assert loaded.at.tzinfo is not None
        assert loaded.amount == Decimal("1234.50")  # type: ignore[union-attr]

    def test_load_after_a_version_returns_only_later_events(self, store: Store) -> None:
        writer = self.writer(store)
        opened = writer.open()
        noted = writer.note()
        history = store.load("case-1", after_version=len(opened))
        assert history.events == noted
        assert history.version == len(opened) + len(noted)

    def test_append_returns_the_new_version(self, store: Store) -> None:
        writer = self.writer(store)
        events, after = writer.decide(
            OpenCase(actor=_ANA, customer_id="c", channel=Channel.WEB, summary="s")
        )
        version = store.append("case-1", events, expected_version=0, summary=CaseSummary.of(after))
        assert version == len(events)

    def test_a_stale_version_conflicts_and_writes_nothing(self, store: Store) -> None:
        writer = self.writer(store)
        writer.open()
        stale = self.writer(store)
        stale_events, stale_after = stale.decide(
            OpenCase(actor=_BO, customer_id="x", channel=Channel.CHAT, summary="late")
        )
        before = store.read_all()
        with pytest.raises(ConcurrencyConflict) as error:
            store.append(
                "case-1", stale_events, expected_version=0, summary=CaseSummary.of(stale_after)
            )
        assert error.value.case_id == "case-1"
        assert store.read_all() == before
        assert store.find_cases(customer="x") == []

    def test_a_conflict_names_the_case_the_version_expected_and_the_version_found(
        self, store: Store
    ) -> None:
        writer = self.writer(store)
        writer.open()  # case-1 is at version 4
        append = self.continuation_at(writer, expected_version=2)
        with pytest.raises(ConcurrencyConflict) as conflict:
            append.to(store)
        assert str(conflict.value) == "case 'case-1' was expected at version 2 but is at version 4"
        assert (conflict.value.case_id, conflict.value.expected, conflict.value.actual) == (
            "case-1",
            2,
            4,
        )

    def test_a_conflict_over_an_inactive_agent_names_the_case_the_version_and_agent(
        self, store: Store
    ) -> None:
        store.put_agent(attrs.evolve(_BO, active=False))
        writer = self.writer(store)
        writer.open()
        append = self.continuation_at(writer, expected_version=4)
        with pytest.raises(ConcurrencyConflict) as conflict:
            attrs.evolve(append, require_active=("bo",)).to(store)
        # The case is where the append expected it: the version found is that one, not
        # the one the store's own write (rolled back) had reached.
        assert str(conflict.value) == (
            "case 'case-1' was expected at version 4 but is at version 4; "
            "agent 'bo' is no longer active"
        )
        assert (conflict.value.case_id, conflict.value.expected) == ("case-1", 4)
        assert conflict.value.actual == 4
        assert store.load("case-1").version == 4

    def continuation_at(self, writer: _Writer, *, expected_version: int) -> _Append:
        """A note on the writer's case, appended as if the case were at `expected_version`."""
        events, after = writer.decide(
            RecordInteraction(
                actor=_ANA, channel=Channel.EMAIL, direction=Direction.OUTBOUND, summary="late"
            )
        )
        moved = tuple(
            attrs.evolve(event, version=expected_version + number)
            for number, event in enumerate(events, start=1)
        )
        summary = attrs.evolve(CaseSummary.of(after), version=moved[-1].version)
        return _Append(writer.case.case_id, moved, expected_version, summary)

    def test_a_version_ahead_conflicts(self, store: Store) -> None:
        writer = self.writer(store)
        events, after = writer.decide(
            OpenCase(actor=_ANA, customer_id="c", channel=Channel.WEB, summary="s")
        )
        moved = [attrs.evolve(event, version=event.version + 3) for event in events]
        summary = attrs.evolve(CaseSummary.of(after), version=moved[-1].version)
        with pytest.raises(ConcurrencyConflict):
            store.append("case-1", moved, expected_version=3, summary=summary)
        assert store.load("case-1").version == 0

    def test_an_append_is_all_or_nothing(self, store: Store) -> None:
        writer = self.writer(store)
        events, after = writer.decide(
            OpenCase(actor=_ANA, customer_id="c", channel=Channel.WEB, summary="s")
        )
        broken = [*events[:-1], attrs.evolve(events[-1], version=events[-1].version + 1)]
        with pytest.raises(InvalidValue):
            store.append("case-1", broken, expected_version=0, summary=CaseSummary.of(after))
        assert store.load("case-1").events == ()
        assert store.read_all() == []
        assert store.find_cases() == []

    def test_an_empty_append_is_refused(self, store: Store) -> None:
        writer = self.writer(store)
        _, after = writer.decide(
            OpenCase(actor=_ANA, customer_id="c", channel=Channel.WEB, summary="s")
        )
        with pytest.raises(InvalidValue, match="at least one event"):
            store.append("case-1", [], expected_version=0, summary=CaseSummary.of(after))

    def test_events_of_another_case_are_refused(self, store: Store) -> None:
        writer = self.writer(store, "case-2")
        events, after = writer.decide(
            OpenCase(actor=_ANA, customer_id="c", channel=Channel.WEB, summary="s")
        )
        summary = attrs.evolve(CaseSummary.of(after), case_id="case-1")
        with pytest.raises(InvalidValue, match="event of case 'case-2'"):
            store.append("case-1", events, expected_version=0, summary=summary)

    # -- agents that must be active -----------------------------------------------------

    def opening(self, store: Store, case_id: str = "case-1") -> tuple[tuple[Event, ...], Case]:
        """The events that open `case_id` and the case after them, decided but not appended."""
        return self.writer(store, case_id).decide(
            OpenCase(actor=_ANA, customer_id="c", channel=Channel.WEB, summary="s")
        )

    def test_an_append_requiring_active_agents_is_written_when_they_are(self, store: Store) -> None:
        store.put_agent(_ANA)
        store.put_agent(_BO)
        events, after = self.opening(store)
        store.append(
            "case-1",
            events,
            expected_version=0,
            summary=CaseSummary.of(after),
            require_active=["ana", "bo"],
        )
        assert store.load("case-1").events == events

    def test_an_append_requiring_an_inactive_agent_conflicts_and_writes_nothing(
        self, store: Store
    ) -> None:
        store.put_agent(_ANA)
        store.put_agent(attrs.evolve(_BO, active=False))
        events, after = self.opening(store)
        record = IdempotencyRecord("k1", "case-1", "print", 1, after.version)
        with pytest.raises(ConcurrencyConflict, match="agent 'bo' is no longer active"):
            store.append(
                "case-1",
                events,
                expected_version=0,
                summary=CaseSummary.of(after),
                idempotency=record,
                require_active=("ana", "bo"),
            )
        assert store.load("case-1").version == 0
        assert store.read_all() == []
        assert store.find_cases() == []
        assert store.idempotency("k1") is None

    def test_an_append_requiring_an_unregistered_agent_conflicts_and_writes_nothing(
        self, store: Store
    ) -> None:
        store.put_agent(_ANA)
        events, after = self.opening(store)
        with pytest.raises(ConcurrencyConflict, match="agent 'cy' is not registered"):
            store.append(
                "case-1",
                events,
                expected_version=0,
                summary=CaseSummary.of(after),
                require_active={"cy"},
            )
        assert store.read_all() == []
        assert store.find_cases() == []

    def test_an_agent_deactivated_after_the_decision_makes_the_append_conflict(
        self, store: Store
    ) -> None:
        store.put_agent(_BO)
        events, after = self.opening(store)
        store.put_agent(attrs.evolve(_BO, active=False))  # between the decision and the write
        with pytest.raises(ConcurrencyConflict, match="agent 'bo' is no longer active"):
            store.append(
                "case-1",
                events,
                expected_version=0,
                summary=CaseSummary.of(after),
                require_active=["bo"],
            )
        assert store.read_all() == []

    # -- capacity claims ------------------------------------------------------------------

    def assigned(
        self, store: Store, case_id: str, agent: Agent = _BO
    ) -> tuple[tuple[Event, ...], Case]:
        """The events that open `case_id` on chat and assign it to `agent`, not appended."""
        writer = self.writer(store, case_id)
        opened, writer.case = writer.decide(
            OpenCase(actor=Customer("c"), customer_id="c", channel=Channel.CHAT, summary="s")
        )
        assigned, after = writer.decide(AssignCase(actor=System("router"), to=agent))
        return (*opened, *assigned), after

    def test_an_append_within_its_capacity_claim_is_written(self, store: Store) -> None:
        store.put_agent(_BO)
        claim = CapacityClaim("bo", "chat", 1)
        events, after = self.assigned(store, "case-1")
        store.append(
            "case-1", events, expected_version=0, summary=CaseSummary.of(after), capacity=claim
        )
        assert store.load("case-1").events == events

    def test_an_append_over_its_capacity_claim_conflicts_and_writes_nothing(
        self, store: Store
    ) -> None:
        store.put_agent(_BO)
        claim = CapacityClaim("bo", "chat", 1)
        # Two desks decided at once, each seeing bo with a free place on chat.
        first, first_after = self.assigned(store, "case-1")
        second, second_after = self.assigned(store, "case-2")
        store.append(
            "case-1", first, expected_version=0, summary=CaseSummary.of(first_after), capacity=claim
        )
        with pytest.raises(ConcurrencyConflict) as conflict:
            store.append(
                "case-2",
                second,
                expected_version=0,
                summary=CaseSummary.of(second_after),
                capacity=claim,
            )
        assert str(conflict.value) == (
            "case 'case-2' was expected at version 0 but is at version 0; "
            "agent 'bo' would hold 2 working cases on chat, over their capacity of 1"
        )
        # actual: where the case is, not where the write had got
        assert (conflict.value.case_id, conflict.value.expected, conflict.value.actual) == (
            "case-2",
            0,
            0,
        )
        assert store.load("case-2").version == 0
        assert [summary.case_id for summary in store.find_cases(owner="bo")] == ["case-1"]

    def test_a_capacity_claim_counts_only_the_claimed_channel(self, store: Store) -> None:
        store.put_agent(_BO)
        events, after = self.assigned(store, "case-1")
        store.append("case-1", events, expected_version=0, summary=CaseSummary.of(after))
        phone = CapacityClaim("bo", "phone", 0)
        events, after = self.assigned(store, "case-2")
        store.append(
            "case-2", events, expected_version=0, summary=CaseSummary.of(after), capacity=phone
        )
        assert store.load("case-2").events == events

    def test_a_case_waiting_on_the_customer_frees_its_owners_place(self, store: Store) -> None:
        # Only working cases (new or open, unfinished) count against a claim: bo's case
        # that waits on the customer leaves room for one more on chat under a limit of 1.
        store.put_agent(_BO)
        waiting = self.writer(store, "case-1")
        waiting.write(
            OpenCase(
                actor=_BO, customer_id="c", channel=Channel.CHAT, summary="s", stage="in_service"
            )
        )
        waiting.write(Move(actor=_BO, trigger="wait_on_customer"))
        events, after = self.assigned(store, "case-2")
        claim = CapacityClaim("bo", "chat", 1)
        store.append(
            "case-2", events, expected_version=0, summary=CaseSummary.of(after), capacity=claim
        )
        assert store.load("case-2").events == events
        assert [s.case_id for s in store.find_cases(owner="bo")] == ["case-1", "case-2"]

    def test_concurrent_claims_on_one_agent_admit_exactly_the_limit_and_fail_no_other_way(
        self, store: Store
    ) -> None:
        # As routing desks append: the new owner must be active and within capacity. Two
        # appends that lock the agent's row to share it, then to count, can deadlock.
        store.put_agent(_BO)
        claim = CapacityClaim("bo", "chat", 3)
        outcomes: list[str] = []
        lock = threading.Lock()
        start = threading.Barrier(4)

        def claim_places(name: str) -> None:
            start.wait()
            for number in range(6):
                case_id = f"{name}-{number}"
                events, after = self.assigned(store, case_id)
                try:
                    store.append(
                        case_id,
                        events,
                        expected_version=0,
                        summary=CaseSummary.of(after),
                        require_active=("bo",),
                        capacity=claim,
                    )
                    outcome = "written"
                except ConcurrencyConflict:
                    outcome = "refused"
                except Exception as error:  # noqa: BLE001 - any other failure is the finding
                    outcome = f"{type(error).__name__}: {error}"
                with lock:
                    outcomes.append(outcome)

        threads = [threading.Thread(target=claim_places, args=(f"t{n}",)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(set(outcomes)) == ["refused", "written"], outcomes
        assert outcomes.count("written") == 3
        assert len(store.find_cases(owner="bo")) == 3

    def test_the_index_keeps_each_cases_channel(self, store: Store) -> None:
        events, after = self.opening(store)
        store.append("case-1", events, expected_version=0, summary=CaseSummary.of(after))
        assert [summary.channel for summary in store.find_cases()] == ["web"]

    # -- what cannot be stored as text ---------------------------------------------------

    def test_an_index_entry_that_does_not_describe_the_last_event_is_refused(
        self, store: Store
    ) -> None:
        events, after = self.opening(store)
        behind = attrs.evolve(CaseSummary.of(after), version=after.version - 1)
        other = attrs.evolve(CaseSummary.of(after), case_id="case-2")
        for summary in (behind, other):
            with pytest.raises(InvalidValue, match="index entry must describe case 'case-1'"):
                store.append("case-1", events, expected_version=0, summary=summary)
        assert store.read_all() == []
        assert store.find_cases() == []

    def test_an_index_entry_with_a_naive_time_is_refused_and_nothing_written(
        self, store: Store
    ) -> None:
        events, after = self.opening(store)
        naive = datetime(2026, 3, 2, 10, 0)  # noqa: DTZ001 - the naive time refused
        for field in ("next_due", "opened_at", "updated_at"):
            changes: dict[str, Any] = {field: naive}
            summary = attrs.evolve(CaseSummary.of(after), **changes)
            with pytest.raises(InvalidValue, match=f"must give {field} as a timezone-aware"):
                store.append("case-1", events, expected_version=0, summary=summary)
        assert store.load("case-1").version == 0
        assert store.find_cases() == []
        assert store.find_due() == []

    def test_an_index_entry_whose_names_are_not_text_is_refused_and_nothing_written(
        self, store: Store
    ) -> None:
        events, after = self.opening(store)
        entry = CaseSummary.of(after)
        for field, value, what in (
            ("customer_id", 5, "the customer id"),
            ("stage", b"enquiry", "the stage"),
            ("owner_id", 7, "the owner id"),
        ):
            with pytest.raises(InvalidValue, match=f"{what} must be text, got"):
                store.append(
                    "case-1",
                    events,
                    expected_version=0,
                    summary=attrs.evolve(entry, **cast("dict[str, Any]", {field: value})),
                )
        assert store.read_all() == []
        assert store.find_cases() == []

    def test_an_index_entry_whose_assignees_are_not_a_frozenset_is_refused_and_nothing_written(
        self, store: Store
    ) -> None:
        events, after = self.opening(store)
        wrong: list[Any] = [["ana"], ("ana",), {"ana"}]
        for assignees in wrong:
            entry = attrs.evolve(CaseSummary.of(after), follow_up_assignee_ids=assignees)
            with pytest.raises(InvalidValue, match="follow_up_assignee_ids as a frozenset"):
                store.append("case-1", events, expected_version=0, summary=entry)
        assert store.read_all() == []
        assert store.find_cases() == []
        assert store.find_cases(customer="c") == []

    def test_an_event_or_entry_version_that_is_not_an_int_is_refused_and_nothing_written(
        self, store: Store
    ) -> None:
        # True equals 1 (and hashes alike), but a store would keep it as `true`.
        events, after = self.opening(store)
        entry = CaseSummary.of(after)
        with pytest.raises(InvalidValue, match="whole numbers, got version True"):
            store.append(
                "case-1",
                [attrs.evolve(events[0], version=True), *events[1:]],
                expected_version=0,
                summary=entry,
            )
        if len(events) == 1:
            with pytest.raises(InvalidValue, match="index entry must describe case"):
                store.append(
                    "case-1", events, expected_version=0, summary=attrs.evolve(entry, version=True)
                )
        assert store.read_all() == []
        assert store.find_cases() == []

    def test_a_case_id_that_is_not_valid_text_is_refused_and_nothing_written(
        self, store: Store
    ) -> None:
        events, after = self.opening(store, "bad-\ud800")
        with pytest.raises(
            InvalidValue, match="the case id must be text that can be stored, got 'bad-\\\\ud800'"
        ):
            store.append("bad-\ud800", events, expected_version=0, summary=CaseSummary.of(after))
        assert store.read_all() == []
        assert store.find_cases() == []

    def test_an_agent_id_that_is_not_valid_text_is_refused_and_nothing_written(
        self, store: Store
    ) -> None:
        bad = Agent("bo", teams={"service"})
        object.__setattr__(bad, "id", "bo\udfff")  # past Agent's own check, as a host's might be
        with pytest.raises(
            InvalidValue, match="the agent id must be text that can be stored, got 'bo\\\\udfff'"
        ):
            store.put_agent(bad)
        assert store.agents() == []
        assert store.agents_in_team("service") == []

    def test_an_agents_team_or_skill_that_is_not_valid_text_is_refused_and_nothing_written(
        self, store: Store
    ) -> None:
        for field, what in (("teams", "a team name"), ("skills", "a skill")):
            bad = Agent("bo", teams={"service"})
            object.__setattr__(bad, field, frozenset({"x\udfff"}))  # past Agent's own check
            with pytest.raises(InvalidValue) as refused:
                store.put_agent(bad)
            assert str(refused.value) == (
                f"{what} of agent 'bo' must be text that can be stored, got 'x\\udfff': "
                "the character at position 1 is a lone surrogate, not a character"
            )
        assert store.agents() == []
        assert store.agents_in_team("service") == []

    def test_an_agents_id_team_or_skill_over_the_length_limit_is_refused_naming_it(
        self, store: Store
    ) -> None:
        long = "x" * (_LIMIT + 1)
        for field, value, what in (
            ("id", long, "the agent id"),
            ("teams", frozenset({long}), "a team name of agent 'bo'"),
            ("skills", frozenset({long}), "a skill of agent 'bo'"),
        ):
            bad = Agent("bo", teams={"service"})
            object.__setattr__(bad, field, value)  # past Agent's own check
            with pytest.raises(InvalidValue) as refused:
                store.put_agent(bad)
            assert str(refused.value) == (
                f"{what} may have at most 200 characters, got 201 (starting 'xxxxxxxxxxxxxxxxxxxx')"
            )
        assert store.agents() == []
        assert store.agents_in_team("service") == []

    # -- refusals: the exact sentence, and nothing written ---------------------------------

    def contents(self, store: Store) -> tuple[object, ...]:
        """What a reader sees in `store`: the global order, the index, the due list, the agents."""
        return (
            store.read_all(),
            store.find_cases(),
            store.find_due(),
            store.agents(),
            store.load("case-1"),
            store.idempotency("k1"),
        )

    def refusal(self, store: Store, append: _Append) -> str:
        """The message of the `InvalidValue` that refuses `append`, checked to change nothing."""
        before = self.contents(store)
        with pytest.raises(InvalidValue) as refused:
            append.to(store)
        assert self.contents(store) == before
        return str(refused.value)

    def continuation(self, store: Store) -> _Append:
        """An append of one note to case-1, which is at version 6 and used the key k1 (not made)."""
        writer = self.writer(store)
        writer.open()
        writer.note("first")
        writer.write(
            RecordInteraction(
                actor=_ANA, channel=Channel.CHAT, direction=Direction.INBOUND, summary="x"
            ),
            key="k1",
        )  # case-1 is at version 6 now
        events, after = writer.decide(
            RecordInteraction(
                actor=_ANA, channel=Channel.EMAIL, direction=Direction.OUTBOUND, summary="next"
            )
        )
        return _Append("case-1", events, writer.case.version, CaseSummary.of(after))

    def naming(self, store: Store, field: str, text: str) -> _Append:
        """An append that gives `text` as its `field` (see `_NAMED`), beside a case written."""
        append = self.continuation(store)
        if field == "case_id":
            events, after = self.opening(store, text)
            return _Append(text, events, 0, CaseSummary.of(after))
        if field == "idempotency_key":
            version = append.events[0].version
            record = IdempotencyRecord(text, "case-1", "print", version, version)
            return attrs.evolve(append, idempotency=record)
        value: object = frozenset({text}) if field == "follow_up_assignee_ids" else text
        changes: dict[str, Any] = {field: value}
        return attrs.evolve(append, summary=attrs.evolve(append.summary, **changes))

    @pytest.mark.parametrize("field", list(_NAMED))
    def test_an_id_or_name_of_200_characters_is_stored_and_found_by(
        self, store: Store, field: str
    ) -> None:
        text = "x" * _LIMIT
        append = self.naming(store, field, text)
        append.to(store)
        if field == "case_id":
            assert store.load(text).events == append.events
            assert append.summary in store.find_cases()
        elif field == "idempotency_key":
            assert store.idempotency(text) == append.idempotency
        else:
            criterion: dict[str, Any] = {_CRITERION[field]: text}
            assert store.find_cases(**criterion) == [append.summary]

    @pytest.mark.parametrize("field", list(_NAMED))
    def test_an_id_or_name_of_201_characters_is_refused_by_name_and_nothing_written(
        self, store: Store, field: str
    ) -> None:
        append = self.naming(store, field, "x" * (_LIMIT + 1))
        assert self.refusal(store, append) == (
            f"{_NAMED[field]} may have at most 200 characters, got 201 "
            "(starting 'xxxxxxxxxxxxxxxxxxxx')"
        )

    @pytest.mark.parametrize(
        ("key", "refused"),
        [
            (5, "the idempotency key must be text, got int: 5"),
            (b"k2", "the idempotency key must be text, got bytes: b'k2'"),
            (
                "k" * 201,
                (
                    "the idempotency key may have at most 200 characters, got 201 "
                    "(starting 'kkkkkkkkkkkkkkkkkkkk')"
                ),
            ),
            (
                "k\x002",
                (
                    "the idempotency key must not contain the NUL character (U+0000), which no "
                    "store keeps; got 'k\\x002'"
                ),
            ),
            (
                "k\ud8002",
                (
                    "the idempotency key must be text that can be stored, got 'k\\ud8002': the "
                    "character at position 1 is a lone surrogate, not a character"
                ),
            ),
        ],
    )
    def test_an_idempotency_key_a_store_cannot_keep_is_refused_and_nothing_written(
        self, store: Store, key: object, refused: str
    ) -> None:
        append = self.continuation(store)
        version = append.events[0].version
        record = IdempotencyRecord(cast("str", key), "case-1", "print", version, version)
        assert self.refusal(store, attrs.evolve(append, idempotency=record)) == refused

    def test_events_numbered_with_a_gap_are_refused_naming_the_numbers_expected(
        self, store: Store
    ) -> None:
        append = self.continuation(store)  # at version 6: its event is version 7
        (seventh,) = append.events
        ninth = attrs.evolve(seventh, version=9)
        summary = attrs.evolve(append.summary, version=9)
        gap = attrs.evolve(append, events=(seventh, ninth), summary=summary)
        assert self.refusal(store, gap) == (
            "an append to case 'case-1' at version 6 must number its events from 7 without "
            "gaps; got version 9"
        )

    def test_events_not_numbered_from_the_next_version_are_refused(self, store: Store) -> None:
        append = self.continuation(store)
        (seventh,) = append.events
        again = attrs.evolve(append, events=(attrs.evolve(seventh, version=6),))
        assert self.refusal(store, again) == (
            "an append to case 'case-1' at version 6 must number its events from 7 without "
            "gaps; got version 6"
        )

    def test_a_negative_expected_version_is_refused(self, store: Store) -> None:
        append = self.continuation(store)
        (seventh,) = append.events
        negative = attrs.evolve(
            append,
            events=(attrs.evolve(seventh, version=0),),
            expected_version=-1,
            summary=attrs.evolve(append.summary, version=0),
        )
        assert self.refusal(store, negative) == "expected_version must be 0 or more, got -1"

    def test_an_index_entry_behind_the_last_event_is_refused_naming_both_versions(
        self, store: Store
    ) -> None:
        append = self.continuation(store)
        (seventh,) = append.events
        two = attrs.evolve(append, events=(seventh, attrs.evolve(seventh, version=8)))
        assert self.refusal(store, two) == (
            "the index entry must describe case 'case-1' at version 8, "
            "got case 'case-1' at version 7"
        )

    def test_an_index_entry_of_another_case_is_refused_naming_both_cases(
        self, store: Store
    ) -> None:
        append = self.continuation(store)
        other = attrs.evolve(append, summary=attrs.evolve(append.summary, case_id="case-2"))
        assert self.refusal(store, other) == (
            "the index entry must describe case 'case-1' at version 7, "
            "got case 'case-2' at version 7"
        )

    @pytest.mark.parametrize("field", ["opened_at", "updated_at", "next_due"])
    def test_an_index_entry_time_without_a_zone_is_refused_by_name_and_nothing_written(
        self, store: Store, field: str
    ) -> None:
        append = self.continuation(store)
        naive = datetime(2026, 3, 2, 10, 0)  # noqa: DTZ001 - the naive time refused
        changes: dict[str, Any] = {field: naive}
        spoilt = attrs.evolve(append, summary=attrs.evolve(append.summary, **changes))
        assert self.refusal(store, spoilt) == (
            f"the index entry of case 'case-1' must give {field} as a timezone-aware "
            "datetime, got datetime.datetime(2026, 3, 2, 10, 0)"
        )

    @pytest.mark.parametrize("field", ["opened_at", "updated_at", "next_due"])
    def test_an_index_entry_time_that_is_not_a_datetime_is_refused_by_name(
        self, store: Store, field: str
    ) -> None:
        append = self.continuation(store)
        changes: dict[str, Any] = {field: "2026-03-02T10:00:00+00:00"}
        spoilt = attrs.evolve(append, summary=attrs.evolve(append.summary, **changes))
        assert self.refusal(store, spoilt) == (
            f"the index entry of case 'case-1' must give {field} as a timezone-aware "
            "datetime, got '2026-03-02T10:00:00+00:00'"
        )

    @pytest.mark.parametrize("position", [0, 1, 3])
    def test_an_event_at_a_time_without_a_zone_is_refused_naming_it_and_nothing_written(
        self, store: Store, position: int
    ) -> None:
        # A store could not read such an event back: it would hold a history it cannot load.
        self.continuation(store)
        events, after = self.opening(store, "case-2")  # four events, versions 1 to 4
        naive = datetime(2026, 3, 2, 10, 0)  # noqa: DTZ001 - the naive time refused
        spoilt = list(events)
        spoilt[position] = attrs.evolve(events[position], at=naive)
        opening = _Append("case-2", tuple(spoilt), 0, CaseSummary.of(after))
        assert self.refusal(store, opening) == (
            f"event {position + 1} of an append to case 'case-2' must give at as a "
            "timezone-aware datetime, got datetime.datetime(2026, 3, 2, 10, 0)"
        )
        assert store.load("case-2").version == 0

    def test_a_lone_event_at_a_time_without_a_zone_is_refused(self, store: Store) -> None:
        append = self.continuation(store)
        (seventh,) = append.events
        naive = attrs.evolve(seventh, at=seventh.at.replace(tzinfo=None))
        assert self.refusal(store, attrs.evolve(append, events=(naive,))) == (
            "event 7 of an append to case 'case-1' must give at as a timezone-aware datetime, "
            "got datetime.datetime(2026, 3, 2, 9, 4)"
        )

    def test_an_event_whose_time_is_not_a_datetime_is_refused(self, store: Store) -> None:
        append = self.continuation(store)
        (seventh,) = append.events
        text = attrs.evolve(seventh, at=cast("datetime", "2026-03-02T10:00:00+00:00"))
        assert self.refusal(store, attrs.evolve(append, events=(text,))) == (
            "event 7 of an append to case 'case-1' must give at as a timezone-aware datetime, "
            "got '2026-03-02T10:00:00+00:00'"
        )

    def test_an_event_at_a_time_in_another_zone_is_stored_as_that_instant(
        self, store: Store
    ) -> None:
        append = self.continuation(store)
        (seventh,) = append.events
        east = seventh.at.astimezone(timezone(timedelta(hours=5)))
        attrs.evolve(append, events=(attrs.evolve(seventh, at=east),)).to(store)
        assert store.load("case-1", after_version=6).events[0].at == seventh.at

    def test_an_index_entry_opened_at_none_is_refused(self, store: Store) -> None:
        # Only next_due may be missing: a case is always opened and updated at some time.
        append = self.continuation(store)
        for field in ("opened_at", "updated_at"):
            changes: dict[str, Any] = {field: None}
            spoilt = attrs.evolve(append, summary=attrs.evolve(append.summary, **changes))
            assert self.refusal(store, spoilt) == (
                f"the index entry of case 'case-1' must give {field} as a timezone-aware "
                "datetime, got None"
            )

    def test_assignees_not_in_a_frozenset_are_refused_naming_what_was_given(
        self, store: Store
    ) -> None:
        append = self.continuation(store)
        listed = attrs.evolve(append.summary, follow_up_assignee_ids=cast("Any", ["bo"]))
        assert self.refusal(store, attrs.evolve(append, summary=listed)) == (
            "the index entry of case 'case-1' must give follow_up_assignee_ids as a frozenset "
            "of agent ids, got list: ['bo']"
        )

    def test_an_append_of_no_events_is_refused_even_with_the_entry_as_it_stands(
        self, store: Store
    ) -> None:
        append = self.continuation(store)
        empty = attrs.evolve(append, events=())
        assert self.refusal(store, empty) == "an append to case 'case-1' needs at least one event"
        (entry,) = store.find_cases()  # the case as it stands, at the version expected
        nothing_new = attrs.evolve(empty, summary=entry)
        assert self.refusal(store, nothing_new) == (
            "an append to case 'case-1' needs at least one event"
        )

    def test_a_lone_event_numbered_true_is_refused_though_true_equals_1(self, store: Store) -> None:
        events, after = self.opening(store, "case-2")
        first = attrs.evolve(events[0], version=True)
        entry = attrs.evolve(CaseSummary.of(after), version=1)
        assert self.refusal(store, _Append("case-2", (first,), 0, entry)) == (
            "an append to case 'case-2' numbers its events with whole numbers, got version True"
        )

    def test_an_index_entry_at_version_true_is_refused_though_true_equals_1(
        self, store: Store
    ) -> None:
        events, after = self.opening(store, "case-2")
        entry = attrs.evolve(CaseSummary.of(after), version=True)
        assert self.refusal(store, _Append("case-2", events[:1], 0, entry)) == (
            "the index entry must describe case 'case-2' at version 1, "
            "got case 'case-2' at version True"
        )

    def test_the_other_refusals_of_an_append_say_what_was_wrong_in_full(self, store: Store) -> None:
        append = self.continuation(store)
        (seventh,) = append.events
        foreign = attrs.evolve(append, events=(attrs.evolve(seventh, case_id="case-2"),))
        assert self.refusal(store, foreign) == (
            "an append to case 'case-1' holds an event of case 'case-2'"
        )
        boolean = attrs.evolve(append, events=(attrs.evolve(seventh, version=True),))
        assert self.refusal(store, boolean) == (
            "an append to case 'case-1' numbers its events with whole numbers, got version True"
        )
        numbers = attrs.evolve(append, require_active=cast("tuple[str, ...]", (5,)))
        assert self.refusal(store, numbers) == (
            "require_active of an append to case 'case-1' holds agent ids, got 5"
        )
        owner = attrs.evolve(append, summary=attrs.evolve(append.summary, owner_id=cast("str", 7)))
        assert self.refusal(store, owner) == "the owner id must be text, got int: 7"

    # -- the global order ---------------------------------------------------------------

    def test_read_all_gives_every_event_in_one_order_from_position_one(self, store: Store) -> None:
        first, second = self.writer(store, "a"), self.writer(store, "b")
        written = first.open() + second.open() + first.note()
        stored = store.read_all()
        assert [item.event for item in stored] == list(written)
        assert [item.position for item in stored] == list(range(1, len(written) + 1))

    def test_read_all_pages_with_after_and_limit(self, store: Store) -> None:
        writer = self.writer(store)
        writer.open()
        writer.note("one")
        writer.note("two")
        everything = store.read_all()
        pages: list[Sequence[object]] = []
        position = 0
        while page := store.read_all(after=position, limit=3):
            pages.append(page)
            position = page[-1].position
        assert [item for page in pages for item in page] == everything
        assert all(len(page) <= 3 for page in pages)

    def test_read_all_with_a_limit_of_zero_or_less_gives_nothing(self, store: Store) -> None:
        self.writer(store).open()
        assert store.read_all(limit=0) == []
        assert store.read_all(limit=-1) == []
        assert [item.position for item in store.read_all(limit=1)] == [1]

    def test_read_all_after_the_end_is_empty(self, store: Store) -> None:
        writer = self.writer(store)
        writer.open()
        end = store.read_all()[-1].position
        assert store.read_all(after=end) == []

    # -- the index ----------------------------------------------------------------------

    def test_the_index_follows_the_latest_summary(self, store: Store) -> None:
        from servicekit.commands import TransferCase  # noqa: PLC0415

        writer = self.writer(store)
        writer.open(owner=_ANA)
        writer.write(Move(actor=_ANA, trigger="start_service"))
        writer.write(TransferCase(actor=_ANA, to=_BO, handoff_note="over to bo"))
        assert store.find_cases(owner="ana") == []
        assert [s.case_id for s in store.find_cases(owner="bo")] == ["case-1"]
        assert [s.case_id for s in store.find_cases(steward="ana")] == ["case-1"]
        assert [s.case_id for s in store.find_cases(stage="in_service")] == ["case-1"]
        assert store.find_cases(stage="enquiry") == []
        assert store.find_cases(owner="bo")[0] == CaseSummary.of(writer.case)

    def test_an_entry_naming_another_customer_and_workflow_is_found_under_them(
        self, store: Store
    ) -> None:
        # The desk never changes them, but what a store accepts it finds by: every field
        # of the latest entry is indexed, none kept from an earlier one.
        writer = self.writer(store)
        writer.open(customer="c1")
        events, after = writer.decide(Move(actor=_ANA, trigger="negotiate"))
        entry = attrs.evolve(CaseSummary.of(after), customer_id="c2", workflow="repairs")
        store.append("case-1", events, expected_version=writer.case.version, summary=entry)
        assert store.find_cases(customer="c2") == [entry]
        assert store.find_cases(workflow="repairs") == [entry]
        assert store.find_cases(customer="c1") == []
        assert store.find_cases(workflow=_WORKFLOW.name) == []

    def test_an_entry_that_changes_every_criterion_at_once_is_found_only_under_the_new_ones(
        self, store: Store
    ) -> None:
        writer = self.follow_up_for(store, "case-1", _BO)  # owner and steward ana, bo to call
        due = _START + timedelta(hours=1)
        events, after = writer.decide(Move(actor=_ANA, trigger="negotiate"))
        entry = attrs.evolve(CaseSummary.of(after), next_due=due)
        store.append("case-1", events, expected_version=writer.case.version, summary=entry)
        writer.case = after
        events, after = writer.decide(
            RecordInteraction(
                actor=_ANA, channel=Channel.CHAT, direction=Direction.OUTBOUND, summary="x"
            )
        )
        changed = attrs.evolve(
            CaseSummary.of(after),
            stage="in_service",
            owner_id=None,
            steward_id="cy",
            customer_id="c2",
            workflow="repairs",
            follow_up_assignee_ids=frozenset({"cy", "dee"}),
            next_due=due + timedelta(days=1),
        )
        store.append("case-1", events, expected_version=writer.case.version, summary=changed)
        for old in (
            {"owner": "ana"},
            {"steward": "ana"},
            {"customer": "cust-1"},
            {"workflow": _WORKFLOW.name},
            {"stage": "negotiation"},
            {"follow_up_assignee": "bo"},
        ):
            assert store.find_cases(**old) == [], old
        for new in (
            {"steward": "cy"},
            {"customer": "c2"},
            {"workflow": "repairs"},
            {"stage": "in_service"},
            {"follow_up_assignee": "cy"},
            {"follow_up_assignee": "dee"},
        ):
            assert store.find_cases(**new) == [changed], new
        assert store.find_due(until=due + timedelta(hours=23)) == []
        assert store.find_due() == [changed]

    def test_an_assignee_handed_over_leaves_and_the_new_one_joins_in_one_append(
        self, store: Store
    ) -> None:
        writer = self.follow_up_for(store, "case-1", _BO)
        events, after = writer.decide(Move(actor=_ANA, trigger="negotiate"))
        handed = attrs.evolve(CaseSummary.of(after), follow_up_assignee_ids=frozenset({"cy"}))
        store.append("case-1", events, expected_version=writer.case.version, summary=handed)
        assert store.find_cases(follow_up_assignee="bo") == []
        assert store.find_cases(follow_up_assignee="cy") == [handed]
        assert store.find_cases(follow_up_assignee="cy", owner="ana") == [handed]

    def test_a_closed_case_is_indexed_as_finished(self, store: Store) -> None:
        writer = self.writer(store)
        writer.open()
        writer.write(Move(actor=_ANA, trigger="close", reason="a duplicate"))
        (summary,) = store.find_cases()
        assert (summary.stage, summary.finished) == ("closed", True)
        assert summary == CaseSummary.of(writer.case)

    def test_a_case_moved_to_a_stage_another_case_is_at_is_found_there_only(
        self, store: Store
    ) -> None:
        first, second = self.writer(store, "a"), self.writer(store, "b")
        for writer in (first, second):
            writer.write(
                OpenCase(
                    actor=_BO,
                    customer_id="c",
                    channel=Channel.CHAT,
                    summary="s",
                    stage="in_service",
                )
            )
        second.write(Move(actor=_BO, trigger="wait_on_customer"))
        first.write(Move(actor=_BO, trigger="wait_on_customer"))
        assert [s.case_id for s in store.find_cases(stage="waiting_on_customer")] == ["a", "b"]
        assert store.find_cases(stage="in_service") == []

    def test_find_cases_combines_criteria(self, store: Store) -> None:
        self.writer(store, "a").open(owner=_ANA, customer="c1")
        self.writer(store, "b").open(owner=_BO, customer="c1")
        self.writer(store, "c").open(owner=_ANA, customer="c2")
        assert [s.case_id for s in store.find_cases(owner="ana", customer="c1")] == ["a"]
        assert [s.case_id for s in store.find_cases(customer="c1")] == ["a", "b"]
        assert store.find_cases(owner="ana", customer="c1", stage="closed") == []

    def test_find_cases_without_criteria_lists_every_case_by_opening(self, store: Store) -> None:
        for hours, name in enumerate(["z", "y", "x"]):
            writer = self.writer(store, name)
            writer.clock += timedelta(hours=hours)
            writer.open()
        assert [s.case_id for s in store.find_cases()] == ["z", "y", "x"]

    def test_cases_opened_at_the_same_moment_are_listed_by_case_id(self, store: Store) -> None:
        for case_id in ("b", "a", "Z"):  # each opened at the same minute; "Z" before "a"
            self.writer(store, case_id).open()
        assert [s.case_id for s in store.find_cases()] == ["Z", "a", "b"]
        assert [s.case_id for s in store.find_cases(customer="cust-1")] == ["Z", "a", "b"]
        assert [s.case_id for s in store.find_cases(owner="ana", stage="enquiry")] == [
            "Z",
            "a",
            "b",
        ]

    def test_an_unowned_case_is_indexed_by_customer_and_stage(self, store: Store) -> None:
        writer = self.writer(store)
        writer.write(
            OpenCase(actor=Customer("c9"), customer_id="c9", channel=Channel.WEB, summary="s")
        )
        [summary] = store.find_cases(customer="c9")
        assert summary.owner_id is None
        assert store.find_cases(stage="enquiry") == [summary]

    def test_the_index_names_the_workflow_a_case_was_opened_on(self, store: Store) -> None:
        opened = self.writer(store, "s", _SUPPORT).open()
        self.writer(store, "b").open()
        by_case = {summary.case_id: summary.workflow for summary in store.find_cases()}
        assert by_case == {"s": opened[0].workflow, "b": _WORKFLOW.name}  # type: ignore[union-attr]
        assert by_case["s"] == "support"

    def test_find_cases_by_workflow_lists_only_that_workflows_cases(self, store: Store) -> None:
        self.writer(store, "s1", _SUPPORT).open(customer="c1")
        self.writer(store, "b1").open(customer="c1")
        self.writer(store, "s2", _SUPPORT).open(customer="c2")
        assert [s.case_id for s in store.find_cases(workflow="support")] == ["s1", "s2"]
        assert [s.case_id for s in store.find_cases(workflow=_WORKFLOW.name)] == ["b1"]
        assert [s.case_id for s in store.find_cases(workflow="support", customer="c2")] == ["s2"]
        assert store.find_cases(workflow="nothing") == []

    # -- due times --------------------------------------------------------------------

    def due_case(self, store: Store, case_id: str, due: datetime | None) -> _Writer:
        """A case whose index entry says it is next due at `due`."""
        writer = self.writer(store, case_id)
        events, after = writer.decide(
            OpenCase(actor=_ANA, customer_id="c", channel=Channel.WEB, summary="s")
        )
        store.append(
            case_id, events, expected_version=0, summary=CaseSummary.of(after, next_due=due)
        )
        writer.case = after
        return writer

    def test_find_due_lists_the_cases_due_by_a_time_earliest_first(self, store: Store) -> None:
        self.due_case(store, "late", _START + timedelta(hours=5))
        self.due_case(store, "soon", _START + timedelta(hours=1))
        self.due_case(store, "never", None)
        self.due_case(store, "sooner", _START + timedelta(minutes=30))
        due = store.find_due(until=_START + timedelta(hours=1))
        assert [s.case_id for s in due] == ["sooner", "soon"]
        assert due[0].next_due == _START + timedelta(minutes=30)
        assert [s.case_id for s in store.find_due()] == ["sooner", "soon", "late"]
        assert [s.case_id for s in store.find_due(limit=1)] == ["sooner"]

    def test_a_new_due_time_replaces_the_old_one(self, store: Store) -> None:
        writer = self.due_case(store, "k", _START + timedelta(hours=1))
        events, after = writer.decide(
            RecordInteraction(
                actor=_ANA, channel=Channel.CHAT, direction=Direction.OUTBOUND, summary="x"
            )
        )
        store.append(
            "k",
            events,
            expected_version=writer.case.version,
            summary=CaseSummary.of(after, next_due=_START + timedelta(days=2)),
        )
        assert store.find_due(until=_START + timedelta(days=1)) == []
        assert [s.next_due for s in store.find_due()] == [_START + timedelta(days=2)]

    def test_find_due_lists_every_case_due_at_the_bound_whatever_its_id(self, store: Store) -> None:
        due = _START + timedelta(hours=1)
        for case_id in ("plain", "A", "\U0010ffff\U0010ffff", "\U0010ffffz"):
            self.due_case(store, case_id, due)
        found = {s.case_id for s in store.find_due(until=due)}
        assert found == {"plain", "A", "\U0010ffff\U0010ffff", "\U0010ffffz"}
        assert store.find_due(until=due - timedelta(microseconds=1)) == []

    def test_cases_due_at_the_same_moment_are_listed_by_case_id(self, store: Store) -> None:
        due = _START + timedelta(hours=1)
        for case_id in ("b", "a", "Z"):  # by code point: "Z" before "a"
            self.due_case(store, case_id, due)
        assert [s.case_id for s in store.find_due()] == ["Z", "a", "b"]
        assert [s.case_id for s in store.find_due(until=due)] == ["Z", "a", "b"]
        assert [s.case_id for s in store.find_due(until=due, limit=2)] == ["Z", "a"]

    def test_find_due_with_a_limit_of_zero_lists_nothing(self, store: Store) -> None:
        self.due_case(store, "a", _START + timedelta(hours=1))
        assert store.find_due(limit=0) == []
        assert store.find_due(until=_START + timedelta(days=1), limit=0) == []

    def test_find_due_until_the_last_moment_there_is_lists_every_due_case(
        self, store: Store
    ) -> None:
        last = datetime.max.replace(tzinfo=UTC)
        self.due_case(store, "soon", _START + timedelta(hours=1))
        self.due_case(store, "at the end of time", last)
        self.due_case(store, "never", None)
        assert [s.case_id for s in store.find_due(until=last)] == ["soon", "at the end of time"]
        assert [s.next_due for s in store.find_due(until=last)] == [
            _START + timedelta(hours=1),
            last,
        ]

    def test_a_case_due_at_the_last_moment_is_not_due_a_microsecond_before(
        self, store: Store
    ) -> None:
        last = datetime.max.replace(tzinfo=UTC)
        self.due_case(store, "at the end of time", last)
        assert store.find_due(until=last - timedelta(microseconds=1)) == []
        assert [s.case_id for s in store.find_due(until=last)] == ["at the end of time"]

    def test_find_due_reads_a_bound_in_any_zone_as_the_same_instant(self, store: Store) -> None:
        due = _START + timedelta(hours=1)
        self.due_case(store, "a", due)
        east = timezone(timedelta(hours=5))
        assert [s.case_id for s in store.find_due(until=due.astimezone(east))] == ["a"]
        before = (due - timedelta(microseconds=1)).astimezone(east)
        assert store.find_due(until=before) == []

    def test_find_due_needs_an_aware_time(self, store: Store) -> None:
        with pytest.raises(InvalidValue, match="naive"):
            store.find_due(until=_START.replace(tzinfo=None))

    def test_find_due_refuses_a_bound_without_a_zone_naming_it_until(self, store: Store) -> None:
        with pytest.raises(InvalidValue) as naive:
            store.find_due(until=_START.replace(tzinfo=None))
        assert str(naive.value) == (
            "until must be timezone-aware, got the naive datetime 2026-03-02T09:00:00"
        )
        with pytest.raises(InvalidValue) as text:
            store.find_due(until=cast("datetime", "2026-03-02"))
        assert str(text.value) == "until must be a timezone-aware datetime, got str: '2026-03-02'"

    def test_set_next_due_refuses_a_time_without_a_zone_naming_it_next_due(
        self, store: Store
    ) -> None:
        writer = self.due_case(store, "a", _START + timedelta(hours=1))
        with pytest.raises(InvalidValue) as naive:
            store.set_next_due(
                "a", version=writer.case.version, next_due=_START.replace(tzinfo=None)
            )
        assert str(naive.value) == (
            "next_due must be timezone-aware, got the naive datetime 2026-03-02T09:00:00"
        )
        assert [s.next_due for s in store.find_due()] == [_START + timedelta(hours=1)]

    # -- idempotency --------------------------------------------------------------------

    def test_an_idempotency_key_is_recorded_with_its_append(self, store: Store) -> None:
        writer = self.writer(store)
        events = writer.open()
        writer.note()
        assert store.idempotency("k1") is None
        noted = writer.write(
            RecordInteraction(
                actor=_ANA, channel=Channel.CHAT, direction=Direction.INBOUND, summary="x"
            ),
            key="k1",
        )
        record = store.idempotency("k1")
        assert record is not None
        assert (record.case_id, record.first_version, record.last_version) == (
            "case-1",
            noted[0].version,
            noted[-1].version,
        )
        assert len(events) < record.first_version

    def test_a_used_idempotency_key_conflicts_and_writes_nothing(self, store: Store) -> None:
        first, second = self.writer(store, "a"), self.writer(store, "b")
        first.open()
        first.note()
        first.write(
            RecordInteraction(
                actor=_ANA, channel=Channel.CHAT, direction=Direction.INBOUND, summary="x"
            ),
            key="k1",
        )
        before = store.read_all()
        with pytest.raises(ConcurrencyConflict) as conflict:
            second.write(
                OpenCase(actor=_BO, customer_id="c", channel=Channel.WEB, summary="s"), key="k1"
            )
        assert str(conflict.value) == (
            "case 'b' was expected at version 0 but is at version 0; "
            "idempotency key 'k1' was used meanwhile"
        )
        assert (conflict.value.case_id, conflict.value.expected, conflict.value.actual) == (
            "b",
            0,
            0,
        )
        assert store.read_all() == before
        assert store.load("b").version == 0

    # -- the agent directory ------------------------------------------------------------

    def test_agents_are_put_found_replaced_and_listed_by_id(self, store: Store) -> None:
        store.put_agent(_BO)
        store.put_agent(_ANA)
        boss = Agent("ana", teams={"sales"}, roles={Role.SUPERVISOR})
        store.put_agent(boss)
        assert store.get_agent("ana") == boss
        assert store.get_agent("nobody") is None
        assert store.agents() == [boss, _BO]

    def test_agents_in_team_lists_the_teams_members_by_id(self, store: Store) -> None:
        both = Agent("al", teams={"sales", "service"})
        for agent in (_BO, _ANA, Agent("cy", teams={"service"}), both):
            store.put_agent(agent)
        assert [a.id for a in store.agents_in_team("service")] == ["al", "bo", "cy"]
        assert store.agents_in_team("sales") == [both, _ANA]
        assert store.agents_in_team("nobody's") == []

    def test_agents_in_team_with_a_role_lists_the_members_who_hold_it(self, store: Store) -> None:
        lead = Agent("al", teams={"sales", "service"}, roles={Role.SUPERVISOR})
        cy = Agent("cy", teams={"service"}, roles={Role.AGENT, Role.SUPERVISOR})
        for agent in (_BO, _ANA, cy, lead):
            store.put_agent(agent)
        assert store.agents_in_team("service", role=Role.SUPERVISOR) == [lead, cy]
        assert store.agents_in_team("service", role=Role.AGENT) == [_BO, cy]
        assert store.agents_in_team("billing", role=Role.SUPERVISOR) == []

    def test_a_role_change_moves_the_agent_between_role_lists(self, store: Store) -> None:
        store.put_agent(_BO)
        promoted = Agent("bo", teams={"service"}, roles={Role.SUPERVISOR})
        store.put_agent(promoted)
        assert store.agents_in_team("service", role=Role.AGENT) == []
        assert store.agents_in_team("service", role=Role.SUPERVISOR) == [promoted]
        moved = Agent("bo", teams={"sales"}, roles={Role.SUPERVISOR})
        store.put_agent(moved)
        assert store.agents_in_team("service", role=Role.SUPERVISOR) == []
        assert store.agents_in_team("sales", role=Role.SUPERVISOR) == [moved]

    def test_a_team_change_moves_the_agent_between_teams(self, store: Store) -> None:
        store.put_agent(_BO)
        moved = Agent("bo", teams={"sales", "billing"}, roles={Role.SUPERVISOR})
        store.put_agent(moved)
        assert store.agents_in_team("service") == []
        assert store.agents_in_team("sales") == [moved]
        assert store.agents_in_team("billing") == [moved]

    def test_an_agent_in_no_team_is_in_no_team_list(self, store: Store) -> None:
        store.put_agent(Agent("solo"))
        assert store.agents_in_team("") == []
        assert store.get_agent("solo") == Agent("solo")

    def test_an_agent_put_as_expected_replaces_the_record_it_was_read_from(
        self, store: Store
    ) -> None:
        assert store.put_agent(_BO) is True
        moved = attrs.evolve(_BO, teams={"sales"}, active=False)
        assert store.put_agent(moved, expected=_BO) is True
        assert store.get_agent("bo") == moved
        assert store.agents_in_team("service") == []
        assert store.agents_in_team("sales") == [moved]

    def test_an_agent_put_on_a_record_changed_meanwhile_writes_nothing(self, store: Store) -> None:
        store.put_agent(_BO)
        changed = attrs.evolve(_BO, teams={"billing"})
        store.put_agent(changed)  # another writer, between the read of _BO and the put
        assert store.put_agent(attrs.evolve(_BO, active=False), expected=_BO) is False
        assert store.get_agent("bo") == changed
        assert store.agents_in_team("billing") == [changed]
        assert store.agents_in_team("service") == []

    def test_an_agent_put_expecting_a_record_that_was_never_put_writes_nothing(
        self, store: Store
    ) -> None:
        assert store.put_agent(attrs.evolve(_BO, active=False), expected=_BO) is False
        assert store.get_agent("bo") is None
        assert store.agents_in_team("service") == []

    def test_an_agent_put_expecting_another_agents_record_is_refused(self, store: Store) -> None:
        store.put_agent(_BO)
        with pytest.raises(InvalidValue) as refused:
            store.put_agent(_BO, expected=_ANA)
        assert str(refused.value) == (
            "put_agent of agent 'bo' was given the expected record of agent 'ana'; "
            "expected is the record of the same agent the change was made from"
        )
        assert store.agents() == [_BO]

    def test_an_agent_put_expecting_what_is_not_an_agent_is_refused_naming_it(
        self, store: Store
    ) -> None:
        store.put_agent(_BO)
        with pytest.raises(InvalidValue) as refused:
            store.put_agent(_BO, expected=cast("Agent", "bo"))
        assert str(refused.value) == (
            "put_agent of agent 'bo' was given the expected record of 'bo'; "
            "expected is the record of the same agent the change was made from"
        )
        assert store.agents() == [_BO]

    # -- concurrency --------------------------------------------------------------------

    # -- open follow-ups by assignee, and correcting a stale due time -------------------

    def follow_up_for(self, store: Store, case_id: str, assignee: Agent) -> _Writer:
        writer = self.writer(store, case_id)
        writer.open(_ANA)
        writer.write(
            ScheduleFollowUp(
                actor=_ANA, due=_START + timedelta(days=1), reason="call", assignee=assignee
            )
        )
        return writer

    def test_find_cases_by_follow_up_assignee_lists_cases_with_their_open_follow_up(
        self, store: Store
    ) -> None:
        self.follow_up_for(store, "a", _BO)
        self.follow_up_for(store, "b", _ANA)
        self.writer(store, "c").open(_BO)
        assert [s.case_id for s in store.find_cases(follow_up_assignee="bo")] == ["a"]
        (found,) = store.find_cases(follow_up_assignee="bo", owner="ana")
        assert found.follow_up_assignee_ids == frozenset({"bo"})
        assert store.find_cases(follow_up_assignee="cy") == []

    def test_a_completed_follow_up_leaves_the_assignees_list(self, store: Store) -> None:
        writer = self.follow_up_for(store, "a", _BO)
        writer.write(CompleteFollowUp(actor=_BO, follow_up_id=1, outcome=FollowUpOutcome.SERVED))
        assert store.find_cases(follow_up_assignee="bo") == []
        (summary,) = store.find_cases(owner="ana")
        assert summary.follow_up_assignee_ids == frozenset()

    def test_set_next_due_replaces_the_due_time_of_a_case_still_at_that_version(
        self, store: Store
    ) -> None:
        writer = self.due_case(store, "a", _START + timedelta(hours=1))
        later = _START + timedelta(hours=5)
        assert store.set_next_due("a", version=writer.case.version, next_due=later)
        assert [s.next_due for s in store.find_due()] == [later]
        assert store.set_next_due("a", version=writer.case.version, next_due=None)
        assert store.find_due() == []

    def test_set_next_due_changes_only_the_case_named(self, store: Store) -> None:
        a = self.due_case(store, "a", _START + timedelta(hours=1))
        b = self.due_case(store, "b", _START + timedelta(hours=2))
        assert a.case.version == b.case.version
        assert store.set_next_due("a", version=a.case.version, next_due=None)
        assert [(s.case_id, s.next_due) for s in store.find_due()] == [
            ("b", _START + timedelta(hours=2))
        ]

    def test_set_next_due_leaves_a_case_that_moved_on_alone(self, store: Store) -> None:
        due = _START + timedelta(hours=1)
        writer = self.due_case(store, "a", due)
        assert not store.set_next_due("a", version=writer.case.version - 1, next_due=None)
        assert not store.set_next_due("nobody", version=1, next_due=None)
        assert [s.next_due for s in store.find_due()] == [due]

    def test_concurrent_appenders_lose_no_event_and_duplicate_none(self, store: Store) -> None:
        self.writer(store).open()
        wins: list[int] = []
        lock = threading.Lock()

        def append_notes(name: str) -> None:
            writer = self.writer(store)
            for number in range(20):
                while True:
                    history = store.load("case-1", after_version=writer.case.version)
                    for event in history.events:
                        writer.case = evolve(writer.case, event)
                    writer.clock = max(writer.clock, writer.case.updated_at or writer.clock)
                    try:
                        writer.note(f"{name} {number}")
                    except ConcurrencyConflict:
                        continue
                    with lock:
                        wins.append(1)
                    break

        threads = [threading.Thread(target=append_notes, args=(f"t{n}",)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        events = store.load("case-1").events
        summaries = [e.summary for e in events if type(e).__name__ == "InteractionRecorded"]  # type: ignore[union-attr]
        assert len(wins) == 80
        assert sorted(summaries[1:]) == sorted(f"t{n} {m}" for n in range(4) for m in range(20))
        assert [e.version for e in events] == list(range(1, len(events) + 1))
        assert [item.event for item in store.read_all()] == list(events)

    # -- checkpoints (for stores that keep them; see servicekit.outbox) ----------------

    def test_checkpoints_start_at_zero_and_are_remembered(self, store: Store) -> None:
        from servicekit.outbox import CheckpointStore  # noqa: PLC0415

        if not isinstance(store, CheckpointStore):
            pytest.skip("this store keeps no checkpoints")
        assert store.checkpoint("mailer") == 0
        store.save_checkpoint("mailer", 12)
        store.save_checkpoint("search", 3)
        assert (store.checkpoint("mailer"), store.checkpoint("search")) == (12, 3)
