"""The SLA fold's rules, each with its expected values written out (issue 15).

Defends `servicekit.sla.tracker`: which policy a case falls under, which clocks start and
pause when a case opens, when a clock is due, who a breach escalates to, and the words of
each clock's explanation (what a person reads in `ClockStatus.explanation`). The oracle is
always a literal: the fold taken in pieces against the fold from scratch
(`test_sla_tracker.py`) cannot see a change that both folds make.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from helpers import ANA, BO, BOT, CUSTOMER, NINE_TO_FIVE, START, Play

from servicekit import (
    Agent,
    ApplySlaPolicy,
    AssignCase,
    BusinessCalendar,
    ChangePriority,
    Channel,
    Direction,
    FireTimers,
    InvalidValue,
    Move,
    PauseSla,
    ReassignSteward,
    RecordInteraction,
    ResumeSla,
    Role,
    SlaPolicyApplied,
    Stage,
    StatusCategory,
    TimerKind,
    Transition,
    Workflow,
    buying_cycle,
)
from servicekit.sla import (
    ClockSegment,
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
ON_NINE_TO_FIVE = (
    "UTC (mon 09:00-17:00, tue 09:00-17:00, wed 09:00-17:00, thu 09:00-17:00, fri 09:00-17:00)"
)
"""How an explanation names NINE_TO_FIVE."""
OPENED = START + timedelta(minutes=10)
"""When `Play.open` opens a case: Monday 2026-03-02 09:10Z, in business hours."""


def at(hour: int, minute: int = 0, *, day: int = 2) -> datetime:
    """A moment of March 2026 in UTC (the 2nd is a Monday)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def policy(
    *targets: Target,
    name: str = "standard",
    conditions: Conditions | None = None,
    **options: object,
) -> Policy:
    """A policy on NINE_TO_FIVE, version 1, for every case unless `conditions` say otherwise."""
    return Policy(
        name=name,
        version=1,
        calendar=NINE_TO_FIVE,
        targets=targets,
        conditions=conditions or Conditions(),
        **options,  # type: ignore[arg-type]
    )


def report(
    play: Play,
    rules: PolicySet,
    *,
    now: datetime | None = None,
    workflow: Workflow = WORKFLOW,
    supervisors: Sequence[Agent] = (),
) -> SlaReport:
    """The case's SLA at `now` (by default the moment of its last command)."""
    return assess(
        play.history,
        rules,
        now=play.now if now is None else now,
        workflow=workflow,
        supervisors_of=lambda team: [a for a in supervisors if team is None or team in a.teams],
    )


URGENT_ONLY = Conditions(priorities={"urgent"})
EMAIL, CHAT = Channel.EMAIL, Channel.CHAT
INBOUND, OUTBOUND = Direction.INBOUND, Direction.OUTBOUND


# -- which policy, which clocks, at the opening -----------------------------------------------


def test_a_policy_for_a_tier_applies_to_a_case_of_that_tier() -> None:
    gold = policy(Target(Metric.RESOLUTION, "4h"), name="gold", conditions=Conditions(tiers="gold"))
    rules = PolicySet([gold, policy(Target(Metric.RESOLUTION, "16h"))])
    play = Play(WORKFLOW).open(CUSTOMER, tier="gold")
    assert report(play, rules).policy == gold


def test_a_clock_whose_target_pauses_in_the_opening_stages_category_starts_paused() -> None:
    rules = PolicySet([policy(Target(Metric.RESOLUTION, "4h", pause_in={StatusCategory.NEW}))])
    play = Play(WORKFLOW).open(CUSTOMER)  # in enquiry, a new stage
    resolution = report(play, rules, now=at(12)).clock("resolution")
    assert (resolution.state, resolution.elapsed, resolution.due) == (
        ClockState.PAUSED,
        timedelta(0),
        None,
    )
    assert (
        resolution.explanation[-1] == "2026-03-02 09:10Z: paused from the start (the case is new)"
    )


def test_a_clock_of_a_case_opened_in_a_pending_stage_waits_on_the_customer_from_the_start() -> None:
    asked = Workflow(
        name="asked",
        stages=[
            Stage("awaiting_details", StatusCategory.PENDING),
            Stage("working", StatusCategory.OPEN),
            Stage("done", StatusCategory.CLOSED),
        ],
        transitions=[
            Transition("details_given", "awaiting_details", "working"),
            Transition("finish", "working", "done"),
        ],
        start="awaiting_details",
    )
    rules = PolicySet([policy(Target(Metric.RESOLUTION, "4h"))])
    play = Play(asked).open(ANA)
    play(Move(actor=ANA, trigger="details_given"), minutes=50)  # 10:00
    resolution = report(play, rules, now=at(11), workflow=asked).clock("resolution")
    assert (resolution.state, resolution.elapsed) == (ClockState.RUNNING, timedelta(hours=1))
    assert resolution.explanation[1:] == (
        "2026-03-02 09:10Z: paused from the start (waiting on the customer)",
        "2026-03-02 10:00Z: running again (the case left awaiting_details for working)",
        "due 2026-03-02 14:00Z: the 4h00m left at 2026-03-02 10:00Z, counted on business hours",
    )


def test_a_stage_the_case_opened_in_is_reached_for_a_policy_that_applies_later() -> None:
    urgent = policy(
        Target(Metric.RESOLUTION, "4h"),
        Target(Metric.REACH_STAGE, "1h", stage="in_service"),
        name="urgent",
        conditions=URGENT_ONLY,
    )
    rules = PolicySet([urgent, policy(Target(Metric.RESOLUTION, "16h"))])
    play = Play(WORKFLOW).open(ANA, stage="in_service")
    play(ChangePriority(actor=ANA, priority="urgent"))
    assert [clock.key for clock in report(play, rules).clocks] == ["resolution"]


def test_a_case_opened_in_the_stage_a_target_waits_for_has_no_clock_for_it() -> None:
    rules = PolicySet(
        [
            policy(
                Target(Metric.RESOLUTION, "16h"),
                Target(Metric.REACH_STAGE, "1h", stage="in_service"),
                Target(Metric.REACH_STAGE, "8h", stage="resolved"),
            )
        ]
    )
    play = Play(WORKFLOW).open(ANA, stage="in_service")
    keys = [clock.key for clock in report(play, rules).clocks]
    assert keys == ["resolution", "reach_stage:resolved"]


def test_a_customer_still_unanswered_gets_a_first_response_clock_from_a_later_policy() -> None:
    urgent = policy(Target(Metric.FIRST_RESPONSE, "1h"), name="urgent", conditions=URGENT_ONLY)
    rules = PolicySet([urgent, policy(Target(Metric.RESOLUTION, "16h"))])
    play = Play(WORKFLOW).open(CUSTOMER)
    play(AssignCase(actor=ANA, to=ANA))
    play(ChangePriority(actor=ANA, priority="urgent"))  # 09:30
    first = report(play, rules, now=at(10)).clock("first_response")
    assert (first.state, first.elapsed, first.due) == (
        ClockState.RUNNING,
        timedelta(minutes=30),
        at(10, 30),
    )
    assert first.explanation[0] == (
        "2026-03-02 09:30Z: started (priority changed to urgent: measured from now under "
        f"policy 'urgent' v1) under policy 'urgent' v1, on {ON_NINE_TO_FIVE}: first response "
        "within 1h00m of business time"
    )


def test_a_case_an_agent_opened_gets_no_first_response_clock_from_a_later_policy() -> None:
    urgent = policy(Target(Metric.FIRST_RESPONSE, "1h"), name="urgent", conditions=URGENT_ONLY)
    rules = PolicySet([urgent, policy(Target(Metric.RESOLUTION, "16h"))])
    play = Play(WORKFLOW).open(ANA)
    play(ChangePriority(actor=ANA, priority="urgent"))
    assert [clock.key for clock in report(play, rules).clocks] == ["resolution"]


# -- what the explanation says: a case served in one morning -----------------------------------

EVERY_CLOCK = PolicySet(
    [
        policy(
            Target(Metric.FIRST_RESPONSE, "4h"),
            Target(Metric.NEXT_RESPONSE, "2h"),
            Target(Metric.PERIODIC_UPDATE, "8h"),
            Target(Metric.RESOLUTION, "2 business days"),
            Target(Metric.REACH_STAGE, "3h", stage="in_service"),
        )
    ]
)


def served_in_one_morning() -> SlaReport:
    """A customer's case, served by ana on Monday morning and reported on at 13:30.

    The customer opens at 09:10; ana answers by email at 10:10, the customer writes on chat
    at 11:00, ana answers there at 11:30, starts service at 12:00 and resolves at 12:30.
    """
    play = Play(WORKFLOW).open(CUSTOMER)
    play(AssignCase(actor=ANA, to=ANA))  # 09:20
    play(
        RecordInteraction(actor=ANA, channel=EMAIL, direction=OUTBOUND, summary="on it"), minutes=50
    )
    play(
        RecordInteraction(actor=CUSTOMER, channel=CHAT, direction=INBOUND, summary="and?"),
        minutes=50,
    )
    play(RecordInteraction(actor=ANA, channel=CHAT, direction=OUTBOUND, summary="done"), minutes=30)
    play(Move(actor=ANA, trigger="start_service"), minutes=30)
    play(Move(actor=ANA, trigger="resolve"), minutes=30)
    return report(play, EVERY_CLOCK, now=at(13, 30))


def started(moment: str, why: str, promise: str) -> str:
    """The note a clock starts with, under the one policy on NINE_TO_FIVE."""
    return f"{moment}: started ({why}) under policy 'standard' v1, on {ON_NINE_TO_FIVE}: {promise}"


def test_the_first_response_is_met_by_the_agents_answer() -> None:
    first = served_in_one_morning().clock("first_response")
    assert first.explanation == (
        started(
            "2026-03-02 09:10Z",
            "the customer opened the case",
            "first response within 4h00m of business time",
        ),
        "2026-03-02 10:10Z: met (agent 'ana' answered on email) after 1h00m",
    )


def test_a_customers_message_starts_a_next_response_the_answer_meets() -> None:
    next_response = served_in_one_morning().clock("next_response#1")
    assert next_response.explanation == (
        started(
            "2026-03-02 11:00Z",
            "the customer wrote on chat",
            "next response within 2h00m of business time",
        ),
        "2026-03-02 11:30Z: met (agent 'ana' answered on chat) after 0h30m",
    )


def test_each_update_meets_the_periodic_update_and_starts_the_next_until_resolved() -> None:
    served = served_in_one_morning()
    explanations = [served.clock(f"periodic_update#{n}").explanation for n in (1, 2, 3)]
    promise = "periodic update within 8h00m of business time"
    assert explanations == [
        (
            started("2026-03-02 09:10Z", "the case was opened", promise),
            "2026-03-02 10:10Z: met (agent 'ana' updated the customer on email) after 1h00m",
        ),
        (
            started("2026-03-02 10:10Z", "the last update was given", promise),
            "2026-03-02 11:30Z: met (agent 'ana' updated the customer on chat) after 1h20m",
        ),
        (
            started("2026-03-02 11:30Z", "the last update was given", promise),
            "2026-03-02 12:30Z: stopped (resolved: no updates due)",
        ),
    ]


def test_reaching_the_stage_meets_its_target() -> None:
    reach = served_in_one_morning().clock("reach_stage:in_service")
    assert reach.explanation == (
        started(
            "2026-03-02 09:10Z",
            "the case was opened",
            "reach in_service within 3h00m of business time",
        ),
        "2026-03-02 12:00Z: met (the case reached in_service) after 2h50m",
    )


def test_resolving_meets_the_resolution_in_business_days() -> None:
    resolution = served_in_one_morning().clock("resolution")
    assert resolution.explanation == (
        started(
            "2026-03-02 09:10Z",
            "the case was opened",
            "resolution within 2 business days (16h00m of business time from the start)",
        ),
        "2026-03-02 12:30Z: met (resolve: the case is resolved) after 3h20m",
    )
    assert (resolution.state, resolution.elapsed) == (
        ClockState.MET,
        timedelta(hours=3, minutes=20),
    )


# -- what the explanation says: pauses ---------------------------------------------------------


def paused_on_purpose() -> SlaReport:
    """A customer's case whose SLA ana pauses for an hour, reported on at 12:00.

    Ana pauses the SLA at 09:40, the customer writes at 09:50, ana resumes at 10:50 and
    starts service at 11:20 (an open stage, where this resolution target pauses).
    """
    rules = PolicySet(
        [
            policy(
                Target(Metric.FIRST_RESPONSE, "4h"),
                Target(Metric.NEXT_RESPONSE, "2h"),
                Target(Metric.RESOLUTION, "16h", pause_in={StatusCategory.OPEN}),
            )
        ]
    )
    play = Play(WORKFLOW).open(CUSTOMER)
    play(AssignCase(actor=ANA, to=ANA))  # 09:20
    play(RecordInteraction(actor=ANA, channel=EMAIL, direction=OUTBOUND, summary="on it"))
    play(PauseSla(actor=ANA, reason="waiting for the vendor"))  # 09:40
    play(RecordInteraction(actor=CUSTOMER, channel=CHAT, direction=INBOUND, summary="and?"))
    play(ResumeSla(actor=ANA), minutes=60)  # 10:50
    play(Move(actor=ANA, trigger="start_service"), minutes=30)  # 11:20
    return report(play, rules, now=at(12))


def test_a_pause_on_purpose_and_an_open_stage_each_pause_a_clock_that_says_why() -> None:
    resolution = paused_on_purpose().clock("resolution")
    assert resolution.explanation[1:] == (
        "2026-03-02 09:40Z: paused (paused on purpose: waiting for the vendor); 0h30m used",
        "2026-03-02 10:50Z: running again (resumed on purpose)",
        "2026-03-02 11:20Z: paused (stage in_service); 1h00m used",
    )
    assert (resolution.state, resolution.elapsed) == (ClockState.PAUSED, timedelta(hours=1))


def test_a_clock_started_during_a_pause_on_purpose_starts_paused() -> None:
    next_response = paused_on_purpose().clock("next_response#1")
    assert next_response.explanation[1:] == (
        "2026-03-02 09:50Z: paused from the start (paused on purpose)",
        "2026-03-02 10:50Z: running again (resumed on purpose)",
        "due 2026-03-02 12:50Z: the 2h00m left at 2026-03-02 10:50Z, counted on business hours",
    )
    assert (next_response.elapsed, next_response.due) == (
        timedelta(hours=1, minutes=10),
        at(12, 50),
    )


def test_waiting_on_the_customer_pauses_a_clock_until_the_case_leaves_that_stage() -> None:
    rules = PolicySet([policy(Target(Metric.RESOLUTION, "16h"))])
    play = Play(WORKFLOW).open(CUSTOMER)
    play(AssignCase(actor=ANA, to=ANA))
    play(Move(actor=ANA, trigger="start_service"))
    play(Move(actor=ANA, trigger="wait_on_customer"))  # 09:40
    play(Move(actor=ANA, trigger="resume"), minutes=60)  # 10:40
    resolution = report(play, rules, now=at(11, 40)).clock("resolution")
    assert resolution.explanation[1:] == (
        "2026-03-02 09:40Z: paused (waiting on the customer (waiting_on_customer)); 0h30m used",
        "2026-03-02 10:40Z: running again (the case left waiting_on_customer for in_service)",
        "due 2026-03-04 10:10Z: the 15h30m left at 2026-03-02 10:40Z, counted on business hours",
    )
    assert (resolution.state, resolution.elapsed) == (
        ClockState.RUNNING,
        timedelta(hours=1, minutes=30),
    )


# -- a policy that applies later: what it measures from then -----------------------------------

URGENT_MEASURES_MORE = PolicySet(
    [
        policy(
            Target(Metric.RESOLUTION, "4h"),
            Target(Metric.PERIODIC_UPDATE, "2h"),
            Target(Metric.FIRST_RESPONSE, "1h"),
            Target(Metric.NEXT_RESPONSE, "30m"),
            Target(Metric.REACH_STAGE, "1h", stage="in_service"),
            name="urgent",
            conditions=URGENT_ONLY,
        ),
        policy(Target(Metric.RESOLUTION, "16h"), Target(Metric.PERIODIC_UPDATE, "8h")),
    ]
)


def answered_then_urgent() -> SlaReport:
    """A customer's case ana answers at 09:30, makes urgent at 09:40 and serves at 10:10."""
    play = Play(WORKFLOW).open(CUSTOMER)
    play(AssignCase(actor=ANA, to=ANA))
    play(RecordInteraction(actor=ANA, channel=EMAIL, direction=OUTBOUND, summary="on it"))
    play(ChangePriority(actor=ANA, priority="urgent"))  # 09:40
    play(Move(actor=ANA, trigger="start_service"), minutes=30)  # 10:10
    return report(play, URGENT_MEASURES_MORE, now=at(11, 10))


def test_a_later_policy_starts_only_the_clocks_still_to_measure() -> None:
    # resolution and the running update go on; the customer was answered and has not
    # written since, so no first or next response is awaited; in_service is still ahead
    keys = [clock.key for clock in answered_then_urgent().clocks]
    assert keys == [
        "resolution",
        "periodic_update#1",
        "periodic_update#2",
        "reach_stage:in_service",
    ]


def test_a_stage_still_ahead_is_measured_from_the_policy_change_until_reached() -> None:
    reach = answered_then_urgent().clock("reach_stage:in_service")
    assert reach.explanation == (
        (
            "2026-03-02 09:40Z: started (priority changed to urgent: measured from now under "
            f"policy 'urgent' v1) under policy 'urgent' v1, on {ON_NINE_TO_FIVE}: reach "
            "in_service within 1h00m of business time"
        ),
        "2026-03-02 10:10Z: met (the case reached in_service) after 0h30m",
    )


def test_a_running_clock_keeps_its_time_under_the_new_policys_target() -> None:
    served = answered_then_urgent()
    resolution, update = served.clock("resolution"), served.clock("periodic_update#2")
    assert resolution.explanation[1:] == (
        (
            "2026-03-02 09:40Z: priority changed to urgent: policy 'standard' v1 -> 'urgent' v1; "
            "target 16h00m -> 4h00m; 0h30m already used is kept"
        ),
        "due 2026-03-02 13:10Z: the 3h30m left at 2026-03-02 09:40Z, counted on business hours",
    )
    assert update.explanation[1:] == (
        (
            "2026-03-02 09:40Z: priority changed to urgent: policy 'standard' v1 -> 'urgent' v1; "
            "target 8h00m -> 2h00m; 0h10m already used is kept"
        ),
        "due 2026-03-02 11:30Z: the 1h50m left at 2026-03-02 09:40Z, counted on business hours",
    )
    assert (resolution.elapsed, resolution.due) == (timedelta(hours=2), at(13, 10))


# -- finishing and reopening -------------------------------------------------------------------


def closed_reopened_and_resolved() -> SlaReport:
    """Ana opens a case at 09:10, closes it at 09:20, reopens it at 09:30, resolves at 10:30."""
    rules = PolicySet(
        [policy(Target(Metric.RESOLUTION, "16h"), Target(Metric.PERIODIC_UPDATE, "8h"))]
    )
    play = Play(WORKFLOW).open(ANA)
    play(Move(actor=ANA, trigger="close", reason="a duplicate"))
    play(Move(actor=ANA, trigger="reopen"))  # into in_service
    play(Move(actor=ANA, trigger="resolve"), minutes=60)
    return report(play, rules, now=at(11, 30))


def test_a_reopened_case_resumes_its_resolution_with_the_time_used_and_meets_it_again() -> None:
    resolution = closed_reopened_and_resolved().clock("resolution")
    assert resolution.explanation[1:] == (
        "2026-03-02 09:20Z: met (close: the case is closed) after 0h10m",
        "2026-03-02 09:30Z: reopened (reopen); 0h10m already used is kept",
        "2026-03-02 10:30Z: met (resolve: the case is resolved) after 1h10m",
    )
    assert (resolution.state, resolution.elapsed) == (
        ClockState.MET,
        timedelta(hours=1, minutes=10),
    )


def test_a_reopened_case_owes_updates_again_until_it_is_resolved_again() -> None:
    reopened = closed_reopened_and_resolved()
    assert reopened.clock("periodic_update#1").explanation[1:] == (
        "2026-03-02 09:20Z: stopped (closed: no updates due)",
    )
    assert reopened.clock("periodic_update#2").explanation == (
        started(
            "2026-03-02 09:30Z",
            "the case was reopened (reopen)",
            "periodic update within 8h00m of business time",
        ),
        "2026-03-02 10:30Z: stopped (resolved: no updates due)",
    )


def test_a_resolution_the_policy_in_force_does_not_measure_stays_met_on_reopening() -> None:
    updates_only = policy(
        Target(Metric.PERIODIC_UPDATE, "2h"), name="urgent", conditions=URGENT_ONLY
    )
    rules = PolicySet([updates_only, policy(Target(Metric.RESOLUTION, "16h"))])
    play = Play(WORKFLOW).to_stage("resolved")  # 09:10 in enquiry, resolved at 09:30
    play(ChangePriority(actor=ANA, priority="urgent"))
    play(Move(actor=CUSTOMER, trigger="reopen"))  # 09:50
    resolution = report(play, rules, now=at(11)).clock("resolution")
    assert (resolution.state, resolution.elapsed) == (ClockState.MET, timedelta(minutes=20))


def test_a_case_reopened_under_a_policy_it_came_under_while_resolved_owes_updates() -> None:
    urgent = policy(
        Target(Metric.RESOLUTION, "4h"),
        Target(Metric.PERIODIC_UPDATE, "2h"),
        name="urgent",
        conditions=URGENT_ONLY,
    )
    rules = PolicySet([urgent, policy(Target(Metric.PERIODIC_UPDATE, "8h"))])
    play = Play(WORKFLOW).to_stage("resolved")
    play(ChangePriority(actor=ANA, priority="urgent"))
    play(Move(actor=CUSTOMER, trigger="reopen"))  # 09:50
    update = report(play, rules, now=at(11)).clock("periodic_update#2")
    assert (update.state, update.due) == (ClockState.RUNNING, at(11, 50))


def test_a_case_reopened_under_a_policy_it_came_under_while_resolved_owes_its_resolution() -> None:
    """A resolution target that came while the case was resolved is measured from the reopening."""
    urgent = policy(Target(Metric.RESOLUTION, "4h"), name="urgent", conditions=URGENT_ONLY)
    rules = PolicySet([urgent, policy(Target(Metric.PERIODIC_UPDATE, "8h"))])
    play = Play(WORKFLOW).to_stage("resolved")  # 09:10 in enquiry, resolved at 09:30
    play(ChangePriority(actor=ANA, priority="urgent"))
    play(Move(actor=CUSTOMER, trigger="reopen"))  # 09:50
    resolution = report(play, rules, now=at(11)).clock("resolution")
    assert resolution.explanation == (
        (
            "2026-03-02 09:50Z: started (the case was reopened (reopen): measured from now) "
            f"under policy 'urgent' v1, on {ON_NINE_TO_FIVE}: resolution within 4h00m of "
            "business time"
        ),
        "due 2026-03-02 13:50Z: the 4h00m left at 2026-03-02 09:50Z, counted on business hours",
    )
    assert (resolution.state, resolution.due) == (ClockState.RUNNING, at(13, 50))


def test_a_case_reopened_under_a_tighter_policy_keeps_its_time_not_its_old_target() -> None:
    """The revived resolution clock is measured under the policy of the reopening (hostile6).

    Resolved under standard (16h), raised to urgent (4h) while resolved, reopened: the
    20 minutes used are kept, as a policy switch keeps them, but the target is urgent's.
    """
    urgent = policy(Target(Metric.RESOLUTION, "4h"), name="urgent", conditions=URGENT_ONLY)
    rules = PolicySet([urgent, policy(Target(Metric.RESOLUTION, "16h"))])
    play = Play(WORKFLOW).to_stage("resolved")  # opened 09:10, resolved at 09:30
    play(ChangePriority(actor=ANA, priority="urgent"))  # 09:40
    play(Move(actor=CUSTOMER, trigger="reopen"))  # 09:50
    resolution = report(play, rules, now=at(11)).clock("resolution")
    assert resolution.explanation[2:] == (
        (
            "2026-03-02 09:50Z: reopened (reopen) under policy 'urgent' v1; target "
            "16h00m -> 4h00m; 0h20m already used is kept"
        ),
        "due 2026-03-02 13:30Z: the 3h40m left at 2026-03-02 09:50Z, counted on business hours",
    )
    assert (resolution.state, resolution.due) == (ClockState.RUNNING, at(13, 30))


def test_a_reopened_case_that_comes_under_a_resolution_target_after_reopening_owes_it() -> None:
    """Resolved under urgent, lowered while resolved, reopened, raised again: it is due.

    At 10:00 the case is open under urgent, whose resolution target is 4h: its
    resolution clock runs (it was left met at 09:30, so the case was never due).
    """
    urgent = policy(Target(Metric.RESOLUTION, "4h"), name="urgent", conditions=URGENT_ONLY)
    rules = PolicySet([urgent, policy(Target(Metric.PERIODIC_UPDATE, "8h"))])
    play = Play(WORKFLOW).open(ANA, priority="urgent")  # 09:10
    play(Move(actor=ANA, trigger="start_service"))
    play(Move(actor=ANA, trigger="resolve"))  # 09:30
    play(ChangePriority(actor=ANA, priority="normal"))  # 09:40
    play(Move(actor=CUSTOMER, trigger="reopen"))  # 09:50
    play(ChangePriority(actor=ANA, priority="urgent"))  # 10:00
    sla = report(play, rules, now=at(11))
    assert sla.policy == urgent
    resolution = sla.clock("resolution")
    assert resolution.explanation[1:] == (
        "2026-03-02 09:30Z: met (resolve: the case is resolved) after 0h20m",
        "2026-03-02 10:00Z: priority changed to urgent: measured again; 0h20m already used is kept",
        "due 2026-03-02 13:40Z: the 3h40m left at 2026-03-02 10:00Z, counted on business hours",
    )
    assert (resolution.state, resolution.due) == (ClockState.RUNNING, at(13, 40))


def test_a_case_back_under_a_resolution_target_it_lost_while_open_owes_it() -> None:
    """Urgent (4h), lowered (no resolution target: stopped), raised again: it is due again."""
    urgent = policy(Target(Metric.RESOLUTION, "4h"), name="urgent", conditions=URGENT_ONLY)
    rules = PolicySet([urgent, policy(Target(Metric.PERIODIC_UPDATE, "8h"))])
    play = Play(WORKFLOW).open(ANA, priority="urgent")  # 09:10
    play(ChangePriority(actor=ANA, priority="normal"))  # 09:20
    play(ChangePriority(actor=ANA, priority="urgent"))  # 09:30
    sla = report(play, rules, now=at(11))
    assert sla.policy == urgent
    resolution = sla.clock("resolution")
    assert resolution.explanation[1:] == (
        (
            "2026-03-02 09:20Z: priority changed to normal: no longer measured under policy "
            "'standard' v1"
        ),
        "2026-03-02 09:30Z: priority changed to urgent: measured again; 0h10m already used is kept",
        "due 2026-03-02 13:20Z: the 3h50m left at 2026-03-02 09:30Z, counted on business hours",
    )
    assert (resolution.state, resolution.due) == (ClockState.RUNNING, at(13, 20))


def test_a_case_back_under_an_update_target_it_lost_while_open_owes_the_next_update() -> None:
    """Updates every 2h, lowered to none (stopped), raised again: a new cycle from then."""
    urgent = policy(Target(Metric.PERIODIC_UPDATE, "2h"), name="urgent", conditions=URGENT_ONLY)
    rules = PolicySet([urgent, policy(Target(Metric.RESOLUTION, "16h"))])
    play = Play(WORKFLOW).open(ANA, priority="urgent")  # 09:10
    play(ChangePriority(actor=ANA, priority="normal"))  # 09:20
    play(ChangePriority(actor=ANA, priority="urgent"))  # 09:30
    sla = report(play, rules, now=at(11))
    assert [clock.key for clock in sla.clocks if clock.key.startswith("periodic")] == [
        "periodic_update#1",
        "periodic_update#2",
    ]
    update = sla.clock("periodic_update#2")
    assert (update.state, update.due) == (ClockState.RUNNING, at(11, 30))


def test_a_policy_recorded_as_the_case_closes_takes_up_no_clock() -> None:
    """A closed case owes nothing, not even the first response it never had."""
    urgent = policy(Target(Metric.FIRST_RESPONSE, "1h"), name="urgent", conditions=URGENT_ONLY)
    rules = PolicySet([urgent, policy(Target(Metric.PERIODIC_UPDATE, "8h"))])
    play = Play(WORKFLOW).open(CUSTOMER, priority="urgent")  # 09:10, awaiting an answer
    play(AssignCase(actor=BOT, to=ANA))  # 09:20
    play(ChangePriority(actor=ANA, priority="normal"))  # 09:30: the first response stopped
    play(Move(actor=ANA, trigger="close", reason="spam"))  # 09:40
    # The desk records the policy a case falls under with the command that brought it.
    last = play.history[-1]
    play.history.append(
        SlaPolicyApplied(
            case_id=last.case_id,
            version=last.version + 1,
            at=last.at,
            actor=BOT,
            policy="urgent",
            policy_version=1,
        )
    )
    first = report(play, rules, now=at(11)).clock("first_response")
    assert (first.state, first.due) == (ClockState.STOPPED, None)


def test_a_clock_taken_up_in_a_stage_that_pauses_it_stays_paused() -> None:
    """Back under a resolution target while waiting on the customer: paused, not running."""
    urgent = policy(Target(Metric.RESOLUTION, "4h"), name="urgent", conditions=URGENT_ONLY)
    rules = PolicySet([urgent, policy(Target(Metric.PERIODIC_UPDATE, "8h"))])
    play = Play(WORKFLOW).open(ANA, priority="urgent", stage="in_service")  # 09:10
    play(ChangePriority(actor=ANA, priority="normal"))  # 09:20: stopped
    play(Move(actor=ANA, trigger="wait_on_customer"))  # 09:30
    play(ChangePriority(actor=ANA, priority="urgent"))  # 09:40
    resolution = report(play, rules, now=at(11)).clock("resolution")
    assert (resolution.state, resolution.due) == (ClockState.PAUSED, None)
    assert resolution.elapsed == timedelta(minutes=10)


def raised_while_resolved_and_reopened() -> Play:
    """Opened in service 09:10, resolved 09:20 (0h10m used), urgent 09:30, reopened 09:40."""
    play = Play(WORKFLOW).open(ANA, stage="in_service")
    play(Move(actor=ANA, trigger="resolve"))
    play(ChangePriority(actor=ANA, priority="urgent"))
    play(Move(actor=CUSTOMER, trigger="reopen"))
    return play


def test_a_clock_taken_up_on_another_calendar_is_counted_on_it() -> None:
    """The same target on other hours is another promise: the clock takes up the new hours."""
    late = BusinessCalendar(timezone="UTC", hours={"mon": [("12:00", "20:00")]})
    urgent = attrs.evolve(
        policy(Target(Metric.RESOLUTION, "4h"), name="urgent", conditions=URGENT_ONLY),
        calendar=late,
    )
    rules = PolicySet([urgent, policy(Target(Metric.RESOLUTION, "4h"))])
    resolution = report(raised_while_resolved_and_reopened(), rules, now=at(11)).clock("resolution")
    assert resolution.explanation[-2] == (
        "2026-03-02 09:40Z: reopened (reopen) under policy 'urgent' v1; target 4h00m -> "
        "4h00m; 0h10m already used is kept"
    )
    # 3h50m left, counted from the opening at noon on the new hours.
    assert (resolution.state, resolution.due) == (ClockState.RUNNING, at(15, 50))


def test_a_clock_taken_up_under_a_target_in_business_days_counts_them_from_its_start() -> None:
    """One business day from the opening at Monday 09:10 is 8h of NINE_TO_FIVE's hours.

    Met under standard (16h) after 0h10m, raised to urgent (1 business day) while resolved,
    reopened at 09:40: the 7h50m left run to Tuesday 09:30.
    """
    urgent = policy(Target(Metric.RESOLUTION, "1bd"), name="urgent", conditions=URGENT_ONLY)
    rules = PolicySet([urgent, policy(Target(Metric.RESOLUTION, "16h"))])
    resolution = report(raised_while_resolved_and_reopened(), rules, now=at(11)).clock("resolution")
    assert resolution.explanation[-2] == (
        "2026-03-02 09:40Z: reopened (reopen) under policy 'urgent' v1; target 16h00m -> "
        "8h00m; 0h10m already used is kept"
    )
    assert (resolution.state, resolution.due) == (ClockState.RUNNING, at(9, 30, day=3))


def test_a_case_under_no_policy_is_reopened_with_no_clock() -> None:
    """No policy applies (the only one is for urgent cases): reopening starts nothing."""
    urgent = policy(Target(Metric.RESOLUTION, "4h"), name="urgent", conditions=URGENT_ONLY)
    play = Play(WORKFLOW).open(ANA, stage="in_service")  # 09:10
    play(Move(actor=ANA, trigger="resolve"))  # 09:20
    play(Move(actor=CUSTOMER, trigger="reopen"))  # 09:30
    sla = report(play, PolicySet([urgent]), now=at(11))
    assert (sla.policy, sla.clocks) == (None, ())


def test_a_clock_stopped_by_finishing_the_case_gives_its_last_stretch_to_the_owner() -> None:
    update = closed_reopened_and_resolved().clock("periodic_update#1")
    assert update.used_by() == {"ana": timedelta(minutes=10)}


# -- breaches and who is told ------------------------------------------------------------------

FIRST_HOUR = PolicySet([policy(Target(Metric.FIRST_RESPONSE, "1h"), escalate_to="service")])
AL = Agent("al", teams={"service"}, roles={Role.SUPERVISOR}, active=False)
BEN = Agent("ben", teams={"service"})  # active, but no supervisor
CAT = Agent("cat", teams={"sales"}, roles={Role.SUPERVISOR})
DAN = Agent("dan", teams={"service"}, roles={Role.SUPERVISOR})
NOT_TO_BE_TOLD = (AL, BEN)
"""Agents a careless directory hands over as supervisors: an inactive one, and no supervisor."""


def fire_due(play: Play, rules: PolicySet, now: datetime, supervisors: Sequence[Agent]) -> None:
    """What ticks at `now` record: every SLA timer due by then, round by round."""
    play.now = now
    for _ in range(4):  # a breach makes its first escalation due at once
        due = report(play, rules, supervisors=supervisors).timers_due()
        if not due:
            return
        play(FireTimers(actor=BOT, timers=due), minutes=0)


def escalations(play: Play, supervisors: Sequence[Agent]) -> list[tuple[int, str, datetime]]:
    """The escalations pending: level, who is told, when."""
    pending = report(play, FIRST_HOUR, supervisors=supervisors).pending
    return [
        (timer.level, timer.notify.id, timer.due)
        for timer in pending
        if timer.kind is TimerKind.ESCALATION and timer.notify is not None
    ]


def test_an_unowned_breach_tells_only_active_supervisors() -> None:
    supervisors = [*NOT_TO_BE_TOLD, CAT]  # the policy's team has no active supervisor
    play = Play(WORKFLOW).open(CUSTOMER)  # 09:10, due 10:10
    play.now = at(10, 15)
    breach = report(play, FIRST_HOUR).timers_due()  # with nobody to tell: no escalation
    play(FireTimers(actor=BOT, timers=breach), minutes=0)
    assert escalations(play, supervisors) == [(1, "cat", at(10, 10))]


def test_the_second_escalation_tells_the_first_active_supervisor_of_the_owners_team() -> None:
    cid = Agent("cid", teams={"service"}, roles={Role.SUPERVISOR})
    supervisors = [DAN, cid, *NOT_TO_BE_TOLD]
    play = Play(WORKFLOW).open(CUSTOMER)
    play(AssignCase(actor=BO, to=BO))  # bo, of the service team
    fire_due(play, FIRST_HOUR, at(10, 15), supervisors)  # breach, then bo is told
    assert escalations(play, supervisors) == [(2, "cid", at(11, 10))]


def tracker(play: Play, supervisors: Sequence[Agent], **options: object) -> SlaTracker:
    """The SLA fold of the case's history under FIRST_HOUR."""
    return SlaTracker.start(
        FIRST_HOUR,
        workflow=WORKFLOW,
        supervisors_of=lambda team: [a for a in supervisors if team is None or team in a.teams],
        **options,  # type: ignore[arg-type]
    ).apply(play.history)


def test_the_next_due_time_of_an_unowned_breach_is_the_supervisors_escalation_at_once() -> None:
    play = Play(WORKFLOW).open(CUSTOMER)  # 09:10: warned at 09:55, due 10:10
    assert tracker(play, [DAN]).next_due() == at(9, 55)
    play.now = at(10, 15)
    play(FireTimers(actor=BOT, timers=report(play, FIRST_HOUR).timers_due()), minutes=0)
    assert tracker(play, [DAN]).next_due() == at(10, 10)


def test_the_next_due_time_follows_the_teams_the_owner_has_now() -> None:
    play = Play(WORKFLOW).open(CUSTOMER)
    play(AssignCase(actor=BO, to=BO))  # bo took the case as one of the service team
    fire_due(play, FIRST_HOUR, at(10, 15), [CAT])  # breach, then bo is told
    moved = tracker(play, [CAT], teams_of=lambda _agent: {"sales"})  # bo is in sales now
    stayed = tracker(play, [CAT])
    assert (moved.next_due(), stayed.next_due()) == (at(11, 10), at(12, 10))  # cat, or bo


def test_a_case_with_nothing_left_to_fire_has_no_next_due_time() -> None:
    play = Play(WORKFLOW).open(CUSTOMER)
    play(AssignCase(actor=ANA, to=ANA))
    play(RecordInteraction(actor=ANA, channel=EMAIL, direction=OUTBOUND, summary="on it"))
    assert tracker(play, [DAN]).next_due() is None


def test_a_report_or_the_timers_due_at_a_naive_time_are_refused_naming_now() -> None:
    play = Play(WORKFLOW).open(CUSTOMER)
    naive = datetime(2026, 3, 2, 12, 0)  # noqa: DTZ001 - the mistake refused
    refusal = "now must be timezone-aware, got the naive datetime 2026-03-02T12:00:00"
    with pytest.raises(InvalidValue) as assessing:
        assess(play.history, FIRST_HOUR, now=naive)
    with pytest.raises(InvalidValue) as ticking:
        tracker(play, []).timers_due(naive)
    with pytest.raises(InvalidValue) as reporting:
        tracker(play, []).report(naive)
    assert [str(e.value) for e in (assessing, ticking, reporting)] == [refusal] * 3


def test_a_late_tick_notes_the_breach_its_skipped_warning_and_each_escalation() -> None:
    play = Play(WORKFLOW).open(CUSTOMER)  # 09:10, first response due 10:10
    play(AssignCase(actor=ANA, to=ANA))
    fire_due(play, FIRST_HOUR, at(15), [])  # no supervisor: ana is told, then ana as steward
    play(RecordInteraction(actor=ANA, channel=EMAIL, direction=OUTBOUND, summary="sorry"))
    first = report(play, FIRST_HOUR, now=at(16)).clock("first_response")
    assert first.explanation[1:] == (
        "2026-03-02 15:00Z: breached (it was due 2026-03-02 10:10Z); its warning was skipped",
        "2026-03-02 15:00Z: escalated to level 1: agent 'ana'",
        "2026-03-02 15:00Z: escalated to level 3: agent 'ana'",
        "2026-03-02 15:10Z: met late (agent 'ana' answered on email) after 6h00m",
        "due 2026-03-02 10:10Z: when its 1h00m ran out",
    )
    assert first.state is ClockState.BREACHED


def test_a_breach_after_its_warning_notes_only_the_due_time() -> None:
    play = Play(WORKFLOW).open(CUSTOMER)
    fire_due(play, FIRST_HOUR, at(10), [])  # the warning, at 09:55
    fire_due(play, FIRST_HOUR, at(10, 15), [])
    first = report(play, FIRST_HOUR, now=at(10, 30)).clock("first_response")
    assert first.explanation[1:] == (
        "2026-03-02 10:15Z: breached (it was due 2026-03-02 10:10Z)",
        # still running since the opening: due when the hour left then ran out
        "due 2026-03-02 10:10Z: the 1h00m left at 2026-03-02 09:10Z, counted on business hours",
    )
    assert (first.state, first.elapsed, first.remaining) == (
        ClockState.BREACHED,
        timedelta(hours=1, minutes=20),
        timedelta(0),
    )


# -- the moment a clock is due -------------------------------------------------------------------


def answered(minutes: int) -> Play:
    """A customer's case (09:10) that ana takes at 09:20 and answers `minutes` later."""
    play = Play(WORKFLOW).open(CUSTOMER)
    play(AssignCase(actor=ANA, to=ANA))
    play(
        RecordInteraction(actor=ANA, channel=EMAIL, direction=OUTBOUND, summary="hi"),
        minutes=minutes,
    )
    return play


def test_a_clock_is_breached_from_the_moment_it_is_due() -> None:
    play = answered(60)  # not answered by 10:10
    first = report(play, FIRST_HOUR, now=at(10, 10)).clock("first_response")
    assert (first.state, first.remaining, first.due) == (
        ClockState.BREACHED,
        timedelta(0),
        at(10, 10),
    )


def test_an_answer_at_the_due_moment_meets_the_target() -> None:
    first = report(answered(50), FIRST_HOUR, now=at(11)).clock("first_response")  # at 10:10
    assert first.state is ClockState.MET
    assert first.explanation[1:] == (
        "2026-03-02 10:10Z: met (agent 'ana' answered on email) after 1h00m",
    )


def test_a_clock_paused_as_its_time_ran_out_was_due_then_and_stays_due_then_after() -> None:
    play = Play(WORKFLOW).open(CUSTOMER)  # 09:10, the first response due 10:10
    play(AssignCase(actor=ANA, to=ANA))
    play(Move(actor=ANA, trigger="start_service"), minutes=20)
    play(Move(actor=ANA, trigger="wait_on_customer"), minutes=30)  # 10:10: the hour is used
    paused = report(play, FIRST_HOUR, now=at(10, 30)).clock("first_response")
    assert (paused.state, paused.due) == (ClockState.BREACHED, at(10, 10))
    play(Move(actor=ANA, trigger="resume"), minutes=30)  # 10:40
    running = report(play, FIRST_HOUR, now=at(11)).clock("first_response")
    assert (running.state, running.due) == (ClockState.BREACHED, at(10, 10))
    assert running.explanation[-1] == "due 2026-03-02 10:10Z: when its 1h00m ran out"


def test_a_clock_that_ran_out_in_its_third_stretch_was_due_within_it() -> None:
    play = Play(WORKFLOW).open(CUSTOMER)  # 09:10
    play(AssignCase(actor=ANA, to=ANA))  # 09:20: nobody's 10 minutes end
    play(Move(actor=ANA, trigger="start_service"))
    play(Move(actor=ANA, trigger="wait_on_customer"))  # 09:40: ana's 20 minutes end
    play(Move(actor=ANA, trigger="resume"), minutes=20)  # 10:00: 30 minutes left
    play(Move(actor=ANA, trigger="wait_on_customer"), minutes=45)  # 10:45
    first = report(play, FIRST_HOUR, now=at(11)).clock("first_response")
    assert (first.state, first.due) == (ClockState.BREACHED, at(10, 30))
    assert first.segments == (
        ClockSegment(at(9, 10), at(9, 20), None, timedelta(minutes=10)),
        ClockSegment(at(9, 20), at(9, 40), ANA, timedelta(minutes=20)),
        ClockSegment(at(10), at(10, 45), ANA, timedelta(minutes=45)),
    )


def test_a_running_clock_reports_its_stretch_so_far_and_no_empty_one() -> None:
    play = Play(WORKFLOW).open(CUSTOMER)
    play(AssignCase(actor=ANA, to=ANA))  # 09:20
    just_taken = report(play, FIRST_HOUR).clock("first_response")
    later = report(play, FIRST_HOUR, now=at(9, 50)).clock("first_response")
    unowned = ClockSegment(at(9, 10), at(9, 20), None, timedelta(minutes=10))
    assert just_taken.segments == (unowned,)
    assert later.segments == (
        unowned,
        ClockSegment(at(9, 20), at(9, 50), ANA, timedelta(minutes=30)),
    )
    assert report(play, FIRST_HOUR).owner == ANA


def test_a_business_day_target_whose_time_runs_out_at_the_close_is_due_at_the_next_opening() -> (
    None
):
    rules = PolicySet([policy(Target(Metric.RESOLUTION, "1 business day"))])
    play = Play(WORKFLOW)
    play.now = at(8, 50)
    play.open(CUSTOMER)  # Monday 09:00: its 8 business hours are used by 17:00
    evening = report(play, rules, now=at(18)).clock("resolution")
    assert (evening.state, evening.remaining, evening.due) == (
        ClockState.RUNNING,
        timedelta(0),
        at(9, day=3),
    )
    assert report(play, rules, now=at(9, day=3)).clock("resolution").state is ClockState.BREACHED


def test_a_breached_clock_stays_breached_under_a_laxer_policy() -> None:
    lax = policy(
        Target(Metric.FIRST_RESPONSE, "8h"), name="lax", conditions=Conditions(priorities="low")
    )
    rules = PolicySet([lax, *FIRST_HOUR.policies])
    play = Play(WORKFLOW).open(CUSTOMER)
    play(AssignCase(actor=ANA, to=ANA))
    fire_due(play, rules, at(10, 15), [])
    play(ChangePriority(actor=ANA, priority="low"))  # 10:25: 8 business hours, due Tuesday
    first = report(play, rules, now=at(11)).clock("first_response")
    assert (first.state, first.due) == (ClockState.BREACHED, at(9, 10, day=3))


def test_due_times_are_given_in_utc_whatever_the_hosts_zone() -> None:
    play = Play(WORKFLOW).open(CUSTOMER)
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        due = report(play, FIRST_HOUR).clock("first_response").due
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()
    assert due is not None
    assert (due, due.utcoffset()) == (at(10, 10), timedelta(0))


# -- stages and recorded policies ----------------------------------------------------------------


def test_a_stage_policy_applies_from_that_stage_and_ends_the_clocks_it_does_not_measure() -> None:
    service = policy(
        Target(Metric.RESOLUTION, "8h"), name="service", conditions=Conditions(stages="in_service")
    )
    general = policy(
        Target(Metric.RESOLUTION, "16h"),
        Target(Metric.PERIODIC_UPDATE, "8h"),
        Target(Metric.REACH_STAGE, "8h", stage="resolved"),
        name="general",
    )
    play = Play(WORKFLOW).open(ANA)  # 09:10, ana owns it
    play(Move(actor=ANA, trigger="start_service"))  # 09:20
    served = report(play, PolicySet([service, general]), now=at(10))
    assert served.policy == service
    resolution = served.clock("resolution")
    assert resolution.explanation[1] == (
        "2026-03-02 09:20Z: stage changed to in_service: policy 'general' v1 -> 'service' v1; "
        "target 16h00m -> 8h00m; 0h10m already used is kept"
    )
    assert resolution.used_by() == {"ana": timedelta(minutes=50)}
    ended = (
        "2026-03-02 09:20Z: stage changed to in_service: no longer measured under policy "
        "'service' v1"
    )
    for key in ("periodic_update#1", "reach_stage:resolved"):
        clock = served.clock(key)
        assert (clock.state, clock.explanation[1:]) == (ClockState.STOPPED, (ended,))


def test_a_stage_the_case_went_through_is_not_awaited_by_a_later_policy() -> None:
    urgent = policy(
        Target(Metric.RESOLUTION, "4h"),
        Target(Metric.REACH_STAGE, "1h", stage="in_service"),
        Target(Metric.REACH_STAGE, "2h", stage="resolved"),
        name="urgent",
        conditions=URGENT_ONLY,
    )
    rules = PolicySet([urgent, policy(Target(Metric.RESOLUTION, "16h"))])
    play = Play(WORKFLOW).open(ANA)
    play(Move(actor=ANA, trigger="start_service"))
    play(Move(actor=ANA, trigger="wait_on_customer"))
    play(ChangePriority(actor=ANA, priority="urgent"))
    assert [clock.key for clock in report(play, rules).clocks] == [
        "resolution",
        "reach_stage:resolved",
    ]


def test_a_finished_case_starts_no_clock_and_stops_those_still_running() -> None:
    rules = PolicySet(
        [
            policy(
                Target(Metric.FIRST_RESPONSE, "4h"),
                Target(Metric.NEXT_RESPONSE, "2h"),
                Target(Metric.RESOLUTION, "16h"),
            )
        ]
    )
    play = Play(WORKFLOW).open(CUSTOMER)
    play(AssignCase(actor=ANA, to=ANA))
    play(Move(actor=ANA, trigger="close", reason="spam"))  # 09:30
    play(RecordInteraction(actor=CUSTOMER, channel=CHAT, direction=INBOUND, summary="hello?"))
    closed = report(play, rules)
    assert [clock.key for clock in closed.clocks] == ["first_response", "resolution"]
    assert closed.clock("first_response").explanation[1:] == (
        "2026-03-02 09:30Z: stopped (close: the case is finished)",
    )


def test_a_case_stays_under_the_policy_it_recorded_when_its_facts_change() -> None:
    v1 = policy(Target(Metric.RESOLUTION, "16h"))
    v2 = attrs.evolve(v1, version=2, targets=[Target(Metric.RESOLUTION, "8h")])
    play = Play(WORKFLOW).open(ANA)  # under v2, the first that matches
    play(ApplySlaPolicy(actor=BOT, policy="standard", version=1))  # 09:20: the case's own
    play(Move(actor=ANA, trigger="start_service"))
    recorded = report(play, PolicySet([v2, v1]))
    assert recorded.policy == v1
    assert recorded.clock("resolution").explanation[1] == (
        "2026-03-02 09:20Z: policy recorded: policy 'standard' v2 -> 'standard' v1; "
        "target 8h00m -> 16h00m; 0h10m already used is kept"
    )


def test_the_third_escalation_tells_the_steward_appointed_last() -> None:
    play = Play(WORKFLOW).open(CUSTOMER)
    play(AssignCase(actor=ANA, to=ANA))  # ana owns the case and is its steward
    play(ReassignSteward(actor=BOT, to=BO, reason="ana moves to sales"))
    fire_due(play, FIRST_HOUR, at(15), [])
    reported = report(play, FIRST_HOUR)
    assert reported.steward == BO
    assert reported.clock("first_response").explanation[2:4] == (
        "2026-03-02 15:00Z: escalated to level 1: agent 'ana'",
        "2026-03-02 15:00Z: escalated to level 3: agent 'bo'",
    )


def started_on(calendar: str) -> str:
    """How the first response of a case the customer opened at 09:10Z starts on `calendar`."""
    return (
        "2026-03-02 09:10Z: started (the customer opened the case) under policy 'standard' v1, "
        f"on {calendar}: first response within 1h00m of business time"
    )


def test_a_clock_names_each_stretch_of_its_calendars_business_hours() -> None:
    lunch = BusinessCalendar(
        timezone="Europe/Berlin",
        hours={day: [("09:00", "12:00"), ("13:00", "17:30")] for day in ("mon", "tue")},
    )
    rules = PolicySet([attrs.evolve(FIRST_HOUR.policies[0], calendar=lunch)])
    play = Play(WORKFLOW).open(CUSTOMER)  # 10:10 in Berlin
    assert report(play, rules).clock("first_response").explanation == (
        started_on("Europe/Berlin (mon 09:00-12:00 13:00-17:30, tue 09:00-12:00 13:00-17:30)"),
        "due 2026-03-02 10:10Z: the 1h00m left at 2026-03-02 09:10Z, counted on business hours",
    )


def test_a_tracker_before_any_event_reports_no_case_no_policy_and_no_clocks() -> None:
    empty = SlaTracker.start(FIRST_HOUR, workflow=WORKFLOW).report(at(12))
    assert empty == SlaReport(
        case_id="", at=at(12), policy=None, clocks=(), pending=(), next_due=None
    )


# -- the tracker as a value ----------------------------------------------------------------------


def test_a_tracker_folds_only_the_events_after_those_it_has_seen() -> None:
    play = Play(WORKFLOW).open(CUSTOMER)  # versions 1 and 2: opened, the customer's message
    play(AssignCase(actor=ANA, to=ANA))
    opened = SlaTracker.start(FIRST_HOUR, workflow=WORKFLOW).apply(play.history[:2])
    assert opened.apply(play.history[:2]) is opened  # nothing new: the same tracker
    taken = opened.apply(play.history)
    assert (opened.version, taken.version) == (2, len(play.history))
    assert taken.report(at(10)).owner == ANA


def test_a_tracker_keeps_the_policies_and_workflow_it_was_started_with() -> None:
    play = Play(WORKFLOW).open(CUSTOMER)
    start = SlaTracker.start(FIRST_HOUR, workflow=WORKFLOW)
    later = start.apply(play.history)
    assert [(t.policies, t.workflow) for t in (start, later)] == [(FIRST_HOUR, WORKFLOW)] * 2
