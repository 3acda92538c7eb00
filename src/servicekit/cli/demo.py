"""The demo's simulated service: sales and support on a manual clock, into a store.

`simulate` runs a small company for a number of business days: customers write
on several channels; sales agents bargain, win and lose; service agents take
support requests, wait on customers, transfer cases with a handoff note,
resolve them; customers reopen some and give feedback; stewards complete their
follow-ups; a ticker every half hour fires SLA warnings, breaches and
escalations. Everything happens through a `ServiceDesk`, so the history is what
a real deployment would have written. The same seed gives the same history.

`workflows()` and `policies()` are what the demo runs with, so that other
commands can read its database: ``servicekit report --db FILE --sla
servicekit.cli.demo:policies``.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs

from servicekit.buying_cycle import buying_cycle
from servicekit.calendar import BusinessCalendar
from servicekit.clock import ManualClock
from servicekit.desk import ServiceDesk
from servicekit.errors import ServiceKitError
from servicekit.feedback import Survey
from servicekit.followups import FollowUpOutcome, FollowUpRules
from servicekit.interactions import Channel, Direction
from servicekit.ownership import Agent, Customer, Role
from servicekit.sla import Conditions, Metric, Policy, PolicySet, Target
from servicekit.stores.base import Store
from servicekit.workflow import Stage, StatusCategory, Transition, Workflow

__all__ = ["HOURS", "START", "SimulationResult", "policies", "simulate", "support", "workflows"]

START = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
"""When the simulated service opens: a Monday morning."""

HOURS = BusinessCalendar(
    timezone="UTC",
    hours={day: [("08:00", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri")},
)
"""The service's opening hours, on which the SLA targets are measured."""

_TICK_EVERY = timedelta(minutes=30)
_SALES = ("ana", "ben", "cleo")
_SERVICE = ("bo", "dev", "eli", "fay")
_CHANNELS = (Channel.WEB, Channel.EMAIL, Channel.PHONE, Channel.CHAT, Channel.SOCIAL)
_PRODUCTS = (
    ("standing desks", 400),
    ("office chairs", 180),
    ("monitor arms", 60),
    ("meeting tables", 900),
    ("acoustic panels", 120),
)
_PROBLEMS = (
    "a desk wobbles",
    "the motor of a desk hums",
    "a chair's gas lift sinks",
    "a delivery is missing a part",
    "the invoice shows the wrong address",
    "a scratch on a table top",
)
_LOSS_REASONS = ("a competitor was cheaper", "the budget was cut", "delivery takes too long")
_SURVEYS = (Survey.CSAT, Survey.NPS, Survey.CES)
_SCORES = {
    Survey.CSAT: ((1, 2, 3, 4, 5), (1, 1, 2, 5, 7)),
    Survey.NPS: (tuple(range(11)), (1, 1, 1, 1, 1, 2, 2, 4, 6, 7, 6)),
    Survey.CES: (tuple(range(1, 8)), (1, 1, 2, 3, 4, 4, 3)),
}
"""The surveys customers are asked, and how the demo's customers tend to score them."""
_COMMENTS = ("", "", "quick and friendly", "took a while", "solved at once", "had to call twice")

Step = Generator[timedelta, None, None]
"""A customer's story: it acts on the desk, then yields how long until its next step."""


def support() -> Workflow:
    """The support desk's workflow: triage, work, wait on the customer, solve, close."""
    return Workflow(
        name="support",
        stages=[
            Stage("triage", StatusCategory.NEW, description="a request waits for an agent"),
            Stage("working", StatusCategory.OPEN, description="an agent works on it"),
            Stage("waiting", StatusCategory.PENDING, description="waits for the customer"),
            Stage(
                "solved",
                StatusCategory.RESOLVED,
                follow_up="confirm the customer was served",
                description="the problem is solved",
            ),
            Stage("closed", StatusCategory.CLOSED, description="done"),
        ],
        transitions=[
            Transition("start_service", "triage", "working", description="start work"),
            Transition("wait_on_customer", "working", "waiting", description="ask the customer"),
            Transition("resume", "waiting", "working", description="the customer answered"),
            Transition("resolve", ["working", "waiting"], "solved", description="solve it"),
            Transition("reopen", "solved", "working", by_customer=True, description="it is back"),
            Transition("close", "solved", "closed", description="finish the case"),
        ],
        start="triage",
        follow_ups=FollowUpRules(reopen_stage="working"),
    )


def workflows() -> list[Workflow]:
    """The workflows the demo's cases follow: the buying cycle for sales, `support()`."""
    return [buying_cycle(), support()]


def policies() -> PolicySet:
    """The demo's SLA policies: urgent cases, then every other case, on `HOURS`."""
    return PolicySet(
        [
            Policy(
                name="urgent",
                version=1,
                calendar=HOURS,
                conditions=Conditions(priorities={"urgent"}),
                targets=[Target(Metric.FIRST_RESPONSE, "30m"), Target(Metric.RESOLUTION, "6h")],
            ),
            Policy(
                name="standard",
                version=1,
                calendar=HOURS,
                targets=[
                    Target(Metric.FIRST_RESPONSE, "2h"),
                    Target(Metric.NEXT_RESPONSE, "4h"),
                    Target(Metric.RESOLUTION, "30h"),  # three business days of ten hours
                ],
            ),
        ]
    )


@attrs.frozen
class SimulationResult:
    """What a simulation did: how many cases, events and ticks, and what went wrong."""

    cases: int
    events: int
    ticks: int
    refused: tuple[str, ...]
    until: datetime


def simulate(
    store: Store,
    *,
    days: int = 10,
    seed: int = 1,
    cases_per_day: int = 20,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Run the simulated service for `days` business days into `store`.

    Args:
        store: where the desk writes (an empty one, or one the demo wrote before).
        days: business days on which new customers arrive.
        seed: the random seed; the same seed writes the same history.
        cases_per_day: how many customers arrive on a business day.
        progress: called with (finished stories, all stories) as the run goes.
    """
    rng = random.Random(seed)  # noqa: S311 - a simulation's dice, not a secret
    clock = ManualClock(START)
    desk = ServiceDesk(workflows=workflows(), store=store, clock=clock, sla=policies())
    for name in _SALES:
        desk.register_agent(Agent(name, teams={"sales"}))
    desk.register_agent(Agent("sam", teams={"sales"}, roles={Role.AGENT, Role.SUPERVISOR}))
    for name in _SERVICE:
        desk.register_agent(Agent(name, teams={"service"}))
    desk.register_agent(Agent("max", teams={"service"}, roles={Role.AGENT, Role.SUPERVISOR}))
    run = _Run(desk, clock, rng, prefix=f"S{seed}")
    queue: list[tuple[datetime, int, Step]] = []
    arrivals = list(_arrivals(rng, days, cases_per_day))
    for number, at in enumerate(arrivals):
        story = run.sale(number) if rng.random() < 0.45 else run.support(number)  # noqa: PLR2004
        heapq.heappush(queue, (at, number, story))
    ticks = run.play(queue, progress)
    for _ in range(2 * 24 * 2):  # two more days of ticks: the last follow-ups and closes
        clock.advance(_TICK_EVERY)
        run.tick()
        ticks += 1
    return SimulationResult(
        cases=len(arrivals),
        events=len(store.read_all()),
        ticks=ticks,
        refused=tuple(run.refused),
        until=clock.now(),
    )


def _arrivals(rng: random.Random, days: int, per_day: int) -> Iterator[datetime]:
    day, opened = START, 0
    while opened < days:
        if day.weekday() < 5:  # noqa: PLR2004 - Monday to Friday
            moments = sorted(
                day + timedelta(minutes=rng.randrange(0, 9 * 60)) for _ in range(per_day)
            )
            yield from moments
            opened += 1
        day += timedelta(days=1)


class _Run:
    """The desk, the clock and the dice shared by every story."""

    def __init__(
        self, desk: ServiceDesk, clock: ManualClock, rng: random.Random, *, prefix: str
    ) -> None:
        self.desk = desk
        self.clock = clock
        self.rng = rng
        self.prefix = prefix
        self.refused: list[str] = []

    def play(
        self,
        queue: list[tuple[datetime, int, Step]],
        progress: Callable[[int, int], None] | None,
    ) -> int:
        """Run every story in time order, ticking every half hour; return the ticks."""
        total, finished, ticks, next_tick = len(queue), 0, 0, START
        if progress is not None:
            progress(0, total)
        while queue:
            at, number, story = heapq.heappop(queue)
            while next_tick <= at:
                self.clock.set(next_tick)
                self.tick()
                ticks += 1
                next_tick += _TICK_EVERY
            self.clock.set(max(at, self.clock.now()))
            try:
                delay = next(story)
            except StopIteration:
                finished += 1
            except ServiceKitError as error:
                # One story the rules refused must not stop the others: note it and go on.
                self.refused.append(f"story {number}: {error}".splitlines()[0])
                finished += 1
            else:
                heapq.heappush(queue, (self.open_hours(self.clock.now() + delay), number, story))
                continue
            if progress is not None:
                progress(finished, total)
        return ticks

    def working(self, case_id: str) -> bool:
        """Whether the case is being worked on (a follow-up found the customer not served)."""
        stage = self.desk.case(case_id).current_stage
        return stage is not None and stage.category is StatusCategory.OPEN

    def open_hours(self, moment: datetime) -> datetime:
        """Agents act in opening hours: the next open moment from `moment`."""
        return HOURS.next_open(moment)

    def tick(self) -> None:
        report = self.desk.tick()
        self.refused += [f"tick: {problem}" for problem in report.failed]

    def minutes(self, low: int, high: int) -> timedelta:
        return timedelta(minutes=self.rng.randint(low, high))

    def response_time(self) -> timedelta:
        """How long the first answer takes: mostly minutes, sometimes too long."""
        if self.rng.random() < 0.15:  # noqa: PLR2004 - a busy spell breaches the target
            return self.minutes(130, 400)
        return self.minutes(5, 100)

    def say(self, case_id: str, actor: str | Customer, summary: str, channel: Channel) -> None:
        direction = Direction.INBOUND if isinstance(actor, Customer) else Direction.OUTBOUND
        self.desk.record_interaction(
            case_id, actor=actor, channel=channel, direction=direction, summary=summary
        )

    def feedback(self, case_id: str, customer: Customer, channel: Channel) -> None:
        """The customer is asked for one survey; most answer it."""
        survey = self.rng.choices(_SURVEYS, weights=(6, 3, 2))[0]
        self.desk.request_feedback(case_id, survey=survey, channel=channel)
        if self.rng.random() < 0.6:  # noqa: PLR2004 - most customers answer the survey
            scores, weights = _SCORES[survey]
            self.desk.record_feedback(
                case_id,
                actor=customer,
                survey=survey,
                score=self.rng.choices(scores, weights=weights)[0],
                comment=self.rng.choice(_COMMENTS),
            )

    def follow_ups(self, case_id: str, *, served: float = 0.9) -> Step:
        """The steward completes every open follow-up once it is due."""
        while True:
            case = self.desk.case(case_id)
            if not case.open_follow_ups or case.is_finished:
                return
            follow_up = case.open_follow_ups[0]
            if follow_up.due > self.clock.now():
                yield follow_up.due - self.clock.now() + self.minutes(10, 180)
                continue
            marks = self.rng.random() < 0.4  # noqa: PLR2004 - some owners mark the follow-up stage
            stage = case.stage or ""
            if marks and "follow_up" in case.workflow.triggers(stage) and case.owner is not None:
                self.desk.start_follow_up(case_id, actor=case.owner.id)
            roll = self.rng.random()
            outcome = (
                FollowUpOutcome.SERVED
                if roll < served
                else FollowUpOutcome.NO_ANSWER
                if roll < served + (1 - served) / 2
                else FollowUpOutcome.NOT_SERVED
            )
            self.desk.complete_follow_up(
                case_id, follow_up.follow_up_id, actor=follow_up.assignee.id, outcome=outcome
            )
            if outcome is FollowUpOutcome.NOT_SERVED:
                return
            yield self.minutes(1, 30)

    def sale(self, number: int) -> Step:
        """A customer asks for a quote; the sale is bargained, won or lost, then followed up."""
        rng, desk = self.rng, self.desk
        case_id = f"{self.prefix}-{number:04d}"
        customer = Customer(f"cust-{rng.randrange(60):03d}")
        product, price = rng.choice(_PRODUCTS)
        quantity = rng.randint(2, 40)
        channel = rng.choice(_CHANNELS)
        seller = rng.choice(_SALES)
        if rng.random() < 0.15:  # noqa: PLR2004 - the company calls some customers first
            desk.open_case(
                actor=seller,
                customer_id=customer.id,
                channel=Channel.PHONE,
                direction=Direction.OUTBOUND,
                summary=f"Offer {product} for the new office",
                case_id=case_id,
                owner=seller,
            )
        else:
            desk.open_case(
                actor=customer,
                customer_id=customer.id,
                channel=channel,
                summary=f"Wants {quantity} {product}",
                case_id=case_id,
                priority="urgent" if rng.random() < 0.1 else "normal",  # noqa: PLR2004
            )
            yield self.response_time()
            desk.take(case_id, actor=seller)
            self.say(case_id, seller, f"Thanks, a quote for {quantity} {product} follows", channel)
        yield self.minutes(20, 240)
        desk.negotiate(case_id, actor=seller)
        amount = Decimal(price * quantity)
        offer = desk.make_offer(case_id, actor=seller, amount=amount, currency="EUR")
        yield self.minutes(60, 600)
        number_of_offer = len(offer.case.offers)
        if rng.random() < 0.4:  # noqa: PLR2004 - the customer bargains
            desk.reject_offer(
                case_id, number_of_offer, actor=customer, reason="asks for a better price"
            )
            yield self.minutes(30, 300)
            amount = (amount * Decimal("0.92")).quantize(Decimal("1.00"))
            offer = desk.make_offer(case_id, actor=seller, amount=amount, currency="EUR")
            number_of_offer = len(offer.case.offers)
            yield self.minutes(60, 600)
        if rng.random() < 0.35:  # noqa: PLR2004 - some sales are lost
            desk.reject_offer(case_id, number_of_offer, actor=customer, reason="too expensive")
            desk.lose(case_id, actor=seller, reason=rng.choice(_LOSS_REASONS))
            yield from self.follow_ups(case_id, served=0.6)
            yield from self.after_follow_ups(case_id, customer, seller, channel)
            return
        desk.accept_offer(case_id, number_of_offer, actor=customer)
        desk.win(case_id, actor=seller)
        if rng.random() < 0.5:  # noqa: PLR2004 - half the sales need delivery and set-up
            yield self.minutes(30, 240)
            desk.start_service(case_id, actor=seller)
            fitter = rng.choice(_SERVICE)
            desk.transfer(
                case_id,
                actor=seller,
                to=fitter,
                handoff_note=f"{amount} EUR agreed for {quantity} {product}; deliver and set up",
            )
            yield from self.service(case_id, customer, fitter, channel)
            return
        self.feedback(case_id, customer, channel)
        yield from self.follow_ups(case_id)
        yield from self.after_follow_ups(case_id, customer, seller, channel)

    def after_follow_ups(
        self, case_id: str, customer: Customer, agent: str, channel: Channel
    ) -> Step:
        """Close the case, or serve it first if a follow-up found the customer not served."""
        if self.working(case_id):
            yield from self.service(case_id, customer, agent, channel)
        else:
            yield from self.close(case_id, agent)

    def support(self, number: int) -> Step:
        """An existing customer reports a problem; service takes, works and resolves it."""
        rng, desk = self.rng, self.desk
        case_id = f"{self.prefix}-{number:04d}"
        customer = Customer(f"cust-{rng.randrange(60):03d}")
        channel = rng.choice(_CHANNELS)
        desk.open_case(
            actor=customer,
            customer_id=customer.id,
            channel=channel,
            summary=rng.choice(_PROBLEMS).capitalize(),
            case_id=case_id,
            workflow="support",
            priority="urgent" if rng.random() < 0.15 else "normal",  # noqa: PLR2004
        )
        yield self.response_time()
        agent = rng.choice(_SERVICE)
        desk.take(case_id, actor=agent)
        desk.start_service(case_id, actor=agent)
        self.say(case_id, agent, "Sorry to hear that; we are on it", channel)
        yield from self.service(case_id, customer, agent, channel)

    def service(self, case_id: str, customer: Customer, agent: str, channel: Channel) -> Step:
        """Work a case in service until it is resolved, followed up and closed."""
        rng, desk = self.rng, self.desk
        for round_number in range(3):
            yield self.minutes(30, 600)
            if rng.random() < 0.35:  # noqa: PLR2004 - service needs the customer's answer
                self.say(case_id, agent, "Could you send a photo of it?", channel)
                desk.wait_on_customer(case_id, actor=agent, reason="asked for a photo")
                yield self.minutes(120, 2000)
                self.say(case_id, customer, "Here is the photo", channel)
                yield self.minutes(10, 200)
                desk.resume(case_id, actor=agent)
            if round_number == 0 and rng.random() < 0.2:  # noqa: PLR2004 - a specialist is needed
                colleague = rng.choice([name for name in _SERVICE if name != agent])
                desk.transfer(
                    case_id,
                    actor=agent,
                    to=colleague,
                    handoff_note="Customer sent photos; needs a technician's visit",
                )
                agent = colleague
                yield self.minutes(30, 300)
            desk.resolve(case_id, actor=agent, reason="fixed on site")
            self.say(case_id, agent, "All fixed, please tell us if anything is left", channel)
            self.feedback(case_id, customer, channel)
            if rng.random() > 0.12:  # noqa: PLR2004 - some problems come back
                break
            yield self.minutes(240, 2400)
            desk.reopen(case_id, actor=customer, reason="the problem is back")
            self.say(case_id, customer, "It is happening again", channel)
        yield from self.follow_ups(case_id)
        if self.working(case_id):  # a follow-up found it not served
            yield self.minutes(60, 600)
            desk.resolve(case_id, actor=agent, reason="fixed for good")
            yield from self.follow_ups(case_id, served=1.0)
        yield from self.close(case_id, agent)

    def close(self, case_id: str, actor: str) -> Step:
        """The owner closes the case, unless a tick closed it already."""
        yield self.minutes(5, 120)
        case = self.desk.case(case_id)
        if not case.is_finished and not case.open_follow_ups:
            self.desk.close(case_id, actor=case.owner.id if case.owner else actor)
