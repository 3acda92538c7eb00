"""The stored form of every event type, written out: what a store keeps today loads tomorrow.

A round trip (`test_serialization.py`) cannot see a key renamed on both sides, an enum
stored under another spelling or a default left out: every event would still come back
equal, while each history already stored stopped loading. Here the stored dict of one event
of each type is written out by hand from the event's fields, once; `event_to_dict` must
write exactly it, `event_to_json` its compact JSON, and both loaders must read it back as
the event. Changing the form of an event type means a new schema version with an upcaster
for the old one, and a new example here; each older form is written out too, with the
event it loads as today.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from servicekit.events import (
    CaseOpened,
    CaseReturnedToQueue,
    CaseTransferred,
    Event,
    FeedbackRecorded,
    FeedbackRequested,
    FollowUpCompleted,
    FollowUpDue,
    FollowUpHandedOver,
    FollowUpScheduled,
    InteractionRecorded,
    OfferAccepted,
    OfferMade,
    OfferRejected,
    OwnerAssigned,
    PriorityChanged,
    SkillsChanged,
    SlaBreached,
    SlaEscalated,
    SlaPaused,
    SlaPolicyApplied,
    SlaResumed,
    SlaWarned,
    StageChanged,
    StewardAppointed,
    StewardReassigned,
)
from servicekit.feedback import Survey
from servicekit.followups import FollowUpOutcome
from servicekit.interactions import Channel, Direction, Party
from servicekit.ownership import Agent, Customer, Role, System
from servicekit.serialization import (
    EVENT_TYPES,
    SCHEMA_VERSIONS,
    event_from_dict,
    event_from_json,
    event_to_dict,
    event_to_json,
)

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BASE: dict[str, Any] = {"case_id": "case-1", "at": AT}
ANA = Agent("ana", teams={"sales"})
BO = Agent(
    "bo",
    teams={"support", "sales"},
    roles={Role.SUPERVISOR, Role.AGENT},
    skills={"de"},
    capacity={"phone": 2},
)
CUSTOMER = Customer("cust-1")
SYSTEM = System()

# An agent is stored with its teams and roles sorted; skills and capacity only when it has them.
ANA_STORED: dict[str, Any] = {"id": "ana", "teams": ["sales"], "roles": ["agent"], "active": True}
BO_STORED: dict[str, Any] = {
    "id": "bo",
    "teams": ["sales", "support"],
    "roles": ["agent", "supervisor"],
    "active": True,
    "skills": ["de"],
    "capacity": {"phone": 2},
}
# The acting party says which kind it is.
ANA_ACTOR = {"kind": "agent", **ANA_STORED}
BO_ACTOR = {"kind": "agent", **BO_STORED}
CUSTOMER_ACTOR = {"kind": "customer", "id": "cust-1"}
SYSTEM_ACTOR = {"kind": "system", "name": "automation"}


def stored(
    kind: str, schema_version: int, version: int, actor: dict[str, Any], payload: dict[str, Any]
) -> dict[str, Any]:
    """An event of case-1 at `AT` as stored: its type and schema, the base fields, its payload."""
    return {
        "type": kind,
        "schema_version": schema_version,
        "case_id": "case-1",
        "version": version,
        "at": "2026-03-02T09:30:00+00:00",
        "actor": actor,
        "payload": payload,
    }


OPENED = CaseOpened(
    **BASE,
    version=1,
    actor=ANA,
    customer_id="cust-1",
    workflow="buying_cycle",
    stage="enquiry",
    channel=Channel.PHONE,
    initiated_by=Party.COMPANY,
    summary="wants a quote",
    priority="high",
    tier="gold",
    skills=frozenset({"de", "fr"}),
)
"""A case opened by the company, with every field a `CaseOpened` has today."""

EXAMPLES: list[tuple[Event, dict[str, Any]]] = [
    (
        OPENED,
        stored(
            "CaseOpened",
            4,
            1,
            ANA_ACTOR,
            {
                "customer_id": "cust-1",
                "workflow": "buying_cycle",
                "stage": "enquiry",
                "channel": "phone",
                "initiated_by": "company",
                "summary": "wants a quote",
                "priority": "high",
                "tier": "gold",
                "skills": ["de", "fr"],
            },
        ),
    ),
    (
        InteractionRecorded(
            **BASE,
            version=2,
            actor=CUSTOMER,
            channel=Channel("whatsapp"),
            direction=Direction.INBOUND,
            summary="asked again",
        ),
        stored(
            "InteractionRecorded",
            1,
            2,
            CUSTOMER_ACTOR,
            {"channel": "whatsapp", "direction": "inbound", "summary": "asked again"},
        ),
    ),
    (
        OwnerAssigned(**BASE, version=3, actor=SYSTEM, owner=ANA, reason="routed"),
        stored("OwnerAssigned", 2, 3, SYSTEM_ACTOR, {"owner": ANA_STORED, "reason": "routed"}),
    ),
    (
        CaseReturnedToQueue(**BASE, version=4, actor=ANA, from_owner=ANA, handoff_note="on leave"),
        stored(
            "CaseReturnedToQueue",
            1,
            4,
            ANA_ACTOR,
            {"from_owner": ANA_STORED, "handoff_note": "on leave"},
        ),
    ),
    (
        SkillsChanged(**BASE, version=5, actor=ANA, skills=frozenset({"es"}), reason=None),
        stored("SkillsChanged", 1, 5, ANA_ACTOR, {"skills": ["es"], "reason": None}),
    ),
    (
        StewardAppointed(**BASE, version=6, actor=ANA, steward=BO),
        stored("StewardAppointed", 1, 6, ANA_ACTOR, {"steward": BO_STORED}),
    ),
    (
        StewardReassigned(
            **BASE, version=7, actor=BO, from_steward=BO, to_steward=ANA, reason="bo moved"
        ),
        stored(
            "StewardReassigned",
            1,
            7,
            BO_ACTOR,
            {"from_steward": BO_STORED, "to_steward": ANA_STORED, "reason": "bo moved"},
        ),
    ),
    (
        CaseTransferred(
            **BASE, version=8, actor=ANA, from_owner=ANA, to_owner=BO, handoff_note="needs German"
        ),
        stored(
            "CaseTransferred",
            1,
            8,
            ANA_ACTOR,
            {"from_owner": ANA_STORED, "to_owner": BO_STORED, "handoff_note": "needs German"},
        ),
    ),
    (
        StageChanged(
            **BASE,
            version=9,
            actor=BO,
            trigger="qualify",
            source="enquiry",
            dest="negotiation",
            reason=None,
        ),
        stored(
            "StageChanged",
            1,
            9,
            BO_ACTOR,
            {"trigger": "qualify", "source": "enquiry", "dest": "negotiation", "reason": None},
        ),
    ),
    (
        OfferMade(
            **BASE,
            version=10,
            actor=BO,
            offer_id=1,
            party=Party.COMPANY,
            amount=Decimal("1200.50"),
            currency="EUR",
            terms="net 30",
        ),
        stored(
            "OfferMade",
            1,
            10,
            BO_ACTOR,
            {
                "offer_id": 1,
                "party": "company",
                "amount": "1200.50",
                "currency": "EUR",
                "terms": "net 30",
            },
        ),
    ),
    (
        OfferAccepted(**BASE, version=11, actor=BO, offer_id=1, via=Channel.PHONE),
        stored("OfferAccepted", 2, 11, BO_ACTOR, {"offer_id": 1, "via": "phone"}),
    ),
    (
        OfferRejected(**BASE, version=12, actor=CUSTOMER, offer_id=2, reason="too dear", via=None),
        stored(
            "OfferRejected",
            2,
            12,
            CUSTOMER_ACTOR,
            {"offer_id": 2, "reason": "too dear", "via": None},
        ),
    ),
    (
        FollowUpScheduled(
            **BASE,
            version=13,
            actor=BO,
            follow_up_id=1,
            assignee=ANA,
            due=AT + timedelta(days=7),
            reason="check the delivery",
            attempt=2,
        ),
        stored(
            "FollowUpScheduled",
            2,
            13,
            BO_ACTOR,
            {
                "follow_up_id": 1,
                "assignee": ANA_STORED,
                "due": "2026-03-09T09:30:00+00:00",
                "reason": "check the delivery",
                "attempt": 2,
            },
        ),
    ),
    (
        FollowUpDue(**BASE, version=14, actor=SYSTEM, follow_up_id=1, assignee=ANA),
        stored("FollowUpDue", 1, 14, SYSTEM_ACTOR, {"follow_up_id": 1, "assignee": ANA_STORED}),
    ),
    (
        FollowUpHandedOver(
            **BASE,
            version=15,
            actor=BO,
            follow_up_id=1,
            from_assignee=ANA,
            to_assignee=BO,
            reason="ana is away",
        ),
        stored(
            "FollowUpHandedOver",
            1,
            15,
            BO_ACTOR,
            {
                "follow_up_id": 1,
                "from_assignee": ANA_STORED,
                "to_assignee": BO_STORED,
                "reason": "ana is away",
            },
        ),
    ),
    (
        FollowUpCompleted(
            **BASE,
            version=16,
            actor=BO,
            follow_up_id=1,
            outcome=FollowUpOutcome.NO_ANSWER,
            note="no pick-up",
        ),
        stored(
            "FollowUpCompleted",
            1,
            16,
            BO_ACTOR,
            {"follow_up_id": 1, "outcome": "no_answer", "note": "no pick-up"},
        ),
    ),
    (
        FeedbackRecorded(
            **BASE, version=17, actor=CUSTOMER, survey=Survey.NPS, score=9, comment="quick"
        ),
        stored(
            "FeedbackRecorded",
            2,
            17,
            CUSTOMER_ACTOR,
            {"survey": "nps", "score": 9, "comment": "quick"},
        ),
    ),
    (
        FeedbackRequested(
            **BASE, version=18, actor=SYSTEM, survey=Survey.CES, channel=Channel.EMAIL
        ),
        stored("FeedbackRequested", 1, 18, SYSTEM_ACTOR, {"survey": "ces", "channel": "email"}),
    ),
    (
        PriorityChanged(**BASE, version=19, actor=BO, priority="urgent", reason="VIP"),
        stored("PriorityChanged", 1, 19, BO_ACTOR, {"priority": "urgent", "reason": "VIP"}),
    ),
    (
        SlaPolicyApplied(**BASE, version=20, actor=SYSTEM, policy="gold", policy_version=3),
        stored("SlaPolicyApplied", 1, 20, SYSTEM_ACTOR, {"policy": "gold", "policy_version": 3}),
    ),
    (
        SlaPaused(**BASE, version=21, actor=BO, reason="waiting on the customer"),
        stored("SlaPaused", 1, 21, BO_ACTOR, {"reason": "waiting on the customer"}),
    ),
    (
        SlaResumed(**BASE, version=22, actor=BO, reason=None),
        stored("SlaResumed", 1, 22, BO_ACTOR, {"reason": None}),
    ),
    (
        SlaWarned(
            **BASE,
            version=23,
            actor=SYSTEM,
            clock="resolution",
            warning_at=AT + timedelta(hours=6),
            due=AT + timedelta(hours=8),
        ),
        stored(
            "SlaWarned",
            2,
            23,
            SYSTEM_ACTOR,
            {
                "clock": "resolution",
                "warning_at": "2026-03-02T15:30:00+00:00",
                "due": "2026-03-02T17:30:00+00:00",
            },
        ),
    ),
    (
        SlaBreached(
            **BASE,
            version=24,
            actor=SYSTEM,
            clock="first_response",
            due=AT + timedelta(hours=1),
            warning_skipped=True,
        ),
        stored(
            "SlaBreached",
            2,
            24,
            SYSTEM_ACTOR,
            {
                "clock": "first_response",
                "due": "2026-03-02T10:30:00+00:00",
                "warning_skipped": True,
            },
        ),
    ),
    (
        SlaEscalated(**BASE, version=25, actor=SYSTEM, clock="resolution", level=2, notify=BO),
        stored(
            "SlaEscalated",
            1,
            25,
            SYSTEM_ACTOR,
            {"clock": "resolution", "level": 2, "notify": BO_STORED},
        ),
    ),
]
"""One event of each type, and its stored form, written out from the event's fields."""

IDS = [type(event).__name__ for event, _ in EXAMPLES]


def test_every_event_type_has_its_stored_form_written_here() -> None:
    assert sorted(IDS) == sorted(EVENT_TYPES)


@pytest.mark.parametrize(("event", "form"), EXAMPLES, ids=IDS)
def test_each_event_is_stored_in_the_form_written_here(event: Event, form: dict[str, Any]) -> None:
    assert event_to_dict(event) == form
    assert event_to_json(event) == json.dumps(form, separators=(",", ":"))


@pytest.mark.parametrize(("event", "form"), EXAMPLES, ids=IDS)
def test_the_form_written_here_loads_as_the_event(event: Event, form: dict[str, Any]) -> None:
    assert event_from_dict(form) == event
    assert event_from_json(json.dumps(form), where="position 1") == event


OPENING_IN_EVERY_VERSION = {
    "customer_id": "cust-1",
    "workflow": "buying_cycle",
    "stage": "enquiry",
    "channel": "phone",
    "summary": "wants a quote",
}
"""The fields a `CaseOpened` of every version has."""

OLDER_FORMS: list[tuple[dict[str, Any], Event]] = [
    # before company-initiated cases, priorities, tiers and skills: the customer started it
    (
        stored("CaseOpened", 1, 1, CUSTOMER_ACTOR, OPENING_IN_EVERY_VERSION),
        attrs.evolve(
            OPENED,
            actor=CUSTOMER,
            initiated_by=Party.CUSTOMER,
            priority="normal",
            tier=None,
            skills=frozenset(),
        ),
    ),
    # before priorities, tiers and skills
    (
        stored(
            "CaseOpened", 2, 1, ANA_ACTOR, {**OPENING_IN_EVERY_VERSION, "initiated_by": "company"}
        ),
        attrs.evolve(OPENED, priority="normal", tier=None, skills=frozenset()),
    ),
    # before skills
    (
        stored(
            "CaseOpened",
            3,
            1,
            ANA_ACTOR,
            {
                **OPENING_IN_EVERY_VERSION,
                "initiated_by": "company",
                "priority": "high",
                "tier": "gold",
            },
        ),
        attrs.evolve(OPENED, skills=frozenset()),
    ),
    # before routing: an assignment gave no reason
    (
        stored("OwnerAssigned", 1, 3, ANA_ACTOR, {"owner": BO_STORED}),
        OwnerAssigned(**BASE, version=3, actor=ANA, owner=BO, reason=None),
    ),
    # before retries: every follow-up was a first attempt
    (
        stored(
            "FollowUpScheduled",
            1,
            13,
            BO_ACTOR,
            {
                "follow_up_id": 1,
                "assignee": ANA_STORED,
                "due": "2026-03-09T09:30:00+00:00",
                "reason": "check the delivery",
            },
        ),
        FollowUpScheduled(
            **BASE,
            version=13,
            actor=BO,
            follow_up_id=1,
            assignee=ANA,
            due=datetime(2026, 3, 9, 9, 30, tzinfo=UTC),
            reason="check the delivery",
            attempt=1,
        ),
    ),
    # `due` was the warning moment, and the target's due time was not kept
    (
        stored(
            "SlaWarned",
            1,
            23,
            SYSTEM_ACTOR,
            {"clock": "resolution", "due": "2026-03-02T15:30:00+00:00"},
        ),
        SlaWarned(
            **BASE,
            version=23,
            actor=SYSTEM,
            clock="resolution",
            warning_at=datetime(2026, 3, 2, 15, 30, tzinfo=UTC),
            due=None,
        ),
    ),
    # before skipped warnings: none was skipped
    (
        stored(
            "SlaBreached",
            1,
            24,
            SYSTEM_ACTOR,
            {"clock": "first_response", "due": "2026-03-02T10:30:00+00:00"},
        ),
        SlaBreached(
            **BASE,
            version=24,
            actor=SYSTEM,
            clock="first_response",
            due=datetime(2026, 3, 2, 10, 30, tzinfo=UTC),
            warning_skipped=False,
        ),
    ),
    # before answers recorded for the customer: the customer gave them, on no named channel
    (
        stored("OfferAccepted", 1, 11, CUSTOMER_ACTOR, {"offer_id": 1}),
        OfferAccepted(**BASE, version=11, actor=CUSTOMER, offer_id=1, via=None),
    ),
    (
        stored("OfferRejected", 1, 12, CUSTOMER_ACTOR, {"offer_id": 2, "reason": "too dear"}),
        OfferRejected(**BASE, version=12, actor=CUSTOMER, offer_id=2, reason="too dear", via=None),
    ),
    # before surveys: a 1-5 rating, which is a CSAT score
    (
        stored("FeedbackRecorded", 1, 17, CUSTOMER_ACTOR, {"rating": 4, "comment": "quick"}),
        FeedbackRecorded(
            **BASE, version=17, actor=CUSTOMER, survey=Survey.CSAT, score=4, comment="quick"
        ),
    ),
]
"""Each older stored form an event type has had, and the event it loads as today."""

OLDER_IDS = [f"{form['type']} v{form['schema_version']}" for form, _ in OLDER_FORMS]


def test_every_older_version_of_every_event_type_has_its_form_written_here() -> None:
    older = {
        f"{kind} v{version}"
        for kind, current in SCHEMA_VERSIONS.items()
        for version in range(1, current)
    }
    assert sorted(OLDER_IDS) == sorted(older)


@pytest.mark.parametrize(("form", "event"), OLDER_FORMS, ids=OLDER_IDS)
def test_an_older_form_loads_as_the_event_it_means_today(
    form: dict[str, Any], event: Event
) -> None:
    assert event_from_dict(form) == event
    assert event_from_json(json.dumps(form), where="position 1") == event
