"""The SLA fold: a case's clocks as a value that takes only the events it has not seen.

`SlaTracker.start(policies, workflow=...)` is the state before any event;
`tracker.apply(events)` returns the tracker after them (the old one is left as it
was), so a desk keeps each case's tracker beside the cached case and folds only
new events into it. `tracker.report(now)` and `tracker.pending()` answer what
`assess(history, ...)` answers from scratch, always the same.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta

import attrs

from servicekit._values import utc
from servicekit.calendar import BusinessCalendar
from servicekit.errors import UnknownStage
from servicekit.events import (
    CaseOpened,
    CaseTransferred,
    Event,
    InteractionRecorded,
    OwnerAssigned,
    PriorityChanged,
    SlaBreached,
    SlaEscalated,
    SlaPaused,
    SlaPolicyApplied,
    SlaResumed,
    SlaWarned,
    StageChanged,
    StewardAppointed,
    StewardReassigned,
)
from servicekit.interactions import Direction
from servicekit.ownership import Agent, Customer, Role
from servicekit.sla.policies import BusinessDays, Facts, Metric, Policy, PolicySet, Target
from servicekit.sla.report import (
    ClockSegment,
    ClockState,
    ClockStatus,
    SlaReport,
    at_text,
    due_by,
    span,
)
from servicekit.timers import Timer, TimerKind
from servicekit.workflow import Stage, StatusCategory, Workflow

__all__ = ["SlaTracker", "SupervisorsOf", "TeamsOf", "assess"]

SupervisorsOf = Callable[[str | None], Sequence[Agent]]
"""Who may be told of a breach: the supervisors of a team, or with None every supervisor."""

TeamsOf = Callable[[Agent], Collection[str]]
"""The teams an agent belongs to now (the history records the teams they had then)."""

_DONE = frozenset(
    {StatusCategory.RESOLVED, StatusCategory.CLOSED, StatusCategory.WON, StatusCategory.LOST}
)
"""Categories in which a case needs no more work: resolution is met, updates stop."""

_LEVELS = 3
_ZERO = timedelta(0)


def _budget(target: Target, calendar: BusinessCalendar, start: datetime) -> timedelta:
    """The business time a clock that started at `start` may use under `target`."""
    if isinstance(target.within, BusinessDays):
        return calendar.elapsed(start, target.within.due(calendar, start))
    return target.within


def _promise(target: Target, budget: timedelta) -> str:
    if isinstance(target.within, BusinessDays):
        return f"{target.within} ({span(budget)} of business time from the start)"
    return f"{span(budget)} of business time"


@attrs.define
class _Clock:
    """One clock while a history is folded; copied before a new tracker changes it."""

    key: str
    metric: Metric
    target: Target
    calendar: BusinessCalendar
    started_at: datetime
    budget: timedelta
    elapsed: timedelta = _ZERO
    running_since: datetime | None = None
    finished_at: datetime | None = None
    warned: bool = False
    breached: bool = False
    escalated: int = 0
    breach_due: datetime | None = None
    stopped: bool = False
    notes: tuple[str, ...] = ()
    segments: tuple[ClockSegment, ...] = ()

    def note(self, text: str) -> None:
        self.notes = (*self.notes, text)

    def stop_segment(self, at: datetime, owner: Agent | None) -> None:
        """End the stretch that is running, if any, recording who owned the case meanwhile."""
        if self.running_since is not None:
            used = self.calendar.elapsed(self.running_since, at)
            if at > self.running_since:
                self.segments = (
                    *self.segments,
                    ClockSegment(self.running_since, at, owner, used),
                )
            self.elapsed += used
            self.running_since = None

    def due(self) -> datetime | None:
        """When the target is (or was) due; None while paused with budget left."""
        moment = self._when_used(self.budget)
        if moment is not None and isinstance(self.target.within, BusinessDays):
            return self.calendar.next_open(moment)
        return moment

    def warn_due(self) -> datetime | None:
        return self._when_used(self.budget * self.target.warn_at)

    def _when_used(self, budget: timedelta) -> datetime | None:
        """When the clock has used `budget` of business time: in its past stretches, or ahead."""
        if self.elapsed >= budget:
            used = _ZERO
            for segment in self.segments:
                if used + segment.elapsed >= budget:
                    return self.calendar.add(segment.start, budget - used)
                used += segment.elapsed
            return self.started_at
        if self.running_since is None:
            return None
        return self.calendar.add(self.running_since, budget - self.elapsed)


class _Fold:
    """Folds events into SLA clocks. Mutable while one `apply` runs, and only then."""

    __slots__ = (
        "answered",
        "case_id",
        "category",
        "clocks",
        "customer_opened",
        "cycles",
        "done",
        "facts",
        "finished",
        "last_change",
        "open",
        "owned",
        "owner",
        "paused",
        "policies",
        "policy",
        "reached",
        "recorded",
        "steward",
        "version",
        "workflow",
    )

    def __init__(self, policies: PolicySet, workflow: Workflow | None) -> None:
        self.policies = policies
        self.workflow = workflow
        self.facts: Facts | None = None
        self.policy: Policy | None = None
        self.clocks: dict[str, _Clock] = {}
        self.open: dict[str, None] = {}
        self.owned: set[str] = set()
        self.cycles: dict[Metric, int] = {}
        self.category: StatusCategory | None = None
        self.paused = False
        self.done = False
        self.finished = False
        self.case_id = ""
        self.version = 0
        self.recorded = False
        self.last_change = ""
        self.customer_opened = False
        self.answered = False
        self.reached: frozenset[str] = frozenset()
        self.owner: Agent | None = None
        self.steward: Agent | None = None

    def copy(self) -> _Fold:
        """A fold to apply new events to; clocks are shared until one is changed (`own`)."""
        fold = copy.copy(self)
        fold.clocks = dict(self.clocks)
        fold.open = dict(self.open)
        fold.cycles = dict(self.cycles)
        fold.owned = set()
        return fold

    def own(self, key: str) -> _Clock:
        """The clock `key`, copied first if an earlier tracker may still hold it."""
        clock = self.clocks[key]
        if key not in self.owned:
            clock = copy.copy(clock)
            self.clocks[key] = clock
            self.owned.add(key)
        return clock

    def open_clocks(self, metric: Metric | None = None) -> list[_Clock]:
        return [
            self.own(key)
            for key in list(self.open)
            if metric is None or self.clocks[key].metric is metric
        ]

    # -- pausing ---------------------------------------------------------------------------

    def halted(self, target: Target) -> bool:
        """Whether the case's stage or an explicit pause holds this target's clock."""
        return self.category in target.pause_in or (self.paused and target.pausable)

    def halt_reason(self, target: Target) -> str:
        if self.category in target.pause_in:
            if self.category is StatusCategory.PENDING:
                return "waiting on the customer"
            assert self.category is not None  # noqa: S101 - pause_in holds categories
            return f"the case is {self.category.value}"
        return "paused on purpose"

    def sync(self, at: datetime, *, pausing: str, running: str) -> None:
        """Pause the clocks the case's situation now holds, and run the ones it released."""
        for clock in self.open_clocks():
            halted = self.halted(clock.target)
            if clock.running_since is not None and halted:
                clock.stop_segment(at, self.owner)
                clock.note(f"{at_text(at)}: paused ({pausing}); {span(clock.elapsed)} used")
            elif clock.running_since is None and not halted:
                clock.running_since = at
                clock.note(f"{at_text(at)}: running again ({running})")

    # -- starting and ending clocks --------------------------------------------------------

    def start(self, metric: Metric, at: datetime, why: str, *, stage: str | None = None) -> None:
        if self.policy is None or self.finished:
            return
        base = metric.value if stage is None else f"reach_stage:{stage}"
        target = self.policy.target(base)
        if target is None:
            return
        key = base
        if metric in (Metric.NEXT_RESPONSE, Metric.PERIODIC_UPDATE):
            self.cycles[metric] = self.cycles.get(metric, 0) + 1
            key = f"{base}#{self.cycles[metric]}"
        calendar = self.policy.calendar
        budget = _budget(target, calendar, at)
        clock = _Clock(key, metric, target, calendar, at, budget)
        promise = f"reach {stage}" if stage is not None else base.replace("_", " ")
        clock.note(
            f"{at_text(at)}: started ({why}) under policy {self.policy}, on "
            f"{_calendar(calendar)}: {promise} within {_promise(target, budget)}"
        )
        if self.halted(target):
            clock.note(f"{at_text(at)}: paused from the start ({self.halt_reason(target)})")
        else:
            clock.running_since = at
        self.clocks[key] = clock
        self.open[key] = None
        self.owned.add(key)

    def finish(self, clock: _Clock, at: datetime, why: str) -> None:
        clock.stop_segment(at, self.owner)
        clock.finished_at = at
        self.open.pop(clock.key, None)
        verdict = "met late" if clock.elapsed > clock.budget else "met"
        clock.note(f"{at_text(at)}: {verdict} ({why}) after {span(clock.elapsed)}")

    def stop(self, clock: _Clock, at: datetime, why: str) -> None:
        clock.stop_segment(at, self.owner)
        clock.finished_at, clock.stopped = at, True
        self.open.pop(clock.key, None)
        clock.note(f"{at_text(at)}: {why}")

    # -- policies --------------------------------------------------------------------------

    def reselect(self, at: datetime, why: str) -> None:
        """Follow the facts to the policy that matches them, unless the case records its own."""
        assert self.facts is not None  # noqa: S101 - set by CaseOpened
        if not self.recorded:
            self.switch(self.policies.select(self.facts), at, why)

    def record(self, event: SlaPolicyApplied) -> None:
        """The desk recorded the policy and version the case is under from now on."""
        self.recorded = True
        policy = self.policies.find(event.policy, event.policy_version)
        if policy is not None and policy.version != event.policy_version:
            for clock in self.open_clocks():
                clock.note(
                    f"{at_text(event.at)}: the case is under {event.policy!r} "
                    f"v{event.policy_version}, which is no longer defined: measured under {policy}"
                )
        self.switch(policy, event.at, self.last_change or "policy recorded")

    def switch(self, policy: Policy | None, at: datetime, why: str) -> None:
        if policy == self.policy:
            return
        old, self.policy = self.policy, policy
        for clock in self.open_clocks():
            base = clock.key.split("#")[0]
            target = None if policy is None else policy.target(base)
            clock.stop_segment(at, self.owner)
            if target is None or policy is None:
                self.stop(clock, at, f"{why}: no longer measured under policy {policy}")
                continue
            budget = _budget(target, policy.calendar, clock.started_at)
            clock.note(
                f"{at_text(at)}: {why}: policy {old} -> {policy}; target "
                f"{span(clock.budget)} -> {span(budget)}; "
                f"{span(clock.elapsed)} already used is kept"
            )
            clock.target, clock.calendar, clock.budget = target, policy.calendar, budget
            if not self.halted(target):
                clock.running_since = at
        if policy is not None:
            self.start_missing(policy, at, why)

    def start_missing(self, policy: Policy, at: datetime, why: str) -> None:
        """Start the clocks a newly applying policy measures that the case had none of."""
        measured = {clock.key.split("#")[0] for clock in self.clocks.values()}
        reason = f"{why}: measured from now under policy {policy}"
        for target in policy.targets:
            if target.key in measured:
                continue
            metric = target.metric
            awaited = metric is Metric.FIRST_RESPONSE and self.customer_opened and not self.answered
            ongoing = metric in (Metric.RESOLUTION, Metric.PERIODIC_UPDATE) and not self.done
            if awaited or ongoing:
                self.start(metric, at, reason)
            elif metric is Metric.REACH_STAGE and target.stage not in self.reached:
                self.start(metric, at, reason, stage=target.stage)

    # -- events ----------------------------------------------------------------------------

    def apply(self, event: Event) -> None:  # noqa: C901 - one branch per event kind
        at = event.at
        self.version = event.version
        if isinstance(event, CaseOpened):
            self._opened(event)
        elif isinstance(event, InteractionRecorded):
            self._interaction(event)
        elif isinstance(event, StageChanged):
            self._stage(event)
        elif isinstance(event, OwnerAssigned):
            self._owner(event.owner, at)
        elif isinstance(event, CaseTransferred):
            self._owner(event.to_owner, at)
        elif isinstance(event, StewardAppointed):
            self.steward = event.steward
        elif isinstance(event, StewardReassigned):
            self.steward = event.to_steward
        elif isinstance(event, PriorityChanged) and self.facts is not None:
            self.facts = attrs.evolve(self.facts, priority=event.priority)
            self.last_change = f"priority changed to {event.priority}"
            self.reselect(at, self.last_change)
        elif isinstance(event, SlaPolicyApplied):
            self.record(event)
        elif isinstance(event, SlaPaused):
            self.paused = True
            self.sync(at, pausing=f"paused on purpose: {event.reason}", running="")
        elif isinstance(event, SlaResumed):
            self.paused = False
            self.sync(at, pausing="", running="resumed on purpose")
        elif isinstance(event, SlaWarned | SlaBreached | SlaEscalated):
            self._fired(event)

    def _opened(self, event: CaseOpened) -> None:
        at = event.at
        self.case_id = event.case_id
        self.facts = Facts(
            event.priority, event.channel.name, event.stage, event.tier, event.workflow
        )
        self.policy = self.policies.select(self.facts)
        self.category = self._category(event.stage)
        self.reached = self.reached | {event.stage}
        self.customer_opened = isinstance(event.actor, Customer)
        if isinstance(event.actor, Customer):
            # An agent who opens a case was talking with the customer: answered live.
            self.start(Metric.FIRST_RESPONSE, at, "the customer opened the case")
        self.start(Metric.RESOLUTION, at, "the case was opened")
        self.start(Metric.PERIODIC_UPDATE, at, "the case was opened")
        if self.policy is not None:
            for target in self.policy.targets:
                if target.metric is Metric.REACH_STAGE and target.stage != event.stage:
                    self.start(Metric.REACH_STAGE, at, "the case was opened", stage=target.stage)

    def _owner(self, owner: Agent, at: datetime) -> None:
        """A new owner: each running clock's stretch so far goes to the one before."""
        for clock in self.open_clocks():
            if clock.running_since is not None:
                clock.stop_segment(at, self.owner)
                clock.running_since = at
        self.owner = owner

    def _fired(self, event: SlaWarned | SlaBreached | SlaEscalated) -> None:
        if event.clock not in self.clocks:
            return
        clock = self.own(event.clock)
        at = at_text(event.at)
        if isinstance(event, SlaWarned):
            clock.warned = True
        elif isinstance(event, SlaBreached):
            clock.breached, clock.breach_due, clock.warned = True, event.due, True
            skipped = "; its warning was skipped" if event.warning_skipped else ""
            clock.note(f"{at}: breached (it was due {at_text(event.due)}){skipped}")
        else:
            clock.escalated = max(clock.escalated, event.level)
            clock.note(f"{at}: escalated to level {event.level}: {event.notify}")

    def _category(self, stage: str) -> StatusCategory | None:
        if self.workflow is None:
            return None
        return self._stage_named(self.workflow, stage).category

    def _stage_named(self, workflow: Workflow, stage: str) -> Stage:
        """The stage of the case's workflow; `UnknownStage` naming the case if it has none."""
        try:
            return workflow.stage(stage)
        except UnknownStage as gone:
            # A workflow redefined since the case went through the stage: whether that
            # stage stopped or paused a clock is unknown, so the clocks cannot be told.
            raise UnknownStage(
                stage, workflow.name, gone.known, case_id=self.case_id, went_through=True
            ) from None

    def _interaction(self, event: InteractionRecorded) -> None:
        at = event.at
        if event.direction is Direction.OUTBOUND and isinstance(event.actor, Agent):
            self.answered = True
            for clock in self.open_clocks(Metric.FIRST_RESPONSE) + self.open_clocks(
                Metric.NEXT_RESPONSE
            ):
                self.finish(clock, at, f"{event.actor} answered on {event.channel}")
            for clock in self.open_clocks(Metric.PERIODIC_UPDATE):
                self.finish(clock, at, f"{event.actor} updated the customer on {event.channel}")
                if not self.done:
                    self.start(Metric.PERIODIC_UPDATE, at, "the last update was given")
        elif (
            event.direction is Direction.INBOUND
            and isinstance(event.actor, Customer)
            and not self.open_clocks(Metric.FIRST_RESPONSE)
            and not self.open_clocks(Metric.NEXT_RESPONSE)
        ):
            # A message while an answer is already awaited joins that wait.
            self.start(Metric.NEXT_RESPONSE, at, f"the customer wrote on {event.channel}")

    def _stage(self, event: StageChanged) -> None:
        at = event.at
        final = self.workflow is not None and self._stage_named(self.workflow, event.dest).final
        category = self._category(event.dest)
        self.category = category
        self.reached = self.reached | {event.dest}
        if self.facts is not None:
            self.facts = attrs.evolve(self.facts, stage=event.dest)
        waiting = f"waiting on the customer ({event.dest})"
        self.sync(
            at,
            pausing=waiting if category is StatusCategory.PENDING else f"stage {event.dest}",
            running=f"the case left {event.source} for {event.dest}",
        )
        for clock in self.open_clocks(Metric.REACH_STAGE):
            if clock.target.stage == event.dest:
                self.finish(clock, at, f"the case reached {event.dest}")
        if category in _DONE and not self.done:
            self._finished(event)
        elif category not in _DONE and self.done:
            self._reopened(event)
        if final:
            self.finished = True
            for clock in self.open_clocks():
                self.stop(clock, at, f"stopped ({event.trigger}: the case is finished)")
            return
        self.last_change = f"stage changed to {event.dest}"
        self.reselect(at, self.last_change)

    def _finished(self, event: StageChanged) -> None:
        """The case needs no more work: resolution is met and updates stop."""
        at = event.at
        self.done = True
        for clock in self.open_clocks(Metric.RESOLUTION):
            self.finish(clock, at, f"{event.trigger}: the case is {event.dest}")
        for clock in self.open_clocks(Metric.PERIODIC_UPDATE):
            self.stop(clock, at, f"stopped ({event.dest}: no updates due)")

    def _reopened(self, event: StageChanged) -> None:
        """The case needs work again: resolution resumes with its time kept; updates restart."""
        at = event.at
        self.done = False
        self.finished = False
        key = Metric.RESOLUTION.value
        measured = self.policy is not None and self.policy.target(key) is not None
        if key in self.clocks and measured:
            resolution = self.own(key)
            resolution.finished_at, resolution.stopped = None, False
            self.open[key] = None
            policy = self.policy
            assert policy is not None  # noqa: S101 - `measured` says so
            target = policy.target(key)
            assert target is not None  # noqa: S101 - `measured` says so
            if target != resolution.target or policy.calendar != resolution.calendar:
                # The policy changed while the case was resolved (the switch left the
                # finished clock alone): the time used is kept, the target is the new one.
                budget = _budget(target, policy.calendar, resolution.started_at)
                resolution.note(
                    f"{at_text(at)}: reopened ({event.trigger}) under policy {policy}; "
                    f"target {span(resolution.budget)} -> {span(budget)}; "
                    f"{span(resolution.elapsed)} already used is kept"
                )
                resolution.target, resolution.calendar = target, policy.calendar
                resolution.budget = budget
            else:
                resolution.note(
                    f"{at_text(at)}: reopened ({event.trigger}); {span(resolution.elapsed)} "
                    "already used is kept"
                )
            if not self.halted(resolution.target):
                resolution.running_since = at
        elif measured:
            # The policy came to measure the resolution while the case was resolved (the
            # switch started nothing for a case that needed no work): from now on.
            reason = f"the case was reopened ({event.trigger}): measured from now"
            self.start(Metric.RESOLUTION, at, reason)
        self.start(Metric.PERIODIC_UPDATE, at, f"the case was reopened ({event.trigger})")

    # -- answers ---------------------------------------------------------------------------

    def pending(
        self, supervisors_of: SupervisorsOf | None, teams_of: TeamsOf | None
    ) -> list[Timer]:
        """Every warning, breach and escalation not fired yet, of the clocks still open."""
        timers: list[Timer] = []
        for key in self.open:
            clock = self.clocks[key]
            due = clock.due()
            if due is not None:
                warn = clock.warn_due()
                if not clock.warned and warn is not None and warn < due:
                    timers.append(Timer(TimerKind.WARNING, key, warn, deadline=due))
                if not clock.breached:
                    timers.append(Timer(TimerKind.BREACH, key, due))
            if clock.breached and clock.breach_due is not None and self.policy is not None:
                timers += self._escalations(clock, self.policy, supervisors_of, teams_of)
        return timers

    def _escalations(
        self,
        clock: _Clock,
        policy: Policy,
        supervisors_of: SupervisorsOf | None,
        teams_of: TeamsOf | None,
    ) -> list[Timer]:
        """The next escalation of a breached clock: owner, then a supervisor, then the steward.

        A case nobody owns goes at once to the supervisors of the policy's
        `escalate_to` team, or else to every active supervisor.
        """
        assert clock.breach_due is not None  # noqa: S101 - only breached clocks escalate
        for level in range(clock.escalated + 1, _LEVELS + 1):
            told = self._told(level, policy, supervisors_of, teams_of)
            if told:
                when = clock.calendar.add(clock.breach_due, policy.escalate_every * (level - 1))
                return [
                    Timer(TimerKind.ESCALATION, clock.key, when, notify=agent, level=level)
                    for agent in told
                ]
        return []

    def _told(
        self,
        level: int,
        policy: Policy,
        supervisors_of: SupervisorsOf | None,
        teams_of: TeamsOf | None,
    ) -> list[Agent]:
        owner = self.owner
        if level == 1:
            return [owner] if owner is not None else _supervisors(policy, supervisors_of)
        if level == 2:  # noqa: PLR2004 - the levels are 1, 2 and 3
            if owner is None or supervisors_of is None:
                return []
            # The owner's teams as the directory knows them now, not as the history
            # recorded them when they took the case.
            teams = owner.teams if teams_of is None else teams_of(owner)
            found = [
                agent
                for team in sorted(teams)
                for agent in supervisors_of(team)
                if agent.id != owner.id and agent.active and Role.SUPERVISOR in agent.roles
            ]
            return sorted(found, key=lambda agent: agent.id)[:1]
        return [self.steward] if self.steward is not None else []

    def status(self, clock: _Clock, now: datetime) -> ClockStatus:
        elapsed = clock.elapsed
        segments = clock.segments
        if clock.running_since is not None:
            running = clock.calendar.elapsed(clock.running_since, now)
            elapsed += running
            if now > clock.running_since:
                segments = (
                    *segments,
                    ClockSegment(clock.running_since, now, self.owner, running),
                )
        due = clock.due()
        state = _state(clock, elapsed, due, now)
        notes = list(clock.notes)
        if state in (ClockState.RUNNING, ClockState.BREACHED) and due is not None:
            if clock.running_since is not None and clock.elapsed < clock.budget:
                left = clock.budget - clock.elapsed
                notes.append(
                    f"due {at_text(due)}: the {span(left)} left at "
                    f"{at_text(clock.running_since)}, counted on business hours"
                )
            else:
                notes.append(f"due {at_text(due)}: when its {span(clock.budget)} ran out")
        return ClockStatus(
            key=clock.key,
            metric=clock.metric,
            state=state,
            target=clock.budget,
            elapsed=elapsed,
            remaining=max(clock.budget - elapsed, _ZERO),
            due=due.astimezone(UTC) if due is not None and clock.finished_at is None else None,
            explanation=tuple(notes),
            segments=segments,
        )


def _supervisors(policy: Policy, supervisors_of: SupervisorsOf | None) -> list[Agent]:
    """Who is told when a case nobody owns breaches: the policy's team's supervisors, or all."""
    if supervisors_of is None:
        return []
    found: Sequence[Agent] = supervisors_of(policy.escalate_to) if policy.escalate_to else ()
    active = [a for a in found if a.active and Role.SUPERVISOR in a.roles]
    if not active:
        active = [a for a in supervisors_of(None) if a.active and Role.SUPERVISOR in a.roles]
    return sorted({agent.id: agent for agent in active}.values(), key=lambda agent: agent.id)


def _state(clock: _Clock, elapsed: timedelta, due: datetime | None, now: datetime) -> ClockState:
    if clock.stopped:
        return ClockState.STOPPED
    if clock.finished_at is not None:
        return ClockState.BREACHED if clock.elapsed > clock.budget else ClockState.MET
    if clock.breached or elapsed > clock.budget or (due is not None and due <= now):
        return ClockState.BREACHED
    return ClockState.PAUSED if clock.running_since is None else ClockState.RUNNING


def _calendar(calendar: BusinessCalendar) -> str:
    days = ", ".join(
        f"{day} {' '.join(f'{start}-{end}' for start, end in spans)}"
        for day, spans in calendar.hours
    )
    return f"{calendar.timezone} ({days})"


@attrs.frozen(eq=False)
class SlaTracker:
    """A case's SLA clocks after the events it has seen: a value that folds only new ones.

    `apply` returns a new tracker and leaves this one as it was; `report(now)` and
    `pending()` equal what `assess` finds from the whole history. Two trackers are
    compared by their reports, not by identity.
    """

    policies: PolicySet
    workflow: Workflow | None
    supervisors_of: SupervisorsOf | None
    teams_of: TeamsOf | None
    _fold: _Fold = attrs.field(repr=False, alias="fold")

    @classmethod
    def start(
        cls,
        policies: PolicySet,
        *,
        workflow: Workflow | None = None,
        supervisors_of: SupervisorsOf | None = None,
        teams_of: TeamsOf | None = None,
    ) -> SlaTracker:
        """The tracker before any event of a case.

        Args:
            policies: the policies in force.
            workflow: the case's workflow, whose stage categories pause the clocks
                (each target's `pause_in`) and whose final stages stop them.
            supervisors_of: who may be told of a breach: called with a team, the
                active supervisors of that team; with None, every active supervisor.
            teams_of: the teams an agent belongs to now (a directory's record), by
                which the second escalation finds the owner's supervisors; without
                it, the teams the history recorded when the agent took the case.
        """
        return cls(policies, workflow, supervisors_of, teams_of, fold=_Fold(policies, workflow))

    @property
    def version(self) -> int:
        """The version of the last event applied (0 before any)."""
        return self._fold.version

    def apply(self, events: Iterable[Event]) -> SlaTracker:
        """The tracker after `events`, oldest first; events it has seen already are skipped."""
        fold: _Fold | None = None
        for event in events:
            if event.version <= self._fold.version:
                continue
            if fold is None:
                fold = self._fold.copy()
            fold.apply(event)
        if fold is None:
            return self
        return SlaTracker(
            self.policies, self.workflow, self.supervisors_of, self.teams_of, fold=fold
        )

    def pending(self) -> tuple[Timer, ...]:
        """Every warning, breach and escalation not fired yet, earliest first."""
        timers = self._fold.pending(self.supervisors_of, self.teams_of)
        return tuple(sorted(timers, key=lambda timer: timer.due))

    def next_due(self) -> datetime | None:
        """When the earliest timer not fired yet falls due, if any."""
        timers = self._fold.pending(self.supervisors_of, self.teams_of)
        return min(timer.due for timer in timers) if timers else None

    def timers_due(self, now: datetime) -> tuple[Timer, ...]:
        """The timers due by the aware time `now`."""
        return due_by(self.pending(), utc(now, what="now"))

    def report(self, now: datetime) -> SlaReport:
        """Every SLA clock at the aware time `now` (after the events applied)."""
        moment = utc(now, what="now")
        fold = self._fold
        pending = self.pending()
        return SlaReport(
            case_id=fold.case_id,
            at=moment,
            policy=fold.policy,
            clocks=tuple(fold.status(clock, moment) for clock in fold.clocks.values()),
            pending=pending,
            next_due=pending[0].due if pending else None,
            owner=fold.owner,
            steward=fold.steward,
        )


def assess(  # noqa: PLR0913 - the history and policies, then keyword-only options
    history: Sequence[Event],
    policies: PolicySet,
    *,
    now: datetime,
    workflow: Workflow | None = None,
    supervisors_of: SupervisorsOf | None = None,
    teams_of: TeamsOf | None = None,
) -> SlaReport:
    """Every SLA clock of the case whose `history` this is, at the aware time `now`.

    Args:
        history: the case's events, oldest first (events after `now` are ignored).
        policies: the policies in force.
        now: the moment to report on.
        workflow: the case's workflow, whose stage categories pause the clocks and
            whose final stages stop them.
        supervisors_of: who may be told of a breach (see `SlaTracker.start`); without
            it, breaches escalate to the owner and the steward only.
        teams_of: the teams an agent belongs to now (see `SlaTracker.start`).
    """
    moment = utc(now, what="now")
    tracker = SlaTracker.start(
        policies, workflow=workflow, supervisors_of=supervisors_of, teams_of=teams_of
    )
    return tracker.apply(itertools.takewhile(lambda e: e.at <= moment, history)).report(moment)
