"""One customer, walked through the whole buying cycle, with a transfer on the way.

Run it with ``python examples/quickstart.py``. It uses the pure core only:
`decide` turns a command into events, `evolve` folds them into the case, and the
history is printed at the end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from servicekit import (
    AcceptOffer,
    Agent,
    Case,
    Channel,
    Command,
    CompleteFollowUp,
    Customer,
    Direction,
    Event,
    FollowUpOutcome,
    MakeOffer,
    Move,
    OpenCase,
    RecordFeedback,
    RecordInteraction,
    Survey,
    TransferCase,
    buying_cycle,
    decide,
    evolve,
)


def main() -> None:
    """Walk case "case-1" from enquiry to closed and print its history."""
    workflow = buying_cycle()
    ana = Agent("ana", teams={"sales"})
    bo = Agent("bo", teams={"service"})
    customer = Customer("cust-42")

    case = Case(workflow, "case-1")
    history: list[Event] = []
    clock = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def act(command: Command) -> None:
        nonlocal case, clock
        clock += timedelta(minutes=30)
        events = decide(case, command, now=clock)
        for event in events:
            case = evolve(case, event)
        history.extend(events)

    act(
        OpenCase(
            actor=ana,
            customer_id=customer.id,
            channel=Channel.PHONE,
            summary="Wants 20 standing desks for the new office",
        )
    )
    act(Move(actor=ana, trigger="negotiate"))
    act(MakeOffer(actor=ana, amount=Decimal("9800.00"), currency="EUR", terms="delivery in May"))
    act(
        RecordInteraction(
            actor=customer,
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            summary="Asks for 10% off",
        )
    )
    act(MakeOffer(actor=ana, amount=Decimal("9300.00"), currency="EUR", terms="delivery in May"))
    act(AcceptOffer(actor=customer, offer_id=2))
    act(Move(actor=ana, trigger="win"))
    act(Move(actor=ana, trigger="start_service"))
    act(
        TransferCase(
            actor=ana,
            to=bo,
            handoff_note="20 desks, 9,300 EUR agreed; deliver in May to the 3rd floor",
        )
    )
    act(
        RecordInteraction(
            actor=customer,
            channel=Channel.CHAT,
            direction=Direction.INBOUND,
            summary="Two desks wobble",
        )
    )
    act(Move(actor=bo, trigger="resolve", reason="sent a technician to tighten the frames"))
    act(Move(actor=bo, trigger="follow_up"))
    for follow_up in case.open_follow_ups:
        act(
            CompleteFollowUp(
                actor=ana,
                follow_up_id=follow_up.follow_up_id,
                outcome=FollowUpOutcome.SERVED,
                note="customer is happy",
            )
        )
    act(RecordFeedback(actor=customer, survey=Survey.CSAT, score=5, comment="quick and friendly"))
    act(Move(actor=bo, trigger="close"))

    owner = case.owner.id if case.owner else "-"
    steward = case.steward.id if case.steward else "-"
    print(f"case {case.case_id} is {case.stage}; owner {owner}, steward {steward}\n")
    for event in history:
        print(event)


if __name__ == "__main__":
    main()
