"""What the desk hands back: the outcome of a command, a briefing, a tick's report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import attrs

from servicekit._values import filler
from servicekit.case import Case, Feedback, Handoff
from servicekit.events import Event
from servicekit.followups import FollowUp
from servicekit.interactions import Interaction
from servicekit.offers import Offer
from servicekit.ownership import Agent
from servicekit.stores.base import CaseSummary

__all__ = ["Briefing", "CaseProblem", "Outcome", "TickReport", "TimelineEntry"]


@attrs.frozen
class Outcome:
    """What a command did: the case after it and the events it appended.

    `duplicate` is true when the command was a retry under an idempotency key
    already used: then nothing was appended, and `case` and `events` are those of
    the first time.
    """

    case: Case
    events: tuple[Event, ...]
    duplicate: bool = False

    @property
    def case_id(self) -> str:
        """The id of the case the command acted on."""
        return self.case.case_id


def new_outcome(case: Case, events: tuple[Event, ...]) -> Outcome:
    """The `Outcome` of an append (not a duplicate), built by plain slot stores.

    Every command makes one (see `servicekit._values.filler`); `Outcome` has no
    validators or converters to skip
    (`test_an_outcome_built_fast_equals_one_built_by_attrs`).
    """
    outcome = _OutcomeFiller()
    outcome.case = case
    outcome.events = events
    outcome.duplicate = False
    outcome.__class__ = Outcome
    built: Outcome = outcome
    return built


_OutcomeFiller = filler(Outcome)


@attrs.frozen
class CaseProblem:
    """A case the desk could not serve in a loop over many cases, and why.

    A tick, a briefing or a check that meets such a case reports it here and goes on
    with the others.
    """

    case_id: str
    reason: str

    def __str__(self) -> str:
        """The problem as a sentence, naming the case once (the reason may name it already)."""
        named = repr(self.case_id)
        if named in self.reason:
            return self.reason
        return f"case {named}: {self.reason}"


@attrs.frozen
class TickReport:
    """What one `ServiceDesk.tick` did: the commands it appended and the cases it set aside.

    `fired` holds one `Outcome` per append, in the order they happened; `failed`
    names every due case whose timers could not fire, with the reason. A case in
    `failed` is visited again by the next tick; every other due case fired.
    """

    fired: tuple[Outcome, ...] = ()
    failed: tuple[CaseProblem, ...] = ()

    @property
    def events(self) -> tuple[Event, ...]:
        """Every event the tick appended, in order."""
        return tuple(event for outcome in self.fired for event in outcome.events)

    def __iter__(self) -> Iterator[Outcome]:
        """The outcomes of the appends, in order (as `fired`)."""
        return iter(self.fired)

    def __len__(self) -> int:
        """How many appends the tick made."""
        return len(self.fired)

    def __bool__(self) -> bool:
        """Whether the tick did or met anything (fired a timer or set a case aside)."""
        return bool(self.fired or self.failed)


@attrs.frozen
class Briefing:
    """Everything an agent needs to take over a case without the customer repeating themselves.

    `interactions` covers every case of the customer, on every channel and in both
    directions, oldest first, each with the id of its case. `other_cases` are the
    customer's other cases, earlier or later, in every workflow. `problems` names
    any other case of the customer the desk could not read (a workflow it does not
    serve, say): the briefing is complete for every other case.
    """

    case: Case
    other_cases: tuple[CaseSummary, ...]
    interactions: tuple[tuple[str, Interaction], ...]
    handoffs: tuple[Handoff, ...]
    accepted_offer: Offer | None
    open_offers: tuple[Offer, ...]
    open_follow_ups: tuple[FollowUp, ...]
    feedback: tuple[Feedback, ...]
    problems: tuple[CaseProblem, ...] = ()

    def __str__(self) -> str:
        """The briefing as text, ready to show an agent."""
        case = self.case
        heading = (
            f"Case {case.case_id} for customer {case.customer_id}: {case.stage} "
            f"(owner {_name(case.owner)}, steward {_name(case.steward)})"
        )
        lines = [heading]
        if self.other_cases:
            lines.append("Other cases of this customer:")
            lines += [
                f"  {s.case_id} ({s.workflow}): {s.stage}, owner {s.owner_id or 'nobody yet'}"
                for s in self.other_cases
            ]
        lines.append("Every contact with the customer, on every channel:")
        lines += [
            f"  {i.at:%Y-%m-%d %H:%M}Z [{case_id}] {i.direction.value} {i.channel}, "
            f"recorded by {i.actor}: {i.summary}"
            for case_id, i in self.interactions
        ]
        if self.handoffs:
            lines.append("Handoff notes:")
            lines += [
                f"  {h.at:%Y-%m-%d %H:%M}Z {h.from_owner.id} -> {h.to_owner.id}: {h.note}"
                for h in self.handoffs
            ]
        if self.accepted_offer is not None:
            lines.append(f"The deal: {self.accepted_offer}")
        if self.open_offers:
            lines.append("Open offers:")
            lines += [f"  {offer}" for offer in self.open_offers]
        if self.open_follow_ups:
            lines.append("Open follow-ups:")
            lines += [
                f"  {f.follow_up_id}. {f.reason} ({f.assignee.id}, due {f.due:%Y-%m-%d %H:%M}Z)"
                for f in self.open_follow_ups
            ]
        if self.feedback:
            lines.append("Feedback:")
            lines += [
                f"  {f.survey.name} {f.score}/{f.survey.scale[1]} {f.comment}".rstrip()
                for f in self.feedback
            ]
        if self.problems:
            lines.append("Not shown:")
            lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


def _name(agent: Agent | None) -> str:
    return "nobody yet" if agent is None else agent.id


@attrs.frozen
class TimelineEntry:
    """One entry of a customer's timeline: when, on which case and workflow, and what happened.

    `event` is the fact itself (an `InteractionRecorded`, an `OfferMade`, a
    `CaseTransferred`, a `FeedbackRecorded`, ...); `channel` is the contact's
    channel where it has one.
    """

    at: datetime
    case_id: str
    workflow: str
    channel: str | None
    event: Event

    def __str__(self) -> str:
        """The entry as a line: when, which case, what."""
        on = f" on {self.channel}" if self.channel else ""
        return f"{self.at:%Y-%m-%d %H:%M}Z {self.case_id}{on}: {self.event.describe()}"
