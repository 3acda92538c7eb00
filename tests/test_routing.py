"""Routing's rules, one test per rule: agents' skills and capacity, the index, the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import ANA, BO, BOT, CUSTOMER, CY, START, SUE, Play

from servicekit import (
    Agent,
    AssignCase,
    Availability,
    CaseReturnedToQueue,
    ChangeSkills,
    Channel,
    InvalidTransition,
    InvalidValue,
    Move,
    NotPermitted,
    OpenCase,
    OwnershipViolation,
    Presence,
    QueuedCase,
    ReturnToQueue,
    Routing,
    RoutingIndex,
    RoutingNeed,
    RoutingQueue,
    SkillsChanged,
    SkipReason,
    TransferCase,
    UnknownAgent,
    skip_reason,
)
from servicekit.serialization import agent_from_dict, agent_to_dict, event_from_dict, event_to_dict

CHAT = RoutingNeed(channel="chat")


def _index(*agents: Agent) -> RoutingIndex:
    index = RoutingIndex()
    for agent in agents:
        index.put(agent)
    return index


# -- agents: skills and capacity ------------------------------------------------------------


def test_an_agents_skills_are_a_set_of_words() -> None:
    assert Agent("a", skills=["de", "billing", "de"]).skills == frozenset({"de", "billing"})
    assert Agent("a", skills="de").skills == frozenset({"de"})


def test_a_skill_with_a_space_is_refused() -> None:
    with pytest.raises(InvalidValue, match="one non-blank word"):
        Agent("a", skills={"german speaker"})


@pytest.mark.parametrize("skills", [{"de": 1}, b"de", 3, None])
def test_skills_are_a_set_of_words_not_a_mapping_bytes_or_a_number(skills: object) -> None:
    with pytest.raises(InvalidValue) as error:
        Agent("a", skills=skills)
    assert str(error.value) == (
        f"skills are a set of words (for example {{'de', 'billing'}}), got {skills!r}"
    )


@pytest.mark.parametrize("skill", ["", " ", "de ", 3])
def test_a_skill_is_one_non_blank_word(skill: object) -> None:
    with pytest.raises(InvalidValue) as error:
        Agent("a", skills=["billing", skill])
    assert str(error.value) == f"a skill is one non-blank word without spaces, got {skill!r}"


def test_capacity_is_keyed_by_channel_names_or_channels() -> None:
    agent = Agent("a", capacity={Channel.CHAT: 3, "phone": 1})
    assert agent.capacity_on("chat") == 3
    assert agent.capacity_on(Channel.PHONE) == 1


def test_a_channel_left_out_of_the_capacity_has_no_limit() -> None:
    assert Agent("a", capacity={"chat": 3}).capacity_on(Channel.EMAIL) is None


@pytest.mark.parametrize("limit", [-1, 1.5, True, "2", None])
def test_a_capacity_is_a_whole_number_from_zero(limit: object) -> None:
    with pytest.raises(InvalidValue) as error:
        Agent("a", capacity={"chat": limit})
    assert (
        str(error.value) == f"the capacity on 'chat' must be a whole number from 0, got {limit!r}"
    )
    assert Agent("a", capacity={"chat": 0}).capacity_on("chat") == 0


@pytest.mark.parametrize("capacity", [3, "chat", [("chat", 3)], {"chat"}])
def test_a_capacity_that_is_not_a_mapping_of_channels_is_refused(capacity: object) -> None:
    with pytest.raises(InvalidValue) as error:
        Agent("a", capacity=capacity)
    assert str(error.value) == (
        f"capacity maps channels to whole numbers (for example {{'chat': 3}}), got {capacity!r}"
    )


@pytest.mark.parametrize("key", ["live chat", "Chat", "", 3, None])
def test_a_capacity_is_keyed_by_channel_names_only(key: object) -> None:
    with pytest.raises(InvalidValue) as error:
        Agent("a", capacity={key: 1})
    assert str(error.value) == f"a capacity is keyed by a channel name or a Channel, got {key!r}"


def test_the_same_channel_twice_in_a_capacity_is_refused() -> None:
    with pytest.raises(InvalidValue, match="given twice"):
        Agent("a", capacity={Channel.CHAT: 1, "chat": 2})


def test_agents_equal_whatever_order_their_capacity_was_given_in() -> None:
    one = Agent("a", capacity={"chat": 3, "phone": 1})
    other = Agent("a", capacity={"phone": 1, "chat": 3})
    assert one == other
    assert hash(one) == hash(other)


def test_an_agent_with_skills_and_capacity_survives_serialization() -> None:
    agent = Agent("a", teams={"t"}, skills={"de", "fr"}, capacity={"chat": 2, "email": 20})
    assert agent_from_dict(agent_to_dict(agent)) == agent


def test_an_agent_without_routing_attributes_keeps_its_stored_shape() -> None:
    assert set(agent_to_dict(Agent("a"))) == {"id", "teams", "roles", "active"}


def test_a_stored_capacity_that_is_not_a_mapping_is_refused() -> None:
    data = {**agent_to_dict(Agent("a")), "capacity": [1]}
    with pytest.raises(InvalidValue, match="capacity"):
        agent_from_dict(data)


# -- presence ---------------------------------------------------------------------------------


def test_an_agent_is_available_when_registered() -> None:
    assert _index(ANA).presence("ana").availability is Availability.AVAILABLE


def test_a_presence_refuses_a_naive_time() -> None:
    with pytest.raises(InvalidValue, match="timezone-aware"):
        Presence(availability=Availability.AWAY, since=START.replace(tzinfo=None))


def test_a_presence_refuses_a_string_for_an_availability() -> None:
    with pytest.raises(InvalidValue, match=r"Availability\.AVAILABLE"):
        Presence(availability="away")  # type: ignore[arg-type]


# -- the configuration ----------------------------------------------------------------------


def test_the_answer_time_is_whole_minutes_from_one() -> None:
    with pytest.raises(InvalidValue, match="answer_minutes"):
        Routing(answer_minutes=0)


def test_an_unknown_priority_ranks_after_every_named_one() -> None:
    routing = Routing(priorities=("urgent", "normal"))
    assert routing.rank("urgent") < routing.rank("normal") < routing.rank("whenever")


def test_a_priority_named_twice_is_refused() -> None:
    with pytest.raises(InvalidValue, match="named once"):
        Routing(priorities=("high", "high"))


# -- why an agent is skipped ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "presence", "load", "reason"),
    [
        (Agent("a", active=False), Presence(), 0, SkipReason.INACTIVE),
        (Agent("a"), Presence(availability=Availability.OFFLINE), 0, SkipReason.OFFLINE),
        (Agent("a"), Presence(availability=Availability.AWAY), 0, SkipReason.AWAY),
        (Agent("a", skills={"fr"}), Presence(), 0, SkipReason.MISSING_SKILL),
        (Agent("a", skills={"de"}, capacity={"chat": 2}), Presence(), 2, SkipReason.AT_CAPACITY),
        (Agent("a", skills={"de"}, capacity={"chat": 2}), Presence(), 1, None),
    ],
    ids=["inactive", "offline", "away", "missing skill", "at capacity", "qualifies"],
)
def test_each_skipped_agent_has_its_reason(
    agent: Agent, presence: Presence, load: int, reason: SkipReason | None
) -> None:
    assert skip_reason(agent, presence, load, RoutingNeed(channel="chat", skills={"de"})) == reason


# -- choosing ---------------------------------------------------------------------------------


def test_routing_picks_only_an_agent_with_every_required_skill() -> None:
    index = _index(Agent("a", skills={"de"}), Agent("b", skills={"de", "billing"}))
    choice = index.choose(RoutingNeed(channel="chat", skills={"de", "billing"}))
    assert choice is not None
    assert choice.agent.id == "b"


def test_routing_picks_the_least_loaded_agent_on_the_channel() -> None:
    index = _index(Agent("a"), Agent("b"))
    index.add_load("a", "chat")
    choice = index.choose(CHAT)
    assert choice is not None
    assert choice.agent.id == "b"


def test_equal_agents_are_served_round_robin() -> None:
    index = _index(Agent("a"), Agent("b"), Agent("c"))
    chosen = []
    for _ in range(6):
        choice = index.choose(CHAT)
        assert choice is not None
        chosen.append(choice.agent.id)
        index.add_load(choice.agent.id, "chat")
    assert chosen == ["a", "b", "c", "a", "b", "c"]


def test_an_agent_at_capacity_on_the_channel_is_not_chosen() -> None:
    index = _index(Agent("a", capacity={"chat": 1}))
    index.add_load("a", "chat")
    assert index.choose(CHAT) is None


def test_capacity_on_one_channel_does_not_limit_another() -> None:
    index = _index(Agent("a", capacity={"chat": 1, "phone": 1}))
    index.add_load("a", "chat")
    assert index.choose(RoutingNeed(channel="phone")) is not None


def test_an_agent_who_is_away_or_offline_is_not_chosen() -> None:
    index = _index(Agent("a"), Agent("b"))
    index.set_presence("a", Presence(availability=Availability.AWAY, since=START))
    index.set_presence("b", Presence(availability=Availability.OFFLINE, since=START))
    assert index.choose(CHAT) is None


def test_an_inactive_agent_is_not_chosen() -> None:
    assert _index(Agent("a", active=False)).choose(CHAT) is None


def test_the_customers_previous_agent_comes_first_when_they_qualify() -> None:
    index = _index(Agent("a"), Agent("b"))
    index.add_load("b", "chat")
    choice = index.choose(RoutingNeed(channel="chat", preferred=("b",)))
    assert choice is not None
    assert (choice.agent.id, choice.reason) == ("b", "the customer's previous agent")


def test_the_previous_agent_who_does_not_qualify_is_passed_over() -> None:
    index = _index(Agent("a"), Agent("b"))
    index.set_presence("b", Presence(availability=Availability.AWAY))
    choice = index.choose(RoutingNeed(channel="chat", preferred=("b",)))
    assert choice is not None
    assert choice.agent.id == "a"


def test_raising_an_agents_capacity_makes_them_a_candidate_again() -> None:
    index = _index(Agent("a", capacity={"chat": 1}))
    index.add_load("a", "chat")
    index.put(Agent("a", capacity={"chat": 2}))
    assert index.choose(CHAT) is not None


def test_an_agent_who_loses_a_skill_is_no_longer_chosen_for_it() -> None:
    index = _index(Agent("a", skills={"de"}))
    index.put(Agent("a"))
    assert index.choose(RoutingNeed(channel="chat", skills={"de"})) is None


def test_a_load_below_zero_is_refused_and_changes_nothing() -> None:
    index = _index(Agent("a"))
    with pytest.raises(InvalidValue, match="0 open cases"):
        index.add_load("a", "chat", -1)
    assert index.load("a", "chat") == 0


def test_the_index_names_an_unknown_agent() -> None:
    with pytest.raises(UnknownAgent, match="'zed'"):
        _index(Agent("a")).load("zed", "chat")


# -- the explanation --------------------------------------------------------------------------


def test_the_explanation_lists_candidates_with_loads_and_each_skipped_agent_with_why() -> None:
    index = _index(
        Agent("a", skills={"de"}),
        Agent("b", skills={"de"}, capacity={"chat": 1}),
        Agent("c", skills={"fr"}),
        Agent("d", skills={"de"}),
        Agent("e", skills={"de"}),
        Agent("f", skills={"de"}, active=False),
    )
    index.add_load("a", "chat")
    index.add_load("b", "chat")
    index.set_presence("d", Presence(availability=Availability.AWAY))
    index.set_presence("e", Presence(availability=Availability.OFFLINE))
    need = RoutingNeed(channel="chat", skills={"de"})
    explanation = index.explain("case-1", need, index.choose(need))
    assert explanation.chosen == "a"
    assert [(c.agent_id, c.load) for c in explanation.candidates] == [("a", 1)]
    assert {s.agent_id: s.reason.value for s in explanation.skipped} == {
        "b": "at capacity",
        "c": "missing skill",
        "d": "away",
        "e": "offline",
        "f": "inactive",
    }


def test_the_explanation_of_a_queued_case_says_nobody_qualifies() -> None:
    index = _index(Agent("a", skills={"fr"}))
    need = RoutingNeed(channel="chat", skills={"de"})
    explanation = index.explain("case-1", need, None)
    assert explanation.chosen is None
    assert "nobody qualifies" in str(explanation)


# -- the queue --------------------------------------------------------------------------------


def _queued(
    case_id: str,
    *,
    rank: int = 2,
    due: int | None = None,
    waited: int = 0,
    need: RoutingNeed = CHAT,
) -> QueuedCase:
    return QueuedCase(
        case_id=case_id,
        need=need,
        rank=rank,
        due=None if due is None else START + timedelta(minutes=due),
        waiting_since=START - timedelta(minutes=waited),
    )


def test_the_queue_orders_by_priority_then_sla_due_then_waiting_time() -> None:
    queue = RoutingQueue()
    queue.add(_queued("low-waited-long", rank=3, waited=90))
    queue.add(_queued("normal-no-due", waited=60))
    queue.add(_queued("normal-due-later", due=30))
    queue.add(_queued("normal-due-soon", due=10))
    queue.add(_queued("normal-due-soon-waited", due=10, waited=5))
    queue.add(_queued("urgent", rank=0))
    assert [entry.case_id for entry in queue.cases()] == [
        "urgent",
        "normal-due-soon-waited",
        "normal-due-soon",
        "normal-due-later",
        "normal-no-due",
        "low-waited-long",
    ]


def test_the_queue_is_offered_in_order_each_case_to_one_agent() -> None:
    index = _index(Agent("a", capacity={"chat": 1}), Agent("b", capacity={"chat": 1}))
    queue = RoutingQueue()
    for number in range(3):
        queue.add(_queued(f"case-{number}", waited=10 - number))
    placed = []
    for entry, choice in queue.offer(index):
        queue.remove(entry.case_id)
        index.add_load(choice.agent.id, "chat")
        placed.append((entry.case_id, choice.agent.id))
    assert placed == [("case-0", "a"), ("case-1", "b")]
    assert [entry.case_id for entry in queue.cases()] == ["case-2"]


def test_a_queued_case_is_offered_only_when_someone_qualifies() -> None:
    index = _index(Agent("a", skills={"fr"}))
    queue = RoutingQueue()
    queue.add(_queued("case-1", need=RoutingNeed(channel="chat", skills={"de"})))
    assert list(queue.offer(index)) == []
    index.put(Agent("a", skills={"fr", "de"}))
    assert [entry.case_id for entry, _ in queue.offer(index)] == ["case-1"]


def test_a_case_queued_again_keeps_only_its_new_place() -> None:
    queue = RoutingQueue()
    queue.add(_queued("case-1", waited=90))
    queue.add(_queued("case-2", waited=50))
    queue.add(_queued("case-1", waited=10))
    assert [entry.case_id for entry in queue.cases()] == ["case-2", "case-1"]
    assert [head.case_id for head in queue.heads()] == ["case-2"]


# -- the case's skills and the commands routing issues ---------------------------------------


def test_a_case_opened_with_skills_needs_them(play: Play) -> None:
    play(
        OpenCase(
            actor=CUSTOMER,
            customer_id="cust-1",
            channel=Channel.CHAT,
            summary="Hallo",
            skills={"de"},
        )
    )
    assert play.case.skills == frozenset({"de"})


def test_the_skills_a_case_needs_can_change(play: Play) -> None:
    play.open(ANA)
    play(ChangeSkills(actor=ANA, skills={"de", "billing"}, reason="asked about an invoice"))
    assert play.case.skills == frozenset({"de", "billing"})


def test_nobody_but_a_supervisor_or_the_system_changes_an_unowned_cases_skills(
    play: Play,
) -> None:
    play.open(CUSTOMER)
    with pytest.raises(NotPermitted) as error:
        play.attempt(ChangeSkills(actor=BO, skills={"de"}))
    assert error.value.reason == (
        "nobody owns the case yet: only a supervisor or the system may change its skills"
    )
    play(ChangeSkills(actor=SUE, skills={"de"}))
    assert play.case.skills == frozenset({"de"})


def test_changing_skills_to_the_same_set_is_refused(play: Play) -> None:
    play.open(ANA)
    with pytest.raises(InvalidTransition, match="the case needs no skills already"):
        play.attempt(ChangeSkills(actor=ANA, skills=()))
    play(ChangeSkills(actor=ANA, skills={"fr", "de"}))
    with pytest.raises(InvalidTransition) as error:
        play.attempt(ChangeSkills(actor=ANA, skills={"de", "fr"}))
    assert error.value.reason == "the case needs exactly 'de' and 'fr' already"


def test_skills_survive_serialization_with_their_schema_version(play: Play) -> None:
    play(
        OpenCase(
            actor=CUSTOMER,
            customer_id="cust-1",
            channel=Channel.CHAT,
            summary="Hallo",
            skills={"de"},
        )
    )
    play(ChangeSkills(actor=BOT, skills={"de", "billing"}, reason="invoice"))
    for event in play.history:
        assert event_from_dict(event_to_dict(event)) == event
    assert event_to_dict(play.history[0])["schema_version"] == 4


def test_a_case_opened_before_routing_needs_no_skill(play: Play) -> None:
    play.open(CUSTOMER)
    stored = event_to_dict(play.history[0])
    del stored["payload"]["skills"]
    stored["schema_version"] = 3
    assert event_from_dict(stored).skills == frozenset()  # type: ignore[union-attr]


def test_an_assignment_records_its_reason(play: Play) -> None:
    play.open(CUSTOMER)
    (assigned, _) = play(AssignCase(actor=BOT, to=BO, reason="least loaded (0 open on chat)"))
    assert assigned.reason == "least loaded (0 open on chat)"  # type: ignore[union-attr]
    assert event_from_dict(event_to_dict(assigned)) == assigned


def test_an_assignment_stored_before_routing_has_no_reason(play: Play) -> None:
    play.open(CUSTOMER)
    (assigned, _) = play(AssignCase(actor=BOT, to=BO))
    stored = event_to_dict(assigned)
    del stored["payload"]["reason"]
    stored["schema_version"] = 1
    assert event_from_dict(stored) == assigned


def test_an_unanswered_case_returns_to_the_queue_unowned_with_a_handoff_note(play: Play) -> None:
    play.open(CUSTOMER)
    play(AssignCase(actor=BOT, to=BO))
    (returned,) = play(ReturnToQueue(actor=BOT, handoff_note="bo did not answer in 10 minutes"))
    assert isinstance(returned, CaseReturnedToQueue)
    assert play.case.owner is None
    assert play.case.waiting_since == returned.at


def test_an_owner_who_never_answered_does_not_stay_steward(play: Play) -> None:
    play.open(CUSTOMER)
    play(AssignCase(actor=BOT, to=BO))
    play(ReturnToQueue(actor=BOT, handoff_note="bo did not answer"))
    assert play.case.steward is None
    play(AssignCase(actor=BOT, to=ANA))
    routed_again = play.case
    assert (routed_again.owner, routed_again.steward) == (ANA, ANA)


def test_a_return_to_the_queue_keeps_a_steward_who_is_not_the_owner_who_never_answered(
    play: Play,
) -> None:
    play.open(CUSTOMER)
    play(AssignCase(actor=BOT, to=BO))
    play(TransferCase(actor=BO, to=CY, handoff_note="cy knows desks"))
    (returned,) = play(ReturnToQueue(actor=BOT, handoff_note="cy did not answer"))
    assert (play.case.owner, play.case.steward) == (None, BO)
    assert play.case.updated_at == returned.at


def test_only_the_system_returns_a_case_to_the_queue(play: Play) -> None:
    play.open(CUSTOMER)
    play(AssignCase(actor=BOT, to=BO))
    with pytest.raises(NotPermitted) as error:
        play.attempt(ReturnToQueue(actor=SUE, handoff_note="no"))
    assert error.value.reason == "only the system returns a case to the queue"


def test_a_waiting_case_is_not_returned_to_the_queue_again(play: Play) -> None:
    play.open(CUSTOMER)
    with pytest.raises(InvalidTransition) as error:
        play.attempt(ReturnToQueue(actor=BOT, handoff_note="no answer"))
    assert error.value.reason == "nobody owns the case: it is waiting already"


def test_a_case_past_intake_is_never_returned_to_the_queue(play: Play) -> None:
    play.open(ANA)
    play(Move(actor=ANA, trigger="negotiate"))
    with pytest.raises(OwnershipViolation) as error:
        play.attempt(ReturnToQueue(actor=BOT, handoff_note="gone"))
    assert error.value.reason == (
        "past intake a case keeps an owner; agent 'ana' must transfer it with a handoff note"
    )
    assert error.value.allowed == ("transfer the case with a handoff note",)
    assert play.case.owner == ANA


def test_skills_changed_reads_in_the_history(play: Play) -> None:
    play.open(ANA)
    (changed,) = play(ChangeSkills(actor=ANA, skills={"de"}, reason="speaks German"))
    assert isinstance(changed, SkillsChanged)
    assert "needs de (speaks German)" in str(changed)
