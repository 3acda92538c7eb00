"""Shared fixtures and hypothesis settings, and the stores every desk test runs against."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Play
from hypothesis import HealthCheck, Phase, settings

from servicekit import Workflow, buying_cycle
from servicekit.stores import InMemoryStore, SQLiteStore, Store

settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# CI runs a fixed set of examples, so that a submission's result does not depend on luck;
# developers get fresh examples on every run.
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True)
# Under a mutation run (tools/mutation.sh sets SERVICEKIT_HYPOTHESIS_PROFILE=mutation) the
# tests run once per mutant: fewer fixed examples, and a failing example reported unshrunk
# (a killed mutant is all that run needs to know, and shrinking can take minutes).
MUTATION_EXAMPLES = 20
"""The most examples a hypothesis test draws under the mutation profile."""
settings.register_profile(
    "mutation",
    parent=settings.get_profile("ci"),
    max_examples=MUTATION_EXAMPLES,
    phases=[Phase.explicit, Phase.generate],
)
if os.environ.get("SERVICEKIT_HYPOTHESIS_PROFILE") == "mutation":
    settings.load_profile("mutation")
else:
    settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under the mutation profile, cap the examples of tests that ask for more themselves."""
    if settings.get_current_profile_name() != "mutation":
        return
    for item in items:
        test = getattr(item, "obj", None)
        own = getattr(test, "_hypothesis_internal_use_settings", None)  # @settings(...)
        if own is not None and own.max_examples > MUTATION_EXAMPLES:
            # where @settings keeps them; hypothesis reads them when the test runs
            test._hypothesis_internal_use_settings = settings(  # type: ignore[union-attr]  # noqa: SLF001
                own, max_examples=MUTATION_EXAMPLES
            )
        machine = getattr(item, "cls", None)  # a RuleBasedStateMachine's TestCase
        own = getattr(machine, "settings", None)
        if isinstance(own, settings) and own.max_examples > MUTATION_EXAMPLES:
            machine.settings = settings(own, max_examples=MUTATION_EXAMPLES)  # type: ignore[union-attr]


STORES = ["memory", "sqlite", "postgres"]
"""The stores of the parametrised `any_store` fixture."""


@pytest.fixture(scope="session")
def workflow() -> Workflow:
    """The default buying cycle, shared like an application would share it."""
    return buying_cycle()


@pytest.fixture
def play(workflow: Workflow) -> Play:
    """A blank case on the buying cycle, ready to be played."""
    return Play(workflow)


def postgres_url() -> str:
    """The test server's address (SERVICEKIT_TEST_POSTGRES), or skip (fail when required)."""
    url = os.environ.get("SERVICEKIT_TEST_POSTGRES")
    if url:
        return url
    message = "SERVICEKIT_TEST_POSTGRES is not set: no PostgreSQL to test against"
    if os.environ.get("SERVICEKIT_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{message}, and SERVICEKIT_REQUIRE_POSTGRES=1 requires one")
    pytest.skip(message)


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh schema on the test server, dropped afterwards; yields a URL that uses it."""
    from pg_testing import fresh_schema  # noqa: PLC0415 - needs the postgres extra

    with fresh_schema(postgres_url()) as url:
        yield url


@pytest.fixture(params=STORES)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each kind servicekit ships: memory, SQLite and PostgreSQL."""
    if request.param == "memory":
        yield InMemoryStore()
    elif request.param == "sqlite":
        with SQLiteStore(tmp_path / "servicekit.sqlite", synchronous="NORMAL") as store:
            yield store
    else:
        from pg_testing import fresh_store  # noqa: PLC0415 - needs the postgres extra

        with fresh_store(postgres_url()) as store:
            yield store
