"""The compiled transition index agrees with a `transitions.Machine` on every stage and trigger."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from servicekit import Stage, StatusCategory, Transition, Workflow, buying_cycle


@st.composite
def workflows(draw: st.DrawFn) -> Workflow:
    """Random valid workflows: a chain from start to a final stage, plus random extra edges."""
    size = draw(st.integers(min_value=2, max_value=8))
    names = [f"s{i}" for i in range(size)]
    stages = [Stage(name, StatusCategory.OPEN) for name in names[:-1]]
    stages.append(Stage(names[-1], StatusCategory.CLOSED))
    triggers = [f"t{i}" for i in range(4)]
    edges: dict[tuple[str, str], str] = {}
    for index, name in enumerate(names[:-1]):
        edges[(name, "next")] = names[index + 1]
        for trigger in draw(st.lists(st.sampled_from(triggers), unique=True, max_size=3)):
            edges[(name, trigger)] = draw(st.sampled_from(names))
    transitions = [Transition(trigger, source, dest) for (source, trigger), dest in edges.items()]
    return Workflow(name="random", stages=stages, transitions=transitions, start=names[0])


def machine_moves(workflow: Workflow) -> dict[tuple[str, str], list[str]]:
    machine = workflow.machine()
    assert machine.models == []  # the machine serves the workflow, never a case
    return {
        (source, trigger): [transition.dest for transition in transitions]
        for trigger, event in machine.events.items()
        for source, transitions in event.transitions.items()
    }


def agrees(workflow: Workflow) -> None:
    machine = workflow.machine()
    moves = machine_moves(workflow)
    all_triggers = {t.trigger for t in workflow.transitions} | {"nonsense"}
    for stage in workflow.stages:
        assert set(workflow.triggers(stage.name)) == set(machine.get_triggers(stage.name))
        for trigger in all_triggers:
            ours = workflow.transition(stage.name, trigger)
            theirs = moves.get((stage.name, trigger), [])
            assert ([ours.dest] if ours else []) == theirs


def test_the_index_agrees_with_the_machine_on_the_buying_cycle() -> None:
    agrees(buying_cycle())


@given(workflows())
def test_the_index_agrees_with_the_machine_on_any_workflow(workflow: Workflow) -> None:
    agrees(workflow)
