"""The hot path's constructors agree with attrs' own, field for field."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

from servicekit import Agent, Case, CaseRecord, StageChanged, buying_cycle
from servicekit.case import _new_case
from servicekit.events import new_stage_changed

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


def test_closing_keeps_every_other_field_of_the_record() -> None:
    from servicekit.case import _closed_at  # noqa: PLC0415

    record = CaseRecord(
        customer_id="c",
        priority="high",
        tier="gold",
        sla_paused=True,
        channel="chat",
        skills=frozenset({"de"}),
        queued_at=NOW,
        unanswered_by=frozenset({"bo"}),
    )
    closed = _closed_at(record, NOW)
    assert closed == attrs.evolve(record, closed_at=NOW)
