"""Shared fixtures and hypothesis settings."""

from __future__ import annotations

import pytest
from helpers import Play
from hypothesis import HealthCheck, settings

from servicekit import Workflow, buying_cycle

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def workflow() -> Workflow:
    """The default buying cycle, shared like an application would share it."""
    return buying_cycle()


@pytest.fixture
def play(workflow: Workflow) -> Play:
    """A blank case on the buying cycle, ready to be played."""
    return Play(workflow)
