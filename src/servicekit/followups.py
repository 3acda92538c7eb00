"""Follow-ups: scheduled checks that the customer was served."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from servicekit.ownership import Agent

__all__ = ["FollowUp", "FollowUpOutcome"]


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

    @property
    def is_open(self) -> bool:
        """Whether the follow-up still has to be done."""
        return self.outcome is None
