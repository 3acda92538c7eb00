"""The default workflow: bargaining, the sale, after-sales service, follow-up, close."""

from __future__ import annotations

from decimal import Decimal

import pytest
from helpers import ANA, BO, BOT, CUSTOMER, Play

from servicekit import (
    AcceptOffer,
    Channel,
    Direction,
    InvalidTransition,
    MakeOffer,
    Move,
    NotPermitted,
    OfferStatus,
    Party,
    RecordFeedback,
    RecordInteraction,
    RejectOffer,
    Survey,
    UnknownReference,
)


def offer(play: Play, amount: str, party: Party = Party.COMPANY) -> int:
    play(MakeOffer(actor=ANA, amount=Decimal(amount), currency="EUR", party=party))
    return play.case.offers[-1].offer_id


def test_a_sale_needs_an_accepted_offer(play: Play) -> None:
    play.to_stage("negotiation")
    with pytest.raises(InvalidTransition, match="no offer has been accepted yet; make one"):
        play.attempt(Move(actor=ANA, trigger="win"))
    play(AcceptOffer(actor=CUSTOMER, offer_id=offer(play, "950.00")))
    play(Move(actor=ANA, trigger="win"))
    assert play.case.stage == "won"
    assert play.case.accepted_offer is not None
    assert play.case.accepted_offer.amount == Decimal("950.00")


def test_the_guard_names_the_open_offers(play: Play) -> None:
    play.to_stage("negotiation")
    offer(play, "950.00")
    with pytest.raises(InvalidTransition, match=r"open: offer 1"):
        play.attempt(Move(actor=ANA, trigger="win"))


def test_a_lost_sale_needs_a_reason(play: Play) -> None:
    play.to_stage("negotiation")
    with pytest.raises(InvalidTransition, match=r": give a reason with the move$"):
        play.attempt(Move(actor=ANA, trigger="lose"))
    play(Move(actor=ANA, trigger="lose", reason="went with a competitor"))
    assert play.case.stage == "lost"
    assert play.history[-2].reason == "went with a competitor"  # type: ignore[union-attr]
    assert play.case.open_follow_ups[-1].reason == "ask the customer why the sale was lost"


def test_a_new_offer_supersedes_the_open_one(play: Play) -> None:
    play.to_stage("negotiation")
    first = offer(play, "1000.00")
    second = offer(play, "900.00", party=Party.CUSTOMER)
    assert play.case.offers[first - 1].status is OfferStatus.SUPERSEDED
    assert [o.offer_id for o in play.case.open_offers] == [second]


def test_the_customer_answers_the_companys_offers(play: Play) -> None:
    play.to_stage("negotiation")
    first = offer(play, "1000.00")
    play(RejectOffer(actor=CUSTOMER, offer_id=first, reason="too dear"))
    assert play.case.offers[0].status is OfferStatus.REJECTED
    assert play.case.offers[0].answer == "too dear"


def test_an_offer_records_its_terms_and_who_made_it(play: Play) -> None:
    play.to_stage("negotiation")
    play(MakeOffer(actor=ANA, amount=Decimal("950.00"), currency="EUR", terms="net 30"))
    (made,) = play.case.offers
    assert (made.terms, made.made_by, made.made_at) == ("net 30", ANA, play.now)


def test_an_accepted_offer_has_no_answer_text(play: Play) -> None:
    play.to_stage("negotiation")
    play(AcceptOffer(actor=CUSTOMER, offer_id=offer(play, "950.00")))
    assert play.case.offers[0].status is OfferStatus.ACCEPTED
    assert play.case.offers[0].answer == ""


def test_an_agent_records_the_customers_rejection_with_the_channel_it_came_by(
    play: Play,
) -> None:
    play.to_stage("negotiation")
    first = offer(play, "950.00")
    (rejected,) = play(RejectOffer(actor=ANA, offer_id=first, reason="too dear", via=Channel.EMAIL))
    assert (rejected.via, rejected.reason, rejected.actor) == (Channel.EMAIL, "too dear", ANA)  # type: ignore[union-attr]


def test_the_system_is_told_that_a_person_answers_an_offer(play: Play) -> None:
    play.to_stage("negotiation")
    first = offer(play, "950.00")
    with pytest.raises(NotPermitted) as refused:
        play.attempt(AcceptOffer(actor=BOT, offer_id=first))
    assert refused.value.reason == (
        "offer 1 is answered by a person: the customer, or the owner or a supervisor of their "
        "team; the system never answers for the customer or the company"
    )


def test_an_agent_is_told_how_to_record_the_customers_answer_and_that_counter_offers_need_none(
    play: Play,
) -> None:
    play.to_stage("negotiation")
    first = offer(play, "950.00")
    with pytest.raises(NotPermitted) as refused:
        play.attempt(AcceptOffer(actor=ANA, offer_id=first))
    assert refused.value.reason == (
        "offer 1 is the customer's to answer; to record the answer they gave you, name the "
        "channel they gave it on (via=Channel.PHONE, say)"
    )
    counter = offer(play, "800.00", party=Party.CUSTOMER)
    with pytest.raises(NotPermitted) as refused:
        play.attempt(AcceptOffer(actor=ANA, offer_id=counter, via=Channel.PHONE))
    assert refused.value.reason == (
        "offer 2 is the customer's own; the company answers it itself, with no channel to name"
    )


def test_the_company_answers_the_customers_counter_offers(play: Play) -> None:
    play.to_stage("negotiation")
    counter = offer(play, "800.00", party=Party.CUSTOMER)
    with pytest.raises(NotPermitted, match="the company answers it"):
        play.attempt(AcceptOffer(actor=CUSTOMER, offer_id=counter))
    play(AcceptOffer(actor=ANA, offer_id=counter))
    assert play.case.accepted_offer is not None


def test_a_customer_does_not_make_offers(play: Play) -> None:
    play.to_stage("negotiation")
    with pytest.raises(NotPermitted, match="records their counter-offers"):
        play.attempt(MakeOffer(actor=CUSTOMER, amount=Decimal(1), currency="EUR"))


def test_an_unknown_offer_is_named(play: Play) -> None:
    play.to_stage("negotiation")
    offer(play, "10.00")
    with pytest.raises(UnknownReference, match="no offer 7") as error:
        play.attempt(AcceptOffer(actor=CUSTOMER, offer_id=7))
    assert error.value.allowed == ("offer 1",)


def test_an_answered_offer_cannot_be_answered_again(play: Play) -> None:
    play.to_stage("negotiation")
    first = offer(play, "10.00")
    play(RejectOffer(actor=CUSTOMER, offer_id=first))
    with pytest.raises(InvalidTransition, match="offer 1 is rejected"):
        play.attempt(AcceptOffer(actor=CUSTOMER, offer_id=first))


def test_offers_belong_to_bargaining_stages(play: Play) -> None:
    play.to_stage("in_service")
    with pytest.raises(InvalidTransition, match="takes no offers") as error:
        play.attempt(MakeOffer(actor=ANA, amount=Decimal(1), currency="EUR"))
    assert error.value.allowed == ("offers in stage 'negotiation'",)


def test_a_support_request_may_start_directly_in_service(play: Play) -> None:
    play.open(BO, stage="in_service")
    assert play.case.stage == "in_service"
    assert play.case.owner == BO


def test_the_case_records_who_started_it(workflow: object) -> None:
    inbound = Play(workflow, "in").open(CUSTOMER)  # type: ignore[arg-type]
    outbound = Play(workflow, "out").open(ANA, direction=Direction.OUTBOUND)  # type: ignore[arg-type]
    assert inbound.case.initiated_by is Party.CUSTOMER
    assert outbound.case.initiated_by is Party.COMPANY
    assert outbound.case.interactions[0].direction is Direction.OUTBOUND


def test_service_waits_on_the_customer_and_resumes(play: Play) -> None:
    play.to_stage("waiting_on_customer", owner=BO)
    play(Move(actor=BO, trigger="resume"))
    assert play.case.stage == "in_service"


def test_an_enquiry_is_dropped_only_with_a_reason(play: Play) -> None:
    play.open(ANA)
    with pytest.raises(InvalidTransition, match=r": give a reason with the move$"):
        play.attempt(Move(actor=ANA, trigger="close"))
    play(Move(actor=ANA, trigger="close", reason="spam"))
    assert play.case.is_finished


def test_a_finished_case_still_hears_the_customer(play: Play) -> None:
    play.to_stage("lost")
    from servicekit import CompleteFollowUp, FollowUpOutcome  # noqa: PLC0415

    play(CompleteFollowUp(actor=ANA, follow_up_id=1, outcome=FollowUpOutcome.SERVED))
    play(Move(actor=BOT, trigger="close"))
    play(
        RecordInteraction(
            actor=CUSTOMER,
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            summary="actually, still interested",
        )
    )
    play(RecordFeedback(actor=CUSTOMER, survey=Survey.CSAT, score=2))
    assert play.case.interactions[-1].summary == "actually, still interested"
    with pytest.raises(InvalidTransition, match="the case is finished") as error:
        play.attempt(Move(actor=ANA, trigger="negotiate"))
    assert error.value.allowed == ("record an interaction", "record feedback")


def test_the_whole_journey_from_enquiry_to_closed(play: Play) -> None:
    play.to_stage("won", owner=ANA)
    for trigger in ["start_service", "resolve", "follow_up"]:
        play(Move(actor=ANA, trigger=trigger))
    from servicekit import CompleteFollowUp, FollowUpOutcome  # noqa: PLC0415

    for follow_up in play.case.open_follow_ups:
        play(
            CompleteFollowUp(
                actor=ANA, follow_up_id=follow_up.follow_up_id, outcome=FollowUpOutcome.SERVED
            )
        )
    play(Move(actor=ANA, trigger="close"))
    assert [e.dest for e in play.history if hasattr(e, "dest")] == [
        "negotiation",
        "won",
        "in_service",
        "resolved",
        "follow_up",
        "closed",
    ]
