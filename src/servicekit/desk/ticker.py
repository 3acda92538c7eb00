"""The ticker: fire every due timer exactly once, and never let one case stop the rest."""

from __future__ import annotations

from datetime import datetime

from servicekit._values import utc
from servicekit.commands import FireTimers
from servicekit.decisions import decide
from servicekit.desk.cases import CaseReader, fold
from servicekit.desk.command_path import CommandPath
from servicekit.desk.results import CaseProblem, Outcome, TickReport
from servicekit.desk.sla_upkeep import SlaUpkeep, earliest
from servicekit.errors import ConcurrencyConflict, ServiceKitError
from servicekit.ownership import System
from servicekit.stores.base import CaseSummary, Store

__all__ = ["Ticker"]

_MAX_ROUNDS = 8
"""How many rounds of timers one tick fires on one case at most (breach, then escalations)."""

_TIMER = System("timer")


class Ticker:
    """Fires the timers of the cases the index says are due."""

    def __init__(
        self,
        store: Store,
        cases: CaseReader,
        path: CommandPath,
        upkeep: SlaUpkeep,
        *,
        max_attempts: int,
    ) -> None:
        """Tick `store`'s cases through the desk's command path."""
        self._store = store
        self._cases = cases
        self._path = path
        self._upkeep = upkeep
        self._max_attempts = max_attempts

    def tick(self, now: datetime) -> TickReport:
        """Fire every timer due by `now`, each exactly once; set aside cases that fail.

        A case whose timers cannot fire (a workflow the desk does not serve, a
        history it cannot fold, a timer the rules refuse) is reported in
        `TickReport.failed` with the reason, and every other due case still fires.
        """
        moment = utc(now, what="now")
        fired: list[Outcome] = []
        failed: list[CaseProblem] = []
        for summary in self._store.find_due(until=moment):
            try:
                # A breach makes its first escalation due at once: fire until nothing is due.
                for _ in range(_MAX_ROUNDS):
                    outcome = self._fire(summary, moment)
                    if outcome is None:
                        break
                    fired.append(outcome)
            except Exception as error:  # noqa: BLE001 - one case never stops the others
                failed.append(CaseProblem(summary.case_id, _reason(error)))
        return TickReport(tuple(fired), tuple(failed))

    def _fire(self, summary: CaseSummary, now: datetime) -> Outcome | None:
        case_id = summary.case_id
        for _ in range(self._max_attempts):
            history = self._store.load(case_id).events
            case = self._cases.at_end_of(case_id, history)
            # Events are never stamped before the case's last one; judge what is due at
            # that same moment, or timers just fired would look unfired.
            at = max(now, case.updated_at or now)
            timers = self._upkeep.timers(case, history)
            due = [timer for timer in timers if timer.due <= at]
            if not due:
                self._correct_stale(summary, case.version, earliest(timers))
                return None  # fired meanwhile by another tick, or the due time was stale
            events = decide(case, FireTimers(actor=_TIMER, timers=due), now=at)
            after = fold(case, events)
            try:
                self._path.append(case, events, after, history=history)
            except ConcurrencyConflict:
                continue
            return Outcome(after, events)
        return None  # every attempt lost a race: the next tick looks again

    def _correct_stale(self, summary: CaseSummary, version: int, next_due: datetime | None) -> None:
        """Rewrite a due time that no timer backs (the policies changed since it was written)."""
        if self._upkeep.policies is None:
            return  # a desk without SLA policies cannot judge an SLA due time: leave it
        if summary.version == version and summary.next_due != next_due:
            self._store.set_next_due(summary.case_id, version=version, next_due=next_due)


def _reason(error: Exception) -> str:
    if isinstance(error, ServiceKitError):
        return str(error)
    return f"{type(error).__name__}: {error}"
