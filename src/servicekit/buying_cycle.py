"""`buying_cycle()`: the default workflow, from first enquiry to confirmed satisfaction."""

from __future__ import annotations

from servicekit.followups import FollowUpRules
from servicekit.guards import has_accepted_offer, reason_given
from servicekit.workflow import Stage, StatusCategory, Transition, Workflow

__all__ = ["buying_cycle"]


def buying_cycle(*, follow_ups: FollowUpRules | None = None) -> Workflow:
    """The whole buying cycle: enquiry, bargaining, the sale, after-sales service, follow-up.

    Stages (category):

    - ``enquiry`` (new): intake, where every customer-opened case starts. A case
      here may wait unowned until an agent takes it.
    - ``negotiation`` (open): bargaining; offers and counter-offers are made,
      accepted and rejected here.
    - ``won`` (won): the sale, which needs an accepted offer; the steward checks
      later that the customer is happy with the purchase.
    - ``lost`` (lost): no sale, which needs a reason; the steward asks later why.
    - ``in_service`` (open): after-sales service. A support request from an
      existing customer may start here directly, with an owner from the start.
    - ``waiting_on_customer`` (pending): service waits for the customer.
    - ``resolved`` (resolved): the problem is solved; the customer may reopen. A
      follow-up is scheduled for the steward to confirm the customer was served.
    - ``follow_up`` (resolved): the steward is following the customer up.
    - ``closed`` (closed): final, though the customer or the owner may reopen it
      within the follow-up rules' reopen window.

    Args:
        follow_ups: when follow-ups fall due (`FollowUpRules`); by default every
            day counts, and a closed case may be reopened into ``in_service``
            within 7 days.
    """
    stages = [
        Stage("enquiry", StatusCategory.NEW, description="first contact, before anyone bargains"),
        Stage(
            "negotiation", StatusCategory.OPEN, offers=True, description="bargaining over offers"
        ),
        Stage(
            "won",
            StatusCategory.WON,
            follow_up="check the customer is happy with the purchase",
            description="the sale is made",
        ),
        Stage(
            "lost",
            StatusCategory.LOST,
            follow_up="ask the customer why the sale was lost",
            description="the sale was lost",
        ),
        Stage("in_service", StatusCategory.OPEN, description="after-sales service"),
        Stage(
            "waiting_on_customer",
            StatusCategory.PENDING,
            description="service waits for the customer's answer",
        ),
        Stage(
            "resolved",
            StatusCategory.RESOLVED,
            follow_up="confirm the customer was served",
            description="the customer's problem is solved",
        ),
        Stage(
            "follow_up",
            StatusCategory.RESOLVED,
            description="the steward is following the customer up",
        ),
        Stage("closed", StatusCategory.CLOSED, description="done"),
    ]
    transitions = [
        Transition("negotiate", "enquiry", "negotiation", description="start bargaining"),
        Transition(
            "start_service",
            ["enquiry", "won"],
            "in_service",
            description="hand over to after-sales service",
        ),
        Transition(
            "close",
            "enquiry",
            "closed",
            guards=reason_given,
            description="drop an enquiry that needs nothing (spam, a duplicate), saying why",
        ),
        Transition(
            "close",
            ["lost", "won", "resolved", "follow_up"],
            "closed",
            description="finish the case",
        ),
        Transition(
            "win", "negotiation", "won", guards=has_accepted_offer, description="make the sale"
        ),
        Transition("lose", "negotiation", "lost", guards=reason_given, description="lose the sale"),
        Transition(
            "wait_on_customer",
            "in_service",
            "waiting_on_customer",
            description="wait for the customer's answer",
        ),
        Transition(
            "resume", "waiting_on_customer", "in_service", description="the customer answered"
        ),
        Transition(
            "resolve",
            ["in_service", "waiting_on_customer"],
            "resolved",
            description="the problem is solved",
        ),
        Transition(
            "reopen",
            ["resolved", "follow_up"],
            "in_service",
            by_customer=True,
            description="the problem is back, or was never solved",
        ),
        Transition(
            "follow_up",
            ["won", "lost", "resolved"],
            "follow_up",
            description="check with the customer that they were served",
        ),
    ]
    return Workflow(
        name="buying_cycle",
        stages=stages,
        transitions=transitions,
        start=["enquiry", "in_service"],
        follow_ups=follow_ups
        if follow_ups is not None
        else FollowUpRules(reopen_stage="in_service"),
    )
