"""Who acts on a case, and who may do what to it.

Three kinds of actor touch a case: an `Agent` (a human representative of the
company), the case's `Customer`, and the `System` (timers and automation). The
rules here are the ownership rules of the seeds: one accountable person at every
moment, and only that person, their supervisor or the system moves the case.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

import attrs

from servicekit._values import MAX_NAME_LENGTH, identifier, non_blank, storable
from servicekit.errors import InvalidValue

__all__ = ["Actor", "Agent", "Customer", "Role", "System", "may_steer", "skill_names"]


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
        storable(team, "a team name", limit=MAX_NAME_LENGTH)


def _roles(value: Any) -> frozenset[Role]:
    if isinstance(value, Role):
        return frozenset((value,))
    if isinstance(value, str):
        # One role, as with teams and skills; by its value ("supervisor") or not at all.
        value = (_role_named(value),)
    roles: frozenset[object] = frozenset(value)
    for role in roles:
        if not isinstance(role, Role):
            msg = f"an agent's roles are Role.AGENT and Role.SUPERVISOR, got {role!r}"
            raise InvalidValue(msg)
    return frozenset(role for role in roles if isinstance(role, Role))


def _role_named(name: str) -> Role:
    try:
        return Role(name)
    except ValueError:
        known = ", ".join(repr(role.value) for role in Role)
        msg = f"an agent's role is one of {known}, got {name!r}"
        raise InvalidValue(msg) from None


_SKILL = re.compile(r"\S+\Z")
_CHANNEL = re.compile(r"[a-z][a-z0-9_\-]*\Z")  # the same shape as `Channel.name`


def skill_names(value: Any) -> frozenset[str]:
    """Skills as a frozenset of words: any iterable of strings, or one string for one skill.

    A skill is an open word ("de", "billing", "sales"): non-blank, without spaces.
    `InvalidValue` names the first one that is not.
    """
    if isinstance(value, Mapping | bytes) or not isinstance(value, str | Iterable):
        msg = f"skills are a set of words (for example {{'de', 'billing'}}), got {value!r}"
        raise InvalidValue(msg)
    words = _names(value)
    for word in words:
        if not isinstance(word, str) or not _SKILL.match(word):
            msg = f"a skill is one non-blank word without spaces, got {word!r}"
            raise InvalidValue(msg)
        storable(word, "a skill", limit=MAX_NAME_LENGTH)
    return words


def _capacity(value: Any) -> tuple[tuple[str, int], ...]:
    """Capacity per channel, keyed by channel name or `Channel`, as sorted (name, limit) pairs.

    A tuple keeps `Agent` hashable and its equality independent of the order given.
    """
    if isinstance(value, tuple) and all(isinstance(pair, tuple) for pair in value):
        value = dict(value)
    if not isinstance(value, Mapping):
        msg = f"capacity maps channels to whole numbers (for example {{'chat': 3}}), got {value!r}"
        raise InvalidValue(msg)
    limits: dict[str, int] = {}
    for key, limit in value.items():
        name = getattr(key, "name", key)
        if not isinstance(name, str) or not _CHANNEL.match(name):
            msg = f"a capacity is keyed by a channel name or a Channel, got {key!r}"
            raise InvalidValue(msg)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            msg = f"the capacity on {name!r} must be a whole number from 0, got {limit!r}"
            raise InvalidValue(msg)
        if name in limits:
            msg = f"the capacity on {name!r} is given twice"
            raise InvalidValue(msg)
        limits[name] = limit
    return tuple(sorted(limits.items()))


def _a_boolean(_instance: object, attribute: Any, value: Any) -> None:
    """Attrs validator: True or False, never another value that compares equal (1 == True)."""
    if type(value) is not bool:
        msg = f"{attribute.name} must be True or False, got {value!r}"
        raise InvalidValue(msg)


@attrs.frozen
class Agent:
    """A human representative of the company.

    `teams`, `roles` and `skills` accept any iterable or a single value (a lone
    string is one value, never its letters; a role may be given by its value,
    "supervisor"); a supervisor supervises every agent who shares one of their teams.

    `skills` (open words: languages, products, "sales") and `capacity` (how many
    open cases the agent works at once per channel, keyed by channel name or
    `Channel`; a channel left out has no limit) are what routing matches a case
    against. Whether the agent is available right now is not part of the agent:
    it changes by the minute and lives in the desk's directory beside it
    (`servicekit.Presence`), so the agent recorded in a case's history stays the
    same value all day.
    """

    id: str = attrs.field(validator=identifier)
    teams: frozenset[str] = attrs.field(
        default=frozenset(), converter=_names, validator=_team_names
    )
    roles: frozenset[Role] = attrs.field(default=frozenset((Role.AGENT,)), converter=_roles)
    active: bool = attrs.field(default=True, validator=_a_boolean)
    skills: frozenset[str] = attrs.field(default=frozenset(), converter=skill_names)
    capacity: tuple[tuple[str, int], ...] = attrs.field(default=(), converter=_capacity)

    def capacity_on(self, channel: object) -> int | None:
        """The agent's limit of open cases on `channel` (a name or a `Channel`); None: no limit."""
        name = getattr(channel, "name", channel)
        for key, limit in self.capacity:
            if key == name:
                return limit
        return None

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

    id: str = attrs.field(validator=identifier)

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
