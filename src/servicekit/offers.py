"""Offers and counter-offers made while bargaining, with exact money amounts."""

from __future__ import annotations

import enum
import re
from datetime import datetime
from decimal import Decimal

import attrs

from servicekit.errors import InvalidValue
from servicekit.interactions import Party
from servicekit.ownership import Actor

__all__ = ["Offer", "OfferStatus", "check_money"]

_CURRENCY = re.compile(r"[A-Z]{3}\Z")


class OfferStatus(enum.Enum):
    """Where an offer stands: open, accepted, rejected, or superseded by a newer offer."""

    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


def check_money(amount: object, currency: object) -> None:
    """Refuse anything but a positive, finite `Decimal` and an ISO 4217 code ("EUR")."""
    if not isinstance(amount, Decimal):
        msg = (
            "an amount must be an exact decimal number, such as Decimal('12.50') (floats "
            f"lose cents), "
            f"got {type(amount).__name__}: {amount!r}"
        )
        raise InvalidValue(msg)
    if not amount.is_finite() or amount <= 0:
        msg = f"an amount must be a finite number above zero, got {amount}"
        raise InvalidValue(msg)
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        msg = f"a currency is a three-letter ISO 4217 code such as 'EUR', got {currency!r}"
        raise InvalidValue(msg)


@attrs.frozen
class Offer:
    """One offer on a case: who it is from, the price, and where it stands.

    An offer from the `COMPANY` is made to the customer; an offer from the
    `CUSTOMER` is their counter-offer, recorded by the case's owner. A new offer
    supersedes any offer still open.
    """

    offer_id: int
    party: Party
    amount: Decimal
    currency: str
    terms: str
    made_by: Actor
    made_at: datetime
    status: OfferStatus = OfferStatus.OPEN
    answer: str = ""

    @property
    def is_open(self) -> bool:
        """Whether the offer still awaits an answer."""
        return self.status is OfferStatus.OPEN

    def __str__(self) -> str:
        """The offer as a person reads it: "offer 2 from the company: 950.00 EUR"."""
        return f"offer {self.offer_id} from the {self.party.value}: {self.amount} {self.currency}"
