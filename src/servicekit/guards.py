"""Ready-made guards for transitions: conditions a move needs before it may happen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from servicekit.workflow import Guard

if TYPE_CHECKING:
    from servicekit.case import Case
    from servicekit.commands import Move

__all__ = ["has_accepted_offer", "reason_given"]


def _accepted_offer(case: Case, _move: Move) -> str | None:
    if case.accepted_offer is not None:
        return None
    if case.open_offers:
        numbers = ", ".join(str(offer.offer_id) for offer in case.open_offers)
        return f"no offer has been accepted yet (open: offer {numbers})"
    return "no offer has been accepted yet; make one and have it accepted"


def _reason(_case: Case, move: Move) -> str | None:
    return None if move.reason is not None else "give a reason with the move"


has_accepted_offer = Guard("has_accepted_offer", _accepted_offer)
"""Passes when one of the case's offers has been accepted (a sale needs one)."""

reason_given = Guard("reason_given", _reason)
"""Passes when the move carries a reason (losing a sale, closing an enquiry)."""
