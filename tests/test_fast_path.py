"""The owner's quick move decides exactly what the full rules decide."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import servicekit.decisions
from servicekit import Agent, CommandRejected, Move, buying_cycle, replay
from servicekit.testing.strategies import histories

WORKFLOW = buying_cycle()
TRIGGERS = sorted({t.trigger for t in WORKFLOW.transitions} | {"bogus"})


def outcome(case: Any, move: Move, now: Any) -> object:
    try:
        return servicekit.decisions.decide(case, move, now=now)
    except CommandRejected as error:
        return (type(error), str(error))


@given(history=histories(max_commands=15), data=st.data())
def test_the_quick_path_agrees_with_the_full_rules(history: list[Any], data: st.DataObject) -> None:
    case = replay(WORKFLOW, history)
    owner = case.owner or Agent("nobody")
    actor = data.draw(st.sampled_from([owner, Agent(owner.id, active=False), Agent("other")]))
    # Mostly the triggers of the case's stage, so that the quick path is often taken.
    here = [*WORKFLOW.triggers(case.stage), "bogus"] if case.stage else TRIGGERS
    trigger = data.draw(st.sampled_from(here) | st.sampled_from(TRIGGERS))
    move = Move(actor=actor, trigger=trigger, reason="why")
    now = history[-1].at + timedelta(minutes=1)
    quick = outcome(case, move, now)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(servicekit.decisions, "_owner_moves", lambda *_: None)
        full = outcome(case, move, now)
    assert quick == full
