"""The workflows a desk serves, by name, and the blank case each case starts from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from servicekit._values import require
from servicekit.case import Case
from servicekit.errors import InvalidValue, UnknownWorkflow
from servicekit.events import CaseOpened, Event
from servicekit.workflow import Stage, Workflow

__all__ = ["WorkflowCatalogue"]


class WorkflowCatalogue:
    """The desk's workflows by name; the first is the default for new cases.

    A case replays on the workflow named in its `CaseOpened`, never on another one.
    """

    def __init__(self, workflows: Iterable[Workflow]) -> None:
        """Index the workflows by name; refuses none, duplicates and non-workflows."""
        by_name: dict[str, Workflow] = {}
        for workflow in workflows:
            require(workflow, Workflow, "workflows must be Workflow values")
            if workflow.name in by_name:
                msg = f"two workflows are called {workflow.name!r}; names must be unique"
                raise InvalidValue(msg)
            by_name[workflow.name] = workflow
        if not by_name:
            msg = "a desk needs at least one workflow: ServiceDesk(workflows=[buying_cycle()])"
            raise InvalidValue(msg)
        self._by_name = by_name
        self.default = next(iter(by_name.values()))

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the workflows, the default first."""
        return tuple(self._by_name)

    def as_dict(self) -> dict[str, Workflow]:
        """A copy of the name -> workflow mapping."""
        return dict(self._by_name)

    def get(self, name: str, *, case_id: str | None = None) -> Workflow:
        """The workflow called `name`; `UnknownWorkflow` if the desk does not serve it."""
        workflow = self._by_name.get(name)
        if workflow is None:
            raise UnknownWorkflow(name, self._by_name, case_id=case_id)
        return workflow

    def choose(self, name: str | None) -> Workflow:
        """The workflow for a new case: the named one, or the default."""
        return self.default if name is None else self.get(name)

    def blank(self, case_id: str, history: Sequence[Event], *, new: str | None = None) -> Case:
        """The blank case that `history` folds into: on the workflow its opening names.

        With no history, the case is new: it starts on workflow `new` (the default
        if None).
        """
        if not history:
            return Case(self.choose(new), case_id)
        first = history[0]
        if not isinstance(first, CaseOpened):
            # Folding reports this precisely (a history must start with CaseOpened).
            return Case(self.default, case_id)
        return Case(self.get(first.workflow, case_id=case_id), case_id)

    def stages(self, workflow: str | None = None) -> list[tuple[Workflow, Stage]]:
        """Every (workflow, stage) pair of one workflow, or of all of them."""
        chosen = self._by_name.values() if workflow is None else (self.get(workflow),)
        return [(w, stage) for w in chosen for stage in w.stages]

    def __iter__(self) -> Iterator[Workflow]:
        """Every workflow, the default first."""
        return iter(self._by_name.values())

    def __len__(self) -> int:
        """How many workflows the desk serves."""
        return len(self._by_name)
