"""Print the mutation score per module from mutmut's results, and unexplained survivors.

Usage: ``python tools/mutation_score.py [module ...]`` after ``tools/mutation.sh``.
Exits non-zero when a surviving mutant (or one no test reaches) is not listed, with its
reason, in ``tools/accepted_survivors.toml``.

``python tools/mutation_score.py --pending [module ...]`` prints the names of the mutants
of those modules to check (again): not checked yet, or undefended and not accepted (a test
may have been added since). ``tools/mutation.sh`` resumes with them.
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


def main(modules: list[str]) -> int:
    """Print the score of each module and every survivor nobody explained."""
    explained = accepted()
    counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    unexplained = []
    for module, name, status in results(modules):
        counts[module][status] += 1
        if status in UNDEFENDED and name not in explained:
            unexplained.append(f"{name} ({status})")
    for module, tally in sorted(counts.items()):
        caught = tally["killed"] + tally["timeout"]
        checked = caught + sum(tally[status] for status in UNDEFENDED)
        score = f"{100 * caught / checked:.1f}%" if checked else "n/a"
        others = sum(tally.values()) - checked - tally["not checked"]
        print(
            f"{module:14} {score:>7} killed {tally['killed']}, survived {tally['survived']}, "
            f"no tests {tally['no tests']}, timeout {tally['timeout']}, "
            f"not checked {tally['not checked']}" + (f", other {others}" if others else "")
        )
    for name in unexplained:
        print(f"survived without a reason in tools/accepted_survivors.toml: {name}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--pending"]:
        explained = accepted()
        for _, name, status in results(sys.argv[2:]):
            if status == "not checked" or (status in UNDEFENDED and name not in explained):
                print(name)
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
