"""Every Python block in README.md and docs/, and every example script, runs."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DOCUMENTS = [
    ROOT / "README.md",
    *sorted(path for path in DOCS.rglob("*.md") if "_build" not in path.relative_to(DOCS).parts),
]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_python_block_of_a_document_runs(document: Path) -> None:
    blocks = BLOCK.findall(document.read_text(encoding="utf-8"))
    namespace: dict[str, object] = {"__name__": f"doc_{document.stem}"}
    for block in blocks:  # blocks of one document share a namespace, as a reader reads them
        exec(compile(block, str(document), "exec"), namespace)  # noqa: S102 - the docs are ours


def test_the_readme_and_the_how_tos_have_python_blocks() -> None:
    for name in ["README.md", "docs/workflows.md", "docs/tutorial/helpdesk.md"]:
        document = next(doc for doc in DOCUMENTS if doc.relative_to(ROOT).as_posix() == name)
        assert BLOCK.search(document.read_text(encoding="utf-8")), name


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_every_example_runs(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(example), run_name="__main__")
    assert capsys.readouterr().out.strip()


def test_the_quickstart_walks_the_whole_cycle_with_a_transfer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    runpy.run_path(str(ROOT / "examples" / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "case case-1 is closed; owner bo, steward ana" in out
    assert "transferred the case from agent 'ana' to agent 'bo'" in out


def test_the_readme_lists_every_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = [*EXAMPLES, *(path for path in (ROOT / "examples").iterdir() if path.is_dir())]
    names = [path.name + ("/" if path.is_dir() else "") for path in examples]
    assert [name for name in names if f"`{name}`" not in readme and "__pycache__" not in name] == []


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^```sh\n(.*?)\n```", readme, re.MULTILINE | re.DOTALL)
    test_command = next(command for command in commands if "pytest" in command)
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines


BENCHMARKS = sorted((ROOT / "benchmarks").glob("bench_*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("script", BENCHMARKS, ids=[script.stem for script in BENCHMARKS])
def test_the_benchmarks_run_in_quick_mode(script: Path, tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - our own script, our own interpreter
        [sys.executable, str(script), "--quick", "--json", str(tmp_path / "out.json")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "goal" in result.stdout


def test_the_desk_floor_runs_in_quick_mode() -> None:
    """`floor_desk.py` prints goal 1's ratios as the desk is and with the index entry free."""
    script = ROOT / "benchmarks" / "floor_desk.py"
    result = subprocess.run(  # noqa: S603 - our own script, our own interpreter
        [sys.executable, str(script), "--quick"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.strip().endswith("x")]
    assert [" ".join(row[:-3]) for row in rows] == ["as the desk is", "with the index entry free"]
    for row in rows:
        assert all(float(cell.removesuffix("x")) > 1 for cell in row[-3:])
