"""The desk's SLA and timer upkeep: which policy a case is under, and when it falls due next."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from servicekit.case import Case
from servicekit.commands import ApplySlaPolicy
from servicekit.decisions import decide
from servicekit.desk.directory import Directory
from servicekit.errors import InvalidValue
from servicekit.events import Event
from servicekit.followups import FollowUpOutcome
from servicekit.ownership import System
from servicekit.sla import Facts, PolicySet, SlaReport, assess
from servicekit.timers import Timer, TimerKind
from servicekit.workflow import StatusCategory, Workflow

__all__ = ["SlaUpkeep", "case_timers", "earliest"]

_SLA = System("sla")
"""The actor that records which SLA policy applies."""


class SlaUpkeep:
    """Applies the desk's SLA policies to cases and finds each case's pending timers."""

    def __init__(self, policies: PolicySet | None, directory: Directory) -> None:
        """Serve `policies` (None: no SLAs), escalating through `directory`."""
        self.policies = policies
        self._directory = directory

    def assess(self, history: Sequence[Event], now: datetime, *, workflow: Workflow) -> SlaReport:
        """Every SLA clock of the case whose `history` this is, at `now`.

        Raises:
            InvalidValue: the desk has no SLA policies.
        """
        if self.policies is None:
            msg = "this desk has no SLA policies: ServiceDesk(..., sla=PolicySet([...]))"
            raise InvalidValue(msg)
        return assess(
            history,
            self.policies,
            now=now,
            workflow=workflow,
            supervisor_of=self._directory.supervisor_of,
        )

    def policy_events(self, case: Case, now: datetime) -> tuple[Event, ...]:
        """Record the SLA policy the case now falls under, when it is another one.

        A case keeps the version it is under while the same policy matches it; a
        newer version of that policy applies to cases that come under it later.
        """
        if (
            self.policies is None
            or case.stage is None
            or case.record.channel is None
            or case.is_finished
        ):
            return ()
        facts = Facts(case.priority, case.record.channel, case.stage, case.tier, case.workflow.name)
        policy = self.policies.select(facts)
        recorded = case.record.sla_policy
        if policy is None or (recorded is not None and recorded[0] == policy.name):
            return ()
        command = ApplySlaPolicy(actor=_SLA, policy=policy.name, version=policy.version)
        return decide(case, command, now=now)

    def timers(self, case: Case, history: Sequence[Event], now: datetime) -> list[Timer]:
        """Every timer of the case not fired yet: follow-ups, closing, and SLA clocks."""
        timers = case_timers(case)
        if self.policies is not None and not case.is_finished:
            timers += self.assess(history, now, workflow=case.workflow).pending
        return timers

    def next_due(self, after: Case, history: Sequence[Event]) -> datetime | None:
        """When the case's next timer falls due, `history` being all of `after`'s events."""
        timers = case_timers(after)
        if self.policies is not None and not after.is_finished and history:
            timers += self.assess(history, history[-1].at, workflow=after.workflow).pending
        return earliest(timers)


def case_timers(case: Case) -> list[Timer]:
    """Follow-ups not yet announced, and the close of a case whose customer confirmed service."""
    if not case.record.follow_ups:
        return []  # the usual case on the hot path: no follow-up, so no timer either
    timers = [
        Timer(
            TimerKind.FOLLOW_UP,
            f"follow_up:{follow_up.follow_up_id}",
            follow_up.due,
            notify=follow_up.assignee,
            follow_up_id=follow_up.follow_up_id,
        )
        for follow_up in case.open_follow_ups
        if not follow_up.notified
    ]
    stage = case.current_stage
    done = [f for f in case.follow_ups if f.outcome is not None]
    served = bool(done) and done[-1].outcome is FollowUpOutcome.SERVED
    if (
        stage is not None
        and stage.category is StatusCategory.RESOLVED
        and served
        and not case.open_follow_ups
        and case.workflow.route(stage.name, case.workflow.follow_ups.close_trigger) is not None
        and case.updated_at is not None
    ):
        timers.append(Timer(TimerKind.CLOSE, "close", case.updated_at))
    return timers


def earliest(timers: Sequence[Timer]) -> datetime | None:
    """The due time of the earliest timer, if any."""
    if not timers:
        return None  # the usual case on the hot path
    return min(timer.due for timer in timers)
