"""What an error says, word for word, about a value or a history servicekit cannot take.

Agents and histories; other tests match these errors by a part of their message.
"""

from __future__ import annotations

import pytest
from helpers import ANA, Play

from servicekit import (
    Agent,
    Channel,
    CorruptHistory,
    InvalidValue,
    Move,
    Workflow,
    buying_cycle,
    replay,
)


def test_a_channels_capacity_given_twice_is_named_once() -> None:
    with pytest.raises(InvalidValue) as error:
        Agent("ana", capacity={"chat": 2, Channel.CHAT: 3})
    assert str(error.value) == "the capacity on 'chat' is given twice"


def test_whether_an_agent_is_active_is_true_or_false_and_nothing_like_it() -> None:
    with pytest.raises(InvalidValue) as error:
        Agent("ana", active="yes")  # type: ignore[arg-type]
    assert str(error.value) == "active must be True or False, got 'yes'"


def played() -> Play:
    play = Play(buying_cycle()).open(ANA)
    play(Move(actor=ANA, trigger="negotiate"))
    return play


def test_a_history_replayed_on_another_workflow_names_both() -> None:
    workflow = buying_cycle()
    other = Workflow(
        name="other",
        stages=workflow.stages,
        transitions=workflow.transitions,
        start="enquiry",
    )
    with pytest.raises(CorruptHistory) as error:
        replay(other, played().history)
    assert str(error.value) == (
        "case 'case-1' was opened on workflow 'buying_cycle' but is being replayed on 'other'"
    )


def test_a_gap_in_a_history_names_the_version_expected_and_the_one_found() -> None:
    history = played().history
    with pytest.raises(CorruptHistory) as error:
        replay(buying_cycle(), [history[0], history[2]])
    assert str(error.value) == (
        "case 'case-1' is at version 1; the next event must be version 2, got 3 (a gap or a "
        "repeat in the history)"
    )


def test_an_event_of_another_case_names_both_cases() -> None:
    history = played().history
    with pytest.raises(CorruptHistory) as error:
        replay(buying_cycle(), [history[0], *Play(buying_cycle(), "case-2").open(ANA).history])
    assert str(error.value) == "event 1 of case 'case-2' cannot be applied to case 'case-1'"
