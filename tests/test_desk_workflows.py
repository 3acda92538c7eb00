"""One desk for the whole business: several workflows on one store, each case on its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from servicekit import (
    Agent,
    BusinessCalendar,
    Channel,
    Customer,
    InvalidValue,
    ManualClock,
    ServiceDesk,
    SQLiteStore,
    Stage,
    StatusCategory,
    Store,
    Transition,
    UnknownStage,
    UnknownWorkflow,
    Workflow,
    buying_cycle,
)
from servicekit.sla import Metric, Policy, PolicySet, Target

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
IVY = Customer("ivy")


def repairs() -> Workflow:
    """A second workflow beside the buying cycle: a repair is booked, done and closed."""
    return Workflow(
        name="repairs",
        stages=[
            Stage("booked", StatusCategory.NEW),
            Stage("repairing", StatusCategory.OPEN),
            Stage("repaired", StatusCategory.RESOLVED),
            Stage("closed", StatusCategory.CLOSED),
        ],
        transitions=[
            Transition("repair", "booked", "repairing"),
            Transition("finish", "repairing", "repaired"),
            Transition("close", "repaired", "closed"),
        ],
        start=["booked"],
    )


POLICIES = PolicySet(
    [
        Policy(
            name="everyone",
            version=1,
            calendar=BusinessCalendar.always_open(),
            targets=[Target(Metric.FIRST_RESPONSE, "1h")],
        )
    ]
)


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store  # memory, SQLite and PostgreSQL (see conftest.py)


def desk_on(store: Store, *workflows: Workflow, clock: ManualClock | None = None) -> ServiceDesk:
    desk = ServiceDesk(
        workflows=list(workflows), store=store, clock=clock or ManualClock(T0), sla=POLICIES
    )
    for agent in (Agent("ana", teams={"sales"}), Agent("rex", teams={"workshop"})):
        desk.register_agent(agent)
    return desk


def test_a_customer_with_a_case_in_each_workflow_is_served_by_one_desk(store: Store) -> None:
    clock = ManualClock(T0)
    desk = desk_on(store, buying_cycle(), repairs(), clock=clock)
    desk.open_case(
        actor=IVY, customer_id="ivy", channel=Channel.CHAT, summary="desk?", case_id="S-1"
    )
    clock.advance(timedelta(minutes=5))
    desk.open_case(
        actor=IVY,
        customer_id="ivy",
        channel=Channel.PHONE,
        summary="my chair squeaks",
        case_id="R-1",
        workflow="repairs",
    )
    assert desk.case("S-1").workflow.name == "buying_cycle"
    assert desk.case("R-1").workflow.name == "repairs"
    assert desk.case("R-1").stage == "booked"

    briefing = desk.briefing("S-1")
    assert [s.case_id for s in briefing.other_cases] == ["R-1"]
    assert {case_id for case_id, _ in briefing.interactions} == {"S-1", "R-1"}
    assert briefing.problems == ()
    assert "R-1 (repairs): booked" in str(briefing)

    assert [s.case_id for s in desk.cases_of_customer("ivy")] == ["S-1", "R-1"]
    assert [s.case_id for s in desk.cases_of_customer("ivy", workflow="repairs")] == ["R-1"]
    assert [s.workflow for s in desk.cases()] == ["buying_cycle", "repairs"]
    assert [s.case_id for s in desk.unowned_cases(workflow="repairs")] == ["R-1"]
    assert [s.case_id for s in desk.unowned_cases()] == ["S-1", "R-1"]

    # Both workflows are under the SLA: both first responses breach, and one tick fires both.
    assert desk.sla("R-1").clocks[0].due == T0 + timedelta(hours=1, minutes=5)
    report = desk.tick(T0 + timedelta(hours=2))
    assert report.failed == ()
    assert {outcome.case_id for outcome in report} == {"S-1", "R-1"}

    desk.take("R-1", actor="rex")
    desk.move("R-1", "repair", actor="rex")
    assert [s.case_id for s in desk.cases_in_stage("repairing")] == ["R-1"]
    assert [s.case_id for s in desk.cases_owned_by("rex", workflow="repairs")] == ["R-1"]


def test_each_case_replays_on_the_workflow_it_was_opened_on(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite"
    with SQLiteStore(path) as store:
        desk = desk_on(store, buying_cycle(), repairs())
        desk.open_case(
            actor=IVY,
            customer_id="ivy",
            channel=Channel.WEB,
            summary="broken leg",
            case_id="R-1",
            workflow="repairs",
        )
    # Another process, with the workflows in another order: the case still replays on repairs.
    with SQLiteStore(path) as store:
        desk = desk_on(store, repairs(), buying_cycle())
        desk.take("R-1", actor="rex")
        assert desk.move("R-1", "repair", actor="rex").case.stage == "repairing"


def test_open_case_uses_the_first_workflow_unless_told(store: Store) -> None:
    desk = desk_on(store, repairs(), buying_cycle())
    outcome = desk.open_case(actor=IVY, customer_id="ivy", channel=Channel.WEB, summary="x")
    assert outcome.case.workflow.name == "repairs"
    assert desk.workflow.name == "repairs"


def test_opening_on_a_workflow_the_desk_does_not_serve_names_it(store: Store) -> None:
    desk = desk_on(store, buying_cycle())
    with pytest.raises(UnknownWorkflow, match=r"'onboarding'.*serves 'buying_cycle'"):
        desk.open_case(
            actor=IVY, customer_id="ivy", channel=Channel.WEB, summary="x", workflow="onboarding"
        )
    assert desk.cases() == []


def test_a_case_of_an_unknown_workflow_is_reported_never_replayed_on_another(
    store: Store,
) -> None:
    both = desk_on(store, buying_cycle(), repairs())
    both.open_case(
        actor=IVY, customer_id="ivy", channel=Channel.WEB, summary="x", case_id="R-1",
        workflow="repairs",
    )  # fmt: skip
    both.open_case(actor=IVY, customer_id="ivy", channel=Channel.WEB, summary="y", case_id="S-1")
    sales_only = desk_on(store, buying_cycle())

    with pytest.raises(UnknownWorkflow, match="case 'R-1' was opened on workflow 'repairs'"):
        sales_only.case("R-1")
    briefing = sales_only.briefing("S-1")  # the rest of the query goes on
    assert [problem.case_id for problem in briefing.problems] == ["R-1"]
    assert "workflow 'repairs'" in briefing.problems[0].reason
    assert [case_id for case_id, _ in briefing.interactions] == ["S-1"]
    assert [s.case_id for s in sales_only.cases_of_customer("ivy")] == ["R-1", "S-1"]

    report = sales_only.tick(T0 + timedelta(hours=2))  # both first responses are due
    assert [problem.case_id for problem in report.failed] == ["R-1"]
    assert "repairs" in report.failed[0].reason
    assert [outcome.case_id for outcome in report] == ["S-1"]


def repairs_without_repairing() -> Workflow:
    """The repairs workflow of a later deployment: the repairing stage is gone."""
    return Workflow(
        name="repairs",
        stages=[
            Stage("booked", StatusCategory.NEW),
            Stage("repaired", StatusCategory.RESOLVED),
            Stage("closed", StatusCategory.CLOSED),
        ],
        transitions=[
            Transition("finish", "booked", "repaired"),
            Transition("close", "repaired", "closed"),
        ],
        start=["booked"],
    )


def test_a_case_in_a_stage_its_workflow_no_longer_has_is_named_and_set_aside(
    store: Store,
) -> None:
    clock = ManualClock(T0)
    before = desk_on(store, repairs(), clock=clock)
    for case_id in ("R-1", "R-2"):
        before.open_case(
            actor=IVY, customer_id="ivy", channel=Channel.WEB, summary="x", case_id=case_id
        )
        before.take(case_id, actor="rex")
    before.move("R-1", "repair", actor="rex")
    after = desk_on(store, repairs_without_repairing(), clock=clock)
    gone = "case 'R-1' is in stage 'repairing', which workflow 'repairs' no longer has"

    for read in (after.case, after.sla, after.briefing):
        with pytest.raises(UnknownStage, match=gone):
            read("R-1")
    with pytest.raises(UnknownStage, match=gone):
        after.move("R-1", "finish", actor="rex")
    briefing = after.briefing("R-2")  # the rest of the query goes on
    assert [(problem.case_id, gone in problem.reason) for problem in briefing.problems] == [
        ("R-1", True)
    ]
    clock.set(T0 + timedelta(hours=2))  # both first responses are due
    report = after.tick()
    assert [(problem.case_id, gone in problem.reason) for problem in report.failed] == [
        ("R-1", True)
    ]
    assert {outcome.case_id for outcome in report} == {"R-2"}
    assert len(after.history("R-1")) == len(before.history("R-1"))  # nothing written to it


def test_the_metrics_set_aside_a_case_in_a_stage_its_workflow_no_longer_has(store: Store) -> None:
    from servicekit.metrics import compute  # noqa: PLC0415 - only this test reports

    before = desk_on(store, repairs())
    for case_id in ("R-1", "R-2"):
        before.open_case(
            actor=IVY, customer_id="ivy", channel=Channel.WEB, summary="x", case_id=case_id
        )
        before.take(case_id, actor="rex")
    before.move("R-1", "repair", actor="rex")
    report = compute(store.read_all(), workflows=[repairs_without_repairing()])
    assert [(skipped.case_id, "'repairing'" in skipped.reason) for skipped in report.skipped] == [
        ("R-1", True)
    ]


def test_a_case_that_went_through_a_stage_its_workflow_no_longer_has_names_it_for_its_sla(
    store: Store,
) -> None:
    before = desk_on(store, repairs())
    before.open_case(actor=IVY, customer_id="ivy", channel=Channel.WEB, summary="x", case_id="R-1")
    before.take("R-1", actor="rex")
    before.move("R-1", "repair", actor="rex")
    before.move("R-1", "finish", actor="rex")
    after = desk_on(store, repairs_without_repairing())
    assert after.case("R-1").stage == "repaired"  # the case itself still reads
    with pytest.raises(
        UnknownStage, match="case 'R-1' went through stage 'repairing', which workflow 'repairs'"
    ):
        after.sla("R-1")  # but whether that stage stopped its clocks is unknown


def test_a_desk_takes_one_workflow_or_several_never_both_or_none() -> None:
    with pytest.raises(InvalidValue, match="either workflow"):
        ServiceDesk(workflow=buying_cycle(), workflows=[repairs()])
    with pytest.raises(InvalidValue, match="either workflow"):
        ServiceDesk()
    with pytest.raises(InvalidValue, match="at least one workflow"):
        ServiceDesk(workflows=[])
    with pytest.raises(InvalidValue, match="two workflows are called 'repairs'"):
        ServiceDesk(workflows=[repairs(), repairs()])


def test_a_stage_filter_is_checked_against_the_workflows_served(store: Store) -> None:
    desk = desk_on(store, buying_cycle(), repairs())
    with pytest.raises(InvalidValue, match="no stage 'repairing' in workflow 'buying_cycle'"):
        desk.cases_in_stage("repairing", workflow="buying_cycle")
    with pytest.raises(InvalidValue, match="no stage 'nowhere' in any workflow"):
        desk.cases_in_stage("nowhere")
    with pytest.raises(UnknownWorkflow):
        desk.cases(workflow="onboarding")


def test_a_routing_desk_sets_aside_a_case_of_a_workflow_it_does_not_serve(store: Store) -> None:
    from servicekit import Routing  # noqa: PLC0415 - only this test routes

    both = desk_on(store, buying_cycle(), repairs())
    both.open_case(
        actor=IVY, customer_id="ivy", channel=Channel.WEB, summary="x", case_id="R-1",
        workflow="repairs",
    )  # fmt: skip
    routed = ServiceDesk(
        workflow=buying_cycle(), store=store, clock=ManualClock(T0), routing=Routing()
    )
    routed.register_agent(Agent("cy", teams={"sales"}))  # builds the routing index
    opened = routed.open_case(
        actor=IVY, customer_id="ivy", channel=Channel.CHAT, summary="y", case_id="S-2"
    )
    assert opened.case.owner is not None  # routing still works for the cases it can read
    routed.tick(T0 + timedelta(hours=2))  # and a tick goes on
