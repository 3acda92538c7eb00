"""Shared fixtures and hypothesis settings."""

from __future__ import annotations

import os

import pytest
from helpers import Play
from hypothesis import HealthCheck, Phase, settings

from servicekit import Workflow, buying_cycle

settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# CI runs a fixed set of examples, so that a submission's result does not depend on luck;
# developers get fresh examples on every run.
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True)
# Under a mutation run (tools/mutation.sh) a failing example is reported unshrunk: a killed
# mutant is all that run needs to know, and shrinking can take minutes.
settings.register_profile(
    "mutation", parent=settings.get_profile("ci"), phases=[Phase.explicit, Phase.generate]
)
if os.environ.get("MUTANT_UNDER_TEST"):
    settings.load_profile("mutation")
else:
    settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def workflow() -> Workflow:
    """The default buying cycle, shared like an application would share it."""
    return buying_cycle()


@pytest.fixture
def play(workflow: Workflow) -> Play:
    """A blank case on the buying cycle, ready to be played."""
    return Play(workflow)
