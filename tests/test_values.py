"""Malformed values are refused when a command is built, with a precise error."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from helpers import ANA, CUSTOMER

from servicekit import (
    AcceptOffer,
    Agent,
    Channel,
    CompleteFollowUp,
    Customer,
    InvalidValue,
    MakeOffer,
    Move,
    OpenCase,
    RecordInteraction,
    Role,
    ScheduleFollowUp,
    System,
    TransferCase,
)
from servicekit.interactions import Direction


def test_amounts_are_decimals_not_floats() -> None:
    with pytest.raises(
        InvalidValue,
        match=r"exact decimal number, such as Decimal\('12\.50'\) \(floats lose cents\)",
    ):
        MakeOffer(actor=ANA, amount=9.99, currency="EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["0", "-1", "NaN", "Infinity"])
def test_amounts_are_finite_and_positive(amount: str) -> None:
    with pytest.raises(InvalidValue, match="finite number above zero"):
        MakeOffer(actor=ANA, amount=Decimal(amount), currency="EUR")


@pytest.mark.parametrize("currency", ["eur", "EURO", "", 978])
def test_currencies_are_iso_codes(currency: object) -> None:
    with pytest.raises(InvalidValue, match="ISO 4217"):
        MakeOffer(actor=ANA, amount=Decimal(1), currency=currency)  # type: ignore[arg-type]


def test_the_actor_must_be_an_agent_a_customer_or_the_system() -> None:
    with pytest.raises(InvalidValue, match="actor must be an Agent, a Customer or a System"):
        Move(actor="ana", trigger="go")  # type: ignore[arg-type]


def test_a_due_time_must_be_aware() -> None:
    with pytest.raises(InvalidValue, match="naive"):
        ScheduleFollowUp(actor=ANA, due=datetime(2026, 1, 1), reason="x")  # noqa: DTZ001


def test_a_due_time_must_be_a_datetime() -> None:
    with pytest.raises(InvalidValue, match="timezone-aware datetime, got str"):
        ScheduleFollowUp(actor=ANA, due="tomorrow", reason="x")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "   "])
def test_summaries_and_ids_are_not_blank(bad: str) -> None:
    with pytest.raises(InvalidValue, match="non-blank"):
        OpenCase(actor=ANA, customer_id="c", channel=Channel.WEB, summary=bad)
    with pytest.raises(InvalidValue, match="non-blank"):
        Agent(bad)
    with pytest.raises(InvalidValue, match="non-blank"):
        Customer(bad)
    with pytest.raises(InvalidValue, match="non-blank"):
        System(bad)


def test_channels_are_an_open_set_of_names() -> None:
    assert Channel("whatsapp").name == "whatsapp"
    assert str(Channel.IN_PERSON) == "in_person"
    with pytest.raises(InvalidValue, match="channel name"):
        Channel("Whats App")


def test_channels_and_directions_are_typed() -> None:
    with pytest.raises(InvalidValue, match="a Channel"):
        RecordInteraction(actor=ANA, channel="phone", direction=Direction.INBOUND, summary="s")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"one of Direction\.INBOUND, Direction\.OUTBOUND"):
        RecordInteraction(actor=ANA, channel=Channel.PHONE, direction="in", summary="s")  # type: ignore[arg-type]


def test_offer_and_follow_up_numbers_start_at_one() -> None:
    with pytest.raises(InvalidValue, match="whole number from 1"):
        AcceptOffer(actor=CUSTOMER, offer_id=0)
    with pytest.raises(InvalidValue, match="whole number from 1"):
        CompleteFollowUp(actor=ANA, follow_up_id=True, outcome="served")  # type: ignore[arg-type]


def test_a_transfer_receiver_must_be_an_agent() -> None:
    with pytest.raises(InvalidValue, match="to must be an Agent"):
        TransferCase(actor=ANA, to=CUSTOMER, handoff_note="n")  # type: ignore[arg-type]


def test_agents_accept_a_single_team_or_role() -> None:
    agent = Agent("a", teams="sales", roles=Role.SUPERVISOR)
    assert agent.teams == frozenset({"sales"})
    assert agent.is_supervisor


def test_a_lone_string_is_one_team_role_or_skill_never_its_letters() -> None:
    agent = Agent("a", teams="sales", roles="supervisor", skills="de")
    assert agent.teams == frozenset({"sales"})
    assert agent.roles == frozenset({Role.SUPERVISOR})
    assert agent.skills == frozenset({"de"})


def test_a_role_named_by_a_string_that_is_no_role_is_refused_whole() -> None:
    with pytest.raises(InvalidValue, match="role is one of 'agent', 'supervisor', got 'boss'"):
        Agent("a", roles="boss")


@pytest.mark.parametrize(("option", "what"), [("teams", "a team name"), ("skills", "a skill")])
def test_a_team_name_or_skill_is_at_most_200_characters_and_named_when_refused(
    option: str, what: str
) -> None:
    assert Agent("a", **{option: {"t" * 200}})  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=f"^{what} may have at most 200 characters, got 201"):
        Agent("a", **{option: {"t" * 201}})  # type: ignore[arg-type]


def test_agent_roles_and_teams_are_checked() -> None:
    with pytest.raises(InvalidValue, match=r"roles are Role\.AGENT and Role\.SUPERVISOR"):
        Agent("a", roles=["boss"])
    with pytest.raises(InvalidValue, match="team names"):
        Agent("a", teams=[""])


@pytest.mark.parametrize("role", ["boss", "supervisor", None])
def test_every_role_of_an_agent_is_a_role_member(role: object) -> None:
    with pytest.raises(InvalidValue) as error:
        Agent("a", roles=[Role.SUPERVISOR, role])
    assert str(error.value) == f"an agent's roles are Role.AGENT and Role.SUPERVISOR, got {role!r}"


@pytest.mark.parametrize("team", ["", "  ", 3])
def test_every_team_of_an_agent_is_a_non_blank_name(team: object) -> None:
    with pytest.raises(InvalidValue) as error:
        Agent("a", teams=["sales", team])
    assert str(error.value) == f"team names must be non-blank strings, got {team!r}"


def test_an_inactive_supervisor_supervises_nobody() -> None:
    boss = Agent("boss", teams="t", roles=Role.SUPERVISOR, active=False)
    assert not boss.supervises(Agent("a", teams="t"))
