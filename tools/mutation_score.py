"""Print the mutation score per module from mutmut's results, and unexplained survivors.

Usage: ``python tools/mutation_score.py [module ...]`` after ``tools/mutation.sh``.
Exits non-zero when a surviving mutant is not listed, with its reason, in
``tools/accepted_survivors.toml``.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(modules: list[str]) -> int:
    """Print the score of each module and every survivor nobody explained."""
    listing = subprocess.run(
        [str(ROOT / ".venv/bin/mutmut"), "results", "--all", "true"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    accepted = tomllib.loads((ROOT / "tools/accepted_survivors.toml").read_text())["accepted"]
    counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    unexplained = []
    for line in listing.splitlines():
        name, _, status = line.strip().rpartition(": ")
        module = name.split(".")[1]  # servicekit.<module>...: stores/* count as "stores"
        if modules and module not in modules:
            continue
        counts[module][status] += 1
        if status == "survived" and name not in accepted:
            unexplained.append(name)
    for module, tally in sorted(counts.items()):
        checked = tally["killed"] + tally["survived"] + tally["timeout"]
        score = f"{100 * (checked - tally['survived']) / checked:.1f}%" if checked else "n/a"
        print(
            f"{module:14} {score:>7} killed {tally['killed']}, survived {tally['survived']}, "
            f"timeout {tally['timeout']}, not checked {tally['not checked']}"
        )
    for name in unexplained:
        print(f"survived without a reason in tools/accepted_survivors.toml: {name}")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
