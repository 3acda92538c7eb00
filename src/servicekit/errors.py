"""The servicekit error hierarchy.

Every error servicekit raises derives from `ServiceKitError`, and most also derive
from the matching builtin (`ValueError`, `LookupError`, `PermissionError`) so that
callers who only know Python's own exceptions still catch them.

Errors raised while deciding a command carry the context a person needs to act on
them: the case, the actor, the stage and what would have been allowed. The message
says the same in words. A command that raises leaves the case exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "CommandRejected",
    "CorruptHistory",
    "DuplicateCase",
    "InvalidTransition",
    "InvalidValue",
    "InvalidWorkflow",
    "NotPermitted",
    "OwnershipViolation",
    "ServiceKitError",
    "UnknownCase",
    "UnknownReference",
]


class ServiceKitError(Exception):
    """Root of every error raised by servicekit."""


class InvalidValue(ServiceKitError, ValueError):
    """A value given to servicekit is malformed (a naive datetime, a float amount, ...)."""


class InvalidWorkflow(ServiceKitError, ValueError):
    """A workflow definition is inconsistent; `problems` lists every problem found."""

    def __init__(self, name: str, problems: Iterable[str]) -> None:
        """Collect every problem found in the workflow called `name`."""
        self.workflow = name
        self.problems = tuple(problems)
        listing = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"workflow {name!r} is invalid:\n{listing}")


class CorruptHistory(ServiceKitError, ValueError):
    """A case's history cannot be folded: wrong case, a version gap, an unknown event."""


class CommandRejected(ServiceKitError):
    """A command was decided against a case and refused; nothing was changed.

    Attributes name what a person needs to understand the refusal: the case, the
    actor, the stage, what was attempted, why it was refused and what would have
    been allowed instead.
    """

    def __init__(  # noqa: PLR0913 - each part of the context is named on purpose
        self,
        *,
        case_id: str,
        actor: str,
        stage: str | None,
        attempted: str,
        reason: str,
        allowed: Iterable[str] = (),
    ) -> None:
        """Build the message from the parts of the refusal."""
        self.case_id = case_id
        self.actor = actor
        self.stage = stage
        self.attempted = attempted
        self.reason = reason
        self.allowed = tuple(allowed)
        where = f"in stage {stage!r}" if stage is not None else "before it was opened"
        message = f"{actor} cannot {attempted} on case {case_id!r} {where}: {reason}"
        if self.allowed:
            message += f" (allowed: {', '.join(self.allowed)})"
        else:
            message += " (nothing is allowed here)"
        super().__init__(message)


class InvalidTransition(CommandRejected, ValueError):
    """The command does not fit the case's stage, or a guard of the transition failed."""


class NotPermitted(CommandRejected, PermissionError):
    """The actor may not do this to the case (not the owner, not a supervisor, ...)."""


class OwnershipViolation(CommandRejected, ValueError):
    """The command would break an ownership rule (no owner past intake, no handoff note, ...)."""


class UnknownReference(CommandRejected, LookupError):
    """The command names an offer or follow-up the case does not have."""


class UnknownCase(CommandRejected, LookupError):
    """The command needs an opened case, but the case has not been opened."""


class DuplicateCase(CommandRejected, ValueError):
    """The case is opened already; it cannot be opened twice."""
