"""SLA clocks on business hours: pausing, recalculation, warnings, breaches, escalations."""

from __future__ import annotations

import time
from collections.abc import Iterator
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
    StatusCategory,
    System,
    Timer,
    buying_cycle,
)
from servicekit.commands import ChangePriority, PauseSla, ResumeSla
from servicekit.sla import (
    ClockSegment,
    ClockState,
    ClockStatus,
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


def test_every_condition_reads_with_its_label() -> None:
    conditions = Conditions(
        priorities="high",
        channels={"email", "chat"},
        stages="enquiry",
        tiers="gold",
        workflows="buying_cycle",
    )
    assert str(conditions) == (
        "priority high, channel chat or email, stage enquiry, tier gold, workflow buying_cycle"
    )


# -- what a policy accepts, and how a refusal reads ------------------------------------------


def refusal(build: Any) -> str:
    """The message of the InvalidValue that `build()` raises."""
    with pytest.raises(InvalidValue) as refused:
        build()
    return str(refused.value)


def test_a_target_that_is_no_positive_time_says_what_a_target_is() -> None:
    assert refusal(lambda: Target(Metric.RESOLUTION, timedelta(0))) == (
        "an SLA target is a positive business time (a timedelta or '4h') or a number of "
        "business days ('2 business days', '2bd'), got datetime.timedelta(0)"
    )


def test_a_pause_set_may_be_one_status_category() -> None:
    target = Target(Metric.RESOLUTION, "4h", pause_in=StatusCategory.OPEN)
    assert target.pause_in == frozenset({StatusCategory.OPEN})


@pytest.mark.parametrize(
    ("pause_in", "shown"),
    [(5, "5"), ({"pending"}, "{'pending'}"), ([StatusCategory.PENDING, "open"], None)],
)
def test_a_pause_set_of_anything_but_status_categories_is_refused(
    pause_in: Any, shown: str | None
) -> None:
    message = refusal(lambda: Target(Metric.RESOLUTION, "4h", pause_in=pause_in))
    assert message == (
        "pause_in is a set of StatusCategory values, got "
        + (shown or "[<StatusCategory.PENDING: 'pending'>, 'open']")
    )


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.25, "0.5", True])
def test_warn_at_is_a_share_strictly_between_0_and_1(share: Any) -> None:
    message = refusal(lambda: Target(Metric.RESOLUTION, "4h", warn_at=share))
    assert message == f"warn_at is a share of the target between 0 and 1, got {share!r}"


def test_pausable_is_true_or_false() -> None:
    message = refusal(lambda: Target(Metric.RESOLUTION, "4h", pausable="no"))  # type: ignore[arg-type]
    assert message == "pausable is True or False, got 'no'"


@pytest.mark.parametrize("version", [0, -1, True, "2", 1.0])
def test_a_policy_version_is_a_whole_number_from_1(version: Any) -> None:
    message = refusal(lambda: attrs_evolve(STANDARD, version=version))
    assert message == f"a policy version is a whole number from 1, got {version!r}"


def test_escalate_every_may_be_written_as_text() -> None:
    policy = attrs_evolve(STANDARD, escalate_every="90m")
    assert policy.escalate_every == timedelta(minutes=90)


@pytest.mark.parametrize(
    ("every", "shown"),
    [
        (timedelta(0), "datetime.timedelta(0)"),
        (timedelta(hours=-1), "datetime.timedelta(days=-1, seconds=82800)"),
        (3, "3"),
    ],
)
def test_escalate_every_is_a_positive_business_time(every: Any, shown: str) -> None:
    message = refusal(lambda: attrs_evolve(STANDARD, escalate_every=every))
    assert message == f"escalate_every is a positive business time (timedelta or '1h'), got {shown}"


# -- what a report says to a person ---------------------------------------------------------

DUE = FRIDAY_4PM
"""When the clocks below are due: 2024-07-05 14:00Z."""


def breached_resolution() -> ClockStatus:
    """A resolution clock half an hour past due: first nobody's, then bo's."""
    return ClockStatus(
        key="resolution",
        metric=Metric.RESOLUTION,
        state=ClockState.BREACHED,
        target=timedelta(hours=4),
        elapsed=timedelta(hours=4, minutes=30),
        remaining=timedelta(minutes=-30),
        due=DUE,
        explanation=("due after 4h of business time", "bo took the case at 11:00"),
        segments=(
            ClockSegment(
                DUE - timedelta(hours=4), DUE - timedelta(hours=3), None, timedelta(hours=1)
            ),
            ClockSegment(
                DUE - timedelta(hours=3),
                DUE + timedelta(minutes=30),
                Agent("bo"),
                timedelta(hours=3, minutes=30),
            ),
        ),
    )


def stopped_update(
    *,
    remaining: timedelta = timedelta(hours=24),
    explanation: tuple[str, ...] = ("updates stopped",),
) -> ClockStatus:
    """A periodic-update clock that never ran and has no deadline."""
    return ClockStatus(
        key="periodic_update",
        metric=Metric.PERIODIC_UPDATE,
        state=ClockState.STOPPED,
        target=timedelta(hours=24),
        elapsed=timedelta(0),
        remaining=remaining,
        due=None,
        explanation=explanation,
    )


def test_a_clock_reads_as_one_line_then_who_used_its_time_then_why() -> None:
    assert str(breached_resolution()) == (
        "resolution: breached, due 2024-07-05 14:00Z; 4h30m of 4h00m used, -0h30m left\n"
        "  1h00m while nobody owned the case\n"
        "  3h30m while bo owned the case\n"
        "  - due after 4h of business time\n"
        "  - bo took the case at 11:00"
    )


def test_a_clock_without_a_deadline_reads_without_one() -> None:
    assert str(stopped_update()) == (
        "periodic_update: stopped; 0h00m of 24h00m used, 24h00m left\n  - updates stopped"
    )


@pytest.mark.parametrize(
    ("remaining", "shown"),
    [(timedelta(seconds=90), "0h01m"), (timedelta(seconds=-90), "-0h02m")],
)
def test_the_time_left_is_never_overstated(remaining: timedelta, shown: str) -> None:
    clock = stopped_update(remaining=remaining, explanation=())
    assert str(clock) == f"periodic_update: stopped; 0h00m of 24h00m used, {shown} left"


@pytest.fixture
def host_in_new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is New York's, and is set back afterwards."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("host_in_new_york")
def test_report_times_are_written_in_utc_whatever_the_hosts_zone() -> None:
    assert str(breached_resolution()).startswith("resolution: breached, due 2024-07-05 14:00Z;")


def test_a_report_reads_as_a_heading_then_each_clock() -> None:
    report = SlaReport(
        case_id="k",
        at=DUE + timedelta(minutes=30),
        policy=None,
        clocks=(breached_resolution(), stopped_update()),
        pending=(),
        next_due=None,
    )
    assert str(report) == (
        "SLA of case k at 2024-07-05 14:30Z (no SLA policy applies)\n"
        "resolution: breached, due 2024-07-05 14:00Z; 4h30m of 4h00m used, -0h30m left\n"
        "  1h00m while nobody owned the case\n"
        "  3h30m while bo owned the case\n"
        "  - due after 4h of business time\n"
        "  - bo took the case at 11:00\n"
        "periodic_update: stopped; 0h00m of 24h00m used, 24h00m left\n"
        "  - updates stopped"
    )


def test_an_unknown_clock_is_refused_with_the_names_of_the_known_ones() -> None:
    report = SlaReport(
        case_id="k",
        at=DUE,
        policy=None,
        clocks=(breached_resolution(), stopped_update()),
        pending=(),
        next_due=None,
    )
    with pytest.raises(KeyError) as refused:
        report.clock("speed")
    assert refused.value.args == (
        "case 'k' has no SLA clock 'speed'; clocks: ['resolution', 'periodic_update']",
    )


def test_a_timer_is_due_from_its_due_moment_on() -> None:
    warning = Timer(TimerKind.WARNING, "resolution", due=DUE, deadline=DUE + timedelta(hours=1))
    breach = Timer(TimerKind.BREACH, "resolution", due=DUE + timedelta(hours=1))
    report = SlaReport(
        case_id="k", at=DUE, policy=None, clocks=(), pending=(warning, breach), next_due=DUE
    )
    assert report.timers_due() == (warning,)
