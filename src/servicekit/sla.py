"""SLA policies and clocks: answers on time, measured on business hours, explained.

A `PolicySet` is an ordered list of `Policy` values; the first whose `Conditions`
match a case (priority, channel, stage, customer tier, workflow) applies. A
policy has a version, a `BusinessCalendar` and `Target`s: first response, next
response (each inbound message needs an answer), periodic update, resolution,
and "reach stage S within N".

`assess(history, policies, now=...)` folds a case's history into an `SlaReport`:
per clock its state (running, paused, met, breached), due time, remaining
business time, and an explanation that replays the same way every time. Clocks
pause while the case waits on the customer (a `pending` stage) and during
explicit pauses; a change of priority (or of the stage, where a policy depends on
it) may bring another policy: the deadline is recalculated and the business time
already elapsed is kept. `SlaReport.timers_due(now)` lists the warnings, breaches
and escalations that have fallen due and not yet fired.

Everything here is pure: time comes in as arguments.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from servicekit._values import non_blank, utc
from servicekit.calendar import BusinessCalendar, parse_duration
from servicekit.errors import InvalidValue
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
from servicekit.ownership import Agent, Customer
from servicekit.timers import Timer, TimerKind
from servicekit.workflow import StatusCategory, Workflow

__all__ = [
    "ClockState",
    "ClockStatus",
    "Conditions",
    "Facts",
    "Metric",
    "Policy",
    "PolicySet",
    "SlaReport",
    "Target",
    "assess",
]

_DONE = frozenset(
    {StatusCategory.RESOLVED, StatusCategory.CLOSED, StatusCategory.WON, StatusCategory.LOST}
)
"""Categories in which a case needs no more work: resolution is met, updates stop."""

_LEVELS = 3


class Metric(enum.Enum):
    """What an SLA target measures."""

    FIRST_RESPONSE = "first_response"
    """From a customer-started case's opening to the company's first outbound answer."""
    NEXT_RESPONSE = "next_response"
    """From each inbound message (after the first response) to the next outbound answer."""
    PERIODIC_UPDATE = "periodic_update"
    """Between outbound updates while the case is open."""
    RESOLUTION = "resolution"
    """From opening until the case is resolved (or won, lost, closed); a reopen resumes it."""
    REACH_STAGE = "reach_stage"
    """From opening until the case first enters a given stage."""


def _duration(value: object) -> timedelta:
    duration = parse_duration(value) if isinstance(value, str) else value
    if not isinstance(duration, timedelta) or duration <= timedelta(0):
        msg = f"an SLA target is a positive duration (timedelta or '4h'), got {value!r}"
        raise InvalidValue(msg)
    return duration


def _share(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        msg = f"warn_at is a share of the target between 0 and 1, got {value!r}"
        raise InvalidValue(msg)


@attrs.frozen
class Target:
    """One measured promise: `metric` within `within` of business time.

    Args:
        metric: what is measured.
        within: the business time allowed (a `timedelta` or a string like "4h").
        stage: for `Metric.REACH_STAGE`, the stage to reach.
        warn_at: the share of `within` at which a warning fires (0.75 by default).
    """

    metric: Metric
    within: timedelta = attrs.field(converter=_duration)
    stage: str | None = None
    warn_at: float = attrs.field(default=0.75, validator=_share)

    def __attrs_post_init__(self) -> None:
        """A stage goes with `REACH_STAGE`, and only with it."""
        if (self.metric is Metric.REACH_STAGE) != (self.stage is not None):
            msg = f"a stage is given for Metric.REACH_STAGE, and only for it: {self!r}"
            raise InvalidValue(msg)

    @property
    def key(self) -> str:
        """The clock's name: the metric, and for reach-stage targets the stage."""
        return self.metric.value if self.stage is None else f"reach_stage:{self.stage}"


def _names(value: Any) -> frozenset[str]:
    names = frozenset((value,)) if isinstance(value, str) else frozenset(value)
    if not all(isinstance(name, str) and name for name in names):
        msg = f"conditions are names (strings), got {value!r}"
        raise InvalidValue(msg)
    return frozenset(str(name) for name in names)


@attrs.frozen(kw_only=True)
class Conditions:
    """When a policy applies: every non-empty set must contain the case's value."""

    priorities: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    channels: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    stages: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    tiers: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    workflows: frozenset[str] = attrs.field(default=frozenset(), converter=_names)

    def matches(self, facts: Facts) -> bool:
        """Whether a case with these facts falls under the conditions."""
        return all(
            not allowed or value in allowed
            for allowed, value in (
                (self.priorities, facts.priority),
                (self.channels, facts.channel),
                (self.stages, facts.stage),
                (self.tiers, facts.tier),
                (self.workflows, facts.workflow),
            )
        )

    def __str__(self) -> str:
        """The conditions in words ("priority high, tier gold"; "any case")."""
        parts = [
            f"{label} {' or '.join(sorted(values))}"
            for label, values in (
                ("priority", self.priorities),
                ("channel", self.channels),
                ("stage", self.stages),
                ("tier", self.tiers),
                ("workflow", self.workflows),
            )
            if values
        ]
        return ", ".join(parts) or "any case"


@attrs.frozen
class Facts:
    """What policy conditions look at: a case's priority, channel, stage, tier and workflow."""

    priority: str
    channel: str
    stage: str
    tier: str | None
    workflow: str


def _targets(value: Iterable[Target]) -> tuple[Target, ...]:
    targets = tuple(value)
    if not all(isinstance(target, Target) for target in targets):
        msg = f"targets must be Target values, got {targets!r}"
        raise InvalidValue(msg)
    keys = [target.key for target in targets]
    if len(set(keys)) != len(keys):
        msg = f"a policy measures each clock once, got {keys}"
        raise InvalidValue(msg)
    return targets


def _version(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"a policy version is a whole number from 1, got {value!r}"
        raise InvalidValue(msg)


@attrs.frozen(kw_only=True)
class Policy:
    """A versioned set of SLA targets on a business calendar, for the cases it matches.

    Args:
        name: the policy's name; `name` and `version` identify it in explanations.
        version: a whole number from 1; bump it when the targets change.
        calendar: the business hours the targets are measured on.
        targets: what is promised.
        conditions: which cases it covers (every case by default).
        escalate_every: after a breach, the owner is told at once (level 1), a
            supervisor of their team after this much business time (level 2), and
            the steward after twice as much (level 3).
    """

    name: str = attrs.field(validator=non_blank)
    version: int = attrs.field(validator=_version)
    calendar: BusinessCalendar
    targets: tuple[Target, ...] = attrs.field(converter=_targets)
    conditions: Conditions = Conditions()
    escalate_every: timedelta = attrs.field(default=timedelta(hours=1), converter=_duration)

    def target(self, key: str) -> Target | None:
        """The target measured by the clock `key`, if the policy has one."""
        return next((target for target in self.targets if target.key == key), None)

    def __str__(self) -> str:
        """The policy as named in explanations: "'standard' v2"."""
        return f"{self.name!r} v{self.version}"


def _policies(value: Iterable[Policy]) -> tuple[Policy, ...]:
    policies = tuple(value)
    if not all(isinstance(policy, Policy) for policy in policies):
        msg = f"a PolicySet holds Policy values, got {policies!r}"
        raise InvalidValue(msg)
    return policies


@attrs.frozen
class PolicySet:
    """Policies in order: the first whose conditions match a case applies to it."""

    policies: tuple[Policy, ...] = attrs.field(converter=_policies)

    def select(self, facts: Facts) -> Policy | None:
        """The policy for a case with these facts, or None if no policy covers it."""
        return next((policy for policy in self.policies if policy.conditions.matches(facts)), None)

    def find(self, name: str, version: int) -> Policy | None:
        """The policy `name` at `version`, or else the first policy called `name`, or None."""
        named = [policy for policy in self.policies if policy.name == name]
        exact = [policy for policy in named if policy.version == version]
        found = exact or named
        return found[0] if found else None


class ClockState(enum.Enum):
    """Where an SLA clock stands."""

    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"
    STOPPED = "stopped"
    """No longer measured: the policy now in force has no such target, or updates stopped."""


@attrs.frozen
class ClockStatus:
    """One SLA clock of a case at a moment: state, deadline, what is left, and why."""

    key: str
    metric: Metric
    state: ClockState
    target: timedelta
    elapsed: timedelta
    remaining: timedelta
    due: datetime | None
    explanation: tuple[str, ...]

    def __str__(self) -> str:
        """The clock in one line, then its explanation."""
        due = f", due {_at(self.due)}" if self.due is not None else ""
        head = (
            f"{self.key}: {self.state.value}{due}; {_span(self.elapsed)} of {_span(self.target)} "
            f"used, {_span(self.remaining)} left"
        )
        return "\n".join([head, *(f"  - {line}" for line in self.explanation)])


@attrs.frozen
class SlaReport:
    """Every SLA clock of a case at `at`, under the policy that applies now."""

    case_id: str
    at: datetime
    policy: Policy | None
    clocks: tuple[ClockStatus, ...]
    pending: tuple[Timer, ...]
    next_due: datetime | None

    def clock(self, key: str) -> ClockStatus:
        """The clock called `key` ("first_response", "next_response#2", ...)."""
        for clock in self.clocks:
            if clock.key == key:
                return clock
        known = [clock.key for clock in self.clocks]
        msg = f"case {self.case_id!r} has no SLA clock {key!r}; clocks: {known}"
        raise KeyError(msg)

    def timers_due(self) -> tuple[Timer, ...]:
        """Warnings, breaches and escalations due by `at` that have not fired yet."""
        return tuple(timer for timer in self.pending if timer.due <= self.at)

    def __str__(self) -> str:
        """The report as text."""
        policy = "no SLA policy applies" if self.policy is None else f"policy {self.policy}"
        lines = [f"SLA of case {self.case_id} at {_at(self.at)} ({policy})"]
        lines += [str(clock) for clock in self.clocks]
        return "\n".join(lines)


def _span(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    hours, minutes = divmod(abs(minutes), 60)
    sign = "-" if duration < timedelta(0) else ""
    return f"{sign}{hours}h{minutes:02d}m"


@attrs.define
class _Clock:
    """One clock while the history is folded (mutable; never leaves this module)."""

    key: str
    metric: Metric
    target: Target
    calendar: BusinessCalendar
    elapsed: timedelta = timedelta(0)
    running_since: datetime | None = None
    finished_at: datetime | None = None
    warned: bool = False
    breached: bool = False
    escalated: int = 0
    breach_due: datetime | None = None
    stopped: bool = False
    notes: list[str] = attrs.field(factory=list)

    def stop_segment(self, at: datetime) -> None:
        if self.running_since is not None:
            self.elapsed += self.calendar.elapsed(self.running_since, at)
            self.running_since = None

    def due(self) -> datetime | None:
        return self._when_used(self.target.within)

    def warn_due(self) -> datetime | None:
        return self._when_used(self.target.within * self.target.warn_at)

    def _when_used(self, budget: timedelta) -> datetime | None:
        """When a running clock will have used `budget` of business time (None if paused)."""
        if self.running_since is None:
            return None
        return self.calendar.add(self.running_since, max(budget - self.elapsed, timedelta(0)))


class _Fold:
    """Folds a history into SLA clocks."""

    def __init__(self, policies: PolicySet, workflow: Workflow | None) -> None:
        self.policies = policies
        self.workflow = workflow
        self.facts: Facts | None = None
        self.policy: Policy | None = None
        self.clocks: dict[str, _Clock] = {}
        self.cycles: dict[Metric, int] = {}
        self.pending_stage = False
        self.paused = False
        self.done = False
        self.case_id = ""
        self.recorded = False
        self.last_change = ""
        self.customer_opened = False
        self.answered = False
        self.reached: set[str] = set()

    @property
    def halted(self) -> bool:
        return self.pending_stage or self.paused

    def start(self, metric: Metric, at: datetime, why: str, *, stage: str | None = None) -> None:
        if self.policy is None:
            return
        base = metric.value if stage is None else f"reach_stage:{stage}"
        target = self.policy.target(base)
        if target is None:
            return
        key = base
        if metric in (Metric.NEXT_RESPONSE, Metric.PERIODIC_UPDATE):
            self.cycles[metric] = self.cycles.get(metric, 0) + 1
            key = f"{base}#{self.cycles[metric]}"
        clock = _Clock(key, metric, target, self.policy.calendar)
        promise = f"reach {stage}" if stage is not None else base.replace("_", " ")
        clock.notes.append(
            f"{_at(at)}: started ({why}) under policy {self.policy}, on "
            f"{_calendar(clock.calendar)}: {promise} within {_span(target.within)} of business time"
        )
        if self.halted:
            clock.notes.append(f"{_at(at)}: paused from the start ({self.halt_reason()})")
        else:
            clock.running_since = at
        self.clocks[key] = clock

    def halt_reason(self) -> str:
        return "waiting on the customer" if self.pending_stage else "paused on purpose"

    def open_clocks(self, metric: Metric | None = None) -> list[_Clock]:
        return [
            clock
            for clock in self.clocks.values()
            if clock.finished_at is None and (metric is None or clock.metric is metric)
        ]

    def finish(self, clock: _Clock, at: datetime, why: str) -> None:
        clock.stop_segment(at)
        clock.finished_at = at
        late = clock.elapsed > clock.target.within
        verdict = "met late" if late else "met"
        clock.notes.append(f"{_at(at)}: {verdict} ({why}) after {_span(clock.elapsed)}")

    def halt(self, at: datetime, why: str) -> None:
        for clock in self.open_clocks():
            if clock.running_since is not None:
                clock.stop_segment(at)
                clock.notes.append(f"{_at(at)}: paused ({why}); {_span(clock.elapsed)} used")

    def resume(self, at: datetime, why: str) -> None:
        if self.halted:
            return
        for clock in self.open_clocks():
            if clock.running_since is None:
                clock.running_since = at
                clock.notes.append(f"{_at(at)}: running again ({why})")

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
            for clock in self.clocks.values():
                clock.notes.append(
                    f"{_at(event.at)}: the case is under {event.policy!r} "
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
            clock.stop_segment(at)
            if target is None or policy is None:
                clock.finished_at, clock.stopped = at, True
                clock.notes.append(f"{_at(at)}: {why}: no longer measured under policy {policy}")
                continue
            clock.notes.append(
                f"{_at(at)}: {why}: policy {old} -> {policy}; target "
                f"{_span(clock.target.within)} -> {_span(target.within)}; "
                f"{_span(clock.elapsed)} already used is kept"
            )
            clock.target, clock.calendar = target, policy.calendar
            if not self.halted:
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

    def apply(self, event: Event) -> None:  # noqa: C901, PLR0912 - one branch per event kind
        at = event.at
        if isinstance(event, CaseOpened):
            self.case_id = event.case_id
            self.facts = Facts(
                event.priority, event.channel.name, event.stage, event.tier, event.workflow
            )
            self.policy = self.policies.select(self.facts)
            self.pending_stage = self._category(event.stage) is StatusCategory.PENDING
            self.reached.add(event.stage)
            self.customer_opened = isinstance(event.actor, Customer)
            if isinstance(event.actor, Customer):
                # An agent who opens a case was talking with the customer: answered live.
                self.start(Metric.FIRST_RESPONSE, at, "the customer opened the case")
            self.start(Metric.RESOLUTION, at, "the case was opened")
            self.start(Metric.PERIODIC_UPDATE, at, "the case was opened")
            if self.policy is not None:
                for target in self.policy.targets:
                    if target.metric is Metric.REACH_STAGE and target.stage != event.stage:
                        self.start(
                            Metric.REACH_STAGE, at, "the case was opened", stage=target.stage
                        )
        elif isinstance(event, InteractionRecorded):
            self._interaction(event)
        elif isinstance(event, StageChanged):
            self._stage(event)
        elif isinstance(event, PriorityChanged) and self.facts is not None:
            self.facts = attrs.evolve(self.facts, priority=event.priority)
            self.last_change = f"priority changed to {event.priority}"
            self.reselect(at, self.last_change)
        elif isinstance(event, SlaPolicyApplied):
            self.record(event)
        elif isinstance(event, SlaPaused):
            self.halt(at, f"paused on purpose: {event.reason}")
            self.paused = True
        elif isinstance(event, SlaResumed):
            self.paused = False
            self.resume(at, "resumed on purpose")
        elif isinstance(event, SlaWarned | SlaBreached | SlaEscalated):
            clock = self.clocks.get(event.clock)
            if clock is not None:
                if isinstance(event, SlaWarned):
                    clock.warned = True
                elif isinstance(event, SlaBreached):
                    clock.breached, clock.breach_due = True, event.due
                    clock.notes.append(f"{_at(at)}: breached (it was due {_at(event.due)})")
                else:
                    clock.escalated = max(clock.escalated, event.level)
                    clock.notes.append(
                        f"{_at(at)}: escalated to level {event.level}: {event.notify}"
                    )

    def _category(self, stage: str) -> StatusCategory | None:
        if self.workflow is None:
            return None
        return self.workflow.stage(stage).category

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
        category = self._category(event.dest)
        was_pending = self.pending_stage
        self.pending_stage = category is StatusCategory.PENDING
        self.reached.add(event.dest)
        if self.facts is not None:
            self.facts = attrs.evolve(self.facts, stage=event.dest)
        if self.pending_stage and not was_pending and not self.paused:
            self.halt(at, f"waiting on the customer ({event.dest})")
        for clock in self.open_clocks(Metric.REACH_STAGE):
            if clock.target.stage == event.dest:
                self.finish(clock, at, f"the case reached {event.dest}")
        if category in _DONE and not self.done:
            self._finished(event)
        elif category not in _DONE and self.done:
            self._reopened(event)
        if was_pending and not self.pending_stage:
            self.resume(at, f"the case left waiting ({event.dest})")
        self.last_change = f"stage changed to {event.dest}"
        self.reselect(at, self.last_change)

    def _finished(self, event: StageChanged) -> None:
        """The case needs no more work: resolution is met and updates stop."""
        at = event.at
        self.done = True
        for clock in self.open_clocks(Metric.RESOLUTION):
            self.finish(clock, at, f"{event.trigger}: the case is {event.dest}")
        for clock in self.open_clocks(Metric.PERIODIC_UPDATE):
            clock.stop_segment(at)
            clock.finished_at, clock.stopped = at, True
            clock.notes.append(f"{_at(at)}: stopped ({event.dest}: no updates due)")

    def _reopened(self, event: StageChanged) -> None:
        """The case needs work again: resolution resumes with its time kept; updates restart."""
        at = event.at
        self.done = False
        resolution = self.clocks.get(Metric.RESOLUTION.value)
        if resolution is not None:
            resolution.finished_at = None
            resolution.notes.append(
                f"{_at(at)}: reopened ({event.trigger}); {_span(resolution.elapsed)} "
                "already used is kept"
            )
            if not self.halted:
                resolution.running_since = at
        self.start(Metric.PERIODIC_UPDATE, at, f"the case was reopened ({event.trigger})")


def _at(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}Z"


def _calendar(calendar: BusinessCalendar) -> str:
    days = ", ".join(
        f"{day} {' '.join(f'{start}-{end}' for start, end in spans)}"
        for day, spans in calendar.hours
    )
    return f"{calendar.timezone} ({days})"


def assess(
    history: Sequence[Event],
    policies: PolicySet,
    *,
    now: datetime,
    workflow: Workflow | None = None,
    supervisor_of: Callable[[Agent], Agent | None] | None = None,
) -> SlaReport:
    """Every SLA clock of the case whose `history` this is, at the aware time `now`.

    Args:
        history: the case's events, oldest first (events after `now` are ignored).
        policies: the policies in force.
        now: the moment to report on.
        workflow: the case's workflow, whose `pending` stages pause the clocks.
        supervisor_of: who is escalated to at level 2 for an owner (none: skip to
            the steward).
    """
    moment = utc(now, what="now")
    fold = _Fold(policies, workflow)
    owner: Agent | None = None
    steward: Agent | None = None
    for event in history:
        if event.at > moment:
            break
        fold.apply(event)
        if isinstance(event, OwnerAssigned):
            owner = event.owner
        elif isinstance(event, CaseTransferred):
            owner = event.to_owner
        elif isinstance(event, StewardAppointed):
            steward = event.steward
        elif isinstance(event, StewardReassigned):
            steward = event.to_steward
    clocks = []
    pending: list[Timer] = []
    for clock in fold.clocks.values():
        status, timers = _status(
            clock,
            moment,
            policy=fold.policy,
            owner=owner,
            steward=steward,
            supervisor_of=supervisor_of,
        )
        clocks.append(status)
        pending += timers
    upcoming = [timer.due for timer in pending]
    return SlaReport(
        case_id=fold.case_id,
        at=moment,
        policy=fold.policy,
        clocks=tuple(clocks),
        pending=tuple(sorted(pending, key=lambda timer: timer.due)),
        next_due=min(upcoming) if upcoming else None,
    )


def _status(  # noqa: PLR0913 - the parts of a clock's situation
    clock: _Clock,
    now: datetime,
    *,
    policy: Policy | None,
    owner: Agent | None,
    steward: Agent | None,
    supervisor_of: Callable[[Agent], Agent | None] | None,
) -> tuple[ClockStatus, list[Timer]]:
    elapsed = clock.elapsed
    if clock.running_since is not None:
        elapsed += clock.calendar.elapsed(clock.running_since, now)
    due = clock.due()
    state = _state(clock, elapsed, due, now)
    notes = list(clock.notes)
    if state in (ClockState.RUNNING, ClockState.BREACHED) and due is not None:
        assert clock.running_since is not None  # noqa: S101 - only a running clock is due
        left = max(clock.target.within - clock.elapsed, timedelta(0))
        notes.append(
            f"due {_at(due)}: the {_span(left)} left at {_at(clock.running_since)}, "
            "counted on business hours"
        )
    timers: list[Timer] = []
    if clock.finished_at is None and clock.running_since is not None and due is not None:
        warn = clock.warn_due()
        if not clock.warned and warn is not None and warn < due:
            timers.append(Timer(TimerKind.WARNING, clock.key, warn))
        if not clock.breached:
            timers.append(Timer(TimerKind.BREACH, clock.key, due))
    if clock.finished_at is None and clock.breached and clock.breach_due and policy is not None:
        timers += _escalations(clock, policy, owner, steward, supervisor_of)
    status = ClockStatus(
        key=clock.key,
        metric=clock.metric,
        state=state,
        target=clock.target.within,
        elapsed=elapsed,
        remaining=max(clock.target.within - elapsed, timedelta(0)),
        due=due.astimezone(UTC) if due is not None and clock.finished_at is None else None,
        explanation=tuple(notes),
    )
    return status, timers


def _state(clock: _Clock, elapsed: timedelta, due: datetime | None, now: datetime) -> ClockState:
    if clock.stopped:
        return ClockState.STOPPED
    if clock.finished_at is not None:
        return ClockState.BREACHED if clock.elapsed > clock.target.within else ClockState.MET
    if clock.breached or elapsed > clock.target.within or (due is not None and due <= now):
        return ClockState.BREACHED
    return ClockState.PAUSED if clock.running_since is None else ClockState.RUNNING


def _escalations(
    clock: _Clock,
    policy: Policy,
    owner: Agent | None,
    steward: Agent | None,
    supervisor_of: Callable[[Agent], Agent | None] | None,
) -> list[Timer]:
    """The next escalation of a breached clock: owner, then a supervisor, then the steward."""
    assert clock.breach_due is not None  # noqa: S101 - only breached clocks escalate
    for level in range(clock.escalated + 1, _LEVELS + 1):
        if level == 1:
            notify = owner
        elif level == 2:  # noqa: PLR2004 - the levels are 1, 2 and 3
            notify = supervisor_of(owner) if supervisor_of is not None and owner else None
        else:
            notify = steward
        if notify is None:
            continue
        when = clock.calendar.add(clock.breach_due, policy.escalate_every * (level - 1))
        return [Timer(TimerKind.ESCALATION, clock.key, when, notify=notify, level=level)]
    return []
