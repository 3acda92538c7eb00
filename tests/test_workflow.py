"""Building a workflow validates it; each problem is named."""

from __future__ import annotations

import pytest

from servicekit import (
    InvalidValue,
    InvalidWorkflow,
    Stage,
    StatusCategory,
    Transition,
    UnknownStage,
    Workflow,
    buying_cycle,
)

NEW, OPEN, CLOSED = StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.CLOSED


def build(
    stages: list[Stage] | None = None,
    transitions: list[Transition] | None = None,
    start: str | list[str] = "a",
) -> Workflow:
    return Workflow(
        name="tiny",
        stages=stages if stages is not None else [Stage("a", NEW), Stage("z", CLOSED)],
        transitions=transitions if transitions is not None else [Transition("go", "a", "z")],
        start=start,
    )


def problems_of(**parts: object) -> tuple[str, ...]:
    with pytest.raises(InvalidWorkflow) as error:
        build(**parts)  # type: ignore[arg-type]
    assert str(error.value).startswith("workflow 'tiny' is invalid:")
    return error.value.problems


def test_a_valid_workflow_builds() -> None:
    workflow = build()
    assert workflow.triggers("a") == ("go",)
    assert workflow.transition("a", "go") == Transition("go", "a", "z")
    assert workflow.transition("z", "go") is None
    assert repr(workflow) == "<Workflow 'tiny': 2 stages, 1 transitions>"


def test_a_transition_to_an_unknown_stage_is_named() -> None:
    problems = problems_of(transitions=[Transition("go", "a", "z"), Transition("oops", "a", "q")])
    assert "transition 'oops' leads to the unknown stage 'q'" in problems


def test_a_transition_from_an_unknown_stage_is_named() -> None:
    problems = problems_of(transitions=[Transition("go", ["a", "q"], "z")])
    assert "transition 'go' leaves from the unknown stage 'q'" in problems


def test_an_unreachable_stage_is_named() -> None:
    stages = [Stage("a", NEW), Stage("island", OPEN), Stage("z", CLOSED)]
    transitions = [Transition("go", "a", "z"), Transition("leave", "island", "z")]
    problems = problems_of(stages=stages, transitions=transitions)
    assert problems == ("stage 'island' cannot be reached from the start stages",)


def test_a_non_final_stage_with_no_way_out_is_named() -> None:
    stages = [Stage("a", NEW), Stage("stuck", OPEN), Stage("z", CLOSED)]
    transitions = [Transition("go", "a", "z"), Transition("stick", "a", "stuck")]
    problems = problems_of(stages=stages, transitions=transitions)
    assert problems == ("stage 'stuck' is not final and has no way out",)


def test_a_duplicate_trigger_from_one_stage_is_named() -> None:
    stages = [Stage("a", NEW), Stage("b", OPEN), Stage("z", CLOSED)]
    transitions = [
        Transition("go", "a", "z"),
        Transition("go", "a", "b"),
        Transition("end", "b", "z"),
    ]
    problems = problems_of(stages=stages, transitions=transitions)
    assert "trigger 'go' is declared twice from 'a'" in problems


def test_a_final_stage_with_outgoing_transitions_is_named() -> None:
    transitions = [Transition("go", "a", "z"), Transition("undo", "z", "a")]
    assert problems_of(transitions=transitions) == ("final stage 'z' has outgoing transitions",)


def test_a_loop_that_never_finishes_is_named() -> None:
    stages = [Stage("a", NEW), Stage("b", OPEN), Stage("c", OPEN), Stage("z", CLOSED)]
    transitions = [
        Transition("go", "a", "z"),
        Transition("spin", "a", "b"),
        Transition("on", "b", "c"),
        Transition("back", "c", "b"),
    ]
    problems = problems_of(stages=stages, transitions=transitions)
    assert problems == (
        "stage 'b' cannot reach a final stage",
        "stage 'c' cannot reach a final stage",
    )


def test_an_unknown_start_stage_is_named() -> None:
    assert "start stage 'q' is not a declared stage" in problems_of(start=["a", "q"])


def test_a_workflow_needs_a_start_stage() -> None:
    assert "the workflow has no start stage" in problems_of(start=[])


def test_a_workflow_needs_stages() -> None:
    assert problems_of(stages=[], transitions=[]) == ("the workflow has no stages",)


def test_a_stage_declared_twice_is_named() -> None:
    stages = [Stage("a", NEW), Stage("a", OPEN), Stage("z", CLOSED)]
    assert "stage 'a' is declared twice" in problems_of(stages=stages)


def test_an_intake_stage_cannot_schedule_follow_ups() -> None:
    stages = [Stage("a", NEW, follow_up="call back"), Stage("z", CLOSED)]
    problems = problems_of(stages=stages)
    assert problems == (
        "intake stage 'a' schedules a follow-up, but a case there may have no steward to do it",
    )


def test_things_that_are_not_stages_or_transitions_are_named() -> None:
    problems = problems_of(
        stages=[Stage("a", NEW), Stage("z", CLOSED), "b"],
        transitions=[Transition("go", "a", "z"), ("a", "z")],
    )
    assert "'b' is not a Stage" in problems
    assert "('a', 'z') is not a Transition" in problems


def test_every_problem_is_reported_at_once() -> None:
    stages = [Stage("a", NEW), Stage("stuck", OPEN), Stage("z", CLOSED)]
    transitions = [Transition("go", "a", "q"), Transition("undo", "z", "a")]
    problems = problems_of(stages=stages, transitions=transitions)
    assert len(problems) >= 3


@pytest.mark.parametrize("name", ["", "two words", "9lives", "dash-ed"])
def test_stage_and_trigger_names_are_identifiers(name: str) -> None:
    with pytest.raises(InvalidValue, match="identifier"):
        Stage(name, OPEN)
    with pytest.raises(InvalidValue, match="identifier"):
        Transition(name, "a", "b")


def test_a_workflow_needs_a_name() -> None:
    with pytest.raises(InvalidValue, match="non-blank name"):
        Workflow(name=" ", stages=[], transitions=[], start="a")


def test_follow_up_rules_are_checked() -> None:
    from servicekit import FollowUpRules  # noqa: PLC0415 - only this test needs it

    with pytest.raises(InvalidValue, match="FollowUpRules"):
        Workflow(name="w", stages=[], transitions=[], start="a", follow_ups=3)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="business days"):
        FollowUpRules(after_transfer=-1)
    with pytest.raises(InvalidValue, match="no_answer_attempts"):
        FollowUpRules(no_answer_attempts=0)
    with pytest.raises(InvalidWorkflow) as error:
        Workflow(
            name="tiny",
            stages=[Stage("a", NEW), Stage("z", CLOSED)],
            transitions=[Transition("go", "a", "z")],
            start="a",
            follow_ups=FollowUpRules(reopen_stage="z"),
        )
    assert error.value.problems == ("the follow-up rules reopen cases in 'z', not an open stage",)


def test_closed_stages_are_final_by_default_and_others_are_not() -> None:
    assert Stage("z", CLOSED).final
    assert not Stage("a", OPEN).final
    assert Stage("lost", StatusCategory.LOST, final=True).final


def test_a_stage_category_must_be_a_status_category() -> None:
    with pytest.raises(InvalidValue, match="StatusCategory"):
        Stage("a", "open")  # type: ignore[arg-type]


def test_guards_must_be_guards() -> None:
    with pytest.raises(InvalidValue, match="Guard"):
        Transition("go", "a", "b", guards=[lambda: None])


def test_asking_for_an_unknown_stage_names_the_known_ones() -> None:
    with pytest.raises(UnknownStage, match="has no stage 'q'; its stages are 'enquiry', 'neg"):
        buying_cycle().stage("q")
    assert issubclass(UnknownStage, KeyError)  # what it raised before it had a name


def test_the_buying_cycle_covers_the_whole_journey() -> None:
    workflow = buying_cycle()
    assert [stage.name for stage in workflow.stages] == [
        "enquiry",
        "negotiation",
        "won",
        "lost",
        "in_service",
        "waiting_on_customer",
        "resolved",
        "follow_up",
        "closed",
    ]
    assert workflow.start == ("enquiry", "in_service")
    categories = {stage.category for stage in workflow.stages}
    assert categories == set(StatusCategory)


def test_a_route_resolves_when_it_enters_a_resolved_stage_from_one_that_is_not() -> None:
    workflow = buying_cycle()
    resolving = {
        (stage, trigger)
        for stage in (s.name for s in workflow.stages)
        for trigger in workflow.triggers(stage)
        if workflow.route(stage, trigger).resolves  # type: ignore[union-attr]
    }
    # Not resolved -> follow_up: both are resolved stages.
    assert resolving == {
        ("in_service", "resolve"),
        ("waiting_on_customer", "resolve"),
        ("won", "follow_up"),
        ("lost", "follow_up"),
    }
