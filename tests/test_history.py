"""A case is the fold of its history: replay, time travel, and corrupt histories."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
from helpers import ANA, BO, START, Play

from servicekit import (
    CorruptHistory,
    InvalidValue,
    Move,
    TransferCase,
    Workflow,
    as_of,
    buying_cycle,
    evolve,
    replay,
)


@pytest.fixture
def played(play: Play) -> Play:
    play.to_stage("in_service", owner=ANA)
    play(TransferCase(actor=ANA, to=BO, handoff_note="over to service"))
    play(Move(actor=BO, trigger="resolve"))
    return play


def test_the_case_is_the_fold_of_its_history(played: Play) -> None:
    # Opened and owned by ana, handed to bo (a follow-up for ana, the steward), resolved by bo
    # (the steward's follow-up to confirm the customer was served).
    case = replay(played.workflow, played.history)
    assert (case.stage, case.owner, case.steward) == ("resolved", BO, ANA)
    assert [(f.follow_up_id, f.assignee) for f in case.open_follow_ups] == [(1, ANA), (2, ANA)]
    assert case.version == len(played.history) == 9
    assert case.updated_at == played.now


def test_versions_count_from_one_without_gaps(played: Play) -> None:
    assert [event.version for event in played.history] == list(range(1, len(played.history) + 1))


def test_as_of_gives_the_case_at_a_past_time(played: Play) -> None:
    transfer = next(e for e in played.history if type(e).__name__ == "CaseTransferred")
    before = as_of(played.workflow, played.history, transfer.at - timedelta(seconds=1))
    at = as_of(played.workflow, played.history, transfer.at)
    assert before.owner == ANA
    assert at.owner == BO
    assert at.stage == "in_service"


def test_as_of_before_the_case_existed_is_the_blank_case(played: Play) -> None:
    blank = as_of(played.workflow, played.history, START - timedelta(days=1))
    assert blank.version == 0
    assert not blank.is_opened
    assert blank.current_stage is None


def test_as_of_needs_an_aware_time(played: Play) -> None:
    with pytest.raises(InvalidValue, match=r"^as_of's time must be timezone-aware, got the naive"):
        as_of(played.workflow, played.history, START.replace(tzinfo=None))


def test_an_empty_history_is_refused(workflow: Workflow) -> None:
    with pytest.raises(CorruptHistory, match=r"^an empty history has no case$"):
        replay(workflow, [])
    with pytest.raises(CorruptHistory, match=r"^as_of needs a history .*; the history is empty$"):
        as_of(workflow, [], START)


def test_as_of_a_history_of_one_event_is_the_opened_case(played: Play) -> None:
    opening = played.history[:1]
    case = as_of(played.workflow, opening, played.now)
    assert case == replay(played.workflow, opening)
    assert (case.case_id, case.version) == ("case-1", 1)


def test_a_gap_in_the_history_is_refused(played: Play) -> None:
    with pytest.raises(CorruptHistory, match="must be version 3, got 4"):
        replay(played.workflow, played.history[:2] + played.history[3:])


def test_a_repeated_event_is_refused(played: Play) -> None:
    with pytest.raises(CorruptHistory, match="a gap or a repeat"):
        replay(played.workflow, [*played.history[:2], played.history[1]])


def test_an_event_of_another_case_is_refused(played: Play) -> None:
    stranger = attrs.evolve(played.history[1], case_id="case-9")
    with pytest.raises(CorruptHistory, match="cannot be applied to case 'case-1'"):
        evolve(replay(played.workflow, played.history[:1]), stranger)


def test_a_history_starts_with_the_opening(played: Play) -> None:
    second = attrs.evolve(played.history[1], version=1)
    with pytest.raises(
        CorruptHistory, match=f"must start with CaseOpened, not {type(second).__name__}$"
    ):
        replay(played.workflow, [second])


def test_a_history_replays_only_on_its_own_workflow(played: Play) -> None:
    other = Workflow(
        name="other",
        stages=buying_cycle().stages,
        transitions=buying_cycle().transitions,
        start="enquiry",
    )
    with pytest.raises(CorruptHistory, match="opened on workflow 'buying_cycle'"):
        replay(other, played.history)


def test_something_that_is_not_an_event_is_refused(played: Play) -> None:
    @attrs.frozen
    class Impostor:
        case_id: str
        version: int

    case = replay(played.workflow, played.history)
    with pytest.raises(CorruptHistory, match="Impostor is not a servicekit event"):
        evolve(case, Impostor("case-1", case.version + 1))  # type: ignore[arg-type]


def test_event_ids_are_unique_and_stable(played: Play) -> None:
    ids = [event.id for event in played.history]
    assert len(set(ids)) == len(ids)
    again = replay(played.workflow, played.history)
    assert again.version == played.case.version
    assert ids == [event.id for event in played.history]


def test_every_event_reads_as_a_line_of_history(played: Play) -> None:
    lines = [str(event) for event in played.history]
    assert lines[0].startswith("#1 2026-03-02 09:10Z agent 'ana': opened the case in 'enquiry'")
    assert any(
        "transferred the case from agent 'ana' to agent 'bo': over to service" in line
        for line in lines
    )
    assert lines[-2].endswith("resolve: in_service -> resolved")
    assert lines[-1].endswith("confirm the customer was served")
