"""The servicekit command: the demo on an SQLite file, check and history."""

from __future__ import annotations

from pathlib import Path

import pytest

from servicekit.cli import main


def test_the_demo_walks_a_customer_through_the_cycle_into_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.sqlite"
    assert main(["demo", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "The briefing bo read" in out
    assert "close: follow_up -> closed" in out
    assert path.exists()
    assert main(["demo", "--db", str(path)]) == 0  # a second run adds a second case
    capsys.readouterr()
    assert main(["check", str(path)]) == 0
    assert "2 cases, 46 events, 3 agents" in capsys.readouterr().out


def test_history_prints_one_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "demo.sqlite"
    main(["demo", "--db", str(path)])
    case_id = capsys.readouterr().out.split("servicekit history ")[-1].split()[-1]
    assert main(["history", str(path), case_id]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 23
    assert lines[0].startswith("#1 ")


def test_a_file_that_is_not_a_database_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, just notes " * 10)
    assert main(["check", str(path)]) == 1
    assert "is not a servicekit database" in capsys.readouterr().err


def test_an_unknown_case_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "demo.sqlite"
    main(["demo", "--db", str(path)])
    assert main(["history", str(path), "nope"]) == 1
    assert "there is no case 'nope'" in capsys.readouterr().err
