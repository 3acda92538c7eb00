"""Events convert to JSON-safe dicts and back exactly; old schemas are upcast; bad data is named."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import attrs
import pytest
from helpers import ANA, CUSTOMER, Play
from hypothesis import given

from servicekit import (
    AcceptOffer,
    CaseOpened,
    CorruptHistory,
    InvalidValue,
    MakeOffer,
    Party,
    RejectOffer,
    System,
    buying_cycle,
)
from servicekit.serialization import (
    EVENT_TYPES,
    SCHEMA_VERSIONS,
    actor_from_dict,
    actor_to_dict,
    agent_from_dict,
    event_from_dict,
    event_from_json,
    event_to_dict,
    event_to_json,
)
from servicekit.testing.strategies import actors, histories

WORKFLOW = buying_cycle()


def through_json(data: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(data))
    return loaded


@pytest.mark.slow
@given(histories())
def test_every_event_comes_back_equal_through_json(history: list[Any]) -> None:
    loaded = [event_from_dict(through_json(event_to_dict(event))) for event in history]
    assert loaded == history


@pytest.mark.slow
@given(histories())
def test_event_to_json_writes_the_compact_json_of_event_to_dict(history: list[Any]) -> None:
    for event in history:
        assert event_to_json(event) == json.dumps(event_to_dict(event), separators=(",", ":"))


def test_event_to_json_writes_an_unchecked_events_odd_values_as_json_does(play: Play) -> None:
    event = play.open().history[-1]
    odd_id = attrs.evolve(event, case_id=7)  # type: ignore[arg-type]
    for odd in (attrs.evolve(event, version=True), odd_id):
        assert event_to_json(odd) == json.dumps(event_to_dict(odd), separators=(",", ":"))


def test_event_to_json_writes_a_payload_of_many_parts_as_one_text(play: Play) -> None:
    # The C encoder hands its text back in pieces once a value has about 100,000 parts;
    # the pieces are joined with nothing between them.
    opened = play.open().history[0]
    assert isinstance(opened, CaseOpened)
    many = attrs.evolve(opened, skills=frozenset(f"skill-{n}" for n in range(60_000)))
    text = event_to_json(many)
    assert text == json.dumps(event_to_dict(many), separators=(",", ":"))
    assert event_from_json(text, where="position 1") == many


@given(actors())
def test_every_actor_comes_back_equal(actor: Any) -> None:
    assert actor_from_dict(through_json(actor_to_dict(actor))) == actor


def offer_event(play: Play) -> dict[str, Any]:
    play.to_stage("negotiation")
    play(MakeOffer(actor=ANA, amount=Decimal("1234.50"), currency="EUR", party=Party.CUSTOMER))
    return through_json(event_to_dict(play.history[-1]))


def test_amounts_are_stored_as_exact_decimal_strings(play: Play) -> None:
    data = offer_event(play)
    assert data["payload"]["amount"] == "1234.50"
    assert event_from_dict(data).amount == Decimal("1234.50")  # type: ignore[union-attr]


def test_times_are_stored_with_their_offset(play: Play) -> None:
    data = offer_event(play)
    assert data["at"].endswith("+00:00")


def test_every_event_type_has_a_schema_version() -> None:
    assert set(SCHEMA_VERSIONS) == set(EVENT_TYPES)
    assert len(EVENT_TYPES) == 25


def test_a_stored_v1_case_opened_loads_as_the_current_version(play: Play) -> None:
    play.open(CUSTOMER)
    data = through_json(event_to_dict(play.history[0]))
    assert data["schema_version"] == 4
    for field in ("initiated_by", "priority", "tier", "skills"):  # how version 1 stored it
        del data["payload"][field]
    data["schema_version"] = 1
    loaded = event_from_dict(data)
    assert isinstance(loaded, CaseOpened)
    assert loaded.initiated_by is Party.CUSTOMER
    assert loaded == play.history[0]


@pytest.mark.parametrize("answer", [AcceptOffer, RejectOffer])
def test_a_stored_v1_offer_answer_loads_as_given_by_the_customer_themselves(
    play: Play, answer: type[AcceptOffer | RejectOffer]
) -> None:
    play.to_stage("negotiation")
    play(MakeOffer(actor=ANA, amount=Decimal("10.00"), currency="EUR"))
    play(answer(actor=CUSTOMER, offer_id=1))
    data = through_json(event_to_dict(play.history[-1]))
    assert (data["schema_version"], data["payload"].pop("via")) == (2, None)  # v1 had no via
    data["schema_version"] = 1
    assert event_from_dict(data) == play.history[-1]


def corrupted(play: Play, change: Any) -> dict[str, Any]:
    play.open(ANA)
    data = through_json(event_to_dict(play.history[0]))
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(type="CaseExploded"), "unknown type 'CaseExploded'"),
        (lambda d: d.update(type=["CaseOpened"]), r"unknown type \['CaseOpened'\]"),
        (lambda d: d["payload"].pop("summary"), r"missing fields \['summary'\]"),
        (lambda d: d["payload"].update(mood="happy"), r"unknown fields \['mood'\]"),
        (lambda d: d.pop("at"), r"missing fields \['at'\]"),
        (lambda d: d.update(at="2026-03-02T09:10:00"), "must carry its offset"),
        (lambda d: d.update(at="yesterday"), "not an ISO 8601 time"),
        (lambda d: d.update(at=5), "a time is an ISO 8601 string, got 5$"),
        (lambda d: d.update(schema_version=9), "newer than this library's 4: upgrade"),
        (lambda d: d.update(schema_version="2"), "schema version '2'"),
        (lambda d: d.update(payload=[]), "payload that is not a dict"),
        (lambda d: d.update(version="1"), "expected a int"),
        (lambda d: d["payload"].update(channel="Tele Phone"), "channel name"),
        (
            lambda d: d["payload"].update(initiated_by="martians"),
            r"'martians' is not a Party \(one of 'company', 'customer'\)$",
        ),
        (
            lambda d: d["payload"].update(skills="de"),
            "skills are stored as a list of strings, got 'de'$",
        ),
        (lambda d: d.update(actor={"kind": "alien"}), "kind is 'agent', 'customer' or 'system'"),
        (lambda d: d["actor"].pop("teams"), "an agent needs exactly the keys"),
    ],
)
def test_a_malformed_event_is_named_never_skipped(play: Play, change: Any, message: str) -> None:
    data = corrupted(play, change)
    with pytest.raises(CorruptHistory, match=message) as error:
        event_from_dict(data)
    assert f"event {data['version']!r} of case 'case-1'" in str(error.value)


def test_a_malformed_event_in_json_text_is_named_with_where_it_was_found(play: Play) -> None:
    data = corrupted(play, lambda d: d.update(type="CaseExploded"))
    with pytest.raises(CorruptHistory, match=r"^position 12: event 1 of case 'case-1' has the"):
        event_from_json(json.dumps(data), where="position 12")


def test_a_bad_amount_is_named(play: Play) -> None:
    data = offer_event(play)
    data["payload"]["amount"] = "twelve"
    with pytest.raises(CorruptHistory, match="'twelve' is not a decimal amount"):
        event_from_dict(data)
    data["payload"]["amount"] = 12.5
    with pytest.raises(CorruptHistory, match="stored as a string"):
        event_from_dict(data)


def test_something_that_is_not_a_dict_is_named() -> None:
    with pytest.raises(CorruptHistory, match="a stored event is a dict, got list"):
        event_from_dict([])


def test_only_servicekit_events_are_serialized() -> None:
    with pytest.raises(InvalidValue, match="not a servicekit event"):
        event_to_dict(System())  # type: ignore[arg-type]


def test_actor_and_agent_dicts_are_checked() -> None:
    with pytest.raises(InvalidValue, match="an actor is a dict"):
        actor_from_dict("ana")
    with pytest.raises(InvalidValue, match=r"a customer needs exactly the keys \['id'\], got \[\]"):
        actor_from_dict({"kind": "customer"})
    with pytest.raises(InvalidValue, match="the system needs exactly the keys"):
        actor_from_dict({"kind": "system", "id": "x"})
    with pytest.raises(InvalidValue, match="'active' is a boolean"):
        agent_from_dict({"id": "a", "teams": [], "roles": [], "active": "yes"})
    with pytest.raises(InvalidValue, match="roles must be a list"):
        agent_from_dict({"id": "a", "teams": [], "roles": "agent", "active": True})
    with pytest.raises(InvalidValue, match="not a Role"):
        agent_from_dict({"id": "a", "teams": [], "roles": ["boss"], "active": True})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"teams": "sales"}, "'active' is a boolean and 'teams' a list"),
        ({"roles": "agent"}, "roles must be a list, got 'agent'$"),
        ({"id": 5, "teams": []}, "an agent's id, teams, roles and skills are strings"),
    ],
)
def test_an_actor_in_the_stored_agent_shape_is_checked_like_any_agent(
    change: dict[str, Any], message: str
) -> None:
    stored = {"kind": "agent", "id": "ana", "teams": ["sales"], "roles": [], "active": True}
    with pytest.raises(InvalidValue, match=message):
        actor_from_dict({**stored, **change})


def test_an_agent_dict_names_what_is_wrong_with_it() -> None:
    agent = {"id": "a", "teams": [], "roles": [], "active": True}
    with pytest.raises(InvalidValue, match=r"skills must be a list, got 'de'$"):
        agent_from_dict({**agent, "skills": "de"})
    with pytest.raises(InvalidValue, match=r"roles and skills are strings, got \{'id': 5"):
        agent_from_dict({**agent, "id": 5})
    with pytest.raises(InvalidValue, match=r"\['capacity', 'skills'\]\), got \['id'\]$"):
        agent_from_dict({"id": "a"})
    with pytest.raises(InvalidValue, match=r"got 'ana'$"):
        agent_from_dict("ana")  # type: ignore[arg-type]


def test_a_stored_agent_whose_active_is_not_a_boolean_is_refused_in_these_words() -> None:
    stored = {"kind": "agent", "id": "ana", "teams": ["sales"], "roles": ["agent"], "active": 1}
    expected = (
        "an agent's 'active' is a boolean and 'teams' a list, got "
        "{'id': 'ana', 'teams': ['sales'], 'roles': ['agent'], 'active': 1}"
    )
    with pytest.raises(InvalidValue) as refused:
        actor_from_dict(stored)
    assert str(refused.value) == expected


def test_a_stored_agent_whose_capacity_is_not_a_mapping_is_refused_in_these_words() -> None:
    stored = {"id": "ana", "teams": [], "roles": ["agent"], "active": True, "capacity": [2]}
    with pytest.raises(InvalidValue) as refused:
        agent_from_dict(stored)
    assert (
        str(refused.value) == "an agent's 'capacity' maps channel names to whole numbers, got [2]"
    )


def test_stored_text_that_is_not_json_is_refused_naming_where_it_was_found() -> None:
    with pytest.raises(CorruptHistory) as refused:
        event_from_json('{"type": ', where="position 7")
    assert str(refused.value) == (
        "the event at position 7 is not valid JSON: Expecting value: line 1 column 10 (char 9)"
    )
