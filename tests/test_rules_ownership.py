"""`may_steer` and `Agent.supervises` on their own: the public answers the rules are built on."""

from __future__ import annotations

from helpers import ANA, BOT, CUSTOMER, SAL, SUE

from servicekit import Agent, Role
from servicekit.ownership import may_steer


def test_nobody_but_the_system_steers_a_case_without_an_owner() -> None:
    assert may_steer(BOT, None)
    assert not may_steer(ANA, None)
    assert not may_steer(SAL, None)
    assert not may_steer(CUSTOMER, None)


def test_an_inactive_agent_never_steers_even_their_own_case() -> None:
    departed = Agent(ANA.id, teams=ANA.teams, active=False)
    assert may_steer(ANA, ANA)
    assert not may_steer(departed, ANA)


def test_a_supervisor_supervises_only_while_active_and_only_their_teams() -> None:
    assert SAL.supervises(ANA)
    assert not SUE.supervises(ANA)  # another team
    retired = Agent(SAL.id, teams=SAL.teams, roles={Role.SUPERVISOR}, active=False)
    assert not retired.supervises(ANA)
    assert not Agent("peer", teams={"sales"}).supervises(ANA)  # no supervisor role
