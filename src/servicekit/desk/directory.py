"""The agent directory: who the agents are now, as the store records them.

The directory is the truth about agents. The pure core decides on the values the
desk hands it, so the desk hands it the agents as the directory knows them at the
moment of the command (their teams and roles now, not when they took the case).
"""

from __future__ import annotations

from typing import TypeAlias

import attrs

from servicekit._values import require
from servicekit.case import Case
from servicekit.errors import (
    AgentStillResponsible,
    DirectoryConflict,
    InvalidValue,
    UnknownAgent,
)
from servicekit.ownership import Actor, Agent, Customer, Role, System
from servicekit.stores.base import CaseSummary, Store

__all__ = ["ActorRef", "AgentRef", "Directory"]

ActorRef: TypeAlias = Agent | Customer | System | str
"""Who acts: an `Agent`, `Customer` or `System`, or a registered agent's id."""

AgentRef: TypeAlias = Agent | str
"""A registered agent, as a value or by id; the desk's directory is the authority."""


_ATTEMPTS = 5
"""How often a deactivation reads and writes the agent again when another writer changed it."""


class Directory:
    """The agents of one store: registration, look-up, deactivation and supervisors."""

    def __init__(self, store: Store) -> None:
        """Read and write agents in `store`."""
        self._store = store

    def register(self, agent: Agent, *, expected: Agent | None = None) -> Agent:
        """Add an agent, or update one (teams, roles); returns it.

        Without `expected` the record is written as given, whatever the directory
        holds (a deactivation made meanwhile is overwritten). With `expected`, the
        record the change was made from, it is written only if the directory still
        holds exactly that record; else `DirectoryConflict` and nothing is written.
        """
        require(agent, Agent, "register_agent takes an Agent")
        if expected is not None:
            require(expected, Agent, "expected is the agent record the change was made from")
        if not self._store.put_agent(agent, expected=expected):
            raise DirectoryConflict(agent.id, "register", 1)
        return agent

    def get(self, agent_id: str) -> Agent:
        """The registered agent with this id; `UnknownAgent` if there is none."""
        require(agent_id, str, "an agent id is a string")
        return self._known(agent_id)

    def _known(self, agent_id: str) -> Agent:
        """The agent the store holds under this (checked) id; `UnknownAgent` if none."""
        agent = self._store.get_agent(agent_id)
        if agent is None:
            raise UnknownAgent(agent_id)
        return agent

    def all(self) -> list[Agent]:
        """Every registered agent, ordered by id."""
        return self._store.agents()

    def agent(self, agent: AgentRef) -> Agent:
        """The agent as the directory knows them now, given as a value or by id."""
        return self._known(agent if type(agent) is str else _agent_id(agent))

    def actor(self, actor: ActorRef) -> Actor:
        """The acting agent as the directory knows them, or the customer or system as given."""
        if type(actor) is str:  # the usual case: a host names the agent by id
            return self._known(actor)
        if isinstance(actor, Customer | System):
            return actor
        return self.agent(actor)

    def current(self, case: Case, actor: Actor, *, steward_too: bool = False) -> Case:
        """The case with its owner (and steward) as the directory knows them now.

        A supervisor of the owner's team is judged by the teams the owner has today;
        an owner deactivated since is inactive. `actor` is already the directory's
        record, so when the owner acts no look-up is needed. The steward is looked
        up only when the command is about them (`steward_too`). Agents the directory
        no longer knows are left as the history recorded them.
        """
        owner, steward = case.owner, case.steward
        if owner is None and not steward_too:
            return case
        now_owner = owner
        if owner is not None:
            if isinstance(actor, Agent) and actor.id == owner.id:
                now_owner = actor
            else:
                now_owner = self._now(owner)
        now_steward = steward
        if steward is not None:
            if now_owner is not None and steward.id == now_owner.id:
                now_steward = now_owner
            elif steward_too:
                now_steward = self._now(steward)
        if now_owner == owner and now_steward == steward:
            return case
        return attrs.evolve(case, owner=now_owner, steward=now_steward)

    def current_assignee(self, case: Case, follow_up_id: int) -> Case:
        """The case with that follow-up's assignee as the directory knows them now."""
        record = case.record
        follow_ups = record.follow_ups
        if not 1 <= follow_up_id <= len(follow_ups):
            return case  # the core refuses it, naming the follow-ups there are
        follow_up = follow_ups[follow_up_id - 1]
        assignee = self._now(follow_up.assignee)
        if assignee == follow_up.assignee:
            return case
        changed = attrs.evolve(follow_up, assignee=assignee)
        refreshed = (*follow_ups[: follow_up_id - 1], changed, *follow_ups[follow_up_id:])
        return attrs.evolve(case, record=attrs.evolve(record, follow_ups=refreshed))

    def _now(self, agent: Agent) -> Agent:
        known = self._store.get_agent(agent.id)
        return agent if known is None else known

    def teams_of(self, agent: Agent) -> frozenset[str]:
        """The teams the agent belongs to now; as `agent` has them if the directory lost them.

        This is how an SLA breach finds the owner's supervisors (`servicekit.sla.TeamsOf`):
        by the teams the owner has today, not those recorded when they took the case.
        """
        return self._now(agent).teams

    def supervisors_in(self, team: str | None) -> list[Agent]:
        """Active supervisors of `team`, by id, from the store's team index; None: of every team.

        This is whom an SLA breach escalates to (`servicekit.sla.SupervisorsOf`):
        with a team, one look-up in the index by team and role, so a team of a
        thousand agents costs what its supervisors cost; every supervisor only for
        a case nobody owns whose policy names no team.
        """
        if team is None:
            agents = [a for a in self._store.agents() if Role.SUPERVISOR in a.roles]
        else:
            agents = self._store.agents_in_team(team, role=Role.SUPERVISOR)
        return [agent for agent in agents if agent.active]

    def blocking_cases(self, agent_id: str) -> list[CaseSummary]:
        """Unfinished cases that need the agent: owned, stewarded, or with a follow-up of theirs."""
        self.get(agent_id)
        store = self._store
        found = {
            summary.case_id: summary
            for summary in [
                *store.find_cases(owner=agent_id),
                *store.find_cases(steward=agent_id),
                *store.find_cases(follow_up_assignee=agent_id),
            ]
            if not summary.finished
        }
        return sorted(found.values(), key=lambda s: (s.opened_at, s.case_id))

    def deactivate(self, agent_id: str) -> Agent:
        """Mark the agent inactive, once none of their unfinished cases needs them.

        A command that hands the agent a case names them in its append, and the store
        refuses the append once they are inactive; the desk then decides again and
        the command is refused. So a deactivation and a transfer to the agent cannot
        both succeed: whichever the store records second loses. The write is a
        compare-and-set on the record it was made from (`Store.put_agent`'s
        `expected`): a change another writer makes to the agent meanwhile (teams,
        roles) is never lost; the deactivation reads the agent again and retries.

        Raises:
            AgentStillResponsible: naming every unfinished case the agent still
                owns, stewards or has a follow-up on.
            DirectoryConflict: the agent's record changed under every attempt.
        """
        for _ in range(_ATTEMPTS):
            agent = self.get(agent_id)
            blocking = self.blocking_cases(agent_id)
            if blocking:
                raise AgentStillResponsible(agent_id, [summary.case_id for summary in blocking])
            inactive = attrs.evolve(agent, active=False)
            if not self._store.put_agent(inactive, expected=agent):
                continue  # changed meanwhile: read it again, keeping the change
            # A transfer to the agent may have committed between the check and the write:
            # look again, and undo the deactivation if one did (unless the record moved
            # on since: then the later writer's record stands).
            late = self.blocking_cases(agent_id)
            if late:
                self._store.put_agent(agent, expected=inactive)
                raise AgentStillResponsible(agent_id, [summary.case_id for summary in late])
            return inactive
        raise DirectoryConflict(agent_id, "deactivate", _ATTEMPTS)

    def needing_reassignment(self) -> list[CaseSummary]:
        """Unfinished cases whose owner, steward or a follow-up's assignee is inactive."""
        found: dict[str, CaseSummary] = {}
        for agent in self._store.agents():
            if not agent.active:
                for summary in self.blocking_cases(agent.id):
                    found[summary.case_id] = summary
        return sorted(found.values(), key=lambda s: (s.opened_at, s.case_id))


def _agent_id(agent: object) -> str:
    """The id of an agent given as a value or by id; `InvalidValue` for anything else."""
    if isinstance(agent, Agent):
        return agent.id
    if isinstance(agent, str):
        return agent
    msg = f"expected an Agent or an agent id, got {agent!r}"
    raise InvalidValue(msg)
