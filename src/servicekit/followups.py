"""Follow-ups: scheduled checks that the customer was served."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import attrs

from servicekit.calendar import BusinessCalendar
from servicekit.errors import InvalidValue
from servicekit.feedback import Survey
from servicekit.interactions import Channel
from servicekit.ownership import Agent

__all__ = ["FollowUp", "FollowUpOutcome", "FollowUpRules"]


class FollowUpOutcome(enum.Enum):
    """How a follow-up ended."""

    SERVED = "served"
    """The customer confirmed they were served."""
    NOT_SERVED = "not_served"
    """The customer still needs something."""
    NO_ANSWER = "no_answer"
    """The customer could not be reached."""
    CANCELLED = "cancelled"
    """A supervisor closed the case without it, giving a reason."""


@attrs.frozen
class FollowUp:
    """A scheduled check with an accountable agent, a due time and, once done, an outcome."""

    follow_up_id: int
    assignee: Agent
    due: datetime
    reason: str
    outcome: FollowUpOutcome | None = None
    note: str = ""
    attempt: int = 1
    notified: bool = False

    @property
    def is_open(self) -> bool:
        """Whether the follow-up still has to be done."""
        return self.outcome is None


def _days(_instance: object, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = f"{attribute.name} is a whole number of business days from 0, got {value!r}"
        raise InvalidValue(msg)


def _attempts(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"no_answer_attempts is a whole number from 1, got {value!r}"
        raise InvalidValue(msg)


def _survey(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, Survey):
        msg = f"request_feedback is a Survey (Survey.CSAT, ...) or None, got {value!r}"
        raise InvalidValue(msg)


def _feedback_channel(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, Channel):
        msg = f"feedback_channel is a Channel (Channel.EMAIL, ...) or None, got {value!r}"
        raise InvalidValue(msg)


@attrs.frozen(kw_only=True)
class FollowUpRules:
    """When follow-ups fall due, and what their outcomes do; part of a `Workflow`.

    Due times are counted in open days of `calendar` (every day, by default),
    keeping the local time of day.

    Args:
        calendar: the business calendar follow-ups are counted on.
        after_resolution: days after a case is resolved (or won) until its
            steward checks that the customer was served.
        after_transfer: days after a transfer until the steward checks.
        after_loss: days after a lost sale until someone asks why.
        no_answer_attempts: how often a follow-up is tried when the customer
            does not answer; after the last, the case closes with that reason.
        retry_after: days until the next attempt after no answer.
        reopen_stage: where a case reopened after closing goes (None: a closed
            case stays closed).
        reopen_window: days after closing in which the customer or the owner
            may still reopen the case.
        reopen_trigger: the trigger that reopens a case (also after "not served").
        close_trigger: the trigger that closes a case (after the customer was
            served, or did not answer).
        request_feedback: the survey to ask the customer for each time the case
            is resolved (enters a stage of category resolved); None asks nothing.
        feedback_channel: where that survey is sent; the case's opening channel
            by default.
    """

    calendar: BusinessCalendar = attrs.field(factory=BusinessCalendar.always_open)
    after_resolution: int = attrs.field(default=3, validator=_days)
    after_transfer: int = attrs.field(default=1, validator=_days)
    after_loss: int = attrs.field(default=2, validator=_days)
    no_answer_attempts: int = attrs.field(default=3, validator=_attempts)
    retry_after: int = attrs.field(default=1, validator=_days)
    reopen_stage: str | None = None
    reopen_window: int = attrs.field(default=7, validator=_days)
    reopen_trigger: str = "reopen"
    close_trigger: str = "close"
    request_feedback: Survey | None = attrs.field(default=None, validator=_survey)
    feedback_channel: Channel | None = attrs.field(default=None, validator=_feedback_channel)

    def due(self, start: datetime, days: int) -> datetime:
        """`days` open days after `start`, at the same local time, in UTC."""
        return self.calendar.add_business_days(start, days).astimezone(UTC)
