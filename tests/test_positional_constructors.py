"""The hot path's constructors agree with attrs' own, field for field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from servicekit import (
    Actor,
    Agent,
    Case,
    CaseRecord,
    Customer,
    Move,
    StageChanged,
    System,
    buying_cycle,
)
from servicekit._values import slot_builder
from servicekit.case import _new_case, _new_record
from servicekit.events import new_stage_changed
from servicekit.serialization import EVENT_TYPES

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = Agent("ana")


def test_a_case_built_fast_equals_one_built_by_attrs() -> None:
    workflow = buying_cycle()
    record = CaseRecord(customer_id="c", priority="high")
    fields = (workflow, "k", 3, "in_service", ANA, ANA, NOW, record)
    fast, slow = _new_case(*fields), Case(*fields)
    assert fast == slow
    for field in attrs.fields(Case):
        assert getattr(fast, field.name) is getattr(slow, field.name), field.name
    assert len(attrs.fields(Case)) == len(fields)  # a new field must be added to _new_case


def test_a_stage_change_built_fast_equals_one_built_by_attrs() -> None:
    fields = ("k", 5, NOW, ANA, "resolve", "in_service", "resolved", "fixed")
    fast, slow = new_stage_changed(*fields), StageChanged(*fields)
    assert fast == slow
    assert len(attrs.fields(StageChanged)) == len(fields)


def test_a_record_built_fast_equals_one_built_by_attrs() -> None:
    # A distinct value per field, so that a field set from the wrong argument shows.
    fields: list[Any] = [object() for _ in attrs.fields(CaseRecord)]
    fast, slow = _new_record(*fields), CaseRecord(*fields)
    assert type(fast) is CaseRecord
    assert fast == slow
    for field in attrs.fields(CaseRecord):
        assert getattr(fast, field.name) is getattr(slow, field.name), field.name


def test_a_value_built_fast_is_frozen_like_any_other() -> None:
    record = CaseRecord(customer_id="c")
    case = _new_case(buying_cycle(), "k", 1, "in_service", ANA, ANA, NOW, record)
    event = new_stage_changed("k", 2, NOW, ANA, "resolve", "in_service", "resolved", None)
    for value, field in (
        (case, "stage"),
        (event, "dest"),
        (_new_record(*attrs.astuple(record, recurse=False)), "priority"),
    ):
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(value, field, "elsewhere")
    assert type(case) is Case
    assert type(event) is StageChanged
    assert hash(case) == hash(Case(*(getattr(case, f.name) for f in attrs.fields(Case))))


def test_closing_keeps_every_other_field_of_the_record() -> None:
    from servicekit.case import _closed_at  # noqa: PLC0415

    # A distinct value per field, so that a field dropped or passed on from the wrong one shows.
    fields: list[Any] = [object() for _ in attrs.fields(CaseRecord)]
    record = CaseRecord(*fields)
    closed = _closed_at(record, NOW)
    assert closed.closed_at is NOW
    for field in attrs.fields(CaseRecord):
        if field.name != "closed_at":
            assert getattr(closed, field.name) is getattr(record, field.name), field.name


def test_replacing_a_records_histories_keeps_every_other_field() -> None:
    from servicekit.case import _with  # noqa: PLC0415

    fields: list[Any] = [object() for _ in attrs.fields(CaseRecord)]
    record = CaseRecord(*fields)
    assert _with(record) == record
    for field in attrs.fields(CaseRecord):
        assert getattr(_with(record), field.name) is getattr(record, field.name), field.name
    offers: Any = object()
    assert _with(record, offers=offers) == attrs.evolve(record, offers=offers)


def test_an_index_entry_built_fast_equals_one_built_by_attrs() -> None:
    from servicekit import CaseSummary  # noqa: PLC0415
    from servicekit.stores.base import _NOBODY  # noqa: PLC0415

    workflow = buying_cycle()
    opened, updated, due = NOW, NOW.replace(hour=10), NOW.replace(hour=11)
    record = CaseRecord(customer_id="c", opened_at=opened, channel="phone")
    case = Case(workflow, "k", 3, "in_service", ANA, Agent("bea"), updated, record)
    stage = workflow.stage("in_service")
    fast = CaseSummary.of(case, next_due=due)
    slow = CaseSummary(
        *("k", "c", workflow.name, "in_service", stage.category, stage.final, "ana", "bea", 3),
        *(opened, updated, due, _NOBODY, "phone"),
    )
    assert type(fast) is CaseSummary
    assert fast == slow
    for field in attrs.fields(CaseSummary):
        assert getattr(fast, field.name) is getattr(slow, field.name), field.name


def test_an_outcome_built_fast_equals_one_built_by_attrs() -> None:
    from servicekit.desk.results import Outcome, new_outcome  # noqa: PLC0415

    case = Case(buying_cycle(), "k")
    fast, slow = new_outcome(case, ()), Outcome(case, ())
    assert type(fast) is Outcome
    assert fast == slow
    assert fast.duplicate is False
    assert len(attrs.fields(Outcome)) == 3  # a new field must be added to new_outcome


def test_a_stage_change_folds_to_the_case_attrs_builds() -> None:
    from servicekit import evolve  # noqa: PLC0415

    record = CaseRecord(customer_id="c", priority="high")
    case = Case(buying_cycle(), "k", 3, "in_service", ANA, Agent("bo"), NOW, record)
    event = StageChanged("k", 4, NOW, ANA, "wait_on_customer", "in_service", "waiting_on_customer")
    folded = evolve(case, event)
    expected = attrs.evolve(case, version=4, stage="waiting_on_customer", updated_at=NOW)
    assert type(folded) is Case
    assert folded == expected
    for field in attrs.fields(Case):
        assert getattr(folded, field.name) is getattr(expected, field.name), field.name


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_event_a_store_builds_by_position_equals_one_built_by_attrs(name: str) -> None:
    kind = EVENT_TYPES[name]
    # A distinct value per field, so that a field set from the wrong argument shows.
    fields: list[Any] = [object() for _ in attrs.fields(kind)]
    fast, slow = slot_builder(kind)(*fields), kind(*fields)
    assert type(fast) is kind
    assert fast == slow
    for field, value in zip(attrs.fields(kind), fields, strict=True):
        assert getattr(fast, field.name) is value, field.name
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.case_id = "other"  # type: ignore[misc]


def test_a_class_that_checks_its_fields_gets_no_builder() -> None:
    with pytest.raises(TypeError, match="checks or converts"):
        slot_builder(Agent)


@pytest.mark.parametrize("actor", [Agent("bo"), Customer("c"), System("bot")])
def test_a_named_move_built_fast_equals_one_built_by_attrs(actor: Actor) -> None:
    from servicekit.desk.service_desk import _plain_move  # noqa: PLC0415

    for trigger in sorted({t.trigger for t in buying_cycle().transitions}):
        fast, slow = _plain_move(actor, trigger), Move(actor=actor, trigger=trigger)
        assert type(fast) is Move
        assert fast == slow
        assert (fast.reason, fast.idempotency_key) == (None, None)
    assert len(attrs.fields(Move)) == 4  # a new field must be added to _plain_move
