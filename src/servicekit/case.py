"""The case: one customer need, as the fold of its history.

A `Case` is a frozen value. `evolve(case, event)` returns the case after one
event; `replay` folds a whole history and `as_of` folds the part of it that had
happened by a given time. None of them reads a clock or does any I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import attrs

from servicekit._values import filler, utc
from servicekit.errors import CorruptHistory
from servicekit.events import (
    CaseOpened,
    CaseReturnedToQueue,
    CaseTransferred,
    Event,
    FeedbackRecorded,
    FeedbackRequested,
    FollowUpCompleted,
    FollowUpDue,
    FollowUpHandedOver,
    FollowUpScheduled,
    InteractionRecorded,
    OfferAccepted,
    OfferMade,
    OfferRejected,
    OwnerAssigned,
    PriorityChanged,
    SkillsChanged,
    SlaBreached,
    SlaEscalated,
    SlaPaused,
    SlaPolicyApplied,
    SlaResumed,
    SlaWarned,
    StageChanged,
    StewardAppointed,
    StewardReassigned,
)
from servicekit.feedback import Survey
from servicekit.followups import FollowUp
from servicekit.interactions import Interaction, Party
from servicekit.offers import Offer, OfferStatus
from servicekit.ownership import Actor, Agent
from servicekit.workflow import Stage, Workflow

__all__ = ["Case", "CaseRecord", "Feedback", "Handoff", "as_of", "evolve", "replay"]


@attrs.frozen
class Handoff:
    """One transfer of the case: from whom, to whom, when, and the note that went with it."""

    at: datetime
    from_owner: Agent
    to_owner: Agent
    note: str


@attrs.frozen
class Feedback:
    """What the customer said about the service: a survey's score and a comment."""

    at: datetime
    actor: Actor
    survey: Survey
    score: int
    comment: str


@attrs.frozen
class CaseRecord:
    """What happened on a case: who it is for, and every contact, handoff, offer and follow-up.

    Kept apart from `Case`'s own fields so that moving a case between stages,
    the most frequent change, copies only the few fields that say where it stands.
    """

    customer_id: str | None = None
    initiated_by: Party | None = None
    opened_at: datetime | None = None
    priority: str = "normal"
    tier: str | None = None
    sla_paused: bool = False
    closed_at: datetime | None = None
    channel: str | None = None
    sla_policy: tuple[str, int] | None = None
    skills: frozenset[str] = frozenset()
    queued_at: datetime | None = None
    unanswered_by: frozenset[str] = frozenset()
    interactions: tuple[Interaction, ...] = ()
    handoffs: tuple[Handoff, ...] = ()
    offers: tuple[Offer, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    feedback: tuple[Feedback, ...] = ()


_BLANK_RECORD = CaseRecord()


@attrs.frozen
class Case:
    """A customer's need, from first contact to confirmed satisfaction.

    `Case(workflow, "case-1")` is the blank case (version 0, not yet opened) that
    an `OpenCase` command is decided against; events fold into it with `evolve`.
    Its own fields say where it stands (stage, owner, steward, version); `record`
    holds what happened, also readable through the properties below.
    `workflow` is shared by every case and is not part of equality.
    """

    workflow: Workflow = attrs.field(eq=False, repr=False)
    case_id: str
    version: int = 0
    stage: str | None = None
    owner: Agent | None = None
    steward: Agent | None = None
    updated_at: datetime | None = None
    record: CaseRecord = _BLANK_RECORD

    @property
    def customer_id(self) -> str | None:
        """The host application's id of the customer, once the case is opened."""
        return self.record.customer_id

    @property
    def initiated_by(self) -> Party | None:
        """Who started the case: the customer (inbound) or the company (outbound)."""
        return self.record.initiated_by

    @property
    def opened_at(self) -> datetime | None:
        """When the case was opened."""
        return self.record.opened_at

    @property
    def priority(self) -> str:
        """The case's priority ("normal" unless set)."""
        return self.record.priority

    @property
    def tier(self) -> str | None:
        """The customer's tier, as the host application gave it."""
        return self.record.tier

    @property
    def skills(self) -> frozenset[str]:
        """The skills an agent needs to serve the case (routing matches them)."""
        return self.record.skills

    @property
    def unanswered_by(self) -> frozenset[str]:
        """Ids of agents the case was routed to who did not answer (routing avoids them)."""
        return self.record.unanswered_by

    @property
    def waiting_since(self) -> datetime | None:
        """Since when the case has waited for an owner: its opening, or its return to the queue.

        None once it has an owner.
        """
        if self.owner is not None:
            return None
        return self.record.queued_at or self.record.opened_at

    @property
    def interactions(self) -> tuple[Interaction, ...]:
        """Every contact on every channel, oldest first."""
        return self.record.interactions

    @property
    def handoffs(self) -> tuple[Handoff, ...]:
        """Every transfer with its note, oldest first."""
        return self.record.handoffs

    @property
    def offers(self) -> tuple[Offer, ...]:
        """Every offer, numbered from 1."""
        return self.record.offers

    @property
    def follow_ups(self) -> tuple[FollowUp, ...]:
        """Every follow-up, numbered from 1."""
        return self.record.follow_ups

    @property
    def feedback(self) -> tuple[Feedback, ...]:
        """What the customer said about the service, oldest first."""
        return self.record.feedback

    @property
    def is_opened(self) -> bool:
        """Whether the case has been opened (has a history)."""
        return self.stage is not None

    @property
    def current_stage(self) -> Stage | None:
        """The workflow's `Stage` the case is in, or None before it is opened."""
        return None if self.stage is None else self.workflow.stage(self.stage)

    @property
    def is_finished(self) -> bool:
        """Whether the case is in a final stage."""
        stage = self.current_stage
        return stage is not None and stage.final

    @property
    def open_offers(self) -> tuple[Offer, ...]:
        """Offers that still await an answer."""
        return tuple(offer for offer in self.record.offers if offer.is_open)

    @property
    def accepted_offer(self) -> Offer | None:
        """The offer that was accepted, if any."""
        for offer in self.record.offers:
            if offer.status is OfferStatus.ACCEPTED:
                return offer
        return None

    @property
    def open_follow_ups(self) -> tuple[FollowUp, ...]:
        """Follow-ups that still have to be done."""
        return tuple(follow_up for follow_up in self.record.follow_ups if follow_up.is_open)


def evolve(case: Case, event: Event) -> Case:
    """The case after `event`; `CorruptHistory` if the event does not follow it."""
    version = case.version
    if event.case_id != case.case_id:
        msg = (
            f"event {event.version} of case {event.case_id!r} cannot be applied "
            f"to case {case.case_id!r}"
        )
        raise CorruptHistory(msg)
    if event.version != version + 1:
        msg = (
            f"case {case.case_id!r} is at version {version}; the next event must be version "
            f"{version + 1}, got {event.version} (a gap or a repeat in the history)"
        )
        raise CorruptHistory(msg)
    if type(event) is StageChanged and version:
        return _stage_changed(case, event)  # the most frequent event, without the table
    if version == 0 and not isinstance(event, CaseOpened):
        first = type(event).__name__
        msg = f"the history of case {case.case_id!r} must start with CaseOpened, not {first}"
        raise CorruptHistory(msg)
    apply = _APPLY.get(type(event))
    if apply is None:
        msg = f"case {case.case_id!r}: {type(event).__name__} is not a servicekit event"
        raise CorruptHistory(msg)
    return apply(case, event)


def replay(workflow: Workflow, events: Iterable[Event]) -> Case:
    """The case that a whole history folds to; `CorruptHistory` for an empty one."""
    history = tuple(events)
    if not history:
        msg = "an empty history has no case"
        raise CorruptHistory(msg)
    case = Case(workflow, history[0].case_id)
    for event in history:
        case = evolve(case, event)
    return case


def as_of(workflow: Workflow, events: Iterable[Event], at: datetime) -> Case:
    """The case as it stood at `at` (aware): the fold of the events up to and including `at`.

    Before the case was opened this is the blank case (version 0).
    """
    moment = utc(at, what="as_of's time")
    history = tuple(events)
    if not history:
        msg = "as_of needs a history to know which case it is; the history is empty"
        raise CorruptHistory(msg)
    case = Case(workflow, history[0].case_id)
    for event in history:
        if event.at > moment:
            break
        case = evolve(case, event)
    return case


# Folding is the hot path of every load and every command, so the functions below
# build the next value with its constructor rather than `attrs.evolve`, which
# inspects every field on every call and costs several times as much.


def _step(  # noqa: PLR0913 - each part a fold may change is named
    case: Case,
    event: Event,
    *,
    stage: str | None = None,
    owner: Agent | None = None,
    steward: Agent | None = None,
    record: CaseRecord | None = None,
) -> Case:
    """The case one event later: the event's version and time, and the parts it changes."""
    return _new_case(
        case.workflow,
        case.case_id,
        event.version,
        case.stage if stage is None else stage,
        case.owner if owner is None else owner,
        case.steward if steward is None else steward,
        event.at,
        case.record if record is None else record,
    )


def _with(  # noqa: PLR0913 - each part of the record a fold may change is named
    record: CaseRecord,
    *,
    interactions: tuple[Interaction, ...] | None = None,
    handoffs: tuple[Handoff, ...] | None = None,
    offers: tuple[Offer, ...] | None = None,
    follow_ups: tuple[FollowUp, ...] | None = None,
    feedback: tuple[Feedback, ...] | None = None,
) -> CaseRecord:
    """The record with some of its histories replaced."""
    return _new_record(
        record.customer_id,
        record.initiated_by,
        record.opened_at,
        record.priority,
        record.tier,
        record.sla_paused,
        record.closed_at,
        record.channel,
        record.sla_policy,
        record.skills,
        record.queued_at,
        record.unanswered_by,
        record.interactions if interactions is None else interactions,
        record.handoffs if handoffs is None else handoffs,
        record.offers if offers is None else offers,
        record.follow_ups if follow_ups is None else follow_ups,
        record.feedback if feedback is None else feedback,
    )


_CaseFiller = filler(Case)
_RecordFiller = filler(CaseRecord)


def _new_case(  # noqa: PLR0913, PLR0917 - every field of a case, by position
    workflow: Workflow,
    case_id: str,
    version: int,
    stage: str | None,
    owner: Agent | None,
    steward: Agent | None,
    updated_at: datetime | None,
    record: CaseRecord,
) -> Case:
    """A `Case` from all of its fields, filled in by plain slot stores (see `filler`).

    `evolve` makes one case per event, and attrs' generated `__init__` for a frozen
    class costs several times as much. `Case` has no validators or converters to
    skip; `test_a_case_built_fast_equals_one_built_by_attrs` checks both ways agree
    on every field.
    """
    case = _CaseFiller()
    case.workflow = workflow
    case.case_id = case_id
    case.version = version
    case.stage = stage
    case.owner = owner
    case.steward = steward
    case.updated_at = updated_at
    case.record = record
    case.__class__ = Case
    built: Case = case
    return built


def _new_record(  # noqa: PLR0913, PLR0917 - every field of a record, by position
    customer_id: str | None,
    initiated_by: Party | None,
    opened_at: datetime | None,
    priority: str,
    tier: str | None,
    sla_paused: bool,  # noqa: FBT001 - a field, by position like the others
    closed_at: datetime | None,
    channel: str | None,
    sla_policy: tuple[str, int] | None,
    skills: frozenset[str],
    queued_at: datetime | None,
    unanswered_by: frozenset[str],
    interactions: tuple[Interaction, ...],
    handoffs: tuple[Handoff, ...],
    offers: tuple[Offer, ...],
    follow_ups: tuple[FollowUp, ...],
    feedback: tuple[Feedback, ...],
) -> CaseRecord:
    """A `CaseRecord` from all of its fields, filled in like `_new_case` (see `filler`).

    `CaseRecord` has no validators or converters to skip;
    `test_a_record_built_fast_equals_one_built_by_attrs` checks both ways agree.
    """
    record = _RecordFiller()
    record.customer_id = customer_id
    record.initiated_by = initiated_by
    record.opened_at = opened_at
    record.priority = priority
    record.tier = tier
    record.sla_paused = sla_paused
    record.closed_at = closed_at
    record.channel = channel
    record.sla_policy = sla_policy
    record.skills = skills
    record.queued_at = queued_at
    record.unanswered_by = unanswered_by
    record.interactions = interactions
    record.handoffs = handoffs
    record.offers = offers
    record.follow_ups = follow_ups
    record.feedback = feedback
    record.__class__ = CaseRecord
    built: CaseRecord = record
    return built


def _closed_at(record: CaseRecord, closed_at: datetime | None) -> CaseRecord:
    """The record with its closing time set (or cleared): on every move into a final stage.

    Every field is passed on by position (attrs.evolve costs many times as much);
    `test_closing_keeps_every_other_field_of_the_record` guards against a field
    added to `CaseRecord` but not here.
    """
    return _new_record(
        record.customer_id,
        record.initiated_by,
        record.opened_at,
        record.priority,
        record.tier,
        record.sla_paused,
        closed_at,
        record.channel,
        record.sla_policy,
        record.skills,
        record.queued_at,
        record.unanswered_by,
        record.interactions,
        record.handoffs,
        record.offers,
        record.follow_ups,
        record.feedback,
    )


def _opened(case: Case, event: CaseOpened) -> Case:
    if event.workflow != case.workflow.name:
        msg = (
            f"case {case.case_id!r} was opened on workflow {event.workflow!r} "
            f"but is being replayed on {case.workflow.name!r}"
        )
        raise CorruptHistory(msg)
    record = CaseRecord(
        event.customer_id,
        event.initiated_by,
        event.at,
        event.priority,
        event.tier,
        channel=event.channel.name,
        skills=event.skills,
    )
    return _step(case, event, stage=event.stage, record=record)


def _interaction(case: Case, event: InteractionRecorded) -> Case:
    interaction = Interaction(event.at, event.channel, event.direction, event.actor, event.summary)
    record = case.record
    return _step(
        case, event, record=_with(record, interactions=(*record.interactions, interaction))
    )


def _owner_assigned(case: Case, event: OwnerAssigned) -> Case:
    return _step(case, event, owner=event.owner)


def _steward_appointed(case: Case, event: StewardAppointed) -> Case:
    return _step(case, event, steward=event.steward)


def _steward_reassigned(case: Case, event: StewardReassigned) -> Case:
    leaving = event.from_steward.id
    follow_ups = tuple(
        attrs.evolve(follow_up, assignee=event.to_steward)
        if follow_up.is_open and follow_up.assignee.id == leaving
        else follow_up
        for follow_up in case.record.follow_ups
    )
    record = _with(case.record, follow_ups=follow_ups)
    return _step(case, event, steward=event.to_steward, record=record)


def _transferred(case: Case, event: CaseTransferred) -> Case:
    handoff = Handoff(event.at, event.from_owner, event.to_owner, event.handoff_note)
    record = _with(case.record, handoffs=(*case.record.handoffs, handoff))
    return _step(case, event, owner=event.to_owner, record=record)


def _stage_changed(case: Case, event: StageChanged) -> Case:
    """The case in the event's stage: the most frequent fold, so built here slot by slot.

    Like `_new_case`, but without the call; `test_a_stage_change_folds_to_the_case_attrs_builds`
    checks that it sets every field.
    """
    dest = event.dest
    record = case.record
    # Finishing records when (for the reopen window); reopening forgets it.
    if dest in case.workflow.final_stages:
        record = _closed_at(record, event.at)
    elif record.closed_at is not None:
        record = _closed_at(record, None)
    moved = _CaseFiller()
    moved.workflow = case.workflow
    moved.case_id = case.case_id
    moved.version = event.version
    moved.stage = dest
    moved.owner = case.owner
    moved.steward = case.steward
    moved.updated_at = event.at
    moved.record = record
    moved.__class__ = Case
    built: Case = moved
    return built


def _offer_made(case: Case, event: OfferMade) -> Case:
    earlier = tuple(
        attrs.evolve(offer, status=OfferStatus.SUPERSEDED) if offer.is_open else offer
        for offer in case.record.offers
    )
    offer = Offer(
        offer_id=event.offer_id,
        party=event.party,
        amount=event.amount,
        currency=event.currency,
        terms=event.terms,
        made_by=event.actor,
        made_at=event.at,
    )
    return _step(case, event, record=_with(case.record, offers=(*earlier, offer)))


def _answered(case: Case, event: OfferAccepted | OfferRejected, status: OfferStatus) -> Case:
    answer = event.reason if isinstance(event, OfferRejected) else ""
    offers = tuple(
        attrs.evolve(offer, status=status, answer=answer)
        if offer.offer_id == event.offer_id
        else offer
        for offer in case.record.offers
    )
    return _step(case, event, record=_with(case.record, offers=offers))


def _offer_accepted(case: Case, event: OfferAccepted) -> Case:
    return _answered(case, event, OfferStatus.ACCEPTED)


def _offer_rejected(case: Case, event: OfferRejected) -> Case:
    return _answered(case, event, OfferStatus.REJECTED)


def _follow_up_scheduled(case: Case, event: FollowUpScheduled) -> Case:
    follow_up = FollowUp(
        event.follow_up_id, event.assignee, event.due, event.reason, attempt=event.attempt
    )
    record = _with(case.record, follow_ups=(*case.record.follow_ups, follow_up))
    return _step(case, event, record=record)


def _follow_up_completed(case: Case, event: FollowUpCompleted) -> Case:
    follow_ups = tuple(
        attrs.evolve(follow_up, outcome=event.outcome, note=event.note)
        if follow_up.follow_up_id == event.follow_up_id
        else follow_up
        for follow_up in case.record.follow_ups
    )
    return _step(case, event, record=_with(case.record, follow_ups=follow_ups))


def _follow_up_handed_over(case: Case, event: FollowUpHandedOver) -> Case:
    follow_ups = tuple(
        attrs.evolve(follow_up, assignee=event.to_assignee)
        if follow_up.follow_up_id == event.follow_up_id
        else follow_up
        for follow_up in case.record.follow_ups
    )
    return _step(case, event, record=_with(case.record, follow_ups=follow_ups))


def _follow_up_due(case: Case, event: FollowUpDue) -> Case:
    follow_ups = tuple(
        attrs.evolve(follow_up, notified=True)
        if follow_up.follow_up_id == event.follow_up_id
        else follow_up
        for follow_up in case.record.follow_ups
    )
    return _step(case, event, record=_with(case.record, follow_ups=follow_ups))


def _feedback_recorded(case: Case, event: FeedbackRecorded) -> Case:
    feedback = Feedback(event.at, event.actor, event.survey, event.score, event.comment)
    return _step(case, event, record=_with(case.record, feedback=(*case.record.feedback, feedback)))


def _priority_changed(case: Case, event: PriorityChanged) -> Case:
    return _step(case, event, record=attrs.evolve(case.record, priority=event.priority))


def _sla_policy_applied(case: Case, event: SlaPolicyApplied) -> Case:
    record = attrs.evolve(case.record, sla_policy=(event.policy, event.policy_version))
    return _step(case, event, record=record)


def _sla_paused(case: Case, event: SlaPaused) -> Case:
    return _step(case, event, record=attrs.evolve(case.record, sla_paused=True))


def _sla_resumed(case: Case, event: SlaResumed) -> Case:
    return _step(case, event, record=attrs.evolve(case.record, sla_paused=False))


def _skills_changed(case: Case, event: SkillsChanged) -> Case:
    return _step(case, event, record=attrs.evolve(case.record, skills=event.skills))


def _returned_to_queue(case: Case, event: CaseReturnedToQueue) -> Case:
    # `_step` keeps a field given None, so the unowned case is built here.
    steward = case.steward
    if steward is not None and steward.id == event.from_owner.id:
        steward = None  # they never answered: the next owner becomes the steward
    return Case(
        case.workflow,
        case.case_id,
        event.version,
        case.stage,
        None,
        steward,
        event.at,
        attrs.evolve(
            case.record,
            queued_at=event.at,
            unanswered_by=case.record.unanswered_by | {event.from_owner.id},
        ),
    )


def _noted(case: Case, event: Event) -> Case:
    """An event that changes nothing but the version and time (a timer that fired)."""
    return _step(case, event)


_APPLY: dict[type[Any], Callable[[Case, Any], Case]] = {
    CaseOpened: _opened,
    InteractionRecorded: _interaction,
    OwnerAssigned: _owner_assigned,
    StewardAppointed: _steward_appointed,
    StewardReassigned: _steward_reassigned,
    CaseTransferred: _transferred,
    StageChanged: _stage_changed,
    OfferMade: _offer_made,
    OfferAccepted: _offer_accepted,
    OfferRejected: _offer_rejected,
    FollowUpScheduled: _follow_up_scheduled,
    FollowUpCompleted: _follow_up_completed,
    FollowUpHandedOver: _follow_up_handed_over,
    FollowUpDue: _follow_up_due,
    FeedbackRecorded: _feedback_recorded,
    FeedbackRequested: _noted,
    PriorityChanged: _priority_changed,
    SlaPaused: _sla_paused,
    SlaPolicyApplied: _sla_policy_applied,
    SlaResumed: _sla_resumed,
    SkillsChanged: _skills_changed,
    CaseReturnedToQueue: _returned_to_queue,
    SlaWarned: _noted,
    SlaBreached: _noted,
    SlaEscalated: _noted,
}
