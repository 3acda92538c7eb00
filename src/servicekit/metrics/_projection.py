"""KPIs from histories: one fold per case, and running sums per KPI and group (private).

Each case is folded into a small `_Track`. What it measures becomes an
observation counted in the report's cells; an observation that a later event of
the case may change (the latest resolution, a follow-up that is completed, a
request that is answered) is kept in one of the track's slots, so that it can
be taken back and counted again. The cost of an event therefore follows the
case it belongs to, never the number of events seen before it, and a report
from scratch is the same fold as the projection's.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from servicekit._values import require
from servicekit.calendar import BusinessCalendar
from servicekit.errors import InvalidValue, ServiceKitError
from servicekit.events import (
    CaseOpened,
    CaseTransferred,
    Event,
    FeedbackRecorded,
    FeedbackRequested,
    FollowUpCompleted,
    FollowUpDue,
    InteractionRecorded,
    OfferAccepted,
    OfferMade,
    OwnerAssigned,
    SlaBreached,
    StageChanged,
    StewardAppointed,
    StewardReassigned,
)
from servicekit.feedback import Survey
from servicekit.followups import FollowUpOutcome
from servicekit.interactions import Direction, Party
from servicekit.metrics._report import Cell, GroupKey, KpiReport, Observation, SkippedCase, add
from servicekit.ownership import Agent
from servicekit.serialization import event_from_dict, event_to_dict
from servicekit.sla import ClockState, PolicySet, SlaTracker
from servicekit.stores.base import StoredEvent
from servicekit.workflow import StatusCategory, Workflow

__all__ = ["Projection", "compute"]

_GROUPINGS = ("agent", "team", "channel", "workflow")
_PERIODS = (None, "day", "week", "month")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_STATE_FORMAT = 1
_ACTIVE = frozenset({StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.PENDING})
_DONE = frozenset({StatusCategory.RESOLVED, StatusCategory.CLOSED})

_COUNTED = frozenset({ClockState.MET, ClockState.BREACHED})

Context = tuple[int, str | None, tuple[str, ...]]
"""Where a measured event happened: its time (microseconds since the epoch), owner and teams."""


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _US


def _moment(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class _Track:
    """What the KPIs need to remember of one case (mutable: the projection updates it)."""

    __slots__ = (
        "channel",
        "clocks",
        "contacts",
        "decided",
        "first_resolution",
        "follow_ups",
        "history",
        "inbound_after",
        "offers",
        "opened",
        "outbound",
        "owner",
        "owners",
        "requests",
        "resolution",
        "since",
        "sla_used",
        "slots",
        "stage",
        "steward",
        "teams",
        "tracker",
        "transfers",
        "version",
        "workflow",
    )

    def __init__(self, event: CaseOpened, *, keep_history: bool) -> None:
        self.workflow = event.workflow
        self.channel = event.channel.name
        self.version = event.version
        self.opened = _us(event.at) if event.initiated_by is Party.CUSTOMER else -_us(event.at) - 1
        self.stage = event.stage
        self.since = _us(event.at)
        self.owner: str | None = None
        self.teams: tuple[str, ...] = ()
        self.steward: str | None = None
        self.contacts = 0
        self.outbound = 0
        self.inbound_after = 0
        self.transfers = 0
        self.first_resolution: Context | None = None
        self.resolution: Context | None = None
        self.decided = False
        self.offers: dict[int, tuple[str, str]] = {}
        self.follow_ups: dict[int, Context] = {}
        self.requests: dict[str, int] = {}
        self.slots: dict[str, Observation] = {}
        self.history: list[Event] | None = [] if keep_history else None
        self.owners: list[Context] = []
        self.clocks: dict[str, str] = {}
        self.tracker: SlaTracker | None = None
        self.sla_used: list[tuple[str, int]] = []

    @property
    def opened_at(self) -> int:
        """When the case was opened (microseconds since the epoch)."""
        return self.opened if self.opened >= 0 else -self.opened - 1

    @property
    def customer_started(self) -> bool:
        """Whether the customer started the case (the sign of `opened` keeps it)."""
        return self.opened >= 0

    def dump(self) -> dict[str, Any]:
        """The track as JSON-safe values."""
        data = {name: getattr(self, name) for name in self.__slots__ if name != "tracker"}
        data["slots"] = {slot: _dump_observation(obs) for slot, obs in self.slots.items()}
        data["offers"] = {str(number): list(offer) for number, offer in self.offers.items()}
        data["follow_ups"] = {str(number): ctx for number, ctx in self.follow_ups.items()}
        if self.history is not None:
            data["history"] = [event_to_dict(event) for event in self.history]
        return data

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> _Track:
        """The track `dump` wrote."""
        track = cls.__new__(cls)
        for name in cls.__slots__:
            if name != "tracker":
                setattr(track, name, data[name])
        track.tracker = None  # rebuilt from the history by the projection
        track.sla_used = [(holder, used) for holder, used in data["sla_used"]]
        track.teams = tuple(data["teams"])
        track.first_resolution = _context(data["first_resolution"])
        track.resolution = _context(data["resolution"])
        track.owners = [_context(ctx) for ctx in data["owners"]]  # type: ignore[misc]
        track.slots = {slot: _load_observation(obs) for slot, obs in data["slots"].items()}
        track.offers = {int(number): (c, a) for number, (c, a) in data["offers"].items()}
        track.follow_ups = {int(n): _context(ctx) for n, ctx in data["follow_ups"].items()}  # type: ignore[misc]
        if data["history"] is not None:
            track.history = [event_from_dict(event) for event in data["history"]]
        return track


def _context(data: Any) -> Context | None:
    return None if data is None else (data[0], data[1], tuple(data[2]))


def _dump_observation(obs: Observation) -> list[Any]:
    kpi, keys, kind, first, second = obs
    return [kpi, [list(key) for key in keys], kind, first, None if second is None else str(second)]


def _load_observation(data: list[Any]) -> Observation:
    kpi, keys, kind, first, second = data
    if kind == "money":
        second = Decimal(second)
    elif second is not None:
        second = int(second)
    return (kpi, tuple(tuple(key) for key in keys), kind, first, second)


def _workflows(value: object) -> dict[str, Workflow]:
    items = list(value.values()) if isinstance(value, Mapping) else value
    if isinstance(items, Workflow) or not isinstance(items, Iterable):
        msg = f"workflows is an iterable of Workflow values (or desk.workflows), got {value!r}"
        raise InvalidValue(msg)
    workflows = list(items)
    if not workflows or not all(isinstance(workflow, Workflow) for workflow in workflows):
        msg = f"workflows holds one or more Workflow values, got {workflows!r}"
        raise InvalidValue(msg)
    return {workflow.name: workflow for workflow in workflows}


def _zone(value: object) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    if not isinstance(value, str):
        msg = f"zone is an IANA time zone name such as 'Europe/Berlin', got {value!r}"
        raise InvalidValue(msg)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"zone {value!r} is not an IANA time zone name such as 'Europe/Berlin'"
        raise InvalidValue(msg) from None


def _by(value: object) -> tuple[str, ...]:
    by = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, Iterable) else ()
    if (
        not isinstance(value, Iterable)
        or len(set(by)) != len(by)
        or not all(name in _GROUPINGS for name in by)
    ):
        msg = f"by is a tuple of distinct groupings among {', '.join(_GROUPINGS)}; got {value!r}"
        raise InvalidValue(msg)
    return by


class Projection:
    """KPIs kept up to date event by event; its `report()` equals `compute` on the same events.

    Feed it stored events with `apply` (a batch) or `handle` (one, as the outbox's
    handler). It remembers the last store position it applied and ignores events
    at or before it, so a redelivered event is not counted twice; it is its own
    checkpoint store, so ``deliver(store, "kpis", projection.handle,
    checkpoints=projection)`` resumes where its saved `state()` left off.

    Args:
        workflows: the workflows the cases were opened on (or `desk.workflows`).
        sla: the SLA policies, for `sla_attainment:<metric>`; None leaves it out.
        calendar: the business calendar durations are measured on; without one,
            business time is wall-clock time.
        zone: the time zone periods are counted in.
        by: groupings among ``"agent"``, ``"team"``, ``"channel"``, ``"workflow"``.
        period: ``None``, ``"day"``, ``"week"`` (from Monday) or ``"month"``.

    The projection is mutable on purpose (it is a running total); one per consumer.
    """

    def __init__(  # noqa: PLR0913 - the options are keyword-only
        self,
        *,
        workflows: Iterable[Workflow] | Mapping[str, Workflow],
        sla: PolicySet | None = None,
        calendar: BusinessCalendar | None = None,
        zone: str = "UTC",
        by: tuple[str, ...] = (),
        period: str | None = None,
    ) -> None:
        """Check the options; the projection starts having seen nothing."""
        self._workflows = _workflows(workflows)
        require(sla, (PolicySet, type(None)), "sla is the desk's PolicySet or None")
        require(calendar, (BusinessCalendar, type(None)), "calendar is a BusinessCalendar or None")
        if period not in _PERIODS:
            msg = f"period is None, 'day', 'week' or 'month', got {period!r}"
            raise InvalidValue(msg)
        self._sla = sla
        self._calendar = calendar
        self._zone = _zone(zone)
        self._zone_name = zone if isinstance(zone, str) else str(zone)
        self._by = _by(by)
        self._period = period
        self._position = 0
        self._tracks: dict[str, _Track] = {}
        self._skipped: dict[str, str] = {}
        self._cells: dict[tuple[str, GroupKey], Cell] = {}
        self._stewarded: dict[str, int] = {}
        self._sla_time: dict[str, int] = {}
        self._days: dict[int, str | None] = {}

    # -- feeding ------------------------------------------------------------------------------

    @property
    def position(self) -> int:
        """The store position of the last stored event applied (0: none yet)."""
        return self._position

    def apply(self, events: Iterable[StoredEvent | Event]) -> int:
        """Apply stored events (or plain events) in order; return how many were new.

        A stored event at or before `position` was applied already and is ignored,
        as is an event of a case at a version the case has reached. A case whose
        history cannot be read (it does not start with `CaseOpened`, it names an
        unknown workflow, it has a gap) is listed in the report's `skipped` and its
        later events are ignored; the other cases go on.
        """
        applied = 0
        for item in events:
            if type(item) is StoredEvent:
                if item.position <= self._position:
                    continue
                self._position = item.position
                event = item.event
            else:
                event = item  # type: ignore[assignment]
            applied += self._event(event)
        return applied

    def handle(self, stored: StoredEvent) -> None:
        """Apply one stored event: the handler to give the outbox's `deliver`."""
        self.apply((stored,))

    def checkpoint(self, name: str) -> int:  # noqa: ARG002 - one projection, one consumer
        """Where `deliver` resumes: the projection's own `position` (a `CheckpointStore`)."""
        return self._position

    def save_checkpoint(self, name: str, position: int) -> None:
        """Nothing to do: the position moves with each applied event and is saved in `state()`."""

    def report(self) -> KpiReport:
        """Every KPI figure over the events applied so far."""
        return KpiReport.build(
            self._cells,
            by=self._by,
            period=self._period,
            stewarded=self._stewarded,
            sla_time={holder or None: us for holder, us in self._sla_time.items()},
            skipped=[SkippedCase(case_id, why) for case_id, why in self._skipped.items()],
        )

    # -- saving -------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything the projection knows, as JSON-safe values, to save beside its position."""
        return {
            "format": _STATE_FORMAT,
            "position": self._position,
            "by": list(self._by),
            "period": self._period,
            "zone": self._zone_name,
            "sla": self._sla is not None,
            "cases": {case_id: track.dump() for case_id, track in self._tracks.items()},
            "skipped": dict(self._skipped),
            "cells": [[kpi, list(key), cell.dump()] for (kpi, key), cell in self._cells.items()],
            "stewarded": dict(self._stewarded),
            "sla_time": dict(self._sla_time),
        }

    @classmethod
    def restore(
        cls,
        state: Mapping[str, Any],
        *,
        workflows: Iterable[Workflow] | Mapping[str, Workflow],
        sla: PolicySet | None = None,
        calendar: BusinessCalendar | None = None,
    ) -> Projection:
        """The projection whose `state()` this is; pass the same workflows, SLA and calendar.

        Raises:
            InvalidValue: the state is not one `state()` wrote, or it was kept with
                SLA policies and none are given now (or the other way round).
        """
        if not isinstance(state, Mapping) or state.get("format") != _STATE_FORMAT:
            msg = f"not a saved projection state (format {_STATE_FORMAT}): {str(state)[:80]!r}"
            raise InvalidValue(msg)
        if state["sla"] != (sla is not None):
            msg = "the state was kept with SLA policies" if state["sla"] else "the state has no SLA"
            msg += f"; restore it with sla={'a PolicySet' if state['sla'] else 'None'}"
            raise InvalidValue(msg)
        projection = cls(
            workflows=workflows,
            sla=sla,
            calendar=calendar,
            zone=state["zone"],
            by=tuple(state["by"]),
            period=state["period"],
        )
        projection._position = state["position"]
        projection._tracks = {
            case_id: _Track.load(data) for case_id, data in state["cases"].items()
        }
        projection._skipped = dict(state["skipped"])
        projection._cells = {
            (kpi, tuple(key)): Cell.load(cell) for kpi, key, cell in state["cells"]
        }
        projection._stewarded = dict(state["stewarded"])
        projection._sla_time = dict(state["sla_time"])
        for track in projection._tracks.values():
            if track.history is not None:
                track.tracker = projection._tracker(track, track.history)
        return projection

    # -- folding ------------------------------------------------------------------------------

    def _event(self, event: Event) -> int:
        case_id = event.case_id
        if case_id in self._skipped:
            return 0
        track = self._tracks.get(case_id)
        if track is None:
            return self._open(event)
        if event.version <= track.version:
            return 0  # seen already: delivered again after a restart
        if event.version != track.version + 1:
            self._skip(case_id, f"event {event.version} follows event {track.version} (a gap)")
            return 0
        track.version = event.version
        try:
            self._fold(track, event)
        except ServiceKitError as problem:
            self._skip(case_id, f"event {event.version}: {problem}")
            return 0
        return 1

    def _open(self, event: Event) -> int:
        if not isinstance(event, CaseOpened):
            why = (
                f"its history starts with {type(event).__name__} (v{event.version}), not CaseOpened"
            )
            self._skip(event.case_id, why)
            return 0
        if event.workflow not in self._workflows:
            known = ", ".join(sorted(self._workflows))
            self._skip(
                event.case_id, f"it was opened on workflow {event.workflow!r}; known: {known}"
            )
            return 0
        track = _Track(event, keep_history=self._sla is not None)
        self._tracks[event.case_id] = track
        if self._sla is not None:
            track.tracker = self._tracker(track, (event,))
        self._put(track, "transfers", "transfers_per_case", self._context(track, event), "mean", 0)
        if track.history is not None:
            track.history.append(event)
        return 1

    def _skip(self, case_id: str, why: str) -> None:
        self._skipped[case_id] = why
        track = self._tracks.pop(case_id, None)
        if track is not None:
            for observation in track.slots.values():
                add(self._cells, observation, -1)
            if track.steward is not None:
                self._steward(track, None)
            for holder, used in track.sla_used:
                left = self._sla_time[holder] - used
                if left:
                    self._sla_time[holder] = left
                else:
                    del self._sla_time[holder]

    def _fold(self, track: _Track, event: Event) -> None:
        if track.history is not None:
            track.history.append(event)
        kind = type(event)
        measure = _MEASURES.get(kind)
        if measure is not None:
            measure(self, track, event)
        if self._sla is not None:
            self._track_sla(track, event)

    # -- what each event measures -----------------------------------------------------------

    def _interaction(self, track: _Track, event: InteractionRecorded) -> None:
        track.contacts += 1
        if event.direction is Direction.INBOUND:
            if track.contacts > 1:
                track.inbound_after += 1
            return
        if type(event.actor) is not Agent:
            return
        track.outbound += 1
        if track.outbound == 1 and track.customer_started:
            ctx = self._context(track, event)
            self._emit("first_response_time", track, ctx, self._duration(track.opened_at, ctx[0]))

    def _stage(self, track: _Track, event: StageChanged) -> None:
        workflow = self._workflows[track.workflow]
        source = workflow.stage(event.source).category
        dest = workflow.stage(event.dest).category
        ctx = self._context(track, event)
        at = ctx[0]
        self._emit(f"time_in_stage:{event.source}", track, ctx, self._duration(track.since, at))
        track.stage, track.since = event.dest, at
        if dest is StatusCategory.RESOLVED and source is not StatusCategory.RESOLVED:
            self._resolved(track, ctx)
        elif source in _DONE and dest in _ACTIVE and track.first_resolution is not None:
            self._reopened(track)
        elif dest in (StatusCategory.WON, StatusCategory.LOST) and not track.decided:
            track.decided = True
            won = dest is StatusCategory.WON
            self._emit("conversion", track, ctx, ("rate", int(won), None))
            if won and 0 in track.offers:
                currency, amount = track.offers[0]
                self._emit("won_value", track, ctx, ("money", currency, Decimal(amount)))

    def _resolved(self, track: _Track, ctx: Context) -> None:
        duration = self._duration(track.opened_at, ctx[0])
        reopened = "reopen" in track.slots and track.slots["reopen"][3] == 1
        if track.first_resolution is None:
            track.first_resolution = ctx
            self._emit("first_resolution_time", track, ctx, duration)
            self._put(track, "reopen", "reopen_rate", ctx, "rate", 0)
        track.resolution = ctx
        self._put(track, "full", "full_resolution_time", ctx, *duration)
        self._put(track, "one_touch", "one_touch_resolution", ctx, "rate", int(track.outbound < 2))  # noqa: PLR2004 - fewer than two touches
        first_contact = not (track.transfers or track.inbound_after or reopened)
        self._put(
            track, "first_contact", "first_contact_resolution", ctx, "rate", int(first_contact)
        )

    def _reopened(self, track: _Track) -> None:
        if track.slots["reopen"][3] == 1:
            return
        self._flip(track, "reopen", 1)
        self._flip(track, "first_contact", 0)

    def _assigned(self, track: _Track, event: OwnerAssigned) -> None:
        first = track.owner is None
        self._owner(track, event, event.owner)
        if first:  # transfers count for the case's first owner, in the period it opened
            ctx = (track.opened_at, track.owner, track.teams)
            self._put(track, "transfers", "transfers_per_case", ctx, "mean", track.transfers)

    def _transferred(self, track: _Track, event: CaseTransferred) -> None:
        self._owner(track, event, event.to_owner)
        track.transfers += 1
        self._put(track, "transfers", "transfers_per_case", None, "mean", track.transfers)

    def _appointed(self, track: _Track, event: StewardAppointed) -> None:
        self._steward(track, event.steward.id)

    def _reassigned(self, track: _Track, event: StewardReassigned) -> None:
        self._steward(track, event.to_steward.id)

    def _offer_made(self, track: _Track, event: OfferMade) -> None:
        track.offers[event.offer_id] = (event.currency, str(event.amount))

    def _offer_accepted(self, track: _Track, event: OfferAccepted) -> None:
        track.offers[0] = track.offers[event.offer_id]  # 0: the accepted offer

    def _follow_up_due(self, track: _Track, event: FollowUpDue) -> None:
        ctx = self._context(track, event)
        track.follow_ups[event.follow_up_id] = ctx
        slot = f"follow_up:{event.follow_up_id}"
        self._put(track, slot, "follow_up_completion", ctx, "rate", 0)

    def _follow_up_completed(self, track: _Track, event: FollowUpCompleted) -> None:
        if event.outcome is FollowUpOutcome.CANCELLED:
            return
        slot = f"follow_up:{event.follow_up_id}"
        if slot in track.slots:
            self._flip(track, slot, 1)
        else:  # completed before it fell due: it counts as due, and done, now
            self._put(track, slot, "follow_up_completion", self._context(track, event), "rate", 1)

    def _requested(self, track: _Track, event: FeedbackRequested) -> None:
        number = sum(1 for slot in track.slots if slot.startswith("request:")) + 1
        slot = f"request:{number}"
        self._put(track, slot, "feedback_response_rate", self._context(track, event), "rate", 0)
        track.requests[event.survey.value] = number

    def _feedback(self, track: _Track, event: FeedbackRecorded) -> None:
        ctx = self._context(track, event)
        score = event.score
        if event.survey is Survey.CSAT:
            self._emit("csat", track, ctx, ("rate", int(score >= 4), None))  # noqa: PLR2004 - satisfied: 4 or 5
        elif event.survey is Survey.NPS:
            self._emit("nps", track, ctx, ("nps", score, None))
        else:
            self._emit("ces", track, ctx, ("mean", score, None))
        number = track.requests.pop(event.survey.value, None)
        if number is not None:
            self._flip(track, f"request:{number}", 1)

    def _track_sla(self, track: _Track, event: Event) -> None:
        """Fold the event into the case's SLA tracker; count the targets it finished."""
        assert self._sla is not None  # noqa: S101 - only called with policies
        before = track.tracker
        if before is None:
            before = self._tracker(track, track.history[:-1] if track.history else ())
        track.tracker = after = before.apply((event,))
        kind = type(event)
        if not (
            kind is StageChanged
            or kind is SlaBreached
            or (kind is InteractionRecorded and event.direction is Direction.OUTBOUND)  # type: ignore[union-attr]
        ):  # only these may finish a clock, or record its breach
            return
        for clock in after.report(event.at).clocks:
            if clock.key in track.clocks or clock.state not in _COUNTED:
                continue  # a target counts once, when it first finished or ran out
            track.clocks[clock.key] = clock.state.value
            kpi = f"sla_attainment:{clock.metric.value}"
            if clock.state is ClockState.MET:
                ctx = self._context(track, event)
                self._put(track, f"sla:{clock.key}", kpi, ctx, "rate", 1)
            else:  # breached: it counts when, and for whom, the budget ran out
                due = clock.due or _due_of(before, clock.key, track) or event.at
                self._put(
                    track, f"sla:{clock.key}", kpi, self._owner_at(track, _us(due)), "rate", 0
                )
            for holder, used in clock.used_by().items():
                share = (holder or "", used // _US)
                track.sla_used.append(share)
                self._sla_time[share[0]] = self._sla_time.get(share[0], 0) + share[1]

    def _tracker(self, track: _Track, history: Iterable[Event]) -> SlaTracker:
        assert self._sla is not None  # noqa: S101 - only called with policies
        workflow = self._workflows[track.workflow]
        return SlaTracker.start(self._sla, workflow=workflow).apply(history)

    # -- helpers ------------------------------------------------------------------------------

    def _owner(self, track: _Track, event: Event, owner: Agent) -> None:
        track.owner = owner.id
        track.teams = tuple(sorted(owner.teams))
        if track.history is not None:
            track.owners.append((_us(event.at), track.owner, track.teams))

    def _owner_at(self, track: _Track, at: int) -> Context:
        owner: str | None = None
        teams: tuple[str, ...] = ()
        for since, who, their_teams in track.owners:
            if since > at:
                break
            owner, teams = who, their_teams
        return at, owner, teams

    def _steward(self, track: _Track, steward: str | None) -> None:
        if track.steward is not None:
            left = self._stewarded[track.steward] - 1
            if left:
                self._stewarded[track.steward] = left
            else:
                del self._stewarded[track.steward]
        track.steward = steward
        if steward is not None:
            self._stewarded[steward] = self._stewarded.get(steward, 0) + 1

    def _context(self, track: _Track, event: Event) -> Context:
        return _us(event.at), track.owner, track.teams

    def _duration(self, start: int, end: int) -> tuple[str, int, int]:
        wall = end - start
        if self._calendar is None:
            return "duration", wall, wall
        business = self._calendar.elapsed(_moment(start), _moment(end)) // _US
        return "duration", business, wall

    def _keys(self, track: _Track, ctx: Context) -> tuple[GroupKey, ...]:
        at, owner, teams = ctx
        period = self._period_of(at)
        if not self._by:
            return ((period,),)
        parts: list[tuple[str | None, ...]] = []
        for name in self._by:
            if name == "agent":
                parts.append((owner,))
            elif name == "team":
                parts.append(teams or (None,))
            elif name == "channel":
                parts.append((track.channel,))
            else:
                parts.append((track.workflow,))
        return tuple((*combination, period) for combination in itertools.product(*parts))

    def _period_of(self, at: int) -> str | None:
        if self._period is None:
            return None
        quarter = at // 900_000_000  # every zone's offset is a whole number of quarter hours
        if (found := self._days.get(quarter, "")) != "":
            return found
        local = _moment(at).astimezone(self._zone).date()
        if self._period == "week":
            local -= timedelta(days=local.weekday())
        elif self._period == "month":
            local = date(local.year, local.month, 1)
        self._days[quarter] = found = local.isoformat()
        return found

    def _emit(self, kpi: str, track: _Track, ctx: Context, measure: tuple[str, Any, Any]) -> None:
        """Count an observation no later event can change."""
        add(self._cells, (kpi, self._keys(track, ctx), *measure), 1)

    def _put(  # noqa: PLR0913, PLR0917 - the observation's parts, in order
        self,
        track: _Track,
        slot: str,
        kpi: str,
        ctx: Context | None,
        kind: str,
        first: Any,
        second: Any = None,
    ) -> None:
        """Count an observation in a slot, taking back the one it replaces.

        With no context, the slot keeps the groups of the observation it replaces.
        """
        old = track.slots.get(slot)
        if old is not None:
            add(self._cells, old, -1)
        keys = (
            old[1] if ctx is None and old is not None else self._keys(track, ctx or (0, None, ()))
        )
        new: Observation = (kpi, keys, kind, first, second)
        track.slots[slot] = new
        add(self._cells, new, 1)

    def _flip(self, track: _Track, slot: str, hit: int) -> None:
        old = track.slots[slot]
        self._put(track, slot, old[0], None, "rate", hit)


_MEASURES: dict[type[Any], Callable[[Projection, _Track, Any], None]] = {
    InteractionRecorded: Projection._interaction,  # noqa: SLF001 - the class's own table
    StageChanged: Projection._stage,  # noqa: SLF001
    OwnerAssigned: Projection._assigned,  # noqa: SLF001
    CaseTransferred: Projection._transferred,  # noqa: SLF001
    StewardAppointed: Projection._appointed,  # noqa: SLF001
    StewardReassigned: Projection._reassigned,  # noqa: SLF001
    OfferMade: Projection._offer_made,  # noqa: SLF001
    OfferAccepted: Projection._offer_accepted,  # noqa: SLF001
    FollowUpDue: Projection._follow_up_due,  # noqa: SLF001
    FollowUpCompleted: Projection._follow_up_completed,  # noqa: SLF001
    FeedbackRequested: Projection._requested,  # noqa: SLF001
    FeedbackRecorded: Projection._feedback,  # noqa: SLF001
}
"""What each kind of event measures; kinds not listed measure nothing."""


def _due_of(tracker: SlaTracker, key: str, track: _Track) -> datetime | None:
    """When clock `key` was due before the event that finished it late."""
    assert track.history is not None  # noqa: S101 - kept whenever there are policies
    if len(track.history) < 2:  # noqa: PLR2004 - the event, and one before it
        return None
    report = tracker.report(track.history[-2].at)
    return next((clock.due for clock in report.clocks if clock.key == key), None)


def compute(  # noqa: PLR0913 - the options are keyword-only
    events: Iterable[StoredEvent | Event],
    *,
    workflows: Iterable[Workflow] | Mapping[str, Workflow],
    sla: PolicySet | None = None,
    calendar: BusinessCalendar | None = None,
    zone: str = "UTC",
    by: tuple[str, ...] = (),
    period: str | None = None,
) -> KpiReport:
    """Every KPI over `events` (for example ``store.read_all()``), from scratch.

    The options are `Projection`'s; the report is the one a projection fed the
    same events gives.
    """
    projection = Projection(
        workflows=workflows, sla=sla, calendar=calendar, zone=zone, by=by, period=period
    )
    projection.apply(events)
    return projection.report()
