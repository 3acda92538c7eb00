"""SLA rules a service can run on: clocks that stop, deadlines that are right, pauses per target."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from helpers import ANA, BO, BOT, CUSTOMER, NINE_TO_FIVE, SAL, SUE, Play

from servicekit import (
    Agent,
    AssignCase,
    ChangePriority,
    Event,
    FireTimers,
    InvalidValue,
    InvalidWorkflow,
    Move,
    OwnershipViolation,
    PauseSla,
    Role,
    SlaBreached,
    SlaEscalated,
    SlaWarned,
    Stage,
    StatusCategory,
    Timer,
    TimerKind,
    TransferCase,
    Transition,
    Workflow,
    buying_cycle,
)
from servicekit.sla import (
    BusinessDays,
    ClockState,
    Conditions,
    Metric,
    Policy,
    PolicySet,
    SlaReport,
    SlaTracker,
    Target,
    assess,
)

WORKFLOW = buying_cycle()
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GONE_SUPERVISOR = Agent("old", teams={"service"}, roles={Role.SUPERVISOR}, active=False)
DIRECTORY = [ANA, BO, SAL, SUE, GONE_SUPERVISOR]


def supervisors_of(team: str | None) -> Sequence[Agent]:
    """The directory's answer: active supervisors of `team`, or of every team."""
    return [
        agent
        for agent in DIRECTORY
        if Role.SUPERVISOR in agent.roles and agent.active and (team is None or team in agent.teams)
    ]


def policies(*targets: Target, escalate_to: str | None = None) -> PolicySet:
    standard = Policy(
        name="standard",
        version=1,
        calendar=NINE_TO_FIVE,
        targets=targets or [Target(Metric.FIRST_RESPONSE, "4h"), Target(Metric.RESOLUTION, "16h")],
        escalate_to=escalate_to,
    )
    return PolicySet([standard])


def customer_case(*, at: datetime = MONDAY + timedelta(minutes=10)) -> Play:
    """A case the customer opened at `at` (Monday 09:10), in intake, that nobody owns yet."""
    play = Play(WORKFLOW)
    play.now = at - timedelta(minutes=10)
    play.open(CUSTOMER)
    return play


def report(play: Play, rules: PolicySet, *, at: datetime | None = None) -> SlaReport:
    return assess(
        play.history,
        rules,
        now=play.now if at is None else at,
        workflow=WORKFLOW,
        supervisors_of=supervisors_of,
    )


def fire_due(play: Play, rules: PolicySet, at: datetime) -> tuple[Event, ...]:
    """What a tick at `at` records: every SLA timer of the case due by then, round by round."""
    fired: list[Event] = []
    play.now = at
    for _ in range(8):  # a breach makes its first escalation due at once
        due = assess(
            play.history, rules, now=at, workflow=WORKFLOW, supervisors_of=supervisors_of
        ).timers_due()
        if not due:
            break
        fired += play(FireTimers(actor=BOT, timers=due), minutes=0)
    return tuple(fired)


# -- finishing ------------------------------------------------------------------------------


def test_finishing_a_case_stops_its_sla_clocks() -> None:
    rules = policies()
    play = customer_case()  # opened 09:10, first response due 13:10
    play(AssignCase(actor=ANA, to=ANA))
    fire_due(play, rules, MONDAY.replace(hour=14))  # breached; escalations to come
    play(Move(actor=ANA, trigger="close", reason="a duplicate"))
    later = assess(play.history, rules, now=MONDAY + timedelta(days=30), workflow=WORKFLOW)
    assert later.pending == ()
    assert later.clock("first_response").state is ClockState.STOPPED


def test_a_follow_up_on_a_final_stage_is_refused() -> None:
    with pytest.raises(InvalidWorkflow, match="final stage 'done' schedules a follow-up"):
        Workflow(
            name="tiny",
            stages=[
                Stage("open", StatusCategory.OPEN),
                Stage("done", StatusCategory.CLOSED, follow_up="ask how it went"),
            ],
            transitions=[Transition("finish", "open", "done")],
            start="open",
        )


def test_the_system_never_closes_past_an_open_follow_up() -> None:
    play = Play(WORKFLOW).to_stage("resolved")  # resolving schedules follow-up 1
    close = FireTimers(actor=BOT, timers=[Timer(TimerKind.CLOSE, "close", play.now)])
    with pytest.raises(
        OwnershipViolation, match=r"does not close a case while a follow-up is open \(follow-up 1\)"
    ):
        play.attempt(close)


# -- deadlines ------------------------------------------------------------------------------


def test_a_warning_names_the_warning_moment_and_the_due_time() -> None:
    rules = policies(Target(Metric.FIRST_RESPONSE, "4h"))
    play = customer_case()  # 09:10: warned at 75% of 4h, 12:10; due 13:10
    (warned,) = fire_due(play, rules, MONDAY.replace(hour=12, minute=30))
    assert isinstance(warned, SlaWarned)
    assert warned.warning_at == MONDAY.replace(hour=12, minute=10)
    assert warned.due == MONDAY.replace(hour=13, minute=10)


def test_an_unowned_case_escalates_to_the_supervisors_of_the_policys_team() -> None:
    rules = policies(Target(Metric.FIRST_RESPONSE, "1h"), escalate_to="sales")
    play = customer_case()
    fired = fire_due(play, rules, MONDAY.replace(hour=11))
    told = [(e.level, e.notify) for e in fired if isinstance(e, SlaEscalated)]
    assert told == [(1, SAL)]


def test_an_unowned_case_escalates_to_every_active_supervisor_without_a_team() -> None:
    rules = policies(Target(Metric.FIRST_RESPONSE, "1h"))
    play = customer_case()
    fired = fire_due(play, rules, MONDAY.replace(hour=11))
    told = {e.notify.id for e in fired if isinstance(e, SlaEscalated)}
    assert told == {"sal", "sue"}  # not the inactive supervisor, not the agents


def test_raising_the_priority_past_the_target_breaches_when_the_budget_ran_out() -> None:
    urgent = Policy(
        name="urgent",
        version=1,
        calendar=NINE_TO_FIVE,
        conditions=Conditions(priorities={"urgent"}),
        targets=[Target(Metric.FIRST_RESPONSE, "1h")],
    )
    rules = PolicySet([urgent, *policies().policies])
    play = customer_case(at=MONDAY)  # 09:00
    play(AssignCase(actor=ANA, to=ANA), minutes=110)
    play(ChangePriority(actor=ANA, priority="urgent"), minutes=10)  # 11:00
    first = report(play, rules).clock("first_response")
    assert first.due == MONDAY.replace(hour=10)
    assert first.state is ClockState.BREACHED
    (breached,) = fire_due(play, rules, MONDAY.replace(hour=11, minute=1))[:1]
    assert isinstance(breached, SlaBreached)
    assert breached.due == MONDAY.replace(hour=10)


def test_a_late_tick_records_the_breach_and_says_the_warning_was_skipped() -> None:
    rules = policies(Target(Metric.FIRST_RESPONSE, "1h"))
    play = customer_case()
    play(AssignCase(actor=ANA, to=ANA))
    fired = fire_due(play, rules, MONDAY.replace(hour=15))  # warning 09:55, breach 10:10
    kinds = [(type(e).__name__, getattr(e, "warning_skipped", None)) for e in fired]
    assert kinds[0] == ("SlaBreached", True)
    assert "SlaWarned" not in {kind for kind, _ in kinds}
    pending = assess(play.history, rules, now=play.now, workflow=WORKFLOW).pending
    assert TimerKind.WARNING not in {timer.kind for timer in pending}


# -- business days --------------------------------------------------------------------------


def test_a_target_in_business_days_is_due_that_many_open_dates_later() -> None:
    assert Target(Metric.RESOLUTION, "2bd").within == BusinessDays(2)
    rules = policies(Target(Metric.RESOLUTION, "2 business days"))
    play = customer_case()  # Monday 09:10
    assert report(play, rules).clock("resolution").due == datetime(2026, 3, 4, 9, 10, tzinfo=UTC)


def test_a_business_day_target_outside_the_hours_moves_to_the_next_open_moment() -> None:
    rules = policies(Target(Metric.RESOLUTION, "2 business days"))
    play = customer_case(at=datetime(2026, 3, 6, 17, 30, tzinfo=UTC))  # Friday, closed
    due = report(play, rules).clock("resolution").due
    assert due == datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # Tuesday 17:30 is closed: Wednesday


def test_paused_business_time_moves_a_business_day_target_on() -> None:
    rules = policies(Target(Metric.RESOLUTION, "2 business days"))
    play = customer_case()  # Monday 09:10
    play(AssignCase(actor=ANA, to=ANA), minutes=0)
    play(Move(actor=ANA, trigger="start_service"), minutes=0)
    play(Move(actor=ANA, trigger="wait_on_customer"), minutes=0)  # 09:30
    play(Move(actor=ANA, trigger="resume"), minutes=60)  # 10:30: one business hour paused
    due = report(play, rules).clock("resolution").due
    assert due == datetime(2026, 3, 4, 10, 10, tzinfo=UTC)


def test_days_without_business_are_refused_as_ambiguous() -> None:
    for written in ["2d", "1 day", "P2D", "1w 2h"]:
        with pytest.raises(InvalidValue, match="ambiguous: write '2 business days'"):
            Target(Metric.RESOLUTION, written)


def test_an_ambiguous_day_target_says_how_to_write_days_or_hours() -> None:
    with pytest.raises(InvalidValue) as refused:
        Target(Metric.RESOLUTION, "2d")
    assert str(refused.value) == (
        "an SLA target of '2d' is ambiguous: write '2 business days' (or '2bd') to count open "
        "dates of the calendar, or hours ('16h') for business time"
    )


@pytest.mark.parametrize(
    ("days", "words"),
    [(1, "1 business day"), (2, "2 business days"), (5, "5 business days")],
)
def test_a_business_day_target_reads_as_words(days: int, words: str) -> None:
    assert str(BusinessDays(days)) == words


# -- pauses per target ----------------------------------------------------------------------


def test_a_target_with_no_pause_set_keeps_running_while_waiting_on_the_customer() -> None:
    rules = policies(
        Target(Metric.FIRST_RESPONSE, "1h", pause_in=()), Target(Metric.RESOLUTION, "16h")
    )
    play = customer_case()  # 09:10
    play(AssignCase(actor=ANA, to=ANA), minutes=0)
    play(Move(actor=ANA, trigger="start_service"), minutes=0)
    play(Move(actor=ANA, trigger="wait_on_customer"), minutes=0)
    later = report(play, rules, at=MONDAY.replace(hour=11))
    assert later.clock("first_response").state is ClockState.BREACHED
    assert later.clock("first_response").due == MONDAY.replace(hour=10, minute=10)
    assert later.clock("resolution").state is ClockState.PAUSED


def test_an_explicit_pause_holds_only_pausable_targets() -> None:
    rules = policies(
        Target(Metric.FIRST_RESPONSE, "1h", pausable=False), Target(Metric.RESOLUTION, "16h")
    )
    play = customer_case()
    play(AssignCase(actor=ANA, to=ANA), minutes=0)
    play(PauseSla(actor=ANA, reason="waiting for the vendor"), minutes=0)
    later = report(play, rules, at=MONDAY.replace(hour=10))
    assert later.clock("first_response").state is ClockState.RUNNING
    assert later.clock("resolution").state is ClockState.PAUSED


# -- attribution ----------------------------------------------------------------------------


def test_every_clock_records_who_owned_the_case_while_it_ran() -> None:
    rules = policies()
    play = customer_case()  # 09:10, nobody owns it
    play(AssignCase(actor=ANA, to=ANA), minutes=30)  # 09:40
    play(Move(actor=ANA, trigger="start_service"), minutes=0)
    play(TransferCase(actor=ANA, to=BO, handoff_note="router config"), minutes=60)  # 10:40
    seen = report(play, rules, at=MONDAY.replace(hour=11, minute=40))
    resolution = seen.clock("resolution")
    assert resolution.used_by() == {
        None: timedelta(minutes=30),
        "ana": timedelta(hours=1),
        "bo": timedelta(hours=1),
    }
    assert seen.steward == ANA


# -- the fold -------------------------------------------------------------------------------


def test_a_tracker_leaves_the_tracker_it_came_from_as_it_was() -> None:
    rules = policies()
    play = customer_case()
    start = SlaTracker.start(rules, workflow=WORKFLOW)
    opened = start.apply(play.history)
    before = opened.report(MONDAY.replace(hour=12))
    play(AssignCase(actor=ANA, to=ANA))
    opened.apply(play.history)
    assert opened.report(MONDAY.replace(hour=12)) == before
