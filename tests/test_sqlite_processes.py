"""Any number of processes may create and open one SQLite file at once, in any order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import START

from servicekit import Agent, Channel, ManualClock, ServiceDesk, buying_cycle, replay
from servicekit.stores import SQLiteStore

WORKERS = Path(__file__).with_name("workers.py")
WORKFLOW = buying_cycle()
CROWD = 8
ROUNDS = 20


def worker(*arguments: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(  # noqa: S603 - our own worker script, our own interpreter
        [sys.executable, str(WORKERS), *arguments],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def test_processes_creating_and_opening_one_new_file_at_once_all_work(tmp_path: Path) -> None:
    names = [f"w{n}" for n in range(CROWD)]
    crowd = [worker("crowd", str(tmp_path), name) for name in names]
    errors: list[tuple[int, str, str]] = []
    try:
        for number in range(ROUNDS):  # every worker starts each round on a fresh path at once
            for process in crowd:
                assert process.stdin is not None
                process.stdin.write(f"{number}\n")
                process.stdin.flush()
            for name, process in zip(names, crowd, strict=True):
                assert process.stdout is not None
                error = json.loads(process.stdout.readline() or '"the worker died"')
                if error is not None:
                    errors.append((number, name, error))
    finally:
        for process in crowd:
            with process:
                _, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
    assert errors == []
    for number in range(ROUNDS):
        with SQLiteStore(tmp_path / f"round-{number}.sqlite") as store:
            assert sorted(s.case_id for s in store.find_cases()) == names
            assert [a.id for a in store.agents_in_team("service")] == names
            for name in names:
                assert replay(WORKFLOW, store.load(name).events).record.customer_id == name


def test_a_second_process_opens_a_file_another_process_just_created_and_holds(
    tmp_path: Path,
) -> None:
    path = tmp_path / "held.sqlite"
    with SQLiteStore(path) as store:  # created here and held open while the other one works
        desk = ServiceDesk(workflow=WORKFLOW, store=store, clock=ManualClock(START))
        desk.register_agent(Agent("bo", teams={"service"}))
        opened = desk.open_case(
            actor="bo", customer_id="c", channel=Channel.PHONE, summary="s", case_id="k"
        )
        with worker("visit", str(path), "k") as visitor:
            out, err = visitor.communicate(timeout=60)
        assert visitor.returncode == 0, err
        assert int(out) == opened.case.version + 1
        assert store.load("k").version == opened.case.version + 1


pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process pipes")
