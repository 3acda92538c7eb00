"""Workflows: the stages a case goes through and the transitions between them.

A `Workflow` is declared as data, validated once when it is built, and shared by
every case that follows it. It is built on the `transitions` library: one
`transitions.Machine` per workflow, with no model bound to it, describes the
topology (for diagrams and as the reference the compiled index is tested against).
Deciding a command never goes through that machine: a case looks its next stage
up in a compiled ``{stage: {trigger: route}}`` index, a dict lookup.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from transitions import Machine

from servicekit._values import non_blank, optional_non_blank, require, storable
from servicekit.errors import InvalidValue, InvalidWorkflow, UnknownStage
from servicekit.followups import FollowUpRules

if TYPE_CHECKING:
    from servicekit.case import Case
    from servicekit.commands import Move

__all__ = ["Guard", "Route", "Stage", "StatusCategory", "Transition", "Workflow"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _identifier(_instance: object, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        msg = (
            f"{attribute.name} must be an identifier (letters, digits and '_', "
            f"not starting with a digit), got {value!r}"
        )
        raise InvalidValue(msg)


class StatusCategory(enum.Enum):
    """The kind of a stage, which features that work on any workflow read.

    SLAs pause in `PENDING` stages, KPIs count `WON`, `LOST` and `RESOLVED`, and the
    ownership rules let a case be unowned only in `NEW` (intake) stages.
    """

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    WON = "won"
    LOST = "lost"
    RESOLVED = "resolved"
    CLOSED = "closed"


def _category(_instance: object, _attribute: Any, value: Any) -> None:
    if not isinstance(value, StatusCategory):
        msg = f"category must be a StatusCategory, got {value!r}"
        raise InvalidValue(msg)


@attrs.frozen
class Stage:
    """A named place in a workflow.

    Args:
        name: the stage's identifier.
        category: its `StatusCategory`.
        final: whether a case that reaches it is finished (no transition may leave
            it). Defaults to true for the `CLOSED` category.
        offers: whether offers may be made, accepted and rejected in this stage.
        follow_up: when set, entering the stage schedules a follow-up for the
            case's steward, with this text as its reason.
        description: what the stage means, for people and diagrams.
    """

    name: str = attrs.field(validator=_identifier)
    category: StatusCategory = attrs.field(validator=_category)
    final: bool = attrs.field(kw_only=True)
    offers: bool = attrs.field(default=False, kw_only=True)
    follow_up: str | None = attrs.field(default=None, kw_only=True, validator=optional_non_blank)
    description: str = attrs.field(default="", kw_only=True)

    @final.default
    def _final_when_closed(self) -> bool:
        return self.category is StatusCategory.CLOSED

    @property
    def is_intake(self) -> bool:
        """Whether a case may sit here without an owner (a `NEW` stage)."""
        return self.category is StatusCategory.NEW


GuardCheck = Callable[["Case", "Move"], "str | None"]
"""A guard's test: returns None when the move may go ahead, or the reason it may not."""


@attrs.frozen
class Guard:
    """A named condition a transition needs, for example "an offer was accepted"."""

    name: str = attrs.field(validator=non_blank)
    check: GuardCheck = attrs.field(repr=False)

    def __call__(self, case: Case, move: Move) -> str | None:
        """Return None if `move` may happen to `case`, else the reason it may not."""
        return self.check(case, move)


def _sources(value: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _guards(value: Any) -> tuple[Guard, ...]:
    if isinstance(value, Guard):
        return (value,)
    guards = tuple(value)
    for guard in guards:
        if not isinstance(guard, Guard):
            msg = f"guards must be Guard values, got {guard!r}"
            raise InvalidValue(msg)
    return guards


@attrs.frozen
class Transition:
    """A move from one or more source stages to a destination, fired by a trigger.

    Args:
        trigger: the name a `Move` command uses.
        source: the stage or stages it may leave from.
        dest: the stage it leads to.
        guards: conditions that must all hold (see `Guard`).
        by_customer: whether the case's customer may fire it too (for example
            reopening a resolved case); otherwise only the owner, a supervisor of
            the owner's team, or the system may.
        description: what the move means, for people and diagrams.
    """

    trigger: str = attrs.field(validator=_identifier)
    source: tuple[str, ...] = attrs.field(converter=_sources)
    dest: str
    guards: tuple[Guard, ...] = attrs.field(default=(), converter=_guards, kw_only=True)
    by_customer: bool = attrs.field(default=False, kw_only=True)
    description: str = attrs.field(default="", kw_only=True)


@attrs.frozen
class Route:
    """Where one trigger leads from one stage: the transition, with both stages resolved."""

    transition: Transition
    source: Stage
    dest: Stage

    @property
    def resolves(self) -> bool:
        """Whether it resolves the case: it enters a `RESOLVED` stage from one that is not."""
        return (
            self.dest.category is StatusCategory.RESOLVED
            and self.source.category is not StatusCategory.RESOLVED
        )


class Workflow:
    """A validated workflow, built once and shared by every case that follows it.

    Building it checks the definition and raises `InvalidWorkflow` listing every
    problem: unknown stages in transitions or start stages, duplicate stage names,
    a trigger used twice from one stage, stages unreachable from the start stages,
    non-final stages with no way out, final stages with a way out, stages from
    which no final stage can be reached, and intake or final stages that schedule
    follow-ups.

    Args:
        name: what the workflow is called in messages and histories.
        stages: every stage.
        transitions: every transition.
        start: the stages a case may be opened in; the first is the default.
        follow_ups: when follow-ups fall due and what their outcomes do
            (`FollowUpRules`; every day counts by default).
    """

    __slots__ = (
        "_plain_moves",
        "_routes",
        "_stages",
        "_transitions",
        "final_stages",
        "follow_ups",
        "name",
        "start",
    )

    def __init__(
        self,
        *,
        name: str,
        stages: Iterable[Stage],
        transitions: Iterable[Transition],
        start: str | Iterable[str],
        follow_ups: FollowUpRules | None = None,
    ) -> None:
        """Validate the definition and compile the transition index."""
        if not isinstance(name, str) or not name.strip():
            msg = f"a workflow needs a non-blank name, got {name!r}"
            raise InvalidValue(msg)
        storable(name, "a workflow's name")
        rules = FollowUpRules() if follow_ups is None else follow_ups
        require(rules, FollowUpRules, "follow_ups must be FollowUpRules")
        stage_list = tuple(stages)
        transition_list = tuple(transitions)
        start_list = _sources(start)
        problems = _problems(stage_list, transition_list, start_list)
        reopen = rules.reopen_stage
        known = {stage.name: stage for stage in stage_list if isinstance(stage, Stage)}
        if reopen is not None and (reopen not in known or known[reopen].final):
            problems.append(f"the follow-up rules reopen cases in {reopen!r}, not an open stage")
        if problems:
            raise InvalidWorkflow(name, problems)
        self.name = name
        self.start = start_list
        self.follow_ups = rules
        self._stages: Mapping[str, Stage] = {stage.name: stage for stage in stage_list}
        self._transitions = transition_list
        stages_by_name = self._stages
        routes: dict[str, dict[str, Route]] = {stage.name: {} for stage in stage_list}
        for transition in transition_list:
            dest = stages_by_name[transition.dest]
            for source in transition.source:
                routes[source][transition.trigger] = Route(transition, stages_by_name[source], dest)
        self._routes: Mapping[str, Mapping[str, Route]] = routes
        # For the owner's quick move (`decisions._owner_moves`), by (stage, trigger):
        # each route without guards, out of an open stage, into one that schedules no
        # follow-up, as (its destination, whether that is final, whether it resolves).
        # The hot path reads these three from one lookup; the rest of the rules are
        # decided in full.
        self._plain_moves: Mapping[tuple[str, str], tuple[str, bool, bool]] = {
            (source, trigger): (route.dest.name, route.dest.final, route.resolves)
            for source, by_trigger in routes.items()
            for trigger, route in by_trigger.items()
            if not (route.transition.guards or route.source.final or route.dest.follow_up)
        }
        # The names of the final stages (a case there is finished), for the hot path.
        self.final_stages: frozenset[str] = frozenset(s.name for s in stage_list if s.final)

    def __repr__(self) -> str:
        """Name the workflow and its size."""
        return (
            f"<Workflow {self.name!r}: {len(self._stages)} stages, "
            f"{len(self._transitions)} transitions>"
        )

    @property
    def stages(self) -> tuple[Stage, ...]:
        """Every stage, in the order they were declared."""
        return tuple(self._stages.values())

    @property
    def transitions(self) -> tuple[Transition, ...]:
        """Every transition, in the order they were declared."""
        return self._transitions

    def stage(self, name: str) -> Stage:
        """The stage called `name`; `UnknownStage` (a `KeyError`) naming the known ones if none."""
        try:
            return self._stages[name]
        except KeyError:
            raise UnknownStage(name, self.name, self._stages) from None

    def has_stage(self, name: str) -> bool:
        """Whether the workflow has a stage called `name`."""
        return name in self._stages

    def triggers(self, stage: str) -> tuple[str, ...]:
        """The triggers that may fire from `stage`, in declaration order."""
        return tuple(self._routes[stage])

    def transition(self, stage: str, trigger: str) -> Transition | None:
        """The transition `trigger` fires from `stage`, or None if there is none."""
        route = self._routes[stage].get(trigger)
        return None if route is None else route.transition

    def route(self, stage: str, trigger: str) -> Route | None:
        """Where `trigger` leads from `stage` (transition and both stages), or None."""
        return self._routes[stage].get(trigger)

    def machine(self) -> Any:
        """A `transitions.Machine` with this workflow's topology and no model bound.

        Useful for diagrams and tools that speak `transitions`; servicekit itself
        decides moves from its compiled index, which is tested to agree with it.
        """
        return Machine(
            model=None,
            states=list(self._stages),
            transitions=[
                {"trigger": t.trigger, "source": list(t.source), "dest": t.dest}
                for t in self._transitions
            ],
            initial=self.start[0],
            auto_transitions=False,
        )


def _problems(
    stages: Sequence[object],
    transitions: Sequence[object],
    start: Sequence[str],
) -> list[str]:
    """Every problem in a workflow definition, in a stable order."""
    problems: list[str] = []
    names = _stage_names(stages, problems)
    if not names:
        return [*problems, "the workflow has no stages"]
    if not start:
        problems.append("the workflow has no start stage")
    problems.extend(
        f"start stage {name!r} is not a declared stage" for name in start if name not in names
    )
    exits = _exits(names, transitions, problems)
    problems.extend(_stage_problems(names, exits))
    reachable = _closure([name for name in start if name in names], exits)
    problems.extend(
        f"stage {name!r} cannot be reached from the start stages"
        for name in names
        if name not in reachable
    )
    entries: dict[str, list[str]] = {name: [] for name in names}
    for source, dests in exits.items():
        for dest in dests:
            entries[dest].append(source)
    finishing = _closure([name for name, stage in names.items() if stage.final], entries)
    problems.extend(
        f"stage {name!r} cannot reach a final stage"
        for name in names
        if name in reachable and name not in finishing and exits[name]
    )
    return problems


def _stage_names(stages: Sequence[object], problems: list[str]) -> dict[str, Stage]:
    """The declared stages by name, noting non-stages and duplicates in `problems`."""
    names: dict[str, Stage] = {}
    for stage in stages:
        if not isinstance(stage, Stage):
            problems.append(f"{stage!r} is not a Stage")
        elif stage.name in names:
            problems.append(f"stage {stage.name!r} is declared twice")
        else:
            names[stage.name] = stage
    return names


def _exits(
    names: Mapping[str, Stage], transitions: Sequence[object], problems: list[str]
) -> dict[str, list[str]]:
    """Each known stage's destinations, noting bad transitions in `problems`."""
    exits: dict[str, list[str]] = {name: [] for name in names}
    seen_triggers: set[tuple[str, str]] = set()
    for transition in transitions:
        if not isinstance(transition, Transition):
            problems.append(f"{transition!r} is not a Transition")
            continue
        label = f"transition {transition.trigger!r}"
        if transition.dest not in names:
            problems.append(f"{label} leads to the unknown stage {transition.dest!r}")
        if not transition.source:
            problems.append(f"{label} has no source stage")
        for source in transition.source:
            if source not in names:
                problems.append(f"{label} leaves from the unknown stage {source!r}")
            elif (source, transition.trigger) in seen_triggers:
                problems.append(f"trigger {transition.trigger!r} is declared twice from {source!r}")
            else:
                seen_triggers.add((source, transition.trigger))
                if transition.dest in names:
                    exits[source].append(transition.dest)
    return exits


def _stage_problems(names: Mapping[str, Stage], exits: Mapping[str, list[str]]) -> list[str]:
    """Problems of single stages: final with exits, non-final without, misplaced follow-ups."""
    problems: list[str] = []
    for name, stage in names.items():
        if stage.is_intake and stage.follow_up is not None:
            problems.append(
                f"intake stage {name!r} schedules a follow-up, but a case there may have no "
                "steward to do it"
            )
        if stage.final and exits[name]:
            problems.append(f"final stage {name!r} has outgoing transitions")
        if stage.final and stage.follow_up is not None:
            problems.append(
                f"final stage {name!r} schedules a follow-up, but a finished case takes no "
                "more commands, so nobody could complete it"
            )
        if not stage.final and not exits[name]:
            problems.append(f"stage {name!r} is not final and has no way out")
    return problems


def _closure(roots: list[str], edges: Mapping[str, Sequence[str]]) -> set[str]:
    """Every node reachable from `roots` along `edges`, roots included."""
    found = set(roots)
    pending = list(roots)
    while pending:
        for nxt in edges[pending.pop()]:
            if nxt not in found:
                found.add(nxt)
                pending.append(nxt)
    return found
