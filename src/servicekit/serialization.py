"""Events to JSON-safe dicts and back, exactly, with schema versions and upcasting.

`event_to_dict(event)` gives a dict of strings, numbers, booleans, lists and
dicts (ready for `json.dumps`); `event_from_dict(data)` rebuilds the same event:
`Decimal` amounts, aware datetimes, enums, channels and actors come back equal.

Every event type has a schema version. When a type changes shape, the library
registers an upcaster that turns a stored older version into the current one on
load, so a store written today still opens after the library changes its events.

Anything that cannot be read back exactly (an unknown type, a missing or extra
field, a malformed value, a version from the future) raises `CorruptHistory`
naming the case and the version; nothing is skipped silently.
"""

from __future__ import annotations

import functools
import json
import json.encoder
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias, get_type_hints

import attrs

from servicekit import events as _events
from servicekit.errors import CorruptHistory, InvalidValue, ServiceKitError
from servicekit.events import Event, EventBase
from servicekit.feedback import Survey
from servicekit.followups import FollowUpOutcome
from servicekit.interactions import Channel, Direction, Party
from servicekit.ownership import Actor, Agent, Customer, Role, System, skill_names

__all__ = [
    "BASE_FIELDS",
    "EVENT_KEYS",
    "EVENT_TYPES",
    "SCHEMA_VERSIONS",
    "actor_from_dict",
    "actor_to_dict",
    "agent_from_dict",
    "agent_to_dict",
    "event_from_dict",
    "event_from_json",
    "event_to_dict",
    "event_to_json",
    "field_loaders",
    "upcasters",
]

Json: TypeAlias = dict[str, Any]
"""A JSON-safe dict."""

EVENT_TYPES: Mapping[str, type[EventBase]] = {
    kind.__name__: kind
    for kind in (
        _events.CaseOpened,
        _events.InteractionRecorded,
        _events.OwnerAssigned,
        _events.StewardAppointed,
        _events.StewardReassigned,
        _events.CaseTransferred,
        _events.StageChanged,
        _events.OfferMade,
        _events.OfferAccepted,
        _events.OfferRejected,
        _events.FollowUpScheduled,
        _events.FollowUpDue,
        _events.FollowUpCompleted,
        _events.FollowUpHandedOver,
        _events.FeedbackRecorded,
        _events.FeedbackRequested,
        _events.PriorityChanged,
        _events.SlaPolicyApplied,
        _events.SlaPaused,
        _events.SlaResumed,
        _events.SlaWarned,
        _events.SlaBreached,
        _events.SlaEscalated,
        _events.CaseReturnedToQueue,
        _events.SkillsChanged,
    )
}
"""Every event type, by the name stored with it."""

SCHEMA_VERSIONS: Mapping[str, int] = dict.fromkeys(EVENT_TYPES, 1) | {
    "CaseOpened": 4,
    "FollowUpScheduled": 2,
    "OwnerAssigned": 2,
    "SlaWarned": 2,
    "SlaBreached": 2,
    "OfferAccepted": 2,
    "OfferRejected": 2,
    "FeedbackRecorded": 2,
}
"""The current schema version of each event type."""

BASE_FIELDS: tuple[str, ...] = ("case_id", "version", "at", "actor")
"""The fields every event has, at the top level of its dict in this order; the rest: its payload."""


def _case_opened_v1_to_v2(payload: Json) -> Json:
    """Version 1 of `CaseOpened` predates company-initiated cases: the customer started it."""
    return {**payload, "initiated_by": Party.CUSTOMER.value}


def _case_opened_v2_to_v3(payload: Json) -> Json:
    """Version 2 of `CaseOpened` predates priorities and customer tiers."""
    return {**payload, "priority": "normal", "tier": None}


def _case_opened_v3_to_v4(payload: Json) -> Json:
    """Version 3 of `CaseOpened` predates routing: a case needed no particular skill."""
    return {**payload, "skills": []}


def _owner_assigned_v1_to_v2(payload: Json) -> Json:
    """Version 1 of `OwnerAssigned` predates routing: an assignment gave no reason."""
    return {**payload, "reason": None}


def _follow_up_scheduled_v1_to_v2(payload: Json) -> Json:
    """Version 1 of `FollowUpScheduled` predates retries: every follow-up was a first attempt."""
    return {**payload, "attempt": 1}


def _sla_warned_v1_to_v2(payload: Json) -> Json:
    """Version 1 of `SlaWarned` stored the warning moment as `due`, and not the target's due."""
    rest = {key: value for key, value in payload.items() if key != "due"}
    return {**rest, "warning_at": payload.get("due"), "due": None}


def _sla_breached_v1_to_v2(payload: Json) -> Json:
    """Version 1 of `SlaBreached` predates skipped warnings: none was skipped."""
    return {**payload, "warning_skipped": False}


def _offer_answer_v1_to_v2(payload: Json) -> Json:
    """Version 1 of an offer's answer predates answers recorded for the customer."""
    return {**payload, "via": None}


def _feedback_recorded_v1_to_v2(payload: Json) -> Json:
    """Version 1 of `FeedbackRecorded` predates surveys: its 1-5 rating is a CSAT score."""
    rest = {key: value for key, value in payload.items() if key != "rating"}
    return {**rest, "survey": Survey.CSAT.value, "score": payload.get("rating")}


_UPCASTERS: Mapping[tuple[str, int], Callable[[Json], Json]] = {
    ("CaseOpened", 1): _case_opened_v1_to_v2,
    ("CaseOpened", 2): _case_opened_v2_to_v3,
    ("CaseOpened", 3): _case_opened_v3_to_v4,
    ("OwnerAssigned", 1): _owner_assigned_v1_to_v2,
    ("FollowUpScheduled", 1): _follow_up_scheduled_v1_to_v2,
    ("SlaWarned", 1): _sla_warned_v1_to_v2,
    ("SlaBreached", 1): _sla_breached_v1_to_v2,
    ("OfferAccepted", 1): _offer_answer_v1_to_v2,
    ("OfferRejected", 1): _offer_answer_v1_to_v2,
    ("FeedbackRecorded", 1): _feedback_recorded_v1_to_v2,
}


def upcasters() -> Mapping[tuple[str, int], Callable[[Json], Json]]:
    """The registered upcasters: ``(type name, from version) -> payload of the next version``."""
    return _UPCASTERS


# -- values --------------------------------------------------------------------------------


def agent_to_dict(agent: Agent) -> Json:
    """An agent as a JSON-safe dict (teams, roles and skills sorted: equal agents, equal dicts).

    `skills` and `capacity` are written only when the agent has some, so an agent
    without routing attributes keeps the shape stored before routing existed.
    """
    data: Json = {
        "id": agent.id,
        "teams": sorted(agent.teams),
        "roles": sorted(role.value for role in agent.roles),
        "active": agent.active,
    }
    if agent.skills:
        data["skills"] = sorted(agent.skills)
    if agent.capacity:
        data["capacity"] = dict(agent.capacity)
    return data


_REQUIRED_AGENT_KEYS = frozenset({"id", "teams", "roles", "active"})
_OPTIONAL_AGENT_KEYS = frozenset({"skills", "capacity"})


def agent_from_dict(data: Json) -> Agent:
    """The agent `agent_to_dict` wrote; `InvalidValue` if it is malformed."""
    if not isinstance(data, dict) or not (
        _REQUIRED_AGENT_KEYS <= data.keys() <= _REQUIRED_AGENT_KEYS | _OPTIONAL_AGENT_KEYS
    ):
        got = sorted(data) if isinstance(data, dict) else data
        msg = (
            f"an agent needs exactly the keys {sorted(_REQUIRED_AGENT_KEYS)} (and may have "
            f"{sorted(_OPTIONAL_AGENT_KEYS)}), got {got!r}"
        )
        raise InvalidValue(msg)
    if not isinstance(data["active"], bool) or not isinstance(data["teams"], list):
        msg = f"an agent's 'active' is a boolean and 'teams' a list, got {data!r}"
        raise InvalidValue(msg)
    roles = _list(data["roles"], "roles")
    skills = _list(data.get("skills", []), "skills")
    capacity = data.get("capacity", {})
    if not isinstance(capacity, dict):
        msg = f"an agent's 'capacity' maps channel names to whole numbers, got {capacity!r}"
        raise InvalidValue(msg)
    for name, limit in capacity.items():
        if type(limit) is bool:  # True == 1 in `_agent`'s cache key: refused before it
            msg = f"the capacity on {name!r} must be a whole number from 0, got {limit!r}"
            raise InvalidValue(msg)
    if not all(type(item) is str for item in [data["id"], *data["teams"], *roles, *skills]):
        msg = f"an agent's id, teams, roles and skills are strings, got {data!r}"
        raise InvalidValue(msg)
    return _agent(
        data["id"],
        tuple(data["teams"]),
        tuple(roles),
        data["active"],
        tuple(skills),
        tuple(capacity.items()),
    )


@functools.lru_cache(maxsize=4096)
def _agent(  # noqa: PLR0913, PLR0917 - cached by position
    agent_id: str,
    teams: tuple[str, ...],
    roles: tuple[str, ...],
    active: bool,  # noqa: FBT001 - cached by position
    skills: tuple[str, ...] = (),
    capacity: tuple[tuple[Any, Any], ...] = (),
) -> Agent:
    """One `Agent` for each stored form: nearly every event of a case carries the same actors."""
    return Agent(
        agent_id,
        teams=frozenset(teams),
        roles=frozenset(_enum(Role, role) for role in roles),
        active=active,
        skills=frozenset(skills),
        capacity=dict(capacity),
    )


def actor_to_dict(actor: Actor) -> Json:
    """An actor as a JSON-safe dict with its kind: agent, customer or system."""
    if isinstance(actor, Agent):
        return {"kind": "agent", **agent_to_dict(actor)}
    if isinstance(actor, Customer):
        return {"kind": "customer", "id": actor.id}
    return {"kind": "system", "name": actor.name}


_AGENT_KEYS = frozenset({"kind", "id", "teams", "roles", "active"})


def actor_from_dict(data: object) -> Actor:
    """The actor `actor_to_dict` wrote; `InvalidValue` if it is malformed."""
    if type(data) is dict and data.keys() == _AGENT_KEYS and data["kind"] == "agent":
        # The common case, on every stored event: an agent in exactly the stored shape.
        agent_id, teams, roles, active = data["id"], data["teams"], data["roles"], data["active"]
        if (
            type(active) is bool
            and type(teams) is list
            and type(roles) is list
            and all(type(item) is str for item in [agent_id, *teams, *roles])
        ):
            return _agent(agent_id, tuple(teams), tuple(roles), active)
    if not isinstance(data, dict):
        msg = f"an actor is a dict, got {data!r}"
        raise InvalidValue(msg)
    rest = {key: value for key, value in data.items() if key != "kind"}
    match data.get("kind"):
        case "agent":
            return agent_from_dict(rest)
        case "customer":
            _expect_keys(rest, {"id"}, "a customer")
            return Customer(rest["id"])
        case "system":
            _expect_keys(rest, {"name"}, "the system")
            return System(rest["name"])
        case kind:
            msg = f"an actor's kind is 'agent', 'customer' or 'system', got {kind!r}"
            raise InvalidValue(msg)


def _expect_keys(data: object, keys: set[str], what: str) -> None:
    if not isinstance(data, dict) or set(data) != keys:
        got = sorted(data) if isinstance(data, dict) else data
        msg = f"{what} needs exactly the keys {sorted(keys)}, got {got!r}"
        raise InvalidValue(msg)


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        msg = f"{what} must be a list, got {value!r}"
        raise InvalidValue(msg)
    return value


def _enum(kind: type[Any], value: object) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in kind)
        msg = f"{value!r} is not a {kind.__name__} (one of {allowed})"
        raise InvalidValue(msg) from None


def _datetime_from(value: object) -> datetime:
    if not isinstance(value, str):
        msg = f"a time is an ISO 8601 string, got {value!r}"
        raise InvalidValue(msg)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        msg = f"{value!r} is not an ISO 8601 time"
        raise InvalidValue(msg) from None
    if moment.tzinfo is None:
        msg = f"a stored time must carry its offset, got {value!r}"
        raise InvalidValue(msg)
    return moment


def _decimal_from(value: object) -> Decimal:
    if not isinstance(value, str):
        msg = f"an amount is stored as a string, got {value!r}"
        raise InvalidValue(msg)
    try:
        return Decimal(value)
    except InvalidOperation:
        msg = f"{value!r} is not a decimal amount"
        raise InvalidValue(msg) from None


def _exact(kind: type[Any]) -> Callable[[object], Any]:
    def check(value: object) -> Any:
        if type(value) is not kind:
            msg = f"expected a {kind.__name__}, got {value!r}"
            raise InvalidValue(msg)
        return value

    return check


def _skills_from(value: object) -> frozenset[str]:
    if not isinstance(value, list) or not all(type(item) is str for item in value):
        msg = f"skills are stored as a list of strings, got {value!r}"
        raise InvalidValue(msg)
    return skill_names(value)


def _optional(load: Callable[[object], Any]) -> Callable[[object], Any]:
    return lambda value: None if value is None else load(value)


def _same(value: object) -> object:
    """The dump of a field written as it is (text, whole numbers, booleans)."""
    return value


_Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]
"""How one field type is written and read back."""

_CODECS: dict[object, _Codec] = {
    str: (_same, _exact(str)),
    bool: (_same, _exact(bool)),
    int: (_same, _exact(int)),
    datetime: (lambda v: v.isoformat(), _datetime_from),
    Decimal: (str, _decimal_from),
    Channel: (lambda v: v.name, Channel),
    Direction: (lambda v: v.value, functools.partial(_enum, Direction)),
    Party: (lambda v: v.value, functools.partial(_enum, Party)),
    FollowUpOutcome: (lambda v: v.value, functools.partial(_enum, FollowUpOutcome)),
    Survey: (lambda v: v.value, functools.partial(_enum, Survey)),
    Agent: (agent_to_dict, agent_from_dict),
    frozenset[str]: (sorted, _skills_from),
}


def _codec(hint: object) -> _Codec:
    if hint in _CODECS:
        return _CODECS[hint]
    arguments = set(typing.get_args(hint))
    if arguments == {Agent, Customer, System}:
        return actor_to_dict, actor_from_dict
    if isinstance(hint, types.UnionType) and type(None) in arguments and len(arguments) == 2:  # noqa: PLR2004 - X | None
        (inner,) = arguments - {type(None)}
        dump, load = _codec(inner)
        if dump is _same:
            return _same, _optional(load)
        return (lambda value: None if value is None else dump(value)), _optional(load)
    msg = f"no serialization for the field type {hint!r}"  # pragma: no cover - a new event type
    raise TypeError(msg)  # pragma: no cover


_FIELDS: dict[type[EventBase], tuple[tuple[str, _Codec], ...]] = {}


def field_loaders(kind: type[EventBase]) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    """Each field of an event type, in declaration order, with the function that reads it back.

    For stores that rebuild events of the current schema without `event_from_dict`'s
    per-field dispatch: a loader takes the field's JSON value as `event_to_dict`
    wrote it and returns the field's value, or raises `InvalidValue` if it is
    malformed. Text, whole-number and boolean fields check their JSON type only.
    """
    return tuple((field, load) for field, (_, load) in _fields(kind))


def _fields(kind: type[EventBase]) -> tuple[tuple[str, _Codec], ...]:
    """Each field of an event type with its codec, in declaration order (built once per type)."""
    fields = _FIELDS.get(kind)
    if fields is None:
        hints = get_type_hints(kind)
        fields = tuple((field.name, _codec(hints[field.name])) for field in attrs.fields(kind))
        _FIELDS[kind] = fields
    return fields


# -- events ----------------------------------------------------------------------------------


def event_to_dict(event: Event) -> Json:
    """The event as a JSON-safe dict: type, schema version, base fields and payload."""
    writer = _WRITERS.get(type(event)) or _writer(event)
    name, schema_version, payload = writer
    # Every store serializes each event it appends: the base fields (the same types on
    # every event, see `EventBase`) are written out, and payload fields written as they
    # are take no call.
    return {
        "type": name,
        "schema_version": schema_version,
        "case_id": event.case_id,
        "version": event.version,
        "at": event.at.isoformat(),
        "actor": actor_to_dict(event.actor),
        "payload": {
            field: getattr(event, field) if dump is None else dump(getattr(event, field))
            for field, dump in payload
        },
    }


_Writer = tuple[str, int, tuple[tuple[str, Callable[[Any], Any] | None], ...]]
_WRITERS: dict[type[EventBase], _Writer] = {}


def _writer(event: Event) -> _Writer:
    """How `event_to_dict` writes events of this one's type (built once per type)."""
    kind = type(event)
    name = kind.__name__
    if EVENT_TYPES.get(name) is not kind:
        msg = f"{event!r} is not a servicekit event"
        raise InvalidValue(msg)
    payload = tuple(
        (field, None if dump is _same else dump)
        for field, (dump, _) in _fields(kind)
        if field not in BASE_FIELDS
    )
    _WRITERS[kind] = writer = (name, SCHEMA_VERSIONS[name], payload)
    return writer


EVENT_KEYS: frozenset[str] = frozenset({"type", "schema_version", *BASE_FIELDS, "payload"})
"""The keys of an event's dict as `event_to_dict` writes it."""

# -- for stores: events as JSON text ----------------------------------------------------------

_ESCAPE: Callable[[str], str] = json.encoder.encode_basestring_ascii
"""A string as JSON text, ASCII with escapes, as `json.dumps` writes it: the C function it calls."""


def _c_encoder() -> Callable[[Any], str] | None:
    """The standard library's C encoder, made once, with `json.dumps`'s compact output.

    ``JSONEncoder.encode`` builds this encoder again on every call (about half the
    cost of encoding a short payload). It is made without the circular-reference
    check, which the JSON-safe values written here never need.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - an interpreter without the C accelerator
        return None
    # markers, default, string encoder, indent, separators, sort_keys, skipkeys, allow_nan:
    # the C function takes them by position only.
    encoder = make(None, json.JSONEncoder().default, _ESCAPE, None, ":", ",", False, False, True)  # noqa: FBT003
    return lambda value: "".join(encoder(value, 0))


_ENCODE: Callable[[Any], str] = _c_encoder() or json.JSONEncoder(separators=(",", ":")).encode
"""Compact JSON, as ``json.dumps(value, separators=(",", ":"))`` writes it."""


def event_to_json(event: Event) -> str:
    """The event as the compact JSON text of `event_to_dict` (for stores that keep text).

    The same text as ``json.dumps(event_to_dict(event), separators=(",", ":"))``,
    put together from its parts: a store serializes every event it appends, and
    the actor (the largest part, the same few agents on most events) is encoded
    once per distinct actor instead of once per event.
    """
    writer = _WRITERS.get(type(event)) or _writer(event)
    name, schema_version, payload = writer
    case_id, version = event.case_id, event.version
    if type(case_id) is not str or type(version) is not int:  # an unchecked event: as written
        return _ENCODE(event_to_dict(event))
    return "".join(
        (
            '{"type":"',
            name,
            '","schema_version":',
            str(schema_version),
            ',"case_id":',
            _ESCAPE(case_id),
            ',"version":',
            str(version),
            ',"at":"',
            event.at.isoformat(),
            '","actor":',
            _actor_json(event.actor),
            ',"payload":',
            _ENCODE(
                {
                    field: getattr(event, field) if dump is None else dump(getattr(event, field))
                    for field, dump in payload
                }
            ),
            "}",
        )
    )


@functools.lru_cache(maxsize=1024)
def _actor_json(actor: Actor) -> str:
    """The actor's part of an event's JSON text, encoded once per distinct (frozen) actor."""
    return _ENCODE(actor_to_dict(actor))


def event_from_json(data: str, *, where: str) -> Event:
    """The event stored as `data` by `event_to_json`; `CorruptHistory` naming `where` if not.

    `where` says where the text was found (``"position 12"``), so that the error
    names the damaged row: invalid JSON and a malformed event alike.
    """
    try:
        loaded = json.loads(data)
    except json.JSONDecodeError as error:
        msg = f"the event at {where} is not valid JSON: {error}"
        raise CorruptHistory(msg) from error
    try:
        return event_from_dict(loaded)
    except CorruptHistory as error:
        msg = f"{where}: {error}"
        raise CorruptHistory(msg) from error


def event_from_dict(data: object) -> Event:
    """The event `event_to_dict` wrote, upcast to the current schema; `CorruptHistory` if not."""
    try:
        # Loading a case decodes every one of its events: take the short way when the
        # dict has exactly the current shape, and the thorough one (which names every
        # problem) otherwise.
        return _current_event(data) or _event_from_dict(data)
    except CorruptHistory:
        raise
    except (ServiceKitError, ValueError, TypeError, KeyError) as problem:
        msg = f"{_where(data)}: {problem}"
        raise CorruptHistory(msg) from problem


def _current_event(data: object) -> Event | None:
    """The event, if `data` has exactly the shape of its type's current schema; else None."""
    if type(data) is not dict or data.keys() != EVENT_KEYS:
        return None
    name = data["type"]
    kind = EVENT_TYPES.get(name) if type(name) is str else None
    payload = data["payload"]
    schema_version = data["schema_version"]
    if (
        kind is None
        or type(schema_version) is not int  # true and 1.0 equal 1: the thorough path refuses them
        or schema_version != SCHEMA_VERSIONS[name]
        or type(payload) is not dict
    ):
        return None
    fields = _fields(kind)
    if payload.keys() != _payload_keys(kind):
        return None
    loaded = [
        load(data[field] if field in _BASE else payload[field]) for field, (_, load) in fields
    ]
    event: Event = kind(*loaded)  # type: ignore[assignment]
    return event


_BASE = frozenset(BASE_FIELDS)
_PAYLOAD_KEYS: dict[type[EventBase], frozenset[str]] = {}


def _payload_keys(kind: type[EventBase]) -> frozenset[str]:
    keys = _PAYLOAD_KEYS.get(kind)
    if keys is None:
        keys = frozenset(field for field, _ in _fields(kind)) - _BASE
        _PAYLOAD_KEYS[kind] = keys
    return keys


def _where(data: object) -> str:
    if isinstance(data, dict):
        return f"event {data.get('version')!r} of case {data.get('case_id')!r}"
    return "an event"


def _event_from_dict(data: object) -> Event:
    if not isinstance(data, dict):
        msg = f"a stored event is a dict, got {type(data).__name__}"
        raise CorruptHistory(msg)
    where = _where(data)
    if set(data) != EVENT_KEYS:
        missing, extra = sorted(EVENT_KEYS - set(data)), sorted(set(data) - EVENT_KEYS)
        msg = f"{where} has missing fields {missing} and unknown fields {extra}"
        raise CorruptHistory(msg)
    name = data["type"]
    kind = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if kind is None:
        msg = f"{where} has the unknown type {name!r}"
        raise CorruptHistory(msg)
    payload = _upcast(name, data["schema_version"], data["payload"], where)
    fields = dict(_fields(kind))
    values = {field: data[field] for field in BASE_FIELDS} | payload
    if set(values) != set(fields):
        missing, extra = sorted(set(fields) - set(values)), sorted(set(values) - set(fields))
        msg = f"{where} ({name}) has missing fields {missing} and unknown fields {extra}"
        raise CorruptHistory(msg)
    loaded = {field: fields[field][1](value) for field, value in values.items()}
    event: Event = kind(**loaded)  # type: ignore[assignment]
    return event


def _upcast(name: str, version: object, payload: object, where: str) -> Json:
    current = SCHEMA_VERSIONS[name]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        msg = f"{where} has the schema version {version!r}; versions are whole numbers from 1"
        raise CorruptHistory(msg)
    if version > current:
        msg = (
            f"{where} is {name} schema version {version}, newer than this library's "
            f"{current}: upgrade servicekit to read it"
        )
        raise CorruptHistory(msg)
    if not isinstance(payload, dict):
        msg = f"{where} has a payload that is not a dict: {payload!r}"
        raise CorruptHistory(msg)
    steps = upcasters()
    for step in range(version, current):
        payload = steps[(name, step)](payload)
    return payload
