"""Random valid and invalid commands from many actors; the ownership rules hold after each step."""

from __future__ import annotations

from datetime import timedelta

from helpers import ANA, BO, BOT, CUSTOMER, CY, GONE, SAL, START, STRANGER, SUE
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from servicekit import (
    AcceptOffer,
    Actor,
    Agent,
    AssignCase,
    Case,
    CaseTransferred,
    Channel,
    Command,
    CommandRejected,
    CompleteFollowUp,
    Customer,
    Direction,
    Event,
    FollowUpCompleted,
    FollowUpOutcome,
    FollowUpScheduled,
    MakeOffer,
    Move,
    OpenCase,
    OwnerAssigned,
    Party,
    ReassignSteward,
    RecordFeedback,
    RecordInteraction,
    RejectOffer,
    ScheduleFollowUp,
    StageChanged,
    StewardReassigned,
    Survey,
    System,
    TransferCase,
    buying_cycle,
    decide,
    evolve,
    replay,
)
from servicekit.ownership import may_steer

WORKFLOW = buying_cycle()
AGENTS = [ANA, BO, CY, SUE, SAL, GONE]
ACTORS: list[Actor] = [*AGENTS, CUSTOMER, STRANGER, BOT]
TRIGGERS = sorted({t.trigger for t in WORKFLOW.transitions} | {"bogus"})

agents = st.sampled_from(AGENTS)
channels = st.sampled_from(
    [
        Channel.PHONE,
        Channel.EMAIL,
        Channel.CHAT,
        Channel.SOCIAL,
        Channel.IN_PERSON,
        Channel.WEB,
        Channel("whatsapp"),
    ]
)
directions = st.sampled_from(Direction)
reasons = st.none() | st.just("because")
numbers = st.integers(min_value=1, max_value=4)


def commands(actor: st.SearchStrategy[Actor]) -> st.SearchStrategy[Command]:
    """Any command, valid or not, from the given actors."""
    return st.one_of(
        st.builds(
            OpenCase,
            actor=actor,
            customer_id=st.sampled_from(["cust-1", "cust-2"]),
            channel=channels,
            summary=st.just("needs help"),
            direction=directions,
            stage=st.sampled_from([None, "enquiry", "in_service", "won"]),
            owner=st.none() | agents,
        ),
        st.builds(AssignCase, actor=actor, to=agents),
        st.builds(
            TransferCase,
            actor=actor,
            to=agents,
            handoff_note=st.sampled_from(["", " ", "all the context"]),
        ),
        st.builds(ReassignSteward, actor=actor, to=agents, reason=st.just("left")),
        st.builds(Move, actor=actor, trigger=st.sampled_from(TRIGGERS), reason=reasons),
        st.builds(
            RecordInteraction,
            actor=actor,
            channel=channels,
            direction=directions,
            summary=st.just("said something"),
        ),
        st.builds(
            MakeOffer,
            actor=actor,
            currency=st.just("EUR"),
            party=st.sampled_from(Party),
            amount=st.decimals(min_value=1, max_value=10_000, places=2),
        ),
        st.builds(AcceptOffer, actor=actor, offer_id=numbers),
        st.builds(RejectOffer, actor=actor, offer_id=numbers),
        st.builds(
            ScheduleFollowUp,
            actor=actor,
            due=st.just(START + timedelta(days=3)),
            reason=st.just("check in"),
            assignee=st.none() | agents,
        ),
        st.builds(
            CompleteFollowUp,
            actor=actor,
            follow_up_id=numbers,
            outcome=st.sampled_from(FollowUpOutcome),
        ),
        st.builds(
            RecordFeedback,
            actor=actor,
            survey=st.just(Survey.CSAT),
            score=st.integers(min_value=1, max_value=5),
        ),
    )


class CaseRules(RuleBasedStateMachine):
    """One case on the buying cycle, driven by anyone, checked after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.case = Case(WORKFLOW, "case-1")
        self.history: list[Event] = []
        self.now = START

    def play(self, command: Command) -> None:
        self.now += timedelta(minutes=7)
        before = self.case
        try:
            events = decide(self.case, command, now=self.now)
        except CommandRejected:
            assert self.case == before  # a rejected command changes nothing
            return
        assert events, "an accepted command records at least one event"
        # A follow-up's outcome may reopen (not served) or close (no answer) the case,
        # by whoever did the follow-up: the rules say so, not the stage's owner.
        by_outcome = any(
            isinstance(event, FollowUpCompleted)
            and event.outcome in {FollowUpOutcome.NOT_SERVED, FollowUpOutcome.NO_ANSWER}
            for event in events
        )
        for event in events:
            if not (by_outcome and isinstance(event, StageChanged)):
                self.check_permitted(before, event)
            self.case = evolve(self.case, event)
        self.history.extend(events)

    def check_permitted(self, before: Case, event: Event) -> None:
        """Only the owner, a supervisor of the owner's team or the system steer the case."""
        actor = event.actor
        if isinstance(event, StageChanged):
            if isinstance(actor, Customer):
                transition = WORKFLOW.transition(event.source, event.trigger)
                assert transition is not None or event.trigger == "reopen"  # the reopen window
                assert transition is None or transition.by_customer
                assert actor.id == before.customer_id
            else:
                assert may_steer(actor, before.owner)
        if isinstance(event, CaseTransferred):
            assert may_steer(actor, before.owner)
        if isinstance(event, StewardReassigned):
            assert before.steward is not None
            assert isinstance(actor, System) or (
                isinstance(actor, Agent) and actor.supervises(before.steward)
            )

    @initialize(customer_first=st.booleans())
    def open_case(self, customer_first: bool) -> None:  # noqa: FBT001 - hypothesis passes it by name
        opener: Actor = CUSTOMER if customer_first else ANA
        self.play(
            OpenCase(
                actor=opener, customer_id=CUSTOMER.id, channel=Channel.WEB, summary="first contact"
            )
        )

    @rule(command=commands(st.sampled_from(ACTORS)))
    def anyone_acts(self, command: Command) -> None:
        self.play(command)

    @rule(data=st.data())
    def the_owner_acts(self, data: st.DataObject) -> None:
        owner: Actor = self.case.owner or BOT
        self.play(data.draw(commands(st.just(owner))))

    @rule(data=st.data())
    def the_customer_acts(self, data: st.DataObject) -> None:
        self.play(data.draw(commands(st.just(CUSTOMER))))

    @rule(data=st.data())
    def someone_fires_a_trigger_of_the_stage(self, data: st.DataObject) -> None:
        stage = self.case.stage or "enquiry"
        trigger = data.draw(st.sampled_from([*WORKFLOW.triggers(stage), "bogus"]))
        actors: list[Actor] = [self.case.owner or BO, SUE, SAL, BOT, CUSTOMER]
        actor = data.draw(st.sampled_from(actors))
        self.play(Move(actor=actor, trigger=trigger, reason=data.draw(reasons)))

    @rule(data=st.data())
    def the_customer_accepts_an_offer(self, data: st.DataObject) -> None:
        offer_id = data.draw(st.integers(min_value=1, max_value=len(self.case.offers) + 1))
        self.play(AcceptOffer(actor=CUSTOMER, offer_id=offer_id))

    @rule(data=st.data())
    def a_follow_up_is_done(self, data: st.DataObject) -> None:
        for follow_up in self.case.open_follow_ups:
            outcome = data.draw(st.sampled_from(FollowUpOutcome))
            self.play(
                CompleteFollowUp(
                    actor=follow_up.assignee, follow_up_id=follow_up.follow_up_id, outcome=outcome
                )
            )

    @invariant()
    def past_intake_an_open_case_has_one_active_owner(self) -> None:
        stage = self.case.current_stage
        if stage is not None and not stage.is_intake and not stage.final:
            assert isinstance(self.case.owner, Agent)
            assert self.case.owner.active

    @invariant()
    def the_steward_is_the_first_owner_until_a_supervisor_replaces_them(self) -> None:
        owners = [e.owner for e in self.history if isinstance(e, OwnerAssigned)]
        successors = [e.to_steward for e in self.history if isinstance(e, StewardReassigned)]
        first = owners[0] if owners else None
        assert self.case.steward == (successors[-1] if successors else first)
        assert len(owners) <= 1  # later changes of hands are transfers

    @invariant()
    def every_transfer_has_a_note_and_a_follow_up_for_the_steward(self) -> None:
        for index, event in enumerate(self.history):
            if isinstance(event, CaseTransferred):
                assert event.handoff_note.strip()
                assert event.to_owner.active
                follow_up = self.history[index + 1]
                assert isinstance(follow_up, FollowUpScheduled)
                steward_then = replay(WORKFLOW, self.history[: index + 1]).steward
                assert follow_up.assignee == steward_then

    @invariant()
    def a_closed_case_has_no_open_follow_up(self) -> None:
        if self.case.is_finished:
            assert self.case.open_follow_ups == ()

    @invariant()
    def the_state_is_the_fold_of_the_history(self) -> None:
        if self.history:
            assert replay(WORKFLOW, self.history) == self.case

    @invariant()
    def versions_have_no_gaps(self) -> None:
        assert [e.version for e in self.history] == list(range(1, len(self.history) + 1))
        assert self.case.version == len(self.history)

    @invariant()
    def inactive_agents_and_strangers_never_act(self) -> None:
        for event in self.history:
            assert event.actor not in (GONE, STRANGER)
            assert not isinstance(event.actor, System) or event.actor == BOT


CaseRules.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_case_rules = CaseRules.TestCase
