"""Print the mutation score per module from mutmut's results, and unexplained survivors.

Usage: ``python tools/mutation_score.py [module ...]`` after ``tools/mutation.sh``.
Exits non-zero when a surviving mutant (or one no test reaches) is not listed, with its
reason, in ``tools/accepted_survivors.toml``.

``python tools/mutation_score.py --pending [module ...]`` prints the names of the mutants
of those modules to check (again): not checked yet, or undefended and not accepted (a test
may have been added since). ``tools/mutation.sh`` resumes with them.

A module named in ``[tool.servicekit.mutation]`` of ``pyproject.toml`` (``stores``) is
mutated and checked by its own tests, in a ``mutants/`` of its own: mutmut reads its
configuration from the ``pyproject.toml`` of the directory it runs in and keeps one test
selection per ``mutants/`` (a change of it starts every result over).
``python tools/mutation_score.py --workdir MODULE`` makes that directory (``build/mutation/
MODULE/``: links to the sources and tests, and the project's ``pyproject.toml`` with the
module's keys in ``[tool.mutmut]``) and prints it; for any other module it prints the
project's. A module may be named with its file (``stores.base``), a mutant by its name.

Some mutants change code that runs before mutmut switches a mutant on in its worker (at
import, or filling a cache during the run that maps tests to functions), so mutmut reports
them survived although the tests kill them. They are listed in the ``[fresh_process]`` table
of ``tools/accepted_survivors.toml`` with the tests that kill them in a process that imports
the package with the mutant on (``tools/mutant_check.sh``), and count as killed.
``python tools/mutation_score.py --check-fresh [module ...]`` runs those checks again and
exits non-zero if a listed mutant survives them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNDEFENDED = ("survived", "no tests")
"""The statuses of a mutant no test kills: a survivor, or a change no selected test reaches."""


def own_runs() -> dict[str, dict[str, object]]:
    """The modules checked in a mutants/ of their own, each with its keys for [tool.mutmut]."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runs: dict[str, dict[str, object]] = project["tool"].get("servicekit", {}).get("mutation", {})
    return runs


def workdir(module: str) -> Path:
    """Where mutmut runs for a module (``stores``, ``stores.base``) or a mutant's name."""
    top = module.removeprefix("servicekit.").split(".")[0]
    return ROOT / "build" / "mutation" / top if top in own_runs() else ROOT


def _toml(value: object) -> str:
    """A value of [tool.mutmut] (text, number, flag or a list of them) written as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON's escapes are TOML's
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    message = f"cannot write {value!r} in [tool.mutmut]"
    raise TypeError(message)


def prepare(module: str) -> Path:
    """Make the directory mutmut runs in for the module (if of its own) up to date; return it."""
    directory = workdir(module)
    if directory == ROOT:
        return directory
    text = (ROOT / "pyproject.toml").read_text()
    project = tomllib.loads(text)
    table = {**project["tool"]["mutmut"], **own_runs()[directory.name]}
    # the project's file without its [tool.mutmut] table, then the module's
    lines = text.splitlines(keepends=True)
    start = lines.index("[tool.mutmut]\n")
    end = next((n for n in range(start + 1, len(lines)) if lines[n].startswith("[")), len(lines))
    written = "".join(lines[:start] + lines[end:]).rstrip("\n") + "\n\n[tool.mutmut]\n"
    written += "".join(f"{key} = {_toml(value)}\n" for key, value in table.items())
    read = tomllib.loads(written)
    del project["tool"]["mutmut"]
    if read["tool"].pop("mutmut") != table or read != project:
        message = f"{directory / 'pyproject.toml'} would not read as pyproject.toml with {table}"
        raise RuntimeError(message)
    directory.mkdir(parents=True, exist_ok=True)
    if (
        not (directory / "pyproject.toml").exists()
        or (directory / "pyproject.toml").read_text() != written
    ):
        (directory / "pyproject.toml").write_text(written)
    # mutmut copies these into mutants/: the sources, the tests, and also_copy
    also_copy = [str(path).rstrip("/") for path in table.get("also_copy", [])]
    for name in ["src", "tests", *also_copy]:
        link = directory / name
        if not link.is_symlink():
            link.symlink_to(ROOT / name)
    return directory


def results(modules: list[str]) -> list[tuple[str, str, str]]:
    """(module, mutant name, status) of every mutant of the modules (all when none given).

    The module is the one named (``stores.base`` if so named), else the package's module.
    """
    if modules:
        directories = {workdir(module) for module in modules}
    else:
        directories = {ROOT, *(workdir(module) for module in own_runs())}
    found = []
    for directory in sorted(directories):
        if not (directory / "mutants").is_dir():
            continue  # not run there yet
        listing = subprocess.run(
            [str(ROOT / ".venv/bin/mutmut"), "results", "--all", "true"],
            cwd=directory,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for line in listing.splitlines():
            name, _, status = line.strip().rpartition(": ")
            if not name.startswith("servicekit."):
                continue
            if not modules:
                found.append((name.split(".")[1], name, status))  # stores/* count as "stores"
                continue
            named = [module for module in modules if name.startswith(f"servicekit.{module}.")]
            if named and workdir(named[0]) == directory:
                found.append((named[0], name, status))
    return found


def accepted() -> dict[str, str]:
    """The survivors that change no behaviour, each with the reason."""
    listed: dict[str, str] = tomllib.loads((ROOT / "tools/accepted_survivors.toml").read_text())[
        "accepted"
    ]
    return listed


def fresh() -> dict[str, str]:
    """The survivors killed in a fresh process, each with the tests that kill it there."""
    listed: dict[str, str] = tomllib.loads(
        (ROOT / "tools/accepted_survivors.toml").read_text()
    ).get("fresh_process", {})
    return listed


PYTEST_TESTS_FAILED = 1
PYTEST_USAGE_ERROR = 4  # also what it exits with when the conftest cannot be imported


def check_fresh(modules: list[str]) -> int:
    """Run each fresh-process mutant of the modules against its tests; 1 if one survives."""
    surviving = []
    for name, tests in fresh().items():
        if modules and name.split(".")[1] not in modules:
            continue
        run = subprocess.run(
            [str(ROOT / "tools/mutant_check.sh"), name, *tests.split()],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        # pytest exits 1 when a test fails, and 4 when the package cannot even be imported:
        # killed too, if the traceback runs through the mutant itself
        failed_import = run.returncode == PYTEST_USAGE_ERROR and name.rsplit(".", 1)[1] in (
            run.stdout + run.stderr
        )
        killed = run.returncode == PYTEST_TESTS_FAILED or failed_import
        verdict = "killed" if killed else f"NOT killed (pytest exit {run.returncode})"
        print(f"{name}: {verdict}")
        if not killed:
            surviving.append(name)
    return 1 if surviving else 0


def main(modules: list[str]) -> int:
    """Print the score of each module and every survivor nobody explained."""
    explained = accepted()
    killed_fresh = fresh()
    counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    unexplained = []
    for module, name, status in results(modules):
        if status == "survived" and name in killed_fresh:
            status = "killed fresh"  # noqa: PLW2901 - counted apart from mutmut's statuses
        counts[module][status] += 1
        if status in UNDEFENDED and name not in explained:
            unexplained.append(f"{name} ({status})")
    for module, tally in sorted(counts.items()):
        caught = tally["killed"] + tally["timeout"] + tally["killed fresh"]
        checked = caught + sum(tally[status] for status in UNDEFENDED)
        score = f"{100 * caught / checked:.1f}%" if checked else "n/a"
        others = sum(tally.values()) - checked - tally["not checked"]
        print(
            f"{module:14} {score:>7} killed {tally['killed']}, survived {tally['survived']}, "
            f"no tests {tally['no tests']}, timeout {tally['timeout']}, "
            f"killed in a fresh process {tally['killed fresh']}, "
            f"not checked {tally['not checked']}" + (f", other {others}" if others else "")
        )
    for name in unexplained:
        print(f"survived without a reason in tools/accepted_survivors.toml: {name}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--pending"]:
        explained = {**accepted(), **fresh()}
        for _, name, status in results(sys.argv[2:]):
            if status == "not checked" or (status in UNDEFENDED and name not in explained):
                print(name)
        sys.exit(0)
    if sys.argv[1:2] == ["--workdir"]:
        print(prepare(sys.argv[2]))
        sys.exit(0)
    if sys.argv[1:2] == ["--check-fresh"]:
        sys.exit(check_fresh(sys.argv[2:]))
    sys.exit(main(sys.argv[1:]))
