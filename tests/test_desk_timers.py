"""The desk's SLA reports, next due time and tick: every timer fires, and only once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from servicekit import (
    Agent,
    ApplySlaPolicy,
    BusinessCalendar,
    ChangePriority,
    Channel,
    Customer,
    Direction,
    InvalidTransition,
    InvalidValue,
    ManualClock,
    NotPermitted,
    Role,
    ServiceDesk,
    SlaBreached,
    SlaEscalated,
    SlaPolicyApplied,
    SlaWarned,
    Store,
    System,
    buying_cycle,
)
from servicekit.sla import ClockState, Conditions, Metric, Policy, PolicySet, Target

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
            targets=[Target(Metric.FIRST_RESPONSE, "4h"), Target(Metric.RESOLUTION, "48h")],
        )
    ]
)
IVY = Customer("ivy")


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store  # memory, SQLite and PostgreSQL (see conftest.py)


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
    assert desk.tick(FRIDAY_4PM + timedelta(hours=1)).fired == ()
    outcomes = [*desk.tick(monday(11)).fired, *desk.tick(monday(12)).fired]
    assert [type(e).__name__ for outcome in outcomes for e in outcome.events] == [
        "SlaWarned",
        "SlaBreached",
        "SlaEscalated",
    ]
    assert desk.tick(monday(12)).fired == ()  # the same now: nothing twice
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


def test_escalations_go_to_a_supervisor_of_the_teams_the_owner_has_now(desk: ServiceDesk) -> None:
    desk.register_agent(Agent("al", teams={"billing"}, roles={Role.SUPERVISOR}))
    desk.register_agent(Agent("bo", teams={"billing"}))  # bo took the case while in service
    desk.tick(monday(12))
    desk.tick(monday(13))
    escalations = [e for e in desk.history("k") if isinstance(e, SlaEscalated)]
    assert [(e.level, e.notify.id) for e in escalations] == [(1, "bo"), (2, "al")]


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


def test_a_case_records_the_policy_version_it_is_under(desk: ServiceDesk) -> None:
    applied = [e for e in desk.history("k") if isinstance(e, SlaPolicyApplied)]
    assert [(e.policy, e.policy_version) for e in applied] == [("standard", 1)]
    assert desk.case("k").record.sla_policy == ("standard", 1)


def test_a_new_version_applies_to_new_cases_and_old_cases_keep_theirs(
    store: Store, clock: ManualClock
) -> None:
    v1 = POLICIES.policies[0]
    v2 = attrs.evolve(v1, version=2, targets=[Target(Metric.FIRST_RESPONSE, "2h")])
    first = ServiceDesk(workflow=buying_cycle(), store=store, clock=clock, sla=POLICIES)
    first.open_case(actor=IVY, customer_id="ivy", channel=Channel.EMAIL, summary="s", case_id="old")
    redeployed = ServiceDesk(
        workflow=buying_cycle(), store=store, clock=clock, sla=PolicySet([v2, v1])
    )
    redeployed.open_case(
        actor=IVY, customer_id="ivy", channel=Channel.EMAIL, summary="s", case_id="new"
    )
    redeployed.record_interaction(
        "old", actor=IVY, channel=Channel.EMAIL, direction=Direction.INBOUND, summary="hello?"
    )
    assert redeployed.sla("old").policy == v1
    assert redeployed.sla("new").policy == v2
    assert redeployed.sla("new").clock("first_response").target == timedelta(hours=2)


def test_a_retired_version_is_measured_under_the_current_one(
    store: Store, clock: ManualClock
) -> None:
    v1 = POLICIES.policies[0]
    first = ServiceDesk(workflow=buying_cycle(), store=store, clock=clock, sla=POLICIES)
    first.open_case(actor=IVY, customer_id="ivy", channel=Channel.EMAIL, summary="s", case_id="old")
    v3 = attrs.evolve(v1, version=3)
    later = ServiceDesk(workflow=buying_cycle(), store=store, clock=clock, sla=PolicySet([v3]))
    report = later.sla("old")
    assert report.policy == v3
    notes = report.clock("resolution").explanation
    assert any("v1, which is no longer defined: measured under 'standard' v3" in n for n in notes)


def test_a_priority_change_records_the_policy_that_now_applies(
    store: Store, clock: ManualClock
) -> None:
    urgent = attrs.evolve(
        POLICIES.policies[0], name="urgent", conditions=Conditions(priorities={"urgent"})
    )
    desk = ServiceDesk(
        workflow=buying_cycle(),
        store=store,
        clock=clock,
        sla=PolicySet([urgent, *POLICIES.policies]),
    )
    desk.register_agent(Agent("bo", teams={"service"}))
    desk.open_case(actor="bo", customer_id="ivy", channel=Channel.PHONE, summary="s", case_id="p")
    outcome = desk.execute("p", ChangePriority(actor=desk.agent("bo"), priority="urgent"))
    assert [type(e).__name__ for e in outcome.events] == ["PriorityChanged", "SlaPolicyApplied"]
    notes = desk.sla("p").clock("resolution").explanation
    assert any(
        "priority changed to urgent: policy 'standard' v1 -> 'urgent' v1" in n for n in notes
    )


def test_only_the_system_records_a_policy_once(desk: ServiceDesk) -> None:
    with pytest.raises(NotPermitted, match="only the system"):
        desk.execute("k", ApplySlaPolicy(actor=desk.agent("bo"), policy="x", version=1))
    with pytest.raises(InvalidTransition, match="applies already"):
        desk.execute("k", ApplySlaPolicy(actor=System("sla"), policy="standard", version=1))
