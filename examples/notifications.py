"""Tell customers when their case changes hands: an outbox consumer with a stored checkpoint.

Run it with ``python examples/notifications.py``. The desk keeps its cases in an
SQLite file; a notifier reads every event in order with `servicekit.deliver`
and sends "your case was transferred to ..." through a (fake) mailer. The mail
server fails once: the checkpoint stays before that event, so the next run sends
it again and nothing is lost.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from servicekit import (
    Agent,
    CaseTransferred,
    Channel,
    Customer,
    ManualClock,
    ServiceDesk,
    SQLiteStore,
    StoredEvent,
    buying_cycle,
    deliver,
)


class FakeMailer:
    """Collects messages instead of sending them; fails on the first message if told to."""

    def __init__(self, *, fail_once: bool) -> None:
        """Start with an empty outbox."""
        self.sent: list[str] = []
        self._fail = fail_once

    def send(self, to: str, text: str) -> None:
        """Send one message (or fail, once)."""
        if self._fail:
            self._fail = False
            message = "the mail server did not answer"
            raise ConnectionError(message)
        self.sent.append(f"to {to}: {text}")


def notifier(desk: ServiceDesk, mailer: FakeMailer) -> Callable[[StoredEvent], None]:
    """A handler that mails the customer whenever their case is transferred."""

    def handle(item: StoredEvent) -> None:
        event = item.event
        if isinstance(event, CaseTransferred):
            customer = desk.case(event.case_id).customer_id
            mailer.send(
                f"{customer}@example.com",
                f"your case {event.case_id} is now with {event.to_owner.id}, who has the full "
                "story: no need to repeat it.",
            )

    return handle


def main() -> None:
    """Run the desk on an SQLite file, transfer two cases, and notify with one retry."""
    with tempfile.TemporaryDirectory() as folder:
        clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        store = SQLiteStore(Path(folder) / "desk.sqlite")
        desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=clock)
        for agent_id in ("bo", "cy"):
            desk.register_agent(Agent(agent_id, teams={"service"}))
        for case_id, customer in [("T-1", "ivy"), ("T-2", "tom")]:
            desk.open_case(
                actor=Customer(customer),
                customer_id=customer,
                channel=Channel.WEB,
                summary="help",
                case_id=case_id,
            )
            desk.take(case_id, actor="bo")
            desk.start_service(case_id, actor="bo")
            clock.advance(timedelta(minutes=10))
            desk.transfer(case_id, actor="bo", to="cy", handoff_note="cy knows this model")

        mailer = FakeMailer(fail_once=True)
        handler = notifier(desk, mailer)
        try:
            deliver(store, "mailer", handler)
        except ConnectionError as error:
            print(f"first run stopped: {error}; checkpoint at {store.checkpoint('mailer')}")
        print(f"second run handed over {deliver(store, 'mailer', handler)} events")
        print(*mailer.sent, sep="\n")
        store.close()


if __name__ == "__main__":
    main()
