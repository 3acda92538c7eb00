"""Answers on time, on business hours: a case in Berlin and one in Sao Paulo, explained.

Run it with ``python examples/business_hours.py``. Each team has its own
business calendar. A Berlin customer's case waits on the customer over a weekend
that ends summer time (27 October 2024); a Sao Paulo case gets a higher priority
half-way, which brings a stricter policy while keeping the time already used.
`desk.tick` fires warnings, breaches and escalations as they fall due, once each,
and `desk.sla` explains every deadline step by step.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from servicekit import (
    Agent,
    BusinessCalendar,
    ChangePriority,
    Channel,
    Customer,
    Direction,
    FollowUpRules,
    ManualClock,
    Role,
    ServiceDesk,
    buying_cycle,
)
from servicekit.sla import Conditions, Metric, Policy, PolicySet, Target

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
BERLIN = BusinessCalendar(
    timezone="Europe/Berlin",
    hours={day: [("09:00", "17:30")] for day in WEEKDAYS},
    holidays=[date(2024, 10, 3), date(2024, 12, 25)],
)
SAO_PAULO = BusinessCalendar(
    timezone="America/Sao_Paulo",
    hours={day: [("08:00", "12:00"), ("13:00", "18:00")] for day in WEEKDAYS},
)


def policies() -> PolicySet:
    """Urgent cases anywhere first, then each team's standard promise on its own hours."""
    return PolicySet(
        [
            Policy(
                name="urgent",
                version=1,
                calendar=SAO_PAULO,
                conditions=Conditions(priorities={"urgent"}, tiers={"brazil"}),
                targets=[Target(Metric.FIRST_RESPONSE, "1h"), Target(Metric.RESOLUTION, "8h")],
                escalate_every="2h",
            ),
            Policy(
                name="brazil",
                version=3,
                calendar=SAO_PAULO,
                conditions=Conditions(tiers={"brazil"}),
                targets=[Target(Metric.FIRST_RESPONSE, "4h"), Target(Metric.RESOLUTION, "3bd")],
            ),
            Policy(
                name="germany",
                version=2,
                calendar=BERLIN,
                targets=[
                    Target(Metric.FIRST_RESPONSE, "4h"),
                    Target(Metric.NEXT_RESPONSE, "8h"),
                    Target(Metric.RESOLUTION, "2 business days"),
                ],
            ),
        ]
    )


def main() -> None:
    """Play both cases and print their SLA reports and the timers that fired."""
    clock = ManualClock(datetime(2024, 10, 25, 13, 0, tzinfo=UTC))  # Friday, 15:00 in Berlin
    workflow = buying_cycle(follow_ups=FollowUpRules(calendar=BERLIN, reopen_stage="in_service"))
    desk = ServiceDesk(workflow=workflow, clock=clock, sla=policies())
    desk.register_agent(Agent("hanna", teams={"berlin"}))
    desk.register_agent(Agent("jonas", teams={"berlin"}, roles={Role.AGENT, Role.SUPERVISOR}))
    desk.register_agent(Agent("lucas", teams={"sao_paulo"}))
    lena, rafael = Customer("lena"), Customer("rafael")

    desk.open_case(
        actor=lena,
        customer_id="lena",
        channel=Channel.EMAIL,
        summary="The invoice shows the wrong VAT rate",
        case_id="B-1",
    )
    desk.take("B-1", actor="hanna")
    desk.start_service("B-1", actor="hanna")
    clock.advance(timedelta(hours=1))
    desk.record_interaction(
        "B-1",
        actor="hanna",
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        summary="Which invoice number?",
    )
    desk.wait_on_customer("B-1", actor="hanna")  # over the weekend, and out of summer time
    clock.set(datetime(2024, 10, 28, 10, 0, tzinfo=UTC))  # Monday 11:00 in Berlin (UTC+1 now)
    desk.record_interaction(
        "B-1",
        actor=lena,
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        summary="Invoice 2024-117",
    )
    desk.resume("B-1", actor="hanna")

    desk.open_case(
        actor=rafael,
        customer_id="rafael",
        channel=Channel.CHAT,
        summary="The card reader rejects every card",
        case_id="S-1",
        tier="brazil",
    )
    desk.take("S-1", actor="lucas")
    desk.start_service("S-1", actor="lucas")
    clock.advance(timedelta(hours=2))
    desk.execute(
        "S-1",
        ChangePriority(
            actor=desk.agent("lucas"), priority="urgent", reason="the shop cannot take payments"
        ),
    )
    clock.advance(timedelta(hours=3))
    for outcome in desk.tick():
        for event in outcome.events:
            print(f"tick: {event.case_id} {event.describe()}")

    for case_id in ("B-1", "S-1"):
        print()
        print(desk.sla(case_id))
    print(f"\nNext timer due: {desk.next_due():%Y-%m-%d %H:%M}Z")


if __name__ == "__main__":
    main()
