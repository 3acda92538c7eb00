"""``servicekit check``: every problem of a database or of a module's definitions, located."""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import attrs

from servicekit.case import replay
from servicekit.cli._inputs import (
    BadInput,
    Definitions,
    _module_name,
    import_module,
    open_database,
    resolve,
)
from servicekit.errors import InvalidWorkflow, ServiceKitError
from servicekit.events import CaseOpened, Event
from servicekit.sla import Metric, PolicySet
from servicekit.stores.base import CaseSummary
from servicekit.workflow import Workflow

__all__ = ["DatabaseCheck", "check_database", "check_definitions"]

_COMPARED = (
    "customer_id",
    "workflow",
    "stage",
    "category",
    "finished",
    "owner_id",
    "steward_id",
    "version",
    "opened_at",
    "updated_at",
    "follow_up_assignee_ids",
)
"""The index fields a fold recomputes (the next due time depends on the SLA policies)."""


@attrs.frozen
class DatabaseCheck:
    """What a database check found: its size and every problem, each with its location."""

    cases: int
    events: int
    agents: int
    stages: dict[str, int]
    problems: tuple[str, ...]


def check_database(path: Path, definitions: Definitions) -> DatabaseCheck:
    """Fold every case of the database at `path` and compare the fold with the index."""
    with open_database(path) as store:
        histories: dict[str, list[Event]] = defaultdict(list)
        for stored in store.read_all():
            histories[stored.event.case_id].append(stored.event)
        index = {summary.case_id: summary for summary in store.find_cases()}
        agents = len(store.agents())
    problems: list[str] = []
    stages: dict[str, int] = defaultdict(int)
    for case_id, history in histories.items():
        where = f"{path}: case {case_id!r}"
        summary = index.pop(case_id, None)
        opened = history[0]
        if not isinstance(opened, CaseOpened):
            problems.append(f"{where}: its history starts with {type(opened).__name__}")
            continue
        workflow = definitions.workflow(opened.workflow)
        if workflow is None:
            problems.append(
                f"{where}: workflow {opened.workflow!r} was not given (given: "
                f"{definitions.names}); name it with --workflow MODULE:NAME"
            )
            continue
        try:
            case = replay(workflow, history)
        except ServiceKitError as error:
            version = getattr(error, "version", None)
            at = "" if version is None else f" (event #{version})"
            problems.append(f"{where}{at}: does not fold: {_line(str(error))}")
            continue
        stages[f"{workflow.name}:{case.stage}"] += 1
        try:
            fresh = CaseSummary.of(case)
        except ServiceKitError as error:  # a stage the workflow lost: report it, check the rest
            problems.append(f"{where}: {_line(str(error))}")
            continue
        if summary is None:
            problems.append(f"{where}: has {len(history)} events but no index entry")
            continue
        problems += [
            f"{where}: the index says {field} {getattr(summary, field)!r}, "
            f"the history says {getattr(fresh, field)!r}"
            for field in _COMPARED
            if getattr(summary, field) != getattr(fresh, field)
        ]
    problems += [
        f"{path}: case {case_id!r}: is in the index but has no events" for case_id in index
    ]
    return DatabaseCheck(
        cases=len(histories),
        events=sum(len(history) for history in histories.values()),
        agents=agents,
        stages=dict(sorted(stages.items())),
        problems=tuple(problems),
    )


def _line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def check_definitions(reference: str) -> tuple[list[str], list[str]]:
    """Build every workflow and policy set `reference` names; return (found, problems).

    ``MODULE:NAME`` checks that one value (a factory is called); ``MODULE`` alone
    checks every public workflow, policy set and factory declared to return one.
    """
    found: list[str] = []
    problems: list[str] = []
    workflows: list[Workflow] = []
    policy_sets: list[tuple[str, PolicySet]] = []
    for where, value in _values(reference, problems):
        if isinstance(value, Workflow):
            found.append(f"{where}: workflow {value.name!r}, {len(value.stages)} stages")
            workflows.append(value)
        elif isinstance(value, PolicySet):
            found.append(f"{where}: {len(value.policies)} SLA policies")
            policy_sets.append((where, value))
        elif isinstance(value, list | tuple) and value:
            for item in value:
                if isinstance(item, Workflow):
                    found.append(f"{where}: workflow {item.name!r}, {len(item.stages)} stages")
                    workflows.append(item)
                else:
                    problems.append(f"{where}: holds a {type(item).__name__}, not a Workflow")
        else:
            problems.append(f"{where}: is a {type(value).__name__}, not a Workflow or PolicySet")
    for where, policies in policy_sets:
        problems += _policy_problems(where, policies, workflows)
    return found, problems


def _values(reference: str, problems: list[str]) -> Iterator[tuple[str, object]]:
    module_name, _, attribute = reference.partition(":")
    if attribute:
        names = [attribute]
    else:
        module = import_module(_module_name(module_name), reference)
        names = [
            name for name in vars(module) if not name.startswith("_") and _defines(module, name)
        ]
        if not names:
            problems.append(f"{module_name}: defines no workflow or SLA policies")
    for name in names:
        where = f"{module_name}:{name}"
        try:
            yield where, resolve(where)
        except InvalidWorkflow as error:
            problems += [f"{where}: workflow {error.workflow!r}: {line}" for line in error.problems]
        except ServiceKitError as error:
            problems.append(f"{where}: {_line(str(error))}")
        except BadInput as error:  # the user's code raised: a problem here, the rest go on
            problems.append(str(error))


def _defines(module: object, name: str) -> bool:
    value = getattr(module, name)
    if isinstance(value, Workflow | PolicySet):
        return True
    if inspect.isfunction(value) and value.__module__ == getattr(module, "__name__", None):
        returns = inspect.signature(value).return_annotation
        return returns in {Workflow, PolicySet} or (
            isinstance(returns, str) and ("Workflow" in returns or "PolicySet" in returns)
        )
    return False


def _policy_problems(where: str, policies: PolicySet, workflows: list[Workflow]) -> list[str]:
    """Names in the policies that no given workflow has (only when workflows are given)."""
    if not workflows:
        return []
    by_name = {workflow.name: workflow for workflow in workflows}
    stages = {stage.name for workflow in workflows for stage in workflow.stages}
    problems = []
    for policy in policies.policies:
        label = f"{where}: policy {policy}"
        problems += [
            f"{label}: its conditions name the unknown workflow {name!r}"
            for name in sorted(policy.conditions.workflows - by_name.keys())
        ]
        problems += [
            f"{label}: its conditions name the stage {name!r}, which no workflow has"
            for name in sorted(policy.conditions.stages - stages)
        ]
        problems += [
            f"{label}: target {target.key!r} waits for a stage no workflow has"
            for target in policy.targets
            if target.metric is Metric.REACH_STAGE and target.stage not in stages
        ]
    return problems
