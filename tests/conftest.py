"""Shared fixtures and hypothesis settings, and the stores every desk test runs against."""

from __future__ import annotations

import functools
import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
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
    """Run the tests marked `slow` first; under the mutation profile, the quickest first.

    The suite runs on parallel workers (`pytest -n auto`, pytest-xdist): a test of
    minutes started last would keep one worker busy while the others have finished,
    so the long ones start at once and the short ones fill in around them. Under the
    mutation profile hypothesis tests draw fewer examples, too.
    """
    if settings.get_current_profile_name() != "mutation":
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable
        return
    # A mutant is killed by the first test that fails (mutmut runs pytest -x): the quickest
    # first, by the durations mutmut measured (mutants/mutmut-stats.json, in the directory
    # it runs the tests in), so that a killed mutant costs its quickest failing test.
    durations = _mutmut_durations()
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
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


def _mutmut_durations() -> dict[str, float]:
    """Each test's duration as mutmut measured it, or nothing before its first measure."""
    try:
        stats = json.loads(Path("mutmut-stats.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    durations: dict[str, float] = stats.get("duration_by_test", {})
    return durations


def examples(wanted: int) -> int:
    """`wanted` examples, or the mutation profile's cap when it is loaded and lower.

    For tests that hand their settings to `run_state_machine_as_test`, which the collection
    hook above cannot see.
    """
    if settings.get_current_profile_name() == "mutation":
        return min(wanted, MUTATION_EXAMPLES)
    return wanted


STORES = ["memory", "sqlite", "postgres"]
"""The stores of the parametrised `store_kind` fixture: `any_store`'s and `store_factory`'s."""


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


StoreFactory = Callable[[], AbstractContextManager[Store]]
"""Opens a fresh, empty store each time it is called (see `store_factory`)."""


@contextmanager
def open_store(kind: str, directory: Path) -> Iterator[Store]:
    """A fresh, empty store of `kind` (one of STORES), closed (or dropped) afterwards.

    SQLite's file is new in `directory`; PostgreSQL's tables are in a schema of their own.
    """
    if kind == "memory":
        yield InMemoryStore()
    elif kind == "sqlite":
        path = directory / f"servicekit-{uuid.uuid4().hex[:12]}.sqlite"
        with SQLiteStore(path, synchronous="NORMAL") as store:
            yield store
    else:
        from pg_testing import fresh_store  # noqa: PLC0415 - needs the postgres extra

        with fresh_store(postgres_url()) as store:
            yield store


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    """Each store servicekit ships, by name; PostgreSQL's skips (or fails) without a server."""
    kind: str = request.param
    if kind == "postgres":
        postgres_url()  # skip or fail here, not in the middle of a test
    return kind


@pytest.fixture
def any_store(store_kind: str, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each kind servicekit ships: memory, SQLite and PostgreSQL."""
    with open_store(store_kind, tmp_path) as store:
        yield store


@pytest.fixture
def store_factory(store_kind: str, tmp_path: Path) -> StoreFactory:
    """For tests that need many fresh stores of each kind, such as one per hypothesis example."""
    return functools.partial(open_store, store_kind, tmp_path)
