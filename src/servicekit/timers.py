"""Timers: what falls due on a case with the passing of time.

SLA warnings, breaches and escalations, follow-ups that fell due, and automatic
closes.

The SLA engine works out which timers are due (`servicekit.sla`); the system
records them with a `FireTimers` command, and `decide` turns each into its event.
A timer that fired is a fact in the history, so it never fires twice.
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from servicekit._values import non_blank, utc
from servicekit.ownership import Agent

__all__ = ["Timer", "TimerKind"]

_ESCALATION_LEVELS = 3


class TimerKind(enum.Enum):
    """What a timer announces."""

    WARNING = "warning"
    """An SLA clock reached its warning share."""
    BREACH = "breach"
    """An SLA clock ran past its target."""
    ESCALATION = "escalation"
    """A breach goes one level up: the owner, a supervisor, the steward."""
    FOLLOW_UP = "follow_up"
    """A follow-up fell due: its assignee is told to reach out."""
    CLOSE = "close"
    """The customer confirmed they were served: the case closes."""


def _due(value: datetime) -> datetime:
    return utc(value, what="a timer's due time")


def _level(instance: Timer, _attribute: object, value: int) -> None:
    from servicekit.errors import InvalidValue  # noqa: PLC0415 - errors imports nothing of ours

    escalating = instance.kind is TimerKind.ESCALATION
    if escalating and not (1 <= value <= _ESCALATION_LEVELS and instance.notify is not None):
        msg = f"an escalation has a level from 1 to 3 and an agent to notify, got {instance!r}"
        raise InvalidValue(msg)
    if not escalating and value != 0:
        msg = f"only an escalation has a level, got {instance!r}"
        raise InvalidValue(msg)
    following = instance.kind is TimerKind.FOLLOW_UP
    named = instance.follow_up_id is not None
    if (following and not (named and instance.notify is not None)) or (named and not following):
        msg = f"a follow-up timer, and only it, names its follow-up and assignee: {instance!r}"
        raise InvalidValue(msg)
    if instance.kind in (TimerKind.WARNING, TimerKind.BREACH, TimerKind.CLOSE) and (
        instance.notify is not None
    ):
        msg = f"a {instance.kind.value} timer notifies nobody, got {instance!r}"
        raise InvalidValue(msg)
    warning = instance.kind is TimerKind.WARNING
    if warning != (instance.deadline is not None):
        msg = f"a warning timer, and only it, names the target's due time (deadline): {instance!r}"
        raise InvalidValue(msg)


def _deadline(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value, what="a warning's deadline")


@attrs.frozen
class Timer:
    """One timer that fell due: its kind, the SLA clock it belongs to, and when it was due.

    A warning's `due` is the moment it falls due (the warning share of the target
    used) and its `deadline` the moment the target itself is due.
    """

    kind: TimerKind
    clock: str = attrs.field(validator=non_blank)
    due: datetime = attrs.field(converter=_due)
    notify: Agent | None = None
    level: int = attrs.field(default=0, validator=_level)
    follow_up_id: int | None = None
    deadline: datetime | None = attrs.field(default=None, converter=_deadline)
