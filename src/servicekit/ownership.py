"""Who acts on a case, and who may do what to it.

Three kinds of actor touch a case: an `Agent` (a human representative of the
company), the case's `Customer`, and the `System` (timers and automation). The
rules here are the ownership rules of the seeds: one accountable person at every
moment, and only that person, their supervisor or the system moves the case.
"""

from __future__ import annotations

import enum
from typing import Any, TypeAlias

import attrs

from servicekit._values import non_blank
from servicekit.errors import InvalidValue

__all__ = ["Actor", "Agent", "Customer", "Role", "System", "may_steer"]


class Role(enum.Enum):
    """What an agent is trusted with."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"


def _names(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        # A lone string would otherwise become a set of its letters.
        return frozenset((value,))
    return frozenset(value)


def _team_names(_instance: object, _attribute: object, value: frozenset[str]) -> None:
    for team in value:
        if not isinstance(team, str) or not team.strip():
            msg = f"team names must be non-blank strings, got {team!r}"
            raise InvalidValue(msg)


def _roles(value: Any) -> frozenset[Role]:
    if isinstance(value, Role):
        return frozenset((value,))
    roles: frozenset[object] = frozenset(value)
    for role in roles:
        if not isinstance(role, Role):
            msg = f"roles must be Role members (Role.AGENT, Role.SUPERVISOR), got {role!r}"
            raise InvalidValue(msg)
    return frozenset(role for role in roles if isinstance(role, Role))


@attrs.frozen
class Agent:
    """A human representative of the company.

    `teams` and `roles` accept any iterable (or a single value); a supervisor
    supervises every agent who shares one of their teams.
    """

    id: str = attrs.field(validator=non_blank)
    teams: frozenset[str] = attrs.field(
        default=frozenset(), converter=_names, validator=_team_names
    )
    roles: frozenset[Role] = attrs.field(default=frozenset((Role.AGENT,)), converter=_roles)
    active: bool = True

    @property
    def is_supervisor(self) -> bool:
        """Whether this agent holds the supervisor role."""
        return Role.SUPERVISOR in self.roles

    def supervises(self, other: Agent) -> bool:
        """Whether this agent is an active supervisor of a team `other` belongs to."""
        return self.active and self.is_supervisor and not self.teams.isdisjoint(other.teams)

    def __str__(self) -> str:
        """How the agent is named in messages."""
        return f"agent {self.id!r}"


@attrs.frozen
class Customer:
    """The customer a case belongs to, by the host application's id."""

    id: str = attrs.field(validator=non_blank)

    def __str__(self) -> str:
        """How the customer is named in messages."""
        return f"customer {self.id!r}"


@attrs.frozen
class System:
    """Automation acting on its own: timers, routing rules, integrations."""

    name: str = attrs.field(default="automation", validator=non_blank)

    def __str__(self) -> str:
        """How the system is named in messages."""
        return f"system {self.name!r}"


Actor: TypeAlias = Agent | Customer | System
"""Whoever issues a command: an agent, a customer or the system."""


def may_steer(actor: Actor, owner: Agent | None) -> bool:
    """Whether `actor` may move or transfer a case owned by `owner`.

    The owner, an active supervisor of one of the owner's teams, or the system.
    """
    if isinstance(actor, System):
        return True
    if not isinstance(actor, Agent) or not actor.active or owner is None:
        return False
    return actor.id == owner.id or actor.supervises(owner)
