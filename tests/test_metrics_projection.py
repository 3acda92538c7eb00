"""The projection: the same report as `compute`, however its events arrive, saved and restored."""

from __future__ import annotations

import json
from datetime import timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from metrics_stories import ANA, Story, stored

from servicekit import (
    BusinessCalendar,
    CaseSummary,
    Event,
    InMemoryStore,
    InvalidValue,
    Metric,
    Policy,
    PolicySet,
    StoredEvent,
    Survey,
    Target,
    buying_cycle,
    deliver,
    replay,
)
from servicekit.metrics import Projection, compute
from servicekit.testing.strategies import histories

FLOWS = [buying_cycle()]
SLA = PolicySet(
    [
        Policy(
            name="standard",
            version=1,
            calendar=BusinessCalendar.always_open(),
            targets=(
                Target(Metric.FIRST_RESPONSE, "2h"),
                Target(Metric.NEXT_RESPONSE, "4h"),
                Target(Metric.RESOLUTION, "24h"),
            ),
        )
    ]
)
OPTIONS = st.fixed_dictionaries(
    {
        "by": st.sampled_from([(), ("agent",), ("team", "channel"), ("workflow",)]),
        "period": st.sampled_from([None, "day", "week", "month"]),
        "zone": st.sampled_from(["UTC", "Asia/Kathmandu"]),
        "sla": st.sampled_from([None, SLA]),
    }
)


@st.composite
def interleaved(draw: st.DrawFn) -> list[StoredEvent]:
    """Several cases' histories merged in a random order that keeps each case's own order."""
    cases = draw(st.integers(min_value=1, max_value=3))
    queues = [draw(histories(case_id=f"case-{n}", max_commands=15)) for n in range(cases)]
    merged: list[Event] = []
    while any(queues):
        queue = draw(st.sampled_from([queue for queue in queues if queue]))
        merged.append(queue.pop(0))
    return [StoredEvent(position, event) for position, event in enumerate(merged, start=1)]


@pytest.mark.slow
@settings(max_examples=40)
@given(events=interleaved(), options=OPTIONS, cuts=st.lists(st.integers(0, 200), max_size=3))
def test_the_projection_fed_in_pieces_and_restarted_reports_what_compute_reports(
    events: list[StoredEvent], options: dict[str, object], cuts: list[int]
) -> None:
    expected = compute(events, workflows=FLOWS, **options)  # type: ignore[arg-type]
    sla = options.pop("sla")
    projection = Projection(workflows=FLOWS, sla=sla, **options)  # type: ignore[arg-type]
    start = 0
    for cut in sorted({min(cut, len(events)) for cut in cuts}):
        projection.apply(events[start:cut])
        saved = json.loads(json.dumps(projection.state()))  # a restart in between
        projection = Projection.restore(saved, workflows=FLOWS, sla=sla)  # type: ignore[arg-type]
        start = cut
    projection.apply(events[start:])
    assert projection.report() == expected


def test_a_redelivered_event_is_not_counted_twice() -> None:
    events = stored(Story("a").reply(10), Story("b").reply(30))
    projection = Projection(workflows=FLOWS)
    projection.apply(events)
    projection.apply(events[2:])  # delivered again after a crash
    assert projection.report() == compute(events, workflows=FLOWS)


def test_an_event_a_case_has_seen_is_not_counted_twice_even_without_its_position() -> None:
    events = [item.event for item in stored(Story("a").reply(10), Story("b").reply(30))]
    projection = Projection(workflows=FLOWS)
    projection.apply(events)
    projection.apply(events)
    assert projection.report() == compute(events, workflows=FLOWS)


def _store(*stories: Story) -> InMemoryStore:
    store = InMemoryStore()
    for story in stories:
        case = replay(FLOWS[0], story.events)
        store.append(story.case_id, story.events, expected_version=0, summary=CaseSummary.of(case))
    return store


def test_the_outbox_feeds_the_projection_and_a_restored_one_resumes_where_it_stopped() -> None:
    store = _store(Story("a").reply(10), Story("b").reply(30))
    projection = Projection(workflows=FLOWS)
    deliver(store, "kpis", projection.handle, checkpoints=projection)
    saved = json.dumps(projection.state())
    later = Story("c").reply(50)
    case = replay(FLOWS[0], later.events)
    store.append("c", later.events, expected_version=0, summary=CaseSummary.of(case))
    restored = Projection.restore(json.loads(saved), workflows=FLOWS)
    handed = deliver(store, "kpis", restored.handle, checkpoints=restored)
    assert handed == len(later.events)  # only the new events were read
    # waits 10, 30 and 50 minutes: median 30
    assert restored.report().value("first_response_time") == timedelta(minutes=30)
    assert restored.report() == compute(store.read_all(), workflows=FLOWS)


def test_a_case_whose_history_cannot_be_read_is_reported_and_the_others_are_counted() -> None:
    good = Story("a").reply(10)
    broken = Story("b").reply(20)
    del broken.events[1]  # a gap: version 3 follows version 1
    elsewhere = Story("c").reply(5)
    elsewhere.events[0] = attrs.evolve(elsewhere.events[0], workflow="returns")  # type: ignore[arg-type]
    kpis = compute(stored(good, broken, elsewhere), workflows=FLOWS)
    assert [case.case_id for case in kpis.skipped] == ["b", "c"]
    assert "a gap" in kpis.skipped[0].reason
    assert "'returns'" in kpis.skipped[1].reason
    assert kpis.value("first_response_time") == timedelta(minutes=10)


def test_a_state_kept_with_sla_policies_is_restored_only_with_them() -> None:
    projection = Projection(workflows=FLOWS, sla=SLA)
    projection.apply(stored(Story("a", owner=ANA).feedback(1, Survey.CSAT, 5)))
    state = projection.state()
    with pytest.raises(InvalidValue, match="sla=a PolicySet"):
        Projection.restore(state, workflows=FLOWS)
