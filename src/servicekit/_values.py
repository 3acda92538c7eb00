"""Validators shared by the domain values (private)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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


def non_blank(_instance: object, attribute: Any, value: Any) -> None:
    """Attrs validator: a non-empty string with something other than spaces."""
    if not isinstance(value, str) or not value.strip():
        msg = f"{attribute.name} must be a non-blank string, got {value!r}"
        raise InvalidValue(msg)


def optional_non_blank(instance: object, attribute: Any, value: Any) -> None:
    """Attrs validator: None, or a non-blank string."""
    if value is not None:
        non_blank(instance, attribute, value)


def text(_instance: object, attribute: Any, value: Any) -> None:
    """Attrs validator: any string, possibly empty."""
    if not isinstance(value, str):
        msg = f"{attribute.name} must be a string, got {type(value).__name__}: {value!r}"
        raise InvalidValue(msg)


def require(value: object, kind: type | tuple[type, ...], message: str) -> None:
    """Refuse a value of the wrong type at the public edge, with `message` and the value."""
    if not isinstance(value, kind):
        msg = f"{message}, got {value!r}"
        raise InvalidValue(msg)
