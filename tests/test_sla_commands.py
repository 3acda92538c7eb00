"""Priorities, explicit SLA pauses and fired timers: who may, and what they record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import ANA, BO, BOT, CUSTOMER, START, Play

from servicekit import (
    FollowUpOutcome,
    InvalidTransition,
    InvalidValue,
    Move,
    NotPermitted,
    PriorityChanged,
    SlaBreached,
    SlaEscalated,
    SlaWarned,
    TransferCase,
)
from servicekit.commands import (
    ChangePriority,
    CompleteFollowUp,
    FireTimers,
    PauseSla,
    ResumeSla,
)
from servicekit.timers import Timer, TimerKind


def test_a_case_opens_with_a_priority_and_a_tier(play: Play) -> None:
    play.open(ANA, priority="high", tier="gold")
    assert (play.case.priority, play.case.tier) == ("high", "gold")


def test_the_owner_changes_the_priority(play: Play) -> None:
    play.open(ANA)
    (changed,) = play(ChangePriority(actor=ANA, priority="urgent", reason="outage"))
    assert isinstance(changed, PriorityChanged)
    assert (changed.priority, changed.reason) == ("urgent", "outage")
    assert play.case.priority == "urgent"
    with pytest.raises(InvalidTransition, match="'urgent' already"):
        play.attempt(ChangePriority(actor=ANA, priority="urgent"))
    with pytest.raises(NotPermitted):
        play.attempt(ChangePriority(actor=CUSTOMER, priority="low"))


def test_sla_clocks_pause_and_resume_once_each(play: Play) -> None:
    play.to_stage("in_service", owner=ANA)
    play(PauseSla(actor=ANA, reason="waiting for the vendor"))
    assert play.case.record.sla_paused
    with pytest.raises(InvalidTransition, match="paused already"):
        play.attempt(PauseSla(actor=ANA, reason="again"))
    play(ResumeSla(actor=ANA))
    with pytest.raises(InvalidTransition, match="not paused"):
        play.attempt(ResumeSla(actor=ANA))
    with pytest.raises(NotPermitted):
        play.attempt(PauseSla(actor=BO, reason="not mine"))


def test_only_the_system_fires_timers(play: Play) -> None:
    play.to_stage("in_service", owner=ANA)
    due = START + timedelta(hours=4)
    timers = [
        Timer(TimerKind.WARNING, "first_response", due, deadline=due + timedelta(hours=1)),
        Timer(TimerKind.BREACH, "resolution", due),
        Timer(TimerKind.ESCALATION, "resolution", due, notify=ANA, level=1),
    ]
    with pytest.raises(NotPermitted, match="only the system"):
        play.attempt(FireTimers(actor=ANA, timers=timers))
    warned, breached, escalated = play(FireTimers(actor=BOT, timers=timers))
    assert isinstance(warned, SlaWarned)
    assert isinstance(breached, SlaBreached)
    assert isinstance(escalated, SlaEscalated)
    assert (escalated.level, escalated.notify) == (1, ANA)


def test_timers_are_checked_when_built() -> None:
    with pytest.raises(InvalidValue, match="level from 1 to 3"):
        Timer(TimerKind.ESCALATION, "resolution", START, level=4, notify=ANA)
    with pytest.raises(InvalidValue, match="only an escalation"):
        Timer(TimerKind.WARNING, "resolution", START, level=1)
    with pytest.raises(InvalidValue, match="one or more Timer"):
        FireTimers(actor=BOT, timers=[])


def test_only_an_open_unannounced_follow_up_is_announced(play: Play) -> None:
    from servicekit import FollowUpDue, UnknownReference  # noqa: PLC0415

    play.to_stage("in_service", owner=ANA)
    play(TransferCase(actor=ANA, to=BO, handoff_note="over"))
    due = Timer(TimerKind.FOLLOW_UP, "follow_up:1", START, notify=ANA, follow_up_id=1)
    (announced,) = play(FireTimers(actor=BOT, timers=[due]))
    assert isinstance(announced, FollowUpDue)
    assert play.case.follow_ups[0].notified
    with pytest.raises(UnknownReference, match="follow-up 1 is not open and waiting"):
        play.attempt(FireTimers(actor=BOT, timers=[due]))


def test_announcing_a_follow_up_leaves_the_others_unannounced(play: Play) -> None:
    play.to_stage("in_service", owner=ANA)
    play(TransferCase(actor=ANA, to=BO, handoff_note="over"))
    play(Move(actor=BO, trigger="resolve"))
    due = Timer(TimerKind.FOLLOW_UP, "follow_up:2", START, notify=ANA, follow_up_id=2)
    play(FireTimers(actor=BOT, timers=[due]))
    assert [(f.follow_up_id, f.notified) for f in play.case.follow_ups] == [(1, False), (2, True)]


def test_a_close_timer_needs_a_way_to_close(play: Play) -> None:
    play.to_stage("in_service", owner=ANA)
    with pytest.raises(InvalidTransition, match="no 'close' leaves this stage"):
        play.attempt(FireTimers(actor=BOT, timers=[Timer(TimerKind.CLOSE, "close", START)]))


def test_timers_fired_together_are_each_recorded_in_their_order(play: Play) -> None:
    # Rule: one FireTimers records every timer it carries, a close among the others.
    play.to_stage("resolved", owner=ANA)
    play(CompleteFollowUp(actor=ANA, follow_up_id=1, outcome=FollowUpOutcome.SERVED))
    breach = Timer(TimerKind.BREACH, "resolution", START)
    close = Timer(TimerKind.CLOSE, "close", START)
    kinds = [
        type(event).__name__
        for event in play.attempt(FireTimers(actor=BOT, timers=[breach, close]))
    ]
    assert kinds == ["SlaBreached", "StageChanged"]
    after = play.attempt(FireTimers(actor=BOT, timers=[close, breach]))
    assert [type(event).__name__ for event in after] == [*kinds[1:], "SlaBreached"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kind": TimerKind.FOLLOW_UP}, "names its follow-up and assignee"),
        ({"kind": TimerKind.FOLLOW_UP, "notify": ANA}, "names its follow-up and assignee"),
        ({"kind": TimerKind.BREACH, "follow_up_id": 1}, "names its follow-up and assignee"),
        ({"kind": TimerKind.WARNING, "notify": ANA}, "warning timer notifies nobody"),
        ({"kind": TimerKind.CLOSE, "notify": ANA}, "close timer notifies nobody"),
    ],
)
def test_a_timer_names_only_what_its_kind_needs(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        Timer(clock="c", due=START, **options)  # type: ignore[arg-type]
