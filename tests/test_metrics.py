"""Each KPI on a small history whose figure was worked out by hand (the arithmetic in comments)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from metrics_stories import ANA, BO, Story, stored

from servicekit import (
    BusinessCalendar,
    Channel,
    FollowUpOutcome,
    InvalidValue,
    Metric,
    Policy,
    PolicySet,
    Survey,
    Target,
    buying_cycle,
)
from servicekit.metrics import KpiReport, compute

FLOWS = [buying_cycle()]
MINUTE = timedelta(minutes=1)


def report(*stories: Story, **options: object) -> KpiReport:
    return compute(stored(*stories), workflows=FLOWS, **options)  # type: ignore[arg-type]


def test_first_response_time_is_the_median_wait_for_the_first_agent_reply() -> None:
    stories = (
        Story("a").reply(10),
        Story("b").reply(30).reply(31),  # only the first reply counts
        Story("c").inbound(5).reply(60),
        Story("d", by_customer=False).reply(5),  # opened by the company: not measured
        Story("e"),  # no reply yet: not measured
    )
    kpis = report(*stories)
    # waits 10, 30, 60 minutes: the median is 30, the 90th percentile (rank ceil(0.9*3)=3) 60
    assert kpis.value("first_response_time") == 30 * MINUTE
    assert kpis.value("first_response_time_p90") == 60 * MINUTE
    assert kpis.count("first_response_time") == 3


def test_first_and_full_resolution_times_run_to_the_first_and_the_latest_resolution() -> None:
    reopened = (
        Story("a")
        .move(60, "resolved", "resolve")
        .move(90, "in_service", "reopen")
        .move(150, "resolved")
    )
    once = Story("b").move(120, "resolved", "resolve").move(130, "follow_up", "follow_up")
    kpis = report(reopened, once)
    # first: 60 and 120 minutes, median (60+120)/2 = 90; latest: 150 and 120, median 135
    # (b's move from resolved to follow_up stays in the resolved category: not a new entry)
    assert kpis.value("first_resolution_time") == 90 * MINUTE
    assert kpis.value("full_resolution_time") == 135 * MINUTE


def _first_response_within_30_minutes() -> PolicySet:
    always = BusinessCalendar.always_open()
    target = Target(Metric.FIRST_RESPONSE, timedelta(minutes=30))
    return PolicySet([Policy(name="standard", version=1, calendar=always, targets=(target,))])


def test_sla_attainment_is_targets_met_over_targets_met_or_breached() -> None:
    met = Story("a").reply(10)
    breached = Story("b").reply(45)
    running = Story("c")  # still within its 30 minutes at its last event: not counted
    kpis = report(met, breached, running, sla=_first_response_within_30_minutes())
    # met 1, breached 1: 1 / (1 + 1) = 0.5
    assert kpis.value("sla_attainment:first_response") == 0.5
    assert kpis.count("sla_attainment:first_response") == 2


def test_an_sla_breach_counts_for_the_owner_who_held_the_case_when_the_budget_ran_out() -> None:
    # due at minute 30, while ana still owned the case; bo took it at 40 and answered at 45
    late = Story("a", owner=ANA).transfer(40, BO).reply(45, BO)
    kpis = report(late, sla=_first_response_within_30_minutes(), by=("agent",))
    # ana: 0 met / 1 counted = 0.0; bo: nothing counted
    assert kpis.value("sla_attainment:first_response", agent="ana") == 0.0
    assert kpis.value("sla_attainment:first_response", agent="bo") is None


def test_the_report_lists_each_owners_share_of_the_sla_time_used() -> None:
    # the first response clock ran 0-10 under ana, 10-20 under bo: met at 20
    shared = Story("a", owner=ANA).transfer(10, BO).reply(20, BO)
    # ana alone, 0-30: met at 30
    alone = Story("b", owner=ANA).reply(30)
    kpis = report(shared, alone, sla=_first_response_within_30_minutes())
    # ana used 10 + 30 = 40 minutes of 50, bo 10: 0.8 and 0.2
    assert kpis.sla_time_shares == {"ana": 0.8, "bo": 0.2}


def test_one_touch_resolution_is_resolved_cases_with_fewer_than_two_agent_replies() -> None:
    one = Story("a").reply(10).move(20, "resolved", "resolve")
    two = Story("b").reply(10).reply(15).move(20, "resolved", "resolve")
    outbound = Story("c", by_customer=False).move(20, "resolved", "resolve")  # its opening call
    unresolved = Story("d")
    kpis = report(one, two, outbound, unresolved)
    # resolved: a, b, c; fewer than two outbound agent contacts: a (1), c (1) -> 2/3
    assert kpis.value("one_touch_resolution") == 2 / 3


def test_first_contact_resolution_needs_no_transfer_no_reopen_and_no_second_contact() -> None:
    clean = Story("a").reply(10).move(20, "resolved", "resolve")
    transferred = Story("b").transfer(5, BO).move(20, "resolved", "resolve")
    asked_again = Story("c").inbound(5).move(20, "resolved", "resolve")
    reopened = Story("d").move(20, "resolved", "resolve").move(30, "in_service", "reopen")
    kpis = report(clean, transferred, asked_again, reopened)
    # four resolved cases, only a is clean: 1/4
    assert kpis.value("first_contact_resolution") == 0.25


def test_reopen_rate_is_reopened_cases_over_cases_resolved_at_least_once() -> None:
    stays = Story("a").move(20, "resolved", "resolve")
    back = Story("b").move(20, "resolved", "resolve").move(30, "in_service", "reopen")
    back_twice = (
        Story("c")
        .move(20, "resolved", "resolve")
        .move(30, "in_service", "reopen")
        .move(40, "resolved", "resolve")
        .move(50, "in_service", "reopen")
    )
    open_case = Story("d")
    kpis = report(stays, back, back_twice, open_case)
    # resolved at least once: a, b, c; reopened at least once: b, c -> 2/3
    assert kpis.value("reopen_rate") == 2 / 3


def test_transfers_per_case_is_the_mean_number_of_transfers() -> None:
    none = Story("a")
    two = Story("b").transfer(10, BO).transfer(20, ANA)
    one = Story("c").transfer(10, BO)
    # (0 + 2 + 1) / 3 = 1.0
    assert report(none, two, one).value("transfers_per_case") == 1.0


def test_follow_up_completion_is_follow_ups_completed_over_follow_ups_that_fell_due() -> None:
    story = (
        Story("a")
        .follow_up_due(10, 1)
        .follow_up_done(20, 1, FollowUpOutcome.SERVED)
        .follow_up_due(30, 2)  # never done
        .follow_up_due(40, 3)
        .follow_up_done(50, 3, FollowUpOutcome.NO_ANSWER)  # tried: done
        .follow_up_due(60, 4)
        .follow_up_done(70, 4, FollowUpOutcome.CANCELLED)  # waived: not done
    )
    # due: 1, 2, 3, 4; completed: 1, 3 -> 2/4
    assert report(story).value("follow_up_completion") == 0.5


def test_conversion_is_won_over_won_or_lost_and_won_value_sums_accepted_offers() -> None:
    euros = Story("a", stage="negotiation").sale(30, "100.00")
    more_euros = Story("b", stage="negotiation").sale(40, "50.50")
    dollars = Story("c", stage="negotiation").sale(50, "20", "USD")
    lost = Story("d", stage="negotiation").move(60, "lost", "lose")
    bargaining = Story("e", stage="negotiation")
    kpis = report(euros, more_euros, dollars, lost, bargaining)
    # won 3, lost 1: 3/4; EUR 100.00 + 50.50 = 150.50, USD 20
    assert kpis.value("conversion") == 0.75
    assert kpis.value("won_value") == {"EUR": Decimal("150.50"), "USD": Decimal(20)}


def test_time_in_stage_is_the_median_time_per_visit() -> None:
    twice = (
        Story("a")
        .move(30, "waiting_on_customer", "wait_on_customer")
        .move(50, "in_service", "resume")
        .move(80, "resolved", "resolve")
    )
    once = Story("b").move(60, "resolved", "resolve")
    kpis = report(twice, once)
    # visits of in_service: 30 (0-30), 30 (50-80), 60 (0-60): median 30; waiting: 20
    assert kpis.value("time_in_stage:in_service") == 30 * MINUTE
    assert kpis.value("time_in_stage:waiting_on_customer") == 20 * MINUTE
    assert kpis.value("time_in_stage:resolved") is None  # nobody has left it yet


def test_csat_is_responses_of_four_or_five_over_csat_responses() -> None:
    story = Story("a").feedback(1, Survey.CSAT, 5).feedback(2, Survey.CSAT, 4)
    story.feedback(3, Survey.CSAT, 2).feedback(4, Survey.NPS, 10)  # NPS is not CSAT
    # 5 and 4 satisfied, 2 not: 2/3
    assert report(story).value("csat") == 2 / 3


def test_nps_is_the_share_of_promoters_minus_the_share_of_detractors() -> None:
    story = Story("a")
    for minute, score in enumerate([10, 9, 9, 8, 3], start=1):
        story.feedback(minute, Survey.NPS, score)
    # promoters 3 (10, 9, 9), passive 1 (8), detractors 1 (3): 100 * (3 - 1) / 5 = 40
    assert report(story).value("nps") == 40


def test_ces_is_the_mean_effort_score() -> None:
    story = Story("a").feedback(1, Survey.CES, 2).feedback(2, Survey.CES, 5)
    story.feedback(3, Survey.CES, 6)
    # (2 + 5 + 6) / 3 = 13/3
    assert report(story).value("ces") == 13 / 3


def test_feedback_response_rate_is_answered_requests_over_requests() -> None:
    answered = Story("a").request(10).feedback(20, Survey.CSAT, 5)
    ignored = Story("b").request(10)
    asked_twice = Story("c").request(10).request(20).feedback(30, Survey.CSAT, 3)
    unasked = Story("d").feedback(10, Survey.CSAT, 4)  # an answer nobody asked for
    kpis = report(answered, ignored, asked_twice, unasked)
    # requests: a1, b1, c1, c2 = 4; answered: a1 and c2 (the latest open one) = 2 -> 2/4
    assert kpis.value("feedback_response_rate") == 0.5


def test_durations_are_business_time_with_the_wall_clock_beside_them() -> None:
    hours = {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
    office = BusinessCalendar(timezone="UTC", hours=hours)
    # opened Friday 27 February 16:30, answered Monday 2 March 09:30
    story = Story("a", minute=-(2 * 24 * 60 + 16 * 60 + 30)).reply(30)
    kpis = report(story, calendar=office)
    # business: 16:30-17:00 Friday + 09:00-09:30 Monday = 1 hour; wall: 65 hours
    assert kpis.value("first_response_time") == timedelta(hours=1)
    assert kpis.wall_clock("first_response_time") == timedelta(hours=65)


def test_a_figure_counts_in_the_period_of_its_measured_event_in_the_report_zone() -> None:
    # opened Monday 09:00 UTC; the reply at 23:30 UTC is Tuesday 00:30 in Berlin
    late = Story("a").reply(14 * 60 + 30)
    kpis = report(late, zone="Europe/Berlin", period="day")
    assert kpis.value("first_response_time", period=date(2026, 3, 3)) == 870 * MINUTE
    assert kpis.value("first_response_time", period=date(2026, 3, 2)) is None


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    sunday = Story("a", minute=6 * 24 * 60).reply(6 * 24 * 60 + 10)  # Sunday 8 March
    assert report(sunday, period="week").count("first_response_time", period=date(2026, 3, 2)) == 1
    assert report(sunday, period="month").count("first_response_time", period=date(2026, 3, 1)) == 1


def test_grouped_by_agent_a_figure_counts_for_the_owner_at_the_measured_event() -> None:
    # ana owned the case when it was opened; bo owned it when it was resolved
    story = Story("a", owner=ANA).transfer(10, BO).move(40, "resolved", "resolve")
    kpis = report(story, by=("agent",))
    assert kpis.value("first_resolution_time", agent="bo") == 40 * MINUTE
    assert kpis.value("first_resolution_time", agent="ana") is None
    # transfers count for the case's first owner: ana, 1 transfer
    assert kpis.value("transfers_per_case", agent="ana") == 1.0


def test_grouped_by_team_channel_and_workflow_a_figure_counts_in_each_group() -> None:
    story = Story("a", owner=BO, channel=Channel.CHAT).reply(10)
    kpis = report(story, by=("team", "channel", "workflow"))
    assert (
        kpis.value("first_response_time", team="service", channel="chat", workflow="buying_cycle")
        == 10 * MINUTE
    )


def test_the_report_lists_the_cases_each_agent_stewards() -> None:
    kpis = report(Story("a", owner=ANA), Story("b", owner=ANA), Story("c", owner=BO))
    assert kpis.stewarded == {"ana": 2, "bo": 1}


def test_rows_list_every_figure_with_its_group_period_and_count() -> None:
    kpis = report(Story("a").reply(10), Story("b").reply(20), by=("agent",))
    row = next(row for row in kpis.rows() if row.kpi == "first_response_time")
    assert (row.group, row.period, row.value, row.count) == ({"agent": "ana"}, None, 15 * MINUTE, 2)


def test_an_unknown_kpi_is_refused_by_name() -> None:
    with pytest.raises(InvalidValue, match="'happiness' is not a KPI"):
        report(Story("a")).value("happiness")


def test_a_figure_names_exactly_the_groups_of_its_report() -> None:
    with pytest.raises(InvalidValue, match=r"grouped by \['agent', 'period'\]"):
        report(Story("a"), by=("agent",), period="day").value("csat", agent="ana")


@pytest.mark.parametrize(
    ("option", "value"),
    [("by", ("customer",)), ("by", ("agent", "agent")), ("period", "year"), ("zone", "Mars/Base")],
)
def test_bad_report_options_are_refused(option: str, value: object) -> None:
    with pytest.raises(InvalidValue):
        report(Story("a"), **{option: value})
