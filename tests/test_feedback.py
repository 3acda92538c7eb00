"""Feedback: survey scores on their scales, requests for feedback, and old ratings read as CSAT."""

from __future__ import annotations

import pytest
from helpers import ANA, CUSTOMER, Play

from servicekit import (
    Channel,
    FeedbackRecorded,
    FeedbackRequested,
    FollowUpRules,
    InvalidValue,
    Move,
    NotPermitted,
    RecordFeedback,
    RequestFeedback,
    Survey,
    buying_cycle,
)
from servicekit.serialization import event_from_dict, event_to_dict


@pytest.mark.parametrize(
    ("survey", "score"),
    [
        (Survey.CSAT, 0),
        (Survey.CSAT, 6),
        (Survey.NPS, -1),
        (Survey.NPS, 11),
        (Survey.CES, 0),
        (Survey.CES, 8),
        (Survey.CSAT, 4.5),
        (Survey.NPS, True),
        (Survey.CES, "3"),
    ],
)
def test_a_score_is_a_whole_number_on_its_survey_scale(survey: Survey, score: object) -> None:
    low, high = survey.scale
    with pytest.raises(
        InvalidValue, match=f"{survey.name} score is a whole number from {low} to {high}"
    ):
        RecordFeedback(actor=CUSTOMER, survey=survey, score=score)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("survey", "scale"), [(Survey.CSAT, (1, 5)), (Survey.NPS, (0, 10)), (Survey.CES, (1, 7))]
)
def test_each_survey_takes_every_score_of_its_scale(survey: Survey, scale: tuple[int, int]) -> None:
    for score in range(scale[0], scale[1] + 1):
        assert RecordFeedback(actor=CUSTOMER, survey=survey, score=score).score == score


def test_a_survey_is_named_by_the_survey_enum() -> None:
    with pytest.raises(InvalidValue, match=r"one of Survey\.CSAT, Survey\.NPS"):
        RecordFeedback(actor=CUSTOMER, survey="csat", score=5)  # type: ignore[arg-type]


def test_recorded_feedback_keeps_its_survey_score_and_comment() -> None:
    play = Play(buying_cycle()).to_stage("resolved")
    (event,) = play(RecordFeedback(actor=CUSTOMER, survey=Survey.NPS, score=9, comment="great"))
    assert isinstance(event, FeedbackRecorded)
    given = play.case.feedback[-1]
    assert (given.at, given.actor) == (play.now, CUSTOMER)
    assert (given.survey, given.score, given.comment) == (Survey.NPS, 9, "great")


def test_an_old_feedback_rating_is_read_as_a_csat_score() -> None:
    play = Play(buying_cycle()).to_stage("resolved")
    (event,) = play(RecordFeedback(actor=CUSTOMER, survey=Survey.CSAT, score=4, comment="ok"))
    stored = event_to_dict(event)
    old = {**stored, "schema_version": 1, "payload": {"rating": 4, "comment": "ok"}}
    assert event_from_dict(old) == event


def test_requested_feedback_records_the_survey_and_the_channel() -> None:
    play = Play(buying_cycle()).to_stage("resolved")
    (event,) = play(RequestFeedback(actor=ANA, survey=Survey.CES, channel=Channel("sms")))
    assert isinstance(event, FeedbackRequested)
    assert (event.survey, event.channel) == (Survey.CES, Channel("sms"))


def test_a_customer_cannot_request_feedback() -> None:
    play = Play(buying_cycle()).to_stage("resolved")
    with pytest.raises(NotPermitted):
        play.attempt(RequestFeedback(actor=CUSTOMER, survey=Survey.CSAT, channel=Channel.EMAIL))


def test_nothing_is_requested_on_resolution_unless_the_rules_say_so() -> None:
    play = Play(buying_cycle()).to_stage("resolved")
    assert not [event for event in play.history if isinstance(event, FeedbackRequested)]


def test_the_rules_may_request_feedback_on_each_resolution_of_a_reopened_case() -> None:
    rules = FollowUpRules(reopen_stage="in_service", request_feedback=Survey.CSAT)
    play = Play(buying_cycle(follow_ups=rules)).to_stage("resolved")
    play(Move(actor=CUSTOMER, trigger="reopen"))
    play(Move(actor=ANA, trigger="resolve"))
    play(Move(actor=ANA, trigger="follow_up"))  # still resolved: not a new resolution
    asked = [event for event in play.history if isinstance(event, FeedbackRequested)]
    # resolved twice: asked twice, on the case's opening channel (the phone)
    assert [(event.survey, event.channel) for event in asked] == [(Survey.CSAT, Channel.PHONE)] * 2


def test_the_rules_send_the_survey_on_their_channel_when_they_name_one() -> None:
    rules = FollowUpRules(
        reopen_stage="in_service", request_feedback=Survey.NPS, feedback_channel=Channel.EMAIL
    )
    play = Play(buying_cycle(follow_ups=rules)).to_stage("resolved")
    (asked,) = [event for event in play.history if isinstance(event, FeedbackRequested)]
    assert asked.channel == Channel.EMAIL


def test_follow_up_rules_refuse_a_survey_that_is_not_a_survey() -> None:
    with pytest.raises(InvalidValue, match="request_feedback is a Survey"):
        FollowUpRules(request_feedback="csat")  # type: ignore[arg-type]
