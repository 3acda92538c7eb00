"""One test for each rule a mutation run could break unnoticed (issue 15).

Each test states one rule, drives the case to the one place where the rule
decides, and checks what a user would see; each was checked by breaking its
rule by hand and watching it fail under ``CI=1``.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import ANA, BO, BOT, CUSTOMER, START, STRANGER, SUE, Play

from servicekit import (
    Agent,
    Channel,
    CompleteFollowUp,
    FireTimers,
    FollowUpOutcome,
    FollowUpRules,
    FollowUpScheduled,
    IncompatibleStore,
    MakeOffer,
    ManualClock,
    Move,
    NotPermitted,
    OfferMade,
    OpenCase,
    OwnershipViolation,
    PauseSla,
    ResumeSla,
    ScheduleFollowUp,
    ServiceDesk,
    SlaResumed,
    StageChanged,
    Timer,
    TimerKind,
    TransferCase,
    buying_cycle,
)
from servicekit.serialization import event_from_dict, event_to_dict
from servicekit.stores import SQLiteStore, Store
from servicekit.stores.sqlite import SCHEMA_VERSION


def test_only_those_who_may_steer_the_case_make_offers(play: Play) -> None:
    play.to_stage("negotiation", owner=ANA)  # ana is in sales; bo is in service
    with pytest.raises(NotPermitted, match="only the owner, a supervisor"):
        play.attempt(MakeOffer(actor=BO, amount=Decimal("90.00"), currency="EUR"))
    assert play.case.offers == ()
    (made,) = play(MakeOffer(actor=ANA, amount=Decimal("90.00"), currency="EUR"))
    assert isinstance(made, OfferMade)


def test_only_those_who_may_steer_the_case_resume_sla_clocks(play: Play) -> None:
    play.to_stage("in_service", owner=ANA)
    play(PauseSla(actor=ANA, reason="waiting for the courier"))
    with pytest.raises(NotPermitted, match="only the owner, a supervisor"):
        play.attempt(ResumeSla(actor=BO))
    assert play.case.record.sla_paused
    (resumed,) = play(ResumeSla(actor=ANA))
    assert isinstance(resumed, SlaResumed)


def test_an_inactive_owner_cannot_move_the_case(play: Play) -> None:
    # The owner's quick path must not take a deactivated copy of the owner for the owner.
    play.to_stage("in_service", owner=ANA)
    departed = Agent(ANA.id, teams=ANA.teams, roles=ANA.roles, active=False)
    with pytest.raises(NotPermitted, match="inactive"):
        play.attempt(Move(actor=departed, trigger="wait_on_customer"))


def test_a_follow_up_scheduled_v1_event_upcasts_with_attempt_1(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    scheduled = play.history[-1]
    assert isinstance(scheduled, FollowUpScheduled)
    later = FollowUpScheduled(
        scheduled.case_id,
        scheduled.version,
        scheduled.at,
        scheduled.actor,
        follow_up_id=scheduled.follow_up_id,
        assignee=scheduled.assignee,
        due=scheduled.due,
        reason=scheduled.reason,
        attempt=3,
    )
    stored = event_to_dict(later)
    version_1 = {
        **stored,
        "schema_version": 1,
        "payload": {k: v for k, v in stored["payload"].items() if k != "attempt"},
    }
    loaded = event_from_dict(version_1)
    assert isinstance(loaded, FollowUpScheduled)
    assert loaded.attempt == 1
    assert loaded.follow_up_id == scheduled.follow_up_id


def test_no_answer_closes_the_case_only_when_no_other_follow_up_is_open() -> None:
    play = Play(buying_cycle(follow_ups=FollowUpRules(no_answer_attempts=1)))
    play.to_stage("resolved", owner=ANA)  # follow-up 1, for the steward
    play(ScheduleFollowUp(actor=ANA, due=play.now + timedelta(days=2), reason="ask about fit"))
    events = play(CompleteFollowUp(actor=ANA, follow_up_id=1, outcome=FollowUpOutcome.NO_ANSWER))
    assert not any(isinstance(event, StageChanged) for event in events)
    assert play.case.stage == "resolved"
    # With the last open one unanswered, the case closes.
    play(CompleteFollowUp(actor=ANA, follow_up_id=2, outcome=FollowUpOutcome.NO_ANSWER))
    assert play.case.stage == "closed"


def test_only_the_customer_or_someone_who_may_steer_reopens_a_finished_case(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    play(CompleteFollowUp(actor=ANA, follow_up_id=1, outcome=FollowUpOutcome.SERVED))
    play(Move(actor=ANA, trigger="close"))
    assert play.case.is_finished
    for outsider in (BO, STRANGER):
        with pytest.raises(NotPermitted):
            play.attempt(Move(actor=outsider, trigger="reopen"))
    (reopened,) = play(Move(actor=CUSTOMER, trigger="reopen"))
    assert isinstance(reopened, StageChanged)
    assert play.case.stage == "in_service"


def test_only_the_steward_or_someone_who_may_steer_schedules_follow_ups(play: Play) -> None:
    play.to_stage("in_service", owner=ANA)
    due = play.now + timedelta(days=3)
    for outsider in (BO, CUSTOMER):
        with pytest.raises(NotPermitted):
            play.attempt(ScheduleFollowUp(actor=outsider, due=due, reason="call back"))
    play(TransferCase(actor=ANA, to=SUE, handoff_note="wants a refund; receipt attached"))
    # Ana no longer owns the case, but stays its steward and still follows it up.
    (scheduled,) = play(ScheduleFollowUp(actor=ANA, due=due, reason="call back"))
    assert isinstance(scheduled, FollowUpScheduled)
    assert scheduled.assignee == ANA


def test_a_refusal_on_a_stale_cached_case_is_decided_again_on_the_stored_case(
    any_store: Store,
) -> None:
    store = any_store  # memory, SQLite and PostgreSQL (see conftest.py)
    clock = ManualClock(START)
    caching, other = (ServiceDesk(workflow=buying_cycle(), store=store, clock=clock) for _ in "ab")
    for agent in (ANA, BO):
        caching.register_agent(agent)
    opening = OpenCase(actor=ANA, customer_id=CUSTOMER.id, channel=Channel.WEB, summary="help")
    caching.execute("case-1", opening)
    caching.execute("case-1", Move(actor=ANA, trigger="start_service"))
    clock.advance(timedelta(minutes=5))
    other.execute("case-1", TransferCase(actor=ANA, to=BO, handoff_note="bo knows printers"))
    clock.advance(timedelta(minutes=5))
    # In the caching desk's memory ana still owns the case, so bo's move is refused there.
    outcome = caching.execute("case-1", Move(actor=BO, trigger="resolve"))
    assert outcome.case.stage == "resolved"
    assert outcome.case.owner == BO
    assert store.load("case-1").version == outcome.case.version


def test_a_file_whose_newer_schema_is_still_in_the_write_ahead_log_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite"
    SQLiteStore(path).close()
    # Another program sets a newer schema; while it keeps the file open the change lives
    # in the write-ahead log, and the header on disk still shows this version's schema.
    with closing(sqlite3.connect(path, isolation_level=None)) as writer:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        assert int.from_bytes(path.read_bytes()[60:64], "big") == SCHEMA_VERSION
        with pytest.raises(IncompatibleStore, match="newer servicekit"):
            SQLiteStore(path)
        assert writer.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION + 1,)


def test_a_close_timer_never_closes_a_case_with_an_open_follow_up(play: Play) -> None:
    # Found by the stateful test's model: the system never waives a follow-up.
    play.to_stage("resolved", owner=ANA)  # follow-up 1 is open
    close = FireTimers(actor=BOT, timers=[Timer(TimerKind.CLOSE, "close", play.now)])
    with pytest.raises(OwnershipViolation) as error:
        play.attempt(close)
    assert error.value.reason == (
        "the system does not close a case while a follow-up is open (follow-up 1); complete it "
        "first, or a supervisor of the owner's team may close the case with a recorded reason"
    )
    play(CompleteFollowUp(actor=ANA, follow_up_id=1, outcome=FollowUpOutcome.SERVED))
    (closed,) = play(close)
    assert isinstance(closed, StageChanged)
    assert play.case.stage == "closed"


def test_the_system_closes_a_served_case_saying_the_customer_confirmed_it(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    play(CompleteFollowUp(actor=ANA, follow_up_id=1, outcome=FollowUpOutcome.SERVED))
    (closed,) = play(FireTimers(actor=BOT, timers=[Timer(TimerKind.CLOSE, "close", play.now)]))
    assert isinstance(closed, StageChanged)
    assert (closed.trigger, closed.dest) == ("close", "closed")
    assert closed.reason == "the customer confirmed they were served"


def test_a_case_finished_without_an_owner_is_not_reopened_past_intake(play: Play) -> None:
    # Found by the stateful test's model: a timer may close an unowned enquiry, and the
    # customer's reopen would then leave an open case past intake without an owner.
    play.open(CUSTOMER)
    play(FireTimers(actor=BOT, timers=[Timer(TimerKind.CLOSE, "close", play.now)]))
    assert (play.case.stage, play.case.owner) == ("closed", None)
    with pytest.raises(OwnershipViolation, match="without an owner"):
        play.attempt(Move(actor=CUSTOMER, trigger="reopen"))


def test_a_customer_is_told_which_moves_are_theirs(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    with pytest.raises(NotPermitted) as error:
        play.attempt(Move(actor=CUSTOMER, trigger="close"))
    assert error.value.allowed == ("reopen",)


def test_the_system_names_every_follow_up_that_keeps_a_case_open(play: Play) -> None:
    play.to_stage("resolved", owner=ANA)
    play(ScheduleFollowUp(actor=ANA, due=play.now + timedelta(days=1), reason="call"))
    close = FireTimers(actor=BOT, timers=[Timer(TimerKind.CLOSE, "close", play.now)])
    with pytest.raises(OwnershipViolation, match=r"\(follow-up 1, 2\)") as error:
        play.attempt(close)
    assert error.value.allowed == ("complete follow-up 1", "complete follow-up 2")
