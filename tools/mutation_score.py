"""Print the mutation score per module from mutmut's results, and unexplained survivors.

Usage: ``python tools/mutation_score.py [module ...]`` after ``tools/mutation.sh``.
Exits non-zero when a surviving mutant (or one no test reaches) is not listed, with its
reason, in ``tools/accepted_survivors.toml``.

``python tools/mutation_score.py --pending [module ...]`` prints the names of the mutants
of those modules to check (again): not checked yet, or undefended and not accepted (a test
may have been added since). ``tools/mutation.sh`` resumes with them.

Some mutants change code that runs before mutmut switches a mutant on in its worker (at
import, or filling a cache during the run that maps tests to functions), so mutmut reports
them survived although the tests kill them. They are listed in the ``[fresh_process]`` table
of ``tools/accepted_survivors.toml`` with the tests that kill them in a process that imports
the package with the mutant on (``tools/mutant_check.sh``), and count as killed.
``python tools/mutation_score.py --check-fresh [module ...]`` runs those checks again and
exits non-zero if a listed mutant survives them.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNDEFENDED = ("survived", "no tests")
"""The statuses of a mutant no test kills: a survivor, or a change no selected test reaches."""


def results(modules: list[str]) -> list[tuple[str, str, str]]:
    """(module, mutant name, status) of every mutant of the modules (all when none given)."""
    listing = subprocess.run(
        [str(ROOT / ".venv/bin/mutmut"), "results", "--all", "true"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = []
    for line in listing.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if not name.startswith("servicekit."):
            continue
        module = name.split(".")[1]  # servicekit.<module>...: stores/* count as "stores"
        if not modules or module in modules:
            found.append((module, name, status))
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
        verdict = "killed" if run.returncode == 1 else f"NOT killed (pytest exit {run.returncode})"
        print(f"{name}: {verdict}")
        if run.returncode != 1:
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
    if sys.argv[1:2] == ["--check-fresh"]:
        sys.exit(check_fresh(sys.argv[2:]))
    sys.exit(main(sys.argv[1:]))
