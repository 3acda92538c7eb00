"""One case never stops the loop: `tick` reports a case that cannot fire and serves the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from servicekit import (
    Agent,
    BusinessCalendar,
    CaseHistory,
    Channel,
    Customer,
    FollowUpDue,
    InMemoryStore,
    ManualClock,
    ServiceDesk,
    Store,
    buying_cycle,
)
from servicekit.sla import Metric, Policy, PolicySet, Target

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class OneBadCase(InMemoryStore):
    """A store that fails to load one case, as a damaged row or a bug would.

    Memory only, by nature: the failure is injected by wrapping the store's load,
    and what is tested is the tick's isolation of it, not the store.
    """

    def __init__(self, bad: str) -> None:
        super().__init__()
        self.bad = bad
        self.broken = False

    def load(self, case_id: str, *, after_version: int = 0) -> CaseHistory:
        if self.broken and case_id == self.bad:
            msg = f"row of {case_id} is damaged"
            raise RuntimeError(msg)
        return super().load(case_id, after_version=after_version)


def test_a_case_that_raises_is_reported_and_a_hundred_others_still_fire() -> None:
    store = OneBadCase("case-050")
    desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=ManualClock(START))
    desk.register_agent(Agent("bo", teams={"service"}))
    case_ids = [f"case-{n:03}" for n in range(101)]
    for case_id in case_ids:
        desk.open_case(
            actor="bo", customer_id="ivy", channel=Channel.EMAIL, summary="s", case_id=case_id
        )
        desk.schedule_follow_up(
            case_id, actor="bo", due=START + timedelta(hours=1), reason="call back"
        )
    store.broken = True

    report = desk.tick(START + timedelta(hours=2))

    assert [(problem.case_id, problem.reason) for problem in report.failed] == [
        ("case-050", "RuntimeError: row of case-050 is damaged")
    ]
    fired = sorted(outcome.case_id for outcome in report)
    assert fired == [case_id for case_id in case_ids if case_id != "case-050"]
    assert all(isinstance(outcome.events[0], FollowUpDue) for outcome in report)

    # The set-aside case is visited again by the next tick, and fires once it can.
    store.broken = False
    again = desk.tick(START + timedelta(hours=3))
    assert [outcome.case_id for outcome in again] == ["case-050"]
    assert again.failed == ()


def first_response_within(budget: str, *, version: int) -> PolicySet:
    """SLA policy "p": a first response within `budget`, round the clock."""
    target = Target(Metric.FIRST_RESPONSE, budget)
    calendar = BusinessCalendar.always_open()
    return PolicySet([Policy(name="p", version=version, calendar=calendar, targets=[target])])


def test_a_stale_due_time_is_corrected_by_the_first_tick_that_visits_the_case(
    any_store: Store,
) -> None:
    store = any_store  # memory, SQLite and PostgreSQL (see conftest.py)
    policies = first_response_within("1h", version=1)
    before = ServiceDesk(
        workflow=buying_cycle(), store=store, clock=ManualClock(START), sla=policies
    )
    before.open_case(
        actor=Customer("ivy"), customer_id="ivy", channel=Channel.WEB, summary="s", case_id="k"
    )
    assert [s.case_id for s in store.find_due()] == ["k"]
    # The next deployment promises 10 hours: the stored due time (1 hour) is stale.
    relaxed = first_response_within("10h", version=2)
    after = ServiceDesk(workflow=buying_cycle(), store=store, clock=ManualClock(START), sla=relaxed)
    report = after.tick(START + timedelta(hours=2))
    assert not report
    (summary,) = store.find_due()  # corrected: later ticks do not visit it before it is due
    assert summary.next_due is not None
    assert summary.next_due > START + timedelta(hours=2)
    assert store.find_due(until=START + timedelta(hours=3)) == []


def test_a_desk_without_sla_policies_leaves_sla_due_times_alone(any_store: Store) -> None:
    store = any_store  # memory, SQLite and PostgreSQL (see conftest.py)
    policies = first_response_within("1h", version=1)
    sla_desk = ServiceDesk(
        workflow=buying_cycle(), store=store, clock=ManualClock(START), sla=policies
    )
    sla_desk.open_case(
        actor=Customer("ivy"), customer_id="ivy", channel=Channel.WEB, summary="s", case_id="k"
    )
    worker = ServiceDesk(workflow=buying_cycle(), store=store, clock=ManualClock(START))
    worker.tick(START + timedelta(hours=2))  # a tick worker started without the policies
    assert [s.case_id for s in store.find_due()] == ["k"]
    fired = sla_desk.tick(START + timedelta(hours=2))
    assert "SlaBreached" in {type(event).__name__ for event in fired.events}
