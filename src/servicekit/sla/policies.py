"""What is promised: metrics, targets (in business hours or business days), policies.

A `PolicySet` is an ordered list of `Policy` values; the first whose `Conditions`
match a case applies. A policy has a version, a `BusinessCalendar` and `Target`s.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Final

import attrs

from servicekit._values import non_blank, optional_non_blank
from servicekit.calendar import BusinessCalendar, parse_duration
from servicekit.errors import InvalidValue
from servicekit.workflow import StatusCategory

__all__ = [
    "BusinessDays",
    "Conditions",
    "Facts",
    "Metric",
    "Policy",
    "PolicySet",
    "Target",
]


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


@attrs.frozen
class BusinessDays:
    """A target counted in open dates of the policy's calendar: "2 business days".

    Without pauses the clock is due at ``calendar.add_business_days(start, days)``,
    moved to the next open moment when that falls outside the hours; business time
    spent paused moves it on by as much.
    """

    days: int = attrs.field()

    @days.validator
    def _positive(self, _attribute: object, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            msg = f"a target in business days is a whole number from 1, got {value!r}"
            raise InvalidValue(msg)

    def due(self, calendar: BusinessCalendar, start: datetime) -> datetime:
        """When a clock that started at `start` and never paused is due."""
        return calendar.next_open(calendar.add_business_days(start, self.days))

    def __str__(self) -> str:
        """The target in words: "2 business days"."""
        return f"{self.days} business day{'s' if self.days != 1 else ''}"


_BUSINESS_DAYS: Final = re.compile(r"\s*(\d+)\s*(?:bd|business\s+days?)\s*", re.IGNORECASE)
_CALENDAR_DAYS: Final = re.compile(
    r"(\d\s*(d|days?|w|wks?|weeks?)\b)|(^\s*P[^T]*[DW])", re.IGNORECASE
)


def _budget(value: object) -> timedelta | BusinessDays:
    """A target's allowance: business time, or a number of business days."""
    if isinstance(value, BusinessDays):
        return value
    if isinstance(value, str):
        days = _BUSINESS_DAYS.fullmatch(value)
        if days is not None:
            return BusinessDays(int(days[1]))
        if _CALENDAR_DAYS.search(value):
            msg = (
                f"an SLA target of {value!r} is ambiguous: write '2 business days' (or '2bd') "
                "to count open dates of the calendar, or hours ('16h') for business time"
            )
            raise InvalidValue(msg)
    duration = parse_duration(value) if isinstance(value, str) else value
    if not isinstance(duration, timedelta) or duration <= timedelta(0):
        msg = (
            "an SLA target is a positive business time (a timedelta or '4h') or a number "
            f"of business days ('2 business days', '2bd'), got {value!r}"
        )
        raise InvalidValue(msg)
    return duration


def _share(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        msg = f"warn_at is a share of the target between 0 and 1, got {value!r}"
        raise InvalidValue(msg)


def _categories(value: Any) -> frozenset[StatusCategory]:
    categories = frozenset((value,)) if isinstance(value, StatusCategory) else value
    try:
        categories = frozenset(categories)
    except TypeError:
        categories = None
    if categories is None or not all(isinstance(c, StatusCategory) for c in categories):
        msg = f"pause_in is a set of StatusCategory values, got {value!r}"
        raise InvalidValue(msg)
    return categories


def _flag(_instance: object, attribute: Any, value: Any) -> None:
    if not isinstance(value, bool):
        msg = f"{attribute.name} is True or False, got {value!r}"
        raise InvalidValue(msg)


@attrs.frozen
class Target:
    """One measured promise: `metric` within `within` of business time or business days.

    Args:
        metric: what is measured.
        within: the business time allowed (a `timedelta` or a string like "4h"), or
            business days ("2 business days", "2bd", or `BusinessDays(2)`). Days
            written as "2d" are refused as ambiguous: they once meant 48 business
            hours, about six working days.
        stage: for `Metric.REACH_STAGE`, the stage to reach.
        warn_at: the share of `within` at which a warning fires (0.75 by default).
        pause_in: the status categories whose stages pause this clock (pending by
            default: waiting on the customer); `()` for a clock that never pauses
            for a stage.
        pausable: whether an explicit `PauseSla` pauses this clock (True by default).
    """

    metric: Metric
    within: timedelta | BusinessDays = attrs.field(converter=_budget)
    stage: str | None = attrs.field(default=None, validator=optional_non_blank)
    warn_at: float = attrs.field(default=0.75, validator=_share)
    pause_in: frozenset[StatusCategory] = attrs.field(
        default=frozenset({StatusCategory.PENDING}), converter=_categories, kw_only=True
    )
    pausable: bool = attrs.field(default=True, validator=_flag, kw_only=True)

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


def _escalate_every(value: object) -> timedelta:
    duration = parse_duration(value) if isinstance(value, str) else value
    if not isinstance(duration, timedelta) or duration <= timedelta(0):
        msg = f"escalate_every is a positive business time (timedelta or '1h'), got {value!r}"
        raise InvalidValue(msg)
    return duration


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
        escalate_to: the team whose supervisors are told at once when a case that
            nobody owns breaches; without it (or when that team has no active
            supervisor), every active supervisor is told.
    """

    name: str = attrs.field(validator=non_blank)
    version: int = attrs.field(validator=_version)
    calendar: BusinessCalendar
    targets: tuple[Target, ...] = attrs.field(converter=_targets)
    conditions: Conditions = Conditions()
    escalate_every: timedelta = attrs.field(default=timedelta(hours=1), converter=_escalate_every)
    escalate_to: str | None = attrs.field(default=None, validator=optional_non_blank)

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
