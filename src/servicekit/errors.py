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
from typing import ClassVar

from servicekit._words import listing

__all__ = [
    "AgentStillResponsible",
    "CaseNotFound",
    "CommandRejected",
    "ConcurrencyConflict",
    "CorruptHistory",
    "DirectoryConflict",
    "DuplicateCase",
    "IdempotencyConflict",
    "IncompatibleStore",
    "InvalidTransition",
    "InvalidValue",
    "InvalidWorkflow",
    "NotPermitted",
    "OwnershipViolation",
    "ServiceKitError",
    "StoreError",
    "UnknownAgent",
    "UnknownCase",
    "UnknownReference",
    "UnknownStage",
    "UnknownWorkflow",
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

    _names_stage: ClassVar[bool] = True
    """Whether the message says the stage the case is in (the reason may say it instead)."""

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
        subject = f"case {case_id!r}"
        # "open the case" reads "open case 'K'"; "fire 'win'" reads "fire 'win' on case 'K'".
        if "the case" in attempted:
            action = attempted.replace("the case", subject, 1)
        else:
            action = f"{attempted} on {subject}"
        where = "" if stage is None or not self._names_stage else f" in stage {stage!r}"
        message = f"{actor} cannot {action}{where}: {reason}"
        if self.allowed:
            message += f"; allowed instead: {', '.join(self.allowed)}"
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

    _names_stage = False  # "cannot open case 'K' in stage 'enquiry'" would misread


class ConcurrencyConflict(ServiceKitError):
    """Someone else appended to the case first: the expected version is no longer current.

    The service desk reloads and decides again a bounded number of times; it raises
    this error only when every attempt lost the race.
    """

    def __init__(
        self, case_id: str, expected: int, actual: int | None, *, detail: str = ""
    ) -> None:
        """Name the case and the versions that disagreed."""
        self.case_id = case_id
        self.expected = expected
        self.actual = actual
        now = "moved on" if actual is None else f"is at version {actual}"
        message = f"case {case_id!r} was expected at version {expected} but {now}"
        super().__init__(f"{message}; {detail}" if detail else message)


class DirectoryConflict(ServiceKitError):
    """Another writer changed an agent's record under every attempt to change it; none written."""

    def __init__(self, agent_id: str, attempted: str, attempts: int) -> None:
        """Name the agent, what was attempted and how often."""
        self.agent_id = agent_id
        self.attempted = attempted
        self.attempts = attempts
        super().__init__(
            f"could not {attempted} agent {agent_id!r}: another writer changed their record "
            f"each time, {attempts} times in a row; nothing was written, try again"
        )


class CaseNotFound(ServiceKitError, LookupError):
    """No case has this id."""

    def __init__(self, case_id: str) -> None:
        """Name the case that was asked for."""
        self.case_id = case_id
        super().__init__(f"there is no case {case_id!r}")


class UnknownAgent(ServiceKitError, LookupError):
    """No agent with this id is registered in the desk's directory."""

    def __init__(self, agent_id: str) -> None:
        """Name the agent that was asked for."""
        self.agent_id = agent_id
        super().__init__(
            f"there is no agent {agent_id!r} in the directory; register it with "
            "ServiceDesk.register_agent first"
        )


class UnknownWorkflow(ServiceKitError, LookupError):
    """A case, or a command, names a workflow the desk does not serve.

    The case is never replayed on another workflow; the desk reports it and goes on
    with the other cases.
    """

    def __init__(self, workflow: str, known: Iterable[str], *, case_id: str | None = None) -> None:
        """Name the workflow, the case if there is one, and the workflows the desk serves."""
        self.workflow = workflow
        self.case_id = case_id
        self.known = tuple(known)
        served = f"it serves {listing(self.known)}"
        if case_id is None:
            message = f"this desk does not serve workflow {workflow!r}; {served}"
        else:
            message = (
                f"case {case_id!r} was opened on workflow {workflow!r}, which this desk does "
                f"not serve; {served}"
            )
        super().__init__(
            f"{message} (a desk serves the workflows given to ServiceDesk(workflows=[...]))"
        )


class UnknownStage(ServiceKitError, KeyError):
    """A stage a workflow does not have: asked for by name, or where a case is or went.

    A workflow redefined between deployments may lose a stage. A case in that
    stage (or, for its SLA clocks, one that went through it) cannot be read on the
    new definition: the desk names the case and goes on with the others, as for a
    case of a workflow it does not serve. Also a `KeyError`, which
    `Workflow.stage` raised before this error had a name.
    """

    def __init__(
        self,
        stage: str,
        workflow: str,
        known: Iterable[str],
        *,
        case_id: str | None = None,
        went_through: bool = False,
    ) -> None:
        """Name the stage, the workflow and its stages, and the case if there is one."""
        self.stage = stage
        self.workflow = workflow
        self.known = tuple(known)
        self.case_id = case_id
        stages = f"its stages are {listing(self.known)}"
        if case_id is None:
            message = f"workflow {workflow!r} has no stage {stage!r}; {stages}"
        else:
            where = "went through" if went_through else "is in"
            message = (
                f"case {case_id!r} {where} stage {stage!r}, which workflow {workflow!r} no "
                f"longer has ({stages}); give the workflow that stage again to serve the case"
            )
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        """The message as it is (a `KeyError` would quote it)."""
        return self.message


class IdempotencyConflict(ServiceKitError, ValueError):
    """An idempotency key was used again for a different command."""

    def __init__(self, key: str, case_id: str) -> None:
        """Name the key and the case of its first use."""
        self.key = key
        self.case_id = case_id
        super().__init__(
            f"idempotency key {key!r} was already used for a different command on case "
            f"{case_id!r}; a retry must repeat the same command, a new command needs a new key"
        )


class AgentStillResponsible(ServiceKitError, ValueError):
    """An agent cannot be deactivated while they own or steward unfinished cases."""

    def __init__(self, agent_id: str, case_ids: Iterable[str]) -> None:
        """Name the agent and every case that blocks the deactivation."""
        self.agent_id = agent_id
        self.case_ids = tuple(case_ids)
        if len(self.case_ids) == 1:
            cases, them, their = f"an unfinished case, {self.case_ids[0]!r}", "it", "its"
        else:
            named = listing(self.case_ids)
            cases, them, their = f"{len(self.case_ids)} unfinished cases, {named}", "them", "their"
        super().__init__(
            f"agent {agent_id!r} still owns, stewards or owes a follow-up on {cases}; transfer "
            f"{them}, reassign {their} stewardship and hand over {their} follow-ups first"
        )


class StoreError(ServiceKitError):
    """A store cannot be used: the file is not a servicekit database, or it is damaged.

    The file is left exactly as it was.
    """


class IncompatibleStore(StoreError):
    """The store was written by a newer servicekit; this version cannot read it safely."""
