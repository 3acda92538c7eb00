"""The owner's quick move decides exactly what the full rules decide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import servicekit.decisions
from servicekit import (
    Agent,
    Case,
    Channel,
    CommandRejected,
    FeedbackRequested,
    FollowUpRules,
    Move,
    OpenCase,
    Stage,
    StageChanged,
    StatusCategory,
    Survey,
    Transition,
    Workflow,
    buying_cycle,
    decide,
    evolve,
    replay,
)
from servicekit.testing.strategies import histories

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def plain_service(*, request_feedback: Survey | None) -> Workflow:
    """A service desk whose every move is plain (no guards, no follow-ups), resolving ones too."""
    category = StatusCategory
    stages = [
        Stage("intake", category.NEW),
        Stage("in_service", category.OPEN),
        Stage("waiting_on_customer", category.PENDING),
        Stage("resolved", category.RESOLVED),
        Stage("closed", category.CLOSED),
    ]
    transitions = [
        Transition("start_service", "intake", "in_service"),
        Transition("wait_on_customer", "in_service", "waiting_on_customer"),
        Transition("resume", "waiting_on_customer", "in_service"),
        Transition("resolve", ["in_service", "waiting_on_customer"], "resolved"),
        Transition("reopen", "resolved", "in_service", by_customer=True),
        Transition("close", ["intake", "in_service", "resolved"], "closed"),
    ]
    rules = FollowUpRules(reopen_stage="in_service", request_feedback=request_feedback)
    return Workflow(
        name="plain_service",
        stages=stages,
        transitions=transitions,
        start=["intake", "in_service"],
        follow_ups=rules,
    )


WORKFLOWS = {
    "buying cycle": buying_cycle(),
    "plain service": plain_service(request_feedback=None),
    "plain service asking for feedback": plain_service(request_feedback=Survey.NPS),
}


def outcome(case: Any, move: Move, now: Any) -> object:
    try:
        return servicekit.decisions.decide(case, move, now=now)
    except CommandRejected as error:
        return (type(error), str(error))


@pytest.mark.slow
@pytest.mark.parametrize("workflow", WORKFLOWS.values(), ids=WORKFLOWS.keys())
@given(data=st.data())
def test_the_quick_path_agrees_with_the_full_rules(workflow: Workflow, data: st.DataObject) -> None:
    history = data.draw(histories(workflow=workflow, max_commands=15))
    case = replay(workflow, history)
    owner = case.owner or Agent("nobody")
    actor = data.draw(st.sampled_from([owner, Agent(owner.id, active=False), Agent("other")]))
    # Mostly the triggers of the case's stage, so that the quick path is often taken.
    everything = sorted({t.trigger for t in workflow.transitions} | {"bogus"})
    here = [*workflow.triggers(case.stage), "bogus"] if case.stage else everything
    trigger = data.draw(st.sampled_from(here) | st.sampled_from(everything))
    move = Move(actor=actor, trigger=trigger, reason="why")
    now = history[-1].at + timedelta(minutes=1)
    quick = outcome(case, move, now)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(servicekit.decisions, "_owner_moves", lambda *_: None)
        full = outcome(case, move, now)
    assert quick == full


def test_the_owners_plain_move_into_a_resolved_stage_asks_for_the_survey() -> None:
    workflow = plain_service(request_feedback=Survey.NPS)
    ana = Agent("ana")
    case = replay(
        workflow,
        decide(
            Case(workflow, "case-1"),
            OpenCase(
                actor=ana, customer_id="c", channel=Channel.PHONE, summary="s", stage="in_service"
            ),
            now=NOW,
        ),
    )
    moved, asked = decide(case, Move(actor=ana, trigger="resolve"), now=NOW)
    assert isinstance(moved, StageChanged)
    assert isinstance(asked, FeedbackRequested)
    assert asked.survey is Survey.NPS
    case = evolve(evolve(case, moved), asked)
    (closed,) = decide(case, Move(actor=ana, trigger="close"), now=NOW)  # no second survey
    assert isinstance(closed, StageChanged)
