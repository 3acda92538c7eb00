"""The same rules apply on every channel: outcomes never depend on where a contact happened."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import ANA, BO, CUSTOMER, START, STRANGER
from hypothesis import given
from hypothesis import strategies as st

from servicekit import (
    Case,
    Channel,
    Command,
    CommandRejected,
    Direction,
    Interaction,
    InvalidValue,
    Move,
    OpenCase,
    RecordInteraction,
    TransferCase,
    buying_cycle,
    decide,
    evolve,
)

WORKFLOW = buying_cycle()
channel_names = st.from_regex(r"[a-z][a-z0-9_\-]{0,15}", fullmatch=True)


def outcomes(channel: Channel) -> list[str]:
    """Play one scripted journey on `channel`; the outcome of each step, channel left out."""
    case = Case(WORKFLOW, "case-1")
    steps: list[Command] = [
        OpenCase(actor=CUSTOMER, customer_id=CUSTOMER.id, channel=channel, summary="help"),
        RecordInteraction(
            actor=STRANGER, channel=channel, direction=Direction.INBOUND, summary="me too"
        ),
        RecordInteraction(
            actor=CUSTOMER, channel=channel, direction=Direction.OUTBOUND, summary="odd"
        ),
        Move(actor=ANA, trigger="start_service"),
        OpenCase(actor=ANA, customer_id=CUSTOMER.id, channel=channel, summary="again"),
        RecordInteraction(actor=BO, channel=channel, direction=Direction.OUTBOUND, summary="hi"),
        TransferCase(actor=BO, to=ANA, handoff_note="over"),
    ]
    results = []
    for number, command in enumerate(steps):
        try:
            events = decide(case, command, now=START + timedelta(minutes=number))
        except CommandRejected as error:
            results.append(f"{type(error).__name__}: {error.reason}")
            continue
        for event in events:
            case = evolve(case, event)
        results.append(", ".join(type(event).__name__ for event in events))
    return results


@given(channel_names)
def test_every_channel_gets_the_same_outcome(name: str) -> None:
    assert outcomes(Channel(name)) == outcomes(Channel.PHONE)


def test_the_well_known_channels_are_all_alike() -> None:
    known = [Channel.PHONE, Channel.EMAIL, Channel.CHAT, Channel.SOCIAL, Channel.IN_PERSON]
    assert all(outcomes(channel) == outcomes(Channel.WEB) for channel in known)


def test_an_interaction_checks_its_channel_and_direction() -> None:
    interaction = Interaction(START, Channel.EMAIL, Direction.INBOUND, CUSTOMER, "hello")
    assert interaction.channel == Channel.EMAIL
    with pytest.raises(InvalidValue, match="Channel"):
        Interaction(START, "email", Direction.INBOUND, CUSTOMER, "hello")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="Direction"):
        Interaction(START, Channel.EMAIL, "in", CUSTOMER, "hello")  # type: ignore[arg-type]
