"""A support team's morning on the service desk, with the clock moving on.

Run it with ``python examples/helpdesk.py``. Agents are registered with the
`ServiceDesk` and act by id. Customers write in on the web, chat and social media;
agents take cases from intake; one customer emails and then calls about one
problem; a transfer carries a handoff note and the receiving agent reads the
briefing; a case waits on the customer; cases are resolved and followed up; and a
supervisor closes a case whose follow-up is still open, giving a reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from servicekit import (
    Agent,
    Channel,
    Customer,
    Direction,
    FollowUpOutcome,
    InMemoryStore,
    ManualClock,
    Role,
    ServiceDesk,
    Survey,
    buying_cycle,
)


def main() -> None:
    """Play a morning on the desk and print what the team sees."""
    clock = ManualClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    desk = ServiceDesk(workflow=buying_cycle(), store=InMemoryStore(), clock=clock)
    for agent_id in ("ana", "bo", "cy"):
        desk.register_agent(Agent(agent_id, teams={"service"}))
    desk.register_agent(Agent("dee", teams={"service"}, roles={Role.AGENT, Role.SUPERVISOR}))
    ivy, tom, lu = Customer("ivy"), Customer("tom"), Customer("lu")

    def heading(minutes: int, title: str) -> None:
        """Let `minutes` pass, then announce what happens next."""
        now = clock.advance(timedelta(minutes=minutes))
        print(f"\n== {now:%H:%M} {title}")

    heading(5, "Customers write in; their cases wait in intake")
    for case_id, customer, channel, need in (
        ("T-101", ivy, Channel.WEB, "Router drops the Wi-Fi every evening"),
        ("T-102", tom, Channel.CHAT, "My March invoice was charged twice"),
        ("T-103", lu, Channel.SOCIAL, "Parcel with the new modem is a week late"),
    ):
        desk.open_case(
            actor=customer, customer_id=customer.id, channel=channel, summary=need, case_id=case_id
        )
    for summary in desk.cases_in_stage("enquiry"):
        print(f"{summary.case_id} from {summary.customer_id}, owner: {summary.owner_id or '-'}")

    heading(10, "Agents take cases from intake and start service")
    for case_id, agent_id in (("T-101", "ana"), ("T-102", "bo"), ("T-103", "cy")):
        desk.take(case_id, actor=agent_id)
        case = desk.start_service(case_id, actor=agent_id).case
        print(f"{case_id}: {case.stage}, owned by {agent_id}")

    heading(20, "Ivy writes by email, then calls about the same problem")
    desk.record_interaction(
        "T-101",
        actor=ivy,
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        summary="Sends router logs: the drops start at about 19:00",
    )
    clock.advance(timedelta(minutes=25))
    desk.record_interaction(
        "T-101",
        actor="ana",
        channel=Channel.PHONE,
        direction=Direction.INBOUND,
        summary="Called: still dropping after last night's firmware update",
    )
    print("ana recorded the email and the call on T-101")

    heading(5, "Ana transfers T-101 to cy for a line test; cy reads the briefing")
    desk.transfer(
        "T-101",
        actor="ana",
        to="cy",
        handoff_note=(
            "Firmware updated, drops go on from 19:00; logs in the email. Please test the line."
        ),
    )
    print(desk.briefing("T-101"))

    heading(5, "Each agent's queue")
    print_queues(desk)

    heading(10, "Bo waits on tom for a bank statement, then goes on")
    case = desk.wait_on_customer("T-102", actor="bo", reason="asked for a bank statement").case
    print(f"T-102 is {case.stage}")
    clock.advance(timedelta(minutes=40))
    desk.record_interaction(
        "T-102",
        actor=tom,
        channel=Channel.CHAT,
        direction=Direction.INBOUND,
        summary="Here is the statement: two debits of 49.90 EUR",
    )
    print(f"tom answered on chat; T-102 is {desk.resume('T-102', actor='bo').case.stage} again")

    heading(15, "Cases resolved and moved to follow-up")
    desk.resolve("T-102", actor="bo", reason="refunded the second debit")
    desk.resolve("T-103", actor="cy", reason="courier found the parcel; delivered today")
    for case_id, agent_id in (("T-102", "bo"), ("T-103", "cy")):
        case = desk.start_follow_up(case_id, actor=agent_id).case
        due = ", ".join(f"{f.assignee.id} by {f.due:%a %H:%M}" for f in case.open_follow_ups)
        print(f"{case_id}: {case.stage}; follow-up for {due}")

    heading(30, "Bo follows up with tom and closes T-102")
    follow_up = desk.case("T-102").open_follow_ups[0]
    desk.complete_follow_up(
        "T-102",
        follow_up.follow_up_id,
        actor="bo",
        outcome=FollowUpOutcome.SERVED,
        note="refund arrived",
    )
    desk.record_feedback(
        "T-102", actor=tom, survey=Survey.CSAT, score=5, comment="sorted within the morning"
    )
    print(f"T-102 is {desk.close('T-102', actor='bo').case.stage}")

    heading(5, "Lu confirmed on social; supervisor dee closes T-103 with its follow-up open")
    outcome = desk.close(
        "T-103", actor="dee", reason="customer confirmed delivery publicly; no call needed"
    )
    for event in outcome.events:
        print(event)

    heading(10, "Where the morning ends")
    print_cases(desk)


def print_queues(desk: ServiceDesk) -> None:
    """Print, for every agent, the cases they own and the cases they are steward of."""
    for agent in desk.agents():
        owned = ", ".join(f"{s.case_id} ({s.stage})" for s in desk.cases_owned_by(agent.id))
        stewarded = ", ".join(s.case_id for s in desk.cases_stewarded_by(agent.id))
        print(f"{agent.id}: owns {owned or 'nothing'}; steward of {stewarded or 'nothing'}")


def print_cases(desk: ServiceDesk) -> None:
    """Print every case with its stage, owner and open follow-ups."""
    for summary in desk.cases():
        case = desk.case(summary.case_id)
        waiting = ", ".join(f"{f.assignee.id}: {f.reason}" for f in case.open_follow_ups)
        owner = summary.owner_id
        print(f"{case.case_id}: {case.stage}, owner {owner}; follow-ups: {waiting or 'none'}")


if __name__ == "__main__":
    main()
