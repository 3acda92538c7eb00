"""`servicekit.testing.strategies.histories()` explores: deep histories that reach every event."""

from __future__ import annotations

import statistics
from typing import Any

import pytest
from hypothesis import given, settings

from servicekit.serialization import EVENT_TYPES
from servicekit.testing.strategies import histories

ROUTING_EVENTS = frozenset({"SkillsChanged", "CaseReturnedToQueue"})
"""Routing's events: drawn and checked by tests/test_routing_stateful.py, which drives the
desk's routing (skills, capacity, the queue); this test covers the ownership rules."""


@pytest.mark.slow
def test_histories_reach_every_event_type_and_go_deep() -> None:
    seen: set[str] = set()
    lengths: list[int] = []

    @settings(max_examples=150, database=None, derandomize=True)
    @given(histories())
    def draw(history: list[Any]) -> None:
        seen.update(type(event).__name__ for event in history)
        lengths.append(len(history))

    draw()
    assert seen == set(EVENT_TYPES) - ROUTING_EVENTS
    assert statistics.median(lengths) >= 12
