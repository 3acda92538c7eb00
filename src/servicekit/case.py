"""The case: one customer need, as the fold of its history.

A `Case` is a frozen value. `evolve(case, event)` returns the case after one
event; `replay` folds a whole history and `as_of` folds the part of it that had
happened by a given time. None of them reads a clock or does any I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import singledispatch

import attrs

from servicekit._values import non_blank, utc
from servicekit.errors import CorruptHistory
from servicekit.events import (
    CaseOpened,
    CaseTransferred,
    Event,
    FeedbackRecorded,
    FollowUpCompleted,
    FollowUpScheduled,
    InteractionRecorded,
    OfferAccepted,
    OfferMade,
    OfferRejected,
    OwnerAssigned,
    StageChanged,
    StewardAppointed,
)
from servicekit.followups import FollowUp
from servicekit.interactions import Interaction, Party
from servicekit.offers import Offer, OfferStatus
from servicekit.ownership import Actor, Agent
from servicekit.workflow import Stage, Workflow

__all__ = ["Case", "Feedback", "Handoff", "as_of", "evolve", "replay"]


@attrs.frozen
class Handoff:
    """One transfer of the case: from whom, to whom, when, and the note that went with it."""

    at: datetime
    from_owner: Agent
    to_owner: Agent
    note: str


@attrs.frozen
class Feedback:
    """What the customer said about the service: a rating from 1 to 5 and a comment."""

    at: datetime
    actor: Actor
    rating: int
    comment: str


@attrs.frozen
class Case:
    """A customer's need, from first contact to confirmed satisfaction.

    `Case(workflow, "case-1")` is the blank case (version 0, not yet opened) that
    an `OpenCase` command is decided against; events fold into it with `evolve`.
    `workflow` is shared by every case and is not part of equality.
    """

    workflow: Workflow = attrs.field(eq=False, repr=False)
    id: str = attrs.field(validator=non_blank)
    version: int = 0
    stage: str | None = None
    customer_id: str | None = None
    initiated_by: Party | None = None
    owner: Agent | None = None
    steward: Agent | None = None
    opened_at: datetime | None = None
    updated_at: datetime | None = None
    interactions: tuple[Interaction, ...] = ()
    handoffs: tuple[Handoff, ...] = ()
    offers: tuple[Offer, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    feedback: tuple[Feedback, ...] = ()

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
        return tuple(offer for offer in self.offers if offer.is_open)

    @property
    def accepted_offer(self) -> Offer | None:
        """The offer that was accepted, if any."""
        for offer in self.offers:
            if offer.status is OfferStatus.ACCEPTED:
                return offer
        return None

    @property
    def open_follow_ups(self) -> tuple[FollowUp, ...]:
        """Follow-ups that still have to be done."""
        return tuple(follow_up for follow_up in self.follow_ups if follow_up.is_open)


def evolve(case: Case, event: Event) -> Case:
    """The case after `event`; `CorruptHistory` if the event does not follow it."""
    if event.case_id != case.id:
        msg = (
            f"event {event.version} of case {event.case_id!r} cannot be applied to case {case.id!r}"
        )
        raise CorruptHistory(msg)
    if event.version != case.version + 1:
        msg = (
            f"case {case.id!r} is at version {case.version}; the next event must be version "
            f"{case.version + 1}, got {event.version} (a gap or a repeat in the history)"
        )
        raise CorruptHistory(msg)
    if case.version == 0 and not isinstance(event, CaseOpened):
        first = type(event).__name__
        msg = f"the history of case {case.id!r} must start with CaseOpened, not {first}"
        raise CorruptHistory(msg)
    return _apply(event, case)


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


@singledispatch
def _apply(event: object, case: Case) -> Case:
    msg = f"case {case.id!r}: {type(event).__name__} is not a servicekit event"
    raise CorruptHistory(msg)


@_apply.register
def _(event: CaseOpened, case: Case) -> Case:
    if event.workflow != case.workflow.name:
        msg = (
            f"case {case.id!r} was opened on workflow {event.workflow!r} "
            f"but is being replayed on {case.workflow.name!r}"
        )
        raise CorruptHistory(msg)
    return attrs.evolve(
        case,
        version=event.version,
        stage=event.stage,
        customer_id=event.customer_id,
        initiated_by=event.initiated_by,
        opened_at=event.at,
        updated_at=event.at,
    )


@_apply.register
def _(event: InteractionRecorded, case: Case) -> Case:
    interaction = Interaction(event.at, event.channel, event.direction, event.actor, event.summary)
    return attrs.evolve(
        case,
        version=event.version,
        updated_at=event.at,
        interactions=(*case.interactions, interaction),
    )


@_apply.register
def _(event: OwnerAssigned, case: Case) -> Case:
    return attrs.evolve(case, version=event.version, updated_at=event.at, owner=event.owner)


@_apply.register
def _(event: StewardAppointed, case: Case) -> Case:
    return attrs.evolve(case, version=event.version, updated_at=event.at, steward=event.steward)


@_apply.register
def _(event: CaseTransferred, case: Case) -> Case:
    handoff = Handoff(event.at, event.from_owner, event.to_owner, event.handoff_note)
    return attrs.evolve(
        case,
        version=event.version,
        updated_at=event.at,
        owner=event.to_owner,
        handoffs=(*case.handoffs, handoff),
    )


@_apply.register
def _(event: StageChanged, case: Case) -> Case:
    return Case(
        case.workflow,
        case.id,
        event.version,
        event.dest,
        case.customer_id,
        case.initiated_by,
        case.owner,
        case.steward,
        case.opened_at,
        event.at,
        case.interactions,
        case.handoffs,
        case.offers,
        case.follow_ups,
        case.feedback,
    )


@_apply.register
def _(event: OfferMade, case: Case) -> Case:
    earlier = tuple(
        attrs.evolve(offer, status=OfferStatus.SUPERSEDED) if offer.is_open else offer
        for offer in case.offers
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
    return attrs.evolve(case, version=event.version, updated_at=event.at, offers=(*earlier, offer))


def _answer_offer(case: Case, event: OfferAccepted | OfferRejected, status: OfferStatus) -> Case:
    answer = event.reason if isinstance(event, OfferRejected) else ""
    offers = tuple(
        attrs.evolve(offer, status=status, answer=answer)
        if offer.offer_id == event.offer_id
        else offer
        for offer in case.offers
    )
    return attrs.evolve(case, version=event.version, updated_at=event.at, offers=offers)


@_apply.register
def _(event: OfferAccepted, case: Case) -> Case:
    return _answer_offer(case, event, OfferStatus.ACCEPTED)


@_apply.register
def _(event: OfferRejected, case: Case) -> Case:
    return _answer_offer(case, event, OfferStatus.REJECTED)


@_apply.register
def _(event: FollowUpScheduled, case: Case) -> Case:
    follow_up = FollowUp(event.follow_up_id, event.assignee, event.due, event.reason)
    return attrs.evolve(
        case,
        version=event.version,
        updated_at=event.at,
        follow_ups=(*case.follow_ups, follow_up),
    )


@_apply.register
def _(event: FollowUpCompleted, case: Case) -> Case:
    follow_ups = tuple(
        attrs.evolve(follow_up, outcome=event.outcome, note=event.note)
        if follow_up.follow_up_id == event.follow_up_id
        else follow_up
        for follow_up in case.follow_ups
    )
    return attrs.evolve(case, version=event.version, updated_at=event.at, follow_ups=follow_ups)


@_apply.register
def _(event: FeedbackRecorded, case: Case) -> Case:
    feedback = Feedback(event.at, event.actor, event.rating, event.comment)
    return attrs.evolve(
        case, version=event.version, updated_at=event.at, feedback=(*case.feedback, feedback)
    )
