"""Goal 1 of `bench_desk.py` with the index entry free: how low a store-contract change could go.

Run ``python benchmarks/floor_desk.py`` (``--quick`` for small counts). It measures
goal 1 (a command through ``desk.execute`` on `InMemoryStore` against direct
``decide`` + ``evolve``, round-robin over 1, 10 and many cases) twice in one run:
as the desk is, and with the case's index entry costing nothing. For the second,
`CaseSummary.of` hands back the first entry it built for each case in each stage, and
the store's check of a follow-on append answers yes at once. Those stand-ins leave
the entries' versions and times stale (nothing here reads them), but a move still
moves the case in the store's index by stage. What they show is the cost of the rest
of the desk: the cache, the directory's look-up of the acting agent, the clock, the
store's lock, history and index update, and the outcome. No change to how an entry is
built or checked (a summary the store trusts, say) can take the desk below that.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import bench_desk
import harness

from servicekit import Case, CaseSummary, InMemoryStore, buying_cycle

SIZES = ("1", "10", "many")


@contextmanager
def entry_free() -> Iterator[None]:
    """Make building and checking the index entry cost (nearly) nothing, then undo it."""
    real_of = CaseSummary.__dict__["of"]
    real_continues = InMemoryStore.__dict__["_continues"]
    # Per case and stage, so that a move still moves the case in the store's index by
    # stage: that update is a cost of the store, not of building or checking the entry.
    first: dict[tuple[str, str | None], CaseSummary] = {}

    def of(_: type[CaseSummary], case: Case, *, next_due: datetime | None = None) -> CaseSummary:
        key = (case.case_id, case.stage)
        entry = first.get(key)
        if entry is None:
            entry = first[key] = real_of.__func__(CaseSummary, case, next_due=next_due)
        return entry

    def continues(*_: Any) -> bool:
        return True

    CaseSummary.of = classmethod(of)  # type: ignore[method-assign, assignment]
    InMemoryStore._continues = continues  # type: ignore[method-assign, assignment] # noqa: SLF001
    try:
        yield
    finally:
        CaseSummary.of = real_of  # type: ignore[method-assign]
        InMemoryStore._continues = real_continues  # type: ignore[method-assign] # noqa: SLF001


def ratios(sizes: dict[str, int]) -> list[float]:
    """desk.execute over direct decide + evolve, per spread size, as `bench_desk` measures it."""
    workflow = buying_cycle()
    big = bench_desk.Spread(workflow, sizes["many"], sizes["per_agent"])
    found = []
    for size in (1, 10, sizes["many"]):
        times = bench_desk.bench_spread(workflow, sizes, big, size)
        found.append(times[f"execute_us_{size}"] / times[f"direct_us_{size}"])
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Print goal 1's ratios as the desk is and with the index entry free."""
    options = harness.parse_options(__doc__, argv, full=bench_desk.FULL, quick=bench_desk.QUICK)
    sizes = options.sizes
    print(f"desk.execute / direct decide + evolve (bench_desk goal 1, {options.mode})")
    print(f"   {'':<34}{'1 case':>10}{'10 cases':>10}{sizes['many']:>8,} cases")
    as_is = ratios(sizes)
    with entry_free():
        free = ratios(sizes)
    for label, values in (("as the desk is", as_is), ("with the index entry free", free)):
        print(f"   {label:<34}" + "".join(f"{value:>9.2f}x" for value in values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
