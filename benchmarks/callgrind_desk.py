"""Instructions per command (callgrind) for goal 1 of `bench_desk.py`, steady on a busy machine.

Run ``python benchmarks/callgrind_desk.py`` (needs ``valgrind``). For each of direct
``decide`` + ``evolve``, ``desk.execute``, the named methods and ``desk.execute`` with
the index entry free (`floor_desk.entry_free`: the floor a store-contract change could
reach), on 1, 10 and 2,000 cases, it runs this script under callgrind twice, with no
commands and with `COMMANDS` of them after the same set-up, and prints the difference
per command, with ``PYTHONHASHSEED=0`` so that two runs of the same code count the same. Wall-clock
ratios move by a third on a shared machine; these do not.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

import bench_desk
import floor_desk

from servicekit import buying_cycle

COMMANDS = 2_000
MODES = ("direct", "execute", "named", "entry_free")
SIZES = (1, 10, 2_000)


def run(mode: str, size: int, count: int) -> None:
    """Set `size` cases up (and warm them), then run `count` commands of `mode`."""
    with floor_desk.entry_free() if mode == "entry_free" else nullcontext():
        spread = bench_desk.Spread(buying_cycle(), size, 20)
        bench_desk.on_desk(spread, 2 * size, named=False)
        cases = [spread.desk.case(case_id) for case_id in spread.ids]
        bench_desk.direct(list(cases), spread.commands, 2 * size)
        if mode == "direct":
            bench_desk.direct(cases, spread.commands, count)
        else:
            bench_desk.on_desk(spread, count, named=mode == "named")


def instructions(mode: str, size: int, count: int) -> int:
    """The instructions callgrind counts for one run of this script."""
    with tempfile.TemporaryDirectory() as scratch:
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={Path(scratch) / 'out'}",
            sys.executable,
            __file__,
            mode,
            str(size),
            str(count),
        ]
        environment = os.environ | {"PYTHONHASHSEED": "0"}
        done = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)  # noqa: S603 - our own script
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        msg = f"callgrind printed no count:\n{done.stderr}"
        raise RuntimeError(msg)
    return int(found.group(1))


def main() -> int:
    """Print instructions per command for every mode and size, and the ratios to direct."""
    if len(sys.argv) == 4:
        run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
        return 0
    print(f"instructions per command (callgrind, {COMMANDS:,} commands, PYTHONHASHSEED=0)")
    for size in SIZES:
        counts = {
            mode: (instructions(mode, size, COMMANDS) - instructions(mode, size, 0)) / COMMANDS
            for mode in MODES
        }
        ratios = ", ".join(f"{mode} {counts[mode] / counts['direct']:.2f}x" for mode in MODES[1:])
        cells = ", ".join(f"{mode} {counts[mode] / 1000:.1f}k" for mode in MODES)
        print(f"  {size:>5,} cases: {cells}; {ratios}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
