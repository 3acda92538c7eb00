"""Validators shared by the domain values (private)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import attrs

from servicekit.errors import InvalidValue


def utc(value: object, *, what: str) -> datetime:
    """Return `value` in UTC, refusing a naive datetime with a precise error."""
    if type(value) is datetime and value.tzinfo is UTC:
        return value  # the common case, on every command: nothing to convert
    if not isinstance(value, datetime):
        msg = f"{what} must be a timezone-aware datetime, got {type(value).__name__}: {value!r}"
        raise InvalidValue(msg)
    if value.tzinfo is None or value.utcoffset() is None:
        msg = f"{what} must be timezone-aware, got the naive datetime {value.isoformat()}"
        raise InvalidValue(msg)
    return value.astimezone(UTC)


MAX_NAME_LENGTH = 200
"""The most characters an id or a name may have, on every store.

Case, agent and customer ids, team names, skills, workflow and stage names and
idempotency keys are indexed by the stores, and PostgreSQL's indexes hold keys of
at most about 2700 bytes: 200 characters (at most 800 bytes of UTF-8) fit with room.
Texts (summaries, notes, reasons) are not indexed and may be longer.
"""


def storable(value: object, what: str, *, limit: int | None = None) -> None:
    """Refuse text that no store can keep (for store authors too): `InvalidValue`.

    A NUL character (U+0000) is refused (PostgreSQL keeps no NUL in text), and so
    is a lone surrogate such as U+D800 (not a character, and not UTF-8). With
    `limit` (`MAX_NAME_LENGTH` for ids and names), text longer than that many
    characters is refused. `what` names the value in the message ("the agent id").
    A value that is not text at all is refused too.
    """
    if not isinstance(value, str):
        msg = f"{what} must be text, got {type(value).__name__}: {value!r}"
        raise InvalidValue(msg)
    if limit is not None and len(value) > limit:
        msg = (
            f"{what} may have at most {limit} characters, got {len(value)} "
            f"(starting {value[:20]!r})"
        )
        raise InvalidValue(msg)
    if "\x00" in value:
        msg = (
            f"{what} must not contain the NUL character (U+0000), which no store keeps; "
            f"got {value!r}"
        )
        raise InvalidValue(msg)
    if value.isascii():
        return  # the common case, and O(1): CPython knows whether a str is ASCII
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        msg = (
            f"{what} must be text that can be stored, got {value!r}: the character at "
            f"position {error.start} is a lone surrogate, not a character"
        )
        raise InvalidValue(msg) from None


def non_blank(_instance: object, attribute: Any, value: Any) -> None:
    """Attrs validator: a non-empty string with something other than spaces."""
    if not isinstance(value, str) or not value.strip():
        msg = f"{attribute.name} must be a non-blank string, got {value!r}"
        raise InvalidValue(msg)
    storable(value, what=attribute.name)


def identifier(_instance: object, attribute: Any, value: Any) -> None:
    """Attrs validator: an id or a name, non-blank and at most `MAX_NAME_LENGTH` characters."""
    if not isinstance(value, str) or not value.strip():
        msg = f"{attribute.name} must be a non-blank string, got {value!r}"
        raise InvalidValue(msg)
    storable(value, what=attribute.name, limit=MAX_NAME_LENGTH)


def optional_identifier(instance: object, attribute: Any, value: Any) -> None:
    """Attrs validator: None, or an id or a name (see `identifier`)."""
    if value is not None:
        identifier(instance, attribute, value)


def case_id_text(case_id: object) -> str:
    """Refuse a case id that is not a non-blank string a store can keep."""
    if not isinstance(case_id, str) or not case_id.strip():
        msg = f"a case id is a non-blank string, got {case_id!r}"
        raise InvalidValue(msg)
    storable(case_id, what="a case id", limit=MAX_NAME_LENGTH)
    return case_id


def optional_non_blank(instance: object, attribute: Any, value: Any) -> None:
    """Attrs validator: None, or a non-blank string."""
    if value is not None:
        non_blank(instance, attribute, value)


def text(_instance: object, attribute: Any, value: Any) -> None:
    """Attrs validator: any string, possibly empty."""
    if not isinstance(value, str):
        msg = f"{attribute.name} must be a string, got {type(value).__name__}: {value!r}"
        raise InvalidValue(msg)
    storable(value, what=attribute.name)


def require(value: object, kind: type | tuple[type, ...], message: str) -> None:
    """Refuse a value of the wrong type at the public edge, with `message` and the value."""
    if not isinstance(value, kind):
        msg = f"{message}, got {value!r}"
        raise InvalidValue(msg)


def filler(frozen: type) -> type[Any]:
    """A private subclass of the frozen attrs class `frozen` whose fields can be set one by one.

    For the hot path, which builds a value per event: ``value = filler()`` (a blank
    instance: no ``__init__`` runs), then every field set as a plain attribute, then
    ``value.__class__ = frozen``. The stores are plain slot stores (CPython specialises
    them), where attrs' frozen ``__init__`` and `object.__setattr__` go through a
    generic call per field, several times as dear. The subclass adds no slots, so
    CPython allows the re-classing, and what comes out is an ordinary, frozen instance
    of `frozen`, equal to the one its constructor builds (tests check this field by
    field for each use). Only for classes without validators or converters: nothing is
    checked on the way.
    """
    namespace = {
        "__slots__": (),
        "__module__": frozen.__module__,
        # object's own, so that CPython calls them directly: a blank instance, and
        # (both of the setattr pair) the generic slot stores it specialises.
        "__init__": object.__init__,
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
    }
    return type(f"_{frozen.__name__}Filler", (frozen,), namespace)


def slot_builder(frozen: type) -> Callable[..., Any]:
    """A function that builds `frozen` from all of its fields, by position, as `filler` does.

    For a store's decoder, which builds one event per row it reads: the function is
    ``build(field1, field2, ...)`` in attrs' field order, written out per class (as
    attrs writes its own ``__init__``) so that each field is one plain slot store.
    Only for classes whose fields have no validator, converter or ``init=False``:
    anything else raises `TypeError` here, since nothing is checked on the way.
    """
    fields = attrs.fields(frozen)
    for field in fields:
        if field.validator is not None or field.converter is not None or not field.init:
            msg = f"{frozen.__name__}.{field.name} checks or converts: build it with attrs"
            raise TypeError(msg)
    names = [field.name for field in fields]
    source = "\n".join(
        [
            f"def build({', '.join(names)}):",
            "    value = Filler()",
            *(f"    value.{name} = {name}" for name in names),
            "    value.__class__ = Frozen",
            "    return value",
        ]
    )
    namespace: dict[str, Any] = {"Filler": filler(frozen), "Frozen": frozen}
    exec(source, namespace)  # noqa: S102 - the source is built above from attrs' field names
    built: Callable[..., Any] = namespace["build"]
    return built
