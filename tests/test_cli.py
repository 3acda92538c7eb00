"""The servicekit command, run as a person runs it: a subprocess, its output, its status."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import pytest

from servicekit import (
    Agent,
    CaseOpened,
    Channel,
    Customer,
    ManualClock,
    ServiceDesk,
    SQLiteStore,
    Stage,
    StatusCategory,
    Transition,
    Workflow,
    buying_cycle,
)
from servicekit.cli.demo import policies

COMMAND = [sys.executable, "-m", "servicekit.cli"]
DEMO = ("--sla", "servicekit.cli.demo:policies")

CUSTOM = """
from servicekit import Stage, StatusCategory, Transition, Workflow

def returns() -> Workflow:
    return Workflow(
        name="returns",
        stages=[Stage("asked", StatusCategory.NEW), Stage("done", StatusCategory.CLOSED)],
        transitions=[Transition("finish", "asked", "done")],
        start="asked",
    )

def raises() -> Workflow:
    raise RuntimeError("no workflow today")

def broken() -> Workflow:
    return Workflow(
        name="broken",
        stages=[Stage("a", StatusCategory.NEW), Stage("b", StatusCategory.OPEN)],
        transitions=[Transition("go", "a", "nowhere")],
        start="a",
    )
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command, with arguments from the test
        [*COMMAND, *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def refused_in_one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    result = run("demo", "--db", "demo.sqlite", "--days", "3", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "demo.sqlite"


def _returns_workflow() -> Workflow:
    return Workflow(
        name="returns",
        stages=[Stage("asked", StatusCategory.NEW), Stage("done", StatusCategory.CLOSED)],
        transitions=[Transition("finish", "asked", "done")],
        start="asked",
    )


@pytest.fixture
def custom_db(tmp_path: Path) -> Path:
    """A database with one case on the custom workflow 'returns' (defined in custom.py)."""
    (tmp_path / "custom.py").write_text(CUSTOM)
    path = tmp_path / "custom.sqlite"
    with SQLiteStore(path) as store:
        desk = ServiceDesk(workflow=_returns_workflow(), store=store)
        desk.open_case(
            actor=Customer("c"),
            customer_id="c",
            channel=Channel.WEB,
            summary="Return",
            case_id="R1",
        )
    return path


def test_the_demo_simulates_every_part_of_the_service(demo_db: Path) -> None:
    with SQLiteStore(demo_db) as store:
        events = [stored.event for stored in store.read_all()]
    kinds = Counter(type(event).__name__ for event in events)
    for kind in (
        "OfferAccepted",
        "OfferRejected",
        "CaseTransferred",
        "FollowUpCompleted",
        "FeedbackRecorded",
        "SlaWarned",
        "SlaBreached",
    ):
        assert kinds[kind] > 0, kind
    stages = Counter(getattr(event, "dest", None) for event in events)
    assert stages["won"] > 0
    assert stages["lost"] > 0
    assert stages["waiting_on_customer"] + stages["waiting"] > 0
    assert {event.workflow for event in events if isinstance(event, CaseOpened)} == {
        "buying_cycle",
        "support",
    }
    moves = Counter(getattr(event, "trigger", None) for event in events)
    assert moves["reopen"] > 0
    channels = {str(event.channel) for event in events if hasattr(event, "channel")}
    assert len(channels) >= 4


def test_the_demo_prints_the_kpi_report_and_writes_the_page(tmp_path: Path) -> None:
    result = run("demo", "--db", "shop.sqlite", "--days", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "KPI report of shop.sqlite" in result.stdout
    assert "sla_attainment:first_response" in result.stdout
    assert "HTML report: shop.html" in result.stdout
    assert (tmp_path / "shop.html").read_text().startswith("<!DOCTYPE html>")


def test_report_prints_tables_and_writes_the_page(demo_db: Path) -> None:
    page = demo_db.parent / "by-channel.html"
    result = run("report", "--db", str(demo_db), "--by", "channel", "--html", str(page), *DEMO,
                 cwd=demo_db.parent)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "first_response_time" in result.stdout
    assert "By agent" in result.stdout
    assert "By channel" in result.stdout
    assert f"HTML report: {page}" in result.stdout
    assert 'data-grouping="channel"' in page.read_text()


def test_report_since_and_until_count_the_cases_of_the_window(demo_db: Path) -> None:
    # The demo's first business day is Monday 2024-03-04; three days of customers.
    everything = run("report", "--db", str(demo_db), *DEMO, cwd=demo_db.parent)
    later = run("report", "--db", str(demo_db), "--since", "2024-03-05", *DEMO, cwd=demo_db.parent)
    with SQLiteStore(demo_db) as store:
        opened = [s for s in store.find_cases() if s.opened_at >= datetime(2024, 3, 5, tzinfo=UTC)]
        total = len(store.find_cases())
    assert f": {total} cases" in everything.stdout
    assert f": {len(opened)} cases" in later.stdout
    assert 0 < len(opened) < total


def test_the_same_seed_writes_the_same_history(tmp_path: Path) -> None:
    for name in ("one.sqlite", "two.sqlite"):
        assert run("demo", "--db", name, "--days", "1", "--seed", "7", cwd=tmp_path).returncode == 0
    histories = []
    for name in ("one.sqlite", "two.sqlite"):
        with SQLiteStore(tmp_path / name) as store:
            histories.append([stored.event for stored in store.read_all()])
    assert histories[0] == histories[1]
    assert histories[0]


def test_the_demo_does_not_overwrite_a_file_unless_told(tmp_path: Path) -> None:
    (tmp_path / "mine.sqlite").write_text("my notes")
    line = refused_in_one_line(run("demo", "--db", "mine.sqlite", cwd=tmp_path))
    assert "--replace" in line
    assert (tmp_path / "mine.sqlite").read_text() == "my notes"
    line = refused_in_one_line(run("demo", "--db", "mine.sqlite", "--replace", cwd=tmp_path))
    assert "is not a servicekit database" in line
    assert (tmp_path / "mine.sqlite").read_text() == "my notes"


def test_the_demo_replaces_its_own_database_when_told(tmp_path: Path) -> None:
    for seed in ("1", "2"):
        args = ("demo", "--db", "shop.sqlite", "--days", "1", "--seed", seed, "--replace")
        assert run(*args, cwd=tmp_path).returncode == 0
    with SQLiteStore(tmp_path / "shop.sqlite") as store:
        assert {summary.case_id[:2] for summary in store.find_cases()} == {"S2"}


READERS = [
    ["check", "{db}"],
    ["history", "C1", "--db", "{db}"],
    ["explain", "C1", "--db", "{db}"],
    ["report", "--db", "{db}"],
    ["tick", "--db", "{db}"],
]


@pytest.mark.parametrize("command", READERS, ids=lambda command: command[0])
def test_reading_a_missing_database_creates_none(tmp_path: Path, command: list[str]) -> None:
    args = [part.format(db="typo.sqlite") for part in command]
    line = refused_in_one_line(run(*args, cwd=tmp_path))
    assert "'typo.sqlite' does not exist" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", READERS, ids=lambda command: command[0])
def test_an_empty_file_is_refused_and_left_empty(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "empty.sqlite").touch()
    args = [part.format(db="empty.sqlite") for part in command]
    line = refused_in_one_line(run(*args, cwd=tmp_path))
    assert "is an empty file" in line
    assert [path.name for path in tmp_path.iterdir()] == ["empty.sqlite"]
    assert (tmp_path / "empty.sqlite").stat().st_size == 0


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a database, just notes " * 10)
    line = refused_in_one_line(run("check", "notes.txt", cwd=tmp_path))
    assert "'notes.txt' is not a servicekit database" in line


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["report", "--db", "x.sqlite", "--by", "weather"], 'Invalid value "weather" for --by'),
        (["report", "--db", "x.sqlite", "--bogus"], "Unknown option: --bogus"),
        (["frobnicate"], 'Unknown command "frobnicate"'),
        (["diagram", "--workflow", "no_such_module:flow"], "cannot import 'no_such_module'"),
        (["diagram", "--workflow", "servicekit:nothing"], "'servicekit' has no 'nothing'"),
        (["diagram", "--workflow", "servicekit"], "is not MODULE:NAME"),
        (["diagram", "--workflow", "servicekit:Channel.PHONE"], "not a Workflow"),
        (["tick", "--db", "x.sqlite", "--every", "soon"], "--every"),
        (["diagram", "--workflow", "explodes:flow"], "raised ZeroDivisionError: division by zero"),
        (["check", "explodes"], "raised ZeroDivisionError: division by zero"),
        (["diagram", "--workflow", "custom:raises"], "custom:raises raised RuntimeError: no work"),
        (["diagram", "--workflow", "custom:broken"], "custom:broken: workflow 'broken' is invalid"),
        (["diagram", "--workflow", "missing.py:flow"], "there is no Python file 'missing.py'"),
        (["check", "."], "'.' is not a file"),
        (["demo", "--days", "0"], "--days takes a whole number from 1"),
        (["report", "--db", "x.sqlite", "--since", "yesterday"], "--since takes a date"),
        (
            ["report", "--db", "x.sqlite", "--since", "2024-03-05", "--until", "2024-03-04"],
            "--until (2024-03-04) must come after --since (2024-03-05)",
        ),
        (["report", "--db", "x.sqlite", "--until", "2024-03-04T09:00"], "needs a time zone"),
    ],
    ids=lambda value: value[0] if isinstance(value, list) else None,
)
def test_bad_input_gets_one_line_and_a_non_zero_exit(
    tmp_path: Path, args: list[str], says: str
) -> None:
    (tmp_path / "explodes.py").write_text("1 / 0\n")
    (tmp_path / "custom.py").write_text(CUSTOM)
    assert says in refused_in_one_line(run(*args, cwd=tmp_path))


def test_an_unknown_case_is_named(demo_db: Path) -> None:
    line = refused_in_one_line(run("history", "nope", "--db", str(demo_db), cwd=demo_db.parent))
    assert line == "servicekit: there is no case 'nope'"


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    # Many diagrams: far more output than a pipe holds, so the writer meets the closed end.
    args = [arg for _ in range(300) for arg in ("--workflow", "servicekit:buying_cycle")]
    writer = subprocess.Popen(  # noqa: S603 - our own command
        [*COMMAND, "diagram", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path
    )
    assert writer.stdout is not None
    assert writer.stderr is not None
    assert writer.stdout.readline().startswith(b"stateDiagram-v2")
    writer.stdout.close()  # what `| head -1` does once it has its line
    status = writer.wait(timeout=60)
    assert writer.stderr.read() == b""
    writer.stderr.close()
    assert status == 141


def test_version_is_the_package_version(tmp_path: Path) -> None:
    result = run("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == version("servicekit")


@pytest.mark.parametrize(
    "command", ["demo", "report", "diagram", "explain", "tick", "check", "history"]
)
def test_help_is_plain_text_with_named_arguments(tmp_path: Path, command: str) -> None:
    result = run(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "``" not in result.stdout
    assert ":class:" not in result.stdout
    assert "Args:" not in result.stdout
    if command in {"explain", "history"}:
        assert "CASE_ID" in result.stdout
    if command in {"report", "explain", "tick", "history"}:
        assert "--db FILE" in result.stdout


def test_check_counts_what_the_database_holds(demo_db: Path) -> None:
    result = run("check", str(demo_db), cwd=demo_db.parent)
    assert result.returncode == 0, result.stderr
    with SQLiteStore(demo_db) as store:
        cases, events = len(store.find_cases()), len(store.read_all())
    assert f"{cases} cases, {events} events, 9 agents" in result.stdout


def test_check_says_one_case_not_one_cases(custom_db: Path) -> None:
    result = run("check", str(custom_db), "--workflow", "custom:returns", cwd=custom_db.parent)
    assert "1 case, 2 events, 0 agents" in result.stdout


def test_check_names_the_workflow_it_was_not_given(custom_db: Path) -> None:
    result = run("check", str(custom_db), cwd=custom_db.parent)
    assert result.returncode == 1
    assert "case 'R1': workflow 'returns' was not given" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_custom_workflow_is_read_with_the_workflow_option(custom_db: Path) -> None:
    result = run("check", str(custom_db), "--workflow", "custom:returns", cwd=custom_db.parent)
    assert result.returncode == 0, result.stderr
    assert "returns:asked: 1" in result.stdout
    history = run("history", "R1", "--db", str(custom_db), "--workflow", "custom:returns",
                  cwd=custom_db.parent)  # fmt: skip
    assert history.returncode == 0, history.stderr
    assert "opened the case in 'asked'" in history.stdout


def test_check_reports_an_index_that_disagrees_with_the_history(demo_db: Path) -> None:
    copy = demo_db.parent / "tampered.sqlite"
    copy.write_bytes(demo_db.read_bytes())
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE cases SET stage = 'won' WHERE case_id = 'S1-0001'")
        db.execute("UPDATE cases SET owner_id = 'nobody' WHERE case_id = 'S1-0002'")
    db.close()
    result = run("check", str(copy), cwd=demo_db.parent)
    assert result.returncode == 1
    problems = result.stderr.splitlines()
    assert f"{copy}: case 'S1-0001': the index says stage 'won', the history says 'closed'" in (
        problems
    )
    assert any("case 'S1-0002': the index says owner_id 'nobody'" in line for line in problems)
    assert problems[-1] == "2 problems found"


def test_check_of_a_module_reports_every_problem_of_its_workflows(tmp_path: Path) -> None:
    (tmp_path / "custom.py").write_text(CUSTOM)
    result = run("check", "custom", cwd=tmp_path)
    assert result.returncode == 1
    assert "custom:returns: workflow 'returns', 2 stages" in result.stdout
    problems = result.stderr.splitlines()
    broken = "custom:broken: workflow 'broken'"
    assert f"{broken}: transition 'go' leads to the unknown stage 'nowhere'" in problems
    assert f"{broken}: stage 'b' cannot be reached from the start stages" in problems
    assert problems[-1].endswith("problems found")


def test_check_names_what_policies_expect_of_the_workflows(tmp_path: Path) -> None:
    (tmp_path / "rules.py").write_text(
        CUSTOM
        + """
from servicekit import PolicySet, Policy, Target, BusinessCalendar, Conditions
from servicekit.sla import Metric

policies = PolicySet([
    Policy(
        name="returns",
        version=1,
        calendar=BusinessCalendar.always_open(),
        conditions=Conditions(workflows={"refunds"}, stages={"limbo"}),
        targets=[Target(Metric.REACH_STAGE, "1h", stage="shipped")],
    )
])
"""
    )
    result = run("check", "rules", cwd=tmp_path)
    assert result.returncode == 1
    problems = result.stderr.splitlines()
    where = "rules:policies: policy 'returns' v1"
    assert f"{where}: its conditions name the unknown workflow 'refunds'" in problems
    assert f"{where}: its conditions name the stage 'limbo', which no workflow has" in problems
    assert f"{where}: target 'reach_stage:shipped' waits for a stage no workflow has" in problems
    assert "rules:raises raised RuntimeError: no workflow today" in problems
    assert "rules:returns: workflow 'returns', 2 stages" in result.stdout


def test_a_module_that_defines_nothing_to_check_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty_module.py").write_text("ANSWER = 42\n")
    result = run("check", "empty_module", cwd=tmp_path)
    assert result.returncode == 1
    assert "empty_module: defines no workflow or SLA policies" in result.stderr


def test_a_workflow_from_a_python_file_path(tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "mine.py").write_text(CUSTOM)
    result = run("diagram", "--workflow", "flows/mine.py:returns", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "%% workflow returns" in result.stdout


def test_explain_names_the_workflow_it_was_not_given(custom_db: Path) -> None:
    line = refused_in_one_line(run("explain", "R1", "--db", str(custom_db), cwd=custom_db.parent))
    assert "case 'R1' follows workflow 'returns', which was not given" in line


def test_check_of_a_sound_definition_exits_zero(tmp_path: Path) -> None:
    result = run("check", "servicekit.cli.demo:policies", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 SLA policies" in result.stdout


def test_explain_shows_history_briefing_and_sla(demo_db: Path) -> None:
    result = run("explain", "S1-0001", "--db", str(demo_db), *DEMO, cwd=demo_db.parent)
    assert result.returncode == 0, result.stderr
    assert "History of case S1-0001:" in result.stdout
    assert "  #1 " in result.stdout
    assert "Briefing:\nCase S1-0001 for customer" in result.stdout
    assert "SLA of case S1-0001" in result.stdout


def _overdue_db(path: Path) -> None:
    """A case opened in 2024 that nobody answered: its first-response SLA is long due."""
    clock = ManualClock(datetime(2024, 3, 4, 9, 0, tzinfo=UTC))
    with SQLiteStore(path) as store:
        desk = ServiceDesk(workflow=buying_cycle(), store=store, clock=clock, sla=policies())
        desk.register_agent(Agent("ana", teams={"sales"}))
        desk.open_case(
            actor=Customer("c"), customer_id="c", channel=Channel.CHAT, summary="Hi", case_id="L1"
        )


def test_tick_fires_what_is_due_once(tmp_path: Path) -> None:
    _overdue_db(tmp_path / "late.sqlite")
    args = ("tick", "--db", "late.sqlite", "--sla", "servicekit.cli.demo:policies")
    first = run(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "L1 " in first.stdout
    assert "breached" in first.stdout
    second = run(*args, cwd=tmp_path)
    assert second.stdout == "nothing was due\n"


def test_tick_sets_aside_a_case_it_cannot_serve_and_fires_the_others(tmp_path: Path) -> None:
    _overdue_db(tmp_path / "late.sqlite")
    clock = ManualClock(datetime(2024, 3, 4, 9, 0, tzinfo=UTC))
    with SQLiteStore(tmp_path / "late.sqlite") as store:
        desk = ServiceDesk(workflow=_returns_workflow(), store=store, clock=clock, sla=policies())
        desk.open_case(
            actor=Customer("d"), customer_id="d", channel=Channel.WEB, summary="Back", case_id="R9"
        )
    result = run("tick", "--db", "late.sqlite", "--sla", "servicekit.cli.demo:policies",
                 cwd=tmp_path)  # fmt: skip
    assert result.returncode == 1
    assert "L1 " in result.stdout  # the case on the buying cycle fired
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("set aside: case 'R9'")
    assert result.stderr.count("'R9'") == 1
    assert "returns" in result.stderr


def test_tick_every_runs_until_interrupted(tmp_path: Path) -> None:
    _overdue_db(tmp_path / "late.sqlite")
    worker = subprocess.Popen(  # noqa: S603 - our own command
        [*COMMAND, "tick", "--db", "late.sqlite", "--every", "0.2", "--sla",
         "servicekit.cli.demo:policies"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, text=True,
    )  # fmt: skip
    assert worker.stdout is not None
    assert "L1 " in worker.stdout.readline()  # the first round fired the overdue timers
    time.sleep(0.5)
    worker.send_signal(signal.SIGINT)
    out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0
    assert out.rstrip().endswith("stopped")
    assert err == ""


def test_diagram_draws_the_named_workflow(tmp_path: Path) -> None:
    (tmp_path / "custom.py").write_text(CUSTOM)
    result = run("diagram", "--workflow", "custom:returns", "--format", "dot", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('digraph "returns" {')
    assert '"asked" -> "done" [label="finish"];' in result.stdout


@pytest.mark.skipif(os.name != "posix", reason="the console script's path is POSIX")
def test_the_console_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "servicekit"
    result = subprocess.run(  # noqa: S603 - the installed console script
        [script, "--version"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert result.stdout.strip() == version("servicekit")


def _checking_workflow() -> Workflow:
    return Workflow(
        name="returns",
        stages=[
            Stage("asked", StatusCategory.NEW),
            Stage("checking", StatusCategory.OPEN),
            Stage("done", StatusCategory.CLOSED),
        ],
        transitions=[
            Transition("check", "asked", "checking"),
            Transition("finish", "checking", "done"),
        ],
        start="asked",
    )


@pytest.fixture
def lost_stage_db(tmp_path: Path) -> Path:
    """Cases R1 (in 'checking', which lost.py's workflow no longer has), R2 and R3 (in 'asked')."""
    (tmp_path / "lost.py").write_text(CUSTOM)  # its returns() has no "checking"
    path = tmp_path / "lost.sqlite"
    with SQLiteStore(path) as store:
        desk = ServiceDesk(workflow=_checking_workflow(), store=store)
        desk.register_agent(Agent("ana"))
        for case_id in ("R1", "R2", "R3"):
            desk.open_case(
                actor=Customer("c"), customer_id="c", channel=Channel.WEB, summary="s",
                case_id=case_id,
            )  # fmt: skip
        desk.take("R1", actor="ana")
        desk.move("R1", "check", actor="ana")
    return path


def test_check_reports_a_case_in_a_lost_stage_and_checks_the_others(lost_stage_db: Path) -> None:
    result = run("check", "lost.sqlite", "--workflow", "lost:returns", cwd=lost_stage_db.parent)
    assert "Traceback" not in result.stderr
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "case 'R1'" in output
    assert "checking" in output
    assert "3 cases" in output
    assert "returns:asked" in output


def test_report_names_each_case_it_set_aside_and_why(lost_stage_db: Path) -> None:
    args = ("report", "--db", "lost.sqlite", "--workflow", "lost:returns", "--html", "r.html")
    result = run(*args, cwd=lost_stage_db.parent)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("set aside: ")
    assert "'R1'" in result.stderr
    assert "checking" in result.stderr
    assert result.stderr.count("'R1'") == 1
    assert "set aside: " in result.stdout
    assert "R1" in (lost_stage_db.parent / "r.html").read_text(encoding="utf-8")
