"""What the benchmark scripts share: options, timing, table rows, goals and the JSON file.

Each ``bench_*.py`` script measures its own things and lays out its own table; this
module holds the parts that are the same in all of them, as plain functions and
small frozen dataclasses. The scripts run by path (``python benchmarks/bench_X.py``),
so Python puts this folder on ``sys.path`` and ``import harness`` finds this file.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

Prepare = Callable[[], Callable[[], object]]
"""A set-up step, run untimed before each timed run: it returns what to time."""

Row = tuple[str, str, str]
"""A table row: its label, the key of its value in the results, and the unit printed after it."""

Section = tuple[str, tuple[Row, ...]]
"""A table section: its heading (a format string over the sizes), then its rows."""


@dataclass(frozen=True)
class Options:
    """The command line's choices: quick or full sizes, and where to write JSON, if anywhere."""

    quick: bool
    """Whether to run with the small counts, for a smoke run."""
    sizes: dict[str, int]
    """The counts to run with: the script's `QUICK` or `FULL`."""
    json: Path | None
    """Where to write the numbers as JSON too, or None for nowhere."""

    @property
    def mode(self) -> str:
        """``"quick"`` or ``"full"``, as printed in the title and written to JSON."""
        return "quick" if self.quick else "full"


@dataclass(frozen=True)
class Goal:
    """A goal from the issue: a ratio in the results that must compare to a limit.

    Goals are reported, never asserted: a failed goal is a ``FAIL`` line and
    ``"passed": false`` in the JSON, not an exit code.
    """

    text: str
    """The summary text (a format string over the sizes)."""
    key: str
    """The key of the ratio in the results."""
    holds: Callable[[float, float], bool]
    """How the ratio must compare to the limit (`operator.le` or `operator.ge`)."""
    limit: float
    """The limit the ratio is compared to."""
    shown: str = ".1f"
    """The format spec the summary line prints the ratio with."""

    def passed(self, results: Mapping[str, float]) -> bool:
        """Whether the ratio in `results` meets the goal."""
        return self.holds(results[self.key], self.limit)

    def line(self, results: Mapping[str, float], sizes: Mapping[str, int]) -> str:
        """The summary line: ``"<text> : PASS (ratio 1.2x)"``, or FAIL."""
        verdict = "PASS" if self.passed(results) else "FAIL"
        ratio = format(results[self.key], self.shown)
        return f"{self.text.format(**sizes)} : {verdict} (ratio {ratio}x)"

    def as_json(self, results: Mapping[str, float], sizes: Mapping[str, int]) -> dict[str, object]:
        """The goal's entry in the JSON file: its text, its ratio and whether it passed."""
        return {
            "goal": self.text.format(**sizes),
            "ratio": results[self.key],
            "passed": self.passed(results),
        }


def parse_options(
    doc: str | None,
    argv: Sequence[str] | None,
    *,
    full: dict[str, int],
    quick: dict[str, int],
) -> Options:
    """Read ``--quick`` and ``--json PATH`` from `argv` (None: the command line).

    The help text opens with the first line of `doc`, the script's docstring.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the numbers here")
    args = parser.parse_args(argv)
    return Options(quick=args.quick, sizes=quick if args.quick else full, json=args.json)


def best_of_turns(repeats: int, prepares: Mapping[str, Prepare]) -> dict[str, float]:
    """The fastest of `repeats` runs of each, in seconds, with the garbage collector paused.

    The runs take turns, so a burst of load on a shared machine slows all of them
    alike; `prepare()` sets each run up, untimed, and returns what to time.
    """
    times: dict[str, list[float]] = {name: [] for name in prepares}
    for _ in range(repeats):
        for name, prepare in prepares.items():
            run = prepare()
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
            finally:
                gc.enable()
    return {name: min(taken) for name, taken in times.items()}


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """The fastest of `repeats` runs of `run`, in seconds, with the garbage collector paused."""
    return best_of_turns(repeats, {"run": lambda: run})["run"]


def title(name: str, mode: str, repeats: int, setting: str) -> str:
    """The table's first line: which benchmark, mode, repeats, Python, then `setting`.

    `setting` follows the Python version as it is, so it starts with its own separator.
    """
    return (
        f"servicekit {name} benchmark ({mode}): best of {repeats} repeats, Python "
        f"{platform.python_version()}{setting}"
    )


def row(label: str, value: float, unit: str, width: int) -> str:
    """A table row: indented, the label padded to `width`, then the value and its unit."""
    return f"   {label:<{width}}{value:>10,.2f} {unit}"


def table(
    sections: Sequence[Section],
    results: Mapping[str, float],
    sizes: Mapping[str, int],
    width: int,
) -> list[str]:
    """Each section after a blank line: its heading, then one `row` per (label, key, unit)."""
    lines: list[str] = []
    for heading, rows in sections:
        lines += ["", heading.format(**sizes)]
        lines += [row(label, results[key], unit, width) for label, key, unit in rows]
    return lines


def summary(
    goals: Sequence[Goal], results: Mapping[str, float], sizes: Mapping[str, int]
) -> list[str]:
    """A blank line, then one PASS/FAIL line per goal: how the table ends."""
    return ["", *(goal.line(results, sizes) for goal in goals)]


def publish(
    options: Options,
    lines: Sequence[str],
    results: Mapping[str, float],
    goals: Sequence[Goal],
    extra: Mapping[str, object] | None = None,
) -> None:
    """Print the table's `lines`; when asked, write the numbers to the JSON file.

    The file holds the mode, the sizes, any `extra` entries, the results and the goals.
    """
    print("\n".join(lines))
    if options.json is not None:
        payload = {"mode": options.mode, "sizes": options.sizes, **(extra or {})}
        payload["results"] = dict(results)
        payload["goals"] = [goal.as_json(results, options.sizes) for goal in goals]
        options.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
