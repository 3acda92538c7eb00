"""Events: the immutable facts that make up a case's history.

Each event names its case, its place in the case's history (`version`, from 1
without gaps), the time it happened (aware, UTC) and the actor who caused it. A
case is the fold of its events (see `servicekit.evolve`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TypeAlias

import attrs

from servicekit._values import filler
from servicekit.feedback import Survey
from servicekit.followups import FollowUpOutcome
from servicekit.interactions import Channel, Direction, Party
from servicekit.ownership import Actor, Agent

__all__ = [
    "CaseOpened",
    "CaseReturnedToQueue",
    "CaseTransferred",
    "Event",
    "EventBase",
    "FeedbackRecorded",
    "FeedbackRequested",
    "FollowUpCompleted",
    "FollowUpDue",
    "FollowUpHandedOver",
    "FollowUpScheduled",
    "InteractionRecorded",
    "OfferAccepted",
    "OfferMade",
    "OfferRejected",
    "OwnerAssigned",
    "PriorityChanged",
    "SkillsChanged",
    "SlaBreached",
    "SlaEscalated",
    "SlaPaused",
    "SlaPolicyApplied",
    "SlaResumed",
    "SlaWarned",
    "StageChanged",
    "StewardAppointed",
    "StewardReassigned",
]

_EVENT_IDS = uuid.UUID("5d1f0c8e-3a57-4c1b-9a53-6f2f3b0e7a41")


@attrs.frozen
class EventBase:
    """The fields every event has."""

    case_id: str
    version: int
    at: datetime
    actor: Actor

    def __str__(self) -> str:
        """One line a person reads in a case's history: when, who, what."""
        return f"#{self.version} {self.at:%Y-%m-%d %H:%M}Z {self.actor}: {self.describe()}"

    def describe(self) -> str:
        """What happened, in words."""
        return type(self).__name__

    @property
    def id(self) -> uuid.UUID:
        """A globally unique id, derived from the case and the version (stable on replay)."""
        return uuid.uuid5(_EVENT_IDS, f"{self.case_id}\x00{self.version}")


@attrs.frozen
class CaseOpened(EventBase):
    """The case was opened, by the customer (inbound) or the company (outbound)."""

    customer_id: str
    workflow: str
    stage: str
    channel: Channel
    initiated_by: Party
    summary: str
    priority: str = "normal"
    tier: str | None = None
    skills: frozenset[str] = frozenset()

    def describe(self) -> str:
        """What happened, in words."""
        needs = f" (needs {', '.join(sorted(self.skills))})" if self.skills else ""
        return (
            f"opened the case in {self.stage!r} for customer {self.customer_id!r} "
            f"on {self.channel} (started by the {self.initiated_by.value}){needs}: {self.summary}"
        )


@attrs.frozen
class InteractionRecorded(EventBase):
    """A contact happened on a channel, in a direction; `actor` is who made it."""

    channel: Channel
    direction: Direction
    summary: str

    def describe(self) -> str:
        """What happened, in words."""
        return f"{self.direction.value} {self.channel}: {self.summary}"


@attrs.frozen
class OwnerAssigned(EventBase):
    """An unowned case got its owner (an agent took it, or it was routed)."""

    owner: Agent
    reason: str | None = None

    def describe(self) -> str:
        """What happened, in words."""
        because = f" ({self.reason})" if self.reason else ""
        return f"{self.owner} owns the case{because}"


@attrs.frozen
class CaseReturnedToQueue(EventBase):
    """The owner did not answer in time: the case is unowned again and waits to be routed.

    When the owner who did not answer was also the steward, the case has no
    steward either: its next owner becomes its steward (someone who never
    touched the case cannot be accountable for it).
    """

    from_owner: Agent
    handoff_note: str

    def describe(self) -> str:
        """What happened, in words."""
        return f"returned the case to the queue from {self.from_owner}: {self.handoff_note}"


@attrs.frozen
class SkillsChanged(EventBase):
    """The skills the case needs changed; routing matches agents against the new set."""

    skills: frozenset[str]
    reason: str | None

    def describe(self) -> str:
        """What happened, in words."""
        needs = ", ".join(sorted(self.skills)) or "no particular skill"
        because = f" ({self.reason})" if self.reason else ""
        return f"the case needs {needs}{because}"


@attrs.frozen
class StewardAppointed(EventBase):
    """The case's first owner became its steward, accountable until the customer is served."""

    steward: Agent

    def describe(self) -> str:
        """What happened, in words."""
        return f"{self.steward} is the case's steward"


@attrs.frozen
class StewardReassigned(EventBase):
    """The steward left (or could no longer serve); another agent became accountable.

    The steward's open follow-ups on the case go to the new steward with it.
    """

    from_steward: Agent
    to_steward: Agent
    reason: str

    def describe(self) -> str:
        """What happened, in words."""
        return f"{self.to_steward} took over as steward from {self.from_steward}: {self.reason}"


@attrs.frozen
class CaseTransferred(EventBase):
    """The case changed owner, with a handoff note; the steward did not change."""

    from_owner: Agent
    to_owner: Agent
    handoff_note: str

    def describe(self) -> str:
        """What happened, in words."""
        return (
            f"transferred the case from {self.from_owner} to {self.to_owner}: {self.handoff_note}"
        )


@attrs.frozen
class StageChanged(EventBase):
    """A trigger moved the case from one stage to another."""

    trigger: str
    source: str
    dest: str
    reason: str | None = None

    def describe(self) -> str:
        """What happened, in words."""
        because = f" ({self.reason})" if self.reason else ""
        return f"{self.trigger}: {self.source} -> {self.dest}{because}"


@attrs.frozen
class OfferMade(EventBase):
    """An offer was put on the table; any offer still open is superseded by it."""

    offer_id: int
    party: Party
    amount: Decimal
    currency: str
    terms: str

    def describe(self) -> str:
        """What happened, in words."""
        terms = f", {self.terms}" if self.terms else ""
        return (
            f"offer {self.offer_id} from the {self.party.value}: "
            f"{self.amount} {self.currency}{terms}"
        )


@attrs.frozen
class OfferAccepted(EventBase):
    """An open offer was accepted.

    `via` is set when an agent (the event's actor) recorded the customer's answer,
    given on that channel.
    """

    offer_id: int
    via: Channel | None = None

    def describe(self) -> str:
        """What happened, in words."""
        return f"accepted offer {self.offer_id}{_on_behalf(self.via)}"


@attrs.frozen
class OfferRejected(EventBase):
    """An open offer was rejected; `via` as for `OfferAccepted`."""

    offer_id: int
    reason: str
    via: Channel | None = None

    def describe(self) -> str:
        """What happened, in words."""
        because = f" ({self.reason})" if self.reason else ""
        return f"rejected offer {self.offer_id}{because}{_on_behalf(self.via)}"


def _on_behalf(via: Channel | None) -> str:
    return "" if via is None else f" for the customer, who answered by {via}"


@attrs.frozen
class FollowUpScheduled(EventBase):
    """A follow-up was scheduled for an agent, due at a time."""

    follow_up_id: int
    assignee: Agent
    due: datetime
    reason: str
    attempt: int = 1

    def describe(self) -> str:
        """What happened, in words."""
        return (
            f"follow-up {self.follow_up_id} for {self.assignee}, due "
            f"{self.due:%Y-%m-%d %H:%M}Z: {self.reason}"
        )


@attrs.frozen
class FollowUpDue(EventBase):
    """A follow-up fell due: its assignee should reach out to the customer now."""

    follow_up_id: int
    assignee: Agent

    def describe(self) -> str:
        """What happened, in words."""
        return f"follow-up {self.follow_up_id} is due: over to {self.assignee}"


@attrs.frozen
class FollowUpHandedOver(EventBase):
    """An open follow-up went to another agent, with the reason."""

    follow_up_id: int
    from_assignee: Agent
    to_assignee: Agent
    reason: str

    def describe(self) -> str:
        """What happened, in words."""
        return (
            f"follow-up {self.follow_up_id} went from {self.from_assignee} to "
            f"{self.to_assignee}: {self.reason}"
        )


@attrs.frozen
class FollowUpCompleted(EventBase):
    """A follow-up ended with an outcome."""

    follow_up_id: int
    outcome: FollowUpOutcome
    note: str

    def describe(self) -> str:
        """What happened, in words."""
        note = f": {self.note}" if self.note else ""
        return f"follow-up {self.follow_up_id} {self.outcome.value}{note}"


@attrs.frozen
class FeedbackRecorded(EventBase):
    """The customer answered a survey: a score on its scale and a comment."""

    survey: Survey
    score: int
    comment: str

    def describe(self) -> str:
        """What happened, in words."""
        comment = f": {self.comment}" if self.comment else ""
        high = self.survey.scale[1]
        return f"{self.survey.name} {self.score}/{high}{comment}"


@attrs.frozen
class FeedbackRequested(EventBase):
    """The customer was asked for feedback on a survey, on a channel."""

    survey: Survey
    channel: Channel

    def describe(self) -> str:
        """What happened, in words."""
        return f"asked for {self.survey.name} feedback on {self.channel}"


@attrs.frozen
class PriorityChanged(EventBase):
    """The case's priority changed; SLA targets are recalculated, elapsed time kept."""

    priority: str
    reason: str | None

    def describe(self) -> str:
        """What happened, in words."""
        because = f" ({self.reason})" if self.reason else ""
        return f"priority changed to {self.priority}{because}"


@attrs.frozen
class SlaPolicyApplied(EventBase):
    """The case came under an SLA policy, by name and version (recorded by the desk)."""

    policy: str
    policy_version: int

    def describe(self) -> str:
        """What happened, in words."""
        return f"SLA policy {self.policy!r} v{self.policy_version} applies"


@attrs.frozen
class SlaPaused(EventBase):
    """The SLA clocks were paused on purpose (beyond waiting on the customer)."""

    reason: str

    def describe(self) -> str:
        """What happened, in words."""
        return f"paused the SLA clocks: {self.reason}"


@attrs.frozen
class SlaResumed(EventBase):
    """The SLA clocks run again after an explicit pause."""

    reason: str | None

    def describe(self) -> str:
        """What happened, in words."""
        because = f" ({self.reason})" if self.reason else ""
        return f"resumed the SLA clocks{because}"


@attrs.frozen
class SlaWarned(EventBase):
    """An SLA clock reached its warning share at `warning_at`; the target is due at `due`.

    `due` is None only on warnings stored before schema 2, which recorded the
    warning moment alone.
    """

    clock: str
    warning_at: datetime
    due: datetime | None

    def describe(self) -> str:
        """What happened, in words."""
        due = "" if self.due is None else f"; it is due {self.due:%Y-%m-%d %H:%M}Z"
        return (
            f"warning: {self.clock} reached its warning at {self.warning_at:%Y-%m-%d %H:%M}Z{due}"
        )


@attrs.frozen
class SlaBreached(EventBase):
    """An SLA clock ran past its target, which was due at `due`.

    `warning_skipped` is true when the warning and the breach fell due before the
    same tick: only the breach is told, and it says that the warning was skipped.
    """

    clock: str
    due: datetime
    warning_skipped: bool = False

    def describe(self) -> str:
        """What happened, in words."""
        skipped = " (its warning was skipped: both fell due before this tick)"
        return (
            f"breached: {self.clock} was due {self.due:%Y-%m-%d %H:%M}Z"
            f"{skipped if self.warning_skipped else ''}"
        )


@attrs.frozen
class SlaEscalated(EventBase):
    """A breached SLA clock was escalated: level 1 the owner, 2 a supervisor, 3 the steward."""

    clock: str
    level: int
    notify: Agent

    def describe(self) -> str:
        """What happened, in words."""
        return f"escalated {self.clock} to level {self.level}: {self.notify}"


Event: TypeAlias = (
    CaseOpened
    | InteractionRecorded
    | OwnerAssigned
    | CaseReturnedToQueue
    | SkillsChanged
    | StewardAppointed
    | StewardReassigned
    | CaseTransferred
    | StageChanged
    | OfferMade
    | OfferAccepted
    | OfferRejected
    | FollowUpScheduled
    | FollowUpDue
    | FollowUpCompleted
    | FollowUpHandedOver
    | FeedbackRecorded
    | FeedbackRequested
    | PriorityChanged
    | SlaPolicyApplied
    | SlaPaused
    | SlaResumed
    | SlaWarned
    | SlaBreached
    | SlaEscalated
)
"""Any event in a case's history."""


_StageChangedFiller = filler(StageChanged)


def new_stage_changed(  # noqa: PLR0913, PLR0917 - every field of the event, by position
    case_id: str,
    version: int,
    at: datetime,
    actor: Actor,
    trigger: str,
    source: str,
    dest: str,
    reason: str | None,
) -> StageChanged:
    """A `StageChanged` from all of its fields, filled in by plain slot stores.

    For the core's hot path (every move makes one; see `servicekit._values.filler`);
    the event has no validators or converters to skip, and a test checks this agrees
    with the attrs constructor.
    """
    event = _StageChangedFiller()
    event.case_id = case_id
    event.version = version
    event.at = at
    event.actor = actor
    event.trigger = trigger
    event.source = source
    event.dest = dest
    event.reason = reason
    event.__class__ = StageChanged
    built: StageChanged = event
    return built
