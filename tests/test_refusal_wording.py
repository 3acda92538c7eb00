"""What a refusal says to a person, word for word: the reason, and what is allowed instead.

Other tests match a refusal by a part of its message; these state the whole sentence
a person reads, and the `allowed` list a host shows as buttons.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from servicekit import (
    Agent,
    Channel,
    Command,
    Customer,
    InMemoryStore,
    InvalidTransition,
    ManualClock,
    NotPermitted,
    ServiceDesk,
    ServiceKitError,
    SlaResumed,
    System,
    buying_cycle,
)
from servicekit.commands import MakeOffer, PauseSla, ResumeSla

ANA = Agent("ana", teams={"sales"})


@pytest.fixture
def desk() -> ServiceDesk:
    """A case in negotiation, owned by ana."""
    desk = ServiceDesk(
        workflow=buying_cycle(),
        store=InMemoryStore(),
        clock=ManualClock(datetime(2024, 7, 4, 10, 0, tzinfo=UTC)),
    )
    desk.register_agent(ANA)
    desk.open_case(actor="ana", customer_id="ivy", channel=Channel.PHONE, summary="s", case_id="k")
    desk.negotiate("k", actor="ana")
    return desk


def refusal(desk: ServiceDesk, command: Command) -> ServiceKitError:
    """The error the desk refuses `command` with; the case is left as it was."""
    before = desk.case("k").version
    with pytest.raises(ServiceKitError) as error:
        desk.execute("k", command)
    assert desk.case("k").version == before
    return error.value


def test_the_system_never_makes_an_offer(desk: ServiceDesk) -> None:
    error = refusal(desk, MakeOffer(actor=System(), amount=Decimal(10), currency="EUR"))
    assert type(error) is NotPermitted
    assert str(error) == (
        "system 'automation' cannot make an offer on case 'k' in stage 'negotiation': "
        "a person makes offers; the system never bargains"
    )
    assert error.allowed == ()


def test_a_customer_answers_offers_and_is_told_so(desk: ServiceDesk) -> None:
    error = refusal(desk, MakeOffer(actor=Customer("ivy"), amount=Decimal(10), currency="EUR"))
    assert type(error) is NotPermitted
    assert str(error) == (
        "customer 'ivy' cannot make an offer on case 'k' in stage 'negotiation': a customer "
        "answers offers; the case's owner records their counter-offers; allowed instead: "
        "accept or reject the company's offers"
    )
    assert error.allowed == ("accept or reject the company's offers",)


def test_clocks_that_run_cannot_be_resumed(desk: ServiceDesk) -> None:
    error = refusal(desk, ResumeSla(actor=ANA))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "agent 'ana' cannot resume the SLA clocks on case 'k' in stage 'negotiation': "
        "the SLA clocks are not paused; allowed instead: pause the SLA clocks"
    )
    assert error.allowed == ("pause the SLA clocks",)


def test_paused_clocks_cannot_be_paused_again(desk: ServiceDesk) -> None:
    desk.pause_sla("k", actor="ana", reason="waiting for parts")
    error = refusal(desk, PauseSla(actor=ANA, reason="again"))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "agent 'ana' cannot pause the SLA clocks on case 'k' in stage 'negotiation': "
        "the SLA clocks are paused already; allowed instead: resume the SLA clocks"
    )
    assert error.allowed == ("resume the SLA clocks",)


def test_resuming_the_clocks_records_why(desk: ServiceDesk) -> None:
    desk.pause_sla("k", actor="ana", reason="waiting for parts")
    resumed = desk.resume_sla("k", actor="ana", reason="the parts came").events[-1]
    assert isinstance(resumed, SlaResumed)
    assert resumed.reason == "the parts came"
