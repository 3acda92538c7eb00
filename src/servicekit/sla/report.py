"""What an SLA assessment says: each clock's state, deadline, who used its time, and why."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

import attrs

from servicekit.ownership import Agent
from servicekit.sla.policies import Metric, Policy
from servicekit.timers import Timer

__all__ = ["ClockSegment", "ClockState", "ClockStatus", "SlaReport"]


class ClockState(enum.Enum):
    """Where an SLA clock stands."""

    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"
    STOPPED = "stopped"
    """No longer measured: the policy now in force has no such target, updates stopped, or
    the case is finished."""


@attrs.frozen
class ClockSegment:
    """A stretch of time an SLA clock ran, and who owned the case meanwhile (attribution).

    `owner` is None while nobody owned the case; `elapsed` is the business time
    the stretch used.
    """

    start: datetime
    end: datetime
    owner: Agent | None
    elapsed: timedelta


@attrs.frozen
class ClockStatus:
    """One SLA clock of a case at a moment: state, deadline, what is left, who used it, why."""

    key: str
    metric: Metric
    state: ClockState
    target: timedelta
    elapsed: timedelta
    remaining: timedelta
    due: datetime | None
    explanation: tuple[str, ...]
    segments: tuple[ClockSegment, ...] = ()

    def used_by(self) -> dict[str | None, timedelta]:
        """The business time each owner's stretches used, by agent id (None: unowned)."""
        split: dict[str | None, timedelta] = {}
        for segment in self.segments:
            holder = None if segment.owner is None else segment.owner.id
            split[holder] = split.get(holder, timedelta(0)) + segment.elapsed
        return split

    def __str__(self) -> str:
        """The clock in one line, then who used its time, then its explanation."""
        due = f", due {at_text(self.due)}" if self.due is not None else ""
        head = (
            f"{self.key}: {self.state.value}{due}; {span(self.elapsed)} of {span(self.target)} "
            f"used, {span(self.remaining)} left"
        )
        used = [
            f"  {span(time)} while {'nobody' if holder is None else holder} owned the case"
            for holder, time in self.used_by().items()
            if time
        ]
        return "\n".join([head, *used, *(f"  - {line}" for line in self.explanation)])


@attrs.frozen
class SlaReport:
    """Every SLA clock of a case at `at`, under the policy that applies now.

    `owner` and `steward` are the case's at `at`: the clocks' segments say who
    used each clock's time, while the steward stays accountable for the case.
    """

    case_id: str
    at: datetime
    policy: Policy | None
    clocks: tuple[ClockStatus, ...]
    pending: tuple[Timer, ...]
    next_due: datetime | None
    owner: Agent | None = None
    steward: Agent | None = None

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
        return due_by(self.pending, self.at)

    def __str__(self) -> str:
        """The report as text."""
        policy = "no SLA policy applies" if self.policy is None else f"policy {self.policy}"
        lines = [f"SLA of case {self.case_id} at {at_text(self.at)} ({policy})"]
        lines += [str(clock) for clock in self.clocks]
        return "\n".join(lines)


def due_by(pending: tuple[Timer, ...], now: datetime) -> tuple[Timer, ...]:
    """The timers of `pending` due by `now` (a breach and its warning both, when both are)."""
    return tuple(timer for timer in pending if timer.due <= now)


def span(duration: timedelta) -> str:
    """A duration as hours and minutes: "4h00m", "-0h30m"."""
    minutes = int(duration.total_seconds() // 60)
    hours, minutes = divmod(abs(minutes), 60)
    sign = "-" if duration < timedelta(0) else ""
    return f"{sign}{hours}h{minutes:02d}m"


def at_text(moment: datetime) -> str:
    """A moment as explanations write it: "2024-07-05 14:00Z"."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}Z"
