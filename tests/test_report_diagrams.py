"""Workflow diagrams drawn from the workflow's own definition."""

from __future__ import annotations

import re

from servicekit import Stage, StatusCategory, Transition, Workflow, buying_cycle
from servicekit.report import dot, mermaid


def test_mermaid_draws_every_stage_and_every_transition() -> None:
    workflow = buying_cycle()
    text = mermaid(workflow)
    for stage in workflow.stages:
        assert f"    class {stage.name} {stage.category.value}\n" in text
    for transition in workflow.transitions:
        for source in transition.source:
            assert re.search(
                rf"^    {source} --> {transition.dest}: {transition.trigger}\b", text, re.MULTILINE
            )


def test_guards_are_named_on_their_transitions() -> None:
    text = mermaid(buying_cycle())
    assert "    negotiation --> won: win [has_accepted_offer]\n" in text
    assert "    negotiation --> lost: lose [reason_given]\n" in text
    assert '"negotiation" -> "won" [label="win [has_accepted_offer]"];' in dot(buying_cycle())


def test_stages_are_coloured_by_their_category() -> None:
    workflow = buying_cycle()
    fills = dict(
        re.findall(r'^    "(\w+)" \[fillcolor="(#[0-9a-f]{6})"', dot(workflow), re.MULTILINE)
    )
    assert set(fills) == {stage.name for stage in workflow.stages}
    by_category: dict[StatusCategory, set[str]] = {}
    for stage in workflow.stages:
        by_category.setdefault(stage.category, set()).add(fills[stage.name])
    assert all(len(colours) == 1 for colours in by_category.values())
    assert len({colour for colours in by_category.values() for colour in colours}) == len(
        by_category
    )


def test_final_stages_and_start_stages_are_marked() -> None:
    text = dot(buying_cycle())
    assert '    "closed" [fillcolor="#dee2e6", tooltip="done", peripheries=2];' in text
    assert '    __start__ -> "enquiry";' in text
    assert '    __start__ -> "in_service";' in text
    assert "    closed --> [*]\n" in mermaid(buying_cycle())


def test_dot_quotes_names_that_are_graphviz_keywords() -> None:
    workflow = Workflow(
        name="graph",
        stages=[Stage("node", StatusCategory.NEW), Stage("edge", StatusCategory.CLOSED)],
        transitions=[Transition("finish", "node", "edge", description='say "done"')],
        start="node",
    )
    text = dot(workflow)
    assert text.startswith('digraph "graph" {')
    assert '    "node" -> "edge" [label="finish"];' in text
