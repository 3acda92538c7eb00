"""The help desk's web application: routes, error pages and the background tick.

Everything a person sees is rendered on the server from servicekit's own answers:
the queue from the desk's index and SLA reports, the case page from the history,
the briefing and the actions the rules allow (each one decided against the case,
never guessed), the customer page from every case of the customer. servicekit's
errors become HTTP answers with the library's message: 404 for an unknown case,
409 for a lost race or a reused idempotency key, 403 for a refusal by the rules and
422 for bad input.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar

import attrs
import jinja2
from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicekit import (
    Agent,
    AssignCase,
    BusinessCalendar,
    Case,
    CaseNotFound,
    Channel,
    Clock,
    ClockState,
    Command,
    CommandRejected,
    CompleteFollowUp,
    ConcurrencyConflict,
    Customer,
    Direction,
    DuplicateCase,
    FollowUp,
    FollowUpOutcome,
    IdempotencyConflict,
    InvalidValue,
    Metric,
    Move,
    Policy,
    PolicySet,
    RecordInteraction,
    Role,
    ServiceDesk,
    ServiceKitError,
    SQLiteStore,
    Store,
    Survey,
    Target,
    TransferCase,
    UnknownAgent,
    UnknownCase,
    UnknownReference,
    buying_cycle,
    decide,
)

__all__ = ["DEFAULT_AGENTS", "Actions", "create_app", "standard_policies"]

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")

DEFAULT_AGENTS = (
    Agent("ana", teams={"service"}),
    Agent("bo", teams={"service"}),
    Agent("sue", teams={"service"}, roles={Role.AGENT, Role.SUPERVISOR}),
)
"""The directory a fresh database starts with: two agents and their supervisor."""

CHANNELS = (Channel.WEB, Channel.EMAIL, Channel.CHAT, Channel.PHONE, Channel.SOCIAL)
"""The channels the forms offer."""

_STATUS = {
    UnknownCase: 404,
    CaseNotFound: 404,
    UnknownReference: 404,
    DuplicateCase: 409,
    ConcurrencyConflict: 409,
    IdempotencyConflict: 409,
    CommandRejected: 403,
    InvalidValue: 422,
    UnknownAgent: 422,
}
"""servicekit's errors as HTTP status codes; the most specific class wins."""


def standard_policies() -> PolicySet:
    """The SLA the example promises: answers within business hours, Monday to Friday."""
    office = BusinessCalendar(
        timezone="UTC",
        hours={day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")},
    )
    return PolicySet(
        [
            Policy(
                name="standard",
                version=1,
                calendar=office,
                targets=[
                    Target(Metric.FIRST_RESPONSE, "4h"),
                    Target(Metric.NEXT_RESPONSE, "8h"),
                    Target(Metric.RESOLUTION, "2 business days"),
                ],
            )
        ]
    )


@attrs.frozen
class Actions:
    """What the rules let one agent do to one case now; each was decided, not guessed."""

    take: bool
    moves: tuple[str, ...]
    transfer_to: tuple[str, ...]
    follow_ups: tuple[FollowUp, ...]
    reply: bool


def create_app(  # noqa: PLR0913 - every option is keyword-only and has a default
    *,
    db_path: Path | str | None = None,
    store: Store | None = None,
    clock: Clock | None = None,
    agents: Iterable[Agent] = DEFAULT_AGENTS,
    sla: PolicySet | None = None,
    tick_every: float | None = 30.0,
) -> FastAPI:
    """Build the application on an SQLite file (or a store you give), with a clock.

    Args:
        db_path: the SQLite file to open (created on first use); ignored with `store`.
        store: a store to use instead of opening `db_path`.
        clock: where the time comes from (the system clock by default).
        agents: agents registered when the directory does not know them yet.
        sla: the SLA policies (`standard_policies()` by default).
        tick_every: seconds between two background ticks; `None` for none (run
            ``servicekit tick`` as a worker instead).
    """
    if store is None and db_path is None:
        msg = "create_app needs db_path or store"
        raise InvalidValue(msg)
    if tick_every is not None and tick_every <= 0:
        msg = f"tick_every must be a positive number of seconds or None, got {tick_every!r}"
        raise InvalidValue(msg)
    owned = store is None
    used: Store = SQLiteStore(str(db_path)) if store is None else store
    desk = ServiceDesk(
        workflow=buying_cycle(),
        store=used,
        clock=clock,
        sla=standard_policies() if sla is None else sla,
    )
    seed = tuple(agents)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        known = {agent.id for agent in desk.agents()}
        for agent in seed:
            if agent.id not in known:
                desk.register_agent(agent)
        ticker = None if tick_every is None else asyncio.create_task(_tick(desk, tick_every))
        try:
            yield
        finally:
            if ticker is not None:
                ticker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticker
            if owned and isinstance(used, SQLiteStore):
                used.close()

    app = FastAPI(title="servicekit help desk", lifespan=lifespan)
    app.state.desk = desk
    app.state.templates = Jinja2Templates(
        env=jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
    )
    app.add_exception_handler(ServiceKitError, _library_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)  # also a route not found
    app.include_router(router)
    return app


def _desk(request: Request) -> ServiceDesk:
    desk = request.app.state.desk
    assert isinstance(desk, ServiceDesk)  # noqa: S101 - create_app put it there
    return desk


Desk = Annotated[ServiceDesk, Depends(_desk)]
"""The application's desk, for a route."""

router = APIRouter()


def _page(request: Request, name: str, status_code: int = 200, **context: object) -> Response:
    templates = request.app.state.templates
    assert isinstance(templates, Jinja2Templates)  # noqa: S101 - create_app put it there
    return templates.TemplateResponse(request, name, context, status_code=status_code)


async def _library_error(request: Request, error: Exception) -> Response:
    status = next(
        (code for cls in type(error).__mro__ if (code := _STATUS.get(cls)) is not None), 500
    )
    return _page(request, "error.html", status_code=status, status=status, message=str(error))


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)  # noqa: S101 - registered for it only
    return _page(
        request,
        "error.html",
        status_code=error.status_code,
        status=error.status_code,
        message=str(error.detail),
    )


def _acting(desk: ServiceDesk, agent_id: str) -> Agent:
    """The agent in the address; 404 when the directory has no such agent."""
    try:
        return desk.agent(agent_id)
    except UnknownAgent as error:
        raise HTTPException(status_code=404, detail=str(error)) from error


def _back_to(agent_id: str, case_id: str) -> RedirectResponse:
    return RedirectResponse(f"/agents/{agent_id}/cases/{case_id}", status_code=303)


@router.get("/", response_class=HTMLResponse)
def home(
    *,
    desk: Desk,
    request: Request,
) -> Response:
    return _page(request, "home.html", agents=desk.agents())


@router.get("/cases/new", response_class=HTMLResponse)
def new_case(
    *,
    request: Request,
) -> Response:
    return _page(request, "new_case.html", channels=CHANNELS, key=uuid.uuid4().hex)


@router.post("/cases")
def open_case(
    *,
    desk: Desk,
    customer_id: Annotated[str, Form()],
    channel: Annotated[str, Form()],
    summary: Annotated[str, Form()],
    idempotency_key: Annotated[str | None, Form()] = None,
) -> Response:
    outcome = desk.open_case(
        actor=Customer(customer_id),
        customer_id=customer_id,
        channel=Channel(channel),
        summary=summary,
        idempotency_key=idempotency_key or None,
    )
    return RedirectResponse(
        f"/customers/{customer_id}?opened={outcome.case.case_id}", status_code=303
    )


@router.get("/customer")
def find_customer(
    *,
    customer_id: str,
) -> Response:
    return RedirectResponse(f"/customers/{customer_id}", status_code=303)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(
    *,
    desk: Desk,
    request: Request,
    customer_id: str,
    opened: str | None = None,
) -> Response:
    summaries = desk.cases_of_customer(customer_id)
    cases = [desk.case(summary.case_id) for summary in summaries]
    return _page(
        request,
        "customer.html",
        customer_id=customer_id,
        cases=cases,
        timeline=desk.customer_history(customer_id),
        surveys=list(Survey),
        opened=opened,
        channels=CHANNELS,
        key=uuid.uuid4().hex,
    )


@router.post("/customers/{customer_id}/cases/{case_id}/messages")
def customer_writes(
    *,
    desk: Desk,
    customer_id: str,
    case_id: str,
    summary: Annotated[str, Form()],
    idempotency_key: Annotated[str | None, Form()] = None,
) -> Response:
    _own_case(desk, customer_id, case_id)
    desk.record_interaction(
        case_id,
        actor=Customer(customer_id),
        channel=Channel.WEB,
        direction=Direction.INBOUND,
        summary=summary,
        idempotency_key=idempotency_key or None,
    )
    return RedirectResponse(f"/customers/{customer_id}", status_code=303)


@router.post("/customers/{customer_id}/cases/{case_id}/feedback")
def customer_rates(  # noqa: PLR0913 - a form's fields, all keyword-only
    *,
    desk: Desk,
    customer_id: str,
    case_id: str,
    score: Annotated[int, Form()],
    survey: Annotated[str, Form()] = "csat",
    comment: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str | None, Form()] = None,
) -> Response:
    _own_case(desk, customer_id, case_id)
    desk.record_feedback(
        case_id,
        actor=Customer(customer_id),
        survey=_choice(Survey, survey, "a survey"),
        score=score,
        comment=comment,
        idempotency_key=idempotency_key or None,
    )
    return RedirectResponse(f"/customers/{customer_id}", status_code=303)


@router.get("/agents/{agent_id}", response_class=HTMLResponse)
def queue(
    *,
    desk: Desk,
    request: Request,
    agent_id: str,
) -> Response:
    agent = _acting(desk, agent_id)
    owned = desk.cases_owned_by(agent.id)
    return _page(
        request,
        "queue.html",
        agent=agent,
        owned=[(summary, _open_clocks(desk, summary.case_id)) for summary in owned],
        intake=desk.unowned_cases(),
        stewarded=[s for s in desk.cases_stewarded_by(agent.id) if s.owner_id != agent.id],
        now=desk.clock.now(),
    )


@router.get("/agents/{agent_id}/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    *,
    desk: Desk,
    request: Request,
    agent_id: str,
    case_id: str,
) -> Response:
    agent = _acting(desk, agent_id)
    case = desk.case(case_id)
    return _page(
        request,
        "case.html",
        agent=agent,
        case=case,
        timeline=desk.history(case_id),
        briefing=desk.briefing(case_id),
        sla=desk.sla(case_id),
        actions=_actions(desk, agent, case),
        channels=CHANNELS,
        outcomes=list(FollowUpOutcome),
        key=uuid.uuid4().hex,
    )


@router.post("/agents/{agent_id}/cases/{case_id}/take")
def take(
    *,
    desk: Desk,
    agent_id: str,
    case_id: str,
    idempotency_key: Annotated[str | None, Form()] = None,
) -> Response:
    agent = _acting(desk, agent_id)
    desk.take(case_id, actor=agent.id, idempotency_key=idempotency_key or None)
    return _back_to(agent.id, case_id)


@router.post("/agents/{agent_id}/cases/{case_id}/transfer")
def transfer(  # noqa: PLR0913 - a form's fields, all keyword-only
    *,
    desk: Desk,
    agent_id: str,
    case_id: str,
    to: Annotated[str, Form()],
    handoff_note: Annotated[str, Form()],
    idempotency_key: Annotated[str | None, Form()] = None,
) -> Response:
    agent = _acting(desk, agent_id)
    desk.transfer(
        case_id,
        actor=agent.id,
        to=to,
        handoff_note=handoff_note,
        idempotency_key=idempotency_key or None,
    )
    return _back_to(agent.id, case_id)


@router.post("/agents/{agent_id}/cases/{case_id}/move")
def move(  # noqa: PLR0913 - a form's fields, all keyword-only
    *,
    desk: Desk,
    agent_id: str,
    case_id: str,
    trigger: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str | None, Form()] = None,
) -> Response:
    agent = _acting(desk, agent_id)
    desk.move(
        case_id,
        trigger,
        actor=agent.id,
        reason=reason or None,
        idempotency_key=idempotency_key or None,
    )
    return _back_to(agent.id, case_id)


@router.post("/agents/{agent_id}/cases/{case_id}/reply")
def reply(  # noqa: PLR0913 - a form's fields, all keyword-only
    *,
    desk: Desk,
    agent_id: str,
    case_id: str,
    summary: Annotated[str, Form()],
    channel: Annotated[str, Form()] = "email",
    idempotency_key: Annotated[str | None, Form()] = None,
) -> Response:
    agent = _acting(desk, agent_id)
    desk.record_interaction(
        case_id,
        actor=agent.id,
        channel=Channel(channel),
        direction=Direction.OUTBOUND,
        summary=summary,
        idempotency_key=idempotency_key or None,
    )
    return _back_to(agent.id, case_id)


@router.post("/agents/{agent_id}/cases/{case_id}/follow-ups/{follow_up_id}")
def complete_follow_up(  # noqa: PLR0913 - the parts of an outcome, all keyword-only
    *,
    desk: Desk,
    agent_id: str,
    case_id: str,
    follow_up_id: int,
    outcome: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str | None, Form()] = None,
) -> Response:
    agent = _acting(desk, agent_id)
    chosen = _choice(FollowUpOutcome, outcome, "a follow-up's outcome")
    desk.complete_follow_up(
        case_id,
        follow_up_id,
        actor=agent.id,
        outcome=chosen,
        note=note,
        idempotency_key=idempotency_key or None,
    )
    return _back_to(agent.id, case_id)


async def _tick(desk: ServiceDesk, every: float) -> None:
    """Fire due timers every `every` seconds; a failing tick is logged, the next one runs."""
    while True:
        await asyncio.sleep(every)
        try:
            report = await asyncio.to_thread(desk.tick)
        except Exception:
            logger.exception("the background tick failed; the next one runs in %s s", every)
            continue
        for problem in report.failed:  # set aside by the desk; the next tick tries again
            logger.warning("the tick could not serve %s", problem)


_Choice = TypeVar("_Choice", bound=enum.Enum)


def _choice(kind: type[_Choice], value: str, what: str) -> _Choice:
    """The member of `kind` named by a form's value; 422 for any other value."""
    try:
        return kind(value)
    except ValueError as error:
        allowed = ", ".join(str(member.value) for member in kind)
        detail = f"{what} is one of {allowed}, not {value!r}"
        raise HTTPException(status_code=422, detail=detail) from error


def _own_case(desk: ServiceDesk, customer_id: str, case_id: str) -> None:
    """A customer acts only on their own cases: another's case is unknown to them."""
    if desk.case(case_id).customer_id != customer_id:
        raise CaseNotFound(case_id)


def _open_clocks(desk: ServiceDesk, case_id: str) -> list[tuple[str, ClockState, datetime | None]]:
    """The case's SLA clocks still being measured (running, paused or breached)."""
    done = {ClockState.MET, ClockState.STOPPED}
    return [
        (clock.key, clock.state, clock.due)
        for clock in desk.sla(case_id).clocks
        if clock.state not in done
    ]


def _allowed(case: Case, command: Command, now: datetime) -> bool:
    """Whether the rules accept the command on the case now (decided, nothing stored)."""
    try:
        decide(case, command, now=now)
    except CommandRejected:
        return False
    return True


def _actions(desk: ServiceDesk, agent: Agent, case: Case) -> Actions:
    """Ask the rules which of the page's actions the agent may take on the case."""
    now = max(desk.clock.now(), case.updated_at or desk.clock.now())
    stage = case.stage
    others = [a for a in desk.agents() if a.active and a.id != agent.id]
    return Actions(
        take=_allowed(case, AssignCase(actor=agent, to=agent), now),
        moves=tuple(
            trigger
            for trigger in (() if stage is None else desk.workflow.triggers(stage))
            if _allowed(case, Move(actor=agent, trigger=trigger), now)
        ),
        transfer_to=tuple(
            other.id
            for other in others
            if _allowed(case, TransferCase(actor=agent, to=other, handoff_note="?"), now)
        ),
        follow_ups=tuple(
            follow_up
            for follow_up in case.open_follow_ups
            if _allowed(
                case,
                CompleteFollowUp(
                    actor=agent,
                    follow_up_id=follow_up.follow_up_id,
                    outcome=FollowUpOutcome.SERVED,
                ),
                now,
            )
        ),
        reply=_allowed(
            case,
            RecordInteraction(
                actor=agent, channel=Channel.EMAIL, direction=Direction.OUTBOUND, summary="?"
            ),
            now,
        ),
    )
