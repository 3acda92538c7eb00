"""servicekit: customer-service workflows with ownership rules, as a pure, event-sourced core.

A customer's need is one case, tracked from the first enquiry through bargaining
and the sale into after-sales service and a follow-up that confirms the customer
was served. `decide(case, command, now=...)` returns the events a command causes
(or raises a precise error and changes nothing); `evolve` folds an event into the
case; a case is the fold of its history.
"""

from servicekit.buying_cycle import buying_cycle
from servicekit.case import Case, Feedback, Handoff, as_of, evolve, replay
from servicekit.commands import (
    AcceptOffer,
    AssignCase,
    Command,
    CompleteFollowUp,
    MakeOffer,
    Move,
    OpenCase,
    ReassignSteward,
    RecordFeedback,
    RecordInteraction,
    RejectOffer,
    ScheduleFollowUp,
    TransferCase,
)
from servicekit.decisions import decide
from servicekit.errors import (
    CommandRejected,
    CorruptHistory,
    DuplicateCase,
    InvalidTransition,
    InvalidValue,
    InvalidWorkflow,
    NotPermitted,
    OwnershipViolation,
    ServiceKitError,
    UnknownCase,
    UnknownReference,
)
from servicekit.events import (
    CaseOpened,
    CaseTransferred,
    Event,
    EventBase,
    FeedbackRecorded,
    FollowUpCompleted,
    FollowUpScheduled,
    InteractionRecorded,
    OfferAccepted,
    OfferMade,
    OfferRejected,
    OwnerAssigned,
    StageChanged,
    StewardAppointed,
    StewardReassigned,
)
from servicekit.followups import FollowUp, FollowUpOutcome
from servicekit.guards import has_accepted_offer, reason_given
from servicekit.interactions import Channel, Direction, Interaction, Party
from servicekit.offers import Offer, OfferStatus
from servicekit.ownership import Actor, Agent, Customer, Role, System
from servicekit.workflow import Guard, Route, Stage, StatusCategory, Transition, Workflow

__all__ = [
    "AcceptOffer",
    "Actor",
    "Agent",
    "AssignCase",
    "Case",
    "CaseOpened",
    "CaseTransferred",
    "Channel",
    "Command",
    "CommandRejected",
    "CompleteFollowUp",
    "CorruptHistory",
    "Customer",
    "Direction",
    "DuplicateCase",
    "Event",
    "EventBase",
    "Feedback",
    "FeedbackRecorded",
    "FollowUp",
    "FollowUpCompleted",
    "FollowUpOutcome",
    "FollowUpScheduled",
    "Guard",
    "Handoff",
    "Interaction",
    "InteractionRecorded",
    "InvalidTransition",
    "InvalidValue",
    "InvalidWorkflow",
    "MakeOffer",
    "Move",
    "NotPermitted",
    "Offer",
    "OfferAccepted",
    "OfferMade",
    "OfferRejected",
    "OfferStatus",
    "OpenCase",
    "OwnerAssigned",
    "OwnershipViolation",
    "Party",
    "ReassignSteward",
    "RecordFeedback",
    "RecordInteraction",
    "RejectOffer",
    "Role",
    "Route",
    "ScheduleFollowUp",
    "ServiceKitError",
    "Stage",
    "StageChanged",
    "StatusCategory",
    "StewardAppointed",
    "StewardReassigned",
    "System",
    "TransferCase",
    "Transition",
    "UnknownCase",
    "UnknownReference",
    "Workflow",
    "as_of",
    "buying_cycle",
    "decide",
    "evolve",
    "has_accepted_offer",
    "reason_given",
    "replay",
]
