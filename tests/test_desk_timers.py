"""The desk's SLA reports, next due time and tick: every timer fires, and only once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from servicekit import (
    Agent,
    BusinessCalendar,
    Channel,
    Customer,
    Direction,
    InMemoryStore,
    InvalidValue,
    ManualClock,
    Role,
    ServiceDesk,
    SlaBreached,
    SlaEscalated,
    SlaWarned,
    SQLiteStore,
    Store,
    buying_cycle,
)
from servicekit.sla import ClockState, Metric, Policy, PolicySet, Target

FRIDAY_4PM = datetime(2024, 7, 5, 14, 0, tzinfo=UTC)
BERLIN = BusinessCalendar(
    timezone="Europe/Berlin",
    hours={day: [("09:00", "17:30")] for day in ["mon", "tue", "wed", "thu", "fri"]},
)
POLICIES = PolicySet(
    [
        Policy(
            name="standard",
            version=1,
            calendar=BERLIN,
            targets=[Target(Metric.FIRST_RESPONSE, "4h"), Target(Metric.RESOLUTION, "2d")],
        )
    ]
)
IVY = Customer("ivy")


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "memory":
        return InMemoryStore()
    return SQLiteStore(tmp_path / "t.sqlite", synchronous="NORMAL")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(FRIDAY_4PM)


@pytest.fixture
def desk(store: Store, clock: ManualClock) -> ServiceDesk:
    desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=clock, sla=POLICIES)
    desk.register_agent(Agent("bo", teams={"service"}))
    desk.register_agent(Agent("sue", teams={"service"}, roles={Role.SUPERVISOR}))
    desk.open_case(actor=IVY, customer_id="ivy", channel=Channel.EMAIL, summary="s", case_id="k")
    desk.take("k", actor="bo")
    return desk


def monday(hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 7, 8, hour - 2, minute, tzinfo=UTC)  # Berlin wall clock


def fired(desk: ServiceDesk) -> Counter[tuple[str, str, int]]:
    return Counter(
        (type(e).__name__, e.clock, getattr(e, "level", 0))
        for e in desk.history("k")
        if isinstance(e, SlaWarned | SlaBreached | SlaEscalated)
    )


def test_the_desk_reports_a_cases_sla(desk: ServiceDesk, clock: ManualClock) -> None:
    clock.set(monday(10))
    report = desk.sla("k")
    assert report.clock("first_response").state is ClockState.RUNNING
    assert report.clock("first_response").due == monday(11, 30)


def test_a_desk_without_policies_says_so(store: Store) -> None:
    desk = ServiceDesk(workflow=buying_cycle(), store=store)
    desk.open_case(actor=IVY, customer_id="ivy", channel=Channel.EMAIL, summary="s", case_id="k")
    with pytest.raises(InvalidValue, match="no SLA policies"):
        desk.sla("k")
    assert desk.next_due() is None


def test_the_index_knows_when_the_next_timer_falls_due(desk: ServiceDesk) -> None:
    assert desk.next_due() == monday(10, 30)  # 75% of the first response's 4h
    desk.record_interaction(
        "k", actor="bo", channel=Channel.EMAIL, direction=Direction.OUTBOUND, summary="on it"
    )
    # resolution's warning: 75% of 48h is 36h of business time, 1h30 of it on Friday
    assert desk.next_due() == datetime(2024, 7, 12, 7, 30, tzinfo=UTC)


def test_tick_fires_what_is_due_once(desk: ServiceDesk) -> None:
    assert desk.tick(FRIDAY_4PM + timedelta(hours=1)) == []
    outcomes = desk.tick(monday(12))
    assert [type(e).__name__ for outcome in outcomes for e in outcome.events] == [
        "SlaWarned",
        "SlaBreached",
        "SlaEscalated",
    ]
    assert desk.tick(monday(12)) == []  # the same now: nothing twice
    assert fired(desk) == Counter(
        {
            ("SlaWarned", "first_response", 0): 1,
            ("SlaBreached", "first_response", 0): 1,
            ("SlaEscalated", "first_response", 1): 1,
        }
    )


def test_escalations_reach_a_supervisor_from_the_directory(desk: ServiceDesk) -> None:
    desk.tick(monday(12))
    desk.tick(monday(13))
    escalations = [e for e in desk.history("k") if isinstance(e, SlaEscalated)]
    assert [(e.level, e.notify.id) for e in escalations] == [(1, "bo"), (2, "sue")]


def test_ticks_from_several_threads_fire_each_timer_once(desk: ServiceDesk) -> None:
    barrier = threading.Barrier(4)

    def tick() -> None:
        barrier.wait()
        desk.tick(monday(15))

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(count == 1 for count in fired(desk).values())
    assert fired(desk)[("SlaBreached", "first_response", 0)] == 1


def test_tick_uses_the_desks_clock_by_default(desk: ServiceDesk, clock: ManualClock) -> None:
    clock.set(monday(12))
    assert len(desk.tick()) == 2  # warning and breach, then the first escalation


def test_the_sla_policies_must_be_a_policy_set() -> None:
    with pytest.raises(InvalidValue, match="PolicySet"):
        ServiceDesk(workflow=buying_cycle(), sla=[POLICIES])  # type: ignore[arg-type]
