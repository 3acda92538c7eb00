"""A sales pipeline on the service desk: enquiries, bargaining, won and lost deals, handover.

Run it with ``python examples/sales_pipeline.py``. Two sales agents work four
enquiries, one of them proactive outreach by the company. Offers and the
customers' counter-offers are exact `Decimal` amounts; a deal is won once an offer
is accepted, and a lost deal records why. The won desks order goes to after-sales
service: the sales agent transfers it to a service agent with a handoff note,
stays its steward and gets the follow-up. A pipeline report ends the run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from servicekit import (
    Agent,
    Channel,
    Customer,
    Direction,
    InMemoryStore,
    ManualClock,
    Offer,
    Party,
    ServiceDesk,
    StageChanged,
    buying_cycle,
)


def main() -> None:
    """Run the pipeline for a week and print the report."""
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    desk = ServiceDesk(workflow=buying_cycle(), store=InMemoryStore(), clock=clock)
    desk.register_agent(Agent("sam", teams={"sales"}))
    desk.register_agent(Agent("ria", teams={"sales"}))
    desk.register_agent(Agent("bo", teams={"service"}))
    acme, bel, cor = Customer("acme"), Customer("bel"), Customer("cor")

    def heading(hours: int, title: str) -> None:
        """Let `hours` pass, then announce what happens next."""
        now = clock.advance(timedelta(hours=hours))
        print(f"\n== {now:%a %H:%M} {title}")

    heading(0, "Enquiries: two inbound, two from the company's own outreach")
    desk.open_case(
        actor="sam",
        customer_id=acme.id,
        channel=Channel.PHONE,
        case_id="S-1",
        summary="Wants 20 standing desks for the new office",
    )
    desk.open_case(
        actor="ria",
        customer_id=bel.id,
        channel=Channel.EMAIL,
        case_id="S-2",
        direction=Direction.OUTBOUND,
        summary="Their 50 chair leases end in April: renew?",
    )
    desk.open_case(
        actor=cor,
        customer_id=cor.id,
        channel=Channel.WEB,
        case_id="S-3",
        summary="Quote for 6 meeting-room chairs",
    )
    desk.take("S-3", actor="ria")  # the web form lands in intake; ria takes it
    desk.open_case(
        actor="sam",
        customer_id="dov",
        channel=Channel.PHONE,
        case_id="S-4",
        direction=Direction.OUTBOUND,
        summary="Met at the trade fair; interested in phone booths",
    )
    for case_id in ("S-1", "S-2", "S-3", "S-4"):
        first = desk.case(case_id).interactions[0]
        print(f"{case_id}: {first.direction.value} {first.channel}, {first.summary}")

    heading(3, "S-1: offer, counter-offer, a better offer, accepted: won")
    desk.negotiate("S-1", actor="sam")
    desk.make_offer("S-1", actor="sam", amount=Decimal("9800.00"), currency="EUR")
    desk.make_offer(  # acme's counter-offer, by phone: sam records it
        "S-1", actor="sam", party=Party.CUSTOMER, amount=Decimal("9000.00"), currency="EUR"
    )
    desk.make_offer(
        "S-1", actor="sam", amount=Decimal("9300.00"), currency="EUR", terms="delivery in May"
    )
    desk.accept_offer("S-1", 3, actor=acme)
    case = desk.win("S-1", actor="sam").case
    print_offers(case.offers)

    heading(5, "S-2: the offer is rejected, the counter-offer too low: lost")
    desk.negotiate("S-2", actor="ria")
    desk.make_offer("S-2", actor="ria", amount=Decimal("4200.00"), currency="EUR")
    desk.reject_offer("S-2", 1, actor=bel, reason="a competitor asks 3,600")
    desk.make_offer(
        "S-2", actor="ria", party=Party.CUSTOMER, amount=Decimal("3600.00"), currency="EUR"
    )
    desk.reject_offer("S-2", 2, actor="ria", reason="below our cost")
    case = desk.lose("S-2", actor="ria", reason="chose a competitor on price").case
    print_offers(case.offers)

    heading(2, "S-3: ria accepts the customer's counter-offer: won")
    desk.negotiate("S-3", actor="ria")
    desk.make_offer("S-3", actor="ria", amount=Decimal("1500.00"), currency="EUR")
    desk.make_offer(
        "S-3", actor="ria", party=Party.CUSTOMER, amount=Decimal("1380.00"), currency="EUR"
    )
    desk.accept_offer("S-3", 2, actor="ria")
    print_offers(desk.win("S-3", actor="ria").case.offers)

    heading(20, "S-1 goes to after-sales service: sam hands it to bo, who reads the briefing")
    desk.start_service("S-1", actor="sam")
    desk.transfer(
        "S-1",
        actor="sam",
        to="bo",
        handoff_note=(
            "20 desks at 9,300 EUR; deliver in May to the 3rd floor, loading dock at the back"
        ),
    )
    print(desk.briefing("S-1"))  # bo owns it now; sam stays steward and follows up

    heading(1, "Pipeline")
    print_report(desk)


def print_offers(offers: tuple[Offer, ...]) -> None:
    """Print each offer of a case and where it stands."""
    for offer in offers:
        because = f" ({offer.answer})" if offer.answer else ""
        print(f"  {offer}: {offer.status.value}{because}")


def print_report(desk: ServiceDesk) -> None:
    """Print every case with its stage, owner, steward and accepted offer; then the total won."""
    total = Decimal(0)
    print(f"{'case':5} {'customer':9} {'stage':11} {'owner':6} {'steward':8} accepted")
    for summary in desk.cases():
        case = desk.case(summary.case_id)
        offer = case.accepted_offer
        price = f"{offer.amount} {offer.currency}" if offer else "-"
        print(
            f"{case.case_id:5} {summary.customer_id:9} {summary.stage:11} "
            f"{summary.owner_id or '-':6} {summary.steward_id or '-':8} {price}"
        )
        # A won sale may have moved on to service: the history tells whether it was won.
        history = desk.history(case.case_id)
        won = any(isinstance(event, StageChanged) and event.dest == "won" for event in history)
        if won and offer is not None:
            total += offer.amount
    print(f"total value won: {total} EUR")


if __name__ == "__main__":
    main()
