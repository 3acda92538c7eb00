"""Several processes at once, and a writer killed mid-stream: nothing lost, nothing partial."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import START

from servicekit import (
    Agent,
    CaseTransferred,
    Channel,
    FollowUpScheduled,
    InteractionRecorded,
    ManualClock,
    ServiceDesk,
    buying_cycle,
    replay,
)
from servicekit.stores import SQLiteStore

WORKERS = Path(__file__).with_name("workers.py")
WORKFLOW = buying_cycle()
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX signals")


def prepared(path: Path, case_ids: list[str]) -> None:
    with SQLiteStore(path) as store:
        desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
        desk.register_agent(Agent("bo", teams={"service"}))
        desk.register_agent(Agent("cy", teams={"service"}))
        for case_id in case_ids:
            desk.open_case(
                actor="bo",
                customer_id="c",
                channel=Channel.PHONE,
                summary="s",
                stage="in_service",
                case_id=case_id,
            )


def worker(*arguments: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(  # noqa: S603 - our own worker script, our own interpreter
        [sys.executable, str(WORKERS), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def test_processes_appending_at_once_lose_nothing_and_double_nothing(tmp_path: Path) -> None:
    path = tmp_path / "race.sqlite"
    cases = ["a", "b"]
    prepared(path, cases)
    processes = [worker("race", str(path), f"w{n}", "40", ",".join(cases)) for n in range(4)]
    ready = [Path(f"{path}.ready-w{n}") for n in range(4)]
    deadline = time.monotonic() + 120
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    Path(f"{path}.go").touch()  # the start line: all four begin their appends together
    reports = []
    for process in processes:
        with process:
            out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
        reports.append(json.loads(out))
    assert sum(report["done"] for report in reports) == 160
    assert sum(report["conflicts"] for report in reports) > 0  # they really raced
    with SQLiteStore(path) as store:
        recorded = []
        for case_id in cases:
            history = store.load(case_id).events
            assert [e.version for e in history] == list(range(1, len(history) + 1))
            replay(WORKFLOW, history)
            recorded += [e.summary for e in history if isinstance(e, InteractionRecorded)]
        expected = {f"w{n}-{m}" for n in range(4) for m in range(40)}
        assert sorted(s for s in recorded if s != "s") == sorted(expected)  # each exactly once
        log = store.read_all()
        assert len(log) == sum(store.load(case_id).version for case_id in cases)


def test_a_killed_writer_leaves_every_acknowledged_append_and_no_partial_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "killed.sqlite"
    prepared(path, ["k"])
    acknowledged = 0
    with worker("transfers", str(path), "k") as process:
        assert process.stdout is not None
        for line in process.stdout:
            acknowledged = int(line)
            if acknowledged >= 60:
                break
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    with SQLiteStore(path) as store:
        history = store.load("k").events
        assert len(history) >= acknowledged
        case = replay(WORKFLOW, history)
        assert case.version == len(history)
        for index, event in enumerate(history):  # a transfer and its follow-up land together
            if isinstance(event, CaseTransferred):
                assert isinstance(history[index + 1], FollowUpScheduled)
        assert [item.event for item in store.read_all()] == list(history)
