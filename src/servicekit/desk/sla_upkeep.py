"""The desk's SLA and timer upkeep: which policy a case is under, and when it falls due next."""

from __future__ import annotations

import threading
from collections import OrderedDict
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
from servicekit.sla import Facts, PolicySet, SlaReport, SlaTracker
from servicekit.stores.base import Store
from servicekit.timers import Timer, TimerKind
from servicekit.workflow import StatusCategory

__all__ = ["SlaUpkeep", "case_timers", "earliest"]

_SLA = System("sla")
"""The actor that records which SLA policy applies."""


class SlaUpkeep:
    """Applies the desk's SLA policies to cases and finds each case's pending timers.

    Each case's `SlaTracker` is kept beside the cached case (a bounded cache of
    its own, keyed by case id and holding only what was committed), so an append
    folds only its new events into the SLA clocks; on a miss the tracker is
    rebuilt from the case's history.
    """

    def __init__(
        self,
        policies: PolicySet | None,
        directory: Directory,
        *,
        store: Store,
        cache_size: int,
    ) -> None:
        """Serve `policies` (None: no SLAs), escalating through `directory`."""
        self.policies = policies
        self._directory = directory
        self._store = store
        self._cache_size = cache_size
        self._trackers: OrderedDict[str, SlaTracker] = OrderedDict()
        self._lock = threading.Lock()

    def report(self, case: Case, history: Sequence[Event], now: datetime) -> SlaReport:
        """Every SLA clock of `case`, whose events `history` holds, at `now`.

        Raises:
            InvalidValue: the desk has no SLA policies.
        """
        if self.policies is None:
            msg = "this desk has no SLA policies: give it its policies when creating it (sla=)"
            raise InvalidValue(msg)
        tracker = self.tracker(case, history=history)
        assert tracker is not None  # noqa: S101 - the desk has policies
        self.remember(case.case_id, tracker)
        return tracker.report(now)

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

    def tracker(self, case: Case, *, history: Sequence[Event] | None = None) -> SlaTracker | None:
        """The case's SLA tracker at `case.version` (None without policies).

        From the cache when it holds the case, with the events it lacks; else
        folded from `history` (the case's events, at least up to its version), or
        from the store when no history is given.
        """
        if self.policies is None:
            return None
        case_id, version = case.case_id, case.version
        with self._lock:
            tracker = self._trackers.get(case_id)
        if tracker is None or tracker.version > version:
            earlier = self._store.load(case_id).events if history is None else history
            tracker = SlaTracker.start(
                self.policies,
                workflow=case.workflow,
                supervisors_of=self._directory.supervisors_in,
                teams_of=self._directory.teams_of,
            )
            return tracker.apply(earlier[:version])
        if tracker.version < version:
            missing = (
                self._store.load(case_id, after_version=tracker.version).events
                if history is None
                else history[tracker.version : version]
            )
            tracker = tracker.apply(missing[: version - tracker.version])
        return tracker

    def remember(self, case_id: str, tracker: SlaTracker | None) -> None:
        """Keep a committed case's tracker (unless a later one is kept already)."""
        if tracker is None or not self._cache_size:
            return
        with self._lock:
            known = self._trackers.get(case_id)
            if known is None or known.version < tracker.version:
                self._trackers[case_id] = tracker
            self._trackers.move_to_end(case_id)
            while len(self._trackers) > self._cache_size:
                self._trackers.popitem(last=False)

    def forget(self, case_id: str) -> None:
        """Drop the case's tracker (another writer moved the case on)."""
        with self._lock:
            self._trackers.pop(case_id, None)

    def timers(self, case: Case, history: Sequence[Event]) -> list[Timer]:
        """Every timer of the case not fired yet: follow-ups, closing, and SLA clocks."""
        timers = case_timers(case)
        if self.policies is not None and not case.is_finished:
            tracker = self.tracker(case, history=history)
            assert tracker is not None  # noqa: S101 - the desk has policies
            self.remember(case.case_id, tracker)
            timers += tracker.pending()
        return timers

    def next_due(self, after: Case, tracker: SlaTracker | None) -> datetime | None:
        """When the case's next timer falls due, `tracker` being its SLA clocks at `after`."""
        timers = case_timers(after)
        if tracker is not None and not after.is_finished:
            timers += tracker.pending()
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
