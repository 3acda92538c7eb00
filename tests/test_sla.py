"""SLA clocks on business hours: pausing, recalculation, warnings, breaches, escalations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from servicekit import (
    Agent,
    BusinessCalendar,
    Channel,
    Customer,
    Direction,
    FireTimers,
    InvalidValue,
    ManualClock,
    Role,
    ServiceDesk,
    System,
    buying_cycle,
)
from servicekit.commands import ChangePriority, PauseSla, ResumeSla
from servicekit.sla import (
    ClockState,
    Conditions,
    Metric,
    Policy,
    PolicySet,
    SlaReport,
    Target,
    assess,
)
from servicekit.timers import TimerKind

WORKFLOW = buying_cycle()
BERLIN = BusinessCalendar(
    timezone="Europe/Berlin",
    hours={day: [("09:00", "17:30")] for day in ["mon", "tue", "wed", "thu", "fri"]},
)
FRIDAY_4PM = datetime(2024, 7, 5, 14, 0, tzinfo=UTC)  # 16:00 in Berlin
IVY = Customer("ivy")
STANDARD = Policy(
    name="standard",
    version=2,
    calendar=BERLIN,
    targets=[
        Target(Metric.FIRST_RESPONSE, "4h"),
        Target(Metric.NEXT_RESPONSE, "8h"),
        Target(Metric.PERIODIC_UPDATE, "24h"),
        Target(Metric.RESOLUTION, "48h"),
        Target(Metric.REACH_STAGE, "3h", stage="in_service"),
    ],
)
URGENT = Policy(
    name="urgent",
    version=1,
    calendar=BERLIN,
    conditions=Conditions(priorities={"urgent"}),
    targets=[Target(Metric.FIRST_RESPONSE, "1h"), Target(Metric.RESOLUTION, "4h")],
    escalate_every="2h",
)
POLICIES = PolicySet([URGENT, STANDARD])


class Desk:
    """A desk with a manual clock, and the SLA report of its case."""

    def __init__(self) -> None:
        self.clock = ManualClock(FRIDAY_4PM)
        self.desk = ServiceDesk(workflow=WORKFLOW, clock=self.clock)
        self.desk.register_agent(Agent("bo", teams={"service"}))
        self.desk.register_agent(Agent("sue", teams={"service"}, roles={Role.SUPERVISOR}))
        self.desk.register_agent(Agent("ana", teams={"sales"}))

    def at(self, when: datetime) -> Desk:
        self.clock.set(when)
        return self

    def report(self, *, supervisor: str | None = "sue") -> SlaReport:
        def supervisors_of(_team: str | None) -> list[Agent]:
            return [] if supervisor is None else [self.desk.agent(supervisor)]

        return assess(
            self.desk.history("k"),
            POLICIES,
            now=self.clock.now(),
            workflow=WORKFLOW,
            supervisors_of=supervisors_of,
        )

    def customer_writes(self, summary: str = "hello") -> None:
        self.desk.record_interaction(
            "k", actor=IVY, channel=Channel.EMAIL, direction=Direction.INBOUND, summary=summary
        )

    def bo_answers(self) -> None:
        self.desk.record_interaction(
            "k", actor="bo", channel=Channel.EMAIL, direction=Direction.OUTBOUND, summary="answer"
        )


@pytest.fixture
def desk() -> Desk:
    desk = Desk()
    desk.desk.open_case(
        actor=IVY, customer_id="ivy", channel=Channel.EMAIL, summary="broken", case_id="k"
    )
    desk.desk.take("k", actor="bo")
    return desk


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """A July 2024 wall-clock time in Berlin (UTC+2), as UTC."""
    return datetime(2024, 7, day, hour - 2, minute, tzinfo=UTC)


def test_first_response_is_measured_on_business_hours(desk: Desk) -> None:
    desk.at(berlin(8, 9, 30)).bo_answers()  # Monday 09:30: 1h30 on Friday + 30 min
    clock = desk.report().clock("first_response")
    assert clock.state is ClockState.MET
    assert clock.elapsed == timedelta(hours=2)


def test_an_unanswered_customer_breaches_the_first_response(desk: Desk) -> None:
    report = desk.at(berlin(8, 12)).report()
    clock = report.clock("first_response")
    assert clock.state is ClockState.BREACHED
    assert clock.due == berlin(8, 11, 30)  # 1h30 on Friday, 2h30 on Monday
    kinds = [(timer.kind, timer.clock) for timer in report.timers_due()]
    assert (TimerKind.WARNING, "first_response") in kinds
    assert (TimerKind.BREACH, "first_response") in kinds


def test_a_running_clock_says_when_it_is_due_and_what_is_left(desk: Desk) -> None:
    clock = desk.at(berlin(5, 17)).report().clock("first_response")
    assert clock.state is ClockState.RUNNING
    assert clock.remaining == timedelta(hours=3)
    assert clock.due == berlin(8, 11, 30)


def test_an_agent_who_opens_a_case_answered_it_live() -> None:
    desk = Desk()
    desk.desk.open_case(
        actor="bo", customer_id="ivy", channel=Channel.PHONE, summary="call", case_id="k"
    )
    keys = [clock.key for clock in desk.report().clocks]
    assert "first_response" not in keys
    assert "resolution" in keys


def test_clocks_pause_while_waiting_on_the_customer(desk: Desk) -> None:
    desk.desk.start_service("k", actor="bo")
    desk.at(berlin(5, 17))
    desk.desk.wait_on_customer("k", actor="bo")  # 1h used
    desk.at(berlin(9, 15)).customer_writes()
    desk.desk.resume("k", actor="bo")
    clock = desk.at(berlin(9, 16)).report().clock("resolution")
    assert clock.elapsed == timedelta(hours=2)  # Friday's hour, and Tuesday 15:00-16:00
    assert any("waiting on the customer" in line for line in clock.explanation)


def test_a_paused_clock_has_no_due_time(desk: Desk) -> None:
    desk.desk.start_service("k", actor="bo")
    desk.desk.wait_on_customer("k", actor="bo")
    clock = desk.at(berlin(10, 12)).report().clock("resolution")
    assert clock.state is ClockState.PAUSED
    assert clock.due is None
    assert clock.remaining == timedelta(hours=48)


def test_an_explicit_pause_stops_the_clocks_until_resumed(desk: Desk) -> None:
    bo = desk.desk.agent("bo")
    desk.desk.execute("k", PauseSla(actor=bo, reason="waiting for the vendor"))
    desk.at(berlin(9, 12))
    desk.desk.execute("k", ResumeSla(actor=bo))
    clock = desk.at(berlin(9, 13)).report().clock("resolution")
    assert clock.elapsed == timedelta(hours=1)
    assert any("paused on purpose: waiting for the vendor" in line for line in clock.explanation)


def test_a_priority_change_recalculates_and_keeps_the_elapsed_time(desk: Desk) -> None:
    desk.at(berlin(5, 17))  # 1h of resolution used under 'standard'
    desk.desk.execute("k", ChangePriority(actor=desk.desk.agent("bo"), priority="urgent"))
    report = desk.report()
    assert report.policy == URGENT
    clock = report.clock("resolution")
    assert clock.target == timedelta(hours=4)
    assert clock.elapsed == timedelta(hours=1)
    assert clock.due == berlin(8, 11, 30)  # 30 min on Friday, 2h30 on Monday
    assert any("'standard' v2 -> 'urgent' v1" in line for line in clock.explanation)
    assert any("1h00m already used is kept" in line for line in clock.explanation)


def test_each_inbound_message_needs_an_answer(desk: Desk) -> None:
    desk.at(berlin(8, 9)).bo_answers()
    desk.at(berlin(8, 10)).customer_writes("and another thing")
    desk.at(berlin(8, 11)).customer_writes("are you there?")  # joins the same wait
    desk.at(berlin(8, 12)).bo_answers()
    desk.at(berlin(8, 13)).customer_writes("thanks, one more")
    report = desk.at(berlin(8, 14)).report()
    assert report.clock("next_response#1").state is ClockState.MET
    assert report.clock("next_response#1").elapsed == timedelta(hours=2)
    assert report.clock("next_response#2").state is ClockState.RUNNING


def test_periodic_updates_restart_with_each_update(desk: Desk) -> None:
    desk.at(berlin(8, 10)).bo_answers()
    report = desk.at(berlin(8, 11)).report()
    assert report.clock("periodic_update#1").state is ClockState.MET
    assert report.clock("periodic_update#2").state is ClockState.RUNNING


def test_resolution_and_updates_end_when_resolved_and_resume_on_reopen(desk: Desk) -> None:
    desk.desk.start_service("k", actor="bo")
    desk.at(berlin(5, 17)).desk.resolve("k", actor="bo")
    report = desk.report()
    assert report.clock("resolution").state is ClockState.MET
    assert report.clock("periodic_update#1").state is ClockState.STOPPED
    desk.at(berlin(8, 10)).desk.reopen("k", actor=IVY)
    clock = desk.at(berlin(8, 11)).report().clock("resolution")
    assert clock.state is ClockState.RUNNING
    assert clock.elapsed == timedelta(hours=2)


def test_reaching_a_stage_in_time(desk: Desk) -> None:
    desk.at(berlin(5, 17)).desk.start_service("k", actor="bo")
    clock = desk.report().clock("reach_stage:in_service")
    assert clock.state is ClockState.MET
    assert clock.elapsed == timedelta(hours=1)


def test_timers_fire_once(desk: Desk) -> None:
    report = desk.at(berlin(8, 12)).report()
    desk.desk.execute("k", FireTimers(actor=System("timer"), timers=report.timers_due()))
    again = desk.report()
    assert not [t for t in again.timers_due() if t.kind is not TimerKind.ESCALATION]
    assert again.clock("first_response").state is ClockState.BREACHED


def test_breaches_escalate_to_the_owner_a_supervisor_then_the_steward() -> None:
    desk = Desk()
    desk.desk.open_case(
        actor=IVY,
        customer_id="ivy",
        channel=Channel.EMAIL,
        summary="down",
        case_id="k",
        priority="urgent",
    )
    desk.desk.take("k", actor="bo")
    notified = []
    for hour in (11, 13, 15, 17):  # first response due Monday 10:00 (1h: 30 min Fri, 30 min Mon)
        report = desk.at(berlin(8, hour)).report()
        due = report.timers_due()
        if due:
            desk.desk.execute("k", FireTimers(actor=System("timer"), timers=due))
        notified += [
            (t.level, t.notify.id)
            for t in due
            if t.notify is not None and t.clock == "first_response"
        ]
    assert notified == [(1, "bo"), (2, "sue"), (3, "bo")]


def test_without_a_supervisor_the_steward_is_next(desk: Desk) -> None:
    desk.at(berlin(8, 12))
    for _ in range(2):
        due = desk.report(supervisor=None).timers_due()
        desk.desk.execute("k", FireTimers(actor=System("timer"), timers=due))
    pending = desk.report(supervisor=None).pending
    escalation = next(t for t in pending if t.kind is TimerKind.ESCALATION)
    assert escalation.level == 3


def test_the_second_escalation_asks_teams_of_for_the_teams_the_owner_has_now(desk: Desk) -> None:
    desk.at(berlin(8, 12))
    for _ in range(2):  # the breach, then its first escalation (to bo)
        due = desk.report().timers_due()
        desk.desk.execute("k", FireTimers(actor=System("timer"), timers=due))
    al = Agent("al", teams={"billing"}, roles={Role.SUPERVISOR})
    by_team = {"service": [desk.desk.agent("sue")], "billing": [al]}
    report = assess(
        desk.desk.history("k"),
        POLICIES,
        now=desk.clock.now(),
        workflow=WORKFLOW,
        supervisors_of=lambda team: by_team.get(team or "", []),
        teams_of=lambda agent: {"billing"} if agent.id == "bo" else agent.teams,
    )
    escalation = next(t for t in report.pending if t.kind is TimerKind.ESCALATION)
    assert (escalation.level, escalation.notify) == (2, al)


def test_the_explanation_replays_the_same_every_time(desk: Desk) -> None:
    desk.at(berlin(8, 12))
    first, second = desk.report(), desk.report()
    assert first == second
    assert str(first).startswith("SLA of case k at 2024-07-08 10:00Z (policy 'standard' v2)")
    assert "Europe/Berlin" in str(first.clock("first_response"))


def test_the_next_due_time_is_the_earliest_pending_timer(desk: Desk) -> None:
    report = desk.report()
    assert report.next_due == min(timer.due for timer in report.pending)
    assert report.next_due == berlin(8, 9, 45)  # reaching in_service: 75% of 3h


def test_no_policy_no_clocks() -> None:
    desk = Desk()
    desk.desk.open_case(
        actor=IVY, customer_id="ivy", channel=Channel.EMAIL, summary="s", case_id="k"
    )
    gold_only = PolicySet([attrs_evolve(STANDARD, conditions=Conditions(tiers={"gold"}))])
    report = assess(desk.desk.history("k"), gold_only, now=FRIDAY_4PM)
    assert report.policy is None
    assert report.clocks == ()
    assert report.next_due is None
    assert "no SLA policy applies" in str(report)


@pytest.mark.parametrize(
    ("conditions", "applies"),
    [
        ({"channels": {"email"}}, True),
        ({"channels": "chat"}, False),
        ({"workflows": {"buying_cycle"}, "stages": {"enquiry"}}, True),
        ({"tiers": {"gold"}}, False),
    ],
)
def test_the_first_matching_policy_applies(conditions: dict[str, Any], applies: bool) -> None:  # noqa: FBT001
    desk = Desk()
    desk.desk.open_case(
        actor=IVY, customer_id="ivy", channel=Channel.EMAIL, summary="s", case_id="k"
    )
    special = attrs_evolve(URGENT, name="special", conditions=Conditions(**conditions))
    report = assess(desk.desk.history("k"), PolicySet([special, STANDARD]), now=FRIDAY_4PM)
    assert (report.policy == special) is applies


def test_asking_for_an_unknown_clock_names_the_known_ones(desk: Desk) -> None:
    with pytest.raises(KeyError, match="no SLA clock 'speed'"):
        desk.report().clock("speed")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Target(Metric.RESOLUTION, timedelta(0)), "positive business time"),
        (lambda: Target(Metric.RESOLUTION, "soon"), "soon"),
        (lambda: Target(Metric.RESOLUTION, "4h", warn_at=1.5), "warn_at"),
        (lambda: Target(Metric.REACH_STAGE, "4h"), "REACH_STAGE"),
        (lambda: Target(Metric.RESOLUTION, "4h", stage="won"), "REACH_STAGE"),
        (lambda: attrs_evolve(STANDARD, version=0), "version"),
        (
            lambda: attrs_evolve(STANDARD, targets=[Target(Metric.RESOLUTION, "1h")] * 2),
            "each clock once",
        ),
        (lambda: attrs_evolve(STANDARD, targets=["4h"]), "Target values"),
        (lambda: PolicySet(["standard"]), "Policy values"),  # type: ignore[list-item]
        (lambda: Conditions(priorities={""}), "names"),
    ],
)
def test_policies_are_checked_when_built(build: Any, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        build()


def attrs_evolve(policy: Policy, **changes: Any) -> Policy:
    import attrs  # noqa: PLC0415

    return attrs.evolve(policy, **changes)


def test_conditions_read_as_words() -> None:
    assert str(Conditions()) == "any case"
    assert str(Conditions(priorities={"high", "urgent"}, tiers="gold")) == (
        "priority high or urgent, tier gold"
    )
