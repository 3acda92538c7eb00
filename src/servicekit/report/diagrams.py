"""Workflow diagrams in Mermaid and Graphviz dot, drawn from the workflow's own definition.

Each stage is coloured by its `StatusCategory`, start stages are entered from a
start marker, final stages are drawn with a double border, and every transition
is labelled with its trigger and the names of its guards (``win [has_accepted_offer]``).
"""

from __future__ import annotations

from servicekit.workflow import StatusCategory, Transition, Workflow

__all__ = ["CATEGORY_COLOURS", "dot", "mermaid"]

CATEGORY_COLOURS: dict[StatusCategory, str] = {
    StatusCategory.NEW: "#cfe2ff",
    StatusCategory.OPEN: "#fff3cd",
    StatusCategory.PENDING: "#e2d9f3",
    StatusCategory.WON: "#d1e7dd",
    StatusCategory.LOST: "#f8d7da",
    StatusCategory.RESOLVED: "#c7f0e8",
    StatusCategory.CLOSED: "#dee2e6",
}
"""The fill colour of a stage in each status category (the same in both formats and the report)."""


def _label(transition: Transition) -> str:
    guards = ", ".join(guard.name for guard in transition.guards)
    return f"{transition.trigger} [{guards}]" if guards else transition.trigger


def mermaid(workflow: Workflow) -> str:
    """The workflow as a Mermaid ``stateDiagram-v2``, ready for a Markdown page.

    Args:
        workflow: the workflow to draw.

    Returns:
        The diagram's text, one statement a line, ending with a newline.
    """
    lines = ["stateDiagram-v2", f"    %% workflow {workflow.name}"]
    lines += [
        f"    classDef {category.value} fill:{colour},stroke:#495057,color:#212529"
        for category, colour in CATEGORY_COLOURS.items()
    ]
    for stage in workflow.stages:
        text = stage.description or stage.name
        lines.append(f'    state "{stage.name}: {_mermaid_text(text)}" as {stage.name}')
    lines += [f"    [*] --> {name}" for name in workflow.start]
    for transition in workflow.transitions:
        lines += [
            f"    {source} --> {transition.dest}: {_mermaid_text(_label(transition))}"
            for source in transition.source
        ]
    lines += [f"    {stage.name} --> [*]" for stage in workflow.stages if stage.final]
    lines += [f"    class {stage.name} {stage.category.value}" for stage in workflow.stages]
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    # Mermaid ends a label at a colon or a double quote and has no escape for them.
    return text.replace('"', "'").replace(":", " -").replace("\n", " ")


def dot(workflow: Workflow) -> str:
    """The workflow as a Graphviz ``digraph``, for ``dot -Tsvg``.

    Args:
        workflow: the workflow to draw.

    Returns:
        The graph's text, ending with a newline.
    """
    lines = [
        f"digraph {_dot_id(workflow.name)} {{",
        "    rankdir=LR;",
        '    node [shape=box, style="rounded,filled", fontname="sans-serif"];',
        '    edge [fontname="sans-serif", fontsize=10];',
        '    __start__ [shape=point, width=0.15, label=""];',
    ]
    for stage in workflow.stages:
        border = ", peripheries=2" if stage.final else ""
        tooltip = _dot_id(stage.description or stage.name)
        lines.append(
            f"    {_dot_id(stage.name)} ["
            f'fillcolor="{CATEGORY_COLOURS[stage.category]}", '
            f"tooltip={tooltip}{border}];  // {stage.category.value}"
        )
    lines += [f"    __start__ -> {_dot_id(name)};" for name in workflow.start]
    for transition in workflow.transitions:
        lines += [
            f"    {_dot_id(source)} -> {_dot_id(transition.dest)} "
            f"[label={_dot_id(_label(transition))}];"
            for source in transition.source
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_id(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'
