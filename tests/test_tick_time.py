"""`tick(now)`: the time a tick judges by, and how it shows in the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from servicekit import (
    Agent,
    Channel,
    Direction,
    FollowUpDue,
    ManualClock,
    ServiceDesk,
    buying_cycle,
)
from servicekit.stores import Store

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_tick_ahead_of_the_clock_stamps_its_events_with_its_now_and_later_ones_follow(
    any_store: Store,
) -> None:
    store = any_store  # memory, SQLite and PostgreSQL (see conftest.py)
    desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=ManualClock(START))
    desk.register_agent(Agent("bo"))
    desk.open_case(actor="bo", customer_id="ivy", channel=Channel.WEB, summary="s", case_id="k")
    desk.schedule_follow_up("k", actor="bo", due=START + timedelta(hours=1), reason="call")
    ahead = START + timedelta(hours=2)  # how a test drives time without moving the clock

    report = desk.tick(ahead)
    assert [(type(event), event.at) for event in report.events] == [(FollowUpDue, ahead)]
    noted = desk.record_interaction(  # the clock still reads START
        "k", actor="bo", channel=Channel.WEB, direction=Direction.OUTBOUND, summary="called"
    )
    assert noted.events[0].at == ahead  # a history never goes back in time
