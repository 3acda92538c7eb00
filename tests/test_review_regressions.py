"""Regressions found in review: each once let a rule slip."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from servicekit import (
    Agent,
    AgentStillResponsible,
    BusinessCalendar,
    ChangePriority,
    Channel,
    Customer,
    InMemoryStore,
    ManualClock,
    ServiceDesk,
    SlaBreached,
    SlaWarned,
    buying_cycle,
)
from servicekit.sla import ClockState, Conditions, Metric, Policy, PolicySet, Target
from servicekit.stores import Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALWAYS = BusinessCalendar.always_open()
IVY = Customer("ivy")


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store  # memory, SQLite and PostgreSQL (see conftest.py)


def desk_with(store: Store, policies: PolicySet | None = None) -> tuple[ServiceDesk, ManualClock]:
    clock = ManualClock(T0)
    desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=clock, sla=policies)
    desk.register_agent(Agent("bo", teams={"service"}))
    desk.register_agent(Agent("cy", teams={"service"}))
    return desk, clock


FIRST_HOUR = PolicySet(
    [Policy(name="p", version=1, calendar=ALWAYS, targets=[Target(Metric.FIRST_RESPONSE, "1h")])]
)


def test_a_tick_behind_the_last_event_fires_each_timer_once(store: Store) -> None:
    desk, clock = desk_with(store, FIRST_HOUR)
    desk.open_case(actor=IVY, customer_id="ivy", channel=Channel.EMAIL, summary="x", case_id="k")
    clock.set(T0 + timedelta(minutes=70))
    desk.take("k", actor="bo")  # a writer whose clock is ahead
    desk.tick(T0 + timedelta(minutes=65))  # a ticker a little behind
    desk.tick(T0 + timedelta(minutes=65))
    fired = Counter(
        type(e).__name__ for e in desk.history("k") if isinstance(e, SlaWarned | SlaBreached)
    )
    assert fired == Counter({"SlaBreached": 1})  # both were due: the warning was skipped


def test_a_stage_dependent_policy_does_not_block_closing(store: Store) -> None:
    service = Policy(
        name="service",
        version=1,
        calendar=ALWAYS,
        conditions=Conditions(stages={"in_service", "resolved", "follow_up"}),
        targets=[Target(Metric.RESOLUTION, "24h")],
    )
    general = Policy(
        name="general", version=1, calendar=ALWAYS, targets=[Target(Metric.RESOLUTION, "48h")]
    )
    desk, _ = desk_with(store, PolicySet([service, general]))
    desk.open_case(
        actor="bo",
        customer_id="ivy",
        channel=Channel.PHONE,
        summary="x",
        stage="in_service",
        case_id="k",
    )
    desk.resolve("k", actor="bo")
    desk.start_follow_up("k", actor="bo")
    from servicekit import FollowUpOutcome  # noqa: PLC0415

    for follow_up in desk.case("k").open_follow_ups:
        desk.complete_follow_up(
            "k", follow_up.follow_up_id, actor="bo", outcome=FollowUpOutcome.SERVED
        )
    assert desk.close("k", actor="bo").case.stage == "closed"


def test_an_idempotent_open_without_a_case_id_returns_the_same_case(store: Store) -> None:
    desk, _ = desk_with(store)
    first = desk.open_case(
        actor="bo", customer_id="c", channel=Channel.PHONE, summary="hi", idempotency_key="open-1"
    )
    again = desk.open_case(
        actor="bo", customer_id="c", channel=Channel.PHONE, summary="hi", idempotency_key="open-1"
    )
    assert again.duplicate
    assert again.case.case_id == first.case.case_id
    assert len(desk.cases()) == 1


def test_clocks_paused_while_waiting_run_again_after_a_reopen(store: Store) -> None:
    policies = PolicySet(
        [
            Policy(
                name="p", version=1, calendar=ALWAYS, targets=[Target(Metric.FIRST_RESPONSE, "4h")]
            )
        ]
    )
    desk, clock = desk_with(store, policies)
    desk.open_case(actor=IVY, customer_id="ivy", channel=Channel.EMAIL, summary="x", case_id="k")
    desk.take("k", actor="bo")
    desk.start_service("k", actor="bo")
    desk.wait_on_customer("k", actor="bo")
    desk.resolve("k", actor="bo")  # straight from waiting to resolved
    desk.reopen("k", actor=IVY)
    clock.advance(timedelta(hours=30))
    assert desk.sla("k").clock("first_response").state is ClockState.BREACHED


def test_a_case_that_comes_under_a_policy_later_is_measured_from_then(store: Store) -> None:
    urgent = Policy(
        name="urgent",
        version=1,
        calendar=ALWAYS,
        conditions=Conditions(priorities={"urgent"}),
        targets=[Target(Metric.RESOLUTION, "4h")],
    )
    desk, clock = desk_with(store, PolicySet([urgent]))
    desk.open_case(
        actor="bo",
        customer_id="ivy",
        channel=Channel.PHONE,
        summary="x",
        stage="in_service",
        case_id="k",
    )
    clock.advance(timedelta(hours=1))
    desk.execute("k", ChangePriority(actor=desk.agent("bo"), priority="urgent"))
    clock.advance(timedelta(hours=1))
    resolution = desk.sla("k").clock("resolution")
    assert resolution.state is ClockState.RUNNING
    assert resolution.elapsed == timedelta(hours=1)


def test_a_deactivation_that_loses_a_race_is_undone() -> None:
    class RacingStore(InMemoryStore):
        """A transfer to bo lands between the desk's check and its write."""

        desk: ServiceDesk | None = None

        def put_agent(self, agent: Agent, *, expected: Agent | None = None) -> bool:
            racing, self.desk = self.desk, None
            if racing is not None and not agent.active:
                racing.transfer("k", actor="cy", to="bo", handoff_note="over to bo")
            return super().put_agent(agent, expected=expected)

    store = RacingStore()
    desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=ManualClock(T0))
    desk.register_agent(Agent("bo", teams={"service"}))
    desk.register_agent(Agent("cy", teams={"service"}))
    desk.open_case(
        actor="cy",
        customer_id="ivy",
        channel=Channel.PHONE,
        summary="x",
        stage="in_service",
        case_id="k",
    )
    store.desk = desk
    with pytest.raises(AgentStillResponsible):
        desk.deactivate_agent("bo")
    assert desk.agent("bo").active
