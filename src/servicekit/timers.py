"""Timers: what falls due on a case with the passing of time (SLA warnings, breaches, escalations).

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


def _due(value: datetime) -> datetime:
    return utc(value, what="a timer's due time")


def _level(instance: Timer, _attribute: object, value: int) -> None:
    from servicekit.errors import InvalidValue  # noqa: PLC0415 - errors imports nothing of ours

    escalating = instance.kind is TimerKind.ESCALATION
    if escalating and not (1 <= value <= _ESCALATION_LEVELS and instance.notify is not None):
        msg = f"an escalation has a level from 1 to 3 and an agent to notify, got {instance!r}"
        raise InvalidValue(msg)
    if not escalating and (value != 0 or instance.notify is not None):
        msg = f"only an escalation has a level and an agent to notify, got {instance!r}"
        raise InvalidValue(msg)


@attrs.frozen
class Timer:
    """One timer that fell due: its kind, the SLA clock it belongs to, and when it was due."""

    kind: TimerKind
    clock: str = attrs.field(validator=non_blank)
    due: datetime = attrs.field(converter=_due)
    notify: Agent | None = None
    level: int = attrs.field(default=0, validator=_level)
