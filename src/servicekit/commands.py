"""Commands: what an actor asks to do to a case.

A command is a request, not a fact: `decide` checks it against the case and the
rules and either returns the events it causes or raises a precise error. Every
command names its `actor` and may carry an `idempotency_key`, which the service
desk uses to recognise a retried command. Values are checked when a command is
built, so a malformed command never reaches the rules.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeAlias

import attrs

from servicekit._values import (
    identifier,
    non_blank,
    optional_identifier,
    optional_non_blank,
    text,
    utc,
)
from servicekit.errors import InvalidValue
from servicekit.feedback import Survey
from servicekit.followups import FollowUpOutcome
from servicekit.interactions import Channel, Direction, Party
from servicekit.offers import check_money
from servicekit.ownership import Actor, Agent, Customer, System, skill_names
from servicekit.timers import Timer

__all__ = [
    "AcceptOffer",
    "ApplySlaPolicy",
    "AssignCase",
    "ChangePriority",
    "ChangeSkills",
    "Command",
    "CompleteFollowUp",
    "FireTimers",
    "HandOverFollowUp",
    "MakeOffer",
    "Move",
    "OpenCase",
    "PauseSla",
    "ReassignSteward",
    "RecordFeedback",
    "RecordInteraction",
    "RejectOffer",
    "RequestFeedback",
    "ResumeSla",
    "ReturnToQueue",
    "ScheduleFollowUp",
    "TransferCase",
]


def _actor(_instance: object, _attribute: Any, value: Any) -> None:
    if not isinstance(value, Agent | Customer | System):
        msg = f"actor must be an Agent, a Customer or a System, got {value!r}"
        raise InvalidValue(msg)


def _agent(_instance: object, attribute: Any, value: Any) -> None:
    if not isinstance(value, Agent):
        msg = f"{attribute.name} must be an Agent, got {value!r}"
        raise InvalidValue(msg)


def _optional_agent(instance: object, attribute: Any, value: Any) -> None:
    if value is not None:
        _agent(instance, attribute, value)


def _instance_of(kind: type, hint: str) -> Any:
    def check(_instance: object, attribute: Any, value: Any) -> None:
        if not isinstance(value, kind):
            msg = f"{attribute.name} must be {hint}, got {value!r}"
            if issubclass(kind, enum.Enum):
                choices = ", ".join(f"{kind.__name__}.{member.name}" for member in kind)
                msg = f"{attribute.name} must be one of {choices}; got {value!r}"
            raise InvalidValue(msg)

    return check


def _positive_int(_instance: object, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{attribute.name} must be a whole number from 1, got {value!r}"
        raise InvalidValue(msg)


def _aware(value: datetime) -> datetime:
    return utc(value, what="the due time")


_ACTOR = attrs.field(validator=_actor)
_KEY = attrs.field(default=None, validator=optional_identifier)


@attrs.frozen(kw_only=True)
class OpenCase:
    """Open a case for a customer, on a channel, started by either side.

    Args:
        actor: who opens it. An agent who opens a case owns it at once.
        customer_id: the host application's id of the customer.
        channel: where the first contact happened.
        summary: what the customer needs, in words the next agent can read.
        direction: `INBOUND` when the customer reached out, `OUTBOUND` when the
            company did (proactive outreach); the case records which.
        stage: a start stage of the workflow; the workflow's first by default.
        owner: the agent who owns the case from the start (routing by the system
            or a supervisor); defaults to the opening agent, if an agent opens it.
        priority: the case's priority ("normal" by default); SLA policies may
            depend on it.
        tier: the customer's tier in the host application ("gold"), if any.
        skills: the skills an agent needs to serve the case ({"de", "billing"});
            routing offers the case only to agents who have every one.
    """

    actor: Actor = _ACTOR
    customer_id: str = attrs.field(validator=identifier)
    channel: Channel = attrs.field(validator=_instance_of(Channel, "a Channel"))
    summary: str = attrs.field(validator=non_blank)
    direction: Direction = attrs.field(
        default=Direction.INBOUND, validator=_instance_of(Direction, "a Direction")
    )
    stage: str | None = attrs.field(default=None, validator=optional_non_blank)
    owner: Agent | None = attrs.field(default=None, validator=_optional_agent)
    priority: str = attrs.field(default="normal", validator=non_blank)
    tier: str | None = attrs.field(default=None, validator=optional_non_blank)
    skills: frozenset[str] = attrs.field(default=frozenset(), converter=skill_names)
    workflow: str | None = attrs.field(default=None, validator=optional_non_blank)
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class AssignCase:
    """Give an unowned case its owner: an agent taking it, or routing by a supervisor or the system.

    A case that has an owner changes hands only by `TransferCase`, with a handoff note.
    `reason` says why this agent (routing records the rule that chose them).
    """

    actor: Actor = _ACTOR
    to: Agent = attrs.field(validator=_agent)
    reason: str | None = attrs.field(default=None, validator=optional_non_blank)
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class ChangeSkills:
    """Change the skills the case needs (the customer turned out to speak German, ...).

    The owner, a supervisor of the owner's team, or the system may; on a case
    nobody owns yet, any active supervisor or the system.
    """

    actor: Actor = _ACTOR
    skills: frozenset[str] = attrs.field(converter=skill_names)
    reason: str | None = attrs.field(default=None, validator=optional_non_blank)
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class ReturnToQueue:
    """Take an unanswered case back from its owner, with a handoff note: the system's command.

    Routing issues it when the owner does not answer within the answer time, or
    has gone offline; the case must still be in an intake stage, where a case may
    be unowned.
    """

    actor: Actor = _ACTOR
    handoff_note: str = attrs.field(validator=non_blank)
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class TransferCase:
    """Hand the case to another active agent, with a note so the customer never repeats themselves.

    The owner changes; the steward does not, and gets a follow-up to confirm the
    customer was served.
    """

    actor: Actor = _ACTOR
    to: Agent = attrs.field(validator=_agent)
    handoff_note: str = attrs.field(validator=text)
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class ReassignSteward:
    """Make another active agent the case's steward, for example when the steward leaves.

    Only a supervisor of the steward's team or the system may, giving a reason.
    """

    actor: Actor = _ACTOR
    to: Agent = attrs.field(validator=_agent)
    reason: str = attrs.field(validator=non_blank)
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class Move:
    """Fire a workflow trigger ("negotiate", "resolve", "close", ...).

    `reason` is recorded with the move; some moves need one (losing a sale, a
    supervisor closing a case that still has open follow-ups).
    """

    actor: Actor = _ACTOR
    trigger: str = attrs.field(validator=non_blank)
    reason: str | None = attrs.field(default=None, validator=optional_non_blank)
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class RecordInteraction:
    """Record one contact on the case: a call, an email, a chat, a visit, ..."""

    actor: Actor = _ACTOR
    channel: Channel = attrs.field(validator=_instance_of(Channel, "a Channel"))
    direction: Direction = attrs.field(validator=_instance_of(Direction, "a Direction"))
    summary: str = attrs.field(validator=non_blank)
    idempotency_key: str | None = _KEY


def _money(instance: MakeOffer, _attribute: object, _value: Any) -> None:
    check_money(instance.amount, instance.currency)


@attrs.frozen(kw_only=True)
class MakeOffer:
    """Put a price on the table: the company's offer, or the customer's counter-offer.

    `amount` is a `decimal.Decimal` and `currency` an ISO 4217 code; a float is refused.
    """

    actor: Actor = _ACTOR
    amount: Decimal
    currency: str = attrs.field(validator=_money)
    party: Party = attrs.field(default=Party.COMPANY, validator=_instance_of(Party, "a Party"))
    terms: str = attrs.field(default="", validator=text)
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class AcceptOffer:
    """Accept an open offer, by its number on the case.

    The company's offers are the customer's to answer: the customer accepts them,
    or an agent who may steer the case records the answer the customer gave on
    another channel, naming it in `via` (a phone call, say). The customer's own
    offers (counter-offers) are answered by those who may steer the case.
    """

    actor: Actor = _ACTOR
    offer_id: int = attrs.field(validator=_positive_int)
    via: Channel | None = attrs.field(
        default=None, validator=attrs.validators.optional(_instance_of(Channel, "a Channel"))
    )
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class RejectOffer:
    """Reject an open offer, by its number on the case, optionally saying why.

    Who may answer is as for `AcceptOffer`, `via` included.
    """

    actor: Actor = _ACTOR
    offer_id: int = attrs.field(validator=_positive_int)
    reason: str = attrs.field(default="", validator=text)
    via: Channel | None = attrs.field(
        default=None, validator=attrs.validators.optional(_instance_of(Channel, "a Channel"))
    )
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class ScheduleFollowUp:
    """Schedule a check on the customer, due at an aware time; for the steward by default."""

    actor: Actor = _ACTOR
    due: datetime = attrs.field(converter=_aware)
    reason: str = attrs.field(validator=non_blank)
    assignee: Agent | None = attrs.field(default=None, validator=_optional_agent)
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class CompleteFollowUp:
    """Record how a follow-up ended."""

    actor: Actor = _ACTOR
    follow_up_id: int = attrs.field(validator=_positive_int)
    outcome: FollowUpOutcome = attrs.field(
        validator=_instance_of(FollowUpOutcome, "a FollowUpOutcome")
    )
    note: str = attrs.field(default="", validator=text)
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class HandOverFollowUp:
    """Give an open follow-up to another active agent, saying why.

    The assignee, the case's steward, a supervisor of the assignee's team or the
    system may hand it over; the receiver must be active. An agent who leaves hands
    over their follow-ups first, so that no customer waits on someone who is gone.
    """

    actor: Actor = _ACTOR
    follow_up_id: int = attrs.field(validator=_positive_int)
    to: Agent = attrs.field(validator=_agent)
    reason: str = attrs.field(validator=non_blank)
    idempotency_key: str | None = _KEY


def _score(instance: RecordFeedback, _attribute: Any, value: Any) -> None:
    low, high = instance.survey.scale
    if isinstance(value, bool) or not isinstance(value, int) or not (low <= value <= high):
        msg = (
            f"a {instance.survey.name} score is a whole number from {low} to {high}, got {value!r}"
        )
        raise InvalidValue(msg)


@attrs.frozen(kw_only=True)
class RecordFeedback:
    """Record the customer's answer to a survey: a score on its scale and a comment.

    CSAT scores run from 1 to 5, NPS from 0 to 10 and CES from 1 to 7; anything
    else (a float, a boolean, a number off the scale) is refused.
    """

    actor: Actor = _ACTOR
    survey: Survey = attrs.field(validator=_instance_of(Survey, "a Survey (Survey.CSAT, ...)"))
    score: int = attrs.field(validator=_score)
    comment: str = attrs.field(default="", validator=text)
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class RequestFeedback:
    """Record that the customer was asked to answer a survey, on a channel.

    The host application sends the survey; recording the request lets KPIs
    measure how many requests were answered.
    """

    actor: Actor = _ACTOR
    survey: Survey = attrs.field(validator=_instance_of(Survey, "a Survey (Survey.CSAT, ...)"))
    channel: Channel = attrs.field(validator=_instance_of(Channel, "a Channel"))
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class ChangePriority:
    """Change the case's priority; SLA deadlines are recalculated, elapsed time is kept."""

    actor: Actor = _ACTOR
    priority: str = attrs.field(validator=non_blank)
    reason: str | None = attrs.field(default=None, validator=optional_non_blank)
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class PauseSla:
    """Pause the SLA clocks on purpose, with a reason.

    Waiting on the customer (a `pending` stage) pauses them anyway.
    """

    actor: Actor = _ACTOR
    reason: str = attrs.field(validator=non_blank)
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class ResumeSla:
    """Let the SLA clocks run again after `PauseSla`."""

    actor: Actor = _ACTOR
    reason: str | None = attrs.field(default=None, validator=optional_non_blank)
    idempotency_key: str | None = _KEY


@attrs.frozen(kw_only=True)
class ApplySlaPolicy:
    """Record that the case is now under an SLA policy version: the system's command.

    The service desk issues it whenever the policy that matches a case changes,
    so that the case keeps the version it is under when policies are redeployed.
    """

    actor: Actor = _ACTOR
    policy: str = attrs.field(validator=non_blank)
    version: int = attrs.field(validator=_positive_int)
    idempotency_key: str | None = _KEY


def _timers(value: Any) -> tuple[Timer, ...]:
    timers = tuple(value) if isinstance(value, list | tuple) else ()
    if not timers or not all(isinstance(timer, Timer) for timer in timers):
        msg = f"timers must be one or more Timer values, got {value!r}"
        raise InvalidValue(msg)
    return timers


@attrs.frozen(kw_only=True)
class FireTimers:
    """Record timers that fell due (warnings, breaches, escalations): the system's command."""

    actor: Actor = _ACTOR
    timers: tuple[Timer, ...] = attrs.field(converter=_timers)
    idempotency_key: str | None = _KEY


Command: TypeAlias = (
    OpenCase
    | AssignCase
    | TransferCase
    | ReassignSteward
    | Move
    | RecordInteraction
    | MakeOffer
    | AcceptOffer
    | RejectOffer
    | ScheduleFollowUp
    | CompleteFollowUp
    | HandOverFollowUp
    | RecordFeedback
    | RequestFeedback
    | ChangePriority
    | PauseSla
    | ResumeSla
    | FireTimers
    | ApplySlaPolicy
    | ChangeSkills
    | ReturnToQueue
)
"""Any command `decide` accepts."""
