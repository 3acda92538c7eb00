"""Many processes on one PostgreSQL database: no lost update, and each timer fired once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import postgres_url
from helpers import BO, START
from pg_testing import seed_due_follow_ups

from servicekit import (
    Channel,
    FollowUpDue,
    InteractionRecorded,
    ManualClock,
    ServiceDesk,
    buying_cycle,
    replay,
)
from servicekit.stores.sqlalchemy import SQLAlchemyStore

WORKERS = Path(__file__).with_name("pg_workers.py")
WORKFLOW = buying_cycle()
TIMERS = int(os.environ.get("SERVICEKIT_TICK_TIMERS", "1000"))
"""Due timers in the 4-worker test: 1,000 in CI, 10,000 with SERVICEKIT_TICK_TIMERS=10000."""
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")


@pytest.fixture
def schema() -> Iterator[tuple[str, SQLAlchemyStore]]:
    from pg_testing import engine_on, fresh_schema  # noqa: PLC0415 - needs the postgres extra

    url = postgres_url()
    with fresh_schema(url) as name:
        engine = engine_on(url, name)
        store = SQLAlchemyStore(engine)
        store.create_tables()
        yield name, store
        engine.dispose()


def worker(verb: str, schema: str, *arguments: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(  # noqa: S603 - our own worker script, our own interpreter
        [sys.executable, str(WORKERS), verb, postgres_url(), schema, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def test_processes_racing_on_one_case_lose_no_update(
    schema: tuple[str, SQLAlchemyStore],
) -> None:
    name, store = schema
    desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
    desk.register_agent(BO)
    for case_id in ["a", "b"]:
        desk.open_case(
            actor="bo",
            customer_id="c",
            channel=Channel.PHONE,
            summary="s",
            stage="in_service",
            case_id=case_id,
        )
    processes = [worker("race", name, f"w{n}", "30", "a,b") for n in range(4)]
    for process in processes:
        with process:
            out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
        assert json.loads(out)["done"] == 30
    recorded = []
    for case_id in ["a", "b"]:
        history = store.load(case_id).events
        assert [event.version for event in history] == list(range(1, len(history) + 1))
        replay(WORKFLOW, history)
        recorded += [e.summary for e in history if isinstance(e, InteractionRecorded)]
    expected = [f"w{n}-{m}" for n in range(4) for m in range(30)]
    assert sorted(s for s in recorded if s != "s") == sorted(expected)  # each exactly once


@pytest.mark.slow
def test_four_ticking_processes_fire_each_timer_once_though_one_is_killed(
    schema: tuple[str, SQLAlchemyStore],
) -> None:
    name, store = schema
    seed_due_follow_ups(store, TIMERS)
    now = (START + timedelta(hours=2)).isoformat()
    processes = [worker("tick", name, now) for _ in range(4)]
    victim = processes[0]
    assert victim.stdout is not None
    assert victim.stdout.readline() == "started\n"
    deadline = time.monotonic() + 120
    while len(store.find_due(until=START + timedelta(hours=2))) > TIMERS * 3 // 4:
        assert time.monotonic() < deadline, "the workers fire nothing"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)  # midway: a quarter of the timers fired
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    for process in processes[1:]:
        with process:
            _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    with store.engine.connect() as connection:
        data = connection.execute(sa.text("SELECT data FROM servicekit_events")).scalars().all()
    fired = Counter(
        item.event.case_id for item in store.read_all() if isinstance(item.event, FollowUpDue)
    )
    assert len(data) == len(store.read_all())
    assert sum(fired.values()) == TIMERS  # exactly this many fire events ...
    assert len(fired) == TIMERS  # ... one for each case: no duplicate, no miss
    assert store.find_due(until=START + timedelta(hours=2)) == []
    victim.stdout.close()
    if victim.stderr is not None:
        victim.stderr.close()
