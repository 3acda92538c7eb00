"""Queries a desk answers from the store's index, and the briefing of a case."""

from __future__ import annotations

from servicekit.desk.cases import CaseReader
from servicekit.desk.directory import Directory
from servicekit.desk.results import Briefing, CaseProblem, TimelineEntry
from servicekit.desk.workflows import WorkflowCatalogue
from servicekit.errors import InvalidValue, ServiceKitError
from servicekit.events import (
    CaseTransferred,
    FeedbackRecorded,
    FeedbackRequested,
    InteractionRecorded,
    OfferAccepted,
    OfferMade,
    OfferRejected,
)
from servicekit.interactions import Interaction
from servicekit.stores.base import CaseSummary, Store

__all__ = ["Queries"]


class Queries:
    """Answers "which cases" from the index, across every workflow or one of them."""

    def __init__(
        self,
        store: Store,
        workflows: WorkflowCatalogue,
        cases: CaseReader,
        directory: Directory,
    ) -> None:
        """Read from `store`, on the desk's workflows, cases and directory."""
        self._store = store
        self._workflows = workflows
        self._cases = cases
        self._directory = directory

    def _workflow(self, workflow: str | None) -> str | None:
        if workflow is not None:
            self._workflows.get(_name(workflow, "workflow"))
        return workflow

    def owned_by(
        self, agent_id: str, *, include_finished: bool, workflow: str | None
    ) -> list[CaseSummary]:
        """The cases the agent owns (unfinished ones unless asked otherwise)."""
        found = self._store.find_cases(owner=agent_id, workflow=self._workflow(workflow))
        return _unfinished(found, include_finished=include_finished)

    def stewarded_by(
        self, agent_id: str, *, include_finished: bool, workflow: str | None
    ) -> list[CaseSummary]:
        """The cases the agent is steward of (unfinished ones unless asked otherwise)."""
        found = self._store.find_cases(steward=agent_id, workflow=self._workflow(workflow))
        return _unfinished(found, include_finished=include_finished)

    def every(self, *, workflow: str | None) -> list[CaseSummary]:
        """Every case, finished or not, oldest first."""
        return self._store.find_cases(workflow=self._workflow(workflow))

    def unowned(self, *, workflow: str | None) -> list[CaseSummary]:
        """Cases waiting in intake for an owner, oldest first."""
        waiting = [
            summary
            for flow, stage in self._workflows.stages(self._workflow(workflow))
            if stage.is_intake
            for summary in self._store.find_cases(workflow=flow.name, stage=stage.name)
            if summary.owner_id is None
        ]
        return sorted(waiting, key=lambda s: (s.opened_at, s.case_id))

    def of_customer(self, customer_id: str, *, workflow: str | None) -> list[CaseSummary]:
        """Every case of the customer, finished or not, oldest first."""
        return self._store.find_cases(customer=customer_id, workflow=self._workflow(workflow))

    def in_stage(self, stage: str, *, workflow: str | None) -> list[CaseSummary]:
        """Every case in the stage (of one workflow, or of any that has it), oldest first."""
        _name(stage, "stage")
        flows = [
            flow
            for flow, known in self._workflows.stages(self._workflow(workflow))
            if known.name == stage
        ]
        if not flows:
            where = f"workflow {workflow!r}" if workflow else "any workflow this desk serves"
            msg = f"there is no stage {stage!r} in {where}"
            raise InvalidValue(msg)
        found = [
            summary
            for flow in flows
            for summary in self._store.find_cases(workflow=flow.name, stage=stage)
        ]
        return sorted(found, key=lambda s: (s.opened_at, s.case_id))

    def briefing(self, case_id: str) -> Briefing:
        """What a receiving agent reads so that the customer never has to repeat themselves.

        Covers the customer's cases in every workflow the desk serves; a case the
        desk cannot read is named in `Briefing.problems`, never an error.
        """
        case = self._cases.opened(case_id)
        assert case.customer_id is not None  # noqa: S101 - an opened case has a customer
        others = [
            summary
            for summary in self.of_customer(case.customer_id, workflow=None)
            if summary.case_id != case_id
        ]
        interactions: list[tuple[str, Interaction]] = [
            (case_id, interaction) for interaction in case.interactions
        ]
        problems = []
        for summary in others:
            try:
                other = self._cases.opened(summary.case_id)
            except ServiceKitError as error:
                problems.append(CaseProblem(summary.case_id, str(error)))
                continue
            interactions += [(summary.case_id, i) for i in other.interactions]
        interactions.sort(key=lambda pair: pair[1].at)
        return Briefing(
            case=case,
            other_cases=tuple(others),
            interactions=tuple(interactions),
            handoffs=case.handoffs,
            accepted_offer=case.accepted_offer,
            open_offers=case.open_offers,
            open_follow_ups=case.open_follow_ups,
            feedback=case.feedback,
            problems=tuple(problems),
        )

    def customer_history(self, customer_id: str) -> tuple[TimelineEntry, ...]:
        """The customer's contacts, offers, handoffs and feedback on every case, newest first.

        A case the desk cannot read is left out; the rest of the timeline stands.
        """
        entries: list[TimelineEntry] = []
        for summary in self.of_customer(customer_id, workflow=None):
            try:
                history = self._cases.history(summary.case_id)
            except ServiceKitError:
                continue
            entries += [
                TimelineEntry(
                    event.at,
                    event.case_id,
                    summary.workflow,
                    event.channel.name
                    if isinstance(event, InteractionRecorded | FeedbackRequested)
                    else None,
                    event,
                )
                for event in history
                if isinstance(event, _TIMELINE)
            ]
        entries.sort(key=lambda entry: (entry.at, entry.case_id, entry.event.version), reverse=True)
        return tuple(entries)


_TIMELINE = (
    InteractionRecorded,
    OfferMade,
    OfferAccepted,
    OfferRejected,
    CaseTransferred,
    FeedbackRequested,
    FeedbackRecorded,
)
"""What a customer's timeline shows: contacts, offers, handoffs and feedback."""


def _name(value: object, what: str) -> str:
    """A workflow's or stage's name given to a query: `InvalidValue` if it is not one."""
    if not isinstance(value, str) or not value.strip():
        msg = f"{what} must be a non-blank string, got {value!r}"
        raise InvalidValue(msg)
    return value


def _unfinished(summaries: list[CaseSummary], *, include_finished: bool) -> list[CaseSummary]:
    return summaries if include_finished else [s for s in summaries if not s.finished]
