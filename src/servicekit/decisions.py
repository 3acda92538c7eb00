"""Deciding commands: the rules of the workflow and of ownership, as one pure function.

`decide(case, command, now=...)` returns the events a command causes, or raises
a `CommandRejected` error naming the case, the actor, the stage, the reason and
what would have been allowed. It never changes anything: a rejected command
leaves no trace, and an accepted one only becomes real when its events are
folded (`evolve`) or stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

from servicekit._values import utc
from servicekit._words import listing
from servicekit.case import Case
from servicekit.commands import (
    AcceptOffer,
    ApplySlaPolicy,
    AssignCase,
    ChangePriority,
    ChangeSkills,
    Command,
    CompleteFollowUp,
    FireTimers,
    HandOverFollowUp,
    MakeOffer,
    Move,
    OpenCase,
    PauseSla,
    ReassignSteward,
    RecordFeedback,
    RecordInteraction,
    RejectOffer,
    RequestFeedback,
    ResumeSla,
    ReturnToQueue,
    ScheduleFollowUp,
    TransferCase,
)
from servicekit.errors import (
    CommandRejected,
    DuplicateCase,
    InvalidTransition,
    InvalidValue,
    NotPermitted,
    OwnershipViolation,
    UnknownCase,
    UnknownReference,
)
from servicekit.events import (
    CaseOpened,
    CaseReturnedToQueue,
    CaseTransferred,
    Event,
    EventBase,
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
    _StageChangedFiller,
    new_stage_changed,
)
from servicekit.followups import FollowUp, FollowUpOutcome
from servicekit.interactions import Channel, Direction, Party
from servicekit.offers import Offer
from servicekit.ownership import Actor, Agent, Customer, System, may_steer
from servicekit.timers import Timer, TimerKind
from servicekit.workflow import Route, Stage, StatusCategory, Workflow

__all__ = ["decide"]

_E = TypeVar("_E", bound=EventBase)

_STEERS = "the owner, a supervisor of the owner's team, or the system"
_ALLOWED_WHEN_FINISHED = (RecordInteraction, RecordFeedback)
_ANYWHERE = ("record an interaction", "record feedback")


class _Decision:
    """One command being decided against one case, with what errors need to say."""

    __slots__ = ("at", "case", "command", "version")

    def __init__(self, case: Case, command: Command, at: datetime) -> None:
        self.case = case
        self.command = command
        self.at = at
        self.version = case.version

    @property
    def actor(self) -> Actor:
        return self.command.actor

    def reject(
        self, error: type[CommandRejected], reason: str, allowed: Iterable[str] = ()
    ) -> NoReturn:
        raise error(
            case_id=self.case.case_id,
            actor=str(self.actor),
            stage=self.case.stage,
            attempted=_attempted(self.command),
            reason=reason,
            allowed=allowed,
        )

    def event(self, kind: Callable[..., _E], **fields: Any) -> _E:
        """The next event of the case's history: numbered, timed, and signed by the actor."""
        self.version += 1
        return kind(self.case.case_id, self.version, self.at, self.command.actor, **fields)

    def steward_follow_up(self, reason: str, days: int) -> FollowUpScheduled:
        """A follow-up for the steward, due `days` open days from now."""
        steward = self.case.steward
        if steward is None:  # pragma: no cover - every owned case has a steward
            self.reject(OwnershipViolation, "the case has no steward to follow up")
        return self.event(
            FollowUpScheduled,
            follow_up_id=len(self.case.follow_ups) + 1,
            assignee=steward,
            due=self.case.workflow.follow_ups.due(self.at, days),
            reason=reason,
        )


def decide(case: Case, command: Command, *, now: datetime) -> tuple[Event, ...]:
    """The events `command` causes on `case` at the aware time `now`, or a precise error.

    Raises:
        InvalidValue: `now` is naive, or earlier than the case's last event.
        UnknownCase: the case is not opened and the command is not `OpenCase`.
        DuplicateCase: `OpenCase` on a case that is opened already.
        NotPermitted: the actor may not do this (inactive agent, wrong customer,
            not the owner, a supervisor of the owner's team or the system, ...).
        OwnershipViolation: the command would leave the case without an active
            owner past intake, transfer without a handoff note, close with open
            follow-ups without a supervisor's reason, ...
        InvalidTransition: the command does not fit the stage, or a guard failed.
        UnknownReference: the command names an offer or follow-up the case lacks.
    """
    # The common case, an aware UTC datetime, skips the call: decide is the hot path.
    at = now if type(now) is datetime and now.tzinfo is UTC else utc(now, what="now")
    if case.updated_at is not None and at < case.updated_at:
        msg = (
            f"now ({at.isoformat()}) is before the last event of case {case.case_id!r} "
            f"({case.updated_at.isoformat()}); a history never goes back in time"
        )
        raise InvalidValue(msg)
    if type(command) is Move and (moved := _owner_moves(case, command, at)) is not None:
        return moved
    handler = _HANDLERS.get(type(command))
    if handler is None:
        msg = f"{command!r} is not a servicekit command"
        raise InvalidValue(msg)
    decision = _Decision(case, command, at)
    if isinstance(command, OpenCase):
        return _open(decision, command)
    if case.stage is None:
        decision.reject(UnknownCase, "the case has not been opened", ("open the case",))
    _check_actor(decision)
    stage = case.workflow.stage(case.stage)
    rules = case.workflow.follow_ups
    if stage.final and isinstance(command, Move) and command.trigger == rules.reopen_trigger:
        return _reopen_finished(decision, command, stage)
    if stage.final and not isinstance(command, _ALLOWED_WHEN_FINISHED):
        decision.reject(InvalidTransition, "the case is finished", _ANYWHERE)
    return handler(decision, command, stage)


def _owner_moves(case: Case, command: Move, at: datetime) -> tuple[Event, ...] | None:
    """The most frequent command, decided at once: the active owner fires an unguarded move.

    Returns None whenever anything else needs looking at (another actor, a guard,
    a stage that schedules a follow-up, finishing with follow-ups open, a survey
    to ask for, no such transition): then `_move` decides it with every rule and
    names what went wrong. Both agree wherever this one answers; the stateful
    tests and `test_the_quick_path_agrees_with_the_full_rules` drive both paths.
    """
    owner = case.owner
    actor = command.actor
    if owner is None or type(actor) is not Agent or actor.id != owner.id or not actor.active:
        return None
    stage = case.stage
    # The workflow's compiled index of plain moves; a stage of None finds nothing.
    plain = case.workflow._plain_moves.get((stage, command.trigger))  # type: ignore[arg-type] # noqa: SLF001
    if plain is None:
        return None  # a guard, a follow-up to schedule, a finished case, or no such move
    dest, final, resolves = plain
    if (final and case.record.follow_ups and case.open_follow_ups) or (
        resolves and case.workflow.follow_ups.request_feedback is not None
    ):
        return None  # open follow-ups to settle, or a survey to ask for
    # The event built slot by slot, as `new_stage_changed` does, without the call.
    moved = _StageChangedFiller()
    moved.case_id = case.case_id
    moved.version = case.version + 1
    moved.at = at
    moved.actor = actor
    moved.trigger = command.trigger
    moved.source = stage
    moved.dest = dest
    moved.reason = command.reason
    moved.__class__ = StageChanged
    return (moved,)


def _attempted(command: Command) -> str:  # noqa: C901, PLR0911, PLR0912 - one case per command reads best
    match command:
        case OpenCase():
            return "open the case"
        case AssignCase(to=agent):
            return f"assign the case to {agent}"
        case TransferCase(to=to):
            return f"transfer the case to {to}"
        case ReassignSteward(to=to):
            return f"make {to} the steward"
        case Move(trigger=trigger):
            return f"fire {trigger!r}"
        case RecordInteraction():
            return "record an interaction"
        case MakeOffer():
            return "make an offer"
        case AcceptOffer(offer_id=offer_id):
            return f"accept offer {offer_id}"
        case RejectOffer(offer_id=offer_id):
            return f"reject offer {offer_id}"
        case ScheduleFollowUp():
            return "schedule a follow-up"
        case CompleteFollowUp(follow_up_id=follow_up_id):
            return f"complete follow-up {follow_up_id}"
        case HandOverFollowUp(follow_up_id=follow_up_id, to=to):
            return f"hand follow-up {follow_up_id} over to {to}"
        case RecordFeedback(survey=survey):
            return f"record {survey.name} feedback"
        case RequestFeedback(survey=survey):
            return f"request {survey.name} feedback"
        case ChangePriority(priority=priority):
            return f"change the priority to {priority!r}"
        case PauseSla():
            return "pause the SLA clocks"
        case ResumeSla():
            return "resume the SLA clocks"
        case FireTimers():
            return "fire timers"
        case ApplySlaPolicy(policy=policy, version=version):
            return f"apply SLA policy {policy!r} v{version}"
        case ChangeSkills(skills=skills):
            return f"change the skills the case needs to {listing(sorted(skills)) or 'none'}"
        case ReturnToQueue():  # pragma: no branch - exhausted
            return "return the case to the queue"


def _check_active(decision: _Decision) -> None:
    """Inactive agents cannot act."""
    actor = decision.actor
    if isinstance(actor, Agent) and not actor.active:
        decision.reject(NotPermitted, f"{actor} is inactive")


def _check_actor(decision: _Decision) -> None:
    """Inactive agents cannot act; a customer acts only on their own case."""
    _check_active(decision)
    actor = decision.command.actor
    if isinstance(actor, Customer) and actor.id != decision.case.customer_id:
        decision.reject(NotPermitted, f"the case belongs to customer {decision.case.customer_id!r}")


def _require_steering(decision: _Decision) -> Agent:
    """The case's owner, after checking that the actor may steer the case."""
    owner = decision.case.owner
    actor = decision.command.actor
    if owner is not None and isinstance(actor, Agent) and actor.id == owner.id and actor.active:
        return owner  # the owner steering their own case: the common case, decided at once
    if owner is None:
        decision.reject(
            OwnershipViolation,
            "the case has no owner yet; an agent must take it or be assigned it first",
            ("take the case, or assign it to an agent",),
        )
    if not may_steer(actor, owner):
        decision.reject(NotPermitted, f"only {_STEERS} may do this; the owner is {owner}")
    return owner


def _require_active(decision: _Decision, agent: Agent, role: str) -> None:
    if not agent.active:
        decision.reject(OwnershipViolation, f"{agent} is inactive and cannot be {role}")


def _open(decision: _Decision, command: OpenCase) -> tuple[Event, ...]:
    case = decision.case
    if case.stage is not None:
        decision.reject(DuplicateCase, f"it is open already, in stage {case.stage!r}")
    if not isinstance(case.case_id, str) or not case.case_id.strip():
        msg = f"a case id is a non-blank string, got {case.case_id!r}"
        raise InvalidValue(msg)
    workflow = case.workflow
    if command.workflow is not None and command.workflow != workflow.name:
        msg = (
            f"case {case.case_id!r} is to be opened on workflow {command.workflow!r}, but it "
            f"was decided on workflow {workflow.name!r}"
        )
        raise InvalidValue(msg)
    stage_name = command.stage if command.stage is not None else workflow.start[0]
    if stage_name not in workflow.start:
        decision.reject(
            InvalidTransition,
            f"a case cannot be opened in stage {stage_name!r}",
            workflow.start,
        )
    _check_active(decision)
    owner = _first_owner(decision, command)
    stage = workflow.stage(stage_name)
    if owner is None and not stage.is_intake:
        decision.reject(
            OwnershipViolation,
            f"stage {stage_name!r} needs an owner from the start; name one, or open the case in "
            "an intake stage",
            [s for s in workflow.start if workflow.stage(s).is_intake],
        )
    initiated_by = Party.CUSTOMER if command.direction is Direction.INBOUND else Party.COMPANY
    pending: list[Event] = [
        decision.event(
            CaseOpened,
            customer_id=command.customer_id,
            workflow=workflow.name,
            stage=stage_name,
            channel=command.channel,
            initiated_by=initiated_by,
            summary=command.summary,
            priority=command.priority,
            tier=command.tier,
            skills=command.skills,
        ),
        decision.event(
            InteractionRecorded,
            channel=command.channel,
            direction=command.direction,
            summary=command.summary,
        ),
    ]
    if owner is not None:
        pending += [
            decision.event(OwnerAssigned, owner=owner),
            decision.event(StewardAppointed, steward=owner),
        ]
        if stage.follow_up is not None:
            pending.append(
                decision.event(
                    FollowUpScheduled,
                    follow_up_id=1,
                    assignee=owner,
                    due=workflow.follow_ups.due(decision.at, _entry_days(stage, workflow)),
                    reason=stage.follow_up,
                )
            )
    return tuple(pending)


def _first_owner(decision: _Decision, command: OpenCase) -> Agent | None:
    """Who owns a case being opened: the opening agent, or the agent it is routed to."""
    actor = command.actor
    owner = command.owner
    if isinstance(actor, Customer):
        if actor.id != command.customer_id:
            decision.reject(
                NotPermitted,
                f"a customer opens cases for themselves, not for {command.customer_id!r}",
            )
        if command.direction is not Direction.INBOUND:
            decision.reject(
                NotPermitted, "a customer's contact is inbound", ("record the contact as inbound",)
            )
        if owner is not None:
            decision.reject(NotPermitted, "a customer cannot choose the case's owner")
    elif isinstance(actor, Agent):
        if owner is None:
            owner = actor
        elif owner.id != actor.id and not actor.supervises(owner):
            decision.reject(
                NotPermitted,
                "an agent who opens a case owns it; only a supervisor of the agent's team "
                f"or the system may open it for {owner}",
            )
    if owner is not None:
        _require_active(decision, owner, "the owner")
    return owner


def _assign(decision: _Decision, command: AssignCase, _stage: Stage) -> tuple[Event, ...]:
    case = decision.case
    actor = command.actor
    agent = command.to
    if case.owner is not None:
        decision.reject(
            OwnershipViolation,
            f"the case is owned by {case.owner}; it changes hands only by a transfer with a "
            "handoff note",
            ("transfer the case with a handoff note",),
        )
    taking = isinstance(actor, Agent) and actor.id == agent.id
    routing = isinstance(actor, System) or (isinstance(actor, Agent) and actor.supervises(agent))
    if not (taking or routing):
        decision.reject(
            NotPermitted,
            "an agent may take an unowned case for themselves; only a supervisor of the "
            "receiving agent's team or the system may assign it to someone else",
        )
    _require_active(decision, agent, "the owner")
    pending: list[Event] = [decision.event(OwnerAssigned, owner=agent, reason=command.reason)]
    if case.steward is None:
        pending.append(decision.event(StewardAppointed, steward=agent))
    return tuple(pending)


def _transfer(decision: _Decision, command: TransferCase, _stage: Stage) -> tuple[Event, ...]:
    owner = _require_steering(decision)
    receiver = command.to
    _require_active(decision, receiver, "the receiving owner")
    if receiver.id == owner.id:
        decision.reject(OwnershipViolation, f"{receiver} owns the case already")
    if not command.handoff_note.strip():
        decision.reject(
            OwnershipViolation,
            "a transfer needs a handoff note, so that the customer never has to repeat themselves",
        )
    return (
        decision.event(
            CaseTransferred,
            from_owner=owner,
            to_owner=receiver,
            handoff_note=command.handoff_note,
        ),
        decision.steward_follow_up(
            f"confirm the customer was served after the transfer to {receiver.id}",
            decision.case.workflow.follow_ups.after_transfer,
        ),
    )


def _reassign_steward(
    decision: _Decision, command: ReassignSteward, _stage: Stage
) -> tuple[Event, ...]:
    steward = decision.case.steward
    if steward is None:
        decision.reject(
            OwnershipViolation,
            "the case has no steward yet; its first owner becomes the steward",
            ("take the case, or assign it to an agent",),
        )
    actor = command.actor
    if not (isinstance(actor, System) or (isinstance(actor, Agent) and actor.supervises(steward))):
        decision.reject(
            NotPermitted,
            f"only a supervisor of the steward's team or the system may replace {steward}",
        )
    _require_active(decision, command.to, "the steward")
    if command.to.id == steward.id:
        decision.reject(OwnershipViolation, f"{steward} is the steward already")
    return (
        decision.event(
            StewardReassigned,
            from_steward=steward,
            to_steward=command.to,
            reason=command.reason,
        ),
    )


def _move(decision: _Decision, command: Move, stage: Stage) -> tuple[Event, ...]:
    case = decision.case
    workflow = case.workflow
    route = workflow.route(stage.name, command.trigger)
    if route is None:
        triggers = workflow.triggers(stage.name)
        if isinstance(command.actor, Customer):  # allowed instead: what the customer may do
            triggers = tuple(t for t in triggers if _by_customer(decision, t))
        decision.reject(
            InvalidTransition,
            f"no transition {command.trigger!r} leaves stage {stage.name!r}",
            triggers,
        )
    transition, dest = route.transition, route.dest
    actor = command.actor
    if isinstance(actor, Customer):
        if not transition.by_customer:
            decision.reject(
                NotPermitted,
                f"a customer may not fire {command.trigger!r}; only {_STEERS} may",
                [t for t in workflow.triggers(stage.name) if _by_customer(decision, t)],
            )
    else:
        _require_steering(decision)
    if case.owner is None and not dest.is_intake:
        decision.reject(
            OwnershipViolation,
            f"stage {dest.name!r} needs an owner; assign the case first",
            ("take the case, or assign it to an agent",),
        )
    for guard in transition.guards:
        reason = guard(case, command)
        if reason is not None:
            decision.reject(InvalidTransition, reason)  # the guard's own words, not its name
    waived: tuple[Event, ...] = ()
    if dest.final and (open_follow_ups := case.open_follow_ups):
        waived = _waive_follow_ups(decision, command, open_follow_ups)
    decision.version += 1
    # Built positionally, not through `decision.event`: this is the hot path of every move.
    moved = new_stage_changed(
        case.case_id,
        decision.version,
        decision.at,
        actor,
        command.trigger,
        stage.name,
        dest.name,
        command.reason,
    )
    if dest.follow_up is not None:
        days = _entry_days(dest, workflow)
        follow_up = decision.steward_follow_up(dest.follow_up, days)
        return (*waived, moved, follow_up, *_feedback_request(decision, route))
    asked = _feedback_request(decision, route)
    return (*waived, moved, *asked) if waived or asked else (moved,)


def _feedback_request(decision: _Decision, route: Route) -> tuple[Event, ...]:
    """The survey the follow-up rules ask for on each resolution, if they ask for one."""
    case = decision.case
    rules = case.workflow.follow_ups
    if rules.request_feedback is None or not route.resolves:
        return ()
    channel = rules.feedback_channel or Channel(case.record.channel or Channel.WEB.name)
    return (decision.event(FeedbackRequested, survey=rules.request_feedback, channel=channel),)


def _entry_days(stage: Stage, workflow: Workflow) -> int:
    """How many open days after entering `stage` its follow-up falls due."""
    rules = workflow.follow_ups
    return rules.after_loss if stage.category is StatusCategory.LOST else rules.after_resolution


def _reopen_finished(decision: _Decision, command: Move, stage: Stage) -> tuple[Event, ...]:
    """A finished case reopens within the follow-up rules' window, by its customer or owner.

    It goes back to its owner and steward; if either has left meanwhile, the
    desk lists the case among those needing reassignment.
    """
    case = decision.case
    rules = case.workflow.follow_ups
    if rules.reopen_stage is None or case.record.closed_at is None:
        decision.reject(InvalidTransition, "the case is finished", _ANYWHERE)
    if not isinstance(command.actor, Customer):
        _require_steering(decision)
    if case.owner is None and not case.workflow.stage(rules.reopen_stage).is_intake:
        decision.reject(
            OwnershipViolation,
            f"the case was finished without an owner, and stage {rules.reopen_stage!r} needs "
            "one; open a new case",
            ("open a new case",),
        )
    ends = rules.due(case.record.closed_at, rules.reopen_window)
    if decision.at > ends:
        decision.reject(
            InvalidTransition,
            f"the case closed {case.record.closed_at:%Y-%m-%d}; it could be reopened until "
            f"{ends:%Y-%m-%d %H:%M}Z; open a new case",
            ("open the case",),
        )
    return (
        decision.event(
            StageChanged,
            trigger=command.trigger,
            source=stage.name,
            dest=rules.reopen_stage,
            reason=command.reason,
        ),
    )


def _by_customer(decision: _Decision, trigger: str) -> bool:
    stage = decision.case.stage
    transition = None if stage is None else decision.case.workflow.transition(stage, trigger)
    return transition is not None and transition.by_customer


def _numbered(noun: str, numbers: Sequence[int]) -> str:
    """Numbers in a sentence with their verb: 'follow-up 1 is', 'follow-ups 1 and 2 are'."""
    if len(numbers) == 1:
        return f"{noun} {numbers[0]} is"
    listed = ", ".join(str(number) for number in numbers[:-1])
    return f"{noun}s {listed} and {numbers[-1]} are"


def _waive_follow_ups(
    decision: _Decision, command: Move, open_follow_ups: tuple[FollowUp, ...]
) -> tuple[Event, ...]:
    """A supervisor may finish a case with open follow-ups, giving a reason; nobody else may."""
    actor = command.actor
    owner = decision.case.owner
    numbers = _numbered("follow-up", [follow_up.follow_up_id for follow_up in open_follow_ups])
    supervisor = isinstance(actor, Agent) and owner is not None and actor.supervises(owner)
    if not supervisor or command.reason is None:
        decision.reject(
            OwnershipViolation,
            f"{numbers} still open; complete "
            f"{'it' if len(open_follow_ups) == 1 else 'them'} first, or a supervisor of the "
            "owner's team may close the case with a recorded reason",
            [f"complete follow-up {follow_up.follow_up_id}" for follow_up in open_follow_ups],
        )
    return tuple(
        decision.event(
            FollowUpCompleted,
            follow_up_id=follow_up.follow_up_id,
            outcome=FollowUpOutcome.CANCELLED,
            note=command.reason,
        )
        for follow_up in open_follow_ups
    )


def _interaction(
    decision: _Decision, command: RecordInteraction, _stage: Stage
) -> tuple[Event, ...]:
    if isinstance(command.actor, Customer) and command.direction is not Direction.INBOUND:
        decision.reject(
            NotPermitted, "a customer's contact is inbound", ("record the contact as inbound",)
        )
    return (
        decision.event(
            InteractionRecorded,
            channel=command.channel,
            direction=command.direction,
            summary=command.summary,
        ),
    )


def _offers_stage(decision: _Decision, stage: Stage) -> None:
    if not stage.offers:
        workflow = decision.case.workflow
        decision.reject(
            InvalidTransition,
            f"stage {stage.name!r} takes no offers",
            [f"offers in stage {s.name!r}" for s in workflow.stages if s.offers],
        )


def _make_offer(decision: _Decision, command: MakeOffer, stage: Stage) -> tuple[Event, ...]:
    _offers_stage(decision, stage)
    if isinstance(command.actor, System):
        decision.reject(NotPermitted, "a person makes offers; the system never bargains")
    if isinstance(command.actor, Customer):
        decision.reject(
            NotPermitted,
            "a customer answers offers; the case's owner records their counter-offers",
            ("accept or reject the company's offers",),
        )
    _require_steering(decision)
    return (
        decision.event(
            OfferMade,
            offer_id=len(decision.case.offers) + 1,
            party=command.party,
            amount=command.amount,
            currency=command.currency,
            terms=command.terms,
        ),
    )


def _open_offer(decision: _Decision, offer_id: int, stage: Stage) -> Offer:
    _offers_stage(decision, stage)
    case = decision.case
    open_offers = [f"offer {offer.offer_id}" for offer in case.open_offers]
    if not 1 <= offer_id <= len(case.offers):
        decision.reject(UnknownReference, f"the case has no offer {offer_id}", open_offers)
    offer = case.offers[offer_id - 1]
    if not offer.is_open:
        decision.reject(InvalidTransition, f"offer {offer_id} is {offer.status.value}", open_offers)
    return offer


def _check_answer(decision: _Decision, offer: Offer, via: Channel | None) -> None:
    """The company's offers are the customer's to answer; the customer's, the company's.

    An agent who may steer the case records a customer's answer given elsewhere,
    naming the channel; the system never answers for the customer.
    """
    actor = decision.actor
    offer_id = offer.offer_id
    if isinstance(actor, System):
        decision.reject(
            NotPermitted,
            f"offer {offer_id} is answered by a person: the customer, or the owner or a "
            "supervisor of their team; the system never answers for the customer or the company",
        )
    if offer.party is Party.CUSTOMER:
        if isinstance(actor, Customer):
            decision.reject(
                NotPermitted, f"offer {offer_id} is the customer's own; the company answers it"
            )
        if via is not None:
            decision.reject(
                NotPermitted,
                f"offer {offer_id} is the customer's own; the company answers it itself, "
                "with no channel to name",
            )
        _require_steering(decision)
        return
    if isinstance(actor, Customer):
        return
    if via is None:
        decision.reject(
            NotPermitted,
            f"offer {offer_id} is the customer's to answer; to record the answer they gave "
            "you, name the channel they gave it on (via=Channel.PHONE, say)",
        )
    _require_steering(decision)


def _accept(decision: _Decision, command: AcceptOffer, stage: Stage) -> tuple[Event, ...]:
    offer = _open_offer(decision, command.offer_id, stage)
    _check_answer(decision, offer, command.via)
    return (decision.event(OfferAccepted, offer_id=offer.offer_id, via=command.via),)


def _reject(decision: _Decision, command: RejectOffer, stage: Stage) -> tuple[Event, ...]:
    offer = _open_offer(decision, command.offer_id, stage)
    _check_answer(decision, offer, command.via)
    return (
        decision.event(
            OfferRejected, offer_id=offer.offer_id, reason=command.reason, via=command.via
        ),
    )


def _schedule(decision: _Decision, command: ScheduleFollowUp, _stage: Stage) -> tuple[Event, ...]:
    case = decision.case
    actor = command.actor
    is_steward = (
        isinstance(actor, Agent) and case.steward is not None and actor.id == case.steward.id
    )
    if not is_steward:
        _require_steering(decision)
    assignee = command.assignee if command.assignee is not None else case.steward
    if assignee is None:
        decision.reject(
            OwnershipViolation,
            "the case has no steward yet to follow up; name an assignee",
        )
    _require_active(decision, assignee, "given a follow-up")
    return (
        decision.event(
            FollowUpScheduled,
            follow_up_id=len(case.follow_ups) + 1,
            assignee=assignee,
            due=command.due,
            reason=command.reason,
        ),
    )


def _open_follow_up(decision: _Decision, follow_up_id: int) -> FollowUp:
    """The open follow-up with this number, or a refusal naming the open ones."""
    case = decision.case
    open_ids = [f"follow-up {f.follow_up_id}" for f in case.open_follow_ups]
    if not 1 <= follow_up_id <= len(case.follow_ups):
        decision.reject(UnknownReference, f"the case has no follow-up {follow_up_id}", open_ids)
    follow_up = case.follow_ups[follow_up_id - 1]
    if not follow_up.is_open:
        decision.reject(
            InvalidTransition,
            f"follow-up {follow_up.follow_up_id} is done already ({_words(follow_up.outcome)})",
            open_ids,
        )
    return follow_up


def _complete(decision: _Decision, command: CompleteFollowUp, stage: Stage) -> tuple[Event, ...]:
    follow_up = _open_follow_up(decision, command.follow_up_id)
    if command.outcome is FollowUpOutcome.CANCELLED:
        decision.reject(
            InvalidTransition,
            "a follow-up is cancelled only by a supervisor closing the case with a reason",
            [o.value for o in FollowUpOutcome if o is not FollowUpOutcome.CANCELLED],
        )
    actor = command.actor
    assignee = follow_up.assignee
    allowed = isinstance(actor, System) or (
        isinstance(actor, Agent) and (actor.id == assignee.id or actor.supervises(assignee))
    )
    if not allowed:
        decision.reject(
            NotPermitted,
            f"follow-up {follow_up.follow_up_id} is for {assignee}; only they, a supervisor "
            "of their team, or the system may complete it",
        )
    completed = decision.event(
        FollowUpCompleted,
        follow_up_id=follow_up.follow_up_id,
        outcome=command.outcome,
        note=command.note,
    )
    if command.outcome is FollowUpOutcome.NOT_SERVED:
        reason = f"follow-up {follow_up.follow_up_id}: the customer was not served"
        return (completed, *_follow_rule(decision, stage, "reopen", reason))
    if command.outcome is FollowUpOutcome.NO_ANSWER:
        return (completed, *_no_answer(decision, follow_up, stage))
    return (completed,)


def _hand_over(decision: _Decision, command: HandOverFollowUp, _stage: Stage) -> tuple[Event, ...]:
    """The assignee, the steward, a supervisor of the assignee's team or the system hands it on."""
    case = decision.case
    follow_up = _open_follow_up(decision, command.follow_up_id)
    actor = command.actor
    assignee = follow_up.assignee
    steward = case.steward
    allowed = isinstance(actor, System) or (
        isinstance(actor, Agent)
        and (
            actor.id == assignee.id
            or (steward is not None and actor.id == steward.id)
            or actor.supervises(assignee)
        )
    )
    if not allowed:
        decision.reject(
            NotPermitted,
            f"follow-up {follow_up.follow_up_id} is for {assignee}; only they, the case's "
            "steward, a supervisor of their team or the system may hand it over",
        )
    if command.to.id == assignee.id:
        decision.reject(
            InvalidTransition, f"follow-up {follow_up.follow_up_id} is for {assignee} already"
        )
    _require_active(decision, command.to, "given a follow-up")
    return (
        decision.event(
            FollowUpHandedOver,
            follow_up_id=follow_up.follow_up_id,
            from_assignee=assignee,
            to_assignee=command.to,
            reason=command.reason,
        ),
    )


def _no_answer(decision: _Decision, follow_up: FollowUp, stage: Stage) -> tuple[Event, ...]:
    """Try again later, up to the rules' attempts; then close the case saying why."""
    rules = decision.case.workflow.follow_ups
    if follow_up.attempt < rules.no_answer_attempts:
        retry = decision.event(
            FollowUpScheduled,
            follow_up_id=len(decision.case.follow_ups) + 1,
            assignee=follow_up.assignee,
            due=rules.due(decision.at, rules.retry_after),
            reason=follow_up.reason,
            attempt=follow_up.attempt + 1,
        )
        return (retry,)
    others = [f for f in decision.case.open_follow_ups if f.follow_up_id != follow_up.follow_up_id]
    if others:
        return ()
    reason = f"the customer did not answer {follow_up.attempt} follow-ups"
    return _follow_rule(decision, stage, "close", reason)


def _follow_rule(decision: _Decision, stage: Stage, rule: str, reason: str) -> tuple[Event, ...]:
    """Reopen or close the case as a follow-up's outcome asks, if the workflow allows it here.

    The move is the rules' reopen or close trigger from the current stage, with
    its guards; where there is none, the outcome is only recorded.
    """
    rules = decision.case.workflow.follow_ups
    trigger = rules.reopen_trigger if rule == "reopen" else rules.close_trigger
    route = decision.case.workflow.route(stage.name, trigger)
    if route is None or route.dest.final is (rule == "reopen"):
        return ()
    move = Move(actor=decision.command.actor, trigger=trigger, reason=reason)
    if any(guard(decision.case, move) is not None for guard in route.transition.guards):
        return ()
    moved = decision.event(
        StageChanged, trigger=trigger, source=stage.name, dest=route.dest.name, reason=reason
    )
    if route.dest.follow_up is not None:
        days = _entry_days(route.dest, decision.case.workflow)
        return (moved, decision.steward_follow_up(route.dest.follow_up, days))
    return (moved,)


def _feedback(decision: _Decision, command: RecordFeedback, _stage: Stage) -> tuple[Event, ...]:
    if isinstance(command.actor, System):
        decision.reject(NotPermitted, "feedback is the customer's; the system never records it")
    return (
        decision.event(
            FeedbackRecorded, survey=command.survey, score=command.score, comment=command.comment
        ),
    )


def _request_feedback(
    decision: _Decision, command: RequestFeedback, _stage: Stage
) -> tuple[Event, ...]:
    _require_steering(decision)  # a customer answers surveys; the company asks
    return (decision.event(FeedbackRequested, survey=command.survey, channel=command.channel),)


def _change_priority(
    decision: _Decision, command: ChangePriority, _stage: Stage
) -> tuple[Event, ...]:
    _require_steering(decision)
    if command.priority == decision.case.priority:
        decision.reject(InvalidTransition, f"the priority is {command.priority!r} already")
    return (decision.event(PriorityChanged, priority=command.priority, reason=command.reason),)


def _change_skills(decision: _Decision, command: ChangeSkills, _stage: Stage) -> tuple[Event, ...]:
    actor = command.actor
    if decision.case.owner is not None:
        _require_steering(decision)
    elif not (isinstance(actor, System) or (isinstance(actor, Agent) and actor.is_supervisor)):
        decision.reject(
            NotPermitted,
            "nobody owns the case yet: only a supervisor or the system may change its skills",
        )
    if command.skills == decision.case.skills:
        needs = f"exactly {listing(sorted(command.skills))}" if command.skills else "no skills"
        decision.reject(InvalidTransition, f"the case needs {needs} already")
    return (decision.event(SkillsChanged, skills=command.skills, reason=command.reason),)


def _return_to_queue(
    decision: _Decision, command: ReturnToQueue, stage: Stage
) -> tuple[Event, ...]:
    if not isinstance(command.actor, System):
        decision.reject(NotPermitted, "only the system returns a case to the queue")
    owner = decision.case.owner
    if owner is None:
        decision.reject(InvalidTransition, "nobody owns the case: it is waiting already")
    if not stage.is_intake:
        decision.reject(
            OwnershipViolation,
            f"past intake a case keeps an owner; {owner} must transfer it with a handoff note",
            ("transfer the case with a handoff note",),
        )
    return (
        decision.event(CaseReturnedToQueue, from_owner=owner, handoff_note=command.handoff_note),
    )


def _apply_sla_policy(
    decision: _Decision, command: ApplySlaPolicy, _stage: Stage
) -> tuple[Event, ...]:
    if not isinstance(command.actor, System):
        decision.reject(NotPermitted, "only the system records which SLA policy applies")
    if decision.case.record.sla_policy == (command.policy, command.version):
        decision.reject(
            InvalidTransition, f"policy {command.policy!r} v{command.version} applies already"
        )
    applied = decision.event(
        SlaPolicyApplied, policy=command.policy, policy_version=command.version
    )
    return (applied,)


def _pause_sla(decision: _Decision, command: PauseSla, _stage: Stage) -> tuple[Event, ...]:
    _require_steering(decision)
    if decision.case.record.sla_paused:
        decision.reject(
            InvalidTransition, "the SLA clocks are paused already", ("resume the SLA clocks",)
        )
    return (decision.event(SlaPaused, reason=command.reason),)


def _resume_sla(decision: _Decision, command: ResumeSla, _stage: Stage) -> tuple[Event, ...]:
    _require_steering(decision)
    if not decision.case.record.sla_paused:
        decision.reject(
            InvalidTransition, "the SLA clocks are not paused", ("pause the SLA clocks",)
        )
    return (decision.event(SlaResumed, reason=command.reason),)


def _fire_timers(decision: _Decision, command: FireTimers, stage: Stage) -> tuple[Event, ...]:
    if not isinstance(command.actor, System):
        decision.reject(NotPermitted, "only the system fires timers")
    breaching = {timer.clock for timer in command.timers if timer.kind is TimerKind.BREACH}
    events: list[Event] = []
    for timer in command.timers:
        if timer.kind is TimerKind.WARNING:
            if timer.clock in breaching:
                continue  # a late tick: the breach is told, saying the warning was skipped
            events.append(
                decision.event(
                    SlaWarned, clock=timer.clock, warning_at=timer.due, due=timer.deadline
                )
            )
        elif timer.kind is TimerKind.BREACH:
            skipped = any(
                other.kind is TimerKind.WARNING and other.clock == timer.clock
                for other in command.timers
            )
            events.append(
                decision.event(
                    SlaBreached, clock=timer.clock, due=timer.due, warning_skipped=skipped
                )
            )
        elif timer.kind is TimerKind.FOLLOW_UP:
            events.append(_announce(decision, timer))
        elif timer.kind is TimerKind.CLOSE:
            events += _system_close(decision, stage)
        else:
            assert timer.notify is not None  # noqa: S101 - a Timer checks it
            events.append(
                decision.event(
                    SlaEscalated, clock=timer.clock, level=timer.level, notify=timer.notify
                )
            )
    return tuple(events)


def _announce(decision: _Decision, timer: Timer) -> Event:
    """A follow-up fell due: over to its assignee."""
    assert timer.follow_up_id is not None  # noqa: S101 - a Timer checks it
    assert timer.notify is not None  # noqa: S101 - a Timer checks it
    waiting = [f.follow_up_id for f in decision.case.open_follow_ups if not f.notified]
    if timer.follow_up_id not in waiting:
        decision.reject(
            UnknownReference,
            f"follow-up {timer.follow_up_id} is not open and waiting to be announced",
            [f"follow-up {number}" for number in waiting],
        )
    return decision.event(FollowUpDue, follow_up_id=timer.follow_up_id, assignee=timer.notify)


def _system_close(decision: _Decision, stage: Stage) -> tuple[Event, ...]:
    """The system closes a served case, never past a follow-up that is still open."""
    still_open = decision.case.open_follow_ups
    if still_open:
        numbers = ", ".join(str(follow_up.follow_up_id) for follow_up in still_open)
        decision.reject(
            OwnershipViolation,
            f"the system does not close a case while a follow-up is open (follow-up {numbers}); "
            "complete it first, or a supervisor of the owner's team may close the case with a "
            "recorded reason",
            [f"complete follow-up {follow_up.follow_up_id}" for follow_up in still_open],
        )
    closing = _follow_rule(decision, stage, "close", "the customer confirmed they were served")
    if not closing:
        decision.reject(
            InvalidTransition,
            f"no {decision.case.workflow.follow_ups.close_trigger!r} leaves this stage",
        )
    return closing


_HANDLERS: dict[type[Any], Callable[[_Decision, Any, Stage], tuple[Event, ...]]] = {
    OpenCase: lambda decision, command, _stage: _open(decision, command),
    AssignCase: _assign,
    TransferCase: _transfer,
    ReassignSteward: _reassign_steward,
    Move: _move,
    RecordInteraction: _interaction,
    MakeOffer: _make_offer,
    AcceptOffer: _accept,
    RejectOffer: _reject,
    ScheduleFollowUp: _schedule,
    CompleteFollowUp: _complete,
    HandOverFollowUp: _hand_over,
    RecordFeedback: _feedback,
    RequestFeedback: _request_feedback,
    ChangePriority: _change_priority,
    PauseSla: _pause_sla,
    ResumeSla: _resume_sla,
    FireTimers: _fire_timers,
    ApplySlaPolicy: _apply_sla_policy,
    ChangeSkills: _change_skills,
    ReturnToQueue: _return_to_queue,
}


def _words(outcome: object) -> str:
    """A follow-up's outcome as a person says it: "not served", not `NOT_SERVED`."""
    value = getattr(outcome, "value", outcome)
    return str(value).replace("_", " ")
