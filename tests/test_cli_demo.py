"""The demo's simulation: one story the rules refuse never stops the others."""

from __future__ import annotations

import random
from datetime import timedelta

from servicekit import InMemoryStore, ManualClock, ServiceDesk, ServiceKitError, buying_cycle
from servicekit.cli.demo import START, Step, _Run


def test_a_refused_story_is_reported_and_the_others_go_on() -> None:
    clock = ManualClock(START)
    desk = ServiceDesk(workflow=buying_cycle(), store=InMemoryStore(), clock=clock)
    run = _Run(desk, clock, random.Random(1), prefix="T")  # noqa: S311 - dice, not secrets
    finished: list[str] = []

    def refused() -> Step:
        yield timedelta(minutes=5)
        msg = "the rules say no"
        raise ServiceKitError(msg)

    def served(name: str) -> Step:
        yield timedelta(minutes=10)
        finished.append(name)

    queue = [(START, 0, served("first")), (START, 1, refused()), (START, 2, served("last"))]
    run.play(queue, None)
    assert finished == ["first", "last"]
    assert run.refused == ["story 1: the rules say no"]
