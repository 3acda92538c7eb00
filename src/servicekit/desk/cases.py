"""Cases as the desk reads them: folded from the store, kept in a bounded cache."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

from servicekit._values import case_id_text
from servicekit.case import Case, evolve
from servicekit.desk.workflows import WorkflowCatalogue
from servicekit.errors import CaseNotFound, UnknownStage
from servicekit.events import Event
from servicekit.stores.base import Store

__all__ = ["CaseReader", "fold"]


def fold(case: Case, events: Iterable[Event]) -> Case:
    """The case after `events`."""
    for event in events:
        case = evolve(case, event)
    return case


def _in_its_workflow(case: Case) -> Case:
    """The case read from the store, if its workflow still has the stage it is in.

    A workflow redefined between deployments may have lost that stage: the case
    cannot be decided, briefed or ticked on it, and `UnknownStage` names it.
    """
    stage, workflow = case.stage, case.workflow
    if stage is not None and not workflow.has_stage(stage):
        known = [known.name for known in workflow.stages]
        raise UnknownStage(stage, workflow.name, known, case_id=case.case_id)
    return case


class CaseReader:
    """Folds cases from the store, each on its own workflow, through an LRU cache.

    A cached case may be behind another writer's events; `load` brings it up to
    date with the events it lacks. `cached` returns it as it is, for optimistic
    decisions whose append the store checks.
    """

    def __init__(self, store: Store, workflows: WorkflowCatalogue, *, cache_size: int) -> None:
        """Read cases of `store` on `workflows`, caching at most `cache_size` of them."""
        self._store = store
        self._workflows = workflows
        self._cache_size = cache_size
        self._cache: dict[str, Case] = {}
        self._lock = threading.Lock()
        # `cached(case_id)` is the cache's own `get`, with no Python call around it (every
        # command reads the cache first); one dict read is atomic, so it needs no lock.
        self.cached: Callable[[str], Case | None] = self._cache.get
        """The cached fold of the case, however far behind, if any (None if not cached)."""

    def load(self, case_id: str, *, new: str | None = None) -> Case:
        """The case now (version 0 if there is none: on workflow `new`, or the default).

        Raises:
            InvalidValue: the id is not a non-blank string that can be stored.
            UnknownWorkflow: the case was opened on a workflow the desk does not serve.
            UnknownStage: the case is in a stage its workflow no longer has.
        """
        case_id_text(case_id)
        case = self.cached(case_id)
        if case is not None:
            later = self._store.load(case_id, after_version=case.version).events
            return _in_its_workflow(fold(case, later)) if later else case
        history = self._store.load(case_id).events
        return _in_its_workflow(fold(self._workflows.blank(case_id, history, new=new), history))

    def at_end_of(self, case_id: str, history: Sequence[Event]) -> Case:
        """The case `history` (all of its events, just read) folds into.

        The cached fold when it is not ahead of `history`, brought up to its end;
        else a replay: one read of the store serves both the case and its history.
        """
        case_id_text(case_id)
        cached = self.cached(case_id)
        if cached is not None and cached.version <= len(history):
            later = history[cached.version :]
            return _in_its_workflow(fold(cached, later)) if later else cached
        return self.replay(case_id, history)

    def replay(self, case_id: str, history: Sequence[Event]) -> Case:
        """The case that `history` folds into, on the workflow its opening names.

        Raises:
            UnknownWorkflow: the case was opened on a workflow the desk does not serve.
            UnknownStage: the case is in a stage its workflow no longer has.
        """
        return _in_its_workflow(fold(self._workflows.blank(case_id, history), history))

    def opened(self, case_id: str) -> Case:
        """The case now; `CaseNotFound` if it was never opened."""
        case = self.load(case_id)
        if not case.is_opened:
            raise CaseNotFound(case_id)
        self.remember(case)
        return case

    def history(self, case_id: str) -> tuple[Event, ...]:
        """Every event of the case, oldest first; `CaseNotFound` if it does not exist."""
        case_id_text(case_id)
        events = self._store.load(case_id).events
        if not events:
            raise CaseNotFound(case_id)
        return events

    def remember(self, case: Case) -> None:
        """Keep the case (unless a later version is cached already), as the most recent."""
        if not self._cache_size:
            return
        cache = self._cache
        case_id = case.case_id
        lock = self._lock
        lock.acquire()  # not `with`: this is every command's path, and `with` costs twice as much
        try:
            known = cache.pop(case_id, None)
            cache[case_id] = case if known is None or known.version < case.version else known
            if len(cache) > self._cache_size:
                del cache[next(iter(cache))]  # the least recently used: dicts keep order
        finally:
            lock.release()

    def forget(self, case_id: str) -> None:
        """Drop the case from the cache (another writer moved it on)."""
        with self._lock:
            self._cache.pop(case_id, None)
