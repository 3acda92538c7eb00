"""What a refusal says, word for word, about offers: where they are made, and who answers.

Each test states the whole sentence a person reads and the `allowed` list a host shows
as buttons (see test_refusal_wording.py). The system and a customer making an offer are
in test_refusal_wording.py.
"""

from __future__ import annotations

from decimal import Decimal

from helpers import ANA, BO, BOT, CUSTOMER, Play

from servicekit import (
    AcceptOffer,
    Channel,
    InvalidTransition,
    MakeOffer,
    NotPermitted,
    Party,
    RejectOffer,
    UnknownReference,
)

TEN_EUROS = MakeOffer(actor=ANA, amount=Decimal("10.00"), currency="EUR")
COUNTER_OFFER = MakeOffer(actor=ANA, amount=Decimal("8.00"), currency="EUR", party=Party.CUSTOMER)


def test_an_offer_outside_bargaining_is_told_where_offers_are_made(play: Play) -> None:
    play.open(ANA)
    error = play.refused(TEN_EUROS)
    assert type(error) is InvalidTransition
    assert str(error) == (
        "agent 'ana' cannot make an offer on case 'case-1' in stage 'enquiry': stage 'enquiry' "
        "takes no offers; allowed instead: offers in stage 'negotiation'"
    )
    assert error.allowed == ("offers in stage 'negotiation'",)


def test_an_answer_to_an_offer_the_case_lacks_is_offered_the_open_ones(play: Play) -> None:
    play.to_stage("negotiation", owner=ANA)
    play(TEN_EUROS)
    error = play.refused(AcceptOffer(actor=CUSTOMER, offer_id=3))
    assert type(error) is UnknownReference
    assert str(error) == (
        "customer 'cust-1' cannot accept offer 3 on case 'case-1' in stage 'negotiation': the "
        "case has no offer 3; allowed instead: offer 1"
    )
    assert error.allowed == ("offer 1",)


def test_an_offer_answered_already_says_how_it_was_answered(play: Play) -> None:
    play.to_stage("negotiation", owner=ANA)
    play(TEN_EUROS)
    play(RejectOffer(actor=CUSTOMER, offer_id=1, reason="too dear"))
    play(TEN_EUROS)
    error = play.refused(AcceptOffer(actor=CUSTOMER, offer_id=1))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "customer 'cust-1' cannot accept offer 1 on case 'case-1' in stage 'negotiation': "
        "offer 1 is rejected; allowed instead: offer 2"
    )
    assert error.allowed == ("offer 2",)


def test_the_system_never_answers_an_offer(play: Play) -> None:
    play.to_stage("negotiation", owner=ANA)
    play(TEN_EUROS)
    error = play.refused(AcceptOffer(actor=BOT, offer_id=1))
    assert type(error) is NotPermitted
    assert str(error) == (
        "system 'router' cannot accept offer 1 on case 'case-1' in stage 'negotiation': offer "
        "1 is answered by a person: the customer, or the owner or a supervisor of their team; "
        "the system never answers for the customer or the company"
    )
    assert error.allowed == ()


def test_a_customer_never_answers_their_own_counter_offer(play: Play) -> None:
    play.to_stage("negotiation", owner=ANA)
    play(COUNTER_OFFER)
    error = play.refused(RejectOffer(actor=CUSTOMER, offer_id=1))
    assert type(error) is NotPermitted
    assert str(error) == (
        "customer 'cust-1' cannot reject offer 1 on case 'case-1' in stage 'negotiation': "
        "offer 1 is the customer's own; the company answers it"
    )
    assert error.allowed == ()


def test_the_company_answers_a_counter_offer_itself_on_no_channel(play: Play) -> None:
    play.to_stage("negotiation", owner=ANA)
    play(COUNTER_OFFER)
    error = play.refused(AcceptOffer(actor=ANA, offer_id=1, via=Channel.PHONE))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'ana' cannot accept offer 1 on case 'case-1' in stage 'negotiation': offer 1 is "
        "the customer's own; the company answers it itself, with no channel to name"
    )
    assert error.allowed == ()


def test_an_agent_recording_a_customers_answer_is_asked_for_the_channel(play: Play) -> None:
    play.to_stage("negotiation", owner=ANA)
    play(TEN_EUROS)
    error = play.refused(AcceptOffer(actor=ANA, offer_id=1))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'ana' cannot accept offer 1 on case 'case-1' in stage 'negotiation': offer 1 is "
        "the customer's to answer; to record the answer they gave you, name the channel they "
        "gave it on (via=Channel.PHONE, say)"
    )
    assert error.allowed == ()


def test_an_answer_given_on_a_channel_is_recorded_by_who_may_steer_the_case(play: Play) -> None:
    play.to_stage("negotiation", owner=ANA)
    play(TEN_EUROS)
    error = play.refused(AcceptOffer(actor=BO, offer_id=1, via=Channel.PHONE))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'bo' cannot accept offer 1 on case 'case-1' in stage 'negotiation': only the "
        "owner, a supervisor of the owner's team, or the system may do this; the owner is "
        "agent 'ana'"
    )
    assert error.allowed == ()


def test_a_counter_offer_is_answered_by_who_may_steer_the_case(play: Play) -> None:
    play.to_stage("negotiation", owner=ANA)
    play(COUNTER_OFFER)
    error = play.refused(AcceptOffer(actor=BO, offer_id=1))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'bo' cannot accept offer 1 on case 'case-1' in stage 'negotiation': only the "
        "owner, a supervisor of the owner's team, or the system may do this; the owner is "
        "agent 'ana'"
    )
    assert error.allowed == ()
