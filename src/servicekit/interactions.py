"""Contacts between the company and a customer: channels, directions, parties."""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Any, ClassVar

import attrs

from servicekit._values import text
from servicekit.errors import InvalidValue
from servicekit.ownership import Actor

__all__ = ["Channel", "Direction", "Interaction", "Party"]

_CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_\-]*\Z")


def _channel_name(_instance: object, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not _CHANNEL_NAME.match(value):
        msg = (
            "a channel name is lower-case letters, digits, '_' or '-', starting with a letter; "
            f"got {value!r}"
        )
        raise InvalidValue(msg)


@attrs.frozen
class Channel:
    """A way of reaching the company: phone, email, chat, ... (an open set).

    The well-known channels are class attributes (`Channel.PHONE`); an application
    may name its own (`Channel("whatsapp")`). The same rules apply on every channel.
    """

    name: str = attrs.field(validator=_channel_name)

    PHONE: ClassVar[Channel]
    EMAIL: ClassVar[Channel]
    CHAT: ClassVar[Channel]
    SOCIAL: ClassVar[Channel]
    IN_PERSON: ClassVar[Channel]
    WEB: ClassVar[Channel]

    def __str__(self) -> str:
        """The channel's name."""
        return self.name


Channel.PHONE = Channel("phone")
Channel.EMAIL = Channel("email")
Channel.CHAT = Channel("chat")
Channel.SOCIAL = Channel("social")
Channel.IN_PERSON = Channel("in_person")
Channel.WEB = Channel("web")


class Direction(enum.Enum):
    """Who reached out: the customer (inbound) or the company (outbound)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Party(enum.Enum):
    """A side of the relationship: the company or the customer."""

    COMPANY = "company"
    CUSTOMER = "customer"


def _channel(_instance: object, _attribute: Any, value: Any) -> None:
    if not isinstance(value, Channel):
        msg = f"channel must be a Channel (for example Channel.EMAIL), got {value!r}"
        raise InvalidValue(msg)


def _direction(_instance: object, _attribute: Any, value: Any) -> None:
    if not isinstance(value, Direction):
        msg = f"direction must be Direction.INBOUND or Direction.OUTBOUND, got {value!r}"
        raise InvalidValue(msg)


@attrs.frozen
class Interaction:
    """One contact on a case: when, on which channel, in which direction, by whom, and what."""

    at: datetime
    channel: Channel = attrs.field(validator=_channel)
    direction: Direction = attrs.field(validator=_direction)
    actor: Actor
    summary: str = attrs.field(validator=text)
