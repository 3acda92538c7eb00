"""A morning at a contact centre: chats, calls and emails routed across a small team.

Four agents with languages and capacities per channel; contacts arrive every few
minutes from 08:00. The chat queue builds when everyone is busy, drains as agents
wait on customers or resolve cases, an agent's coffee break holds back their
share, and a chat nobody answers in five minutes goes to someone else.

Run it: ``python examples/contact_centre.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from servicekit import (
    Agent,
    Availability,
    BusinessCalendar,
    Channel,
    Customer,
    Direction,
    ManualClock,
    Routing,
    ServiceDesk,
    buying_cycle,
)

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
OFFICE = {day: [("08:00", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
TEAM = (
    Agent("ana", skills={"de", "en"}, capacity={"chat": 2, "phone": 1}),
    Agent("bo", skills={"en"}, capacity={"chat": 2, "phone": 1}),
    Agent("cy", skills={"en", "fr"}, capacity={"chat": 2, "phone": 1}),
    Agent("dee", skills={"de"}, capacity={"chat": 1, "phone": 1, "email": 10}),
)
# (minutes after 08:00, customer, channel, language, what they need)
CONTACTS: tuple[tuple[int, str, Channel, str, str], ...] = (
    (0, "c01", Channel.CHAT, "en", "Where is my parcel?"),
    (2, "c02", Channel.CHAT, "de", "Rechnung doppelt erhalten"),
    (3, "c03", Channel.PHONE, "en", "Cancel my order"),
    (5, "c04", Channel.CHAT, "fr", "Changer l'adresse de livraison"),
    (6, "c05", Channel.EMAIL, "de", "Bitte Angebot für 20 Stühle"),
    (8, "c06", Channel.CHAT, "en", "Discount code does not work"),
    (9, "c07", Channel.CHAT, "en", "Wrong size delivered"),
    (10, "c08", Channel.CHAT, "de", "Lieferung beschädigt"),
    (11, "c09", Channel.CHAT, "en", "Can I pay by invoice?"),
    (12, "c10", Channel.PHONE, "de", "Rückruf wegen Reklamation"),
    (14, "c11", Channel.CHAT, "en", "Track my return"),
    (15, "c12", Channel.CHAT, "fr", "Remboursement en attente"),
)
QUIET = {"cy"}  # cy is on a training call and does not answer chats this morning


class Morning:
    """The desk, the clock and the cases of the morning, with what people do."""

    def __init__(self) -> None:
        """A routing desk on the office calendar, with the team registered."""
        self.clock = ManualClock(START)
        calendar = BusinessCalendar(timezone="Europe/Berlin", hours=OFFICE)
        self.desk = ServiceDesk(
            workflow=buying_cycle(),
            clock=self.clock,
            routing=Routing(answer_minutes=5, grace_minutes=10, calendar=calendar),
        )
        for agent in TEAM:
            self.desk.register_agent(agent)
        self.cases: dict[str, str] = {}
        self.minute = 0

    def say(self, what: str) -> None:
        """Print what happened, at the time it happened."""
        print(f"{START + timedelta(minutes=self.minute):%H:%M}  {what}")

    def owner(self, case_id: str) -> str:
        """Who owns the case, or "queue"."""
        case = self.desk.case(case_id)
        return "queue" if case.owner is None else case.owner.id

    def arrive(self, customer: str, channel: Channel, language: str, summary: str) -> None:
        """A customer gets in touch: routing assigns the case in the same append, or queues it."""
        outcome = self.desk.open_case(
            actor=Customer(customer),
            customer_id=customer,
            channel=channel,
            summary=summary,
            skills={language},
        )
        self.cases[customer] = outcome.case.case_id
        self.say(f"{channel} from {customer} ({language}) -> {self.owner(outcome.case.case_id)}")

    def answer_everything(self) -> None:
        """Every owner except the quiet ones answers the cases routed to them."""
        for customer, case_id in self.cases.items():
            case = self.desk.case(case_id)
            if case.owner is None or case.owner.id in QUIET or len(case.interactions) > 1:
                continue
            self.desk.record_interaction(
                case_id,
                actor=case.owner.id,
                channel=case.interactions[0].channel,
                direction=Direction.OUTBOUND,
                summary=f"Hello {customer}, I am on it",
            )
            self.say(f"{case.owner.id} answers {customer}")

    def wait_on(self, customer: str) -> None:
        """The owner hands the case to service and waits on the customer: a place frees."""
        case_id = self.cases[customer]
        agent = self.owner(case_id)
        self.desk.start_service(case_id, actor=agent)
        self.desk.wait_on_customer(case_id, actor=agent, reason="sent the customer a fix")
        self.say(f"{agent} waits on {customer}: a place frees on their channel")

    def presence(self, agent: str, availability: Availability) -> None:
        """An agent steps away, or comes back (and is offered the queue at once)."""
        self.desk.set_availability(agent, availability)
        self.say(f"{agent} is {availability.value}")

    def tick(self) -> None:
        """The minute's timers: chats nobody answered go back to the queue and on."""
        for returned in self.desk.tick().fired:
            case = returned.case
            self.say(f"{case.customer_id} was not answered -> {self.owner(case.case_id)}")
        queue = self.desk.routing_queue()
        if queue:
            waiting = ", ".join(self.desk.case(q.case_id).customer_id or "" for q in queue)
            self.say(f"queue: {waiting}")


def main() -> None:
    """Play the morning minute by minute, printing what routing does, then who holds what."""
    morning = Morning()
    arrivals = {contact[0]: contact[1:] for contact in CONTACTS}
    events = {
        7: lambda: morning.presence("bo", Availability.AWAY),
        13: lambda: morning.wait_on("c01"),
        16: lambda: morning.wait_on("c02"),
        18: lambda: morning.presence("bo", Availability.AVAILABLE),
        20: lambda: morning.wait_on("c06"),
    }
    for minute in range(25):
        morning.minute = minute
        morning.clock.set(START + timedelta(minutes=minute))
        if minute in arrivals:
            morning.arrive(*arrivals[minute])
        if minute in events:
            events[minute]()
        morning.tick()
        morning.answer_everything()

    print("\nWho holds what at 08:25:")
    for agent in TEAM:
        held = [c for c, case_id in morning.cases.items() if morning.owner(case_id) == agent.id]
        print(f"  {agent.id}: {', '.join(held) or 'nothing'}")
    waiting = [c for c, case_id in morning.cases.items() if morning.owner(case_id) == "queue"]
    print(f"  queue: {', '.join(waiting) or 'empty'}")
    print("\nWhy c12 is still waiting:")
    print(morning.desk.routing_explanation(morning.cases["c12"]))


if __name__ == "__main__":
    main()
