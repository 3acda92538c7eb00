"""What a refusal says, word for word, about the other commands a case takes.

Interactions, feedback, priority, skills, SLA policies and timers. Each test states the
whole sentence a person reads and the `allowed` list a host shows as buttons (see
test_refusal_wording.py, which holds pausing and resuming the SLA clocks).
"""

from __future__ import annotations

from helpers import ANA, BO, BOT, CUSTOMER, START, Play

from servicekit import (
    ApplySlaPolicy,
    ChangePriority,
    ChangeSkills,
    Channel,
    Direction,
    FireTimers,
    InvalidTransition,
    NotPermitted,
    RecordFeedback,
    RecordInteraction,
    RequestFeedback,
    Survey,
    Timer,
    TimerKind,
)


def test_a_customers_contact_is_inbound(play: Play) -> None:
    play.open(ANA)
    error = play.refused(
        RecordInteraction(
            actor=CUSTOMER, channel=Channel.CHAT, direction=Direction.OUTBOUND, summary="hi"
        )
    )
    assert type(error) is NotPermitted
    assert str(error) == (
        "customer 'cust-1' cannot record an interaction on case 'case-1' in stage 'enquiry': "
        "a customer's contact is inbound; allowed instead: record the contact as inbound"
    )
    assert error.allowed == ("record the contact as inbound",)


def test_the_system_never_records_feedback(play: Play) -> None:
    play.open(ANA)
    error = play.refused(RecordFeedback(actor=BOT, survey=Survey.CSAT, score=4))
    assert type(error) is NotPermitted
    assert str(error) == (
        "system 'router' cannot record CSAT feedback on case 'case-1' in stage 'enquiry': "
        "feedback is the customer's; the system never records it"
    )
    assert error.allowed == ()


def test_only_who_may_steer_the_case_asks_for_feedback(play: Play) -> None:
    play.open(ANA)
    error = play.refused(RequestFeedback(actor=BO, survey=Survey.NPS, channel=Channel.EMAIL))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'bo' cannot request NPS feedback on case 'case-1' in stage 'enquiry': only the "
        "owner, a supervisor of the owner's team, or the system may do this; the owner is "
        "agent 'ana'"
    )


def test_a_priority_the_case_has_already_is_named(play: Play) -> None:
    play.open(ANA)
    error = play.refused(ChangePriority(actor=ANA, priority="normal"))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "agent 'ana' cannot change the priority to 'normal' on case 'case-1' in stage "
        "'enquiry': the priority is 'normal' already"
    )
    assert error.allowed == ()


def test_only_a_supervisor_or_the_system_changes_the_skills_of_an_unowned_case(
    play: Play,
) -> None:
    play.open(CUSTOMER)
    error = play.refused(ChangeSkills(actor=ANA, skills={"de"}))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'ana' cannot change the skills case 'case-1' needs to 'de' in stage 'enquiry': "
        "nobody owns the case yet: only a supervisor or the system may change its skills"
    )
    assert error.allowed == ()


def test_the_skills_an_owned_case_needs_are_changed_by_who_may_steer_it(play: Play) -> None:
    play.open(ANA)
    error = play.refused(ChangeSkills(actor=BO, skills={"de"}))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'bo' cannot change the skills case 'case-1' needs to 'de' in stage 'enquiry': "
        "only the owner, a supervisor of the owner's team, or the system may do this; the "
        "owner is agent 'ana'"
    )


def test_one_skill_the_case_needs_already_is_named(play: Play) -> None:
    play.open(ANA)
    play(ChangeSkills(actor=ANA, skills={"de"}))
    error = play.refused(ChangeSkills(actor=ANA, skills={"de"}))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "agent 'ana' cannot change the skills case 'case-1' needs to 'de' in stage 'enquiry': "
        "the case needs exactly 'de' already"
    )
    assert error.allowed == ()


def test_a_case_that_needs_no_skills_already_says_so(play: Play) -> None:
    play.open(ANA)
    error = play.refused(ChangeSkills(actor=ANA, skills=set()))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "agent 'ana' cannot change the skills case 'case-1' needs to none in stage 'enquiry': "
        "the case needs no skills already"
    )
    assert error.allowed == ()


def test_only_the_system_records_which_sla_policy_applies(play: Play) -> None:
    play.open(ANA)
    error = play.refused(ApplySlaPolicy(actor=ANA, policy="gold", version=2))
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'ana' cannot apply SLA policy 'gold' v2 on case 'case-1' in stage 'enquiry': "
        "only the system records which SLA policy applies"
    )
    assert error.allowed == ()


def test_an_sla_policy_that_applies_already_is_named_with_its_version(play: Play) -> None:
    play.open(ANA)
    play(ApplySlaPolicy(actor=BOT, policy="gold", version=2))
    error = play.refused(ApplySlaPolicy(actor=BOT, policy="gold", version=2))
    assert type(error) is InvalidTransition
    assert str(error) == (
        "system 'router' cannot apply SLA policy 'gold' v2 on case 'case-1' in stage "
        "'enquiry': policy 'gold' v2 applies already"
    )
    assert error.allowed == ()


def test_only_the_system_fires_timers(play: Play) -> None:
    play.open(ANA)
    error = play.refused(
        FireTimers(actor=ANA, timers=[Timer(TimerKind.CLOSE, clock="close", due=START)])
    )
    assert type(error) is NotPermitted
    assert str(error) == (
        "agent 'ana' cannot fire timers on case 'case-1' in stage 'enquiry': only the system "
        "fires timers"
    )
    assert error.allowed == ()
